package dev.kiln.internal;

/**
 * A 2-D convolution's geometry, field for field {@code kiln_conv2d_desc} in kiln.h: x (n, c, h, w), weight
 * (k, c, r, s), y (n, k, p, q). The table in native/src/jni/jni_conv2d.cpp maps each component to its C field; the
 * library refuses to load when a name differs. Strides, paddings and dilations are int32 in C (range-checked there).
 */
public record Conv2dDesc(long n, long c, long h, long w, long k, long r, long s, long strideH, long strideW,
                         long padH, long padW, long dilationH, long dilationW, long p, long q) {
    /** Multiplies and adds of one direction (forward, backward data or backward weight): 2 n k p q c r s. */
    long flops() {
        return (long) (2.0 * n * k * p * q * c * r * s);
    }

    long inputElements() {
        return Sizes.product(n, c, h, w);
    }

    long weightElements() {
        return Sizes.product(k, c, r, s);
    }

    long outputElements() {
        return Sizes.product(n, k, p, q);
    }
}
