package dev.kiln.internal;

import dev.kiln.DType;
import dev.kiln.Tensor;

import java.util.Objects;

/**
 * Binding of fused attention (bound to kiln.h by NativeLibrary.bindAbi), fp32 or bf16 by the dtype of q. Each operand
 * is a tensor and the element offset of its first element in it, at the strides of {@link AttentionDesc}: q, k and v
 * may be three views of one packed (batch, T, 3, heads, headDim) tensor, and so may dq, dk and dv. Every tensor is
 * checked to hold the elements its strides reach from its offset. lse (batch, heads, qLen) is fp32 in both precisions;
 * kvLengths is an int32 (batch) tensor or null. Not public API.
 */
public final class AttentionNative {
    private AttentionNative() {
    }

    static {
        NativeLibrary.bindAbi(AttentionNative.class);
    }


    /** o (and lse unless null) from q, k, v. */
    public static void forward(AttentionDesc d, Tensor q, long qAt, Tensor k, long kAt, Tensor v, long vAt,
                               Tensor kvLengths, Tensor o, Tensor lse) {
        Objects.requireNonNull(d, "attention: descriptor is null");
        boolean bf16 = q != null && q.dtype() == DType.BF16;
        Call c = new Call(bf16 ? "attention forward (bf16)" : "attention forward");
        DType dt = bf16 ? DType.BF16 : DType.F32;
        long qa = operand(c, "q", q, qAt, d.qSpan(), dt), ka = operand(c, "k", k, kAt, d.kSpan(), dt);
        long va = operand(c, "v", v, vAt, d.vSpan(), dt);
        long la = kvLengths == null ? 0 : c.i32("kv_lengths", kvLengths, d.batch());
        long oa = operand(c, "o", o, 0, d.oSpan(), dt);
        long lsea = c.optionalF32("lse", lse, d.lseElements());
        c.flops(2 * d.matmulFlops());  // Q K^T and P V
        if (bf16) kiln_attention_forward_bf16(c.context(), d, qa, ka, va, la, oa, lsea);
        else kiln_attention_forward_f32(c.context(), d, qa, ka, va, la, oa, lsea);
        c.fence();
    }

    /**
     * dq, dk, dv (each may be null: not wanted; assigned, at the strides of q, k, v from their offsets) from dout at
     * o's strides, with the forward's o and lse.
     */
    public static void backward(AttentionDesc d, Tensor q, long qAt, Tensor k, long kAt, Tensor v, long vAt,
                                Tensor o, Tensor dout, Tensor lse, Tensor kvLengths, Tensor dq, long dqAt, Tensor dk,
                                long dkAt, Tensor dv, long dvAt) {
        Objects.requireNonNull(d, "attention backward: descriptor is null");
        boolean bf16 = q != null && q.dtype() == DType.BF16;
        Call c = new Call(bf16 ? "attention backward (bf16)" : "attention backward");
        DType dt = bf16 ? DType.BF16 : DType.F32;
        long qa = operand(c, "q", q, qAt, d.qSpan(), dt), ka = operand(c, "k", k, kAt, d.kSpan(), dt);
        long va = operand(c, "v", v, vAt, d.vSpan(), dt);
        long oa = operand(c, "o", o, 0, d.oSpan(), dt), da = operand(c, "dout", dout, 0, d.oSpan(), dt);
        long lsea = c.f32("lse", lse, d.lseElements());
        long la = kvLengths == null ? 0 : c.i32("kv_lengths", kvLengths, d.batch());
        long dqa = dq == null ? 0 : operand(c, "dq", dq, dqAt, d.qSpan(), dt);
        long dka = dk == null ? 0 : operand(c, "dk", dk, dkAt, d.kSpan(), dt);
        long dva = dv == null ? 0 : operand(c, "dv", dv, dvAt, d.vSpan(), dt);
        c.flops(5 * d.matmulFlops());  // Q K^T again, then dV, dP, dQ and dK
        if (bf16) kiln_attention_backward_bf16(c.context(), d, qa, ka, va, oa, da, lsea, la, dqa, dka, dva);
        else kiln_attention_backward_f32(c.context(), d, qa, ka, va, oa, da, lsea, la, dqa, dka, dva);
        c.fence();
    }

    /** The address of element {@code at} of {@code t}, after checking t holds at + span elements. */
    private static long operand(Call c, String arg, Tensor t, long at, long span, DType dtype) {
        if (at < 0) throw new IllegalArgumentException("attention: argument '" + arg + "' has a negative offset " + at);
        if (span > Long.MAX_VALUE - at) {
            throw new IllegalArgumentException("attention: argument '" + arg + "' would span past int64");
        }
        long base = c.arg(arg, t, dtype, span == 0 ? 0 : at + span);
        return span == 0 ? base : base + at * dtype.bytes();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_attention_forward_f32(long ctx, AttentionDesc desc, long q, long k, long v,
                                                          long kvLengths, long o, long lse);
    private static native void kiln_attention_backward_f32(long ctx, AttentionDesc desc, long q, long k, long v, long o,
                                                           long dout, long lse, long kvLengths, long dq, long dk,
                                                           long dv);
    private static native void kiln_attention_forward_bf16(long ctx, AttentionDesc desc, long q, long k, long v,
                                                           long kvLengths, long o, long lse);
    private static native void kiln_attention_backward_bf16(long ctx, AttentionDesc desc, long q, long k, long v,
                                                            long o, long dout, long lse, long kvLengths, long dq,
                                                            long dk, long dv);
}
