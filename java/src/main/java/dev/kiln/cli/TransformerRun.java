package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.data.DigitReversal;
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

/**
 * Training the encoder-decoder Transformer on digit reversal: teacher forcing for --steps steps of --batch strings
 * (fresh strings every step), the held-out exact match of greedy decodes every 500 steps and at the end, a few
 * decoded examples, model.safetensors and metrics.json. With --save, a checkpoint every 100 steps and at the end.
 */
final class TransformerRun implements TrainCommand.Run {
    static final int HELD_OUT = 1000;
    static final int SEGMENT = 100;
    static final int EVAL_EVERY = 500;

    /** The task a run with {@code seed} trains on, and its held-out strings (which {@code kiln eval} redraws). */
    static DigitReversal task(long seed) {
        return new DigitReversal(seed, seed + 1_000_003L, HELD_OUT);
    }

    @Override
    public Map<String, Object> train(TrainCommand o, Device device) throws Exception {
        DigitReversal task = task(o.seed);
        int steps = o.steps;
        System.out.printf(Locale.ROOT, "kiln train transformer on %s (%s): reverse strings of %d-%d digits; %d steps of "
                        + "batch %d, Adam lr %s, seed %d; exact match on %d held-out strings%n", device,
                device.info().name(), DigitReversal.MIN_DIGITS, DigitReversal.MAX_DIGITS, steps, o.batch, o.lr, o.seed,
                HELD_OUT);
        List<Map<String, Object>> evaluations = new ArrayList<>();
        List<Map<String, Object>> segments = new ArrayList<>();
        double exact = Double.NaN, trainSeconds = 0;
        long tokens = 0;
        int start;
        Generator init = new Generator(o.seed);
        try (Transformer model = Transformer.seq2seq(DigitReversal.VOCAB, DigitReversal.TARGET_LENGTH, device, init);
             Adam adam = new Adam(model.parameters(), o.lr)) {
            System.out.println(model);
            RunCheckpoint checkpoint = new RunCheckpoint(o.save, o, model, List.of(adam)).generator("init", init);
            start = (int) checkpoint.resumeSteps(o.resume, steps);
            for (int i = 0; i < start; i++) task.nextTraining(o.batch);  // the strings the checkpoint's steps trained on
            StepProgress progress = new StepProgress(System.out, start, steps, "tokens/s");
            Trainer trainer = new Trainer(model, adam).listener(TeeListener.of(progress, o.observer));
            o.interrupt.watch(trainer);
            for (int seg = 1, done = start; done < steps; seg++) {
                int count = Math.min(SEGMENT, steps - done);
                Iterator<DigitReversal.Batch> batches = batches(task, o.batch, count);
                // Tokens a step trains: the decoder's positions plus the encoder's, the work per step.
                EpochStats stats = trainer.epoch(seg, batches, count,
                        b -> (long) b.size() * (DigitReversal.TARGET_LENGTH + DigitReversal.MAX_DIGITS),
                        TransformerTasks.reversalStep(model, device));
                if (stats.stopped()) throw checkpoint.stoppedAtStep(done + stats.steps());
                trainSeconds += stats.seconds();
                tokens += stats.samples();
                done += count;
                Map<String, Object> s = new LinkedHashMap<>();
                s.put("step", done);
                s.put("loss", stats.mean("loss"));
                s.put("seconds", stats.seconds());
                segments.add(s);
                if (done % EVAL_EVERY == 0 || done == steps) {
                    exact = TransformerTasks.exactMatch(model, task.heldOut(), device, 250);
                    System.out.printf(Locale.ROOT, "step %d: loss %.4f, held-out exact match %.1f%%%n", done,
                            stats.mean("loss"), 100 * exact);
                    evaluations.add(Map.of("step", done, "exact_match", exact));
                }
                checkpoint.saveSteps(done);
            }
            o.interrupt.watch(null);
            examples(model, task, device);
            Checkpoints.saveModule(o.out.resolve("model.safetensors"), model, Map.of("model", "transformer"));
        }
        System.out.printf(Locale.ROOT, "exact match %.1f%% on %d held-out strings after %d steps; %,.0f training tokens/s%n",
                100 * exact, HELD_OUT, steps, tokens / trainSeconds);
        Map<String, Object> m = new LinkedHashMap<>();
        if (start > 0) m.put("resumed_after_step", start);
        m.put("steps", steps);
        m.put("held_out_strings", HELD_OUT);
        m.put("exact_match", exact);
        m.put("train_seconds", trainSeconds);
        m.put("train_tokens_per_second", tokens / trainSeconds);
        m.put("evaluations", evaluations);
        m.put("per_segment", segments);
        return m;
    }

    /** {@code count} batches of fresh training strings, made lazily inside each step's scope. */
    private static Iterator<DigitReversal.Batch> batches(DigitReversal task, int batch, int count) {
        return new Iterator<>() {
            int made;

            @Override
            public boolean hasNext() {
                return made < count;
            }

            @Override
            public DigitReversal.Batch next() {
                made++;
                return DigitReversal.batch(task.nextTraining(batch));
            }
        };
    }

    private static void examples(Transformer model, DigitReversal task, Device device) {
        List<int[]> some = task.heldOut().subList(0, 5);
        DigitReversal.Batch b = DigitReversal.batch(some);
        try (dev.kiln.Scope s = dev.kiln.Scope.open()) {
            int[][] decoded = model.greedy(dev.kiln.Tensor.ofInts(device, b.source(), b.size(), DigitReversal.MAX_DIGITS),
                    dev.kiln.Tensor.ofInts(device, b.sourceLengths(), b.size()), DigitReversal.BOS, DigitReversal.EOS,
                    DigitReversal.TARGET_LENGTH);
            for (int i = 0; i < some.size(); i++) {
                System.out.printf("  %-16s -> %-16s %s%n", DigitReversal.render(some.get(i), true),
                        DigitReversal.render(decoded[i], false), DigitReversal.isReversal(some.get(i), decoded[i]) ? "ok" : "wrong");
            }
        }
    }
}
