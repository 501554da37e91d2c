package dev.kiln.ops;

import dev.kiln.DType;
import dev.kiln.KilnAnomalyException;
import dev.kiln.Profiler;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.internal.TensorAccess;

import java.lang.ref.WeakReference;
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
 * its training step; outside any Scope a graph lives as long as its outputs are reachable (the tape holds it weakly),
 * so ops run with grad on and no Scope (inference that forgot {@link #noGrad()}) do not pile up on the tape.
 *
 * <p><b>What backward refuses.</b> It never sends a gradient through a graph it can no longer trust, where silence
 * would give wrong gradients: a tensor whose producing graph an earlier backward released (two losses sharing a
 * graph: call backward once, on their sum) or a closing {@link Scope} dropped ({@code scope.keep(h)} keeps the
 * tensor, not its graph); and an op whose input or output was written in place after the op recorded it (by
 * {@code fill_}, {@code copy_}, {@code axpy_}, {@code copyFrom}, an optimizer step, ...), since its backward would
 * read the new values. Both throw an IllegalStateException naming the op; {@link Tensor#detach()} cuts a graph on
 * purpose, and modifying a copy leaves the recorded values alone. The in-place check is by tensor memory (views
 * share it) and conservative: it also refuses ops whose backward would not have read the modified tensor.
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
        /** One gradient per input of the op, in input order, from {@code gradOutput}, the gradient of its output. */
        Tensor[] apply(Tensor gradOutput);
    }

    /** For ops with several outputs: gradients of the outputs (null where none arrived) to input gradients. */
    @FunctionalInterface
    public interface MultiBackward {
        /** One gradient per input of the op, in input order, from the gradients of its outputs. */
        Tensor[] apply(Tensor[] gradOutputs);
    }

    /**
     * One recorded op: its outputs, its inputs and how to send gradients back through it; seq orders the tape.
     * versions: the in-place write counts of inputs then outputs when it was recorded (-1 for a null input). tape:
     * the thread's tape it was recorded on; another thread's ops see its outputs as untracked.
     */
    record Node(Tape tape, long seq, String op, Tensor[] outputs, Tensor[] inputs, MultiBackward backward,
                int[] versions) {
    }

    private static final String RELEASED_BY_BACKWARD = "released by an earlier backward() (two losses sharing a graph:"
            + " call backward() once, on their sum)";
    private static final String DROPPED_BY_SCOPE = "dropped when the Scope it was recorded in closed (keep that Scope"
            + " open until backward(), or detach() the tensor if what produced it should get no gradient)";
    private static final String DISCARDED_BY_FAILURE = "discarded when an earlier backward() failed";

    /**
     * The nodes recorded on one thread, in order. Each output tensor holds its producing node and each node its inputs,
     * so a graph lives exactly as long as something can still reach it; the tape holds nodes only weakly. Ops run with
     * grad on outside any Scope (inference that forgot noGrad) therefore leak nothing: the graph goes with its outputs.
     */
    private static final class Tape {
        record Entry(long seq, WeakReference<Node> node) {
        }

        final List<Entry> entries = new ArrayList<>();
        int pruneAt = 1024;  // entries whose node was collected are swept out when the list reaches this size
        Scope hooked;
        int noGradDepth;
        boolean anomaly;
        long nextSeq;

        void add(Node node) {
            entries.add(new Entry(node.seq(), new WeakReference<>(node)));
            if (entries.size() >= pruneAt) {
                entries.removeIf(e -> e.node().get() == null);
                pruneAt = Math.max(1024, 2 * entries.size());
            }
        }

        int live() {
            int n = 0;
            for (Entry e : entries) if (e.node().get() != null) n++;
            return n;
        }

        /** Drops every node recorded at or after sequence number {@code seq} (a closing scope's nodes, or all). */
        void truncateFrom(long seq, String how) {
            while (!entries.isEmpty() && entries.get(entries.size() - 1).seq() >= seq) {
                Node node = entries.remove(entries.size() - 1).node().get();
                if (node != null) drop(node, how);
            }
        }

        /** Forgets a node; its outputs remember how, so that a later backward through them fails instead of stopping. */
        static void drop(Node node, String how) {
            TensorAccess access = TensorAccess.get();
            for (Tensor out : node.outputs()) {
                Object state = access.autograd(out);
                if (state == node || state == null) access.setAutograd(out, how);
            }
        }

        /**
         * Drops the nodes a backward walked ({@code walked[i]} for entry i; entries past its length were added
         * since) and sweeps out collected ones, keeping the order of the others.
         */
        void release(boolean[] walked) {
            int kept = 0;
            for (int i = 0; i < entries.size(); i++) {
                Entry e = entries.get(i);
                Node node = e.node().get();
                if (node != null && i < walked.length && walked[i]) drop(node, RELEASED_BY_BACKWARD);
                else if (node != null) entries.set(kept++, e);
            }
            entries.subList(kept, entries.size()).clear();
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

    /** Whether anomaly detection is on for this thread. */
    public static boolean isAnomalyDetectionEnabled() {
        return TAPE.get().anomaly;
    }

    /** Whether ops on this thread record on the tape: false inside a {@link #noGrad()} guard. */
    public static boolean isGradEnabled() {
        return TAPE.get().noGradDepth == 0;
    }

    /** Whether gradients flow into {@code t}: a leaf requiring grad, or the output of a recorded op. */
    public static boolean isTracked(Tensor t) {
        return t.isRequiresGrad() || producerOnThisThread(t) != null;
    }

    /**
     * Counts an in-place write into each non-null tensor (every op ending in _ calls this before writing), so that a
     * recorded op whose backward would read it fails instead of using the new values.
     */
    static void modifiedInPlace(Tensor... tensors) {
        TensorAccess access = TensorAccess.get();
        for (Tensor t : tensors) if (t != null) access.bumpVersion(t);
    }

    /** The live node that produced {@code t} on this thread's tape, or null. */
    private static Node producerOnThisThread(Tensor t) {
        return TensorAccess.get().autograd(t) instanceof Node node && node.tape() == TAPE.get() ? node : null;
    }

    /** How the graph that produced {@code t} was released, or null (live, or never recorded). */
    private static String releasedHow(Tensor t) {
        return TensorAccess.get().autograd(t) instanceof String how ? how : null;
    }

    /** Whether an op over these inputs should be recorded. */
    public static boolean shouldRecord(Tensor... inputs) {
        if (!isGradEnabled()) return false;
        for (Tensor t : inputs) if (t != null && isTracked(t)) return true;
        return false;
    }

    /** Number of nodes on this thread's tape (tests use it to show nothing leaks across steps). */
    public static int tapeSize() {
        return TAPE.get().live();
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
            scope.onClose(() -> tape.truncateFrom(mark, DROPPED_BY_SCOPE));
            tape.hooked = scope;
        }
        TensorAccess access = TensorAccess.get();
        int[] versions = new int[inputs.length + outputs.length];
        for (int k = 0; k < versions.length; k++) {
            Tensor t = k < inputs.length ? inputs[k] : outputs[k - inputs.length];
            versions[k] = t == null ? -1 : access.version(t);
        }
        Node node = new Node(tape, tape.nextSeq++, op, outputs, inputs, backward, versions);
        tape.add(node);
        for (Tensor out : outputs) access.setAutograd(out, node);
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
        String released = isTracked(root) ? null : releasedHow(root);
        if (released != null) {
            throw new IllegalStateException("backward(): the graph that produced " + root + " was " + released);
        }
        if (!isTracked(root)) {
            throw new IllegalStateException("backward(): " + root + " does not depend on any tensor that requires grad "
                    + "(was it computed under noGrad(), or from tensors without requiresGrad()?)");
        }
        if (tape.anomaly && !isFinite(seed)) {
            throw anomaly("backward seed", KilnAnomalyException.Phase.BACKWARD, new Tensor[] {root}, "seed gradient " + describe(seed));
        }
        // The tape newest first; a node none of whose outputs has a pending gradient is not in root's graph.
        boolean[] walked = new boolean[tape.entries.size()];
        boolean completed = false;
        try (Profiler.Range range = Profiler.range("backward"); NoGrad off = noGrad()) {
            Map<Tensor, Tensor> pending = new IdentityHashMap<>();
            accumulate(pending, root, seed);
            for (int i = walked.length - 1; i >= 0; i--) {
                Node node = tape.entries.get(i).node().get();
                if (node == null) continue;  // collected: nothing reaches its outputs, so no gradient can
                Tensor[] outGrads = new Tensor[node.outputs().length];
                boolean any = false;
                for (int k = 0; k < outGrads.length; k++) {
                    outGrads[k] = pending.remove(node.outputs()[k]);
                    any |= outGrads[k] != null;
                }
                if (!any) continue;
                walked[i] = true;
                requireIntact(node);
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
            else tape.truncateFrom(Long.MIN_VALUE, DISCARDED_BY_FAILURE);
        }
    }

    /**
     * Throws unless the node can be trusted: no input's producing graph was released (its gradient would stop there,
     * silently), and no input or output was written in place since the node was recorded (its backward would read the
     * new values).
     */
    private static void requireIntact(Node node) {
        TensorAccess access = TensorAccess.get();
        Tensor[] inputs = node.inputs(), outputs = node.outputs();
        for (int j = 0; j < inputs.length; j++) {
            Tensor input = inputs[j];
            String how = input == null || input.isRequiresGrad() ? null : releasedHow(input);
            if (how != null) {
                throw new IllegalStateException("backward(): input " + j + " of '" + node.op() + "' (" + input
                        + ") comes from a graph that was " + how + "; no gradient can flow back through it");
            }
        }
        int[] versions = node.versions();
        for (int k = 0; k < versions.length; k++) {
            Tensor t = k < inputs.length ? inputs[k] : outputs[k - inputs.length];
            if (t == null || t.isClosed() || access.version(t) == versions[k]) continue;
            String which = k < inputs.length ? "input " + k : "output " + (k - inputs.length);
            throw new IllegalStateException("backward(): " + which + " of '" + node.op() + "' (" + t + ") was written in"
                    + " place after '" + node.op() + "' recorded it (fill_, copy_, axpy_, copyFrom, an optimizer step,"
                    + " ...: " + (access.version(t) - versions[k]) + " write(s)), so its backward would read the new"
                    + " values; compute the forward again after the change, or change a copy()");
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

    /**
     * A leaf's gradient buffer that a backward writes into itself with an op that takes a beta (C = product + beta C):
     * beta 0 overwrites a buffer that holds no gradient yet, beta 1 adds to one that does.
     */
    record LeafGrad(Tensor buffer, float beta) {
    }

    /**
     * Where a backward may write {@code t}'s gradient itself instead of returning it (then it returns null for t):
     * accumulate() would copy a leaf's first gradient into its buffer and add a later one with an axpy, a pass over
     * the weight each (4% of a VAE step's op time; the GAN's discriminator gets two gradients per step). Null where
     * the gradient must be returned as usual: t is not a leaf that requires grad, or anomaly mode checks every returned
     * gradient. The buffer counts as written from here on (its version moves), as accumulate's copy or add would.
     */
    static LeafGrad leafGradSink(Tensor t) {
        if (!t.isRequiresGrad() || t.isClosed() || TAPE.get().anomaly) return null;
        TensorAccess access = TensorAccess.get();
        LeafGrad sink;
        Tensor stale = access.gradToOverwrite(t);
        if (stale != null) {
            sink = new LeafGrad(stale, 0f);
        } else if (t.grad() != null) {
            sink = new LeafGrad(t.grad(), 1f);
        } else {
            t.setGrad(Scope.detached(() -> Tensor.empty(t.device(), t.shape())));
            sink = new LeafGrad(t.grad(), 0f);
        }
        access.bumpVersion(sink.buffer());
        return sink;
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
        if (previous == null) pending.put(target, g);
        else if (g.dtype() == DType.F32) pending.put(target, Ops.add(previous, g));
        else pending.put(target, Ops.to(Ops.add(Ops.toF32(previous), Ops.toF32(g)), g.dtype()));  // bf16: sum in f32

    }
}
