package dev.kiln;

import dev.kiln.ops.Autograd;
import dev.kiln.ops.Ops;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * bf16 as a dtype: conversions against a reference of round-to-nearest-even computed here from each value's two bf16
 * neighbours, round trips through every device, the Tensor methods that move bf16 data, autograd through casts, and
 * the refusals of fp32-only ops.
 */
class ConvertTest {
    static List<Device> devices() {
        return Devices.all();
    }

    /** The bf16 nearest to x (ties to the even one), NaN quiet with its sign and upper payload; from doubles. */
    static short reference(float x) {
        int u = Float.floatToRawIntBits(x);
        if (Float.isNaN(x)) return (short) ((u >>> 16) | 0x40);
        int truncated = u & 0xffff0000;  // toward zero
        if ((u & 0xffff) == 0) return (short) (truncated >>> 16);
        double lo = Math.abs((double) Float.intBitsToFloat(truncated));
        // The next bf16 away from zero; past the largest finite one it is 2^128, where rounding lands on infinity.
        int nextBits = (truncated & 0x7fffffff) + 0x10000;
        double hi = nextBits == 0x7f800000 ? 0x1p128 : Math.abs((double) Float.intBitsToFloat(nextBits));
        double ax = Math.abs((double) x);
        double below = ax - lo, above = hi - ax;
        boolean up = above < below || (above == below && ((truncated >>> 16) & 1) == 1);
        int r = up ? ((truncated >>> 16) & 0x8000) | (nextBits >>> 16) : truncated >>> 16;
        return (short) r;
    }

