package dev.kiln.internal;

import dev.kiln.Tensor;

import java.util.Objects;

/**
 * Binding of the fused LSTM layer (native/src/jni/jni_lstm.cpp), batch-first, shapes from {@link LstmDesc}:
 * x (n, t, f), h0/c0/hN/cN (n, h), y (n, t, h), wIh (4h, f), wHh (4h, h), bias (4h). The reserve is an f32 tensor
 * holding at least {@link #reserveSize} bytes. Not public API.
 */
public final class LstmNative {
    private LstmNative() {
    }

    static {
        NativeLibrary.bindAbi(LstmNative.class);
    }

    /** Bytes the forward keeps for the backward. */
    public static long reserveSize(LstmDesc d) {
        NativeLibrary.ensureLoaded();
        return reserveSize0(Objects.requireNonNull(d, "lstm: descriptor is null"));
    }

    /** h0, c0 may be null (zeros); reserve may be null (inference keeps nothing). */
    public static void forward(LstmDesc d, Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bias, Tensor y,
                               Tensor hN, Tensor cN, Tensor reserve) {
        Call c = new Call("lstm forward");
        long state = d.stateElements(), xa = c.f32("x", x, d.inputElements());
        long h0a = c.optionalF32("h0", h0, state), c0a = c.optionalF32("c0", c0, state);
        long wia = c.f32("w_ih", wIh, d.inputWeightElements()), wha = c.f32("w_hh", wHh, d.hiddenWeightElements());
        long ba = c.f32("bias", bias, d.biasElements()), ya = c.f32("y", y, d.sequenceElements());
        long hna = c.f32("h_n", hN, state), cna = c.f32("c_n", cN, state);
        long ra = c.optionalF32("reserve", reserve, Sizes.floatsFor(reserveSize(d)));
        c.flops(d.forwardFlops());
        kiln_lstm_forward_f32(c.context(), d, xa, h0a, c0a, wia, wha, ba, ya, hna, cna, ra);
        c.fence();
    }

    /** dhN, dcN may be null (zero); dx, dh0, dc0 may be null (not wanted); dwIh, dwHh, dbias are assigned. */
    public static void backward(LstmDesc d, Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor reserve,
                                Tensor dy, Tensor dhN, Tensor dcN, Tensor dx, Tensor dh0, Tensor dc0, Tensor dwIh,
                                Tensor dwHh, Tensor dbias) {
        Call c = new Call("lstm backward");
        long state = d.stateElements(), xa = c.f32("x", x, d.inputElements());
        long h0a = c.optionalF32("h0", h0, state), c0a = c.optionalF32("c0", c0, state);
        long wia = c.f32("w_ih", wIh, d.inputWeightElements()), wha = c.f32("w_hh", wHh, d.hiddenWeightElements());
        long ra = c.f32("reserve", reserve, Sizes.floatsFor(reserveSize(d))), dya = c.f32("dy", dy, d.sequenceElements());
        long dhna = c.optionalF32("dh_n", dhN, state), dcna = c.optionalF32("dc_n", dcN, state);
        long dxa = c.optionalF32("dx", dx, d.inputElements());
        long dh0a = c.optionalF32("dh0", dh0, state), dc0a = c.optionalF32("dc0", dc0, state);
        long dwia = c.f32("dw_ih", dwIh, d.inputWeightElements()), dwha = c.f32("dw_hh", dwHh, d.hiddenWeightElements());
        long dba = c.f32("dbias", dbias, d.biasElements());
        c.flops(d.backwardFlops(dx != null, dh0 != null));
        kiln_lstm_backward_f32(c.context(), d, xa, h0a, c0a, wia, wha, ra, dya, dhna, dcna, dxa, dh0a, dc0a, dwia, dwha, dba);
        c.fence();
    }

    // ---- natives: kiln_* bound to kiln.h by NativeLibrary.bindAbi; the rest by native/src/jni/jni_lstm.cpp ----------

    private static native long reserveSize0(LstmDesc d);
    private static native void kiln_lstm_forward_f32(long ctx, LstmDesc desc, long x, long h0, long c0, long wIh,
                                                     long wHh, long bias, long y, long hN, long cN, long reserve);
    private static native void kiln_lstm_backward_f32(long ctx, LstmDesc desc, long x, long h0, long c0, long wIh,
                                                      long wHh, long reserve, long dy, long dhN, long dcN, long dx,
                                                      long dh0, long dc0, long dwIh, long dwHh, long dbias);
}
