package dev.kiln.io;

import javax.imageio.ImageIO;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;

/**
 * Writing images: PNG through javax.imageio, replacing the file atomically like checkpoints. Drawing happens off
 * screen, so AWT is put in headless mode before its first use unless the application chose otherwise.
 */
final class Png {
    static {
        if (System.getProperty("java.awt.headless") == null) System.setProperty("java.awt.headless", "true");
    }

    private static volatile Boolean textWorks;

    private Png() {
    }

    static void write(Path file, BufferedImage image) throws IOException {
        if (file == null) throw new IllegalArgumentException("Png.write: file is null");
        // Encoded in memory first (charts and grids are small): ImageIO on a bare stream would cache in java.io.tmpdir.
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        if (!ImageIO.write(image, "png", png)) throw new IOException(file + ": this JRE has no PNG writer");
        AtomicFiles.write(file, channel -> SafeTensors.writeFully(channel, ByteBuffer.wrap(png.toByteArray())));
    }

    /** A blank image of the given size, failing with a clear message rather than an AWT one. */
    static BufferedImage image(String who, int width, int height, int type) {
        if (width <= 0 || height <= 0 || (long) width * height > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException(who + ": an image of " + width + " x " + height + " pixels is empty or too large");
        }
        return new BufferedImage(width, height, type);
    }

    /**
     * Whether Java2D can draw text here: a headless machine without any font (no fontconfig, no font package) throws
     * from drawString. Charts then come without labels rather than not at all.
     */
    static boolean textWorks() {
        Boolean ok = textWorks;
        if (ok == null) {
            try {
                BufferedImage probe = new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = probe.createGraphics();
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
                g.drawString("0", 0, 7);
                g.getFontMetrics().stringWidth("0");
                g.dispose();
                ok = true;
            } catch (RuntimeException | Error e) {  // Error: "no fonts found" comes as one from the font manager
                ok = false;
            }
            textWorks = ok;
        }
        return ok;
    }
}
