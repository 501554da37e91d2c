package dev.kiln.profile;

import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.ops.AttentionOptions;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * One benchmark suite for every op family, through the public Java API: the same cases that {@code kiln bench}
 * times, that the JMH suite runs and that {@code bench/compare/op_suite.py} mirrors in PyTorch (by case name, with
 * the shapes written here). Shapes are the ones the reference models train with, plus a few large ones.
 *
 * <p>A case builds its inputs once on a device ({@link Case#prepare}); each run then computes the op (and, for
 * "fwd+bwd" cases, its backward) inside a {@link Scope}, so its temporaries are freed every time.
 */
public final class OpSuite {
    private OpSuite() {
    }

    /** One benchmark: {@code family} ("gemm"), {@code name} ("gemm 512x512x512"), the shape in words. */
    public record Case(String family, String name, String shape, Function<Device, Prepared> prepare) {
    }

    /** A case's inputs on a device: {@link #run()} once per timed iteration, then {@link #close()}. */
    public interface Prepared extends AutoCloseable {
        /** Computes the op once (and its backward, for a "fwd+bwd" case) inside its own scope. */
        void run();

        @Override
        void close();
    }

    /** Every case, grouped by family in the order of the list. */
    public static List<Case> all() {
        List<Case> c = new ArrayList<>();
        gemm(c);
        elementwise(c);
        reductions(c);
        losses(c);
        optimizers(c);
        conv2d(c);
        pooling(c);
        batchNorm(c);
        lstm(c);
        attention(c);
        normalization(c);
        sampling(c);
        transpose(c);
        return c;
    }

    /** The cases of the named families (comma-separated; null or "all" for every one). */
    public static List<Case> select(String families) {
        List<Case> all = all();
        if (families == null || families.isBlank() || families.equals("all")) return all;
        List<String> wanted = List.of(families.toLowerCase(Locale.ROOT).split(","));
        List<Case> out = new ArrayList<>();
        for (Case k : all) if (wanted.contains(k.family())) out.add(k);
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no benchmark family among '" + families + "'; families: " + families(all));
        }
        return out;
    }

    /** The family names, in order. */
    public static List<String> families(List<Case> cases) {
        List<String> out = new ArrayList<>();
        for (Case k : cases) if (!out.contains(k.family())) out.add(k.family());
        return out;
    }

    // ---- the families ---------------------------------------------------------------------------------------------

    private static void gemm(List<Case> c) {
        c.add(forward("gemm", "gemm 64x784x256", "x (64, 784) times W^T, W (256, 784): the MLP's first layer",
                m -> {
                    Tensor x = m.rand(64, 784), w = m.rand(256, 784);
                    return () -> Ops.matmul(x, w, false, true);
                }));
        c.add(forward("gemm", "gemm 4096x128x512", "h (4096, 512) times W^T, W (128, 512): a Transformer FFN's output "
                + "layer (N fits one B block: A is read in place)", m -> {
                    Tensor h = m.rand(4096, 512), w = m.rand(128, 512);
                    return () -> Ops.matmul(h, w, false, true);
                }));
        for (int n : new int[] {256, 512, 1024}) {
            c.add(forward("gemm", "gemm " + n + "x" + n + "x" + n, "square (" + n + ", " + n + ") x (" + n + ", " + n + ")",
                    m -> {
                        Tensor a = m.rand(n, n), b = m.rand(n, n);
                        return () -> Ops.matmul(a, b);
                    }));
        }
    }

    private static void elementwise(List<Case> c) {
        int n = 1 << 20;
        c.add(forward("elementwise", "relu 1M", "(1048576)", m -> {
            Tensor x = m.randn(n);
            return () -> Ops.relu(x);
        }));
        c.add(forward("elementwise", "add 1M", "(1048576) + (1048576)", m -> {
            Tensor x = m.randn(n), y = m.randn(n);
            return () -> Ops.add(x, y);
        }));
        c.add(forward("elementwise", "gelu 1M", "(1048576), erf form", m -> {
            Tensor x = m.randn(n);
            return () -> Ops.gelu(x);
        }));
    }

    private static void reductions(List<Case> c) {
        c.add(forward("reductions", "sum 1M", "(1048576) to a scalar", m -> {
            Tensor x = m.randn(1 << 20);
            return () -> Ops.sum(x);
        }));
        c.add(forward("reductions", "softmax 256x1000", "rows of (256, 1000)", m -> {
            Tensor x = m.randn(256, 1000);
            return () -> Ops.softmax(x);
        }));
    }

    private static void losses(List<Case> c) {
        c.add(trained("losses", "cross_entropy 256x1000 fwd+bwd", "logits (256, 1000), int labels", m -> {
            Tensor x = m.randn(256, 1000).requiresGrad();
            int[] labels = new int[256];
            for (int i = 0; i < labels.length; i++) labels[i] = (i * 37) % 1000;
            Tensor y = m.ints(labels, 256);
            return () -> Ops.crossEntropy(x, y);
        }));
        c.add(trained("losses", "bce_with_logits 128x784 fwd+bwd", "logits and targets (128, 784): the VAE's loss",
                m -> {
                    Tensor x = m.randn(128, 784).requiresGrad(), t = m.rand(128, 784);
                    return () -> Ops.bceWithLogits(x, t);
                }));
    }

    private static void optimizers(List<Case> c) {
        // The optimizer object on both sides (its checks and step count included), as a training loop calls it;
        // bench/compare/op_suite.py runs PyTorch's fused CPU Adam.
        c.add(forward("optimizers", "adam 1M", "one Adam.step() over (1048576) parameters", m -> {
            int n = 1 << 20;
            Tensor p = m.randn(n).requiresGrad();
            p.setGrad(m.randn(n));
            Adam adam = m.own(new Adam(List.of(p), 1e-3f));
            return () -> {
                adam.step();
                return p;
            };
        }));
    }

    private static void conv2d(List<Case> c) {
        c.add(forward("conv2d", "conv2d 64x1x28x28 k32 3x3", "the CNN's first layer, forward", m -> {
            Tensor x = m.randn(64, 1, 28, 28), w = m.randn(32, 1, 3, 3), b = m.randn(32);
            return () -> Ops.conv2d(x, w, b, 1, 0);
        }));
        c.add(forward("conv2d", "conv2d 64x32x13x13 k64 3x3", "the CNN's second layer, forward", m -> {
            Tensor x = m.randn(64, 32, 13, 13), w = m.randn(64, 32, 3, 3), b = m.randn(64);
            return () -> Ops.conv2d(x, w, b, 1, 0);
        }));
        c.add(trained("conv2d", "conv2d 64x32x13x13 k64 3x3 fwd+bwd", "the CNN's second layer, all three directions",
                m -> {
                    Tensor x = m.randn(64, 32, 13, 13).requiresGrad();
                    Tensor w = m.randn(64, 32, 3, 3).requiresGrad(), b = m.randn(64).requiresGrad();
                    return () -> Ops.conv2d(x, w, b, 1, 0);
                }));
        c.add(forward("conv2d", "conv2d 32x64x56x56 k64 3x3 pad 1", "a ResNet stage's layer, forward", m -> {
            Tensor x = m.randn(32, 64, 56, 56), w = m.randn(64, 64, 3, 3);
            return () -> Ops.conv2d(x, w, null, 1, 1);
        }));
    }

    private static void pooling(List<Case> c) {
        c.add(trained("pooling", "max_pool2d 64x32x26x26 2x2 fwd+bwd", "the CNN's first pooling", m -> {
            Tensor x = m.randn(64, 32, 26, 26).requiresGrad();
            return () -> Ops.maxPool2d(x, 2, 2, 0);
        }));
    }

    private static void batchNorm(List<Case> c) {
        c.add(trained("batch_norm", "batch_norm 64x32x26x26 fwd+bwd", "training statistics over (64, 32, 26, 26)",
                m -> {
                    Tensor x = m.randn(64, 32, 26, 26).requiresGrad();
                    Tensor gamma = m.ones(32).requiresGrad(), beta = m.zeros(32).requiresGrad();
                    return () -> Ops.batchNorm(x, gamma, beta, null, null, true, 0.1f, 1e-5f);
                }));
    }

    private static void lstm(List<Case> c) {
        for (int[] s : new int[][] {{64, 28, 28, 64}, {32, 100, 256, 256}}) {
            int n = s[0], t = s[1], f = s[2], h = s[3];
            String shape = "N=" + n + " T=" + t + " F=" + f + " H=" + h;
            c.add(forward("lstm", "lstm " + shape + " fwd", "one layer over x (N, T, F)", m -> lstmInputs(m, n, t, f, h, false)));
            c.add(trained("lstm", "lstm " + shape + " fwd+bwd", "one layer over x (N, T, F), gradients of x and weights",
                    m -> lstmInputs(m, n, t, f, h, true)));
        }
    }

    private static Step lstmInputs(Inputs m, int n, int t, int f, int h, boolean grad) {
        Tensor x = m.randn(n, t, f), wIh = m.normal(0.1f, 4 * h, f), wHh = m.normal(0.1f, 4 * h, h);
        Tensor b = m.zeros(4 * h);
        if (grad) {
            x.requiresGrad();
            wIh.requiresGrad();
            wHh.requiresGrad();
            b.requiresGrad();
        }
        return () -> Ops.lstm(x, null, null, wIh, wHh, b).output();
    }

    private static void attention(List<Case> c) {
        c.add(forward("attention", "attention 8x4x128x32 causal fwd", "q, k, v (N=8, H=4, T=128, D=32): the char LM's",
                m -> {
                    Tensor q = m.randn(8, 4, 128, 32), k = m.randn(8, 4, 128, 32), v = m.randn(8, 4, 128, 32);
                    return () -> Ops.attention(q, k, v, AttentionOptions.none().causal());
                }));
        c.add(trained("attention", "attention 8x4x128x32 causal fwd+bwd", "the same, with dq, dk, dv", m -> {
            Tensor q = m.randn(8, 4, 128, 32).requiresGrad(), k = m.randn(8, 4, 128, 32).requiresGrad();
            Tensor v = m.randn(8, 4, 128, 32).requiresGrad();
            return () -> Ops.attention(q, k, v, AttentionOptions.none().causal());
        }));
        c.add(forward("attention", "attention 4x8x1024x64 fwd", "q, k, v (N=4, H=8, T=1024, D=64), no mask", m -> {
            Tensor q = m.randn(4, 8, 1024, 64), k = m.randn(4, 8, 1024, 64), v = m.randn(4, 8, 1024, 64);
            return () -> Ops.attention(q, k, v, AttentionOptions.none());
        }));
    }

    private static void normalization(List<Case> c) {
        c.add(trained("layer_norm", "layer_norm 4096x128 fwd+bwd", "rows of (4096, 128): the Transformer's", m -> {
            Tensor x = m.randn(4096, 128).requiresGrad();
            Tensor gamma = m.ones(128).requiresGrad(), beta = m.zeros(128).requiresGrad();
            return () -> Ops.layerNorm(x, gamma, beta, 1e-5f);
        }));
    }

    private static void sampling(List<Case> c) {
        c.add(trained("sampling", "reparameterize 1M fwd+bwd", "mu, logvar (1024, 1024); eps drawn in the kernel",
                m -> {
                    Tensor mu = m.randn(1024, 1024).requiresGrad(), lv = m.normal(0.1f, 1024, 1024).requiresGrad();
                    Generator noise = new Generator(5);
                    return () -> Ops.reparameterize(mu, lv, noise);
                }));
        c.add(trained("sampling", "gaussian_kl 1M fwd+bwd", "mu, logvar (1024, 1024) to a scalar", m -> {
            Tensor mu = m.randn(1024, 1024).requiresGrad(), lv = m.normal(0.1f, 1024, 1024).requiresGrad();
            return () -> Ops.gaussianKl(mu, lv);
        }));
    }

    private static void transpose(List<Case> c) {
        c.add(forward("transpose", "transpose 1024x1024", "(1024, 1024) to (1024, 1024)^T: power-of-two rows", m -> {
            Tensor x = m.randn(1024, 1024);
            return () -> Ops.transpose(x, 0, 1);
        }));
        c.add(forward("transpose", "transpose 32x128x8x64 (1,2)", "(N, T, H, D) to (N, H, T, D): attention heads",
                m -> {
                    Tensor x = m.randn(32, 128, 8, 64);
                    return () -> Ops.transpose(x, 1, 2);
                }));
    }

    // ---- building blocks ------------------------------------------------------------------------------------------

    /** One op computed from the inputs a case made; its result is freed by the run's scope. */
    @FunctionalInterface
    private interface Step {
        Tensor compute();
    }

    @FunctionalInterface
    private interface Maker {
        Step make(Inputs inputs);
    }

    /**
     * Makes a case's inputs outside any scope (so no scope the caller opens or closes meanwhile can free them) and
     * closes them all, with their gradients, when the case closes.
     */
    private static final class Inputs implements AutoCloseable {
        private final Device device;
        private final Generator generator = new Generator(42);
        private final List<Tensor> made = new ArrayList<>();
        private final List<AutoCloseable> owned = new ArrayList<>();

        Inputs(Device device) {
            this.device = device;
        }

        Tensor rand(int... shape) {
            return keep(Scope.detached(() -> Tensor.rand(generator, device, shape)));
        }

        Tensor randn(int... shape) {
            return keep(Scope.detached(() -> Tensor.randn(generator, device, shape)));
        }

        Tensor normal(float std, int... shape) {
            return keep(Scope.detached(() -> Tensor.normal(generator, device, 0f, std, shape)));
        }

        Tensor zeros(int... shape) {
            return keep(Scope.detached(() -> Tensor.zeros(device, shape)));
        }

        Tensor ones(int... shape) {
            return keep(Scope.detached(() -> Tensor.ones(device, shape)));
        }

        Tensor ints(int[] data, int... shape) {
            return keep(Scope.detached(() -> Tensor.ofInts(device, data, shape)));
        }

        private Tensor keep(Tensor t) {
            made.add(t);
            return t;
        }

        /** Something else the case owns (an optimizer and its state), closed with the inputs. */
        <T extends AutoCloseable> T own(T resource) {
            owned.add(resource);
            return resource;
        }

        @Override
        public void close() {
            for (AutoCloseable r : owned) {
                try {
                    r.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing " + r + ": " + e.getMessage(), e);
                }
            }
            owned.clear();
            for (Tensor t : made) t.close();
            made.clear();
        }
    }

    /** A forward-only case: the op under no_grad. */
    private static Case forward(String family, String name, String shape, Maker maker) {
        return new Case(family, name, shape, device -> prepared(device, maker, false));
    }

    /** A training case: the op, then backward from the sum of its output into the inputs that require grad. */
    private static Case trained(String family, String name, String shape, Maker maker) {
        return new Case(family, name, shape, device -> prepared(device, maker, true));
    }

    private static Prepared prepared(Device device, Maker maker, boolean backward) {
        Inputs inputs = new Inputs(device);
        Step step;
        try {
            step = maker.make(inputs);
        } catch (RuntimeException e) {
            inputs.close();
            throw e;
        }
        return new Prepared() {
            @Override
            public void run() {
                try (Scope s = Scope.open()) {
                    if (!backward) {
                        try (NoGrad off = Autograd.noGrad()) {
                            step.compute();
                        }
                    } else {
                        Tensor out = step.compute();
                        (out.numel() == 1 ? out : Ops.sum(out)).backward();
                    }
                }
            }

            @Override
            public void close() {
                inputs.close();
            }
        };
    }
}
