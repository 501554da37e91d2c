package dev.kiln.profile;

/**
 * A named stretch of a thread's work ({@link dev.kiln.Profiler#range(String)}): a training step, its forward and
 * backward passes, the optimizer's update, or anything a user names.
 *
 * @param name       "step 42", "forward", "backward", "optimizer", or the user's name
 * @param startNanos from the recording's start
 * @param endNanos   from the recording's start
 * @param depth      0 for an outermost range
 * @param thread     the Java thread it ran on
 */
public record RangeRecord(String name, long startNanos, long endNanos, int depth, long thread) {
    /** The range's duration in milliseconds. */
    public double millis() {
        return (endNanos - startNanos) / 1e6;
    }
}
