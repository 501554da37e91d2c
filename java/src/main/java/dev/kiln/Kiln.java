package dev.kiln;

import dev.kiln.internal.NativeLoader;
import dev.kiln.internal.RuntimeNative;

import java.nio.file.Path;

/** Library-wide facts and the default random generator. */
public final class Kiln {
    private static volatile Generator defaultGenerator = new Generator(0x4b494c4eL);

    private Kiln() {
    }

    /** Version of the Java API and the native library it ships with. */
    public static String version() {
        return NativeLoader.version();
    }

    /** How the native library was built: version, CUDA architectures or cpu-only, and the CPU vector ISA in use. */
    public static String buildInfo() {
        return RuntimeNative.buildInfo();
    }

    /** Where the native library was loaded from (the extracted file in the cache, or -Dkiln.library.path). */
    public static Path nativeLibraryPath() {
        RuntimeNative.abiVersion();  // loads the library if nothing has yet
        return NativeLoader.loadedFrom();
    }

    /** The generator used by {@link Tensor#rand} and {@link Tensor#randn} when none is given. */
    public static Generator defaultGenerator() {
        return defaultGenerator;
    }

    /** Restarts the default generator at {@code seed}, offset 0. */
    public static void manualSeed(long seed) {
        defaultGenerator = new Generator(seed);
    }
}
