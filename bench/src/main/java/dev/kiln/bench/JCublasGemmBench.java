package dev.kiln.bench;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.GemmNative;
import dev.kiln.interop.JCudaInterop;
import jcuda.Pointer;
import jcuda.jcublas.JCublas2;
import jcuda.jcublas.cublasHandle;
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

import java.util.concurrent.TimeUnit;

import static jcuda.jcublas.cublasOperation.CUBLAS_OP_N;

/**
 * Kiln's fp32 GEMM ({@code kilnSgemm}, the bare binding entry) against cuBLAS's SGEMM through JCublas
 * ({@code jcublasSgemm}, the peer) on the same Kiln-allocated device buffers (JCudaInterop.pointerOf) and the same
 * stream, in the same run. C (m, n) = A (m, k) B (k, n), row-major; cuBLAS, column-major, computes the transpose
 * C^T = B^T A^T from the same memory. Calls per second and GFLOP/s ({@link Flops}). cuBLAS runs its default math mode:
 * plain fp32, as Kiln. Needs a GPU and libcublas.so.12: skipped with the reason elsewhere ({@link Baselines}).
 */
@State(org.openjdk.jmh.annotations.Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class JCublasGemmBench {
    /** m x n x k: square sizes and the MLP's first layer at batch 64. */
    @Param({"4096x4096x4096", "1024x1024x1024", "64x128x784"})
    public String mnk;

    private int m, n, k;
    private SharedStream stream;
    private Tensor a, b, c;
    private cublasHandle handle;
    private Pointer pa, pb, pc;
    private final Pointer one = Pointer.to(new float[] {1f}), zero = Pointer.to(new float[] {0f});

    @Setup(Level.Trial)
    public void setup() {
        Baselines.JCUBLAS.require();
        String[] dims = mnk.split("x");
        m = Integer.parseInt(dims[0]);
        n = Integer.parseInt(dims[1]);
        k = Integer.parseInt(dims[2]);
        Device device = Device.cuda(0);
        stream = new SharedStream(device);  // before the first tensor on the device
        a = Tensor.randn(device, m, k);
        b = Tensor.randn(device, k, n);
        c = Tensor.zeros(device, m, n);
        handle = new cublasHandle();
        JCublas2.setExceptionsEnabled(true);
        JCublas2.cublasCreate(handle);
        JCublas2.cublasSetStream(handle, stream.stream);
        pa = JCudaInterop.pointerOf(a);
        pb = JCudaInterop.pointerOf(b);
        pc = JCudaInterop.pointerOf(c);
        kiln();
        float[] fromKiln = c.toFloatArray();
        cublas();
        Agreement.check("sgemm " + mnk, fromKiln, c.toFloatArray(), 1e-4 * Math.sqrt(k));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        JCublas2.cublasDestroy(handle);
        for (Tensor t : new Tensor[] {a, b, c}) t.close();
    }

    @Benchmark
    public void kilnSgemm(Flops flops) {
        kiln();
        flops.gflop += 2e-9 * m * n * k;
    }

    @Benchmark
    public void jcublasSgemm(Flops flops) {
        cublas();
        flops.gflop += 2e-9 * m * n * k;
    }

    private void kiln() {
        GemmNative.gemm(false, false, m, n, k, 1f, a, k, 0, b, n, 0, 0f, c, n, 0, 1);
        stream.synchronize();
    }

    private void cublas() {
        JCublas2.cublasSgemm(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, m, k, one, pb, n, pa, k, zero, pc, n);
        stream.synchronize();
    }
}
