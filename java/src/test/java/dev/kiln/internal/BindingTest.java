package dev.kiln.internal;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The binding classes guard memory: a tensor too small for what the call touches, closed, of the wrong dtype, or a
 * descriptor field that does not fit its C type stops in Java (or in the glue's record reader) with the op and the
 * argument named, and the native op never runs: outputs keep their sentinel values.
 */
class BindingTest {
    private static final Device CPU = Device.cpu();
    /** x (1, 1, 4, 4) and w (1, 1, 3, 3) to y (1, 1, 2, 2). */
    private static final Conv2dDesc CONV = new Conv2dDesc(1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, 1, 2, 2);

    @Test
    void tooFewElementsForTheDescriptorStopBeforeNativeCode() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.ones(1, 1, 3, 3), y = Tensor.full(CPU, 7f, 1, 1, 2, 2);
            Tensor shortX = Tensor.ones(15);  // the descriptor reads 16
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2dNative.forward(CONV, shortX, w, null, y));
            assertNamed(e, "conv2d forward", "'x'", "15", "16");
            assertArrayEquals(new float[] {7, 7, 7, 7}, y.toFloatArray());

            Tensor shortY = Tensor.full(CPU, 7f, 3);  // the descriptor writes 4
            e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2dNative.forward(CONV, Tensor.ones(1, 1, 4, 4), w, null, shortY));
            assertNamed(e, "conv2d forward", "'y'", "3", "4");
            assertArrayEquals(new float[] {7, 7, 7}, shortY.toFloatArray());

            e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2dNative.forward(CONV, Tensor.ones(1, 1, 4, 4), w, Tensor.zeros(0), y));
            assertNamed(e, "conv2d forward", "'bias'");

            // A leading dimension wider than the stored rows: a (2, 3) with lda 4 spans 7 elements.
            Tensor a = Tensor.ones(2, 3), b = Tensor.ones(3, 2), c = Tensor.full(CPU, 7f, 2, 2);
            e = assertThrows(IllegalArgumentException.class,
                    () -> GemmNative.gemm(false, false, 2, 2, 3, 1f, a, 4, 0, b, 2, 0, 0f, c, 2, 0, 1));
            assertNamed(e, "gemm", "'a'", "7");
            assertArrayEquals(new float[] {7, 7, 7, 7}, c.toFloatArray());

            LstmDesc lstm = new LstmDesc(2, 3, 4, 5);
            Tensor reserve = Tensor.full(CPU, 7f, 10);
            e = assertThrows(IllegalArgumentException.class, () -> LstmNative.forward(lstm, Tensor.ones(2, 3, 4), null,
                    null, Tensor.ones(20, 4), Tensor.ones(20, 5), Tensor.ones(20), Tensor.empty(CPU, 2, 3, 5),
                    Tensor.empty(CPU, 2, 5), Tensor.empty(CPU, 2, 5), reserve));
            assertNamed(e, "lstm forward", "'reserve'");
        }
    }

    @Test
    void closedAndMistypedArgumentsAreNamed() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.ones(1, 1, 4, 4), w = Tensor.ones(1, 1, 3, 3), y = Tensor.full(CPU, 7f, 1, 1, 2, 2);
            w.close();
            IllegalStateException closed = assertThrows(IllegalStateException.class,
                    () -> Conv2dNative.forward(CONV, x, w, null, y));
            assertTrue(closed.getMessage().equals("conv2d forward: argument 'weight' is closed"), closed.getMessage());

            Pool2dDesc pool = new Pool2dDesc(1, 1, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2);
            Tensor floatIndex = Tensor.empty(CPU, 1, 1, 2, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> PoolNative.maxPool2d(pool, x, y, floatIndex));
            assertNamed(e, "max_pool2d", "'index'", "i32");
            assertArrayEquals(new float[] {7, 7, 7, 7}, y.toFloatArray());
            PoolNative.maxPool2d(pool, x, y, Tensor.empty(CPU, DType.I32, 1, 1, 2, 2));
            assertArrayEquals(new float[] {1, 1, 1, 1}, y.toFloatArray());
        }
    }

    @Test
    void descriptorFieldsThatDoNotFitTheirCTypeAreRefusedByName() {
        try (Scope s = Scope.open()) {
            Conv2dDesc wide = new Conv2dDesc(1, 1, 4, 4, 1, 3, 3, (1L << 32) + 1, 1, 0, 0, 1, 1, 2, 2);
            Tensor y = Tensor.full(CPU, 7f, 1, 1, 2, 2);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Conv2dNative.forward(wide, Tensor.ones(1, 1, 4, 4), Tensor.ones(1, 1, 3, 3), null, y));
            assertNamed(e, "strideH", "stride_h", "32 bits");
            assertArrayEquals(new float[] {7, 7, 7, 7}, y.toFloatArray());
            e = assertThrows(IllegalArgumentException.class, () -> Conv2dNative.workspaceSize(
                    new Conv2dDesc(1, 1, 4, 4, 1, 3, 3, 1, 1, 0, 0, 1, -(1L << 40), 2, 2)));
            assertNamed(e, "dilationW");
            assertTrue(Conv2dNative.workspaceSize(CONV) >= 0);
        }
    }

    private static void assertNamed(Exception e, String... parts) {
        for (String p : parts) assertTrue(e.getMessage().contains(p), "'" + p + "' missing from: " + e.getMessage());
    }
}
