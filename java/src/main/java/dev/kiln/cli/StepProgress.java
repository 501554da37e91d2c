package dev.kiln.cli;

import dev.kiln.train.EpochStats;
import dev.kiln.train.TrainListener;

import java.io.PrintStream;
import java.util.Locale;
import java.util.Map;

/**
 * The live progress line of a run counted in steps (the Transformer tasks), which the trainer sees as segments of a
 * few steps: "step 437/1500 [#####.....] 29%  3,412 tokens/s  loss 1.2345  ETA 2:10". Redrawn in place on a terminal;
 * on a pipe, one line per 5% of the run. A resumed run starts at the step its checkpoint holds; its rate and ETA count
 * only the steps it trains itself.
 */
final class StepProgress implements TrainListener {
    private final PrintStream out;
    private final int firstStep;
    private final int totalSteps;
    private final String unit;
    private final boolean terminal = System.console() != null;
    private final long started = System.nanoTime();
    private long unitsBefore;   // samples of the finished segments
    private int stepsBefore;    // steps done before the current segment, counting the checkpoint's
    private int segmentSteps;   // steps of the current segment so far
    private long lastDraw;
    private int lastTwentieth = -1;

    /** Steps {@code firstStep + 1 .. totalSteps}; {@code unit} names what a batch's size counts ("tokens/s"). */
    StepProgress(PrintStream out, int firstStep, int totalSteps, String unit) {
        this.out = out;
        this.firstStep = firstStep;
        this.totalSteps = totalSteps;
        this.stepsBefore = firstStep;
        this.unit = unit;
    }

    @Override
    public void step(int segment, int batch, int batches, long samples, Map<String, Double> means) {
        segmentSteps = batch;
        int step = stepsBefore + batch;
        long now = System.nanoTime();
        int twentieth = (int) (20L * step / totalSteps);
        boolean last = step == totalSteps;
        if (terminal ? (now - lastDraw < 100_000_000L && !last) : (twentieth == lastTwentieth && !last)) return;
        lastDraw = now;
        lastTwentieth = twentieth;
        double seconds = (now - started) / 1e9;
        double rate = (unitsBefore + samples) / Math.max(seconds, 1e-9);
        double eta = seconds / (step - firstStep) * (totalSteps - step);
        int width = 30, filled = (int) ((long) width * step / totalSteps);
        StringBuilder m = new StringBuilder();
        means.forEach((name, v) -> m.append("  ").append(name).append(' ')
                .append(Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.4f", v)));
        String line = String.format(Locale.ROOT, "step %d/%d [%s] %3d%%  %,.0f %s%s  ETA %s", step, totalSteps,
                "#".repeat(filled) + ".".repeat(width - filled), 100L * step / totalSteps, rate, unit, m,
                Progress.clock(eta));
        if (terminal) out.print("\r" + line + (last ? System.lineSeparator() : ""));
        else out.println(line);
        out.flush();
    }

    @Override
    public void epochEnd(EpochStats stats) {
        unitsBefore += stats.samples();
        stepsBefore += segmentSteps;
        segmentSteps = 0;
        if (terminal) out.println();
    }
}
