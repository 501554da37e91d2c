package dev.kiln.io;

import dev.kiln.Tensor;

import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * PNG pictures of training: a grid of grayscale images (samples of a VAE or GAN, reconstructions), a scatter of 2-D
 * points colored by class (a latent space) and a line chart of series (loss curves). Drawn off screen with Java2D and
 * written with javax.imageio, atomically; no display is needed.
 */
public final class ImageGrid {
    /** Pixels between images and around the grid. */
    public static final int GAP = 2;
    /** Gray level of the gap: apart from both the black background and the white ink of typical images. */
    public static final int GAP_GRAY = 128;

    private ImageGrid() {
    }

    /**
     * Writes the images of {@code images} as a grid: a tensor (N, 1, H, W), (N, H, W), or (N, H*W) with H*W a square,
     * values in [0, 1] (clamped; NaN is black). {@code columns} images per row (0: a square-ish grid), each pixel
     * drawn as a {@code scale} x {@code scale} block.
     */
    public static void write(Path file, Tensor images, int columns, int scale) throws IOException {
        int[] hw = imageSize(images);
        write(file, images.toFloatArray(), Math.toIntExact(images.numel() / ((long) hw[0] * hw[1])), hw[0], hw[1], columns, scale);
    }

    /** The same from {@code count} row-major images of {@code height} x {@code width} in {@code pixels}. */
    public static void write(Path file, float[] pixels, int count, int height, int width, int columns, int scale) throws IOException {
        Png.write(file, render(pixels, count, height, width, columns, scale));
    }

    /** The grid as an image (TYPE_BYTE_GRAY), without writing it. */
    public static BufferedImage render(float[] pixels, int count, int height, int width, int columns, int scale) {
        if (pixels == null) throw new IllegalArgumentException("ImageGrid: pixels is null");
        if (count <= 0 || height <= 0 || width <= 0 || scale <= 0 || columns < 0) {
            throw new IllegalArgumentException("ImageGrid: needs count, height, width, scale > 0 and columns >= 0; got count=" + count
                    + " height=" + height + " width=" + width + " scale=" + scale + " columns=" + columns);
        }
        if ((long) count * height * width != pixels.length) {
            throw new IllegalArgumentException("ImageGrid: " + count + " images of " + height + " x " + width + " need "
                    + (long) count * height * width + " pixels, got " + pixels.length);
        }
        int cols = columns == 0 ? (int) Math.ceil(Math.sqrt(count)) : Math.min(columns, count);
        int rows = (count + cols - 1) / cols;
        int cellW = width * scale, cellH = height * scale;
        BufferedImage img = Png.image("ImageGrid", GAP + cols * (cellW + GAP), GAP + rows * (cellH + GAP), BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster raster = img.getRaster();
        int[] fill = new int[img.getWidth()];
        java.util.Arrays.fill(fill, GAP_GRAY);
        for (int y = 0; y < img.getHeight(); y++) raster.setPixels(0, y, img.getWidth(), 1, fill);
        for (int n = 0; n < count; n++) {
            int x0 = GAP + (n % cols) * (cellW + GAP), y0 = GAP + (n / cols) * (cellH + GAP);
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int v = gray(pixels[(n * height + y) * width + x]);
                    for (int dy = 0; dy < scale; dy++) {
                        for (int dx = 0; dx < scale; dx++) raster.setSample(x0 + x * scale + dx, y0 + y * scale + dy, 0, v);
                    }
                }
            }
        }
        return img;
    }

    /**
     * Writes a {@code size} x {@code size} scatter of the points (xs[i], ys[i]) on a white background, each a dot in
     * the color of {@code labels[i]} (one of {@code classes} &lt;= 10 distinguishable colors). Axes scale to the
     * points; non-finite points are left out.
     */
    public static void scatter(Path file, float[] xs, float[] ys, int[] labels, int classes, int size) throws IOException {
        Png.write(file, Scatter.render(xs, ys, labels, classes, size));
    }

    /**
     * Writes a {@code width} x {@code height} line chart of {@code series} (name to values, drawn against their index:
     * step or epoch) with ticks on both axes, axis labels, a title and a legend. Non-finite values break a line.
     */
    public static void lineChart(Path file, Map<String, float[]> series, String title, String xLabel, String yLabel,
                                 int width, int height) throws IOException {
        Png.write(file, LineChart.render(series, title, xLabel, yLabel, width, height));
    }

    /** [0, 1] to 0..255, rounding to nearest; out of range clamps, NaN is 0. */
    static int gray(float v) {
        if (!(v > 0f)) return 0;
        if (v >= 1f) return 255;
        return Math.round(v * 255f);
    }

    private static int[] imageSize(Tensor images) {
        if (images == null) throw new IllegalArgumentException("ImageGrid: images is null");
        int[] s = images.shape();
        if (s.length == 4 && s[1] == 1) return new int[] {s[2], s[3]};
        if (s.length == 3) return new int[] {s[1], s[2]};
        if (s.length == 2) {
            int side = (int) Math.round(Math.sqrt(s[1]));
            if (side * side == s[1] && side > 0) return new int[] {side, side};
        }
        throw new IllegalArgumentException("ImageGrid: images must be (N, 1, H, W), (N, H, W) or (N, H*W) with H*W square, got " + images);
    }
}
