package dev.kiln.io;

import java.awt.Color;

/** Ten colors that stay apart for most readers (matplotlib's "tab10"), for classes and for series. */
final class Palette {
    private static final int[] RGB = {0x1f77b4, 0xff7f0e, 0x2ca02c, 0xd62728, 0x9467bd, 0x8c564b, 0xe377c2, 0x7f7f7f,
            0xbcbd22, 0x17becf};

    static final int SIZE = RGB.length;

    private Palette() {
    }

    /** Color {@code i}; series past the tenth reuse the colors in order. */
    static Color color(int i) {
        return new Color(RGB[Math.floorMod(i, SIZE)]);
    }

    static int rgb(int i) {
        return RGB[Math.floorMod(i, SIZE)];
    }
}
