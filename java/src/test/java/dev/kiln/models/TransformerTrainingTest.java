package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.DigitReversal;
import dev.kiln.data.TextCorpus;
import dev.kiln.optim.Adam;
import dev.kiln.train.EpochStats;
import dev.kiln.train.Trainer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.Iterator;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Both Transformer configurations learn their tasks through the general trainer, on the CPU, with the recipes of
 * {@code kiln train transformer|charlm}. The full budgets (1,500 steps of 64 strings: 100% exact match, bar 70%;
 * 1,000 steps of 32 windows: 2.743 bits per character, bar 2.85) are measured in the issue notes; CI runs the shorter
 * budgets below (env KILN_TRANSFORMER_STEPS, KILN_CHARLM_STEPS) against bars set from the figures measured at those
 * budgets with a margin.
 */
class TransformerTrainingTest {
    private static final Device CPU = Device.cpu();

    @Test
    void reversesDigitStrings() {
        int steps = Integer.parseInt(System.getenv().getOrDefault("KILN_TRANSFORMER_STEPS", "500"));
        DigitReversal task = new DigitReversal(42, 42 + 1_000_003L, 200);
        try (Transformer model = Transformer.seq2seq(DigitReversal.VOCAB, DigitReversal.TARGET_LENGTH, CPU, new Generator(42));
             Adam adam = new Adam(model.parameters(), 1e-3f)) {
            double before = TransformerTasks.exactMatch(model, task.heldOut(), CPU, 100);
            Trainer trainer = new Trainer(model, adam);
            Iterator<DigitReversal.Batch> batches = new Iterator<>() {
                int made;

                @Override
                public boolean hasNext() {
                    return made < steps;
                }

                @Override
                public DigitReversal.Batch next() {
                    made++;
                    return DigitReversal.batch(task.nextTraining(64));
                }
            };
            long t0 = System.nanoTime();
            EpochStats stats = trainer.epoch(1, batches, steps, DigitReversal.Batch::size, TransformerTasks.reversalStep(model, CPU));
            double seconds = (System.nanoTime() - t0) / 1e9;
            double after = TransformerTasks.exactMatch(model, task.heldOut(), CPU, 100);
            System.out.printf("[kiln] Transformer seq2seq, %d steps of 64 on cpu: loss %.4f, held-out exact match %.1f%% "
                    + "(untrained %.1f%%); %.1fs%n", steps, stats.mean("loss"), 100 * after, 100 * before, seconds);
            assertEquals(0.0, before, 0.0, "an untrained model reverses nothing");
            // Measured with this seed: 35.7% after 300 steps, 99.1% after 400, 98.3% after 500, 100% after 1,500 (the
            // task has a sharp transition; other seeds cross it between 200 and 400 steps).
            double bar = steps >= 500 ? 0.70 : 0.0;
            assertTrue(stats.mean("loss") < 1.0, "the loss falls: " + stats.mean("loss"));
            assertTrue(after >= bar, "exact match " + after + " after " + steps + " steps; bar " + bar);
        }
    }

    @Test
    void learnsEnglishCharacters() {
        Assumptions.assumeTrue(Files.isDirectory(TextCorpus.FORTUNES) || System.getenv("KILN_REQUIRE_DATA") != null,
                "the Debian package 'fortunes' is not installed");
        int steps = Integer.parseInt(System.getenv().getOrDefault("KILN_CHARLM_STEPS", "150"));
        TextCorpus corpus = TextCorpus.fortunes(TextCorpus.FORTUNES);
        try (Transformer lm = Transformer.charLm(corpus.vocab(), CPU, new Generator(42));
             Adam adam = new Adam(lm.parameters(), 1e-3f)) {
            Trainer trainer = new Trainer(lm, adam);
            Random windows = new Random(42);
            Iterator<int[]> batches = new Iterator<>() {
                int made;

                @Override
                public boolean hasNext() {
                    return made < steps;
                }

                @Override
                public int[] next() {
                    made++;
                    return corpus.trainingWindows(windows, 32, 128);
                }
            };
            long t0 = System.nanoTime();
            trainer.epoch(1, batches, steps, w -> 32L * 128, TransformerTasks.charLmStep(lm, 128, CPU));
            double seconds = (System.nanoTime() - t0) / 1e9;
            double bpc = TransformerTasks.bitsPerCharacter(lm, corpus, 128, CPU, 64);
            String sample = corpus.decode(lm.generate(corpus.encode("The "), 80, 0.8f, 1));
            System.out.printf("[kiln] char LM, %d steps of 32 x 128 on cpu: %.3f bits per character held out; %.1fs "
                    + "(%.0f tokens/s); sample: %s%n", steps, bpc, seconds, steps * 32.0 * 128 / seconds, sample.replace('\n', '|'));
            double uniform = Math.log(corpus.vocab()) / Math.log(2);
            // Measured: 3.753 after 150 steps, 3.135 after 500, 2.743 after 1,000 (PyTorch, same model: 3.771 after 150).
            double bar = steps >= 1000 ? 2.85 : steps >= 150 ? 3.9 : uniform;
            assertTrue(bpc <= bar, bpc + " bits per character after " + steps + " steps; bar " + bar + " (uniform " + uniform + ")");
            assertEquals(80, sample.length());
        }
    }
}
