package dev.kiln.bench;

import dev.kiln.Device;
import dev.kiln.Tensor;
import dev.kiln.internal.Conv2dDesc;
import dev.kiln.internal.Conv2dNative;
import dev.kiln.interop.JCudaInterop;
import jcuda.Pointer;
import jcuda.jcudnn.JCudnn;
import jcuda.jcudnn.cudnnConvolutionDescriptor;
import jcuda.jcudnn.cudnnConvolutionFwdAlgoPerf;
import jcuda.jcudnn.cudnnFilterDescriptor;
import jcuda.jcudnn.cudnnHandle;
import jcuda.jcudnn.cudnnTensorDescriptor;
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

import static jcuda.jcudnn.cudnnConvolutionMode.CUDNN_CROSS_CORRELATION;
import static jcuda.jcudnn.cudnnDataType.CUDNN_DATA_FLOAT;
import static jcuda.jcudnn.cudnnMathType.CUDNN_FMA_MATH;
import static jcuda.jcudnn.cudnnTensorFormat.CUDNN_TENSOR_NCHW;

/**
 * Kiln's conv2d forward ({@code kilnConv2d}, the bare binding entry, no bias) against cuDNN's through JCudnn
 * ({@code cudnnConvolutionForward}, the peer, with the algorithm cuDNN's heuristics rank first and its workspace in a
 * Kiln tensor) on the same Kiln-allocated buffers and the same stream, in the same run. Shapes: {@link ConvShape}.
 * cuDNN is held to fp32 FMA math (CUDNN_FMA_MATH): its default would let Ampere and later GPUs round through TF32,
 * which Kiln's fp32 kernels do not. Calls per second and GFLOP/s ({@link Flops}). Needs a GPU and libcudnn.so.9:
 * skipped with the reason elsewhere ({@link Baselines}).
 */
@State(org.openjdk.jmh.annotations.Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "-Xmx2g")
public class JCudnnConvBench {
    @Param({"cnn1", "cnn2", "resnet"})
    public String shape;

    private ConvShape cs;
    private Conv2dDesc desc;
    private SharedStream stream;
    private Tensor x, w, y, workspace;
    private Pointer px, pw, py, pWorkspace;  // views of the tensors above, valid while they are open
    private cudnnHandle handle;
    private cudnnTensorDescriptor xDesc, yDesc;
    private cudnnFilterDescriptor wDesc;
    private cudnnConvolutionDescriptor convDesc;
    private int algo;
    private long workspaceBytes;
    private final Pointer one = Pointer.to(new float[] {1f}), zero = Pointer.to(new float[] {0f});

    @Setup(Level.Trial)
    public void setup() {
        Baselines.JCUDNN.require();
        cs = ConvShape.named(shape);
        desc = cs.desc();
        Device device = Device.cuda(0);
        stream = new SharedStream(device);  // before the first tensor on the device
        x = Tensor.rand(device, cs.n(), cs.c(), cs.h(), cs.h());
        w = Tensor.randn(device, cs.k(), cs.c(), 3, 3);
        y = Tensor.zeros(device, cs.n(), cs.k(), cs.p(), cs.p());

        JCudnn.setExceptionsEnabled(true);
        handle = new cudnnHandle();
        JCudnn.cudnnCreate(handle);
        JCudnn.cudnnSetStream(handle, stream.stream);
        xDesc = tensor4d(cs.n(), cs.c(), cs.h(), cs.h());
        yDesc = tensor4d(cs.n(), cs.k(), cs.p(), cs.p());
        wDesc = new cudnnFilterDescriptor();
        JCudnn.cudnnCreateFilterDescriptor(wDesc);
        JCudnn.cudnnSetFilter4dDescriptor(wDesc, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, cs.k(), cs.c(), 3, 3);
        convDesc = new cudnnConvolutionDescriptor();
        JCudnn.cudnnCreateConvolutionDescriptor(convDesc);
        JCudnn.cudnnSetConvolution2dDescriptor(convDesc, cs.pad(), cs.pad(), 1, 1, 1, 1, CUDNN_CROSS_CORRELATION, CUDNN_DATA_FLOAT);
        JCudnn.cudnnSetConvolutionMathType(convDesc, CUDNN_FMA_MATH);
        int[] on = {0}, ok = {0}, op = {0}, oq = {0};
        JCudnn.cudnnGetConvolution2dForwardOutputDim(convDesc, xDesc, wDesc, on, ok, op, oq);
        if (on[0] != cs.n() || ok[0] != cs.k() || op[0] != cs.p() || oq[0] != cs.p()) {
            throw new IllegalStateException("conv2d " + shape + ": cuDNN's output is (" + on[0] + ", " + ok[0] + ", " + op[0]
                    + ", " + oq[0] + "), Kiln's (" + cs.n() + ", " + cs.k() + ", " + cs.p() + ", " + cs.p() + ")");
        }
        cudnnConvolutionFwdAlgoPerf[] ranked = new cudnnConvolutionFwdAlgoPerf[8];
        for (int i = 0; i < ranked.length; i++) ranked[i] = new cudnnConvolutionFwdAlgoPerf();
        int[] returned = new int[1];
        JCudnn.cudnnGetConvolutionForwardAlgorithm_v7(handle, xDesc, wDesc, convDesc, yDesc, ranked.length, returned, ranked);
        algo = ranked[0].algo;
        long[] bytes = new long[1];
        JCudnn.cudnnGetConvolutionForwardWorkspaceSize(handle, xDesc, wDesc, convDesc, yDesc, algo, bytes);
        workspaceBytes = bytes[0];
        workspace = Tensor.empty(device, (int) Math.max(1, (workspaceBytes + 3) / 4));  // cuDNN's scratch, Kiln's memory
        px = JCudaInterop.pointerOf(x);
        pw = JCudaInterop.pointerOf(w);
        py = JCudaInterop.pointerOf(y);
        pWorkspace = JCudaInterop.pointerOf(workspace);

        kiln();
        float[] fromKiln = y.toFloatArray();
        cudnn();
        Agreement.check("conv2d " + shape, fromKiln, y.toFloatArray(), 1e-4 * Math.sqrt(cs.c() * 9.0));
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        JCudnn.cudnnDestroyTensorDescriptor(xDesc);
        JCudnn.cudnnDestroyTensorDescriptor(yDesc);
        JCudnn.cudnnDestroyFilterDescriptor(wDesc);
        JCudnn.cudnnDestroyConvolutionDescriptor(convDesc);
        JCudnn.cudnnDestroy(handle);
        for (Tensor t : new Tensor[] {x, w, y, workspace}) t.close();
    }

    @Benchmark
    public void kilnConv2d(Flops flops) {
        kiln();
        flops.gflop += 1e-9 * cs.flops();
    }

    @Benchmark
    public void cudnnConvolutionForward(Flops flops) {
        cudnn();
        flops.gflop += 1e-9 * cs.flops();
    }

    private void kiln() {
        Conv2dNative.forward(desc, x, w, null, y);
        stream.synchronize();
    }

    private void cudnn() {
        JCudnn.cudnnConvolutionForward(handle, one, xDesc, px, wDesc, pw, convDesc, algo, pWorkspace, workspaceBytes, zero,
                yDesc, py);
        stream.synchronize();
    }

    private static cudnnTensorDescriptor tensor4d(int n, int c, int h, int w) {
        cudnnTensorDescriptor d = new cudnnTensorDescriptor();
        JCudnn.cudnnCreateTensorDescriptor(d);
        JCudnn.cudnnSetTensor4dDescriptor(d, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n, c, h, w);
        return d;
    }
}
