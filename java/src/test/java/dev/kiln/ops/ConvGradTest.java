package dev.kiln.ops;

import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ConvGradTest {
    static int out(int in, int pad, int dil, int k, int stride) {
        return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
    }

    /** Direct convolution in double: x (n, c, h, w), w (k, c, r, s), bias (k) or null. */
    static double[] convRef(double[] x, double[] w, double[] b, int n, int c, int h, int wd, int k, int r, int s,
                            int stride, int pad, int dil) {
        int p = out(h, pad, dil, r, stride), q = out(wd, pad, dil, s, stride);
        double[] y = new double[n * k * p * q];
        for (int in = 0; in < n; in++)
            for (int ik = 0; ik < k; ik++)
                for (int ip = 0; ip < p; ip++)
                    for (int iq = 0; iq < q; iq++) {
                        double acc = b == null ? 0 : b[ik];
                        for (int ic = 0; ic < c; ic++)
                            for (int ir = 0; ir < r; ir++)
                                for (int is = 0; is < s; is++) {
                                    int hh = ip * stride - pad + ir * dil, ww = iq * stride - pad + is * dil;
                                    if (hh < 0 || hh >= h || ww < 0 || ww >= wd) continue;
                                    acc += x[((in * c + ic) * h + hh) * wd + ww] * w[((ik * c + ic) * r + ir) * s + is];
                                }
                        y[((in * k + ik) * p + ip) * q + iq] = acc;
                    }
        return y;
    }

    @ParameterizedTest(name = "n={0} c={1} {2}x{3} k={4} {5}x{6} stride={7} pad={8} dil={9} bias={10}")
    @CsvSource({
            "1,1,5,5,1,3,3,1,0,1,true", "2,3,7,6,4,3,3,1,1,1,true", "1,3,9,9,2,3,3,2,1,1,false",
            "2,1,8,8,3,5,5,1,2,1,true", "1,7,6,5,3,1,1,1,0,1,true", "1,2,9,9,3,3,3,1,2,2,true",
            "1,3,7,7,2,1,1,2,0,1,false", "2,2,11,7,5,3,5,2,2,1,true",
            // 3x3 stride 1 with 8+ channels: the Winograd path on AVX-512 CPUs
            "2,8,6,7,9,3,3,1,1,1,true", "1,9,5,5,8,3,3,1,2,1,false"})
    void conv2d(int n, int c, int h, int w, int k, int r, int s, int stride, int pad, int dil, boolean bias) {
        float[][] inputs = bias
                ? new float[][] {GradCheck.uniform(n * c * h * w, 61, -1, 1), GradCheck.uniform(k * c * r * s, 62, -1, 1), GradCheck.uniform(k, 63, -1, 1)}
                : new float[][] {GradCheck.uniform(n * c * h * w, 61, -1, 1), GradCheck.uniform(k * c * r * s, 62, -1, 1)};
        int[][] shapes = bias ? new int[][] {{n, c, h, w}, {k, c, r, s}, {k}} : new int[][] {{n, c, h, w}, {k, c, r, s}};
        boolean[] diff = bias ? new boolean[] {true, true, true} : new boolean[] {true, true};
        GradCheck.check("conv2d", inputs, shapes, diff,
                t -> Ops.conv2d(t[0], t[1], bias ? t[2] : null, new int[] {stride, stride}, new int[] {pad, pad}, new int[] {dil, dil}),
                x -> convRef(x[0], x[1], bias ? x[2] : null, n, c, h, w, k, r, s, stride, pad, dil));
    }

    static double[] poolRef(double[] x, int n, int c, int h, int w, int kernel, int stride, int pad, boolean max) {
        return poolRef(x, n, c, h, w, kernel, kernel, stride, stride, pad, pad, max, true);
    }

    /** Pooling in double with a kh x kw window; the average divides by the whole window or by its in-image part. */
    static double[] poolRef(double[] x, int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                            boolean max, boolean countIncludePad) {
        int p = (h + 2 * ph - kh) / sh + 1, q = (w + 2 * pw - kw) / sw + 1;
        double[] y = new double[n * c * p * q];
        for (int plane = 0; plane < n * c; plane++)
            for (int ip = 0; ip < p; ip++)
                for (int iq = 0; iq < q; iq++) {
                    double acc = max ? Double.NEGATIVE_INFINITY : 0;
                    int inside = 0;
                    for (int a = 0; a < kh; a++)
                        for (int b = 0; b < kw; b++) {
                            int hh = ip * sh - ph + a, ww = iq * sw - pw + b;
                            if (hh < 0 || hh >= h || ww < 0 || ww >= w) continue;
                            double v = x[(plane * h + hh) * w + ww];
                            acc = max ? Math.max(acc, v) : acc + v;
                            inside++;
                        }
                    y[(plane * p + ip) * q + iq] = max ? acc : acc / (countIncludePad ? kh * kw : inside);
                }
        return y;
    }

    @ParameterizedTest(name = "{11} pool {2}x{3} kernel {4}x{5} stride {6}x{7} pad {8}x{9} countIncludePad={10}")
    @CsvSource({
            "1,2,6,7,2,3,1,2,0,0,true,max", "2,1,7,9,2,3,1,2,1,1,true,max", "1,2,6,7,2,3,1,2,0,0,true,avg",
            "2,1,7,9,2,3,1,2,1,1,true,avg", "2,1,7,9,2,3,1,2,1,1,false,avg", "1,3,5,5,3,3,2,2,1,1,false,avg",
            "1,1,8,5,3,2,2,1,1,1,false,avg"})
    void nonSquarePoolingAndPaddingNotCounted(int n, int c, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
                                              boolean countIncludePad, String kind) {
        boolean max = kind.equals("max");
        int[] kernel = {kh, kw}, stride = {sh, sw}, padding = {ph, pw};
        GradCheck.check(kind + "_pool2d " + kh + "x" + kw, new float[][] {GradCheck.uniform(n * c * h * w, 65, -1, 1)},
                new int[][] {{n, c, h, w}}, new boolean[] {true},
                t -> max ? Ops.maxPool2d(t[0], kernel, stride, padding) : Ops.avgPool2d(t[0], kernel, stride, padding, countIncludePad),
                x -> poolRef(x[0], n, c, h, w, kh, kw, sh, sw, ph, pw, max, countIncludePad));
    }

    @ParameterizedTest(name = "{7} pool n={0} c={1} {2}x{3} kernel={4} stride={5} pad={6}")
    @CsvSource({"1,1,4,4,2,2,0,max", "2,3,7,7,3,2,1,max", "1,2,5,6,2,1,0,max", "1,1,4,4,2,2,0,avg",
            "2,3,7,7,3,2,1,avg", "1,2,5,6,2,1,0,avg", "1,1,13,13,2,2,0,max"})
    void pooling(int n, int c, int h, int w, int kernel, int stride, int pad, String kind) {
        boolean max = kind.equals("max");
        GradCheck.check(kind + "_pool2d", new float[][] {GradCheck.uniform(n * c * h * w, 64, -1, 1)},
                new int[][] {{n, c, h, w}}, new boolean[] {true},
                t -> max ? Ops.maxPool2d(t[0], kernel, stride, pad) : Ops.avgPool2d(t[0], kernel, stride, pad, true),
                x -> poolRef(x[0], n, c, h, w, kernel, stride, pad, max));
    }

    @Test
    void badGeometryIsRejectedWithShapes() {
        try (Scope s = Scope.open()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.conv2d(Tensor.zeros(1, 3, 8, 8), Tensor.zeros(4, 2, 3, 3), null, 1, 0));
            assertTrue(e.getMessage().contains("(1, 3, 8, 8)") && e.getMessage().contains("(4, 2, 3, 3)"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.conv2d(Tensor.zeros(1, 1, 2, 2), Tensor.zeros(1, 1, 5, 5), null, 1, 0));
            assertTrue(e.getMessage().contains("smaller than"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Ops.conv2d(Tensor.zeros(1, 1, 5, 5), Tensor.zeros(1, 1, 3, 3), null, 0, 0));
            assertThrows(IllegalArgumentException.class, () -> Ops.maxPool2d(Tensor.zeros(1, 1, 5, 5), 2, 2, 2));
        }
    }

    @Test
    void maxPoolPicksTheMaximum() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1, 2, 5, 0, 3, 4, -1, 9, 0, 0, 0, 0, 0, 0, 0, 8}, 1, 1, 4, 4);
            assertArrayEquals(new float[] {4, 9, 0, 8}, Ops.maxPool2d(x, 2, 2, 0).toFloatArray());
        }
    }
}
