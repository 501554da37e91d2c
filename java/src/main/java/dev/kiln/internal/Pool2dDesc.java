package dev.kiln.internal;

/**
 * A 2-D pooling window, field for field {@code kiln_pool2d_desc} in kiln.h: x (n, c, h, w) to y (n, c, p, q). The
 * table in native/src/jni/jni_pool.cpp maps each component to its C field; the library refuses to load when a name
 * differs. Kernel, stride and padding are int32 in C (range-checked there).
 */
public record Pool2dDesc(long n, long c, long h, long w, long kernelH, long kernelW, long strideH, long strideW,
                         long padH, long padW, long p, long q) {
    long inputElements() {
        return Sizes.product(n, c, h, w);
    }

    long outputElements() {
        return Sizes.product(n, c, p, q);
    }
}
