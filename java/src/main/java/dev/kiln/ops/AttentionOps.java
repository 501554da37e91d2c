package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Generator;
import dev.kiln.Tensor;
import dev.kiln.internal.AttentionDesc;
import dev.kiln.internal.AttentionNative;

import java.util.Arrays;

/**
 * Fused scaled dot-product attention in three layouts, one kernel each way: heads-major q, k, v; the packed QKV
 * projection of self-attention; and queries against a packed key/value tensor (cross-attention, or a decoder's
 * key/value cache). The forward keeps only each query's log-sum-exp; the backward recomputes the weights from it and
 * regenerates the dropout mask from the (seed, offset) the forward reserved, so no (T, S) matrix is ever stored.
 */
final class AttentionOps {
    private AttentionOps() {
    }

    private static final int MAX_HEAD_DIM = 128;

    /** One operand inside its tensor: the element offset of its (0, 0, 0, 0) element and strides {batch, head, token}. */
    private record Place(Tensor t, long at, long strideBatch, long strideHead, long strideToken) {
        Place in(Tensor other) {
            return new Place(other, at, strideBatch, strideHead, strideToken);
        }
    }

    /** Sizes of a call: batch, heads, queries, keys, head dimension. */
    private record Dims(int n, int h, int t, int s, int d) {
        long weights() {
            return (long) n * h * t * s;
        }

        boolean empty() {
            return (long) n * h * t == 0 || s == 0;
        }
    }

    /** The gradients of one backward: the tensors handed to the tape (per input) and where dq, dk, dv sit in them. */
    private record Grads(Tensor[] perInput, Place dq, Place dk, Place dv) {
    }

    @FunctionalInterface
    private interface GradLayout {
        Grads allocate(Device device, DType dtype);
    }

    // ---- the three layouts ----------------------------------------------------------------------------------------

    /**
     * Fused scaled dot-product attention, softmax(scale q k^T + mask) v per batch and head, with the options' causal
     * mask, key lengths and dropout: q (N, H, T, D), k and v (N, H, S, D), f32 or bf16 alike -> (N, H, T, D). The
     * (T, S) weights are never stored: the backward rebuilds them from each query's log-sum-exp.
     */
    @Op
    static Tensor attention(Tensor q, Tensor k, Tensor v, AttentionOptions options) {
        String op = "attention";
        operands(op, new String[] {"q", "k", "v"}, q, k, v);
        if (q.rank() != 4 || k.rank() != 4 || v.rank() != 4 || q.dim(0) != k.dim(0) || q.dim(1) != k.dim(1)
                || q.dim(3) != k.dim(3) || !Arrays.equals(k.shape(), v.shape())) {
            throw new IllegalArgumentException(op + ": expected q (N, H, T, D), k and v (N, H, S, D), got q " + Checks.shape(q)
                    + ", k " + Checks.shape(k) + ", v " + Checks.shape(v));
        }
        Dims x = new Dims(q.dim(0), q.dim(1), q.dim(2), k.dim(2), q.dim(3));
        Place qp = heads(q, x.t, x), kp = heads(k, x.s, x), vp = heads(v, x.s, x);
        GradLayout grads = (device, dtype) -> {
            Tensor dq = Autograd.isTracked(q) ? Tensor.empty(device, dtype, q.shape()) : null;
            Tensor dk = Autograd.isTracked(k) ? Tensor.empty(device, dtype, k.shape()) : null;
            Tensor dv = Autograd.isTracked(v) ? Tensor.empty(device, dtype, v.shape()) : null;
            return new Grads(new Tensor[] {dq, dk, dv}, qp.in(dq), kp.in(dk), vp.in(dv));
        };
        return run(op, x, qp, kp, vp, heads(null, x.t, x), q.shape(), options, grads, q, k, v);
    }

