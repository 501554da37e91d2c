package dev.kiln.interop;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * JCuda is an optional dependency: only JCudaInterop and its helper may name a JCuda class, so that no other Kiln
 * class can fail to link where JCuda is absent. Checked on the compiled classes' constant pools.
 */
class OptionalJCudaTest {
    @Test
    void onlyTheJCudaBridgeNamesJCudaClasses() throws Exception {
        Path classes = Path.of(DirectBuffers.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> offenders;
        try (Stream<Path> files = Files.walk(classes)) {
            offenders = files.filter(f -> f.toString().endsWith(".class"))
                    .filter(f -> !classes.relativize(f).toString().replace('\\', '/').startsWith("dev/kiln/interop/JCuda"))
                    .filter(OptionalJCudaTest::namesJCuda)
                    .map(f -> classes.relativize(f).toString())
                    .collect(Collectors.toList());
        }
        assertTrue(Files.exists(classes.resolve("dev/kiln/interop/JCudaInterop.class")), "scanned the wrong folder: " + classes);
        assertEquals(List.of(), offenders, "classes outside dev.kiln.interop.JCuda* that refer to JCuda");
    }

    private static boolean namesJCuda(Path classFile) {
        try {
            // Class names sit in the constant pool as modified UTF-8, which is ASCII for these names.
            String text = new String(Files.readAllBytes(classFile), StandardCharsets.ISO_8859_1);
            return text.contains("jcuda/");  // any class of the jcuda packages: jcuda/Pointer, jcuda/runtime/..., jcuda/driver/...
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
