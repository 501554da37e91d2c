package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;

import java.util.Arrays;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Gradient checking against an independent reference: each op has a double-precision Java forward; Kiln's forward
 * must match it, and Kiln's backward (seeded with a random projection R of the output) must match central finite
 * differences of sum(R * reference(x)) taken in double precision, element by element.
 */
final class GradCheck {
    private GradCheck() {
    }

    /** Inputs given as float arrays with their shapes; {@code differentiable[i]} says which to check. */
    static void check(String name, float[][] inputs, int[][] shapes, boolean[] differentiable,
                      Function<Tensor[], Tensor> kiln, Function<double[][], double[]> reference) {
        check(name, inputs, shapes, differentiable, kiln, reference, 2e-5, 2e-3);
    }

    static void check(String name, float[][] inputs, int[][] shapes, boolean[] differentiable,
                      Function<Tensor[], Tensor> kiln, Function<double[][], double[]> reference,
                      double forwardTol, double gradTol) {
        double[][] x = new double[inputs.length][];
        for (int i = 0; i < inputs.length; i++) {
            x[i] = new double[inputs[i].length];
            for (int j = 0; j < inputs[i].length; j++) x[i][j] = inputs[i][j];
        }
        double[] expected = reference.apply(x);
        try (Scope scope = Scope.open()) {
            Tensor[] t = new Tensor[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                t[i] = Tensor.of(Device.cpu(), inputs[i], shapes[i]);
                if (differentiable[i]) t[i].requiresGrad();
            }
            Tensor out = kiln.apply(t);
            float[] got = out.toFloatArray();
            assertTrue(got.length == expected.length, name + ": output has " + got.length + " elements, reference " + expected.length);
            double scaleOut = 1;
            for (double e : expected) scaleOut = Math.max(scaleOut, Math.abs(e));
            for (int j = 0; j < got.length; j++) {
                if (Math.abs(got[j] - expected[j]) > forwardTol * scaleOut) {
                    fail(name + ": forward[" + j + "] = " + got[j] + ", reference " + expected[j]);
                }
            }
            float[] r = new float[got.length];
            try (Tensor rr = Tensor.uniform(new Generator(name.hashCode()), Device.cpu(), -1f, 1f, Math.max(got.length, 1))) {
                System.arraycopy(rr.toFloatArray(), 0, r, 0, got.length);
            }
            Autograd.backward(out, Tensor.of(Device.cpu(), r, out.shape()));
            for (int i = 0; i < inputs.length; i++) {
                if (!differentiable[i]) continue;
                double[] numeric = numericGradient(reference, x, i, r);
                float[] analytic = t[i].grad() == null ? new float[inputs[i].length] : t[i].grad().toFloatArray();
                double scale = 1;
                for (double n : numeric) scale = Math.max(scale, Math.abs(n));
                for (int j = 0; j < numeric.length; j++) {
                    if (Math.abs(analytic[j] - numeric[j]) > gradTol * scale) {
                        fail(name + ": d/dinput" + i + "[" + j + "] = " + analytic[j] + ", finite differences " + numeric[j]
                                + " (input shape " + Arrays.toString(shapes[i]) + ")");
                    }
                }
            }
        }
        org.junit.jupiter.api.Assertions.assertEquals(0, Autograd.tapeSize(), name + ": the tape must be empty after the step");
    }

    private static double[] numericGradient(Function<double[][], double[]> f, double[][] x, int which, float[] r) {
        double[] g = new double[x[which].length];
        for (int j = 0; j < g.length; j++) {
            double saved = x[which][j];
            double h = 1e-6 * Math.max(1, Math.abs(saved));
            x[which][j] = saved + h;
            double plus = dot(f.apply(x), r);
            x[which][j] = saved - h;
            double minus = dot(f.apply(x), r);
            x[which][j] = saved;
            g[j] = (plus - minus) / (2 * h);
        }
        return g;
    }

    private static double dot(double[] a, float[] r) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * r[i];
        return s;
    }

    /** Uniform floats in [lo, hi), deterministic per seed. */
    static float[] uniform(int n, long seed, float lo, float hi) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * (float) rnd.nextDouble();
        return v;
    }

    /** Uniform magnitudes in [lo, hi) with random signs (keeps divisors away from zero). */
    static float[] awayFromZero(int n, long seed, float lo, float hi) {
        java.util.SplittableRandom rnd = new java.util.SplittableRandom(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (rnd.nextBoolean() ? 1 : -1) * (lo + (hi - lo) * (float) rnd.nextDouble());
        return v;
    }

    static int numel(int[] shape) {
        int n = 1;
        for (int d : shape) n *= d;
        return n;
    }
}