    static float widen(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    static short[] bits(Tensor bf16) {
        short[] out = new short[(int) bf16.numel()];
        bf16.copyTo(0, out, 0, out.length);
        return out;
    }

    /** Values with every kind of rounding: ties both ways, overflow, subnormals, signed zeros, NaNs, infinities. */
    static float[] probes(int random) {
        int[] special = {0x3f800000, 0x3f808000, 0x3f818000, 0x3f808001, 0x3f807fff, 0xbf808001, 0x00000000, 0x80000000,
                0x00000001, 0x00008000, 0x00018000, 0x007fffff, 0x7f7f7fff, 0x7f7f8000, 0x7f7fffff, 0xff7fffff, 0x7f800000,
                0xff800000, 0x7fc00000, 0x7f800001, 0x7fa00000, 0xffffffff, 0x40490fdb, 0x3dcccccd};
        float[] v = new float[special.length + random];
        for (int i = 0; i < special.length; i++) v[i] = Float.intBitsToFloat(special[i]);
        Random r = new Random(7);
        for (int i = special.length; i < v.length; i++) {
            v[i] = i % 3 == 0 ? Float.intBitsToFloat(r.nextInt()) : (float) r.nextGaussian() * 100f;
        }
        return v;
    }

    @Test
    void referenceAgreesWithHandWorkedAnswers() {
        assertEquals((short) 0x3f80, reference(1f));
        assertEquals((short) 0x3f80, reference(Float.intBitsToFloat(0x3f808000)));  // tie to even, down
        assertEquals((short) 0x3f82, reference(Float.intBitsToFloat(0x3f818000)));  // tie to even, up
        assertEquals((short) 0x7f80, reference(Float.MAX_VALUE));
        assertEquals((short) 0xff80, reference(-Float.MAX_VALUE));
        assertEquals((short) 0x8000, reference(-0f));
        assertEquals((short) 0x0000, reference(Float.MIN_VALUE));
        assertEquals((short) 0x0080, reference(Float.intBitsToFloat(0x007fffff)));
        assertEquals((short) 0x7fc0, reference(Float.intBitsToFloat(0x7f800001)));
    }

    @ParameterizedTest
    @MethodSource("devices")
    void toBf16RoundsToNearestEvenAndToF32WidensExactly(Device device) {
        float[] v = probes(20000);
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.of(device, v, v.length);
            Tensor b = Ops.toBf16(x);
            assertEquals(DType.BF16, b.dtype());
            assertEquals(device, b.device());
            assertArrayEquals(x.shape(), b.shape());
            short[] got = bits(b);
            for (int i = 0; i < v.length; i++) {
                assertEquals(reference(v[i]), got[i], () -> "bits of " + v.length + " probes; first wrong at 0x"
                        + Integer.toHexString(Float.floatToRawIntBits(v[0])));
            }
            // Widening is exact: the bits shifted up, NaN payloads included.
            float[] wide = Ops.toF32(b).toFloatArray();
            float[] direct = b.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                assertEquals((got[i] & 0xffff) << 16, Float.floatToRawIntBits(wide[i]));
                assertEquals((got[i] & 0xffff) << 16, Float.floatToRawIntBits(direct[i]));
            }
            // A bf16 value survives the round trip unchanged (the NaNs and infinities too).
            short[] again = bits(Ops.toBf16(Ops.toF32(b)));
            assertArrayEquals(got, again);
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void tensorMethodsMoveBf16Data(Device device) {
        float[] v = probes(3000);
        try (Scope scope = Scope.open()) {
            Tensor t = Tensor.empty(device, DType.BF16, 3, v.length / 3);
            float[] src = java.util.Arrays.copyOf(v, 3 * (v.length / 3));
            t.copyFrom(src, 0);  // rounding on the way in
            short[] want = new short[src.length];
            for (int i = 0; i < src.length; i++) want[i] = reference(src[i]);
            assertArrayEquals(want, bits(t));
            float[] back = t.toFloatArray();
            for (int i = 0; i < src.length; i++) assertEquals((want[i] & 0xffff) << 16, Float.floatToRawIntBits(back[i]));
            assertEquals(widen(want[0]), t.view(-1).toFloatArray()[0]);
            assertTrue(t.toString().contains("bf16"), t.toString());

            // Slices both ways, and the raw bits.
            float[] part = new float[5];
            t.copyTo(7, part, 0, 5);
            for (int i = 0; i < 5; i++) assertEquals(widen(want[7 + i]), part[i]);
            t.copyFrom(new float[] {9f, 1.00390625f, -3f}, 1, 10, 2);  // 1 + 2^-8 is a tie: to 1
            float[] after = t.toFloatArray();
            assertEquals(1f, after[10]);
            assertEquals(-3f, after[11]);
            assertEquals(widen(want[12]), after[12]);
            t.copyFrom(new short[] {(short) 0x7f81, (short) 0x4049}, 0, 20, 2);  // a signalling NaN stays as it is
            short[] raw = new short[2];
            t.copyTo(20, raw, 0, 2);
            assertArrayEquals(new short[] {(short) 0x7f81, (short) 0x4049}, raw);

            // Copies across devices, views and reshapes keep the bits.
            short[] all = bits(t);
            for (Device other : devices()) {
                Tensor moved = t.to(other);
                assertEquals(DType.BF16, moved.dtype());
                assertArrayEquals(all, bits(moved.to(device)));
            }
            assertArrayEquals(all, bits(t.copy()));
            Tensor r = t.reshape(-1, 3);
            assertEquals(DType.BF16, r.dtype());
            assertArrayEquals(all, bits(r));
            assertEquals(widen(all[0]), t.reshape(1, -1).view(-1).toFloatArray()[0]);

            // One element.
            Tensor one = Tensor.empty(device, DType.BF16, 1);
            one.copyFrom(new float[] {0.1f}, 0);
            assertEquals(widen(reference(0.1f)), one.item());

            // Bad ranges are refused before anything moves.
            assertThrows(IllegalArgumentException.class, () -> t.copyTo(t.numel() - 2, new float[5], 0, 5));
            assertThrows(IllegalArgumentException.class, () -> t.copyTo(0, new float[5], 3, 5));
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[5], 0, t.numel() - 1, 2));
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[5], 0, -1, 2));
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new short[2], 0, t.numel(), 1));
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom((float[]) null, 0, 0, 1));
            assertThrows(IllegalArgumentException.class, () -> t.copyFrom(new float[src.length - 1], 0));
            assertArrayEquals(all, bits(t));  // untouched by the refused calls
        }
    }

    @ParameterizedTest
    @MethodSource("devices")
    void gradientsFlowThroughCasts(Device device) {
        float[] w0 = {0.1f, -1.7f, 3.14159f, 1e-3f, 250.3f, -0.0f};
        float[] c = {0.3f, 1.01f, -2.2f, 0.7f, 1f / 3f, 5f};
        try (Scope scope = Scope.open()) {
            Tensor w = Tensor.of(device, w0, w0.length).requiresGrad();
            Tensor coeff = Tensor.of(device, c, c.length);
            Tensor b = Ops.toBf16(w);
            Tensor y = Ops.toF32(b);
            // Forward: the rounded values.
            float[] yv = y.toFloatArray();
            for (int i = 0; i < w0.length; i++) assertEquals(widen(reference(w0[i])), yv[i]);
            // loss = sum(y * c): dy = c, the bf16 gradient is c rounded, and w's gradient is that widened.
            Ops.sum(Ops.mul(y, coeff)).backward();
            float[] g = w.grad().toFloatArray();
            for (int i = 0; i < c.length; i++) assertEquals(widen(reference(c[i])), g[i], "element " + i);
            assertNotEquals(c[0], g[0]);  // 0.3 is not a bf16 value: the cast really happened on the way back
            assertEquals(0, Autograd.tapeSize());

            // The fluent form and the same-dtype copy, whose gradient passes through unchanged.
            w.zeroGrad();
            Tensor same = w.to(DType.F32);
            assertNotEquals(same, w);
            Ops.sum(Ops.mul(same.to(DType.BF16).to(DType.F32), coeff)).backward();
            assertArrayEquals(g, w.grad().toFloatArray());
            w.zeroGrad();
            Ops.sum(Ops.mul(w.to(DType.F32), coeff)).backward();
            assertArrayEquals(c, w.grad().toFloatArray());

            // Not recorded under noGrad.
            try (var off = Autograd.noGrad()) {
                Ops.toF32(Ops.toBf16(w));
            }
            assertEquals(0, Autograd.tapeSize());
        }
    }

    @Test
    void fp32OnlyOpsRefuseBf16() {
        try (Scope scope = Scope.open()) {
            Tensor b = Ops.toBf16(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2));
            Tensor f = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
            assertRefused(() -> Ops.relu(b), "relu");
            assertRefused(() -> Ops.add(b, f), "add");
            assertRefused(() -> Ops.add(f, b), "add");
            assertRefused(() -> Ops.matmul(b, f), "matmul");
            assertRefused(() -> Ops.sum(b), "sum");
            assertRefused(() -> Ops.softmax(b), "softmax");
            assertRefused(() -> Ops.fill_(b, 1f), "fill_");
            assertRefused(() -> Ops.toBf16(b), "toBf16");
            assertRefused(() -> Ops.toF32(f), "toF32");
            assertRefused(() -> Ops.to(b, DType.I32), "to");
            Tensor ints = Tensor.ofInts(Device.cpu(), new int[] {1, 2});
            assertRefused(() -> Ops.to(ints, DType.BF16), "to");
            assertRefused(() -> Ops.toBf16(ints), "toBf16");
            assertThrows(IllegalArgumentException.class, () -> Ops.to(f, null));
            assertThrows(IllegalArgumentException.class, () -> Ops.toBf16(null));
            assertThrows(IllegalArgumentException.class, b::requiresGrad);
            assertThrows(IllegalArgumentException.class, b::toIntArray);
            // Copies between dtypes are not conversions.
            assertThrows(IllegalArgumentException.class, () -> Ops.copy_(b, f));
            Tensor closed = Ops.toBf16(f);
            closed.close();
            assertThrows(IllegalStateException.class, () -> Ops.toF32(closed));
            assertThrows(IllegalStateException.class, closed::toFloatArray);
        }
    }

    private static void assertRefused(org.junit.jupiter.api.function.Executable call, String op) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, call);
        assertTrue(e.getMessage().startsWith(op) && e.getMessage().contains("f32"), e.getMessage());
    }
}
