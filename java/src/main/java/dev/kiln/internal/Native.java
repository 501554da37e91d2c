package dev.kiln.internal;

import dev.kiln.DeviceInfo;
import dev.kiln.KilnNativeLoadException;

/**
 * The JNI binding: one private static native per C ABI entry point (registered by JNI_OnLoad), each behind a
 * public wrapper that checks its arguments, so that nothing invalid ever crosses into native code. Native failures
 * arrive as exceptions thrown by the glue: {@link IllegalArgumentException} for bad input, {@code KilnException}
 * and its subclasses for the rest. Not public API: use {@code dev.kiln}.
 */
public final class Native {
    /** Device kinds as the C ABI numbers them. */
    public static final int DEVICE_CPU = 0;
    public static final int DEVICE_CUDA = 1;

    private static final KilnNativeLoadException LOAD_FAILURE = NativeLoader.tryLoad();

    private Native() {
    }

    /** Throws the load failure, if loading failed; every entry that does not take a context handle calls it. */
    public static void ensureLoaded() {
        if (LOAD_FAILURE != null) throw new KilnNativeLoadException(LOAD_FAILURE.getMessage(), LOAD_FAILURE);
    }

    // ---- library ----------------------------------------------------------------------------------------------

    public static String buildInfo() {
        ensureLoaded();
        return buildInfo0();
    }

    public static int abiVersion() {
        ensureLoaded();
        return abiVersion0();
    }

    /** Crosses into the library and back doing nothing: the floor of every native call's cost. */
    public static void noop() {
        noop0();
    }

    // ---- devices ----------------------------------------------------------------------------------------------

    /** Number of CUDA devices; {@code reasonOut[0]} receives why there are none (or ""). */
    public static int cudaDeviceCount(String[] reasonOut) {
        ensureLoaded();
        if (reasonOut != null && reasonOut.length < 1) throw new IllegalArgumentException("cudaDeviceCount: reasonOut must have length >= 1");
        return cudaDeviceCount0(reasonOut);
    }

    public static DeviceInfo deviceProperties(int kind, int index) {
        ensureLoaded();
        checkKind("deviceProperties", kind);
        return deviceProperties0(kind, index);
    }

    // ---- contexts ---------------------------------------------------------------------------------------------

    public static long contextCreate(int kind, int index) {
        ensureLoaded();
        checkKind("contextCreate", kind);
        return contextCreate0(kind, index);
    }

    public static void contextDestroy(long ctx) {
        checkContext("contextDestroy", ctx);
        contextDestroy0(ctx);
    }

    public static void synchronize(long ctx) {
        checkContext("synchronize", ctx);
        synchronize0(ctx);
    }

    // ---- memory -----------------------------------------------------------------------------------------------

    public static long alloc(long ctx, long bytes) {
        checkContext("alloc", ctx);
        if (bytes < 0) throw new IllegalArgumentException("alloc: bytes must be >= 0, got " + bytes);
        return alloc0(ctx, bytes);
    }

    public static void free(long ctx, long ptr) {
        checkContext("free", ctx);
        free0(ctx, ptr);
    }

    /** Allocator counters in {@link dev.kiln.MemoryStats} order. */
    public static long[] memoryStats(long ctx) {
        checkContext("memoryStats", ctx);
        long[] out = new long[7];
        memoryStats0(ctx, out);
        return out;
    }

    public static void emptyCache(long ctx) {
        checkContext("emptyCache", ctx);
        emptyCache0(ctx);
    }

    // ---- copies -----------------------------------------------------------------------------------------------

    /** Copies {@code src[offset, offset+count)} into the device buffer at {@code dst}. */
    public static void copyFromArray(long ctx, long dst, float[] src, int offset, int count) {
        checkContext("copyFromArray", ctx);
        checkArrayRange("copyFromArray", src, offset, count);
        checkData("copyFromArray", "dst", dst, count);
        copyFromArray0(ctx, dst, src, offset, count);
    }

    /** Copies {@code count} floats from the device buffer at {@code src} into {@code dst[offset, offset+count)}. */
    public static void copyToArray(long ctx, long src, float[] dst, int offset, int count) {
        checkContext("copyToArray", ctx);
        checkArrayRange("copyToArray", dst, offset, count);
        checkData("copyToArray", "src", src, count);
        copyToArray0(ctx, src, dst, offset, count);
    }

