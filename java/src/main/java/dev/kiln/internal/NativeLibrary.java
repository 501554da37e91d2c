package dev.kiln.internal;

import dev.kiln.KilnNativeLoadException;

/**
 * The loader hook every binding class shares: loads libkiln once, whose JNI_OnLoad registers the natives of every
 * binding class, and hands the load failure, if any, to each caller. Entries that take a tensor need not call it:
 * a tensor exists only once the library has loaded. Not public API.
 */
public final class NativeLibrary {
    private static final KilnNativeLoadException LOAD_FAILURE = NativeLoader.tryLoad();

    private NativeLibrary() {
    }

    /** Throws the load failure, if loading failed. */
    public static void ensureLoaded() {
        if (LOAD_FAILURE != null) throw new KilnNativeLoadException(LOAD_FAILURE.getMessage(), LOAD_FAILURE);
    }
}
