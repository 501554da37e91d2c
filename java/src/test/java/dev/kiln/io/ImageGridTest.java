package dev.kiln.io;

import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** PNG grids, scatters and charts: written headless, read back with ImageIO, checked by size and by pixel. */
class ImageGridTest {
    @TempDir
    Path dir;

    private static int gray(BufferedImage img, int x, int y) {
        return img.getRaster().getSample(x, y, 0);
    }

    @Test
    void gridOfImagesWithGapsScaleAndClamping() throws IOException {
        // Three 2x2 images, two per row, each pixel drawn 2x2: 2 + 2 * (4 + 2) = 14 pixels square.
        float[] px = {
            0f, 1f, 0.5f, 2f,       // image 0: black, white, mid gray, clamped to white
            -1f, Float.NaN, 0.2f, 1f,  // image 1: clamped to black, NaN as black
            1f, 1f, 1f, 1f};        // image 2: all white
        Path f = dir.resolve("grid.png");
        try (Tensor t = Tensor.of(px, 3, 1, 2, 2)) {
            ImageGrid.write(f, t, 2, 2);
        }
        assertEquals("true", System.getProperty("java.awt.headless"));
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(14, img.getWidth());
        assertEquals(14, img.getHeight());
        assertEquals(ImageGrid.GAP_GRAY, gray(img, 0, 0), "the border is the gap");
        assertEquals(0, gray(img, 2, 2));     // image 0, pixel (0, 0)
        assertEquals(0, gray(img, 3, 3));     // same pixel, scaled
        assertEquals(255, gray(img, 4, 2));   // image 0, pixel (0, 1)
        assertEquals(128, gray(img, 2, 4));   // 0.5 rounds to 128
        assertEquals(255, gray(img, 5, 5));   // 2 clamps to 1
        assertEquals(ImageGrid.GAP_GRAY, gray(img, 6, 2), "gap between columns");
        assertEquals(0, gray(img, 8, 2));     // image 1 starts at x = 2 + 4 + 2
        assertEquals(0, gray(img, 10, 2));    // NaN
        assertEquals(51, gray(img, 8, 4));    // 0.2 * 255
        assertEquals(255, gray(img, 2, 8));   // image 2, second row
        assertEquals(ImageGrid.GAP_GRAY, gray(img, 9, 9), "the empty fourth cell is background");
    }

    @Test
    void flatImagesAndAutomaticColumns() throws IOException {
        Path f = dir.resolve("flat.png");
        try (Tensor t = Tensor.full(dev.kiln.Device.cpu(), 0.25f, 5, 9)) {  // five 3x3 images as (N, H*W)
            ImageGrid.write(f, t, 0, 1);
        }
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(2 + 3 * (3 + 2), img.getWidth(), "ceil(sqrt(5)) = 3 columns");
        assertEquals(2 + 2 * (3 + 2), img.getHeight());
        assertEquals(64, gray(img, 2, 2));
        try (Tensor bad = Tensor.zeros(2, 7)) {
            assertThrows(IllegalArgumentException.class, () -> ImageGrid.write(f, bad, 0, 1));
        }
    }

    @Test
    void scatterColorsPointsByClassOnWhite() throws IOException {
        Path f = dir.resolve("scatter.png");
        float[] xs = {0f, 10f, 5f, Float.NaN};
        float[] ys = {0f, 10f, 5f, 1f};
        int[] labels = {0, 1, 9, 2};
        ImageGrid.scatter(f, xs, ys, labels, 10, 100);
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(100, img.getWidth());
        assertEquals(100, img.getHeight());
        int white = 0xffffff;
        assertEquals(white, img.getRGB(30, 70) & 0xffffff);
        // (0, 0) maps to the bottom-left margin, (10, 10) to the top-right, (5, 5) to the middle; y grows upwards.
        assertEquals(Palette.rgb(0), img.getRGB(8, 91) & 0xffffff);
        assertEquals(Palette.rgb(1), img.getRGB(91, 8) & 0xffffff);
        assertEquals(Palette.rgb(9), img.getRGB(49, 49) & 0xffffff);
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.scatter(f, xs, ys, new int[] {0, 1, 10, 0}, 10, 100));
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.scatter(f, xs, ys, labels, 11, 100));
    }

    @Test
    void lineChartOfSeveralSeries() throws IOException {
        Path f = dir.resolve("loss.png");
        float[] train = new float[50], test = new float[30];
        for (int i = 0; i < train.length; i++) train[i] = (float) (2.3 * Math.exp(-i / 10.0));
        for (int i = 0; i < test.length; i++) test[i] = i == 12 ? Float.NaN : (float) (2.0 * Math.exp(-i / 12.0) + 0.1);
        Map<String, float[]> series = new LinkedHashMap<>();
        series.put("train", train);
        series.put("test", test);
        ImageGrid.lineChart(f, series, "loss", "step", "cross-entropy", 400, 300);
        BufferedImage img = ImageIO.read(f.toFile());
        assertEquals(400, img.getWidth());
        assertEquals(300, img.getHeight());
        assertEquals(0xffffff, img.getRGB(2, 2) & 0xffffff);
        assertTrue(count(img, Palette.rgb(0), 0, 400) > 50, "the first series is drawn");
        assertTrue(count(img, Palette.rgb(1), 0, 400) > 30, "the second series is drawn");
        assertTrue(count(img, 0x000000, 0, 400) > 300, "axes are drawn");
        if (Png.textWorks()) {
            assertTrue(dark(img, 0, 50) > 20, "tick labels left of the y axis");
        }
        assertThrows(IllegalArgumentException.class, () -> ImageGrid.lineChart(f, Map.of(), null, null, null, 400, 300));
    }

    private static int count(BufferedImage img, int rgb, int x0, int x1) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) for (int x = x0; x < x1; x++) if ((img.getRGB(x, y) & 0xffffff) == rgb) n++;
        return n;
    }

    private static int dark(BufferedImage img, int x0, int x1) {
        int n = 0;
        for (int y = 0; y < img.getHeight(); y++) {
            for (int x = x0; x < x1; x++) if ((img.getRGB(x, y) & 0xff) < 100) n++;
        }
        return n;
    }
}
