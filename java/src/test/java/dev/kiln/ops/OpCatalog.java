// Every public op of Ops as data: its tensor arguments (message names, dtypes, optional or not), a valid call's shapes
// and how to call it; the property tests corrupt one argument of a valid call at a time.
package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Generator;
import dev.kiln.Tensor;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

final class OpCatalog {
    private OpCatalog() {
    }

    /**
     * A tensor argument. {@code name} is what the op's messages call it; {@code typed} says the op requires its dtype
     * (views and copies take any); {@code coupled} lists the dimensions that must agree with another argument, so
     * changing one of them makes the call invalid.
     */
    record Arg(String name, DType dtype, boolean optional, boolean typed, int[] coupled) {
        static Arg f32(String name, int... coupled) {
            return new Arg(name, DType.F32, false, true, coupled);
        }

        static Arg optional(String name, int... coupled) {
            return new Arg(name, DType.F32, true, true, coupled);
        }

        static Arg i32(String name, int... coupled) {
            return new Arg(name, DType.I32, false, true, coupled);
        }

        static Arg any(String name, int... coupled) {
            return new Arg(name, DType.F32, false, false, coupled);
        }
    }

    @FunctionalInterface
    interface Invoke {
        Object call(Tensor[] t);
    }

    /**
     * One op. {@code messageName} is how its messages start ("bias_add"); {@code shapes} gives a valid call's
     * shapes from three sizes in [2, 4] (never 1, so a changed dimension cannot turn into a broadcast).
     */
    record Spec(String name, String messageName, List<Arg> args, Function<int[], int[][]> shapes, Invoke invoke) {
        @Override
        public String toString() {
            return name;
        }
    }

    private static Spec spec(String name, String messageName, List<Arg> args, Function<int[], int[][]> shapes, Invoke invoke) {
        return new Spec(name, messageName, args, shapes, invoke);
    }

    private static int[] s(int... d) {
        return d;
    }

    static final List<Spec> ALL = build();

