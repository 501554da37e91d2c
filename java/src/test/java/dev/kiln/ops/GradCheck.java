// Gradient checking against an independent double-precision reference, on every device this machine has, with a
// fault-injection hook that lets GradCheckSelfTest prove each check rejects wrong gradients.
package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Devices;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Each op has a double-precision Java forward. Kiln's forward must match it, and Kiln's backward (seeded with a
 * random projection R of the output) must match central finite differences of sum(R * reference(x)), element by
 * element:
 *
 * <pre>  |analytic[j] - numeric[j]| <= tol * (scale + |numeric[j]|),   scale = ||numeric||_2 / sqrt(n)  (the RMS)</pre>
 *
 * The bound is relative to the case's own gradient: a gradient of 1e-3 (a mean over 257 elements) is held to 1e-6,
 * not to a flat absolute floor that a zero gradient would also meet. The RMS rather than the maximum keeps sparse
 * gradients (max, max pooling) honest. The differences are taken of the double reference, never of Kiln's fp32
 * forward, so the step only has to beat double rounding (relative error about 1e-16 / h) and the h^2 truncation:
 * h = 1e-6 max(1, |x|) leaves both near 1e-10, far below any tolerance used, and fp32 rounding enters only through
 * the analytic gradient being judged.
 *
 * <p>Every check runs on the CPU and, where one exists, on cuda:0 (see {@link #devices()}).
 */
final class GradCheck {
    /** Default gradient tolerance: 1e-4 of the case's gradient scale; the fp32 backwards land below 1e-6 of it on the CPU. */
    static final double GRAD_TOL = 1e-4;
    static final double FORWARD_TOL = 2e-5;

    /** A wrong gradient, made from the right one and its scale (the RMS of the numeric gradient). */
    record Fault(String name, FaultFn fn) {
    }

    @FunctionalInterface
    interface FaultFn {
        float[] apply(float[] analytic, double scale);
    }

    /** Whether the comparison rejected one fault on one input of one check on one device. */
    record Outcome(String check, Device device, int input, String fault, boolean rejected, String detail) {
    }

    /** The faults of the self-test: every one must be rejected by every check. */
    static final List<Fault> STANDARD_FAULTS = List.of(
            new Fault("x0", (g, s) -> scaled(g, 0f)),
            new Fault("x-1", (g, s) -> scaled(g, -1f)),
            new Fault("x0.9", (g, s) -> scaled(g, 0.9f)),
            new Fault("x1.1", (g, s) -> scaled(g, 1.1f)),
            new Fault("one element +10%", (g, s) -> {
                float[] out = g.clone();
                out[out.length / 2] += (float) (0.1 * s);
                return out;
            }));

    private static final ThreadLocal<List<Fault>> FAULTS = new ThreadLocal<>();
    private static final ThreadLocal<List<Outcome>> OUTCOMES = new ThreadLocal<>();
    private static volatile List<Device> devices;
    private static final boolean VERBOSE = Boolean.getBoolean("kiln.gradcheck.verbose");

    private GradCheck() {
    }

    /**
     * Runs {@code body} (gradient checks) with each of {@code faults} applied to the analytic gradient between the
     * backward and the comparison, and returns what each comparison said. The unfaulted comparison still runs first
     * and still fails the check as usual: a fault can only be judged against a check that passes.
     */
    static List<Outcome> withFaults(List<Fault> faults, Runnable body) {
        List<Outcome> outcomes = new ArrayList<>();
        FAULTS.set(faults);
        OUTCOMES.set(outcomes);
        try {
            body.run();
        } finally {
            FAULTS.remove();
            OUTCOMES.remove();
        }
        return outcomes;
    }

    /** The CPU, and cuda:0 when this machine has a GPU; says once, visibly, when the CUDA runs are skipped. */
    static List<Device> devices() {
        List<Device> d = devices;
        if (d == null) {
            if (Device.cudaDeviceCount() > 0) {
                d = List.of(Device.cpu(), Device.cuda(0));
            } else {
                d = List.of(Device.cpu());
                Devices.noCudaDevice("GradCheck: CUDA gradient checks");
            }
            devices = d;
        }
        return d;
    }

    /** Inputs given as float arrays with their shapes; {@code differentiable[i]} says which to check. */
    static void check(String name, float[][] inputs, int[][] shapes, boolean[] differentiable,
                      Function<Tensor[], Tensor> kiln, Function<double[][], double[]> reference) {
        check(name, inputs, shapes, differentiable, kiln, reference, FORWARD_TOL, GRAD_TOL);
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
        float[] r;
        try (Tensor rr = Tensor.uniform(new Generator(name.hashCode()), Device.cpu(), -1f, 1f, Math.max(expected.length, 1))) {
            r = Arrays.copyOf(rr.toFloatArray(), expected.length);
        }
        // The numeric side does not depend on the device: one set of differences serves every device.
        double[][] numeric = new double[inputs.length][];
        for (int i = 0; i < inputs.length; i++) if (differentiable[i]) numeric[i] = numericGradient(reference, x, i, r);
        for (Device device : devices()) {
            String where = name + " on " + device;
            try (Scope scope = Scope.open()) {
                Tensor[] t = new Tensor[inputs.length];
                for (int i = 0; i < inputs.length; i++) {
                    t[i] = Tensor.of(device, inputs[i], shapes[i]);
                    if (differentiable[i]) t[i].requiresGrad();
                }
                Tensor out = kiln.apply(t);
                float[] got = out.toFloatArray();
                assertEquals(expected.length, got.length, where + ": output element count against the reference");
                double scaleOut = 1;
                for (double e : expected) scaleOut = Math.max(scaleOut, Math.abs(e));
                for (int j = 0; j < got.length; j++) {
                    if (!(Math.abs(got[j] - expected[j]) <= forwardTol * scaleOut)) {
                        fail(where + ": forward[" + j + "] = " + got[j] + ", reference " + expected[j]);
                    }
                }
                Autograd.backward(out, Tensor.of(device, r, out.shape()));
                for (int i = 0; i < inputs.length; i++) {
                    if (!differentiable[i]) continue;
                    float[] analytic = t[i].grad() == null ? new float[inputs[i].length] : t[i].grad().toFloatArray();
                    String what = where + ": d/dinput" + i + " (shape " + Arrays.toString(shapes[i]) + ")";
                    String error = compare(analytic, numeric[i], gradTol);
                    if (error != null) fail(what + ": " + error);
                    if (VERBOSE) System.out.printf("[gradcheck] %s: worst error / (scale + |numeric|) = %.3g (tolerance %.3g)%n",
                            what, worstRatio(analytic, numeric[i]), gradTol);
                    judgeFaults(where, device, i, analytic, numeric[i], gradTol);
                }
            }
            assertEquals(0, Autograd.tapeSize(), where + ": the tape must be empty after the step");
        }
    }

    private static void judgeFaults(String where, Device device, int input, float[] analytic, double[] numeric, double tol) {
        List<Fault> faults = FAULTS.get();
        if (faults == null) return;
        double scale = scale(numeric);
        for (Fault f : faults) {
            String error = compare(f.fn().apply(analytic.clone(), scale), numeric, tol);
            OUTCOMES.get().add(new Outcome(where, device, input, f.name(), error != null,
                    error != null ? error : "accepted (gradient scale " + scale + ", tolerance " + tol + ")"));
        }
    }

    /** The gradient's scale: the RMS of the numeric gradient. */
    static double scale(double[] numeric) {
        double ss = 0;
        for (double v : numeric) ss += v * v;
        return numeric.length == 0 ? 0 : Math.sqrt(ss / numeric.length);
    }

    /** max over elements of |a - n| / (scale + |n|): the tolerance a case would need (-Dkiln.gradcheck.verbose). */
    static double worstRatio(float[] analytic, double[] numeric) {
        double scale = scale(numeric), worst = 0;
        for (int j = 0; j < numeric.length; j++) {
            worst = Math.max(worst, Math.abs(analytic[j] - numeric[j]) / (scale + Math.abs(numeric[j])));
        }
        return worst;
    }

    /** Null when every element passes, else the worst element with the bound it broke. */
    static String compare(float[] analytic, double[] numeric, double tol) {
        if (analytic.length != numeric.length) return "analytic has " + analytic.length + " elements, numeric " + numeric.length;
        double scale = scale(numeric);
        int worst = -1;
        double worstRatio = 1;
        for (int j = 0; j < numeric.length; j++) {
            double bound = tol * (scale + Math.abs(numeric[j]));
            double err = Math.abs(analytic[j] - numeric[j]);
            if (!(err <= bound)) {  // NaN fails too
                double ratio = bound == 0 ? Double.POSITIVE_INFINITY : err / bound;
                if (worst < 0 || !(ratio <= worstRatio)) {
                    worst = j;
                    worstRatio = ratio;
                }
            }
        }
        if (worst < 0) return null;
        return "[" + worst + "] = " + analytic[worst] + ", finite differences " + numeric[worst] + ": error "
                + Math.abs(analytic[worst] - numeric[worst]) + " > " + tol + " * (scale " + scale + " + |numeric|)";
    }

    private static float[] scaled(float[] g, float by) {
        for (int j = 0; j < g.length; j++) g[j] *= by;
        return g;
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
