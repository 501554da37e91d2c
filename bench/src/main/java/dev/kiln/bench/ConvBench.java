package dev.kiln.bench;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.Conv2dDesc;
import dev.kiln.internal.Conv2dNative;
import dev.kiln.internal.RandomNative;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * conv2d through the Java API against the binding's entries (Conv2dNative: the per-call memory checks and the JNI
 * call) on the same buffers, in the same run: what the op layer (shape checks, output allocation in a scope, the
 * autograd tape) adds to the kernels. Shapes: {@link ConvShape}; the device is the CPU unless
 * {@code -Dkiln.bench.device=cuda:0}.
 * <ul>
 *   <li>{@code nativeForward} (peer) vs {@code opsForward}: y = conv(x, w) + b without gradients.</li>
 *   <li>{@code nativeStep} (peer: forward, dy = 1, backward-data, backward-weight with bias) vs {@code opsStep}:
 *       the same through autograd, from {@code Ops.sum(conv(x, w) + b).backward()}.</li>
 * </ul>
 */
@State(org.openjdk.jmh.annotations.Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class ConvBench {
    @Param({"cnn1", "cnn2", "resnet"})
    public String shape;

    private Tensor x, w, b, y, dy, dx, dw, db;
    private Conv2dDesc desc;
    private int pad;

    @Setup(Level.Trial)
    public void setup() {
        ConvShape cs = ConvShape.named(shape);
        int n = cs.n(), c = cs.c(), h = cs.h(), k = cs.k(), p = cs.p();
        pad = cs.pad();
        Device device = Device.parse(System.getProperty("kiln.bench.device", "cpu"));
        x = Tensor.rand(device, n, c, h, h).requiresGrad();
        w = Tensor.randn(device, k, c, 3, 3).requiresGrad();
        b = Tensor.randn(device, k).requiresGrad();
        y = Tensor.empty(device, n, k, p, p);
        dy = Tensor.ones(device, n, k, p, p);
        dx = Tensor.empty(device, n, c, h, h);
        dw = Tensor.empty(device, k, c, 3, 3);
        db = Tensor.empty(device, k);
        desc = cs.desc();
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        for (Tensor t : new Tensor[] {x, w, b, y, dy, dx, dw, db}) t.close();
    }

    @Benchmark
    public void nativeForward() {
        Conv2dNative.forward(desc, x, w, b, y);
    }

    @Benchmark
    public void opsForward(Blackhole bh) {
        try (dev.kiln.Scope step = dev.kiln.Scope.open(); NoGrad off = Autograd.noGrad()) {
            bh.consume(Ops.conv2d(x, w, b, 1, pad));
        }
    }

    @Benchmark
    public void nativeStep() {
        Conv2dNative.forward(desc, x, w, b, y);
        RandomNative.fill(dy, 1f);
        Conv2dNative.backwardData(desc, dy, w, dx);
        Conv2dNative.backwardWeight(desc, x, dy, dw, db);
    }

    @Benchmark
    public void opsStep() {
        try (dev.kiln.Scope step = dev.kiln.Scope.open()) {
            x.zeroGrad();
            w.zeroGrad();
            b.zeroGrad();
            Ops.sum(Ops.conv2d(x, w, b, 1, pad)).backward();
        }
    }
}
