// Generated bad calls against every public op of Ops: each must end in a documented exception naming the op and the
// argument (never a JVM crash, another exception type, or a silent wrong answer). Run by surefire's property-tests
// execution, in a JVM of its own.
package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.KilnAnomalyException;
import dev.kiln.KilnException;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.constraints.IntRange;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The categories: a closed argument, a tensor from a closed scope (standing in for a tensor on another device where
 * this machine has no GPU), the wrong dtype, null, a mismatched shape, empty dimensions, huge or negative geometry
 * (dimensions near Integer.MAX_VALUE, products past Long.MAX_VALUE), and NaN/Inf inputs. Every category starts from
 * a valid call ({@link OpCatalog}) and corrupts one thing, so a failure names what broke it.
 */
class BadCallProperties {
    static final AtomicLong CALLS = new AtomicLong();
    private static final int TRIES = 1500;

    @Provide
    Arbitrary<OpCatalog.Spec> specs() {
        return Arbitraries.of(OpCatalog.ALL);
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    /** A valid call's tensors (every optional one present), values in [0.1, 1), labels 0. */
    static Tensor[] valid(OpCatalog.Spec spec, int[] sizes, Device device) {
        int[][] shapes = spec.shapes().apply(sizes);
        Tensor[] t = new Tensor[shapes.length];
        for (int i = 0; i < shapes.length; i++) t[i] = make(device, spec.args().get(i).dtype(), shapes[i], i);
        return t;
    }

    static Tensor make(Device device, DType dtype, int[] shape, int salt) {
        long n = 1;
        for (int d : shape) n *= d;
        if (dtype == DType.I32) return Tensor.ofInts(device, new int[(int) n], shape);
        float[] v = new float[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = 0.1f + 0.9f * (((i + 7L * salt) * 2654435761L) & 0xffff) / 65536f;
        return Tensor.of(device, v, shape);
    }

    /** Whether {@code e} is one of the documented failure types. */
    static boolean documented(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof KilnException;
    }

    /** Calls and requires a documented exception whose message names the op and every one of {@code names}. */
    static Throwable expectRejected(String what, OpCatalog.Spec spec, Tensor[] t, Class<? extends Throwable> type, String... names) {
        CALLS.incrementAndGet();
        Object result;
        try {
            result = spec.invoke().call(t);
        } catch (Throwable e) {
            if (!documented(e)) fail(spec + " " + what + ": threw an undocumented " + e.getClass().getName() + ": " + e.getMessage(), e);
            if (type != null && !type.isInstance(e)) {
                fail(spec + " " + what + ": expected " + type.getSimpleName() + ", got " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
            }
            String m = String.valueOf(e.getMessage());
            assertTrue(m.contains(spec.messageName()), spec + " " + what + ": the message does not name the op '" + spec.messageName() + "': " + m);
            for (String n : names) assertTrue(m.contains(n), spec + " " + what + ": the message does not name '" + n + "': " + m);
            return e;
        }
        fail(spec + " " + what + ": accepted, returned " + describe(result));
        return null;
    }

    static String describe(Object o) {
        if (o instanceof Tensor t) return t.toString();
        if (o instanceof LstmOutput l) return "LstmOutput(" + l.output() + ")";
        return String.valueOf(o);
    }

    static List<Tensor> outputs(Object o) {
        List<Tensor> out = new ArrayList<>();
        if (o instanceof Tensor t) out.add(t);
        if (o instanceof LstmOutput l) {
            out.add(l.output());
            out.addAll(l.hN());
            out.addAll(l.cN());
        }
        return out;
    }

    @AfterContainer
    static void report() {
        System.out.println("[kiln] BadCallProperties: " + CALLS.get() + " generated bad calls");
    }

    // ---- properties ---------------------------------------------------------------------------------------------

    @Property(tries = TRIES)
    void aClosedArgumentIsNamed(@ForAll("specs") OpCatalog.Spec spec, @ForAll @IntRange(min = 0, max = 5) int pick,
                                @ForAll @IntRange(min = 2, max = 4) int a, @ForAll @IntRange(min = 2, max = 4) int b,
                                @ForAll @IntRange(min = 2, max = 4) int c) {
        try (Scope s = Scope.open()) {
            Tensor[] t = valid(spec, new int[] {a, b, c}, Device.cpu());
            int i = pick % t.length;
            t[i].close();
            expectRejected("with '" + spec.args().get(i).name() + "' closed", spec, t, IllegalStateException.class,
                    "'" + spec.args().get(i).name() + "'", "closed");
        }
    }

    /**
     * Another device's tensor where a GPU exists; on a CPU-only machine, a tensor whose scope has closed (the other
     * way a tensor from elsewhere goes bad), which must be refused the same way as a closed one.
     */
    @Property(tries = TRIES)
    void aTensorFromElsewhereIsRefused(@ForAll("specs") OpCatalog.Spec spec, @ForAll @IntRange(min = 0, max = 5) int pick,
                                       @ForAll @IntRange(min = 2, max = 4) int a, @ForAll @IntRange(min = 2, max = 4) int b,
                                       @ForAll @IntRange(min = 2, max = 4) int c) {
        int[] sizes = {a, b, c};
        try (Scope s = Scope.open()) {
            Tensor[] t = valid(spec, sizes, Device.cpu());
            int i = pick % t.length;
            OpCatalog.Arg arg = spec.args().get(i);
            int[] shape = t[i].shape();
            if (Device.cudaDeviceCount() > 0 && i > 0 && !spec.name().equals("copy_")) {
                t[i] = make(Device.cuda(0), arg.dtype(), shape, i);
                expectRejected("with '" + arg.name() + "' on cuda:0", spec, t, IllegalArgumentException.class);
            } else {
                Tensor foreign;
                try (Scope inner = Scope.open()) {
                    foreign = make(Device.cpu(), arg.dtype(), shape, i);
                }
                t[i] = foreign;
                expectRejected("with '" + arg.name() + "' from a closed scope", spec, t, IllegalStateException.class,
                        "'" + arg.name() + "'");
            }
        }
    }

    @Property(tries = TRIES)
    void theWrongDtypeIsNamed(@ForAll("specs") OpCatalog.Spec spec, @ForAll @IntRange(min = 0, max = 5) int pick,
                              @ForAll @IntRange(min = 2, max = 4) int a, @ForAll @IntRange(min = 2, max = 4) int b,
                              @ForAll @IntRange(min = 2, max = 4) int c) {
        List<Integer> typed = new ArrayList<>();
        for (int i = 0; i < spec.args().size(); i++) if (spec.args().get(i).typed()) typed.add(i);
        if (typed.isEmpty()) return;  // views take any dtype
        try (Scope s = Scope.open()) {
            Tensor[] t = valid(spec, new int[] {a, b, c}, Device.cpu());
            int i = typed.get(pick % typed.size());
            OpCatalog.Arg arg = spec.args().get(i);
            t[i] = make(Device.cpu(), arg.dtype() == DType.F32 ? DType.I32 : DType.F32, t[i].shape(), i);
            expectRejected("with '" + arg.name() + "' of the wrong dtype", spec, t, IllegalArgumentException.class, arg.name());
        }
    }

    @Property(tries = TRIES)
    void aNullArgumentIsNamedUnlessOptional(@ForAll("specs") OpCatalog.Spec spec, @ForAll @IntRange(min = 0, max = 5) int pick,
                                            @ForAll @IntRange(min = 2, max = 4) int a, @ForAll @IntRange(min = 2, max = 4) int b,
                                            @ForAll @IntRange(min = 2, max = 4) int c) {
        try (Scope s = Scope.open()) {
            Tensor[] t = valid(spec, new int[] {a, b, c}, Device.cpu());
            int i = pick % t.length;
            OpCatalog.Arg arg = spec.args().get(i);
            t[i] = null;
            if (arg.optional()) {
                CALLS.incrementAndGet();
                Object out = spec.invoke().call(t);  // documented as optional: it must work
                for (Tensor o : outputs(out)) assertTrue(o.numel() >= 0 && !o.isClosed());
            } else {
                expectRejected("with '" + arg.name() + "' null", spec, t, IllegalArgumentException.class, arg.name());
            }
        }
    }

    @Property(tries = TRIES)
    void aMismatchedShapeIsRefused(@ForAll("specs") OpCatalog.Spec spec, @ForAll @IntRange(min = 0, max = 11) int pick,
                                   @ForAll @IntRange(min = 1, max = 3) int delta,
                                   @ForAll @IntRange(min = 2, max = 4) int a, @ForAll @IntRange(min = 2, max = 4) int b,
                                   @ForAll @IntRange(min = 2, max = 4) int c) {
        List<int[]> choices = new ArrayList<>();  // {arg, dim}
        for (int i = 0; i < spec.args().size(); i++) for (int d : spec.args().get(i).coupled()) choices.add(new int[] {i, d});
        if (choices.isEmpty()) return;  // one-tensor ops: every shape is valid
        int[] choice = choices.get(pick % choices.size());
        int i = choice[0];
        try (Scope s = Scope.open()) {
            Tensor[] t = valid(spec, new int[] {a, b, c}, Device.cpu());
            int[] shape = t[i].shape();
            shape[choice[1]] += delta;
            t[i] = make(Device.cpu(), spec.args().get(i).dtype(), shape, i);
            expectRejected("with '" + spec.args().get(i).name() + "' of shape " + Arrays.toString(shape), spec, t,
                    IllegalArgumentException.class);
        }
    }

    /**
     * Every argument emptied along one dimension at once. Empty tensors are legal input: the call either refuses with
     * a documented exception naming the op, or returns results that are right for no data (empty outputs; sums of
     * nothing are 0).
     */
    @Property(tries = TRIES)
    void emptyDimensionsAreRefusedOrGiveEmptyResults(@ForAll("specs") OpCatalog.Spec spec, @ForAll @IntRange(min = 0, max = 2) int which,
                                                     @ForAll @IntRange(min = 2, max = 4) int a, @ForAll @IntRange(min = 2, max = 4) int b,
                                                     @ForAll @IntRange(min = 2, max = 4) int c) {
        int[] sizes = {a, b, c};
        sizes[which] = 0;
        Tensor[] t;
        try {
            t = valid(spec, sizes, Device.cpu());
        } catch (IllegalArgumentException e) {
            return;  // this shape rule needs sizes > 0 (lstm's input width is b + 1)
        }
        try (Scope s = Scope.open()) {
            CALLS.incrementAndGet();
            Object out;
            try {
                out = spec.invoke().call(t);
            } catch (Throwable e) {
                if (!documented(e)) fail(spec + " empty " + Arrays.toString(sizes) + ": undocumented " + e, e);
                assertTrue(String.valueOf(e.getMessage()).contains(spec.messageName()), spec + ": " + e.getMessage());
                return;
            }
            for (Tensor o : outputs(out)) {
                if (o.dtype() != DType.F32) continue;
                float[] v = o.toFloatArray();
                if (spec.messageName().equals("sum") && t[0].numel() == 0) {
                    for (float x : v) assertEquals(0f, x, spec + ": a sum of nothing is 0");
                }
                if (spec.messageName().equals("sum_squares")) {
                    for (int k = 0; k < v.length; k++) if (t[k].numel() == 0) assertEquals(0f, v[k], spec + ": a sum of nothing is 0");
                }
                for (float x : v) assertTrue(!Float.isNaN(x) || spec.messageName().equals("batch_norm"),
                        spec + " empty " + Arrays.toString(sizes) + ": NaN in " + o);
            }
        } finally {
            for (Tensor x : t) if (x != null) x.close();
        }
    }

    private static final int[] EDGES = {Integer.MIN_VALUE, -2, -1, 0, 1 << 30, Integer.MAX_VALUE - 1, Integer.MAX_VALUE};

    /** Window geometry and axes from the edges of int: refused with a documented exception, or shaped by the formula. */
    @Property(tries = TRIES)
    void hugeOrNegativeGeometryIsRefusedOrExact(@ForAll @IntRange(min = 0, max = 6) int op, @ForAll @IntRange(min = 0, max = 6) int slot,
                                                @ForAll @IntRange(min = 0, max = 6) int edge, @ForAll @IntRange(min = 1, max = 3) int sane) {
        int v = EDGES[edge];
        int[] g = {sane, sane, sane, sane, 1, 1};  // kernel h, w, stride h, w, padding h, w (or dilation for conv)
        g[slot % 6] = v;
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(1, 2, 7, 6);
            CALLS.incrementAndGet();
            String name;
            long[] expected;
            Object out;
            try {
                switch (op) {
                    case 0 -> {
                        name = "conv2d";
                        int[] stride = {g[2], g[3]}, padding = {g[4] - 1, g[5] - 1}, dilation = {g[0], g[1]};
                        expected = new long[] {1, 3, conv(7, padding[0], dilation[0], 2, stride[0]), conv(6, padding[1], dilation[1], 2, stride[1])};
                        out = Ops.conv2d(x, Tensor.ones(3, 2, 2, 2), null, stride, padding, dilation);
                    }
                    case 1, 2 -> {
                        name = op == 1 ? "max_pool2d" : "avg_pool2d";
                        int[] k = {g[0], g[1]}, st = {g[2], g[3]}, p = {g[4] - 1, g[5] - 1};
                        expected = new long[] {1, 2, conv(7, p[0], 1, k[0], st[0]), conv(6, p[1], 1, k[1], st[1])};
                        out = op == 1 ? Ops.maxPool2d(x, k, st, p) : Ops.avgPool2d(x, k, st, p, false);
                    }
                    case 3 -> {
                        name = "reshape";
                        expected = null;
                        out = Ops.reshape(x, v, -1);
                    }
                    case 4 -> {
                        name = "view";
                        expected = null;
                        out = Ops.view(x, v, v, v);  // the product of three edges overflows long for the big ones
                    }
                    case 5 -> {
                        name = "sum";
                        int axis = v < 0 ? v + 4 : v;
                        long[] dims = {1, 2, 7, 6};
                        expected = new long[3];
                        for (int d = 0, k = 0; d < 4; d++) if (d != axis) expected[Math.min(k++, 2)] = dims[d];
                        out = Ops.sum(x, v);
                    }
                    default -> {
                        name = "empty";
                        expected = new long[] {v, v, v, 2};
                        out = Tensor.empty(Device.cpu(), v, v, v, 2);
                    }
                }
            } catch (Throwable e) {
                if (!documented(e)) fail("op " + op + " with " + v + ": undocumented " + e, e);
                return;
            }
            Tensor y = (Tensor) out;
            if (expected != null) {
                for (int d = 0; d < expected.length; d++) {
                    assertEquals(expected[d], y.dim(d), name + " with " + v + ": dimension " + d + " of " + y);
                }
            }
            long n = 1;
            for (int d : y.shape()) n = Math.multiplyExact(n, d);
            assertEquals(n, y.numel(), name + ": element count of " + y);
        }
    }

    /** (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1 in exact arithmetic; -1 where the window does not fit. */
    private static long conv(long in, long pad, long dilation, long kernel, long stride) {
        long span = dilation * (kernel - 1) + 1, padded = in + 2 * pad;
        return padded < span || stride < 1 ? -1 : (padded - span) / stride + 1;
    }

    /**
     * A NaN or an infinity in one input element. Without anomaly mode nothing throws (IEEE values propagate as in
     * any fp32 library: elementwise ops keep a NaN in its place); with it, the op is named, or the result is finite.
     */
    @Property(tries = TRIES)
    void nanAndInfinityInputs(@ForAll("specs") OpCatalog.Spec spec, @ForAll @IntRange(min = 0, max = 5) int pick,
                              @ForAll @IntRange(min = 0, max = 2) int kind, @ForAll @IntRange(min = 0, max = 1000) int where,
                              @ForAll @IntRange(min = 2, max = 4) int a, @ForAll @IntRange(min = 2, max = 4) int b,
                              @ForAll @IntRange(min = 2, max = 4) int c) {
        float bad = kind == 0 ? Float.NaN : kind == 1 ? Float.POSITIVE_INFINITY : Float.NEGATIVE_INFINITY;
        int[] sizes = {a, b, c};
        int i = pick % spec.args().size();
        if (spec.args().get(i).dtype() != DType.F32) return;
        for (boolean anomaly : new boolean[] {false, true}) {
            try (Scope s = Scope.open()) {
                Tensor[] t = valid(spec, sizes, Device.cpu());
                float[] v = t[i].toFloatArray();
                int at = where % v.length;
                v[at] = bad;
                t[i].copyFrom(v, 0);
                CALLS.incrementAndGet();
                boolean previous = Autograd.detectAnomaly(anomaly);
                Object out;
                try {
                    out = spec.invoke().call(t);
                } catch (KilnAnomalyException e) {
                    assertTrue(anomaly, spec + ": anomaly exception with the mode off");
                    assertTrue(e.op().matches(recordedAs(spec)), spec + ": named '" + e.op() + "': " + e.getMessage());
                    continue;
                } catch (Throwable e) {
                    fail(spec + " with " + bad + " in '" + spec.args().get(i).name() + "': threw " + e, e);
                    return;
                } finally {
                    Autograd.detectAnomaly(previous);
                }
                if (!anomaly && (spec.messageName().matches("add|sub|mul|div|scale|tanh|sigmoid|bias_add") && i == 0)) {
                    float y = ((Tensor) out).toFloatArray()[at];
                    assertTrue(!Float.isFinite(y) || (kind != 0 && spec.messageName().matches("tanh|sigmoid")),
                            spec + ": element " + at + " with input " + bad + " gave " + y);
                }
                if (anomaly && spec.messageName().matches("add|sub|mul|div|scale|tanh|sigmoid|bias_add|gelu|relu|leaky_relu|sum|mean")
                        && !spec.name().equals("dropout")) {
                    // Recorded ops reading the bad value must be caught unless their result is finite (tanh(inf) = 1).
                    boolean finite = true;
                    for (Tensor o : outputs(out)) for (float x : o.toFloatArray()) finite &= Float.isFinite(x);
                    assertTrue(finite, spec + ": anomaly mode let a non-finite result through");
                }
            }
        }
    }

    /** The tape's names for an op (composite ops record their parts: flatten is a reshape). */
    static String recordedAs(OpCatalog.Spec spec) {
        return switch (spec.messageName()) {
            case "linear" -> "linear|matmul";  // with a bias one fused node, without it the product alone
            case "bias_add" -> "add";
            case "flatten" -> "reshape";
            default -> java.util.regex.Pattern.quote(spec.messageName());
        };
    }

    /** Shapes of tensors themselves: negative or overflowing dimensions are refused at creation. */
    @Property(tries = TRIES)
    void tensorCreationRefusesImpossibleShapes(@ForAll @IntRange(min = 0, max = 6) int e1, @ForAll @IntRange(min = 0, max = 6) int e2,
                                               @ForAll @IntRange(min = 0, max = 3) int how) {
        int d1 = EDGES[e1], d2 = EDGES[e2];
        // With a third dimension of Integer.MAX_VALUE, any two positive edges (>= 2^30) make the product pass 2^63,
        // so nothing here is a valid shape that would really allocate; a zero dimension makes a valid empty tensor.
        int[] shape = {d1, d2, Integer.MAX_VALUE};
        String product = java.math.BigInteger.valueOf(d1).multiply(java.math.BigInteger.valueOf(d2))
                .multiply(java.math.BigInteger.valueOf(Integer.MAX_VALUE)).toString();
        String name = switch (how) {
            case 0 -> "empty";
            case 1 -> "Tensor.of";
            case 2 -> "Tensor.ofInts";
            default -> "empty";
        };
        CALLS.incrementAndGet();
        try (Scope s = Scope.open()) {
            Tensor t = switch (how) {
                case 0 -> Tensor.empty(Device.cpu(), shape);
                case 1 -> Tensor.of(new float[3], shape);
                case 2 -> Tensor.ofInts(Device.cpu(), new int[3], shape);
                default -> Tensor.empty(Device.cpu(), DType.I32, shape);
            };
            // Only a shape with a zero dimension and no negative one is a (valid, empty) tensor.
            assertTrue(d1 >= 0 && d2 >= 0 && (d1 == 0 || d2 == 0) && how != 1 && how != 2, "accepted " + t + " (product " + product + ")");
            assertEquals(0, t.numel());
        } catch (IllegalArgumentException e) {
            assertTrue(e.getMessage().contains(name), e.getMessage());
        }
    }

    /** A sanity property for the harness itself: valid calls pass, so a refusal above is the corruption's doing. */
    @Property(tries = 200)
    void validCallsSucceed(@ForAll("specs") OpCatalog.Spec spec, @ForAll @IntRange(min = 2, max = 4) int a,
                           @ForAll @IntRange(min = 2, max = 4) int b, @ForAll @IntRange(min = 2, max = 4) int c) {
        try (Scope s = Scope.open()) {
            Object out = spec.invoke().call(valid(spec, new int[] {a, b, c}, Device.cpu()));
            for (Tensor o : outputs(out)) {
                if (o.dtype() == DType.F32) for (float x : o.toFloatArray()) assertTrue(Float.isFinite(x), spec + " gave " + x);
            }
        }
    }

    static {
        assertArrayEquals(new int[] {2, 3}, OpCatalog.ALL.get(0).shapes().apply(new int[] {2, 3, 4})[0]);
    }
}
