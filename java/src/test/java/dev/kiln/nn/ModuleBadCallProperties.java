// Generated bad calls against every module of dev.kiln.nn (and the models built from them): bad inputs, closed
// modules and impossible sizes end in a documented exception that names the module or the op, never a crash.
package dev.kiln.nn;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.KilnException;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.models.Cnn;
import dev.kiln.models.LstmClassifier;
import dev.kiln.models.Mlp;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.lifecycle.AfterContainer;

import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

class ModuleBadCallProperties {
    static final AtomicLong CALLS = new AtomicLong();

    /**
     * A module, how to run it on one input, which input shapes are valid, and the words its messages may use to name
     * it (its class, or the ops inside it).
     */
    record Kind(String name, Supplier<Module> make, Predicate<int[]> validShape, int[] example, String names, Fwd forward) {
        @Override
        public String toString() {
            return name;
        }
    }

    @FunctionalInterface
    interface Fwd {
        Object apply(Module m, Tensor x);
    }

    private static boolean rank(int[] s, int... ranks) {
        for (int r : ranks) if (s.length == r) return true;
        return false;
    }

    private static long tail(int[] s) {
        long n = 1;
        for (int i = 1; i < s.length; i++) n *= s[i];
        return n;
    }

    static final List<Kind> KINDS = List.of(
            layer("Linear", () -> new Linear(4, 3, Device.cpu(), new Generator(1)), s -> s.length >= 2 && s[s.length - 1] == 4,
                    new int[] {2, 4}, "Linear|linear|matmul"),
            layer("Linear(no bias)", () -> new Linear(4, 3, false, Device.cpu(), new Generator(1)),
                    s -> s.length >= 2 && s[s.length - 1] == 4, new int[] {3, 2, 4}, "Linear|linear|matmul"),
            layer("Conv2d", () -> new Conv2d(2, 3, 3, Device.cpu(), new Generator(1)),
                    s -> rank(s, 4) && s[1] == 2 && s[2] >= 3 && s[3] >= 3, new int[] {1, 2, 4, 5}, "conv2d"),
            layer("BatchNorm2d", () -> new BatchNorm2d(3, Device.cpu()),
                    s -> rank(s, 2, 4) && s[1] == 3 && s[0] * tail(s) / 3 >= 2, new int[] {2, 3, 2, 2}, "batch_norm"),
            layer("MaxPool2d", () -> Pool2d.max(2), s -> rank(s, 4) && s[2] >= 2 && s[3] >= 2, new int[] {1, 2, 4, 4}, "max_pool2d"),
            layer("AvgPool2d", () -> Pool2d.avg(2, 1, 1), s -> rank(s, 4), new int[] {1, 2, 3, 3}, "avg_pool2d"),
            layer("ReLU", Activation::relu, s -> true, new int[] {3}, "relu"),
            layer("LeakyReLU", () -> Activation.leakyRelu(0.1f), s -> true, new int[] {3}, "leaky_relu"),
            layer("Tanh", Activation::tanh, s -> true, new int[] {3}, "tanh"),
            layer("Sigmoid", Activation::sigmoid, s -> true, new int[] {3}, "sigmoid"),
            layer("GELU", Activation::gelu, s -> true, new int[] {3}, "gelu"),
            layer("Dropout", () -> new Dropout(0.5f, new Generator(1)), s -> true, new int[] {3}, "dropout"),
            layer("Flatten", Flatten::new, s -> s.length >= 1, new int[] {2, 3, 2}, "flatten|reshape"),
            layer("Sequential", () -> new Sequential(new Linear(4, 3, Device.cpu(), new Generator(1)), Activation.relu(),
                    new Linear(3, 2, Device.cpu(), new Generator(2))), s -> s.length >= 2 && s[s.length - 1] == 4, new int[] {2, 4},
                    "Linear|linear|matmul|relu"),
            new Kind("Lstm", () -> new Lstm(3, 4, Device.cpu(), new Generator(1)),
                    s -> rank(s, 3) && s[2] == 3, new int[] {2, 3, 3}, "Lstm|lstm", (m, x) -> ((Lstm) m).forward(x)),
            layer("Mlp", () -> new Mlp(8, 5, 3, Device.cpu(), new Generator(1)), s -> s.length >= 2 && tail(s) == 8,
                    new int[] {2, 2, 4}, "Mlp|Linear|linear|matmul|flatten|reshape"),
            layer("Cnn", () -> Cnn.fashionMnist(Device.cpu(), new Generator(1)),
                    s -> s.length == 4 && s[1] == 1 && s[2] == 28 && s[3] == 28,
                    new int[] {1, 1, 28, 28}, "Cnn|conv2d"),
            layer("LstmClassifier", () -> new LstmClassifier(4, 3, 5, 2, Device.cpu(), new Generator(1)),
                    // One sequence of 4 steps x 3 features per sample: (N, 4, 3), (N, 1, 4, 3), ...; (N, 2, 4, 3)
                    // holds two per sample and is refused.
                    s -> s.length >= 2 && s[s.length - 1] == 3
                            && Arrays.stream(s).asLongStream().reduce(1, (p, q) -> p * q) == 12L * s[0],
                    new int[] {2, 4, 3}, "LstmClassifier|lstm|reshape"));

