package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** narrow, concat and copyInto_ against index loops written here, with gradients by finite differences. */
class SliceGradTest {
    /** Shape (2, 3, 4): narrow along each axis, every start and length at the edges included. */
    @ParameterizedTest(name = "narrow axis={0} [{1}, +{2})")
    @CsvSource({"0,0,1", "0,1,1", "1,0,3", "1,1,2", "2,3,1", "2,0,4", "-1,1,2", "1,2,0"})
    void narrow(int axis, int start, int length) {
        int[] shape = {2, 3, 4};
        int a = axis < 0 ? axis + 3 : axis;
        int[] out = shape.clone();
        out[a] = length;
        GradCheck.check("narrow", new float[][] {GradCheck.uniform(24, 11, -1, 1)}, new int[][] {shape},
                new boolean[] {true}, t -> Ops.narrow(t[0], axis, start, length),
                x -> {
                    double[] y = new double[out[0] * out[1] * out[2]];
                    int k = 0;
                    for (int i = 0; i < out[0]; i++)
                        for (int j = 0; j < out[1]; j++)
                            for (int l = 0; l < out[2]; l++) {
                                int[] src = {i, j, l};
                                src[a] += start;
                                y[k++] = x[0][(src[0] * 3 + src[1]) * 4 + src[2]];
                            }
                    return y;
                });
    }

    @Test
    void concatJoinsAndSplitsGradients() {
        // (2, 1, 3) ++ (2, 2, 3) along axis 1 -> (2, 3, 3)
        GradCheck.check("concat", new float[][] {GradCheck.uniform(6, 1, -1, 1), GradCheck.uniform(12, 2, -1, 1)},
                new int[][] {{2, 1, 3}, {2, 2, 3}}, new boolean[] {true, true},
                t -> Ops.concat(List.of(t[0], t[1]), 1),
                x -> {
                    double[] y = new double[18];
                    for (int i = 0; i < 2; i++)
                        for (int j = 0; j < 3; j++)
                            for (int l = 0; l < 3; l++)
                                y[(i * 3 + j) * 3 + l] = j == 0 ? x[0][i * 3 + l] : x[1][(i * 2 + j - 1) * 3 + l];
                    return y;
                });
    }

    @Test
    void copyIntoWritesOneBandOfAKeyValueCache() {
        try (Scope s = Scope.open()) {
            Tensor cache = Ops.fill_(Tensor.empty(Device.cpu(), 2, 4, 3), -1f);  // (N=2, S=4, E=3)
            Tensor token = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 1, 3);
            Ops.copyInto_(cache, 1, 2, token);
            float[] c = cache.toFloatArray();
            float[] expected = new float[24];
            java.util.Arrays.fill(expected, -1f);
            System.arraycopy(new float[] {1, 2, 3}, 0, expected, 2 * 3, 3);
            System.arraycopy(new float[] {4, 5, 6}, 0, expected, 12 + 2 * 3, 3);
            assertArrayEquals(expected, c);
            Tensor ints = Tensor.ofInts(Device.cpu(), new int[] {1, 2, 3, 4, 5, 6}, 2, 3);
            assertArrayEquals(new int[] {2, 3, 5, 6}, Ops.narrow(ints, 1, 1, 2).toIntArray());
        }
    }

    @Test
    void refusesBadBands() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.zeros(2, 3);
            assertThrows(IllegalArgumentException.class, () -> Ops.narrow(x, 1, 2, 2));
            assertThrows(IllegalArgumentException.class, () -> Ops.narrow(x, 2, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> Ops.narrow(x, 0, -1, 1));
            assertThrows(IllegalArgumentException.class, () -> Ops.concat(List.of(x, Tensor.zeros(3, 3)), 1));
            assertThrows(IllegalArgumentException.class,
                    () -> Ops.concat(List.of(x, Tensor.empty(Device.cpu(), DType.I32, 2, 3)), 0));
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Ops.copyInto_(x, 1, 2, Tensor.zeros(2, 2)));
            assertTrue(e.getMessage().contains("outside axis 1"), e.getMessage());
        }
    }
}
