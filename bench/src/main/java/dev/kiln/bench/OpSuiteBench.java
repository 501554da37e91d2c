package dev.kiln.bench;

import dev.kiln.Device;
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

import java.util.concurrent.TimeUnit;

/**
 * The op suite (dev.kiln.profile.OpSuite, the cases `kiln bench` times) under JMH, one case per parameter value;
 * {@code -p device=cuda:0} runs it on a GPU, where each invocation ends by synchronizing the device, so the time is
 * the op's, not its launch's. Pick cases with {@code -p op="gemm 512x512x512"}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class OpSuiteBench {
    @Param({"gemm 64x784x256", "gemm 256x256x256", "gemm 512x512x512", "gemm 1024x1024x1024", "relu 1M", "add 1M",
            "gelu 1M", "sum 1M", "softmax 256x1000", "cross_entropy 256x1000 fwd+bwd", "bce_with_logits 128x784 fwd+bwd",
            "adam 1M", "conv2d 64x1x28x28 k32 3x3", "conv2d 64x32x13x13 k64 3x3", "conv2d 64x32x13x13 k64 3x3 fwd+bwd",
            "conv2d 32x64x56x56 k64 3x3 pad 1", "max_pool2d 64x32x26x26 2x2 fwd+bwd", "batch_norm 64x32x26x26 fwd+bwd",
            "lstm N=64 T=28 F=28 H=64 fwd", "lstm N=64 T=28 F=28 H=64 fwd+bwd", "lstm N=32 T=100 F=256 H=256 fwd",
            "lstm N=32 T=100 F=256 H=256 fwd+bwd", "attention 8x4x128x32 causal fwd",
            "attention 8x4x128x32 causal fwd+bwd", "attention 4x8x1024x64 fwd", "layer_norm 4096x128 fwd+bwd",
            "reparameterize 1M fwd+bwd", "gaussian_kl 1M fwd+bwd"})
    public String op;

    @Param({"cpu"})
    public String device;

    private Device dev;
    private OpSuite.Prepared prepared;

    @Setup(Level.Trial)
    public void setup() {
        OpSuite.Case c = OpSuite.all().stream().filter(k -> k.name().equals(op)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no op-suite case named '" + op + "' (kiln bench --list)"));
        dev = Device.parse(device);
        prepared = c.prepare().apply(dev);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        prepared.close();
    }

    @Benchmark
    public void run() {
        prepared.run();
        dev.synchronize();
    }
}
