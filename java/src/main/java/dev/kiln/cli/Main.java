package dev.kiln.cli;

import dev.kiln.Kiln;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kiln} command: {@code kiln info}, {@code kiln train MODEL [options]}, {@code kiln sample vae|gan|charlm},
 * {@code kiln eval MODEL}.
 */
// --help and --version on every subcommand too (INHERIT): `kiln train --help` lists train's options.
@Command(name = "kiln", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        scope = CommandLine.ScopeType.INHERIT,
        description = "Kiln: GPU kernels for the JVM. Train the reference models and inspect the native library.",
        subcommands = {InfoCommand.class, TrainCommand.class, SampleCommand.class, EvalCommand.class, DemoCommand.class,
                BenchCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        // The library's diagnostics (System.Logger, java.util.logging by default) as one "kiln: ..." line each.
        if (System.getProperty("java.util.logging.SimpleFormatter.format") == null) {
            System.setProperty("java.util.logging.SimpleFormatter.format", "kiln: %5$s%6$s%n");
        }
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // A failure the user can act on: print its message, not a stack trace.
            cmd.getErr().println("kiln: " + describe(e));
            if (System.getenv("KILN_DEBUG") != null) e.printStackTrace(cmd.getErr());
            return e instanceof Interrupt.Stopped ? Interrupt.exitCode() : 1;
        });
        return cli.execute(args);
    }

    /**
     * One line for a failure: its message, except where the message alone does not say what went wrong. A file
     * system exception's message is often just the path ("runs/x"), and some I/O errors name no path at all.
     */
    static String describe(Throwable e) {
        if (e instanceof java.io.UncheckedIOException u && u.getCause() != null) {
            String outer = u.getMessage(), inner = describe(u.getCause());
            return outer == null || outer.equals(u.getCause().toString()) ? inner : outer + " (" + inner + ")";
        }
        if (e instanceof java.nio.file.FileSystemException f) {
            String what = f instanceof java.nio.file.NoSuchFileException ? "no such file or folder"
                    : f instanceof java.nio.file.FileAlreadyExistsException ? "already exists"
                    : f instanceof java.nio.file.AccessDeniedException ? "permission denied"
                    : f instanceof java.nio.file.NotDirectoryException ? "not a folder"
                    : f instanceof java.nio.file.DirectoryNotEmptyException ? "folder not empty"
                    : f.getReason() != null ? f.getReason() : f.getClass().getSimpleName();
            String other = f.getOtherFile() != null ? " -> " + f.getOtherFile() : "";
            return (f.getFile() != null ? f.getFile() + other + ": " : "") + what;
        }
        String message = e.getMessage();
        return message == null || message.isBlank() ? e.getClass().getSimpleName() : message;
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            // picocli asks for the version while it builds the command line, before any command runs: a library
            // that did not load must still leave --help, --version and each command's own one-line error working.
            try {
                return new String[] {Kiln.buildInfo()};
            } catch (RuntimeException | LinkageError e) {
                return new String[] {"kiln " + Kiln.version() + " (native library not loaded: " + describe(e) + ")"};
            }
        }
    }
}
