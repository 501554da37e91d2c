package dev.kiln.io;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;

/** The scatter of {@link ImageGrid#scatter}: square, white, one colored dot per point, no axes or legend. */
final class Scatter {
    /** Dot diameter in pixels: visible at 512 x 512 for 10,000 points without hiding the clusters' shapes. */
    static final int DOT = 4;
    private static final int MARGIN = 8;

    private Scatter() {
    }

    static BufferedImage render(float[] xs, float[] ys, int[] labels, int classes, int size) {
        if (xs == null || ys == null || labels == null) throw new IllegalArgumentException("ImageGrid.scatter: xs, ys and labels must not be null");
        if (xs.length != ys.length || xs.length != labels.length) {
            throw new IllegalArgumentException("ImageGrid.scatter: xs, ys and labels must have one length, got "
                    + xs.length + ", " + ys.length + ", " + labels.length);
        }
        if (classes < 1 || classes > Palette.SIZE) {
            throw new IllegalArgumentException("ImageGrid.scatter: classes must be in [1, " + Palette.SIZE + "] (one color each), got " + classes);
        }
        if (size <= 2 * MARGIN) throw new IllegalArgumentException("ImageGrid.scatter: size must be > " + 2 * MARGIN + ", got " + size);
        for (int i = 0; i < labels.length; i++) {
            if (labels[i] < 0 || labels[i] >= classes) {
                throw new IllegalArgumentException("ImageGrid.scatter: labels[" + i + "] is " + labels[i] + ", outside [0, " + classes + ")");
            }
        }
        float[] rx = range(xs, ys), ry = range(ys, xs);
        BufferedImage img = Png.image("ImageGrid.scatter", size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, size, size);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            double span = size - 2 * MARGIN;
            for (int i = 0; i < xs.length; i++) {
                if (!Float.isFinite(xs[i]) || !Float.isFinite(ys[i])) continue;
                double px = MARGIN + (xs[i] - rx[0]) / (rx[1] - rx[0]) * span;
                double py = size - MARGIN - (ys[i] - ry[0]) / (ry[1] - ry[0]) * span;  // y grows upwards
                g.setColor(Palette.color(labels[i]));
                g.fill(new java.awt.geom.Ellipse2D.Double(px - DOT / 2.0, py - DOT / 2.0, DOT, DOT));
            }
        } finally {
            g.dispose();
        }
        return img;
    }

    /** [min, max] of the finite points' {@code v}, widened when flat so that the division above is defined. */
    private static float[] range(float[] v, float[] other) {
        float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i]) || !Float.isFinite(other[i])) continue;
            lo = Math.min(lo, v[i]);
            hi = Math.max(hi, v[i]);
        }
        if (lo > hi) return new float[] {0f, 1f};
        if (lo == hi) return new float[] {lo - 1f, hi + 1f};
        return new float[] {lo, hi};
    }
}
