package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.LstmDesc;
import dev.kiln.internal.LstmNative;

import java.util.List;

/** One batch-first LSTM layer as a single fused op: the whole sequence forward, full BPTT backward. */
final class LstmOps {
    /** The reserve's last dimension: 2^20 floats, so the row count fits in int for any reserve up to 8 PiB. */
    static final int RESERVE_ROW = 1 << 20;

    private LstmOps() {
    }

    /**
     * One batch-first LSTM layer over x (N, T, F): w_ih (4H, F), w_hh (4H, H), bias (4H), gates in the order
     * (i, f, g, o); h0, c0 (N, H) may be null (zeros). Gradients flow from the sequence and the final states.
     */
    @Op
    static LstmOutput lstm(Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bias) {
        String op = "lstm";
        Checks.f32(op, "x", x);
        Checks.f32(op, "w_hh", wHh);
        if (x.rank() != 3) throw new IllegalArgumentException(op + ": expected x (N, T, F), got " + Checks.shape(x));
        int n = x.dim(0), t = x.dim(1), f = x.dim(2);
        if (wHh.rank() != 2 || wHh.dim(0) % 4 != 0 || wHh.dim(1) * 4L != wHh.dim(0)) {
            throw new IllegalArgumentException(op + ": 'w_hh' must be (4H, H), got " + Checks.shape(wHh));
        }
        int h = wHh.dim(1);
        expect(op, "w_ih", wIh, 4 * h, f);
        expect(op, "bias", bias, 4 * h);
        if (h0 != null) expect(op, "h0", h0, n, h);
        if (c0 != null) expect(op, "c0", c0, n, h);
        for (Tensor p : new Tensor[] {wIh, wHh, bias, h0, c0}) if (p != null) Checks.sameDevice(op, x, p);
        LstmDesc desc = new LstmDesc(n, t, f, h);
        Tensor y = Tensor.empty(x.device(), n, t, h);
        Tensor hN = Tensor.empty(x.device(), n, h), cN = Tensor.empty(x.device(), n, h);
        boolean record = Autograd.shouldRecord(x, h0, c0, wIh, wHh, bias);
        // The reserve holds what BPTT needs; inference keeps nothing.
        Tensor reserve = record ? Tensor.empty(x.device(), reserveShape(LstmNative.reserveSize(desc))) : null;
        LstmNative.forward(desc, x, h0, c0, wIh, wHh, bias, y, hN, cN, reserve);
        Autograd.recordMulti(op, new Tensor[] {y, hN, cN}, g -> {
            Tensor dx = Autograd.isTracked(x) ? Tensor.empty(y.device(), n, t, f) : null;
            Tensor dh0 = h0 != null && Autograd.isTracked(h0) ? Tensor.empty(y.device(), n, h) : null;
            Tensor dc0 = c0 != null && Autograd.isTracked(c0) ? Tensor.empty(y.device(), n, h) : null;
            Tensor dwIh = Tensor.empty(y.device(), 4 * h, f);
            Tensor dwHh = Tensor.empty(y.device(), 4 * h, h);
            Tensor db = Tensor.empty(y.device(), 4 * h);
            Tensor dy = g[0] != null ? g[0] : Tensor.zeros(y.device(), n, t, h);
            LstmNative.backward(desc, x, h0, c0, wIh, wHh, reserve, dy, g[1], g[2], dx, dh0, dc0, dwIh, dwHh, db);
            return new Tensor[] {dx, dh0, dc0, dwIh, dwHh, db};
        }, x, h0, c0, wIh, wHh, bias);
        return new LstmOutput(y, List.of(hN), List.of(cN));
    }

    /**
     * An f32 shape holding at least {@code bytes}, every dimension an int: (floats) when that fits, else
     * (rows, RESERVE_ROW). The size stays a long throughout (24 n t h bytes passes 2^31 floats well within reach).
     */
    static int[] reserveShape(long bytes) {
        if (bytes < 0) throw new IllegalArgumentException("lstm: reserve size " + bytes + " is negative");
        long floats = bytes / Float.BYTES + (bytes % Float.BYTES == 0 ? 0 : 1);
        if (floats <= Integer.MAX_VALUE) return new int[] {(int) floats};
        long rows = (floats + RESERVE_ROW - 1) / RESERVE_ROW;
        if (rows > Integer.MAX_VALUE) throw new IllegalArgumentException("lstm: a reserve of " + bytes + " bytes is too large");
        return new int[] {(int) rows, RESERVE_ROW};
    }

    private static void expect(String op, String arg, Tensor t, int... shape) {
        if (t == null) throw new IllegalArgumentException(op + ": argument '" + arg + "' is null");
        Checks.f32(op, arg, t);
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(op + ": '" + arg + "' must be " + Checks.shape(shape) + ", got " + Checks.shape(t));
        }
    }
}
