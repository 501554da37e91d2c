package dev.kiln.ops;

import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class LstmGradTest {
    static double sig(double v) {
        return 1 / (1 + Math.exp(-v));
    }

    /**
     * Reference LSTM layer in double; returns y (n, t, h) followed by h_n and c_n (n, h) when {@code withStates}.
     * Gates (i, f, g, o) as PyTorch.
     */
    static double[] lstmRef(double[] x, double[] h0, double[] c0, double[] wih, double[] whh, double[] b, int n, int t,
                            int f, int h, boolean withStates) {
        double[] y = new double[n * t * h + (withStates ? 2 * n * h : 0)];
        for (int b0 = 0; b0 < n; b0++) {
            double[] hp = new double[h], cp = new double[h];
            if (h0 != null) System.arraycopy(h0, b0 * h, hp, 0, h);
            if (c0 != null) System.arraycopy(c0, b0 * h, cp, 0, h);
            for (int s = 0; s < t; s++) {
                double[] z = new double[4 * h];
                for (int g = 0; g < 4 * h; g++) {
                    double acc = b[g];
                    for (int k = 0; k < f; k++) acc += wih[g * f + k] * x[(b0 * t + s) * f + k];
                    for (int k = 0; k < h; k++) acc += whh[g * h + k] * hp[k];
                    z[g] = acc;
                }
                double[] hn = new double[h];
                for (int j = 0; j < h; j++) {
                    double i = sig(z[j]), fg = sig(z[h + j]), gg = Math.tanh(z[2 * h + j]), o = sig(z[3 * h + j]);
                    cp[j] = fg * cp[j] + i * gg;
                    hn[j] = o * Math.tanh(cp[j]);
                    y[(b0 * t + s) * h + j] = hn[j];
                }
                hp = hn;
            }
            if (withStates) {
                System.arraycopy(hp, 0, y, n * t * h + b0 * h, h);
                System.arraycopy(cp, 0, y, n * t * h + n * h + b0 * h, h);
            }
        }
        return y;
    }

    @ParameterizedTest(name = "lstm n={0} t={1} f={2} h={3} initial={4}")
    @CsvSource({"1,1,3,2,false", "2,2,3,5,true", "3,7,5,7,true", "2,7,1,3,false", "1,2,4,33,true"})
    void gradientsOfEveryInputAndParameter(int n, int t, int f, int h, boolean initial) {
        float[][] in = {GradCheck.uniform(n * t * f, 81, -1, 1), GradCheck.uniform(n * h, 82, -1, 1), GradCheck.uniform(n * h, 83, -1, 1),
                GradCheck.uniform(4 * h * f, 84, -0.6f, 0.6f), GradCheck.uniform(4 * h * h, 85, -0.6f, 0.6f), GradCheck.uniform(4 * h, 86, -0.5f, 0.5f)};
        int[][] shapes = {{n, t, f}, {n, h}, {n, h}, {4 * h, f}, {4 * h, h}, {4 * h}};
        // The op's output here is y, h_n and c_n concatenated, so gradients enter through all three.
        GradCheck.check("lstm", in, shapes, new boolean[] {true, initial, initial, true, true, true},
                ts -> {
                    LstmOutput o = Ops.lstm(ts[0], initial ? ts[1] : null, initial ? ts[2] : null, ts[3], ts[4], ts[5]);
                    Tensor flatY = Ops.reshape(o.output(), -1), flatH = Ops.reshape(o.hN().get(0), -1), flatC = Ops.reshape(o.cN().get(0), -1);
                    return concat(flatY, flatH, flatC);
                },
                x -> lstmRef(x[0], initial ? x[1] : null, initial ? x[2] : null, x[3], x[4], x[5], n, t, f, h, true),
                5e-5, GradCheck.GRAD_TOL);
    }

    /** Concatenation through ops we already trust: scatter each part into a zero vector with a 0/1 mask sum. */
    private static Tensor concat(Tensor a, Tensor b, Tensor c) {
        int na = (int) a.numel(), nb = (int) b.numel(), nc = (int) c.numel(), total = na + nb + nc;
        return Ops.add(Ops.add(place(a, 0, total), place(b, na, total)), place(c, na + nb, total));
    }

    /** v (len) placed at [offset, offset+len) of a zero vector of length total: a (total, len) selection matmul. */
    private static Tensor place(Tensor v, int offset, int total) {
        int len = (int) v.numel();
        float[] sel = new float[total * len];
        for (int i = 0; i < len; i++) sel[(offset + i) * len + i] = 1f;
        Tensor s = Tensor.of(v.device(), sel, total, len);
        return Ops.reshape(Ops.matmul(s, Ops.reshape(v, len, 1)), total);
    }

    @Test
    void inferenceGivesTheSameOutputsAsTraining() throws Exception {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(GradCheck.uniform(2 * 5 * 3, 91, -1, 1), 2, 5, 3);
            Tensor wih = Tensor.of(GradCheck.uniform(16 * 3, 92, -0.5f, 0.5f), 16, 3).requiresGrad();
            Tensor whh = Tensor.of(GradCheck.uniform(16 * 4, 93, -0.5f, 0.5f), 16, 4).requiresGrad();
            Tensor b = Tensor.of(GradCheck.uniform(16, 94, -0.5f, 0.5f), 16).requiresGrad();
            float[] trained = Ops.lstm(x, null, null, wih, whh, b).output().toFloatArray();
            float[] inferred;
            try (AutoCloseable off = Autograd.noGrad()) {
                inferred = Ops.lstm(x, null, null, wih, whh, b).output().toFloatArray();
            }
            assertArrayEquals(trained, inferred);
            assertEquals(1, Autograd.tapeSize());
        }
    }
}
