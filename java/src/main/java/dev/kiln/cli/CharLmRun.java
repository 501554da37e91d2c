package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.TextCorpus;
import dev.kiln.io.Checkpoints;
import dev.kiln.models.Transformer;
import dev.kiln.models.TransformerTasks;
import dev.kiln.optim.Adam;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Trainer;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Training the decoder-only character language model on the Debian fortunes (last 10% held out): --steps steps of
 * --batch random windows of 129 characters, validation bits per character every 250 steps and at the end, a sample
 * from a prompt, model.safetensors (with the alphabet in its metadata, for {@code kiln sample charlm}) and
 * metrics.json. With --save, a checkpoint every 50 steps and at the end.
 */
final class CharLmRun implements TrainCommand.Run {
    static final int SEGMENT = 50;
    static final int EVAL_EVERY = 250;

    @Override
    public Map<String, Object> train(TrainCommand o, Device device) throws Exception {
        TextCorpus corpus = TextCorpus.fortunes(TextCorpus.FORTUNES);
        int steps = o.steps;
        int context = Transformer.charLmConfig(corpus.vocab()).maxLength();
        System.out.printf(Locale.ROOT, "kiln train charlm on %s (%s): fortunes, %,d training / %,d held-out characters, "
                        + "alphabet of %d; %d steps of batch %d x context %d, Adam lr %s, seed %d%n", device,
                device.info().name(), corpus.trainingLength(), corpus.validationLength(), corpus.vocab(), steps, o.batch,
                context, o.lr, o.seed);
        List<Map<String, Object>> evaluations = new ArrayList<>();
        double bpc = Double.NaN, trainSeconds = 0;
        long tokens = 0;
        int start;
        String sample;
        Generator init = new Generator(o.seed);
        try (Transformer model = Transformer.charLm(corpus.vocab(), device, init);
             Adam adam = new Adam(model.parameters(), o.lr)) {
            System.out.println(model);
            RunCheckpoint checkpoint = new RunCheckpoint(o.save, o, model, List.of(adam)).generator("init", init)
                    .config("train_characters", Integer.toString(corpus.trainingLength()))
                    .config("alphabet", corpus.alphabet());
            start = (int) checkpoint.resumeSteps(o.resume, steps);
            Random windows = new Random(o.seed);
            for (int i = 0; i < start; i++) corpus.trainingWindows(windows, o.batch, context);  // the checkpoint's windows
            StepProgress progress = new StepProgress(System.out, start, steps, "tokens/s");
            Trainer trainer = new Trainer(model, adam).listener(TeeListener.of(progress, o.observer));
            o.interrupt.watch(trainer);
            for (int seg = 1, done = start; done < steps; seg++) {
                int count = Math.min(SEGMENT, steps - done);
                Iterator<int[]> batches = new Iterator<>() {
                    int made;

                    @Override
                    public boolean hasNext() {
                        return made < count;
                    }

                    @Override
                    public int[] next() {
                        made++;
                        return corpus.trainingWindows(windows, o.batch, context);
                    }
                };
                EpochStats stats = trainer.epoch(seg, batches, count, w -> (long) w.length / (context + 1) * context,
                        TransformerTasks.charLmStep(model, context, device));
                if (stats.stopped()) throw checkpoint.stoppedAtStep(done + stats.steps());
                trainSeconds += stats.seconds();
                tokens += stats.samples();
                done += count;
                if (done % EVAL_EVERY == 0 || done == steps) {
                    bpc = TransformerTasks.bitsPerCharacter(model, corpus, context, device, 64);
                    System.out.printf(Locale.ROOT, "step %d: train loss %.4f nats, held-out %.3f bits per character%n",
                            done, stats.mean("loss"), bpc);
                    evaluations.add(Map.of("step", done, "bits_per_character", bpc, "train_loss", stats.mean("loss")));
                }
                checkpoint.saveSteps(done);
            }
            o.interrupt.watch(null);
            String prompt = "The ";
            sample = prompt + corpus.decode(model.generate(corpus.encode(prompt), 300, 0.8f, o.seed));
            System.out.println("sample (temperature 0.8):\n" + sample);
            Checkpoints.saveModule(o.out.resolve("model.safetensors"), model,
                    Map.of("model", "charlm", "alphabet", corpus.alphabet()));
        }
        System.out.printf(Locale.ROOT, "%.3f bits per character on the held-out fortunes after %d steps; %,.0f training tokens/s%n",
                bpc, steps, tokens / trainSeconds);
        Map<String, Object> m = new LinkedHashMap<>();
        if (start > 0) m.put("resumed_after_step", start);
        m.put("steps", steps);
        m.put("context", context);
        m.put("vocab", corpus.vocab());
        m.put("bits_per_character", bpc);
        m.put("train_seconds", trainSeconds);
        m.put("train_tokens_per_second", tokens / trainSeconds);
        m.put("evaluations", evaluations);
        m.put("sample", sample);
        return m;
    }
}
