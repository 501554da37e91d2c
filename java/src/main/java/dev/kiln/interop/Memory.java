package dev.kiln.interop;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.TensorAccess;

/** The checks every wrap of outside memory shares, then the tensor over it (dev.kiln's hook for memory it does not own). */
final class Memory {
    private static final TensorAccess TENSORS = TensorAccess.get();

    private Memory() {
    }

    /** {@code bytes} at {@code address}: all Kiln can check of outside memory is that it is there and aligned. */
    static Tensor wrap(Device device, DType dtype, int[] shape, long address, long bytes, Object keepAlive) {
        if (device == null) throw new IllegalArgumentException("wrap: device is null");
        if (dtype == null) throw new IllegalArgumentException("wrap: dtype is null");
        if (address == 0) throw new IllegalArgumentException("wrap: the pointer is null");
        // Kiln's kernels load whole elements (and pick vector loads by alignment): a misaligned element is undefined.
        if (address % dtype.bytes() != 0) {
            throw new IllegalArgumentException("wrap: address 0x" + Long.toHexString(address) + " is not aligned to a "
                    + dtype + " element (" + dtype.bytes() + " bytes)");
        }
        return TENSORS.wrapExternal(device, dtype, shape, address, bytes, keepAlive);
    }
}