    public static void copyToDevice(long ctx, long dst, long hostSrc, long bytes) {
        checkCopy("copyToDevice", ctx, dst, hostSrc, bytes);
        copyToDevice0(ctx, dst, hostSrc, bytes);
    }

    public static void copyToHost(long ctx, long hostDst, long src, long bytes) {
        checkCopy("copyToHost", ctx, hostDst, src, bytes);
        copyToHost0(ctx, hostDst, src, bytes);
    }

    public static void copyDevice(long ctx, long dst, long src, long bytes) {
        checkCopy("copyDevice", ctx, dst, src, bytes);
        copyDevice0(ctx, dst, src, bytes);
    }

    // ---- fill and random --------------------------------------------------------------------------------------

    public static void fill(long ctx, long y, long n, float value) {
        checkContext("fill", ctx);
        checkData("fill", "y", y, n);
        fill0(ctx, y, n, value);
    }

    public static void randUniform(long ctx, long y, long n, long seed, long offset, float lo, float hi) {
        checkContext("randUniform", ctx);
        checkData("randUniform", "y", y, n);
        randUniform0(ctx, y, n, seed, offset, lo, hi);
    }

    public static void randNormal(long ctx, long y, long n, long seed, long offset, float mean, float std) {
        checkContext("randNormal", ctx);
        checkData("randNormal", "y", y, n);
        randNormal0(ctx, y, n, seed, offset, mean, std);
    }


    /** Copies {@code src[offset, offset+count)} into the int32 device buffer at {@code dst}. */
    public static void copyFromIntArray(long ctx, long dst, int[] src, int offset, int count) {
        checkContext("copyFromIntArray", ctx);
        if (src == null) throw new IllegalArgumentException("copyFromIntArray: array is null");
        checkRange("copyFromIntArray", src.length, offset, count);
        checkData("copyFromIntArray", "dst", dst, count);
        copyFromIntArray0(ctx, dst, src, offset, count);
    }

    public static void copyToIntArray(long ctx, long src, int[] dst, int offset, int count) {
        checkContext("copyToIntArray", ctx);
        if (dst == null) throw new IllegalArgumentException("copyToIntArray: array is null");
        checkRange("copyToIntArray", dst.length, offset, count);
        checkData("copyToIntArray", "src", src, count);
        copyToIntArray0(ctx, src, dst, offset, count);
    }

    // ---- gemm -------------------------------------------------------------------------------------------------

    /** C = alpha op(A) op(B) + beta C over {@code batch} matrices; see kiln_gemm_f32. */
    public static void gemm(long ctx, boolean transA, boolean transB, long m, long n, long k, float alpha,
                            long a, long lda, long strideA, long b, long ldb, long strideB, float beta,
                            long c, long ldc, long strideC, long batch) {
        checkContext("gemm", ctx);
        if (m < 0 || n < 0 || k < 0 || batch < 1) {
            throw new IllegalArgumentException("gemm: needs m, n, k >= 0 and batch >= 1, got m=" + m + " n=" + n + " k=" + k + " batch=" + batch);
        }
        checkData("gemm", "a", a, m * k);
        checkData("gemm", "b", b, k * n);
        checkData("gemm", "c", c, m * n);
        gemm0(ctx, transA, transB, m, n, k, alpha, a, lda, strideA, b, ldb, strideB, beta, c, ldc, strideC, batch);
    }

    // ---- elementwise ------------------------------------------------------------------------------------------

    public static void binary(long ctx, int op, long a, long strideA, long b, long strideB, long y, long outer, long inner) {
        checkContext("binary", ctx);
        checkData("binary", "a", a, outer * inner);
        checkData("binary", "b", b, outer * inner);
        checkData("binary", "y", y, outer * inner);
        binary0(ctx, op, a, strideA, b, strideB, y, outer, inner);
    }

    /** da or db may be 0 (not wanted). */
    public static void binaryBackward(long ctx, int op, long a, long strideA, long b, long strideB, long dy,
                                      long da, long db, long outer, long inner) {
        checkContext("binaryBackward", ctx);
        checkData("binaryBackward", "dy", dy, outer * inner);
        binaryBackward0(ctx, op, a, strideA, b, strideB, dy, da, db, outer, inner);
    }

    public static void activation(long ctx, int act, long x, long y, long n, float alpha) {
        checkContext("activation", ctx);
        checkData("activation", "x", x, n);
        checkData("activation", "y", y, n);
        activation0(ctx, act, x, y, n, alpha);
    }

