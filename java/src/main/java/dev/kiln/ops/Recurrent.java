package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.Native;

/** One batch-first LSTM layer as a single fused op: the whole sequence forward, full BPTT backward. */
final class Recurrent {
    private Recurrent() {
    }

    static LstmOutput lstm(Tensor x, Tensor h0, Tensor c0, Tensor wIh, Tensor wHh, Tensor bias) {
        String op = "lstm";
        Checks.f32(op, "x", x);
        if (x.rank() != 3) throw new IllegalArgumentException(op + ": expected x (N, T, F), got " + Checks.shape(x));
        int n = x.dim(0), t = x.dim(1), f = x.dim(2);
        if (wHh == null || wHh.rank() != 2 || wHh.dim(0) % 4 != 0 || wHh.dim(1) * 4 != wHh.dim(0)) {
            throw new IllegalArgumentException(op + ": w_hh must be (4H, H), got " + (wHh == null ? "null" : Checks.shape(wHh)));
        }
        int h = wHh.dim(1);
        expect(op, "w_ih", wIh, 4 * h, f);
        expect(op, "bias", bias, 4 * h);
        if (h0 != null) expect(op, "h0", h0, n, h);
        if (c0 != null) expect(op, "c0", c0, n, h);
        for (Tensor p : new Tensor[] {wIh, wHh, bias, h0, c0}) if (p != null) Checks.sameDevice(op, x, p);
        long[] desc = {n, t, f, h};
        Tensor y = Tensor.empty(x.device(), n, t, h);
        Tensor hN = Tensor.empty(x.device(), n, h), cN = Tensor.empty(x.device(), n, h);
        boolean record = Autograd.shouldRecord(x, h0, c0, wIh, wHh, bias);
        // The reserve holds what BPTT needs; inference keeps nothing.
        Tensor reserve = record ? Tensor.empty(x.device(), (int) ((Native.lstmReserveSize(desc) + 3) / 4)) : null;
        Native.lstmForward(Checks.ctx(y), desc, x.address(), addr(h0), addr(c0), wIh.address(), wHh.address(),
                bias.address(), y.address(), hN.address(), cN.address(), addr(reserve));
        Autograd.recordMulti(op, new Tensor[] {y, hN, cN}, g -> {
            Tensor dx = Autograd.isTracked(x) ? Tensor.empty(x.device(), x.shape()) : null;
            Tensor dh0 = h0 != null && Autograd.isTracked(h0) ? Tensor.empty(x.device(), n, h) : null;
            Tensor dc0 = c0 != null && Autograd.isTracked(c0) ? Tensor.empty(x.device(), n, h) : null;
            Tensor dwIh = Tensor.empty(x.device(), wIh.shape());
            Tensor dwHh = Tensor.empty(x.device(), wHh.shape());
            Tensor db = Tensor.empty(x.device(), bias.shape());
            Tensor dy = g[0] != null ? g[0] : Tensor.zeros(x.device(), n, t, h);
            Native.lstmBackward(Checks.ctx(dy), desc, x.address(), addr(h0), addr(c0), wIh.address(), wHh.address(),
                    reserve.address(), dy.address(), addr(g[1]), addr(g[2]), addr(dx), addr(dh0), addr(dc0),
                    dwIh.address(), dwHh.address(), db.address());
            return new Tensor[] {dx, dh0, dc0, dwIh, dwHh, db};
        }, x, h0, c0, wIh, wHh, bias);
        return new LstmOutput(y, hN, cN);
    }

    private static long addr(Tensor t) {
        return t == null ? 0 : t.address();
    }

    private static void expect(String op, String arg, Tensor t, int... shape) {
        if (t == null) throw new IllegalArgumentException(op + ": argument '" + arg + "' is null");
        Checks.f32(op, arg, t);
        if (!java.util.Arrays.equals(t.shape(), shape)) {
            throw new IllegalArgumentException(op + ": '" + arg + "' must be " + Checks.shape(shape) + ", got " + Checks.shape(t));
        }
    }
}
