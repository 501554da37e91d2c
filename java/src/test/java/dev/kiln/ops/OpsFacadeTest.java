// The generated Ops facade (java/src/codegen/GenerateOpsFacade.java) against the @Op methods it is generated from.
package dev.kiln.ops;

import dev.kiln.Scope;
import dev.kiln.Tensor;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class OpsFacadeTest {
    /** "name(param types) -> return type" of a method, the facade's contract with its family. */
    private static String signature(Method m) {
        return m.getName() + Arrays.toString(m.getParameterTypes()) + " -> " + m.getReturnType().getName();
    }

    /** Every class of dev.kiln.ops, found beside Ops.class (the build's classes directory). */
    private static List<Class<?>> opsPackageClasses() throws Exception {
        Path dir = Path.of(Ops.class.getResource("Ops.class").toURI()).getParent();
        List<Class<?>> classes = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                String name = f.getFileName().toString();
                if (!name.endsWith(".class") || name.contains("$")) continue;
                classes.add(Class.forName("dev.kiln.ops." + name.substring(0, name.length() - ".class".length())));
            }
        }
        return classes;
    }

    @Test
    void facadeHasExactlyTheOpMethodsOfTheFamilies() throws Exception {
        Map<String, String> marked = new TreeMap<>();  // signature -> family class
        for (Class<?> c : opsPackageClasses()) {
            if (c == Ops.class) continue;
            for (Method m : c.getDeclaredMethods()) {
                if (!m.isAnnotationPresent(Op.class)) continue;
                assertTrue(Modifier.isStatic(m.getModifiers()), c.getSimpleName() + "." + m.getName() + " is not static");
                String previous = marked.put(signature(m), c.getSimpleName());
                assertEquals(null, previous, signature(m) + " is marked @Op in two families");
            }
        }
        Map<String, String> facade = new TreeMap<>();
        for (Method m : Ops.class.getDeclaredMethods()) {
            if (!Modifier.isPublic(m.getModifiers())) continue;
            assertTrue(Modifier.isStatic(m.getModifiers()), "Ops." + m.getName() + " is not static");
            facade.put(signature(m), "Ops");
        }
        List<String> missing = new ArrayList<>(marked.keySet()), extra = new ArrayList<>(facade.keySet());
        missing.removeAll(facade.keySet());
        extra.removeAll(marked.keySet());
        assertEquals(List.of(), missing, "@Op methods missing from the facade");
        assertEquals(List.of(), extra, "public facade methods that no family marks @Op");
        // The families the facade is made of: a family losing its @Op marks would drop out of the API silently.
        assertTrue(marked.values().containsAll(List.of("GemmOps", "ElementwiseOps", "ReduceOps", "LossOps",
                "SamplingOps", "Conv2dOps", "PoolOps", "BatchNormOps", "LstmOps", "ViewOps", "RandomOps", "RuntimeOps",
                "OptimOps", "SliceOps", "AttentionOps", "LayerNormOps", "EmbeddingOps", "ConvertOps")), marked.toString());
    }

    @Test
    void facadeIsTheOnlyPublicClassOfTheFamilies() throws Exception {
        // The family classes stay package-private: users see one class, Ops, whatever families exist.
        for (Class<?> c : opsPackageClasses()) {
            boolean family = c.getSimpleName().endsWith("Ops") && c != Ops.class;
            if (family) assertFalse(Modifier.isPublic(c.getModifiers()), c + " is public");
        }
    }

    @Test
    void facadeDelegatesWithItsArgumentsInOrder() {
        // Arguments reach the family in order: narrow's axis, start and length are three ints a swap would confuse.
        try (Scope scope = Scope.open()) {
            Tensor x = Tensor.of(new float[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, 3, 4);
            Tensor band = Ops.narrow(x, 1, 1, 2);
            assertEquals(List.of(3, 2), Arrays.stream(band.shape()).boxed().toList());
            assertTrue(Arrays.equals(new float[] {1, 2, 5, 6, 9, 10}, band.toFloatArray()),
                    Arrays.toString(band.toFloatArray()));
        }
    }
}
