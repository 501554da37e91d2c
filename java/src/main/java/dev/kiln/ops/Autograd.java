package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.KilnAnomalyException;
import dev.kiln.Profiler;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.internal.TensorAccess;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Reverse-mode autograd over a per-thread tape. Ops record a {@link Node} when grad mode is on and one of their
 * inputs is tracked (a leaf that {@link Tensor#requiresGrad() requires grad}, or the output of a recorded op).
 * {@link Tensor#backward()} walks the tape newest first, hands each node the gradient of its output, and adds what
 * reaches a leaf into that leaf's {@link Tensor#grad()} buffer. Backward releases the nodes it walked (root's graph);
 * nodes it did not reach, such as a generator's forward that a detached discriminator step never touched, stay for
 * their own backward. Every node is dropped when the {@link Scope} it was recorded in closes, so no graph outlives
 * its training step.
 *
 * <p><b>Anomaly detection.</b> {@link #detectAnomaly()} (a guard, like {@link #noGrad()}) or
 * {@link #detectAnomaly(boolean)} makes this thread check, for NaN and infinity, the output of every op that goes
 * through {@link Ops} (recorded or not: the check sits where every op reports its output to the tape) and every
 * gradient each node's backward computes. The first op that produces a non-finite value throws a
 * {@link KilnAnomalyException} naming it, forward or backward, with its inputs' shapes (and which inputs were already
 * non-finite, if any). The check copies each result to the host, so it is a debugging mode: off by default, and when
 * off it costs one field read per op. Not checked: the in-place ops ({@code fill_}, {@code axpy_}, the optimizer
 * steps) and argmax's int32 indices.
 *
 * <p><b>Threads.</b> The tape, the grad mode and the anomaly mode are per thread: ops on one thread never see another
 * thread's graph, and {@link Tensor#backward()} walks only the calling thread's tape. A graph must therefore be built
 * and walked on one thread; a tensor's gradient buffer must not be accumulated into by two threads' backwards at once
 * (two threads training the same parameters need their own copies, or a lock around forward-backward-step).
 */
public final class Autograd {
    /** Computes input gradients from the output gradient; an entry may be null where no gradient is needed. */
    @FunctionalInterface
    public interface Backward {
        Tensor[] apply(Tensor gradOutput);
    }

    /** For ops with several outputs: gradients of the outputs (null where none arrived) to input gradients. */
    @FunctionalInterface
    public interface MultiBackward {
        Tensor[] apply(Tensor[] gradOutputs);
    }

    /** One recorded op: its outputs, its inputs and how to send gradients back through it; seq orders the tape. */
    record Node(long seq, String op, Tensor[] outputs, Tensor[] inputs, MultiBackward backward) {
    }

    private static final class Tape {
        final List<Node> nodes = new ArrayList<>();
        final IdentityHashMap<Tensor, Node> producers = new IdentityHashMap<>();
        Scope hooked;
        int noGradDepth;
        boolean anomaly;
        long nextSeq;

        void truncate(int size) {
            while (nodes.size() > size) {
                for (Tensor out : nodes.remove(nodes.size() - 1).outputs()) producers.remove(out);
            }
        }

        /** Drops every node recorded at or after sequence number {@code seq} (a closing scope's nodes). */
        void truncateFrom(long seq) {
            int size = nodes.size();
            while (size > 0 && nodes.get(size - 1).seq() >= seq) size--;
            truncate(size);
        }

        /** Drops the nodes marked in {@code spent} (indices into {@code nodes}), keeping the order of the others. */
        void release(boolean[] spent) {
            int kept = 0;
            for (int i = 0; i < nodes.size(); i++) {
                Node node = nodes.get(i);
                if (i < spent.length && spent[i]) {
                    for (Tensor out : node.outputs()) producers.remove(out);
                } else {
                    nodes.set(kept++, node);
                }
            }
            nodes.subList(kept, nodes.size()).clear();
        }
    }

    private static final ThreadLocal<Tape> TAPE = ThreadLocal.withInitial(Tape::new);

    private Autograd() {
    }

    /** Turns recording off on this thread until the returned guard closes (evaluation, optimizer updates). */
    public static NoGrad noGrad() {
        Tape tape = TAPE.get();
        tape.noGradDepth++;
        return new NoGrad(() -> tape.noGradDepth--);
    }

    /**
     * Turns anomaly detection on until the returned guard closes, which restores the previous setting. For example
     * {@code try (var check = Autograd.detectAnomaly()) { loss = model(x); loss.backward(); }}.
     */
    public static AnomalyMode detectAnomaly() {
        Tape tape = TAPE.get();
        boolean previous = tape.anomaly;
        tape.anomaly = true;
        return new AnomalyMode(() -> tape.anomaly = previous);
    }

    /** Sets anomaly detection on this thread; returns the previous setting. */
    public static boolean detectAnomaly(boolean on) {
        Tape tape = TAPE.get();
        boolean previous = tape.anomaly;
        tape.anomaly = on;
        return previous;
    }

    public static boolean isAnomalyDetectionEnabled() {
        return TAPE.get().anomaly;
    }

    public static boolean isGradEnabled() {
        return TAPE.get().noGradDepth == 0;
    }

    /** Whether gradients flow into {@code t}: a leaf requiring grad, or the output of a recorded op. */
    public static boolean isTracked(Tensor t) {
        return t.isRequiresGrad() || TAPE.get().producers.containsKey(t);
    }

    /** Whether an op over these inputs should be recorded. */
    public static boolean shouldRecord(Tensor... inputs) {
        if (!isGradEnabled()) return false;
        for (Tensor t : inputs) if (t != null && isTracked(t)) return true;
        return false;
    }

    /** Number of nodes on this thread's tape (tests use it to show nothing leaks across steps). */
    public static int tapeSize() {
        return TAPE.get().nodes.size();
    }

    /**
     * Records {@code output = op(inputs)} if grad mode is on and any input is tracked; returns {@code output}.
     * The node keeps references to the inputs and to whatever {@code backward} captured; the scope owning those
     * tensors frees them, and its closing drops the node.
     */
    public static Tensor record(String op, Tensor output, Backward backward, Tensor... inputs) {
        recordMulti(op, new Tensor[] {output}, grads -> backward.apply(grads[0]), inputs);
        return output;
    }

    /**
     * Records an op with several outputs (an LSTM's sequence and final states). Its backward runs once, when the
     * walk reaches it, with the gradients that arrived at any of its outputs (null for the others).
     */
    public static void recordMulti(String op, Tensor[] outputs, MultiBackward backward, Tensor... inputs) {
        Tape tape = TAPE.get();
        if (tape.anomaly) {
            for (int k = 0; k < outputs.length; k++) {
                if (!isFinite(outputs[k])) {
                    throw anomaly(op, KilnAnomalyException.Phase.FORWARD, inputs,
                            (outputs.length > 1 ? "output " + k + " " : "output ") + describe(outputs[k]));
                }
            }
        }
        if (!shouldRecord(inputs)) return;
        Scope scope = Scope.current();
        if (scope != null && scope != tape.hooked) {
            long mark = tape.nextSeq;  // by sequence, not index: a backward may have released earlier nodes since
            scope.onClose(() -> tape.truncateFrom(mark));
            tape.hooked = scope;
        }
        Node node = new Node(tape.nextSeq++, op, outputs, inputs, backward);
        tape.nodes.add(node);
        for (Tensor out : outputs) tape.producers.put(out, node);
    }

    /** Backpropagates from a one-element tensor with seed gradient 1. */
    public static void backward(Tensor root) {
        if (root.numel() != 1) {
            throw new IllegalArgumentException("backward(): needs a one-element tensor (a loss), got " + root
                    + "; pass a seed gradient with backward(root, grad) for other shapes");
        }
        backward(root, Tensor.full(root.device(), 1f, root.shape()));
    }

    /**
     * Backpropagates from {@code root} with the given gradient, which must match root's shape, dtype and device (a
     * seed elsewhere would send device addresses to another device's kernels), then releases the tape.
     */
    public static void backward(Tensor root, Tensor seed) {
        Tape tape = TAPE.get();
        if (root == null || seed == null) throw new IllegalArgumentException("backward(): root and seed must not be null");
        if (seed.dtype() != root.dtype() || !seed.device().equals(root.device())) {
            throw new IllegalArgumentException("backward(): the seed gradient " + seed + " must have the dtype and device of "
                    + root + " (" + root.dtype() + " on " + root.device() + ")");
        }
        if (!java.util.Arrays.equals(seed.shape(), root.shape())) {
            throw new IllegalArgumentException("backward(): the seed gradient " + seed + " must have the shape of " + root);
        }
        if (!isTracked(root)) {
            throw new IllegalStateException("backward(): " + root + " does not depend on any tensor that requires grad "
                    + "(was it computed under noGrad(), or from tensors without requiresGrad()?)");
        }
        if (tape.anomaly && !isFinite(seed)) {
            throw anomaly("backward seed", KilnAnomalyException.Phase.BACKWARD, new Tensor[] {root}, "seed gradient " + describe(seed));
        }
        boolean[] walked = new boolean[tape.nodes.size()];
        boolean completed = false;
        try (Profiler.Range range = Profiler.range("backward"); NoGrad off = noGrad()) {
            Map<Tensor, Tensor> pending = new IdentityHashMap<>();
            accumulate(pending, root, seed);
            for (int i = tape.nodes.size() - 1; i >= 0; i--) {
                Node node = tape.nodes.get(i);
                Tensor[] outGrads = new Tensor[node.outputs().length];
                boolean any = false;
                for (int k = 0; k < outGrads.length; k++) {
                    outGrads[k] = pending.remove(node.outputs()[k]);
                    any |= outGrads[k] != null;
                }
                if (!any) continue;
                walked[i] = true;
                Tensor[] grads = node.backward().apply(outGrads);
                if (tape.anomaly) {
                    for (int j = 0; j < grads.length && j < node.inputs().length; j++) {
                        if (grads[j] != null && !isFinite(grads[j])) {
                            throw anomaly(node.op(), KilnAnomalyException.Phase.BACKWARD, node.inputs(),
                                    "gradient for input " + j + " " + describe(grads[j]));
                        }
                    }
                }
                for (int j = 0; j < node.inputs().length; j++) {
                    Tensor input = node.inputs()[j];
                    if (grads[j] != null && isTracked(input)) accumulate(pending, input, grads[j]);
                }
            }
            completed = true;
        } finally {
            // After a failure nothing on the tape can be trusted; after success only root's graph is spent. The rest
            // (a generator's forward that a detached discriminator step did not reach) waits for its own backward.
            if (completed) tape.release(walked);
            else tape.truncate(0);
        }
    }

    /** Whether every element of an f32 tensor is finite (other dtypes are). Reads the tensor to the host. */
    private static boolean isFinite(Tensor t) {
        if (t == null || t.dtype() != DType.F32 || t.isClosed()) return true;
        for (float v : t.toFloatArray()) if (!Float.isFinite(v)) return false;
        return true;
    }

    /** "Tensor(2, 3) f32 on cpu: 2 of 6 elements non-finite, first [1] = Infinity". */
    private static String describe(Tensor t) {
        float[] v = t.toFloatArray();
        int bad = 0, first = -1;
        for (int i = 0; i < v.length; i++) {
            if (!Float.isFinite(v[i])) {
                if (first < 0) first = i;
                bad++;
            }
        }
        return t + " has " + bad + " non-finite of " + v.length + " elements, first [" + first + "] = " + v[Math.max(first, 0)];
    }

    private static KilnAnomalyException anomaly(String op, KilnAnomalyException.Phase phase, Tensor[] inputs, String what) {
        List<int[]> shapes = new ArrayList<>();
        StringBuilder in = new StringBuilder();
        List<Integer> alreadyBad = new ArrayList<>();
        for (int i = 0; i < inputs.length; i++) {
            Tensor t = inputs[i];
            shapes.add(t == null || t.isClosed() ? null : t.shape());
            in.append(i == 0 ? "" : ", ").append(t == null ? "null" : Checks.shape(t.shape()));
            if (t != null && !isFinite(t)) alreadyBad.add(i);
        }
        String message = "anomaly detected: " + (phase == KilnAnomalyException.Phase.FORWARD ? "forward of '" : "backward of '")
                + op + "' produced a non-finite value: " + what + "; inputs (" + in + ")"
                + (alreadyBad.isEmpty() ? "" : "; input(s) " + alreadyBad + " were already non-finite");
        return new KilnAnomalyException(op, phase, shapes, message);
    }

    /** Leaves get the gradient added into their persistent buffer; intermediate tensors sum in {@code pending}. */
    private static void accumulate(Map<Tensor, Tensor> pending, Tensor target, Tensor g) {
        if (target.isClosed()) {
            throw new IllegalStateException("autograd: " + target + " was closed before backward() reached it"
                    + " (close parameters and inputs only after the backward pass)");
        }
        if (!java.util.Arrays.equals(target.shape(), g.shape())) {
            throw new IllegalStateException("autograd: gradient " + g + " does not match " + target);
        }
        if (target.isRequiresGrad()) {
            Tensor stale = TensorAccess.get().gradToOverwrite(target);
            if (stale != null) {  // zeroed by zeroGrad() in name only: the gradient is the first to arrive
                Ops.copy_(stale, g);
                return;
            }
            Tensor buffer = target.grad();
            if (buffer == null) {  // the first gradient: one copy, rather than zeros plus an add
                target.setGrad(Ops.copy_(Scope.detached(() -> Tensor.empty(target.device(), target.shape())), g));
                return;
            }
            Ops.axpy_(1f, g, buffer);
            return;
        }
        Tensor previous = pending.get(target);
        pending.put(target, previous == null ? g : Ops.add(previous, g));
    }
}
