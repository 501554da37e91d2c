package dev.kiln;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Ranged copies between a tensor and a Java array: what streaming checkpoints through a bounded buffer uses. */
class TensorSliceCopyTest {
    @Test
    void copiesASliceEachWay() {
        try (Tensor t = Tensor.zeros(Device.cpu(), 2, 3)) {
            t.copyFrom(new float[] {9f, 7f, 5f, 3f}, 1, 2, 3);  // src[1..4) to t[2..5)
            assertArrayEquals(new float[] {0f, 0f, 7f, 5f, 3f, 0f}, t.toFloatArray());
            float[] out = {-1f, -1f, -1f, -1f};
            t.copyTo(3, out, 1, 2);
            assertArrayEquals(new float[] {-1f, 5f, 3f, -1f}, out);
            t.copyTo(6, out, 0, 0);  // an empty slice at the end is fine
        }
        try (Tensor t = Tensor.ofInts(Device.cpu(), new int[5], 5)) {
            t.copyFrom(new int[] {4, 8}, 0, 3, 2);
            int[] out = new int[3];
            t.copyTo(2, out, 0, 3);
            assertArrayEquals(new int[] {0, 4, 8}, out);
        }
    }

    @Test
    void refusesSlicesOutsideEitherSide() {
        try (Tensor t = Tensor.zeros(Device.cpu(), 4); Tensor ints = Tensor.ofInts(Device.cpu(), new int[4], 4)) {
            float[] a = new float[4];
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(a, 0, 1, 4));   // past the tensor
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(a, 2, 0, 3));   // past the array
            assertThrows(IllegalArgumentException.class, () -> t.copyTo(-1, a, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> t.copyTo(Long.MAX_VALUE, a, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new int[4], 0, 0, 4));  // wrong dtype
            assertThrows(IllegalArgumentException.class, () -> ints.copyTo(0, a, 0, 4));
            t.close();
            assertThrows(IllegalStateException.class, () -> t.copyTo(0, a, 0, 1));
        }
    }
}
