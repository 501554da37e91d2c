package dev.kiln.internal;

import dev.kiln.DType;
import dev.kiln.Device;
import dev.kiln.KilnNativeLoadException;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class NativeTest {
    @Test
    void libraryWasExtractedFromTheJarResources() {
        NativeLibrary.ensureLoaded();
        Path from = NativeLoader.loadedFrom();
        assertNotNull(from);
        assertTrue(from.toString().contains(NativeLoader.version() + "-"), from.toString());
        assertEquals(1, RuntimeNative.abiVersion());
    }

    /** A null range name is an exception from the glue (GetStringUTFChars(null) crashed the JVM). */
    @Test
    void aNullRangeNameIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> ProfilerNative.rangePush(null));
    }

    /**
     * The glue re-checks an array range before it pins the array and copies through a raw pointer: a call that skips
     * the binding's own check (here by reflection) gets an exception, not a read or write past the array.
     */
    @Test
    void theGlueRefusesAnArrayRangeOutsideTheArray() throws ReflectiveOperationException {
        long ctx = Contexts.of(Device.cpu());
        long block = RuntimeNative.alloc(ctx, 1 << 22);
        try {
            for (String name : new String[] {"copyFromArray0", "copyToArray0"}) {
                java.lang.reflect.Method m = RuntimeNative.class.getDeclaredMethod(name, long.class, long.class, float[].class,
                        int.class, int.class);
                m.setAccessible(true);
                for (Object[] bad : new Object[][] {{new float[4], 1 << 20, 4}, {new float[4], 2, 3}, {new float[4], -1, 2},
                        {new float[4], 0, -1}, {null, 0, 1}}) {
                    java.lang.reflect.InvocationTargetException e = assertThrows(java.lang.reflect.InvocationTargetException.class,
                            () -> m.invoke(null, ctx, block, bad[0], bad[1], bad[2]));
                    assertTrue(e.getCause() instanceof IllegalArgumentException, name + ": " + e.getCause());
                }
                m.invoke(null, ctx, block, new float[4], 1, 3);  // a range inside the array is copied
            }
        } finally {
            RuntimeNative.free(ctx, block);
        }
    }

    @Test
    void missingExplicitLibraryNamesPlatformAndPath(@TempDir Path dir) {
        Path missing = dir.resolve("nowhere/libkiln.so");
        KilnNativeLoadException e = assertThrows(KilnNativeLoadException.class,
                () -> NativeLoader.load(missing.toString(), getClass().getClassLoader(), List.of(dir)));
        String m = e.getMessage();
        assertTrue(m.contains("os=" + System.getProperty("os.name")) && m.contains("arch=" + System.getProperty("os.arch")), m);
        assertTrue(m.contains(missing.toString()) && m.contains("kiln.library.path"), m);
    }

    @Test
    void corruptLibraryIsAClearErrorNotACrash(@TempDir Path dir) throws IOException {
        Path bogus = Files.writeString(dir.resolve("libkiln.so"), "not an ELF file");
        KilnNativeLoadException e = assertThrows(KilnNativeLoadException.class,
                () -> NativeLoader.load(dir.toString(), getClass().getClassLoader(), List.of(dir)));
        assertTrue(e.getMessage().contains(bogus.toString()), e.getMessage());
        assertTrue(e.getCause() instanceof UnsatisfiedLinkError);
    }

    @Test
    void jarWithoutOurPlatformSaysSo(@TempDir Path dir) {
        ClassLoader empty = new ClassLoader(null) {
            @Override
            public InputStream getResourceAsStream(String name) {
                return null;
            }
        };
        KilnNativeLoadException e = assertThrows(KilnNativeLoadException.class, () -> NativeLoader.load(null, empty, List.of(dir)));
        assertTrue(e.getMessage().contains("native/" + NativeLoader.platform() + "/libkiln.so"), e.getMessage());
        assertTrue(e.getMessage().contains("no library for " + NativeLoader.platform()), e.getMessage());
    }

    @Test
    void wrappersRejectWhatWouldCrashNativeCode() {
        long ctx = Contexts.of(Device.cpu());
        long buf = RuntimeNative.alloc(ctx, 16);
        try (Tensor t = Tensor.zeros(4); Tensor ints = Tensor.empty(Device.cpu(), DType.I32, 4)) {
            float[] a = new float[4];
            assertThrows(IllegalArgumentException.class, () -> RuntimeNative.copyToArray(t, a, 2, 3));
            assertThrows(IllegalArgumentException.class, () -> RuntimeNative.copyToArray(t, a, -1, 1));
            assertThrows(IllegalArgumentException.class, () -> RuntimeNative.copyFromArray(t, null, 0, 0));
            // No context and no address: a missing tensor, or one of the wrong dtype, stops in Java.
            assertThrows(IllegalArgumentException.class, () -> RandomNative.fill(null, 1f));
            assertThrows(IllegalArgumentException.class, () -> RandomNative.fill(ints, 1f));
            assertThrows(IllegalArgumentException.class, () -> RuntimeNative.alloc(ctx, -5));
            // Reported by the native side: a pointer the allocator never gave out.
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RuntimeNative.free(ctx, buf + 4));
            assertTrue(e.getMessage().contains("kiln_free") && e.getMessage().contains("not allocated"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> RandomNative.uniform(t, 1, 0, 1f, 1f));
            assertTrue(e.getMessage().contains("lo < hi"), e.getMessage());
        } finally {
            RuntimeNative.free(ctx, buf);
        }
        RuntimeNative.noop();
    }
}
