package dev.kiln.internal;

import dev.kiln.KilnNativeLoadException;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;

/**
 * The loader hook every binding class shares: loads libkiln once, whose JNI_OnLoad registers the hand-written natives
 * tables, and hands the load failure, if any, to each caller. Entries that take a tensor need not call
 * {@link #ensureLoaded}: a tensor exists only once the library has loaded. Not public API.
 */
public final class NativeLibrary {
    private static final KilnNativeLoadException LOAD_FAILURE = NativeLoader.tryLoad();
    private static final String ABI_PREFIX = "kiln_";

    private NativeLibrary() {
    }

    /** Throws the load failure, if loading failed. */
    public static void ensureLoaded() {
        if (LOAD_FAILURE != null) throw new KilnNativeLoadException(LOAD_FAILURE.getMessage(), LOAD_FAILURE);
    }

    /**
     * Binds every static native of {@code binding} named like a C ABI entry ({@code kiln_gelu_f32}) to the glue the
     * compiler wrote from that entry's prototype in kiln.h (native/src/jni/jni_abi.cpp). A binding class calls it
     * from its static initializer. The declaration must have the Java form of the C parameters: a long for each
     * address, handle, size_t and 64-bit integer; an int for each int32 and enum; float and double as themselves;
     * the family's descriptor record for a {@code const kiln_..._desc*}; and a void result (a failed status is thrown).
     * Anything else fails here, naming the method and both signatures, rather than at the first call. Does nothing
     * when the library did not load: the first call reports that.
     *
     * @throws LinkageError when a declaration has no entry in kiln.h or differs from it
     */
    public static void bindAbi(Class<?> binding) {
        if (LOAD_FAILURE != null) return;
        for (Method m : binding.getDeclaredMethods()) {
            int mods = m.getModifiers();
            if (!Modifier.isNative(mods) || !m.getName().startsWith(ABI_PREFIX)) continue;
            String where = binding.getName() + "." + m.getName();
            if (!Modifier.isStatic(mods)) throw new LinkageError(where + " must be static to bind to the C ABI");
            String expected = abiSignature0(m.getName());
            if (expected == null) {
                throw new LinkageError(where + ": kiln.h has no entry " + m.getName() + " whose parameters all have a "
                        + "Java form (or its descriptor record is not registered); bind it by a hand-written table");
            }
            String declared = jniSignature(m);
            if (!expected.equals(declared)) {
                throw new LinkageError(where + " is declared " + declared + " but kiln.h's prototype needs " + expected);
            }
            bindAbi0(binding, m.getName());
        }
    }

    /** The JNI signature of {@code m}: "(JLdev/kiln/internal/Pool2dDesc;I)V". */
    static String jniSignature(Method m) {
        StringBuilder s = new StringBuilder("(");
        for (Class<?> p : m.getParameterTypes()) s.append(jniType(p));
        return s.append(')').append(jniType(m.getReturnType())).toString();
    }

    private static String jniType(Class<?> c) {
        if (c.isArray()) return "[" + jniType(c.getComponentType());
        if (!c.isPrimitive()) return "L" + c.getName().replace('.', '/') + ";";
        if (c == long.class) return "J";
        if (c == boolean.class) return "Z";
        if (c == void.class) return "V";
        return String.valueOf(Character.toUpperCase(c.getName().charAt(0)));  // int I, float F, double D, byte B, ...
    }

    private static native String abiSignature0(String entry);

    private static native void bindAbi0(Class<?> binding, String entry);
}
