package dev.kiln.models;

import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.data.DigitReversal;
import dev.kiln.data.TextCorpus;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.train.TrainStep;

import java.util.List;

/**
 * The two Transformer tasks: training steps and evaluations for digit reversal (encoder-decoder, exact match of
 * greedy decodes) and for the character language model (bits per character on held-out text).
 */
public final class TransformerTasks {
    private TransformerTasks() {
    }

    /** One teacher-forced step: cross entropy of every decoder position, PAD after EOS included; logs "loss". */
    public static TrainStep<DigitReversal.Batch> reversalStep(Transformer model, Device device) {
        return (b, step) -> {
            int n = b.size();
            Tensor source = Tensor.ofInts(device, b.source(), n, DigitReversal.MAX_DIGITS);
            Tensor lengths = Tensor.ofInts(device, b.sourceLengths(), n);
            Tensor in = Tensor.ofInts(device, b.targetIn(), n, DigitReversal.TARGET_LENGTH);
            Tensor out = Tensor.ofInts(device, b.targetOut(), n, DigitReversal.TARGET_LENGTH);
            Tensor loss = Transformer.loss(model.logits(source, lengths, in), out);
            step.minimize(loss);
            step.log("loss", loss);
        };
    }

    /** The fraction of strings whose greedy decode (up to EOS) is exactly their reversal, decoded in batches. */
    public static double exactMatch(Transformer model, List<int[]> strings, Device device, int batch) {
        boolean wasTraining = model.isTraining();
        model.eval();
        int correct = 0;
        try (NoGrad off = Autograd.noGrad()) {
            for (int from = 0; from < strings.size(); from += batch) {
                List<int[]> part = strings.subList(from, Math.min(strings.size(), from + batch));
                DigitReversal.Batch b = DigitReversal.batch(part);
                try (Scope s = Scope.open()) {
                    Tensor source = Tensor.ofInts(device, b.source(), b.size(), DigitReversal.MAX_DIGITS);
                    Tensor lengths = Tensor.ofInts(device, b.sourceLengths(), b.size());
                    int[][] decoded = model.greedy(source, lengths, DigitReversal.BOS, DigitReversal.EOS,
                            DigitReversal.TARGET_LENGTH);
                    for (int i = 0; i < part.size(); i++) if (DigitReversal.isReversal(part.get(i), decoded[i])) correct++;
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return (double) correct / strings.size();
    }

    /** One step on windows (N, context + 1) of character ids: inputs [0, context), labels [1, context]; logs "loss". */
    public static TrainStep<int[]> charLmStep(Transformer model, int context, Device device) {
        return (windows, step) -> {
            Tensor loss = charLmLoss(model, windows, context, device);
            step.minimize(loss);
            step.log("loss", loss);
        };
    }

    private static Tensor charLmLoss(Transformer model, int[] windows, int context, Device device) {
        int span = context + 1, n = windows.length / span;
        Tensor all = Tensor.ofInts(device, windows, n, span);
        Tensor inputs = dev.kiln.ops.Ops.narrow(all, 1, 0, context);
        Tensor labels = dev.kiln.ops.Ops.narrow(all, 1, 1, context);
        return Transformer.loss(model.logits(inputs), labels);
    }

    /** Mean bits per character of the model's next-character predictions over the held-out windows. */
    public static double bitsPerCharacter(Transformer model, TextCorpus corpus, int context, Device device, int batch) {
        int span = context + 1;
        int[] windows = corpus.validationWindows(context);
        int count = windows.length / span;
        boolean wasTraining = model.isTraining();
        model.eval();
        double nats = 0;
        try (NoGrad off = Autograd.noGrad()) {
            for (int from = 0; from < count; from += batch) {
                int rows = Math.min(batch, count - from);
                int[] part = java.util.Arrays.copyOfRange(windows, from * span, (from + rows) * span);
                try (Scope s = Scope.open()) {
                    nats += charLmLoss(model, part, context, device).item() * rows;
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return nats / count / Math.log(2);
    }
}
