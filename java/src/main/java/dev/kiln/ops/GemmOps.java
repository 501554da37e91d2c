package dev.kiln.ops;

import dev.kiln.Tensor;
import dev.kiln.internal.ElementwiseNative;
import dev.kiln.internal.GemmNative;
import dev.kiln.internal.ReduceNative;

import java.util.Arrays;

/**
 * Matrix products on the GEMM kernels, forward and backward. Supported: (M, K) x (K, N); (..., M, K) x (K, N)
 * (leading dimensions folded into M: one GEMM); (B, M, K) x (B, K, N) (a strided batch). The flags transpose
 * the last two dimensions of a stored operand.
 */
final class GemmOps {
    private GemmOps() {
    }

    /** (M, K) x (K, N), (..., M, K) x (K, N), or batched (B, M, K) x (B, K, N). */
    @Op
    static Tensor matmul(Tensor a, Tensor b) {
        return matmul(a, b, false, false);
    }

    /** As {@link #matmul(Tensor, Tensor)} with the last two dimensions of a and/or b transposed. */
    @Op
    static Tensor matmul(Tensor a, Tensor b, boolean transA, boolean transB) {
        String op = "matmul";
        Checks.f32(op, "a", a);
        Checks.f32(op, "b", b);
        Checks.sameDevice(op, a, b);
        Checks.minRank(op, "a", a, 2);
        Checks.minRank(op, "b", b, 2);
        int[] as = a.shape(), bs = b.shape();
        int ar = as.length, br = bs.length;
        int rowsA = transA ? as[ar - 1] : as[ar - 2], ka = transA ? as[ar - 2] : as[ar - 1];
        int kb = transB ? bs[br - 1] : bs[br - 2], n = transB ? bs[br - 2] : bs[br - 1];
        long m = rowsA;
        if (ka != kb) {
            throw new IllegalArgumentException(op + ": inner dimensions differ: a " + Checks.shape(a) + (transA ? "^T" : "")
                    + " x b " + Checks.shape(b) + (transB ? "^T" : "") + " (" + ka + " vs " + kb + ")");
        }
        long batch;
        long strideA, strideB;
        int[] outShape;
        if (br == 2 && (ar == 2 || !transA)) {
            // Fold every leading dimension of a into M: one plain GEMM.
            batch = 1;
            for (int i = 0; i < ar - 2; i++) m *= as[i];
            strideA = strideB = 0;
            outShape = Arrays.copyOf(as, ar);
            outShape[ar - 1] = n;
            if (ar == 2) outShape[0] = rowsA;
        } else if (ar == 3 && br == 3 && as[0] == bs[0]) {
            batch = as[0];
            strideA = (long) as[1] * as[2];
            strideB = (long) bs[1] * bs[2];
            outShape = new int[] {as[0], rowsA, n};
        } else {
            throw new IllegalArgumentException(op + ": unsupported operand shapes a " + Checks.shape(a) + (transA ? "^T" : "")
                    + " and b " + Checks.shape(b) + (transB ? "^T" : "")
                    + "; supported: (M,K)x(K,N), (...,M,K)x(K,N) and (B,M,K)x(B,K,N)");
        }
        Tensor c = Tensor.empty(a.device(), outShape);
        gemm(a, transA, b, transB, c, m, n, ka, batch, strideA, strideB, 0f);
        return Autograd.record(op, c, dc -> backward(a, b, transA, transB, dc), a, b);
    }

