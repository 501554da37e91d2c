package dev.kiln.internal;

import dev.kiln.Tensor;

/**
 * Binding of batch norm (natives bound to kiln.h by NativeLibrary.bindAbi) over x (n, c, hw), per channel. Per-channel
 * tensors are (c); gamma and beta may be null (1 and 0), and so may what a comment says is optional. Not public API.
 */
public final class BatchNormNative {
    private BatchNormNative() {
    }

    static {
        NativeLibrary.bindAbi(BatchNormNative.class);
    }

    /** Training: batch statistics, saved for the backward; running statistics updated unless null. */
    public static void train(long n, long c, long hw, Tensor x, Tensor gamma, Tensor beta, Tensor y, Tensor saveMean,
                             Tensor saveInvstd, Tensor runningMean, Tensor runningVar, float momentum, float eps) {
        Call call = new Call("batch_norm");
        long all = Sizes.product(n, c, hw), xa = call.f32("x", x, all);
        long ga = call.optionalF32("gamma", gamma, c), ba = call.optionalF32("beta", beta, c), ya = call.f32("y", y, all);
        long ma = call.f32("save_mean", saveMean, c), ia = call.f32("save_invstd", saveInvstd, c);
        long rma = call.optionalF32("running_mean", runningMean, c), rva = call.optionalF32("running_var", runningVar, c);
        kiln_batch_norm_train_f32(call.context(), n, c, hw, xa, ga, ba, ya, ma, ia, rma, rva, momentum, eps);
        call.fence();
    }

    /** Evaluation: the running statistics normalize. */
    public static void eval(long n, long c, long hw, Tensor x, Tensor gamma, Tensor beta, Tensor runningMean,
                            Tensor runningVar, float eps, Tensor y) {
        Call call = new Call("batch_norm");
        long all = Sizes.product(n, c, hw), xa = call.f32("x", x, all);
        long ga = call.optionalF32("gamma", gamma, c), ba = call.optionalF32("beta", beta, c);
        long rma = call.f32("running_mean", runningMean, c), rva = call.f32("running_var", runningVar, c);
        long ya = call.f32("y", y, all);
        kiln_batch_norm_eval_f32(call.context(), n, c, hw, xa, ga, ba, rma, rva, eps, ya);
        call.fence();
    }

    /** Backward of the training form: dx, and dgamma/dbeta unless null. */
    public static void backward(long n, long c, long hw, Tensor x, Tensor dy, Tensor gamma, Tensor saveMean,
                                Tensor saveInvstd, Tensor dx, Tensor dgamma, Tensor dbeta) {
        Call call = new Call("batch_norm backward");
        long all = Sizes.product(n, c, hw), xa = call.f32("x", x, all), dya = call.f32("dy", dy, all);
        long ga = call.optionalF32("gamma", gamma, c);
        long ma = call.f32("save_mean", saveMean, c), ia = call.f32("save_invstd", saveInvstd, c);
        long dxa = call.f32("dx", dx, all), dga = call.optionalF32("dgamma", dgamma, c), dba = call.optionalF32("dbeta", dbeta, c);
        kiln_batch_norm_backward_f32(call.context(), n, c, hw, xa, dya, ga, ma, ia, dxa, dga, dba);
        call.fence();
    }

    /** Backward of the evaluation form (running statistics are constants); dx, dgamma, dbeta each optional. */
    public static void backwardEval(long n, long c, long hw, Tensor x, Tensor dy, Tensor gamma, Tensor runningMean,
                                    Tensor runningVar, float eps, Tensor dx, Tensor dgamma, Tensor dbeta) {
        Call call = new Call("batch_norm backward");
        long all = Sizes.product(n, c, hw), xa = call.f32("x", x, all), dya = call.f32("dy", dy, all);
        long ga = call.optionalF32("gamma", gamma, c);
        long rma = call.f32("running_mean", runningMean, c), rva = call.f32("running_var", runningVar, c);
        long dxa = call.optionalF32("dx", dx, all), dga = call.optionalF32("dgamma", dgamma, c);
        long dba = call.optionalF32("dbeta", dbeta, c);
        kiln_batch_norm_backward_eval_f32(call.context(), n, c, hw, xa, dya, ga, rma, rva, eps, dxa, dga, dba);
        call.fence();
    }

    // ---- natives: C ABI entries of kiln.h, bound by NativeLibrary.bindAbi (native/src/jni/jni_abi.cpp) --------------

    private static native void kiln_batch_norm_train_f32(long ctx, long n, long c, long hw, long x, long gamma,
                                                         long beta, long y, long saveMean, long saveInvstd,
                                                         long runningMean, long runningVar, float momentum, float eps);
    private static native void kiln_batch_norm_eval_f32(long ctx, long n, long c, long hw, long x, long gamma,
                                                        long beta, long runningMean, long runningVar, float eps,
                                                        long y);
    private static native void kiln_batch_norm_backward_f32(long ctx, long n, long c, long hw, long x, long dy,
                                                            long gamma, long saveMean, long saveInvstd, long dx,
                                                            long dgamma, long dbeta);
    private static native void kiln_batch_norm_backward_eval_f32(long ctx, long n, long c, long hw, long x, long dy,
                                                                 long gamma, long runningMean, long runningVar,
                                                                 float eps, long dx, long dgamma, long dbeta);
}
