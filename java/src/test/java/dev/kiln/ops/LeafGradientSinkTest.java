package dev.kiln.ops;

import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A weight's gradient written by its GEMM straight into the weight's gradient buffer (Autograd.leafGradSink): beta 0
 * over a buffer that holds no gradient (new, or stale after zeroGrad, whatever it holds, NaN included), beta 1 onto
 * one that does (a second use in the same graph, a second backward). Checked against closed forms in double.
 */
class LeafGradientSinkTest {
    private static final int D = 5, ROWS = 3;

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    /** (r, c) row-major product of a (r, k) and b (k, c), each possibly stored transposed. */
    private static double[] mm(double[] a, boolean ta, double[] b, boolean tb, int r, int k, int c) {
        double[] out = new double[r * c];
        for (int i = 0; i < r; i++)
            for (int j = 0; j < c; j++) {
                double s = 0;
                for (int p = 0; p < k; p++) s += (ta ? a[p * r + i] : a[i * k + p]) * (tb ? b[j * k + p] : b[p * c + j]);
                out[i * c + j] = s;
            }
        return out;
    }

    private static double[] add(double[] a, double[] b) {
        double[] s = a.clone();
        for (int i = 0; i < s.length; i++) s[i] += b[i];
        return s;
    }

    private static void assertClose(double[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++) {
            assertTrue(Math.abs(got[i] - want[i]) <= 1e-5 * (1 + Math.abs(want[i])),
                    what + ": element " + i + " is " + got[i] + ", want " + want[i] + "\n got " + Arrays.toString(got));
        }
    }

    /** Runs loss = sum(f(w) * r) backward in a scope of its own. */
    private static void backward(Tensor w, Tensor r, Function<Tensor, Tensor> f) {
        try (Scope s = Scope.open()) {
            Ops.sum(Ops.mul(f.apply(w), r)).backward();
        }
    }

    /**
     * The same weight in two layers, h = x W^T and y = h W^T, loss = sum(y * r): dW = r^T h + (r W)^T x, the second
     * product added onto the first in the buffer.
     */
    @Test
    void twoLayersSharingAWeightAccumulateAcrossUsesAndBackwards() throws Exception {
        float[] wv = GradCheck.uniform(D * D, 11, -1, 1), xv = GradCheck.uniform(ROWS * D, 12, -1, 1);
        float[] rv = GradCheck.uniform(ROWS * D, 13, -1, 1);
        double[] w = toDouble(wv), x = toDouble(xv), r = toDouble(rv);
        double[] h = mm(x, false, w, true, ROWS, D, D);
        double[] want = add(mm(r, true, h, false, D, ROWS, D), mm(mm(r, false, w, false, ROWS, D, D), true, x, false, D, ROWS, D));
        try (Tensor wt = Tensor.of(wv, D, D).requiresGrad(); Tensor xt = Tensor.of(xv, ROWS, D); Tensor rt = Tensor.of(rv, ROWS, D)) {
            Function<Tensor, Tensor> model = ww -> Ops.linear(Ops.linear(xt, ww, null), ww, null);
            backward(wt, rt, model);
            assertClose(want, wt.grad().toFloatArray(), "first backward (new buffer, beta 0 then 1)");
            Tensor buffer = wt.grad();
            backward(wt, rt, model);
            assertClose(add(want, want), wt.grad().toFloatArray(), "second backward adds (beta 1)");

            float[] nan = new float[D * D];
            Arrays.fill(nan, Float.NaN);
            wt.grad().copyFrom(nan, 0);
            wt.zeroGrad();  // stale: beta 0 must write over the NaNs without reading them
            backward(wt, rt, model);
            assertClose(want, wt.grad().toFloatArray(), "after zeroGrad over a NaN buffer");
            assertSame(buffer, wt.grad(), "the buffer is kept across steps");

            try (AnomalyMode check = Autograd.detectAnomaly()) {  // returned gradients, each checked: the same values
                wt.zeroGrad();
                backward(wt, rt, model);
            }
            assertClose(want, wt.grad().toFloatArray(), "in anomaly mode");
        }
    }

    /** C = W W as matmul's two operands, loss = sum(C * r): dW = r W^T + W^T r, both products into one buffer. */
    @Test
    void oneWeightAsBothOperands() throws Exception {
        float[] wv = GradCheck.uniform(D * D, 21, -1, 1), rv = GradCheck.uniform(D * D, 22, -1, 1);
        double[] w = toDouble(wv), r = toDouble(rv);
        double[] want = add(mm(r, false, w, true, D, D, D), mm(w, true, r, false, D, D, D));
        try (Tensor wt = Tensor.of(wv, D, D).requiresGrad(); Tensor rt = Tensor.of(rv, D, D)) {
            backward(wt, rt, ww -> Ops.matmul(ww, ww, false, false));
            assertClose(want, wt.grad().toFloatArray(), "W W");
            double[] wantT = add(mm(r, true, w, true, D, D, D), mm(w, true, r, true, D, D, D));  // C = W^T W^T
            wt.zeroGrad();
            backward(wt, rt, ww -> Ops.matmul(ww, ww, true, true));
            assertClose(wantT, wt.grad().toFloatArray(), "W^T W^T");
        }
    }
}
