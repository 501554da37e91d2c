package dev.kiln.cli;

import dev.kiln.Kiln;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code kiln} command: {@code kiln info}, {@code kiln train MODEL [options]}, {@code kiln sample vae|gan},
 * {@code kiln eval MODEL}.
 */
@Command(name = "kiln", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Kiln: GPU kernels for the JVM. Train the reference models and inspect the native library.",
        subcommands = {InfoCommand.class, TrainCommand.class, SampleCommand.class, EvalCommand.class})
public final class Main implements Runnable {
    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns the exit code (tests call this instead of main). */
    public static int run(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, cmd, parsed) -> {
            // A failure the user can act on: print its message, not a stack trace.
            cmd.getErr().println("kiln: " + e.getMessage());
            if (System.getenv("KILN_DEBUG") != null) e.printStackTrace(cmd.getErr());
            return 1;
        });
        return cli.execute(args);
    }

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            return new String[] {Kiln.buildInfo()};
        }
    }
}