    public static void activationBackward(long ctx, int act, long x, long y, long dy, long dx, long n, float alpha) {
        checkContext("activationBackward", ctx);
        checkData("activationBackward", "dy", dy, n);
        checkData("activationBackward", "dx", dx, n);
        activationBackward0(ctx, act, x, y, dy, dx, n, alpha);
    }

    public static void scale(long ctx, long x, long y, long n, float alpha) {
        checkContext("scale", ctx);
        checkData("scale", "x", x, n);
        checkData("scale", "y", y, n);
        scale0(ctx, x, y, n, alpha);
    }

    public static void axpy(long ctx, long n, float alpha, long x, long y) {
        checkContext("axpy", ctx);
        checkData("axpy", "x", x, n);
        checkData("axpy", "y", y, n);
        axpy0(ctx, n, alpha, x, y);
    }

    public static void dropout(long ctx, long x, long y, long n, float p, long seed, long offset) {
        checkContext("dropout", ctx);
        checkData("dropout", "x", x, n);
        checkData("dropout", "y", y, n);
        dropout0(ctx, x, y, n, p, seed, offset);
    }

    public static void dropoutBackward(long ctx, long dy, long dx, long n, float p, long seed, long offset) {
        checkContext("dropoutBackward", ctx);
        checkData("dropoutBackward", "dy", dy, n);
        checkData("dropoutBackward", "dx", dx, n);
        dropoutBackward0(ctx, dy, dx, n, p, seed, offset);
    }

    // ---- reductions and softmax -------------------------------------------------------------------------------

    public static void reduceSum(long ctx, long x, long y, long outer, long len, long inner, float scale) {
        checkContext("reduceSum", ctx);
        checkData("reduceSum", "x", x, outer * len * inner);
        checkData("reduceSum", "y", y, outer * inner);
        reduceSum0(ctx, x, y, outer, len, inner, scale);
    }

    public static void reduceSumBackward(long ctx, long dy, long dx, long outer, long len, long inner, float scale) {
        checkContext("reduceSumBackward", ctx);
        checkData("reduceSumBackward", "dy", dy, outer * inner);
        checkData("reduceSumBackward", "dx", dx, outer * len * inner);
        reduceSumBackward0(ctx, dy, dx, outer, len, inner, scale);
    }

    public static void maxLastDim(long ctx, long x, long y, long index, long rows, long cols) {
        checkContext("maxLastDim", ctx);
        checkData("maxLastDim", "x", x, rows * cols);
        checkData("maxLastDim", "y", y, rows);
        checkData("maxLastDim", "index", index, rows);
        maxLastDim0(ctx, x, y, index, rows, cols);
    }

    public static void maxLastDimBackward(long ctx, long dy, long index, long dx, long rows, long cols) {
        checkContext("maxLastDimBackward", ctx);
        checkData("maxLastDimBackward", "dy", dy, rows);
        checkData("maxLastDimBackward", "index", index, rows);
        checkData("maxLastDimBackward", "dx", dx, rows * cols);
        maxLastDimBackward0(ctx, dy, index, dx, rows, cols);
    }

    public static void sumSquares(long ctx, long x, long n, long out) {
        checkContext("sumSquares", ctx);
        checkData("sumSquares", "x", x, n);
        checkData("sumSquares", "out", out, 1);
        sumSquares0(ctx, x, n, out);
    }

    public static void softmax(long ctx, long x, long y, long rows, long cols, boolean log) {
        checkContext("softmax", ctx);
        checkData("softmax", "x", x, rows * cols);
        checkData("softmax", "y", y, rows * cols);
        softmax0(ctx, x, y, rows, cols, log ? 1 : 0);
    }

    public static void softmaxBackward(long ctx, long y, long dy, long dx, long rows, long cols, boolean log) {
        checkContext("softmaxBackward", ctx);
        checkData("softmaxBackward", "y", y, rows * cols);
        checkData("softmaxBackward", "dy", dy, rows * cols);
        checkData("softmaxBackward", "dx", dx, rows * cols);
        softmaxBackward0(ctx, y, dy, dx, rows, cols, log ? 1 : 0);
    }

    // ---- losses -----------------------------------------------------------------------------------------------

