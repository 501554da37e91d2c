package dev.kiln.ops;

import dev.kiln.Device;
import dev.kiln.DType;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The transpose op through the Java API: values against an exchange of indices computed here (multi-indices decoded
 * and re-encoded in double, independent of the kernel's five-dimension view), gradients by finite differences, on
 * every device the tests run on; negative axes, one axis twice, a transpose undone by its repeat, and bad calls.
 */
class TransposeGradTest {
    /** y for x of {@code shape} with axes a and b exchanged, element by element from multi-indices. */
    private static double[] reference(double[] x, int[] shape, int a, int b) {
        int[] out = shape.clone();
        out[a] = shape[b];
        out[b] = shape[a];
        double[] y = new double[x.length];
        int[] index = new int[shape.length];
        for (int flat = 0; flat < x.length; flat++) {
            for (int d = shape.length - 1, rest = flat; d >= 0; d--) {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            int[] swapped = index.clone();
            swapped[a] = index[b];
            swapped[b] = index[a];
            int to = 0;
            for (int d = 0; d < out.length; d++) to = to * out[d] + swapped[d];
            y[to] = x[flat];
        }
        return y;
    }

    private static int[] shape(String s) {
        return Arrays.stream(s.split("x")).mapToInt(Integer::parseInt).toArray();
    }

    @ParameterizedTest(name = "transpose {0} axes {1}, {2}")
    @CsvSource({
        "5x7, 0, 1",          // a matrix
        "33x40, 1, 0",        // partial tiles, axes given in reverse
        "2x3x4, 0, 2",        // a plane between the axes
        "2x3x4x5, 1, 3",      // outer, mid and nothing after
        "2x6x3x4, 1, 2",      // the attention heads' exchange: (N, T, H, D) to (N, H, T, D), runs of D
        "3x4x5, 2, 2",        // one axis twice: a copy
        "1x9x1, 0, 2",        // axes of size 1
        "4x5x6, -1, 0",       // negative axes
    })
    void matchesTheExchangeOfIndices(String dims, int axis0, int axis1) {
        int[] s = shape(dims);
        int n = Arrays.stream(s).reduce(1, (p, q) -> p * q);
        int a = Math.min(Math.floorMod(axis0, s.length), Math.floorMod(axis1, s.length));
        int b = Math.max(Math.floorMod(axis0, s.length), Math.floorMod(axis1, s.length));
        GradCheck.check("transpose " + dims, new float[][] {GradCheck.uniform(n, n + axis0, -2, 2)},
                new int[][] {s}, new boolean[] {true},
                t -> Ops.transpose(t[0], axis0, axis1),
                x -> reference(x[0], s, a, b));
    }

    @Test
    void shapeAndRepeatRestoresTheInput() {
        for (Device device : GradCheck.devices()) {
            try (Scope scope = Scope.open()) {
                Tensor x = Tensor.of(device, GradCheck.uniform(120, 3, -1, 1), 2, 3, 4, 5);
                Tensor y = Ops.transpose(x, 0, -2);
                assertArrayEquals(new int[] {4, 3, 2, 5}, y.shape(), device.toString());
                assertArrayEquals(x.toFloatArray(), y.transpose(2, 0).toFloatArray(), device.toString());  // fluent
            }
        }
    }

    @Test
    void badCallsNameTheOpAndArgument() {
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.zeros(Device.cpu(), 2, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.transpose(x, 0, 2));
            assertTrue(e.getMessage().contains("transpose") && e.getMessage().contains("axis 2"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.transpose(x, -3, 0));
            assertTrue(e.getMessage().contains("axis -3"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.transpose(null, 0, 1));
            assertTrue(e.getMessage().contains("'x'"), e.getMessage());
            Tensor ints = Tensor.empty(Device.cpu(), DType.I32, 2, 3);
            e = assertThrows(IllegalArgumentException.class, () -> Ops.transpose(ints, 0, 1));
            assertTrue(e.getMessage().contains("f32"), e.getMessage());
            Tensor closed = Tensor.zeros(Device.cpu(), 2, 3);
            closed.close();
            assertThrows(IllegalStateException.class, () -> Ops.transpose(closed, 0, 1));
        }
    }
}