    private static Kind layer(String name, Supplier<Module> make, Predicate<int[]> valid, int[] example, String names) {
        return new Kind(name, make, valid, example, names, (m, x) -> ((Layer) m).forward(x));
    }

    @Provide
    Arbitrary<Kind> kinds() {
        return Arbitraries.of(KINDS);
    }

    static boolean documented(Throwable e) {
        return e instanceof IllegalArgumentException || e instanceof IllegalStateException || e instanceof KilnException;
    }

    static void expectRefused(Kind kind, String what, Runnable call, String mustName) {
        CALLS.incrementAndGet();
        try {
            call.run();
        } catch (Throwable e) {
            if (!documented(e)) fail(kind + " " + what + ": undocumented " + e.getClass().getName() + ": " + e.getMessage(), e);
            String m = String.valueOf(e.getMessage());
            assertTrue(java.util.regex.Pattern.compile(kind.names()).matcher(m).find(),
                    kind + " " + what + ": the message names neither the module nor its ops (" + kind.names() + "): " + m);
            if (mustName != null) assertTrue(m.contains(mustName), kind + " " + what + ": the message does not name " + mustName + ": " + m);
            return;
        }
        fail(kind + " " + what + ": accepted");
    }

    @AfterContainer
    static void report() {
        System.out.println("[kiln] ModuleBadCallProperties: " + CALLS.get() + " generated bad calls");
    }

    /** Null, closed and int32 inputs. */
    @Property(tries = 900)
    void badInputsAreRefused(@ForAll("kinds") Kind kind, @ForAll @IntRange(min = 0, max = 2) int how) {
        try (Module m = kind.make().get(); Scope s = Scope.open()) {
            Tensor x = switch (how) {
                case 0 -> null;
                case 1 -> {
                    Tensor t = Tensor.ones(kind.example());
                    t.close();
                    yield t;
                }
                default -> Tensor.ofInts(Device.cpu(), new int[(int) Arrays.stream(kind.example()).asLongStream().reduce(1, (p, q) -> p * q)],
                        kind.example());
            };
            if (how == 2 && kind.name().equals("Flatten")) {  // a reshape: any dtype is a valid input
                CALLS.incrementAndGet();
                Tensor y = (Tensor) kind.forward().apply(m, x);
                assertTrue(y.dtype() == DType.I32 && y.numel() == x.numel(), "Flatten of " + x + " gave " + y);
                return;
            }
            expectRefused(kind, new String[] {"null input", "closed input", "int32 input"}[how], () -> kind.forward().apply(m, x), null);
        }
    }

