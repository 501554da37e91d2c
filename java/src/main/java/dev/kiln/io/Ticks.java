package dev.kiln.io;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Axis ticks at round numbers (1, 2 or 5 times a power of ten) and their labels. */
final class Ticks {
    final double lo;
    final double hi;
    final double step;
    final List<Double> values;

    private Ticks(double lo, double hi, double step, List<Double> values) {
        this.lo = lo;
        this.hi = hi;
        this.step = step;
        this.values = values;
    }

    /** About {@code target} ticks covering [min, max]; the axis is widened to whole steps. */
    static Ticks of(double min, double max, int target) {
        if (!(max > min)) {
            double pad = min == 0 ? 1 : Math.abs(min) * 0.1;
            min -= pad;
            max += pad;
        }
        double raw = (max - min) / Math.max(1, target);
        double magnitude = Math.pow(10, Math.floor(Math.log10(raw)));
        double fraction = raw / magnitude;
        double step = (fraction <= 1 ? 1 : fraction <= 2 ? 2 : fraction <= 5 ? 5 : 10) * magnitude;
        double lo = Math.floor(min / step) * step, hi = Math.ceil(max / step) * step;
        List<Double> values = new ArrayList<>();
        for (long k = Math.round(lo / step); k <= Math.round(hi / step); k++) values.add(k * step);
        return new Ticks(lo, hi, step, values);
    }

    /** A tick's label with as many decimals as the step needs ("0.25", "1000", "1.0e-05"). */
    String label(double v) {
        double big = Math.max(Math.abs(lo), Math.abs(hi));
        if (big >= 1e6 || step < 1e-4) return String.format(Locale.ROOT, "%.1e", v);
        int decimals = Math.max(0, (int) -Math.floor(Math.log10(step) + 1e-9));
        return String.format(Locale.ROOT, "%." + decimals + "f", Math.abs(v) < step * 1e-6 ? 0.0 : v);
    }
}
