package dev.kiln.bench;

import dev.kiln.Device;
import dev.kiln.Profiler;
import dev.kiln.Tensor;
import dev.kiln.ops.Ops;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What the profiler costs. {@code smallOp} scales 256 floats in place (by 1) through the Java API with no profiler
 * recording: the smallest op a model runs, paying the profiler's check as every op does. {@code offCheck} is that
 * check alone (a volatile read and a null test, as {@code Call} and {@code Profiler.range} do it); its ratio to
 * {@code smallOp} is the cost when off. {@code smallOpRecorded} is the same op while a profiler records (restarted
 * every iteration so its records do not pile up): the cost when on.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "-Xmx2g")
public class ProfilerBench {
    private Tensor x;

    @Setup(Level.Trial)
    public void setup() {
        x = Tensor.rand(Device.cpu(), 256);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        x.close();
    }

    @Benchmark
    public Tensor smallOp() {
        return Ops.scale_(x, 1f);
    }

    @Benchmark
    public boolean offCheck() {
        return Profiler.active() == null;
    }

    @State(Scope.Thread)
    public static class Recording {
        Profiler profiler;

        @Setup(Level.Iteration)
        public void start() {
            profiler = Profiler.start();
        }

        @TearDown(Level.Iteration)
        public void stop() {
            profiler.stop();
        }
    }

    @Benchmark
    public Tensor smallOpRecorded(Recording recording) {
        return Ops.scale_(x, 1f);
    }
}
