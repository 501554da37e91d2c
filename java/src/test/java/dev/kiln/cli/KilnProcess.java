package dev.kiln.cli;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Test helper: the kiln command line in a JVM of its own, output and errors merged. */
final class KilnProcess {
    private KilnProcess() {
    }

    /**
     * Starts {@code java [jvmOptions] dev.kiln.cli.Main [args]} on the class path this test runs with: surefire puts
     * the module's classes on the module path and the rest on the class path, and the command runs from a class path
     * alone (as ./kiln runs it).
     */
    static Process start(List<String> jvmOptions, List<String> args) throws IOException {
        String path = String.join(java.io.File.pathSeparator, System.getProperty("jdk.module.path", ""),
                System.getProperty("java.class.path", ""));
        // A process started in the background of a non-interactive shell (a CI job, a build run with &) inherits
        // SIGINT ignored, and then the JVM, rightly, installs no handler for it; GNU env resets it to the default.
        List<String> cmd = new ArrayList<>(List.of("env", "--default-signal=INT",
                Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", path, "dev.kiln.cli.Main"));
        cmd.addAll(args);
        return new ProcessBuilder(cmd).redirectErrorStream(true).start();
    }
}
