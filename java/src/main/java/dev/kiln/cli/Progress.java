package dev.kiln.cli;

import dev.kiln.train.EpochStats;
import dev.kiln.train.TrainListener;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * A live progress line for training: epoch, bar, samples/s, the running means of the logged metrics and ETA. Redrawn in place (at most ten
 * times a second) on a terminal; on a pipe or log file, one line per tenth of an epoch.
 */
final class Progress implements TrainListener {
    private final PrintStream out;
    private final int epochs;
    private final long samplesPerEpoch;
    private final boolean terminal;
    private long epochStart;
    private long samplesBefore;  // of a resumed epoch, those trained before the checkpoint
    private long lastDraw;
    private int lastDecile = -1;

    Progress(PrintStream out, int epochs, long samplesPerEpoch) {
        this.out = out;
        this.epochs = epochs;
        this.samplesPerEpoch = samplesPerEpoch;
        this.terminal = System.console() != null;
    }

    /** An epoch whose first {@code samplesBefore} samples were trained before (a resumed run): the bar starts there. */
    void startEpoch(long samplesBefore) {
        this.samplesBefore = samplesBefore;
        epochStart = System.nanoTime();
        lastDraw = 0;
        lastDecile = -1;
    }

    @Override
    public void step(int epoch, int batch, int batches, long trained, Map<String, Double> means) {
        long now = System.nanoTime();
        boolean last = batch == batches;
        long samples = samplesBefore + trained;
        int decile = (int) (10L * samples / samplesPerEpoch);
        if (terminal ? (now - lastDraw < 100_000_000L && !last) : (decile == lastDecile && !last)) return;
        lastDraw = now;
        lastDecile = decile;
        double seconds = (now - epochStart) / 1e9;
        double rate = trained / Math.max(seconds, 1e-9);
        double eta = (samplesPerEpoch - samples) / Math.max(rate, 1e-9);
        int width = 30, filled = (int) ((long) width * samples / samplesPerEpoch);
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        String line = String.format(Locale.ROOT, "epoch %d/%d [%s] %3d%% %d/%d  %,.0f samples/s  %s  ETA %s",
                epoch, epochs, bar, 100L * samples / samplesPerEpoch, samples, samplesPerEpoch, rate, metrics(means),
                clock(eta));
        if (terminal) {
            out.print("\r" + line + (last ? System.lineSeparator() : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }

    /** The epoch's summary line, once its evaluation is known: "epoch 1/3 done in 6.3s: loss 0.4512, test accuracy 85.1%". */
    void evaluated(int epoch, EpochStats stats, String metric, double fraction) {
        out.printf(Locale.ROOT, "epoch %d/%d done in %.1fs: %s, %s %.2f%%%n", epoch, epochs, stats.seconds(),
                metrics(stats.means()), metric, 100 * fraction);
    }

    /** "loss 0.4512" or "d_loss 0.6931  g_loss 0.7012"; a dash before the first read. */
    private static String metrics(Map<String, Double> means) {
        if (means.isEmpty()) return "loss   -   ";
        StringBuilder b = new StringBuilder();
        means.forEach((name, v) -> b.append(b.length() == 0 ? "" : "  ").append(name).append(' ')
                .append(Double.isNaN(v) ? "  -   " : String.format(Locale.ROOT, "%.4f", v)));
        return b.toString();
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
