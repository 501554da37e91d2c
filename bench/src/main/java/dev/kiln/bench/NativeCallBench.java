package dev.kiln.bench;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.RandomNative;
import dev.kiln.internal.RuntimeNative;
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
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * Cost of one round trip into the native library, against a plain Java call measured in the same run:
 * the bare JNI crossing ({@code noop}), a checked op entry that does real (tiny) work ({@code fillOneElement}),
 * and a full allocate-and-free of a one-element tensor through the Java API.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 2, jvmArgsAppend = "-Xmx1g")
public class NativeCallBench {
    private Tensor one;
    private int counter;

    @Setup(Level.Trial)
    public void setup() {
        one = Tensor.zeros(Device.cpu(), 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        one.close();
    }

    /** The peer: a non-inlined Java static call doing the same nothing. */
    @Benchmark
    public int javaCall() {
        return javaNoop(counter++);
    }

    @Benchmark
    public void noop() {
        RuntimeNative.noop();
    }

    @Benchmark
    public void fillOneElement() {
        RandomNative.fill(one, 3f);
    }

    @Benchmark
    public void allocateAndFreeTensor(Blackhole bh) {
        try (Tensor t = Tensor.empty(Device.cpu(), 1)) {
            bh.consume(t);
        }
    }

    @org.openjdk.jmh.annotations.CompilerControl(org.openjdk.jmh.annotations.CompilerControl.Mode.DONT_INLINE)
    private static int javaNoop(int x) {
        return x;
    }
}
