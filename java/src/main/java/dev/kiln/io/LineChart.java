package dev.kiln.io;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.AffineTransform;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.util.List;
import java.util.Map;

/** The line chart of {@link ImageGrid#lineChart}: values against their index, axes with ticks, labels and a legend. */
final class LineChart {
    private static final int LEFT = 64, RIGHT = 16, TOP = 28, BOTTOM = 44;
    static final Color AXIS = Color.BLACK;
    static final Color GRID = new Color(0xe6e6e6);

    private LineChart() {
    }

    static BufferedImage render(Map<String, float[]> series, String title, String xLabel, String yLabel, int width, int height) {
        if (series == null || series.isEmpty()) throw new IllegalArgumentException("ImageGrid.lineChart: no series");
        if (width < LEFT + RIGHT + 32 || height < TOP + BOTTOM + 32) {
            throw new IllegalArgumentException("ImageGrid.lineChart: " + width + " x " + height + " is too small for a chart (at least "
                    + (LEFT + RIGHT + 32) + " x " + (TOP + BOTTOM + 32) + ")");
        }
        double yMin = Double.POSITIVE_INFINITY, yMax = Double.NEGATIVE_INFINITY;
        int longest = 0;
        for (Map.Entry<String, float[]> e : series.entrySet()) {
            if (e.getValue() == null) throw new IllegalArgumentException("ImageGrid.lineChart: series '" + e.getKey() + "' is null");
            longest = Math.max(longest, e.getValue().length);
            for (float v : e.getValue()) {
                if (Float.isFinite(v)) {
                    yMin = Math.min(yMin, v);
                    yMax = Math.max(yMax, v);
                }
            }
        }
        if (yMin > yMax) {  // nothing finite to draw: still a chart, with an arbitrary axis
            yMin = 0;
            yMax = 1;
        }
        Ticks xt = Ticks.of(0, Math.max(1, longest - 1), 6), yt = Ticks.of(yMin, yMax, 5);
        BufferedImage img = Png.image("ImageGrid.lineChart", width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            new Plot(g, width, height, xt, yt).draw(series, title, xLabel, yLabel);
        } finally {
            g.dispose();
        }
        return img;
    }

    /** One drawing: the plot area and the mapping from data to pixels. */
    private static final class Plot {
        final Graphics2D g;
        final int x0, y0, x1, y1;  // plot area: left, top, right, bottom
        final Ticks xt, yt;
        final boolean text = Png.textWorks();

        Plot(Graphics2D g, int width, int height, Ticks xt, Ticks yt) {
            this.g = g;
            this.x0 = LEFT;
            this.y0 = TOP;
            this.x1 = width - RIGHT;
            this.y1 = height - BOTTOM;
            this.xt = xt;
            this.yt = yt;
        }

        double px(double x) {
            return x0 + (x - xt.lo) / (xt.hi - xt.lo) * (x1 - x0);
        }

        double py(double y) {
            return y1 - (y - yt.lo) / (yt.hi - yt.lo) * (y1 - y0);
        }

        void draw(Map<String, float[]> series, String title, String xLabel, String yLabel) {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, x1 + RIGHT, y1 + BOTTOM);
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            if (text) g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
            ticks();
            int i = 0;
            for (float[] values : series.values()) line(values, Palette.color(i++));
            g.setColor(AXIS);
            g.setStroke(new BasicStroke(1f));
            g.drawLine(x0, y1, x1, y1);
            g.drawLine(x0, y0, x0, y1);
            if (text) labels(List.copyOf(series.keySet()), title, xLabel, yLabel);
        }

        private void ticks() {
            FontMetrics fm = text ? g.getFontMetrics() : null;
            for (double v : xt.values) {
                int x = (int) Math.round(px(v));
                g.setColor(GRID);
                g.drawLine(x, y0, x, y1);
                g.setColor(AXIS);
                g.drawLine(x, y1, x, y1 + 4);
                if (fm != null) {
                    String s = xt.label(v);
                    g.drawString(s, x - fm.stringWidth(s) / 2, y1 + 6 + fm.getAscent());
                }
            }
            for (double v : yt.values) {
                int y = (int) Math.round(py(v));
                g.setColor(GRID);
                g.drawLine(x0, y, x1, y);
                g.setColor(AXIS);
                g.drawLine(x0 - 4, y, x0, y);
                if (fm != null) {
                    String s = yt.label(v);
                    g.drawString(s, x0 - 6 - fm.stringWidth(s), y + fm.getAscent() / 2 - 1);
                }
            }
        }

        /** Non-finite values end a segment: a diverged run shows where it diverged instead of a spike to the edge. */
        private void line(float[] values, Color color) {
            g.setColor(color);
            g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND));
            Path2D.Double path = new Path2D.Double();
            boolean open = false;
            for (int k = 0; k < values.length; k++) {
                if (!Float.isFinite(values[k])) {
                    open = false;
                    continue;
                }
                double x = px(k), y = py(values[k]);
                if (open) {
                    path.lineTo(x, y);
                } else {
                    path.moveTo(x, y);
                    path.lineTo(x, y);  // a lone point still shows as a dot with the round cap
                    open = true;
                }
            }
            g.draw(path);
        }

        private void labels(List<String> names, String title, String xLabel, String yLabel) {
            FontMetrics fm = g.getFontMetrics();
            g.setColor(AXIS);
            if (title != null) g.drawString(title, (x0 + x1 - fm.stringWidth(title)) / 2, y0 - 10);
            if (xLabel != null) g.drawString(xLabel, (x0 + x1 - fm.stringWidth(xLabel)) / 2, y1 + 34);
            if (yLabel != null) {
                AffineTransform saved = g.getTransform();
                g.rotate(-Math.PI / 2);
                g.drawString(yLabel, -(y0 + y1 + fm.stringWidth(yLabel)) / 2, 14);
                g.setTransform(saved);
            }
            int widest = 0;
            for (String n : names) widest = Math.max(widest, fm.stringWidth(n));
            int lx = x1 - widest - 30, ly = y0 + 6, row = fm.getHeight();
            g.setColor(new Color(255, 255, 255, 220));
            g.fillRect(lx - 4, ly - 2, widest + 32, row * names.size() + 4);
            for (int k = 0; k < names.size(); k++) {
                g.setColor(Palette.color(k));
                g.fillRect(lx, ly + k * row + row / 2 - 2, 16, 4);
                g.setColor(AXIS);
                g.drawString(names.get(k), lx + 22, ly + k * row + fm.getAscent());
            }
        }
    }
}