    /**
     * Self-attention over the packed output of a fused QKV projection, qkv (N, T, 3, H, D), read in place ->
     * (N, T, H, D), token-major for the output projection. The backward writes one gradient for qkv.
     */
    @Op
    static Tensor selfAttention(Tensor qkv, AttentionOptions options) {
        String op = "self_attention";
        operands(op, new String[] {"qkv"}, qkv);
        if (qkv.rank() != 5 || qkv.dim(2) != 3) {
            throw new IllegalArgumentException(op + ": expected qkv (N, T, 3, H, D), got " + Checks.shape(qkv));
        }
        int n = qkv.dim(0), t = qkv.dim(1), h = qkv.dim(3), d = qkv.dim(4);
        Dims x = new Dims(n, h, t, t, d);
        long hd = (long) h * d, token = 3 * hd;
        Place qp = new Place(qkv, 0, t * token, d, token), kp = new Place(qkv, hd, t * token, d, token),
                vp = new Place(qkv, 2 * hd, t * token, d, token);
        GradLayout grads = (device, dtype) -> {
            Tensor dqkv = Tensor.empty(device, dtype, qkv.shape());
            return new Grads(new Tensor[] {dqkv}, qp.in(dqkv), kp.in(dqkv), vp.in(dqkv));
        };
        return run(op, x, qp, kp, vp, tokens(x), new int[] {n, t, h, d}, options, grads, qkv);
    }

    /**
     * Queries q (N, T, H, D) against packed keys and values kv (N, S, 2, H, D) -> (N, T, H, D): cross-attention, or
     * one decoding step against a key/value cache of capacity S with the filled length in the options' key lengths
     * (tiles of keys past every length are skipped, so a step costs O(length)).
     */
    @Op
    static Tensor crossAttention(Tensor q, Tensor kv, AttentionOptions options) {
        String op = "cross_attention";
        operands(op, new String[] {"q", "kv"}, q, kv);
        if (q.rank() != 4 || kv.rank() != 5 || kv.dim(2) != 2 || q.dim(0) != kv.dim(0) || q.dim(2) != kv.dim(3)
                || q.dim(3) != kv.dim(4)) {
            throw new IllegalArgumentException(op + ": expected q (N, T, H, D) and kv (N, S, 2, H, D), got q "
                    + Checks.shape(q) + " and kv " + Checks.shape(kv));
        }
        int n = q.dim(0), t = q.dim(1), h = q.dim(2), d = q.dim(3), s = kv.dim(1);
        Dims x = new Dims(n, h, t, s, d);
        long hd = (long) h * d, kvToken = 2 * hd;
        Place qp = tokens(x).in(q);
        Place kp = new Place(kv, 0, s * kvToken, d, kvToken), vp = new Place(kv, hd, s * kvToken, d, kvToken);
        GradLayout grads = (device, dtype) -> {
            Tensor dq = Autograd.isTracked(q) ? Tensor.empty(device, dtype, q.shape()) : null;
            Tensor dkv = Autograd.isTracked(kv) ? Tensor.empty(device, dtype, kv.shape()) : null;
            return new Grads(new Tensor[] {dq, dkv}, qp.in(dq), kp.in(dkv), vp.in(dkv));
        };
        return run(op, x, qp, kp, vp, tokens(x), new int[] {n, t, h, d}, options, grads, q, kv);
    }

    // ---- the one path ----------------------------------------------------------------------------------------------

