package dev.kiln;

import dev.kiln.internal.TensorAccess;

/**
 * The binding's and the op layer's access to what a {@link Tensor} does not make public (see {@link TensorAccess}):
 * installed once by Tensor's static initializer.
 */
final class TensorInternals extends TensorAccess {
    @Override
    public long address(Tensor t) {
        return t.address();
    }

    @Override
    public long context(Tensor t) {
        return t.storage.context;
    }

    @Override
    public Tensor alias(Tensor t, String op, int[] shape) {
        return t.alias(op, shape);
    }

    @Override
    public int version(Tensor t) {
        return t.storage.version();
    }

    @Override
    public void bumpVersion(Tensor t) {
        t.storage.bumpVersion();
    }

    @Override
    public Object autograd(Tensor t) {
        return t.autograd;
    }

    @Override
    public void setAutograd(Tensor t, Object state) {
        t.autograd = state;
    }

    @Override
    public Tensor gradToOverwrite(Tensor t) {
        if (!t.gradZeroPending) return null;
        t.gradZeroPending = false;
        return t.grad;
    }

    @Override
    public Tensor wrapExternal(Device device, DType dtype, int[] shape, long address, long bytes, Object keepAlive) {
        int[] s = Shapes.checked("wrap", shape);
        long n = Shapes.numel("wrap", s);
        if (n * dtype.bytes() > bytes) {
            throw new IllegalArgumentException("wrap: shape " + Shapes.toString(s) + " of " + dtype + " needs "
                    + n * dtype.bytes() + " bytes but the memory holds " + bytes);
        }
        return new Tensor(Storage.external(device, address, bytes, keepAlive), s, n, dtype);
    }
}