    /** Random shapes: the valid ones must run, every other one must be refused. */
    @Property(tries = 1500)
    void shapesAreRunOrRefused(@ForAll("kinds") Kind kind, @ForAll @Size(max = 5) List<@IntRange(min = 1, max = 5) Integer> dims,
                               @ForAll @IntRange(min = 0, max = 3) int mutate) {
        int[] shape;
        if (mutate == 0) {  // the example with one dimension changed: near misses are the interesting shapes
            shape = kind.example().clone();
            shape[dims.size() % shape.length] += 1 + dims.size();
        } else {
            shape = dims.stream().mapToInt(Integer::intValue).toArray();
        }
        try (Module m = kind.make().get(); Scope s = Scope.open()) {
            if (kind.name().equals("BatchNorm2d")) m.train();
            Tensor x = Tensor.ones(shape);
            if (kind.validShape().test(shape)) {
                Object out = kind.forward().apply(m, x);
                Tensor y = out instanceof Tensor t ? t : ((dev.kiln.ops.LstmOutput) out).output();
                for (float v : y.toFloatArray()) assertTrue(Float.isFinite(v), kind + " on " + Arrays.toString(shape) + " gave " + v);
            } else {
                expectRefused(kind, "on " + Arrays.toString(shape), () -> kind.forward().apply(m, x), null);
            }
        }
    }

    /** A closed module's parameters are closed tensors: forward names the op and the closed argument. */
    @Property(tries = 400)
    void aClosedModuleIsRefused(@ForAll("kinds") Kind kind) {
        Module m = kind.make().get();
        m.close();
        if (m.parameters().isEmpty() && m.namedBuffers().isEmpty()) return;  // nothing to close: still a valid module
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(kind.example());
            expectRefused(kind, "after close()", () -> kind.forward().apply(m, x), "closed");
        }
    }

    private static final int[] SIZES = {Integer.MIN_VALUE, -1, 0, Integer.MAX_VALUE};

    /**
     * Sizes that are negative, zero or overflowing: refused at construction (naming the module, or the allocation
     * that could not be made). Pairs of positive sizes are only ever (MAX, MAX), whose element count passes 2^62, so
     * nothing here allocates for real.
     */
    @Property(tries = 400)
    void impossibleSizesAreRefused(@ForAll @IntRange(min = 0, max = 5) int module, @ForAll @IntRange(min = 0, max = 3) int i,
                                   @ForAll @IntRange(min = 0, max = 3) int j) {
        int a = SIZES[i], b = SIZES[j];
        if (a > 0 && b > 0) b = a;  // (MAX, MAX)
        if (module == 3 && a >= 0) return;  // BatchNorm2d(0) is a valid empty module; (MAX) would really allocate 8 GiB
        final int fa = a, fb = b;
        Device cpu = Device.cpu();
        Generator g = new Generator(1);
        String[] names = {"Linear", "Conv2d", "Lstm", "BatchNorm2d", "Dropout", "Mlp"};
        String allowed = module == 5 ? "Mlp|Linear" : names[module];  // an Mlp's sizes are its Linear layers'
        Kind kind = new Kind(names[module], null, null, null, allowed + "|empty|shape|memory|allocat", null);
        expectRefused(kind, "sizes " + a + ", " + b, () -> {
            Module m = switch (module) {
                case 0 -> new Linear(fa, fb, cpu, g);
                case 1 -> new Conv2d(fa, fb, 3, cpu, g);
                case 2 -> new Lstm(fa, fb, cpu, g);
                case 3 -> new BatchNorm2d(fa, cpu);
                case 4 -> new Dropout(new float[] {Float.NaN, -0.5f, 1f, Float.POSITIVE_INFINITY}[i], g);
                default -> new Mlp(fa, fb, 3, cpu, g);
            };
            m.close();
        }, null);
    }

}
