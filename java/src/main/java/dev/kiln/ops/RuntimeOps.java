package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.RuntimeNative;

import java.util.Arrays;

/** Copies between tensors, within a device or across devices; in place and not recorded. */
final class RuntimeOps {
    private RuntimeOps() {
    }

    /** A copy of x on {@code device} (a copy even when x is there already), recorded: the gradient goes back to x. */
    @Op
    static Tensor toDevice(Tensor x, Device device) {
        return to(x, device);
    }

    /** A copy of x on target, recorded: the gradient goes back to x's device. */
    static Tensor to(Tensor x, Device target) {
        Checks.open("to", "x", x);
        if (target == null) throw new IllegalArgumentException("to: device is null");
        Tensor y = copy_(Tensor.empty(target, x.dtype(), x.shape()), x);
        Device source = x.device();
        return Autograd.record("to", y, dy -> new Tensor[] {to(dy, source)}, x);
    }

    /** dst = src (same shape and dtype, any devices); returns dst. */
    @Op
    static Tensor copy_(Tensor dst, Tensor src) {
        String op = "copy_";
        Checks.open(op, "dst", dst);
        Checks.open(op, "src", src);
        if (dst.dtype() != src.dtype() || !Arrays.equals(dst.shape(), src.shape())) {
            throw new IllegalArgumentException(op + ": dst " + dst + " and src " + src + " must have the same shape and dtype");
        }
        Autograd.modifiedInPlace(dst);
        Device from = src.device(), to = dst.device();
        if (from.isCuda() && to.isCuda() && !from.equals(to)) {
            // Through the host keeps this independent of peer access between the GPUs.
            try (Tensor staging = dev.kiln.Scope.detached(() -> Tensor.empty(Device.cpu(), src.dtype(), src.shape()))) {
                RuntimeNative.copy(staging, src);
                RuntimeNative.copy(dst, staging);
            }
        } else {
            RuntimeNative.copy(dst, src);
        }
        return dst;
    }
}
