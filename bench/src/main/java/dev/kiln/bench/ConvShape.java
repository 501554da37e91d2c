package dev.kiln.bench;

import dev.kiln.internal.Conv2dDesc;

/**
 * The 3x3, stride-1 convolutions the conv benchmarks share: the CNN's two layers at batch 64 and a ResNet layer (as
 * bench/native/conv2d_cpu_bench.cpp). x is (n, c, h, h), w is (k, c, 3, 3), y is (n, k, p, p).
 */
record ConvShape(int n, int c, int h, int k, int pad) {
    static ConvShape named(String name) {
        return switch (name) {
            case "cnn1" -> new ConvShape(64, 1, 28, 32, 0);
            case "cnn2" -> new ConvShape(64, 32, 13, 64, 0);
            case "resnet" -> new ConvShape(32, 64, 56, 64, 1);
            default -> throw new IllegalArgumentException("unknown conv shape " + name + " (cnn1, cnn2, resnet)");
        };
    }

    /** Output height and width. */
    int p() {
        return h + 2 * pad - 2;
    }

    Conv2dDesc desc() {
        return new Conv2dDesc(n, c, h, h, k, 3, 3, 1, 1, pad, pad, 1, 1, p(), p());
    }

    /** Floating-point operations of one forward: a multiply and an add per tap. */
    double flops() {
        return 2.0 * n * k * p() * p() * c * 9;
    }
}