    public static void crossEntropy(long ctx, long logits, long labels, long loss, long lse, long rows, long cols) {
        checkContext("crossEntropy", ctx);
        checkData("crossEntropy", "logits", logits, rows * cols);
        checkData("crossEntropy", "labels", labels, rows);
        checkData("crossEntropy", "loss", loss, 1);
        checkData("crossEntropy", "lse", lse, rows);
        crossEntropy0(ctx, logits, labels, loss, lse, rows, cols);
    }

    public static void crossEntropyBackward(long ctx, long logits, long labels, long lse, long dloss, long dlogits,
                                            long rows, long cols) {
        checkContext("crossEntropyBackward", ctx);
        checkData("crossEntropyBackward", "dloss", dloss, 1);
        checkData("crossEntropyBackward", "dlogits", dlogits, rows * cols);
        crossEntropyBackward0(ctx, logits, labels, lse, dloss, dlogits, rows, cols);
    }

    public static void bceWithLogits(long ctx, long x, long t, long loss, long n) {
        checkContext("bceWithLogits", ctx);
        checkData("bceWithLogits", "x", x, n);
        checkData("bceWithLogits", "t", t, n);
        checkData("bceWithLogits", "loss", loss, 1);
        bceWithLogits0(ctx, x, t, loss, n);
    }

    public static void bceWithLogitsBackward(long ctx, long x, long t, long dloss, long dx, long n) {
        checkContext("bceWithLogitsBackward", ctx);
        checkData("bceWithLogitsBackward", "dloss", dloss, 1);
        checkData("bceWithLogitsBackward", "dx", dx, n);
        bceWithLogitsBackward0(ctx, x, t, dloss, dx, n);
    }

    public static void mse(long ctx, long x, long t, long loss, long n) {
        checkContext("mse", ctx);
        checkData("mse", "x", x, n);
        checkData("mse", "t", t, n);
        checkData("mse", "loss", loss, 1);
        mse0(ctx, x, t, loss, n);
    }

    public static void mseBackward(long ctx, long x, long t, long dloss, long dx, long n) {
        checkContext("mseBackward", ctx);
        checkData("mseBackward", "dloss", dloss, 1);
        checkData("mseBackward", "dx", dx, n);
        mseBackward0(ctx, x, t, dloss, dx, n);
    }

    // ---- optimizers -------------------------------------------------------------------------------------------

    public static void sgdStep(long ctx, long param, long grad, long velocity, long n, float lr, float momentum,
                               float weightDecay, boolean nesterov) {
        checkContext("sgdStep", ctx);
        checkData("sgdStep", "param", param, n);
        checkData("sgdStep", "grad", grad, n);
        if (momentum != 0f) checkData("sgdStep", "velocity", velocity, n);
        sgdStep0(ctx, param, grad, velocity, n, lr, momentum, weightDecay, nesterov ? 1 : 0);
    }

    public static void adamStep(long ctx, long param, long grad, long m, long v, long n, float lr, float beta1,
                                float beta2, float eps, float weightDecay, boolean decoupled, float biasCorrection1,
                                float biasCorrection2) {
        checkContext("adamStep", ctx);
        checkData("adamStep", "param", param, n);
        checkData("adamStep", "grad", grad, n);
        checkData("adamStep", "m", m, n);
        checkData("adamStep", "v", v, n);
        adamStep0(ctx, param, grad, m, v, n, lr, beta1, beta2, eps, weightDecay, decoupled ? 1 : 0, biasCorrection1, biasCorrection2);
    }


    // ---- convolution, pooling, batch norm ---------------------------------------------------------------------

    /** Convolution descriptor order: n, c, h, w, k, r, s, strideH, strideW, padH, padW, dilationH, dilationW, p, q. */
    public static final int CONV_DESC_LENGTH = 15;
    /** Pooling descriptor order: n, c, h, w, kernelH, kernelW, strideH, strideW, padH, padW, p, q. */
    public static final int POOL_DESC_LENGTH = 12;
    /** LSTM descriptor order: n, t, f, h. */
    public static final int LSTM_DESC_LENGTH = 4;

    public static void conv2dForward(long ctx, long[] desc, long x, long w, long bias, long y) {
        checkContext("conv2dForward", ctx);
        checkDesc("conv2dForward", desc, CONV_DESC_LENGTH);
        conv2dForward0(ctx, desc, x, w, bias, y);
    }

    public static void conv2dBackwardData(long ctx, long[] desc, long dy, long w, long dx) {
        checkContext("conv2dBackwardData", ctx);
        checkDesc("conv2dBackwardData", desc, CONV_DESC_LENGTH);
        conv2dBackwardData0(ctx, desc, dy, w, dx);
    }