    private static Tensor run(String op, Dims x, Place q, Place k, Place v, Place o, int[] outShape, AttentionOptions options,
                              GradLayout gradLayout, Tensor... inputs) {
        if (options == null) throw new IllegalArgumentException(op + ": options are null (use AttentionOptions.none())");
        if (x.d < 1 || x.d > MAX_HEAD_DIM) {
            throw new IllegalArgumentException(op + ": head dimension D must be in [1, " + MAX_HEAD_DIM + "], got " + x.d);
        }
        Tensor lengths = options.keyLengths();
        Device device = inputs[0].device();
        DType dtype = inputs[0].dtype();
        if (lengths != null) {
            Checks.open(op, "keyLengths", lengths);
            if (lengths.dtype() != DType.I32 || lengths.rank() != 1 || lengths.dim(0) != x.n) {
                throw new IllegalArgumentException(op + ": keyLengths must be an i32 tensor (" + x.n + ",), got " + lengths);
            }
            Checks.sameDevice(op, inputs[0], lengths);
        }
        float scale = Float.isNaN(options.scale()) ? (float) (1.0 / Math.sqrt(x.d)) : options.scale();
        long seed = 0, offset = 0;
        if (options.dropout() > 0f) {
            Generator g = options.generator();
            seed = g.seed();
            offset = g.reserve(x.weights());  // ceil(N H T S / 4) counters: one Philox word per weight
        }
        AttentionDesc desc = new AttentionDesc(x.n, x.h, x.t, x.s, x.d, q.strideBatch, q.strideHead, q.strideToken,
                k.strideBatch, k.strideHead, k.strideToken, v.strideBatch, v.strideHead, v.strideToken, o.strideBatch,
                o.strideHead, o.strideToken, scale, options.isCausal(), options.dropout(), seed, offset);

        Tensor out, lse = null;
        if (x.empty()) {  // no keys (or no queries): every query sees nothing, so outputs 0 (the C ABI does nothing)
            out = zeros(device, dtype, outShape);
        } else {
            out = Tensor.empty(device, dtype, outShape);
            // Inference keeps no lse: only a recorded forward has a backward to read it.
            if (Autograd.shouldRecord(inputs)) lse = Tensor.empty(device, x.n, x.h, x.t);
            AttentionNative.forward(desc, q.t, q.at, k.t, k.at, v.t, v.at, lengths, out, lse);
        }
        Tensor saved = out, savedLse = lse;
        return Autograd.record(op, out, dout -> {
            if (dout.dtype() != dtype) {
                throw new IllegalStateException(op + ": the gradient of a " + dtype + " output must be " + dtype + ", got "
                        + dout);
            }
            Grads g = gradLayout.allocate(dout.device(), dtype);
            if (x.empty()) {
                for (Tensor t : g.perInput) if (t != null) zeroFill(t);
                return g.perInput;
            }
            AttentionNative.backward(desc, q.t, q.at, k.t, k.at, v.t, v.at, saved, dout, savedLse, lengths,
                    g.dq.t, g.dq.at, g.dk.t, g.dk.at, g.dv.t, g.dv.at);
            return g.perInput;
        }, inputs);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------------

    /** Every operand open, f32 or bf16 alike, on one device. */
    private static void operands(String op, String[] names, Tensor... ts) {
        for (int i = 0; i < ts.length; i++) Checks.open(op, names[i], ts[i]);
        DType dtype = ts[0].dtype();
        if (dtype != DType.F32 && dtype != DType.BF16) {
            throw new IllegalArgumentException(op + ": '" + names[0] + "' must be f32 or bf16, got " + ts[0]);
        }
        for (int i = 1; i < ts.length; i++) {
            if (ts[i].dtype() != dtype) {
                throw new IllegalArgumentException(op + ": all operands must share one dtype, got '" + names[0] + "' "
                        + ts[0] + " and '" + names[i] + "' " + ts[i]);
            }
            Checks.sameDevice(op, ts[0], ts[i]);
        }
    }

    /** Contiguous (N, H, len, D). */
    private static Place heads(Tensor t, int len, Dims x) {
        return new Place(t, 0, (long) x.h * len * x.d, (long) len * x.d, x.d);
    }

    /** Token-major (N, T, H, D): the layout of the output projection's input. */
    private static Place tokens(Dims x) {
        long hd = (long) x.h * x.d;
        return new Place(null, 0, x.t * hd, x.d, hd);
    }

    private static Tensor zeros(Device device, DType dtype, int[] shape) {
        Tensor z = Tensor.zeros(device, shape);
        return dtype == DType.F32 ? z : z.to(dtype);
    }

    private static void zeroFill(Tensor t) {
        if (t.dtype() == DType.F32) Ops.fill_(t, 0f);
        else Ops.copy_(t, Tensor.zeros(t.device(), t.shape()).to(t.dtype()));
    }
}
