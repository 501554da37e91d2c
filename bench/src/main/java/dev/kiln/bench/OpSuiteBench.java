package dev.kiln.bench;

import dev.kiln.Device;
import dev.kiln.profile.DeviceTimer;
import dev.kiln.profile.OpSuite;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * The op suite (dev.kiln.profile.OpSuite, the cases `kiln bench` times) under JMH, one case per parameter value;
 * {@code -p device=cuda:0} runs it on a GPU. Pick cases with {@code -p op="gemm 512x512x512"}.
 *
 * <p>What the numbers mean. JMH's score is always wall time per invocation, as the host sees it: on the CPU the op
 * itself; on a GPU the launches, the run and the wait for it (each invocation ends by waiting for the device, so it
 * is the op's time, not its launch's), plus the L2 flush when {@code -p flushL2=true}. On a GPU each invocation also
 * times the run alone with CUDA events ({@link DeviceTimer}), and every iteration prints one line,
 * {@code device: X us/op (cuda events, N ops, L2 warm|flushed)}: the mean device time of the op, without the host's
 * launch and wait costs and without the flush. That line, not the score, is the figure to compare with kernel-level
 * tools. With {@code flushL2=true} a write of twice the GPU's L2 is queued before each run (outside the events), so
 * each run starts on cold data; on the CPU the flush does nothing (said once at setup) and no device line is printed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class OpSuiteBench {
    @Param({"gemm 64x784x256", "gemm 4096x128x512", "gemm 256x256x256", "gemm 512x512x512", "gemm 1024x1024x1024", "relu 1M", "add 1M",
            "gelu 1M", "sum 1M", "softmax 256x1000", "cross_entropy 256x1000 fwd+bwd", "bce_with_logits 128x784 fwd+bwd",
            "adam 1M", "conv2d 64x1x28x28 k32 3x3", "conv2d 64x32x13x13 k64 3x3", "conv2d 64x32x13x13 k64 3x3 fwd+bwd",
            "conv2d 32x64x56x56 k64 3x3 pad 1", "max_pool2d 64x32x26x26 2x2 fwd+bwd", "batch_norm 64x32x26x26 fwd+bwd",
            "lstm N=64 T=28 F=28 H=64 fwd", "lstm N=64 T=28 F=28 H=64 fwd+bwd", "lstm N=32 T=100 F=256 H=256 fwd",
            "lstm N=32 T=100 F=256 H=256 fwd+bwd", "attention 8x4x128x32 causal fwd",
            "attention 8x4x128x32 causal fwd+bwd", "attention 4x8x1024x64 fwd", "layer_norm 4096x128 fwd+bwd",
            "reparameterize 1M fwd+bwd", "gaussian_kl 1M fwd+bwd", "transpose 1024x1024",
            "transpose 32x128x8x64 (1,2)"})
    public String op;

    @Param({"cpu"})
    public String device;

    /** Flush the GPU's L2 before each invocation (outside the device-timed part); a no-op on the CPU. */
    @Param({"false"})
    public boolean flushL2;

    private Device dev;
    private OpSuite.Prepared prepared;
    private boolean events;
    private double deviceMillis;
    private long deviceOps;

    @Setup(Level.Trial)
    public void setup() {
        OpSuite.Case c = OpSuite.all().stream().filter(k -> k.name().equals(op)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no op-suite case named '" + op + "' (kiln bench --list)"));
        dev = Device.parse(device);
        prepared = c.prepare().apply(dev);
        events = DeviceTimer.supported(dev);
        if (flushL2 && !dev.isCuda()) System.out.println("L2 flush: no-op on cpu (its caches are not flushed)");
    }

    @Setup(Level.Iteration)
    public void startIteration() {
        deviceMillis = 0;
        deviceOps = 0;
    }

    @TearDown(Level.Iteration)
    public void endIteration() {
        if (events && deviceOps > 0) {
            System.out.printf(Locale.ROOT, "device: %.3f us/op (cuda events, %d ops, L2 %s)%n",
                    1e3 * deviceMillis / deviceOps, deviceOps, flushL2 ? "flushed" : "warm");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        prepared.close();
    }

    @Benchmark
    public void run() {
        if (!events) {
            prepared.run();
            dev.synchronize();
            return;
        }
        if (flushL2) DeviceTimer.flushL2(dev);
        DeviceTimer.start(dev);
        prepared.run();
        deviceMillis += DeviceTimer.stopMillis(dev);  // waits for the run, as synchronize() would
        deviceOps++;
    }
}