    private static List<Spec> build() {
        List<Spec> all = new ArrayList<>();
        // linear algebra
        all.add(spec("matmul", "matmul", List.of(Arg.f32("a", 1), Arg.f32("b", 0)),
                z -> new int[][] {s(z[0], z[1]), s(z[1], z[2])}, t -> Ops.matmul(t[0], t[1])));
        all.add(spec("matmul^T^T", "matmul", List.of(Arg.f32("a", 0), Arg.f32("b", 1)),
                z -> new int[][] {s(z[1], z[0]), s(z[2], z[1])}, t -> Ops.matmul(t[0], t[1], true, true)));
        all.add(spec("bmm", "matmul", List.of(Arg.f32("a", 0, 2), Arg.f32("b", 0, 1)),
                z -> new int[][] {s(z[0], z[1], z[2]), s(z[0], z[2], z[1])}, t -> Ops.matmul(t[0], t[1])));
        all.add(spec("linear", "linear", List.of(Arg.f32("x", 1), Arg.f32("weight", 0, 1), Arg.optional("bias", 0)),
                z -> new int[][] {s(z[0], z[1]), s(z[2], z[1]), s(z[2])}, t -> Ops.linear(t[0], t[1], t[2])));
        // elementwise
        for (String op : new String[] {"add", "sub", "mul", "div"}) {
            all.add(spec(op, op, List.of(Arg.f32("a", 0, 1), Arg.f32("b", 0, 1)),
                    z -> new int[][] {s(z[0], z[1]), s(z[0], z[1])}, t -> switch (op) {
                        case "add" -> Ops.add(t[0], t[1]);
                        case "sub" -> Ops.sub(t[0], t[1]);
                        case "mul" -> Ops.mul(t[0], t[1]);
                        default -> Ops.div(t[0], t[1]);
                    }));
        }
        all.add(spec("bias_add", "bias_add", List.of(Arg.f32("x", 1), Arg.f32("bias", 0)),
                z -> new int[][] {s(z[0], z[1]), s(z[1])}, t -> Ops.biasAdd(t[0], t[1])));
        Map<String, Invoke> unary = new java.util.LinkedHashMap<>();
        unary.put("scale", t -> Ops.scale(t[0], 2f));
        unary.put("neg", t -> Ops.neg(t[0]));
        unary.put("relu", t -> Ops.relu(t[0]));
        unary.put("leaky_relu", t -> Ops.leakyRelu(t[0], 0.1f));
        unary.put("tanh", t -> Ops.tanh(t[0]));
        unary.put("sigmoid", t -> Ops.sigmoid(t[0]));
        unary.put("gelu", t -> Ops.gelu(t[0]));
        unary.put("dropout", t -> Ops.dropout(t[0], 0.5f, new Generator(1), true));
        unary.put("sum", t -> Ops.sum(t[0]));
        unary.put("sum(axis)", t -> Ops.sum(t[0], 1));
        unary.put("mean", t -> Ops.mean(t[0]));
        unary.put("mean(axis)", t -> Ops.mean(t[0], 0));
        unary.put("max", t -> Ops.max(t[0]));
        unary.put("argmax", t -> Ops.argmax(t[0]));
        unary.put("softmax", t -> Ops.softmax(t[0]));
        unary.put("log_softmax", t -> Ops.logSoftmax(t[0]));
        unary.forEach((name, f) -> {
            String msg = name.startsWith("dropout") ? "dropout" : name.replace("(axis)", "");
            // scale and neg share the scale kernel; neg's messages say "scale"
            String message = name.equals("neg") ? "scale" : msg;
            all.add(spec(name, message, List.of(Arg.f32("x")), z -> new int[][] {s(z[0], z[1])}, f));
        });
        // losses
        all.add(spec("cross_entropy", "cross_entropy", List.of(Arg.f32("logits", 0), Arg.i32("labels", 0)),
                z -> new int[][] {s(z[0], z[1]), s(z[0])}, t -> Ops.crossEntropy(t[0], t[1])));
        all.add(spec("bce_with_logits", "bce_with_logits", List.of(Arg.f32("x", 0, 1), Arg.f32("target", 0, 1)),
                z -> new int[][] {s(z[0], z[1]), s(z[0], z[1])}, t -> Ops.bceWithLogits(t[0], t[1])));
        all.add(spec("mse", "mse", List.of(Arg.f32("x", 0, 1), Arg.f32("target", 0, 1)),
                z -> new int[][] {s(z[0], z[1]), s(z[0], z[1])}, t -> Ops.mse(t[0], t[1])));
        // convolution, pooling, normalization
        all.add(spec("conv2d", "conv2d", List.of(Arg.f32("x", 1), Arg.f32("weight", 0, 1), Arg.optional("bias", 0)),
                z -> new int[][] {s(z[0], z[1], 5, 6), s(z[2], z[1], 3, 3), s(z[2])},
                t -> Ops.conv2d(t[0], t[1], t[2], new int[] {1, 2}, new int[] {1, 0}, new int[] {1, 1})));
        all.add(spec("conv2d(s, p)", "conv2d", List.of(Arg.f32("x", 1), Arg.f32("weight", 1), Arg.optional("bias", 0)),
                z -> new int[][] {s(z[0], z[1], 5, 6), s(z[2], z[1], 3, 3), s(z[2])}, t -> Ops.conv2d(t[0], t[1], t[2], 1, 1)));
        all.add(spec("max_pool2d", "max_pool2d", List.of(Arg.f32("x")), z -> new int[][] {s(z[0], z[1], 4, 5)},
                t -> Ops.maxPool2d(t[0], 2, 2, 0)));
        all.add(spec("max_pool2d{h,w}", "max_pool2d", List.of(Arg.f32("x")), z -> new int[][] {s(z[0], z[1], 4, 5)},
                t -> Ops.maxPool2d(t[0], new int[] {2, 3}, new int[] {1, 2}, new int[] {1, 1})));
        all.add(spec("avg_pool2d", "avg_pool2d", List.of(Arg.f32("x")), z -> new int[][] {s(z[0], z[1], 4, 5)},
                t -> Ops.avgPool2d(t[0], 2, 2, 1, false)));
        all.add(spec("avg_pool2d{h,w}", "avg_pool2d", List.of(Arg.f32("x")), z -> new int[][] {s(z[0], z[1], 4, 5)},
                t -> Ops.avgPool2d(t[0], new int[] {2, 3}, new int[] {1, 2}, new int[] {1, 1}, true)));
        all.add(spec("batch_norm", "batch_norm", List.of(Arg.f32("x", 1), Arg.optional("gamma", 0), Arg.optional("beta", 0),
                        Arg.optional("running_mean", 0), Arg.optional("running_var", 0)),
                z -> new int[][] {s(z[0], z[1], 2, 3), s(z[1]), s(z[1]), s(z[1]), s(z[1])},
                t -> Ops.batchNorm(t[0], t[1], t[2], t[3], t[4], true, 0.1f, 1e-5f)));
        all.add(spec("batch_norm(eval)", "batch_norm", List.of(Arg.f32("x", 1), Arg.optional("gamma", 0), Arg.optional("beta", 0),
                        Arg.f32("running_mean", 0), Arg.f32("running_var", 0)),
                z -> new int[][] {s(z[0], z[1]), s(z[1]), s(z[1]), s(z[1]), s(z[1])},
                t -> Ops.batchNorm(t[0], t[1], t[2], t[3], t[4], false, 0.1f, 1e-5f)));
        // recurrent: h = z[2]
        all.add(spec("lstm", "lstm", List.of(Arg.f32("x", 0, 2), Arg.optional("h0", 0, 1), Arg.optional("c0", 0, 1),
                        Arg.f32("w_ih", 0, 1), Arg.f32("w_hh", 0, 1), Arg.f32("bias", 0)),
                z -> new int[][] {s(z[0], z[1], z[1] + 1), s(z[0], z[2]), s(z[0], z[2]), s(4 * z[2], z[1] + 1), s(4 * z[2], z[2]),
                        s(4 * z[2])},
                t -> Ops.lstm(t[0], t[1], t[2], t[3], t[4], t[5])));
        // shapes (any dtype)
        all.add(spec("reshape", "reshape", List.of(Arg.any("x")), z -> new int[][] {s(z[0], z[1])},
                t -> Ops.reshape(t[0], -1)));
        all.add(spec("view", "view", List.of(Arg.any("x")), z -> new int[][] {s(z[0], z[1])}, t -> Ops.view(t[0], 1, -1)));
        all.add(spec("detach", "detach", List.of(Arg.any("x")), z -> new int[][] {s(z[0], z[1])}, t -> Ops.detach(t[0])));
        all.add(spec("flatten", "flatten", List.of(Arg.any("x")), z -> new int[][] {s(z[0], z[1], z[2])}, t -> Ops.flatten(t[0])));
        // in place, not recorded
        all.add(spec("fill_", "fill_", List.of(Arg.f32("t")), z -> new int[][] {s(z[0], z[1])}, t -> Ops.fill_(t[0], 3f)));
        all.add(spec("copy_", "copy_", List.of(Arg.any("dst", 0, 1), Arg.any("src", 0, 1)),
                z -> new int[][] {s(z[0], z[1]), s(z[0], z[1])}, t -> Ops.copy_(t[0], t[1])));
        all.add(spec("axpy_", "axpy_", List.of(Arg.f32("x", 0, 1), Arg.f32("y", 0, 1)),
                z -> new int[][] {s(z[0], z[1]), s(z[0], z[1])}, t -> Ops.axpy_(0.5f, t[0], t[1])));
        all.add(spec("scale_", "scale_", List.of(Arg.f32("x")), z -> new int[][] {s(z[0], z[1])}, t -> Ops.scale_(t[0], 0.5f)));
        all.add(spec("uniform_", "uniform_", List.of(Arg.f32("t")), z -> new int[][] {s(z[0], z[1])},
                t -> Ops.uniform_(t[0], new Generator(3), -1f, 1f)));
        all.add(spec("normal_", "normal_", List.of(Arg.f32("t")), z -> new int[][] {s(z[0], z[1])},
                t -> Ops.normal_(t[0], new Generator(3), 0f, 1f)));
        all.add(spec("sgd_step_", "sgd_step_", List.of(Arg.f32("param", 0, 1), Arg.f32("grad", 0, 1), Arg.optional("velocity", 0, 1)),
                z -> new int[][] {s(z[0], z[1]), s(z[0], z[1]), s(z[0], z[1])}, t -> {
                    Ops.sgdStep_(t[0], t[1], t[2], 0.1f, t[2] == null ? 0f : 0.9f, 0f, false);
                    return t[0];
                }));
        all.add(spec("adam_step_", "adam_step_", List.of(Arg.f32("param", 0, 1), Arg.f32("grad", 0, 1), Arg.f32("m", 0, 1), Arg.f32("v", 0, 1)),
                z -> new int[][] {s(z[0], z[1]), s(z[0], z[1]), s(z[0], z[1]), s(z[0], z[1])}, t -> {
                    Ops.adamStep_(t[0], t[1], t[2], t[3], 1e-3f, 0.9f, 0.999f, 1e-8f, 0f, false, 0.1f, 0.001f);
                    return t[0];
                }));
        all.add(spec("sum_squares", "sum_squares", List.of(Arg.f32("tensors[0]"), Arg.f32("tensors[1]")),
                z -> new int[][] {s(z[0], z[1]), s(z[2])}, t -> Ops.sumSquares(Arrays.asList(t[0], t[1]))));
        return List.copyOf(all);
    }
}
