package dev.kiln.internal;

import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Natives named like a C ABI entry bind to the glue the compiler wrote from kiln.h (native/src/jni/jni_abi.cpp): every
 * binding class binds, a declaration whose Java types differ from the C prototype or that names no entry is refused
 * with both signatures named, and a bound entry computes what the C ABI computes.
 */
class AbiBindingTest {
    /** Right: kiln_scale_f32(kiln_context*, const float* x, float* y, int64_t n, float alpha). */
    static final class Scale {
        static {
            NativeLibrary.bindAbi(Scale.class);
        }

        static native void kiln_scale_f32(long ctx, long x, long y, long n, float alpha);
    }

    /** alpha declared double: the C float would be read from the wrong register. */
    static final class WrongType {
        static native void kiln_scale_f32(long ctx, long x, long y, long n, double alpha);
    }

    /** n declared int: int64_t is a Java long. */
    static final class WrongWidth {
        static native void kiln_scale_f32(long ctx, long x, long y, int n, float alpha);
    }

    /** kiln_flush_l2 writes a host uint64_t: a long there would be taken for a device address (jni_abi.cpp). */
    static final class HostOutPointer {
        static native void kiln_flush_l2(long ctx, long bytes);
    }

    static final class NoSuchEntry {
        static native void kiln_scale_f64(long ctx, long x, long y, long n, double alpha);
    }

    /** kiln_context_create's out-handle has no Java form: it is bound by hand (jni_runtime.cpp), never here. */
    static final class NoJavaForm {
        static native void kiln_context_create(int kind, int index, long out);
    }

    /** A descriptor entry declared with a long where the record goes. */
    static final class DescriptorAsLong {
        static native void kiln_max_pool2d_f32(long ctx, long desc, long x, long y, long index);
    }

    @Test
    void everyBindingClassBinds() throws Exception {
        List<String> bindings = bindingClasses();
        assertTrue(bindings.size() >= 15, "binding classes found: " + bindings);
        int natives = 0;
        for (String name : bindings) {
            Class<?> c = Class.forName("dev.kiln.internal." + name, true, getClass().getClassLoader());
            for (Method m : c.getDeclaredMethods()) {
                if (Modifier.isNative(m.getModifiers()) && m.getName().startsWith("kiln_")) natives++;
            }
        }
        // Every family without a hand-written glue file crosses here: at least the 50-odd op entries.
        assertTrue(natives >= 50, "natives bound from kiln.h: " + natives);
    }

    @Test
    void declarationsThatDifferFromKilnHAreRefusedNamingBothSignatures() {
        LinkageError e = assertThrows(LinkageError.class, () -> NativeLibrary.bindAbi(WrongType.class));
        assertTrue(e.getMessage().contains("WrongType.kiln_scale_f32"), e.getMessage());
        assertTrue(e.getMessage().contains("(JJJJD)V") && e.getMessage().contains("(JJJJF)V"), e.getMessage());

        e = assertThrows(LinkageError.class, () -> NativeLibrary.bindAbi(WrongWidth.class));
        assertTrue(e.getMessage().contains("(JJJIF)V") && e.getMessage().contains("(JJJJF)V"), e.getMessage());

        e = assertThrows(LinkageError.class, () -> NativeLibrary.bindAbi(DescriptorAsLong.class));
        assertTrue(e.getMessage().contains("Ldev/kiln/internal/Pool2dDesc;"), e.getMessage());

        e = assertThrows(LinkageError.class, () -> NativeLibrary.bindAbi(NoSuchEntry.class));
        assertTrue(e.getMessage().contains("kiln_scale_f64"), e.getMessage());

        e = assertThrows(LinkageError.class, () -> NativeLibrary.bindAbi(NoJavaForm.class));
        assertTrue(e.getMessage().contains("kiln_context_create"), e.getMessage());

        // Every parameter of kiln_flush_l2 looks like a long, but its uint64_t* is a host out-value: never bound here.
        e = assertThrows(LinkageError.class, () -> NativeLibrary.bindAbi(HostOutPointer.class));
        assertTrue(e.getMessage().contains("kiln_flush_l2"), e.getMessage());

        // Nothing was bound: a call would fail rather than run glue of another shape.
        assertThrows(UnsatisfiedLinkError.class, () -> WrongType.kiln_scale_f32(0, 0, 0, 0, 1.0));
    }

    @Test
    void aBoundEntryComputesAndThrowsLikeTheCAbi() {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(new float[] {1, -2, 3}, 3), y = Tensor.zeros(3);
            Call c = new Call("scale");
            long xa = c.f32("x", x, 3), ya = c.f32("y", y, 3);
            Scale.kiln_scale_f32(c.context(), xa, ya, 3, 2.5f);
            c.fence();
            assertArrayEquals(new float[] {2.5f, -5f, 7.5f}, y.toFloatArray());

            // A failed status becomes the exception of its kind, with the C ABI's message.
            Call bad = new Call("scale");
            long xb = bad.f32("x", x, 3), yb = bad.f32("y", y, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Scale.kiln_scale_f32(bad.context(), xb, yb, -1, 1f));
            bad.fence();
            assertTrue(e.getMessage().contains("kiln_scale_f32"), e.getMessage());
        }
    }

    @Test
    void jniSignaturesOfJavaDeclarations() throws NoSuchMethodException {
        Method m = DescriptorAsLong.class.getDeclaredMethod("kiln_max_pool2d_f32", long.class, long.class, long.class,
                long.class, long.class);
        assertEquals("(JJJJJ)V", NativeLibrary.jniSignature(m));
        Method p = PoolNative.class.getDeclaredMethod("kiln_avg_pool2d_f32", long.class, Pool2dDesc.class, long.class,
                long.class, int.class);
        assertEquals("(JLdev/kiln/internal/Pool2dDesc;JJI)V", NativeLibrary.jniSignature(p));
        assertFalse(Modifier.isPublic(p.getModifiers()), "natives stay private to their binding class");
    }

    /** The *Native classes compiled into target/classes, found on disk so that a new family is covered unlisted. */
    private List<String> bindingClasses() throws IOException, URISyntaxException {
        Path dir = Path.of(NativeLibrary.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("dev/kiln/internal");
        try (Stream<Path> files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString())
                    .filter(f -> f.endsWith("Native.class") && !f.contains("$"))
                    .map(f -> f.substring(0, f.length() - ".class".length()))
                    .sorted().collect(Collectors.toList());
        }
    }
}