    /** dbias may be 0 (no bias). */
    public static void conv2dBackwardWeight(long ctx, long[] desc, long x, long dy, long dw, long dbias) {
        checkContext("conv2dBackwardWeight", ctx);
        checkDesc("conv2dBackwardWeight", desc, CONV_DESC_LENGTH);
        conv2dBackwardWeight0(ctx, desc, x, dy, dw, dbias);
    }

    public static long conv2dWorkspaceSize(long[] desc) {
        ensureLoaded();
        checkDesc("conv2dWorkspaceSize", desc, CONV_DESC_LENGTH);
        return conv2dWorkspaceSize0(desc);
    }

    public static void maxPool2d(long ctx, long[] desc, long x, long y, long index) {
        checkContext("maxPool2d", ctx);
        checkDesc("maxPool2d", desc, POOL_DESC_LENGTH);
        maxPool2d0(ctx, desc, x, y, index);
    }

    public static void maxPool2dBackward(long ctx, long[] desc, long dy, long index, long dx) {
        checkContext("maxPool2dBackward", ctx);
        checkDesc("maxPool2dBackward", desc, POOL_DESC_LENGTH);
        maxPool2dBackward0(ctx, desc, dy, index, dx);
    }

    public static void avgPool2d(long ctx, long[] desc, long x, long y, boolean countIncludePad) {
        checkContext("avgPool2d", ctx);
        checkDesc("avgPool2d", desc, POOL_DESC_LENGTH);
        avgPool2d0(ctx, desc, x, y, countIncludePad);
    }

    public static void avgPool2dBackward(long ctx, long[] desc, long dy, long dx, boolean countIncludePad) {
        checkContext("avgPool2dBackward", ctx);
        checkDesc("avgPool2dBackward", desc, POOL_DESC_LENGTH);
        avgPool2dBackward0(ctx, desc, dy, dx, countIncludePad);
    }

    /** gamma, beta, runningMean, runningVar may be 0. */
    public static void batchNormTrain(long ctx, long n, long c, long hw, long x, long gamma, long beta, long y,
                                      long saveMean, long saveInvstd, long runningMean, long runningVar, float momentum,
                                      float eps) {
        checkContext("batchNormTrain", ctx);
        batchNormTrain0(ctx, n, c, hw, x, gamma, beta, y, saveMean, saveInvstd, runningMean, runningVar, momentum, eps);
    }

    public static void batchNormEval(long ctx, long n, long c, long hw, long x, long gamma, long beta, long runningMean,
                                     long runningVar, float eps, long y) {
        checkContext("batchNormEval", ctx);
        batchNormEval0(ctx, n, c, hw, x, gamma, beta, runningMean, runningVar, eps, y);
    }

    /** dgamma and dbeta may be 0. */
    public static void batchNormBackward(long ctx, long n, long c, long hw, long x, long dy, long gamma, long saveMean,
                                         long saveInvstd, long dx, long dgamma, long dbeta) {
        checkContext("batchNormBackward", ctx);
        batchNormBackward0(ctx, n, c, hw, x, dy, gamma, saveMean, saveInvstd, dx, dgamma, dbeta);
    }

    /** Backward of the evaluation form (running statistics are constants); dx, dgamma and dbeta may each be 0. */
    public static void batchNormBackwardEval(long ctx, long n, long c, long hw, long x, long dy, long gamma,
                                             long runningMean, long runningVar, float eps, long dx, long dgamma,
                                             long dbeta) {
        checkContext("batchNormBackwardEval", ctx);
        batchNormBackwardEval0(ctx, n, c, hw, x, dy, gamma, runningMean, runningVar, eps, dx, dgamma, dbeta);
    }

    // ---- LSTM -------------------------------------------------------------------------------------------------

    public static long lstmReserveSize(long[] desc) {
        ensureLoaded();
        checkDesc("lstmReserveSize", desc, LSTM_DESC_LENGTH);
        return lstmReserveSize0(desc);
    }

    /** h0, c0 may be 0 (zeros); reserve may be 0 (inference). */
    public static void lstmForward(long ctx, long[] desc, long x, long h0, long c0, long wIh, long wHh, long bias,
                                   long y, long hN, long cN, long reserve) {
        checkContext("lstmForward", ctx);
        checkDesc("lstmForward", desc, LSTM_DESC_LENGTH);
        lstmForward0(ctx, desc, x, h0, c0, wIh, wHh, bias, y, hN, cN, reserve);
    }

