package dev.kiln;

import dev.kiln.internal.GraphNative;
import dev.kiln.models.Cnn;
import dev.kiln.models.Mlp;
import dev.kiln.nn.Layer;
import dev.kiln.ops.Ops;
import dev.kiln.optim.Adam;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * CUDA graphs: the cpu's refusal everywhere; on a GPU, the MLP's and the CNN's whole training steps captured and
 * replayed against the same steps run eagerly (bit for bit), and the refusals inside a capture. The GPU cases are
 * skipped, visibly, where there is no CUDA device.
 */
class CudaGraphTest {
    private static final int BATCH = 16, REPLAYS = 6;

    @Test
    void cpuHasNothingToCapture() {
        assertFalse(CudaGraph.isSupported(Device.cpu()));
        assertFalse(CudaGraph.isCapturing(Device.cpu()));
        boolean[] ran = {false};
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> CudaGraph.capture(Device.cpu(), () -> ran[0] = true));
        assertTrue(e.getMessage().contains("CUDA device"), e.getMessage());
        assertFalse(ran[0], "the step must not run when nothing can be captured");
        // The device is checked before anything else, the warm-up count included.
        assertThrows(UnsupportedOperationException.class, () -> CudaGraph.capture(Device.cpu(), 0, () -> { }));
    }

    @Test
    void theLibraryRefusesACpuCaptureWithItsOwnMessage() {
        KilnException e = assertThrows(KilnException.class, () -> GraphNative.captureBegin(Device.cpu()));
        assertTrue(e.getMessage().contains("kiln_graph_capture_begin") && e.getMessage().contains("CUDA contexts"),
                e.getMessage());
        assertFalse(GraphNative.isCapturing(Device.cpu()));
        assertThrows(IllegalStateException.class, () -> GraphNative.launch(0));
    }

    private static Device gpu() {
        if (!Device.cudaAvailable()) Devices.noCudaDevice("CUDA graph capture and replay");
        assumeTrue(Device.cudaAvailable(), "no CUDA device");  // noCudaDevice has said why
        return Device.cuda();
    }

    @Test
    void mlpStepReplaysAsItRunsEagerly() {
        Device gpu = gpu();
        replayMatchesEager(gpu, (d, g) -> new Mlp(28 * 28, 256, 10, d, g));
    }

    @Test
    void cnnStepReplaysAsItRunsEagerly() {
        Device gpu = gpu();
        replayMatchesEager(gpu, (d, g) -> Cnn.fashionMnist(d, g));
    }

    /** 3 warm-up steps and REPLAYS replays against 3 + REPLAYS eager steps, on the same batches, same start. */
    private static void replayMatchesEager(Device gpu, BiFunction<Device, Generator, Layer> factory) {
        float[][] xs = new float[3 + REPLAYS][];
        int[][] ys = new int[3 + REPLAYS][];
        Random r = new Random(11);
        for (int i = 0; i < xs.length; i++) {
            xs[i] = new float[BATCH * 28 * 28];
            ys[i] = new int[BATCH];
            for (int j = 0; j < xs[i].length; j++) xs[i][j] = r.nextFloat();
            for (int j = 0; j < BATCH; j++) ys[i][j] = r.nextInt(10);
        }
        try (Layer eager = factory.apply(gpu, new Generator(7)); Layer graphed = factory.apply(gpu, new Generator(7));
             Adam eagerAdam = new Adam(eager.parameters(), 1e-3f).capturable();
             Adam graphAdam = new Adam(graphed.parameters(), 1e-3f).capturable();
             Tensor x = Tensor.zeros(gpu, BATCH, 1, 28, 28); Tensor y = Tensor.empty(gpu, DType.I32, BATCH)) {
            float[] eagerLosses = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                try (Scope s = Scope.open()) {
                    Tensor loss = Ops.crossEntropy(eager.forward(Tensor.of(gpu, xs[i], BATCH, 1, 28, 28)),
                            Tensor.ofInts(gpu, ys[i], BATCH));
                    eagerAdam.zeroGrad();
                    loss.backward();
                    eagerAdam.step();
                    eagerLosses[i] = loss.item();
                }
            }
            int[] fed = {0};
            Tensor[] loss = new Tensor[1];
            Runnable feedWarmup = () -> {
                x.copyFrom(xs[fed[0]], 0, 0, xs[fed[0]].length);
                y.copyFrom(ys[fed[0]], 0, 0, BATCH);
                fed[0]++;
            };
            feedWarmup.run();
            try (CudaGraph graph = CudaGraph.capture(gpu, 3, () -> {
                loss[0] = Ops.crossEntropy(graphed.forward(x), y);
                graphAdam.zeroGrad();
                loss[0].backward();
                graphAdam.step();
                if (!CudaGraph.isCapturing(gpu) && fed[0] < 3) feedWarmup.run();  // the next warm-up's batch
            })) {
                assertTrue(graph.staticTensorCount() > 0);
                for (int i = 3; i < xs.length; i++) {
                    x.copyFrom(xs[i], 0, 0, xs[i].length);
                    y.copyFrom(ys[i], 0, 0, BATCH);
                    graph.replay();
                    assertEquals(eagerLosses[i], loss[0].item(), 0f, "loss of step " + i);
                }
            }
            assertEquals(xs.length, graphAdam.deviceSteps());
            assertEquals(xs.length, graphAdam.stateSteps(), "a checkpoint saves the replays too");
            assertEquals(4, graphAdam.steps(), "3 warm-up steps and the capture's: replays advance the device only");
            List<Tensor> a = eager.parameters(), b = graphed.parameters();
            for (int i = 0; i < a.size(); i++) {
                assertArrayEquals(a.get(i).toFloatArray(), b.get(i).toFloatArray(), 0f, "parameter " + i);
            }
        }
    }

    @Test
    void readingTheDeviceInsideACaptureFailsTheCapture() {
        Device gpu = gpu();
        try (Tensor a = Tensor.ones(gpu, 8)) {
            KilnException e = assertThrows(KilnException.class, () -> CudaGraph.capture(gpu, 1, () -> {
                try (Scope s = Scope.open()) {
                    Ops.mul(a, a).toFloatArray();
                }
            }));
            assertTrue(e.getMessage().contains("reads the device back"), e.getMessage());
            assertFalse(CudaGraph.isCapturing(gpu));
            // The device works again after the discarded capture.
            float[] ones = new float[8];
            Arrays.fill(ones, 1f);
            assertArrayEquals(ones, a.toFloatArray(), 0f);
        }
    }

    @Test
    void aStepThatThrowsOutOfItsOwnScopeEndsTheCapture() {
        IllegalStateException e = failedCapture(a -> () -> {
            Scope.open();  // left open by the throw below, as a step that throws from inside a scope leaves it
            Ops.mul(a, a);
            if (CudaGraph.isCapturing(a.device())) throw new IllegalStateException("the step's own failure");
            Scope.current().close();
        });
        assertEquals("the step's own failure", e.getMessage());
    }

    @Test
    void aCheckedExceptionThrownPastTheCompilerEndsTheCapture() {
        IllegalStateException e = failedCapture(a -> () -> {
            try (Scope s = Scope.open()) {
                Ops.mul(a, a);
            }
            if (CudaGraph.isCapturing(a.device())) sneakyThrow(new java.io.IOException("disk gone"));
        });
        assertTrue(e.getCause() instanceof java.io.IOException, String.valueOf(e.getCause()));
    }

    @Test
    void aStepThatLeavesAScopeOpenIsRefused() {
        IllegalStateException e = failedCapture(a -> () -> {
            Scope s = Scope.open();
            Ops.mul(a, a);
            if (!CudaGraph.isCapturing(a.device())) s.close();  // the warm-up closes it; the captured call does not
        });
        assertTrue(e.getMessage().contains("left a Scope open"), e.getMessage());
    }

    /**
     * Captures the step made for a tensor of eight ones on the GPU, which must fail; then checks that the capture
     * ended (the device runs ops again) and left no scope open, and returns the failure.
     */
    private static IllegalStateException failedCapture(java.util.function.Function<Tensor, Runnable> stepFor) {
        Device gpu = gpu();
        try (Tensor a = Tensor.ones(gpu, 8)) {
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> CudaGraph.capture(gpu, 1, stepFor.apply(a)));
            assertFalse(CudaGraph.isCapturing(gpu));
            assertFalse(GraphNative.isCapturing(gpu), "the native capture ended");
            assertEquals(null, Scope.current(), "the scopes the capture opened are closed");
            assertEquals(8f, sumOf(a), 0f, "the device runs ops again");
            return e;
        }
    }

    private static float sumOf(Tensor t) {
        try (Scope s = Scope.open()) {
            return Ops.sum(t).item();
        }
    }

    @SuppressWarnings("unchecked")
    private static <T extends Throwable> void sneakyThrow(Throwable t) throws T {
        throw (T) t;
    }

    @Test
    void anOrdinaryAdamIsRefusedInACapture() {
        Device gpu = gpu();
        try (Tensor p = Tensor.ones(gpu, 8).requiresGrad(); Adam adam = new Adam(List.of(p), 0.1f)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> CudaGraph.capture(gpu, 1, () -> {
                try (Scope s = Scope.open()) {
                    Tensor loss = Ops.sum(Ops.mul(p, p));
                    adam.zeroGrad();
                    loss.backward();
                    adam.step();
                }
            }));
            assertTrue(e.getMessage().contains("capturable()"), e.getMessage());
        }
    }
}
