package dev.kiln.profile;

import dev.kiln.Device;

/**
 * One op a {@link dev.kiln.Profiler} saw cross into the native library.
 *
 * @param name        the library entry that ran, without its {@code kiln_} prefix ("conv2d_forward_f32"), or the
 *                    binding's name where the call is not an op entry
 * @param path        the kernel path the entry took where it has several ("winograd", "implicit_gemm", "persistent",
 *                    "per_step"); "" where it has one
 * @param device      where it ran
 * @param args        each tensor argument's name and shape: {@code "x[64,1,28,28] w[32,1,3,3] y[64,32,28,28]"}
 * @param startNanos  host time the call began, from the recording's start
 * @param wallNanos   host time from the call to its return (on CUDA: queueing the kernels, not running them)
 * @param deviceMillis device time between CUDA events around the op; NaN on the CPU, where the wall time is the op's
 * @param flops       floating-point operations where the op's arithmetic is known (GEMM, convolution, LSTM,
 *                    attention), else 0; only the products it computes: causal attention over its visible
 *                    query-key pairs, an LSTM backward without dx (or dh0) without their products
 * @param bytes       bytes the tensor arguments span, twice for those read and written back (an optimizer's parameter
 *                    and state): the op's memory traffic if each is touched once per pass
 * @param thread      the Java thread that called it
 * @param ranges      the enclosing user ranges, outermost first, joined by " / " ("step 3 / backward")
 */
public record OpRecord(String name, String path, Device device, String args, long startNanos, long wallNanos,
                       double deviceMillis, long flops, long bytes, long thread, String ranges) {

    /** The op's time: device time on CUDA where it was measured, else wall time. */
    public double millis() {
        return Double.isNaN(deviceMillis) ? wallNanos / 1e6 : deviceMillis;
    }

    /** The name with its path, as the summary groups them: "conv2d_forward_f32 [winograd]". */
    public String label() {
        return path.isEmpty() ? name : name + " [" + path + "]";
    }
}