    /** dhN, dcN may be 0 (zero); dx, dh0, dc0 may be 0 (not wanted). */
    public static void lstmBackward(long ctx, long[] desc, long x, long h0, long c0, long wIh, long wHh, long reserve,
                                    long dy, long dhN, long dcN, long dx, long dh0, long dc0, long dwIh, long dwHh,
                                    long dbias) {
        checkContext("lstmBackward", ctx);
        checkDesc("lstmBackward", desc, LSTM_DESC_LENGTH);
        lstmBackward0(ctx, desc, x, h0, c0, wIh, wHh, reserve, dy, dhN, dcN, dx, dh0, dc0, dwIh, dwHh, dbias);
    }

    // ---- argument checks --------------------------------------------------------------------------------------

    private static void checkKind(String op, int kind) {
        if (kind != DEVICE_CPU && kind != DEVICE_CUDA) throw new IllegalArgumentException(op + ": unknown device kind " + kind);
    }

    private static void checkContext(String op, long ctx) {
        if (ctx == 0) throw new IllegalArgumentException(op + ": context handle is null");
    }

    private static void checkData(String op, String arg, long ptr, long count) {
        if (count < 0) throw new IllegalArgumentException(op + ": element count of '" + arg + "' must be >= 0, got " + count);
        if (ptr == 0 && count > 0) throw new IllegalArgumentException(op + ": '" + arg + "' is a null address");
    }

    private static void checkDesc(String op, long[] desc, int length) {
        if (desc == null || desc.length != length) {
            throw new IllegalArgumentException(op + ": descriptor must have " + length + " entries, got "
                    + (desc == null ? "null" : desc.length));
        }
    }

    private static void checkArrayRange(String op, float[] array, int offset, int count) {
        if (array == null) throw new IllegalArgumentException(op + ": array is null");
        checkRange(op, array.length, offset, count);
    }

    private static void checkRange(String op, int length, int offset, int count) {
        if (offset < 0 || count < 0 || offset > length - count) {
            throw new IllegalArgumentException(op + ": range [" + offset + ", " + offset + " + " + count
                    + ") is outside an array of length " + length);
        }
    }

    private static void checkCopy(String op, long ctx, long dst, long src, long bytes) {
        checkContext(op, ctx);
        checkData(op, "dst", dst, bytes);
        checkData(op, "src", src, bytes);
    }

    // ---- natives (registered by JNI_OnLoad in native/src/jni) -------------------------------------------------

