package dev.kiln.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The roofline figure of a throughput benchmark: each call adds its floating-point operations, and JMH reports the
 * counter per second beside the calls per second, so "gflop" reads as GFLOP/s.
 */
@State(org.openjdk.jmh.annotations.Scope.Thread)
@AuxCounters(AuxCounters.Type.OPERATIONS)
public class Flops {
    public double gflop;

    @Setup(Level.Iteration)
    public void reset() {
        gflop = 0;
    }
}