    /** x (..., in) times weight (out, in) transposed, plus bias (out) if not null: the affine map of a Linear layer. */
    @Op
    static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        // Checked under linear's own names first: the matmul and add inside would name their operands 'a' and 'b'.
        Checks.f32("linear", "x", x);
        Checks.f32("linear", "weight", weight);
        if (bias != null) Checks.f32("linear", "bias", bias);
        Checks.minRank("linear", "x", x, 1);
        if (weight.rank() != 2 || weight.dim(1) != x.dim(-1)
                || (bias != null && (bias.rank() != 1 || bias.dim(0) != weight.dim(0)))) {
            throw new IllegalArgumentException("linear: expected x (..., in), weight (out, in) and bias (out,) or "
                    + "null, got x " + Checks.shape(x) + ", weight " + Checks.shape(weight)
                    + (bias == null ? "" : " and bias " + Checks.shape(bias)));
        }
        return bias == null ? matmul(x, weight, false, true) : linearWithBias(x, weight, bias);
    }

    /**
     * y = x W^T + bias as one recorded node: the bias is added in place on the product, and the backward is the two
     * products' gradients plus the bias's column sum. (matmul then add would also allocate the sum and, backward,
     * copy dy once more as the add's gradient for the product: a tenth of a small MLP's step.) Operands are checked
     * by {@link #linear}; bias is (out).
     */
    private static Tensor linearWithBias(Tensor x, Tensor weight, Tensor bias) {
        Tensor y;
        try (NoGrad off = Autograd.noGrad()) {
            y = matmul(x, weight, false, true);
        }
        long inner = weight.dim(0), outer = inner == 0 ? 0 : y.numel() / inner;
        if (outer > 0 && inner > 0) ElementwiseNative.binary(ElementwiseOps.ADD, y, inner, bias, 0, y, outer, inner);
        return Autograd.record("linear", y, dy -> {
            Tensor[] g = backward(x, weight, false, true, dy);
            Tensor db = null;
            if (Autograd.isTracked(bias)) {
                db = Tensor.empty(bias.device(), bias.shape());
                if (inner > 0) ReduceNative.sum(dy, db, 1, outer, inner, 1f);  // over every row: (1, outer, inner)
            }
            return new Tensor[] {g[0], g[1], db};
        }, x, weight, bias);
    }

    /** C = op(A) op(B) (+ beta C) over a strided batch; leading dimensions follow from the stored shapes. */
    private static void gemm(Tensor a, boolean ta, Tensor b, boolean tb, Tensor c, long m, long n, long k, long batch,
                             long strideA, long strideB, float beta) {
        // An empty result (a batch of 0, M = 0 or N = 0) has nothing to write, and its operands may hold nothing.
        if (c.numel() == 0) return;
        long lda = ta ? m : k, ldb = tb ? k : n;
        GemmNative.gemm(ta, tb, m, n, k, 1f, a, Math.max(lda, 1), strideA, b, Math.max(ldb, 1), strideB, beta,
                c, Math.max(n, 1), m * n, batch);
    }

    /**
     * With C = opA(A) opB(B): dA = dC opB(B)^T (stored transposed when transA), dB = opA(A)^T dC (likewise).
     * Each is one GEMM whose transposes are picked so no operand is ever materialized transposed.
     */
    private static Tensor[] backward(Tensor a, Tensor b, boolean transA, boolean transB, Tensor dc) {
        Tensor da = null, db = null;
        if (Autograd.isTracked(a)) {
            da = transA ? gradient(a, b, transB, dc, true) : gradient(a, dc, false, b, !transB);
        }
        if (Autograd.isTracked(b)) {
            if (b.rank() == 2 && a.rank() > 2) {
                // b was shared by every row of the folded a: view a and dC as 2-D and reduce over all rows at once.
                try (Tensor a2 = a.view(-1, a.dim(-1)); Tensor dc2 = dc.view(-1, dc.dim(-1))) {
                    db = transB ? gradient(b, dc2, true, a2, false) : gradient(b, a2, true, dc2, false);
                }
            } else {
                db = transB ? gradient(b, dc, true, a, transA) : gradient(b, a, !transA, dc, false);
            }
        }
        return new Tensor[] {da, db};
    }

    /**
     * The gradient of {@code target}, op(x) op(y): written straight into target's gradient buffer where it is one
     * 2-D product and autograd lets a backward do so ({@link Autograd#leafGradSink}; a layer's weight), and then
     * null; else a new tensor of target's shape.
     */
    private static Tensor gradient(Tensor target, Tensor x, boolean tx, Tensor y, boolean ty) {
        Autograd.LeafGrad sink = target.rank() == 2 && x.rank() == 2 && y.rank() == 2 ? Autograd.leafGradSink(target)
                : null;
        if (sink == null) return matmulRaw(x, tx, y, ty, target.shape());
        long m = target.dim(0), n = target.dim(1), k = tx ? x.dim(0) : x.dim(1);
        gemm(x, tx, y, ty, sink.buffer(), m, n, k, 1, 0, 0, sink.beta());
        return null;
    }

    /** An unrecorded product whose result has the given shape (the shape of the operand it is a gradient of). */
    private static Tensor matmulRaw(Tensor x, boolean tx, Tensor y, boolean ty, int[] resultShape) {
        int[] xs = x.shape(), ys = y.shape();
        int xr = xs.length, yr = ys.length;
        long m = tx ? xs[xr - 1] : xs[xr - 2], k = tx ? xs[xr - 2] : xs[xr - 1];
        long n = ty ? ys[yr - 2] : ys[yr - 1];
        Tensor out = Tensor.empty(x.device(), resultShape);
        if (yr == 2 && (xr == 2 || !tx)) {
            for (int i = 0; i < xr - 2; i++) m *= xs[i];  // leading dimensions fold into M
            gemm(x, tx, y, ty, out, m, n, k, 1, 0, 0, 0f);
        } else {
            gemm(x, tx, y, ty, out, m, n, k, xs[0], (long) xs[1] * xs[2], (long) ys[1] * ys[2], 0f);
        }
        return out;
    }
}