    private static native String buildInfo0();
    private static native int abiVersion0();
    private static native void noop0();
    private static native int cudaDeviceCount0(String[] reasonOut);
    private static native DeviceInfo deviceProperties0(int kind, int index);
    private static native long contextCreate0(int kind, int index);
    private static native void contextDestroy0(long ctx);
    private static native void synchronize0(long ctx);
    private static native long alloc0(long ctx, long bytes);
    private static native void free0(long ctx, long ptr);
    private static native void memoryStats0(long ctx, long[] out);
    private static native void emptyCache0(long ctx);
    private static native void copyFromArray0(long ctx, long dst, float[] src, int offset, int count);
    private static native void copyToArray0(long ctx, long src, float[] dst, int offset, int count);
    private static native void copyToDevice0(long ctx, long dst, long hostSrc, long bytes);
    private static native void copyToHost0(long ctx, long hostDst, long src, long bytes);
    private static native void copyDevice0(long ctx, long dst, long src, long bytes);
    private static native void fill0(long ctx, long y, long n, float value);
    private static native void randUniform0(long ctx, long y, long n, long seed, long offset, float lo, float hi);
    private static native void randNormal0(long ctx, long y, long n, long seed, long offset, float mean, float std);
    private static native void copyFromIntArray0(long ctx, long dst, int[] src, int offset, int count);
    private static native void copyToIntArray0(long ctx, long src, int[] dst, int offset, int count);
    private static native void gemm0(long ctx, boolean transA, boolean transB, long m, long n, long k, float alpha,
                                     long a, long lda, long strideA, long b, long ldb, long strideB, float beta,
                                     long c, long ldc, long strideC, long batch);
    private static native void binary0(long ctx, int op, long a, long strideA, long b, long strideB, long y, long outer, long inner);
    private static native void binaryBackward0(long ctx, int op, long a, long strideA, long b, long strideB, long dy,
                                               long da, long db, long outer, long inner);
    private static native void activation0(long ctx, int act, long x, long y, long n, float alpha);
    private static native void activationBackward0(long ctx, int act, long x, long y, long dy, long dx, long n, float alpha);
    private static native void scale0(long ctx, long x, long y, long n, float alpha);
    private static native void axpy0(long ctx, long n, float alpha, long x, long y);
    private static native void dropout0(long ctx, long x, long y, long n, float p, long seed, long offset);
    private static native void dropoutBackward0(long ctx, long dy, long dx, long n, float p, long seed, long offset);
    private static native void reduceSum0(long ctx, long x, long y, long outer, long len, long inner, float scale);
    private static native void reduceSumBackward0(long ctx, long dy, long dx, long outer, long len, long inner, float scale);
    private static native void maxLastDim0(long ctx, long x, long y, long index, long rows, long cols);
    private static native void maxLastDimBackward0(long ctx, long dy, long index, long dx, long rows, long cols);
    private static native void sumSquares0(long ctx, long x, long n, long out);
    private static native void softmax0(long ctx, long x, long y, long rows, long cols, int log);
    private static native void softmaxBackward0(long ctx, long y, long dy, long dx, long rows, long cols, int log);
    private static native void crossEntropy0(long ctx, long logits, long labels, long loss, long lse, long rows, long cols);
    private static native void crossEntropyBackward0(long ctx, long logits, long labels, long lse, long dloss, long dlogits,
                                                     long rows, long cols);
    private static native void bceWithLogits0(long ctx, long x, long t, long loss, long n);
    private static native void bceWithLogitsBackward0(long ctx, long x, long t, long dloss, long dx, long n);
    private static native void mse0(long ctx, long x, long t, long loss, long n);
    private static native void mseBackward0(long ctx, long x, long t, long dloss, long dx, long n);
    private static native void sgdStep0(long ctx, long param, long grad, long velocity, long n, float lr, float momentum,
                                        float weightDecay, int nesterov);
    private static native void adamStep0(long ctx, long param, long grad, long m, long v, long n, float lr, float beta1,
                                         float beta2, float eps, float weightDecay, int decoupled, float biasCorrection1,
                                         float biasCorrection2);
    private static native void conv2dForward0(long ctx, long[] desc, long x, long w, long bias, long y);
    private static native void conv2dBackwardData0(long ctx, long[] desc, long dy, long w, long dx);
    private static native void conv2dBackwardWeight0(long ctx, long[] desc, long x, long dy, long dw, long dbias);
    private static native long conv2dWorkspaceSize0(long[] desc);
    private static native void maxPool2d0(long ctx, long[] desc, long x, long y, long index);
    private static native void maxPool2dBackward0(long ctx, long[] desc, long dy, long index, long dx);
    private static native void avgPool2d0(long ctx, long[] desc, long x, long y, boolean countIncludePad);
    private static native void avgPool2dBackward0(long ctx, long[] desc, long dy, long dx, boolean countIncludePad);
    private static native void batchNormTrain0(long ctx, long n, long c, long hw, long x, long gamma, long beta, long y,
                                               long saveMean, long saveInvstd, long runningMean, long runningVar,
                                               float momentum, float eps);
    private static native void batchNormEval0(long ctx, long n, long c, long hw, long x, long gamma, long beta,
                                              long runningMean, long runningVar, float eps, long y);
    private static native void batchNormBackward0(long ctx, long n, long c, long hw, long x, long dy, long gamma,
                                                  long saveMean, long saveInvstd, long dx, long dgamma, long dbeta);
    private static native void batchNormBackwardEval0(long ctx, long n, long c, long hw, long x, long dy, long gamma,
                                                      long runningMean, long runningVar, float eps, long dx,
                                                      long dgamma, long dbeta);
    private static native long lstmReserveSize0(long[] desc);
    private static native void lstmForward0(long ctx, long[] desc, long x, long h0, long c0, long wIh, long wHh, long bias,
                                            long y, long hN, long cN, long reserve);
    private static native void lstmBackward0(long ctx, long[] desc, long x, long h0, long c0, long wIh, long wHh,
                                             long reserve, long dy, long dhN, long dcN, long dx, long dh0, long dc0,
                                             long dwIh, long dwHh, long dbias);
}
