package dev.kiln.cli;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/** A run's loss curves as a PNG line chart drawn by JFreeChart: one series per logged metric, x the training step. */
final class LossChart {
    static final int WIDTH = 720;
    static final int HEIGHT = 360;
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c)};

    private LossChart() {
    }

    /** Writes {@code curves} (collected every few steps) to {@code file}; false, writing nothing, if it has no points. */
    static boolean write(Path file, LossCurves curves, String title, String yLabel) throws IOException {
        long[] steps = curves.steps();
        Map<String, float[]> series = curves.curves();
        if (steps.length == 0) return false;
        XYSeriesCollection data = new XYSeriesCollection();
        series.forEach((name, values) -> {
            XYSeries s = new XYSeries(name, false, true);
            for (int i = 0; i < values.length; i++) s.add(steps[i], values[i]);
            data.addSeries(s);
        });
        JFreeChart chart = ChartFactory.createXYLineChart(title, "training step", yLabel, data,
                PlotOrientation.VERTICAL, series.size() > 1, false, false);
        style(chart, series.size());
        ChartUtils.saveChartAsPNG(file.toFile(), chart, WIDTH, HEIGHT);
        return true;
    }

    /** A plain white chart with light grid lines, so it reads like the rest of the report. */
    private static void style(JFreeChart chart, int seriesCount) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(new Color(0xdddddd));
        plot.setRangeGridlinePaint(new Color(0xdddddd));
        plot.setOutlineVisible(false);
        // A loss falls steeply at first: zooming on the data (not from zero) keeps the later, flatter part readable.
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(false);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < seriesCount; i++) {
            renderer.setSeriesPaint(i, COLORS[i % COLORS.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        plot.setRenderer(renderer);
    }
}
