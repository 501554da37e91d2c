package dev.kiln.cli;

import dev.kiln.models.Training;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A live progress line for training: epoch, bar, samples/s, running loss and ETA. Redrawn in place (at most ten
 * times a second) on a terminal; on a pipe or log file, one line per tenth of an epoch.
 */
final class Progress implements Training.Listener {
    private final PrintStream out;
    private final int epochs;
    private final int samplesPerEpoch;
    private final boolean terminal;
    private long epochStart;
    private long lastDraw;
    private int lastDecile = -1;

    Progress(PrintStream out, int epochs, int samplesPerEpoch) {
        this.out = out;
        this.epochs = epochs;
        this.samplesPerEpoch = samplesPerEpoch;
        this.terminal = System.console() != null;
    }

    void startEpoch() {
        epochStart = System.nanoTime();
        lastDraw = 0;
        lastDecile = -1;
    }

    @Override
    public void step(int epoch, int batch, int batches, int samples, double loss) {
        long now = System.nanoTime();
        boolean last = batch == batches;
        int decile = (int) (10L * samples / samplesPerEpoch);
        if (terminal ? (now - lastDraw < 100_000_000L && !last) : (decile == lastDecile && !last)) return;
        lastDraw = now;
        lastDecile = decile;
        double seconds = (now - epochStart) / 1e9;
        double rate = samples / Math.max(seconds, 1e-9);
        double eta = (samplesPerEpoch - samples) / Math.max(rate, 1e-9);
        int width = 30, filled = (int) ((long) width * samples / samplesPerEpoch);
        String bar = "#".repeat(filled) + ".".repeat(width - filled);
        String line = String.format(Locale.ROOT, "epoch %d/%d [%s] %3d%% %d/%d  %,.0f samples/s  loss %s  ETA %s",
                epoch, epochs, bar, 100L * samples / samplesPerEpoch, samples, samplesPerEpoch, rate,
                Double.isNaN(loss) ? "  -   " : String.format(Locale.ROOT, "%.4f", loss), clock(eta));
        if (terminal) {
            out.print("\r" + line + (last ? System.lineSeparator() : ""));
        } else {
            out.println(line);
        }
        out.flush();
    }

    @Override
    public void epochEnd(int epoch, double meanLoss, double testAccuracy, double seconds) {
        out.printf(Locale.ROOT, "epoch %d/%d done in %.1fs: train loss %.4f, test accuracy %.2f%%%n", epoch, epochs,
                seconds, meanLoss, 100 * testAccuracy);
    }

    static String clock(double seconds) {
        long s = Math.round(seconds);
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
