package dev.kiln;

import dev.kiln.internal.GraphNative;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A training step recorded once as a CUDA graph and replayed with one launch: the step's dozens of small kernels
 * stop paying a launch each (native side: {@code kiln_graph_*} in kiln.h).
 *
 * <p>A graph holds kernels with their arguments, so a replay reads and writes exactly the memory the captured step
 * did. The step is therefore written against <b>static tensors</b>: inputs that live across replays and are refilled
 * before each one, and outputs that are read after it.
 *
 * <pre>{@code
 * Device gpu = Device.cuda();
 * Mlp model = Mlp.fashionMnist(gpu, new Generator(1));
 * Adam adam = new Adam(model.parameters(), 1e-3f).capturable();   // step count and bias corrections on the device
 * Tensor x = Tensor.zeros(gpu, 64, 784);                          // static inputs, made before the capture
 * Tensor y = Tensor.empty(gpu, DType.I32, 64);
 * Tensor[] loss = new Tensor[1];                                  // static output, made by the captured step
 * x.copyFrom(firstImages, 0, 0, 64 * 784);                         // real data for the warm-up steps
 * y.copyFrom(firstLabels, 0, 0, 64);
 * try (CudaGraph step = CudaGraph.capture(gpu, () -> {
 *          loss[0] = Ops.crossEntropy(model.forward(x), y);
 *          adam.zeroGrad();
 *          loss[0].backward();
 *          adam.step();
 *      })) {
 *     for (Batch b : batches) {
 *         Ops.copy_(x, b.x());                                    // feed: copy into the static inputs
 *         Ops.copy_(y, b.y());
 *         step.replay();                                          // one launch: forward, backward, Adam
 *         total += loss[0].item();                                // read after the replay (this waits for it)
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #capture} runs the step eagerly {@code warmup} times first (default 3: the allocator's cache then holds
 * every block the step needs, gradients and optimizer state exist, lazy initialisation is done; each warm-up is a
 * real training step), then captures one more call, which is recorded, not run: the first {@link #replay()} runs it.
 * Every tensor the captured step creates outside an inner {@link Scope} (its outputs, such as {@code loss[0]}) is
 * kept open until the graph closes; the native allocator also holds back every block the capture used, so nothing
 * the graph writes is handed to anyone else while it lives. Parameters, optimizer state and the static inputs are the
 * caller's: keep them open until the graph is closed.
 *
 * <p>Refused inside the captured step, with an exception naming the op (and the capture then fails as a whole):
 * reading the device ({@link Tensor#item()}, {@code toArray}), copies from Java arrays, random draws (dropout,
 * {@code Generator}-seeded ops, whose seeds would be frozen), the LSTM forward, device timing, and a non-capturable
 * {@link dev.kiln.optim.Adam} (its bias corrections would be frozen). A learning rate is a kernel argument too: a
 * schedule that changes it needs a new capture. {@link dev.kiln.optim.Optimizer#steps()} counts eager steps only; a
 * capturable Adam's device counter ({@link dev.kiln.optim.Adam#deviceSteps()}) counts replays as well.
 *
 * <p>A graph is replayed on its device's stream, asynchronously; it is used from one thread at a time, and no other
 * thread may use the device while a capture is in progress. On a cpu device there is nothing to capture:
 * {@link #isSupported(Device)} is false and {@link #capture} throws {@link UnsupportedOperationException}.
 */
public final class CudaGraph implements AutoCloseable {
    /** Devices with a capture in progress, for the checks of ops that a graph would freeze (Adam). */
    private static final Set<Device> CAPTURING = ConcurrentHashMap.newKeySet();

    private final Device device;
    private final List<Tensor> statics;
    private long handle;

    private CudaGraph(Device device, long handle, List<Tensor> statics) {
        this.device = device;
        this.handle = handle;
        this.statics = statics;
    }

    /** Whether {@code device} can capture graphs: a CUDA device (the cpu runs each op as it is called). */
    public static boolean isSupported(Device device) {
        return device != null && device.isCuda();
    }

    /** Whether a {@link #capture} is recording {@code device}'s stream now. */
    public static boolean isCapturing(Device device) {
        return !CAPTURING.isEmpty() && CAPTURING.contains(device);
    }

    /** {@link #capture(Device, int, Runnable)} with 3 warm-up steps. */
    public static CudaGraph capture(Device device, Runnable step) {
        return capture(device, 3, step);
    }

    /**
     * Runs {@code step} eagerly {@code warmup} (>= 1) times, each in a scope of its own, then records one more call
     * as a graph and returns it, unrun. If the step throws during the capture (an Error or a checked exception comes
     * wrapped in an IllegalStateException), an op in it is refused, or it leaves a Scope open, the capture is ended
     * and discarded, scopes it left open are closed, and the step's exception is thrown: the device runs ops again.
     */
    public static CudaGraph capture(Device device, int warmup, Runnable step) {
        if (!isSupported(device)) {
            throw new UnsupportedOperationException("CudaGraph.capture: " + device + " has no CUDA stream to capture; "
                    + "CUDA graphs need a CUDA device (check CudaGraph.isSupported, or run the step directly)");
        }
        if (warmup < 1) {
            throw new IllegalArgumentException("CudaGraph.capture: warmup must be >= 1 (the allocator's cache must hold "
                    + "the step's blocks before a capture), got " + warmup);
        }
        if (step == null) throw new IllegalArgumentException("CudaGraph.capture: step is null");
        for (int i = 0; i < warmup; i++) {
            try (Scope s = Scope.open()) {
                step.run();
            }
        }
        GraphNative.captureBegin(device);
        CAPTURING.add(device);
        Scope scope = Scope.open();
        RuntimeException failed = null;
        try {
            step.run();
        } catch (RuntimeException e) {
            failed = e;
        } catch (Throwable e) {  // an Error, or a checked exception thrown past the compiler (Kotlin, sneaky throws)
            failed = new IllegalStateException("CudaGraph.capture: the step failed during the capture", e);
        } finally {
            CAPTURING.remove(device);
        }
        // The capture ends first, whatever happened: until it does, the device's stream records rather than runs.
        long handle = 0;
        RuntimeException endFailed = null;
        try {
            handle = GraphNative.captureEnd(device);
        } catch (RuntimeException e) {
            endFailed = e;
        }
        // Scopes the step opened and left open (it threw out of them) close now, innermost first.
        if (closeScopesWithin(scope) && failed == null) {
            failed = new IllegalStateException("CudaGraph.capture: the step left a Scope open; it was closed, and the "
                    + "capture discarded");
        }
        List<Tensor> statics = scope.takeAll();
        scope.close();
        if (endFailed != null) {
            closeAll(statics);
            if (failed == null) throw endFailed;
            failed.addSuppressed(endFailed);
            throw failed;
        }
        if (failed != null) {
            GraphNative.destroy(handle);
            closeAll(statics);
            throw failed;
        }
        return new CudaGraph(device, handle, statics);
    }

    /** Closes the scopes opened inside {@code outer} that are still open, innermost first; true if there were any. */
    private static boolean closeScopesWithin(Scope outer) {
        boolean any = false;
        for (Scope s = Scope.current(); s != null && s != outer && s.isWithin(outer); s = Scope.current()) {
            s.close();
            any = true;
        }
        return any;
    }

    /** Queues one run of the captured step on the device's stream and returns without waiting. */
    public synchronized void replay() {
        if (handle == 0) throw new IllegalStateException("CudaGraph.replay: the graph is closed");
        GraphNative.launch(handle);
    }

    /** The device the step was captured on, whose stream replays it. */
    public Device device() {
        return device;
    }

    /** Number of tensors the captured step created that the graph keeps open (its static outputs among them). */
    public int staticTensorCount() {
        return statics.size();
    }

    /** Releases the graph, then the tensors it kept; replays already queued finish first. Idempotent. */
    @Override
    public synchronized void close() {
        if (handle == 0) return;
        long h = handle;
        handle = 0;
        try {
            GraphNative.destroy(h);
        } finally {
            closeAll(statics);
        }
    }

    private static void closeAll(List<Tensor> tensors) {
        for (int i = tensors.size() - 1; i >= 0; i--) tensors.get(i).close();
    }
}
