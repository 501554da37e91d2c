package dev.kiln.cli;

import dev.kiln.train.Trainer;

/**
 * Ctrl-C during {@code kiln train}. While a run trains, the first Ctrl-C asks its {@link Trainer} to stop after the
 * step in progress: the run then saves its checkpoint at that step (with --save) and ends with {@link Stopped}, exit
 * code 130 (a Ctrl-C while it evaluates between epochs stops it before the next). A second Ctrl-C, or one before
 * training starts or after it ends (loading data, the last evaluation, scoring, pictures), quits at once, as Java does
 * by default; what was saved by then is whole, since every file is replaced atomically.
 *
 * <p>The handler is SIGINT's, through {@code sun.misc.Signal} (module jdk.unsupported, in every JDK); where a JVM
 * refuses it (-Xrs) or lacks it, Ctrl-C keeps Java's default and quits at once.
 */
final class Interrupt implements AutoCloseable {
    /** The end of a run stopped by Ctrl-C: its message says what was saved and how to continue. */
    static final class Stopped extends RuntimeException {
        Stopped(String message) {
            super(message);
        }
    }

    private static final int EXIT_CODE = 130;  // 128 + SIGINT, what shells report for a process Ctrl-C ended

    private final sun.misc.SignalHandler previous;  // the handler before install(), restored by close(); null if none
    private final Runnable quit;
    private volatile Trainer trainer;
    private volatile boolean requested;

    private Interrupt(boolean install, Runnable quit) {
        this.quit = quit;
        sun.misc.SignalHandler old = null;
        if (install) {
            try {
                old = sun.misc.Signal.handle(new sun.misc.Signal("INT"), signal -> request());
            } catch (IllegalArgumentException | LinkageError e) {
                // Refused under -Xrs, or no sun.misc in a runtime image without jdk.unsupported: Ctrl-C keeps
                // Java's default and quits at once, which is what it did before this handler existed.
                old = null;
            }
        }
        previous = old;
    }

    /** Handles Ctrl-C until {@link #close()}. */
    static Interrupt install() {
        return new Interrupt(true, () -> {
            System.err.println(System.lineSeparator() + "kiln: interrupted");
            System.exit(EXIT_CODE);
        });
    }

    /** An interrupt that only {@link #request()} triggers (tests); where Ctrl-C would quit, it throws. */
    static Interrupt none() {
        return new Interrupt(false, () -> {
            throw new IllegalStateException("interrupted outside the training loop");
        });
    }

    /** {@code trainer} is training now; null when the run leaves its training loop. */
    void watch(Trainer trainer) {
        this.trainer = trainer;
        if (trainer != null && requested) trainer.requestStop();
    }

    /** What Ctrl-C does: stop the watched trainer after its step the first time, otherwise quit. */
    void request() {
        Trainer t = trainer;
        if (t == null || requested) {
            quit.run();
            return;
        }
        requested = true;
        t.requestStop();
        System.err.println(System.lineSeparator() + "kiln: stopping after this step (Ctrl-C again to quit at once)");
    }

    static int exitCode() {
        return EXIT_CODE;
    }

    @Override
    public void close() {
        if (previous != null) sun.misc.Signal.handle(new sun.misc.Signal("INT"), previous);
    }
}
