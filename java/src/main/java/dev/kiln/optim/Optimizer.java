package dev.kiln.optim;

import dev.kiln.CudaGraph;
import dev.kiln.DType;
import dev.kiln.Profiler;
import dev.kiln.Scope;
import dev.kiln.Tensor;
import dev.kiln.ops.Autograd;
import dev.kiln.ops.NoGrad;
import dev.kiln.ops.Ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Updates parameters from their gradients, one fused kernel per parameter tensor. Per-parameter state (momentum,
 * Adam moments) is allocated on the parameter's device on first use and freed by {@link #close()}.
 *
 * <p>{@link #stateDict()} and {@link #loadStateDict(Map, long)} save and restore that state with the step count, so
 * a training run resumes where it stopped (dev.kiln.io.Checkpoints writes them to a file).
 */
public abstract class Optimizer implements AutoCloseable {
    /** The parameters in the order given to the constructor (the index in a state key counts in it); unmodifiable. */
    protected final List<Tensor> params;
    private final Map<Tensor, Tensor[]> state = new IdentityHashMap<>();
    private long steps;
    private LrSchedule schedule = LrSchedule.constant();
    private double factor = 1;  // the schedule's factor for the step being taken

    /** Takes a non-empty list of distinct parameters that require grad; IllegalArgumentException otherwise. */
    protected Optimizer(List<Tensor> params) {
        if (params == null || params.isEmpty()) throw new IllegalArgumentException(getClass().getSimpleName() + ": no parameters");
        Map<Tensor, Integer> index = new IdentityHashMap<>();
        for (Tensor p : params) {
            if (!p.isRequiresGrad()) throw new IllegalArgumentException(getClass().getSimpleName() + ": " + p + " does not require grad");
            Integer first = index.putIfAbsent(p, index.size());
            // Twice in the list would mean two updates per step (and, for Adam, two moment updates).
            if (first != null) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": parameter " + first + " (" + p
                        + ") is in the list twice; Module.parameters() lists a shared layer's parameters once");
            }
        }
        this.params = List.copyOf(params);
    }

    /**
     * Applies one update to every parameter that has a gradient.
     *
     * <p>Everything Java can check is checked before anything changes: every parameter, gradient and state tensor
     * is open, and each gradient and state tensor is f32 with its parameter's device and shape (see also
     * {@link #checkStep()}); missing state is allocated for every parameter up front (and dropped again if that
     * fails). A step refused that way leaves the parameters, the state and the step counts (host and device) as
     * they were, so it can simply be retried once the cause is fixed. Not atomic: a failure inside the native
     * updates (a CUDA error, a lost device) after the first parameter was written leaves the earlier parameters
     * stepped and the counts advanced; such an error usually means the device's state is lost anyway.
     */
    public final void step() {
        try (Profiler.Range range = Profiler.range("optimizer")) {
            Tensor[] grads = checkedGradients();
            checkStep();
            long next = steps + 1;
            double nextFactor = checkedFactor(next, "; nothing was updated and the step count stays " + steps);
            List<Tensor> created = new ArrayList<>();
            try {
                int stateCount = stateNames().size();
                if (stateCount > 0) {
                    for (int i = 0; i < grads.length; i++) {
                        Tensor p = params.get(i);
                        if (grads[i] != null && !state.containsKey(p)) {
                            state(p, stateCount);
                            created.add(p);
                        }
                    }
                }
                beginStep(next);
            } catch (RuntimeException | Error e) {
                for (Tensor p : created) for (Tensor t : state.remove(p)) t.close();
                throw e;
            }
            steps = next;
            factor = nextFactor;
            for (int i = 0; i < grads.length; i++) {
                if (grads[i] != null) update(params.get(i), grads[i], next);
            }
        }
    }

    /** Each parameter's gradient (null: none), after checking that step() can use all of them; changes nothing. */
    private Tensor[] checkedGradients() {
        String who = getClass().getSimpleName() + ".step";
        String unchanged = "; nothing was updated and the step count stays " + steps;
        Tensor[] grads = new Tensor[params.size()];
        for (int i = 0; i < grads.length; i++) {
            Tensor p = params.get(i);
            if (p.isClosed()) throw new IllegalStateException(who + ": parameter " + i + " is closed (" + p + ")" + unchanged);
            Tensor g;
            try {
                g = p.grad();  // fills a pending zeroGrad(), which only a closed gradient refuses
            } catch (IllegalStateException e) {
                throw new IllegalStateException(who + ": the gradient of parameter " + i + " " + p + " is closed" + unchanged, e);
            }
            if (g == null) continue;
            if (g.isClosed()) {
                throw new IllegalStateException(who + ": the gradient of parameter " + i + " " + p + " is closed (it was"
                        + " freed by close() or by a Scope; setGrad a new one or zeroGrad() and run backward again)" + unchanged);
            }
            checkLike(who, "the gradient of parameter " + i, g, p, unchanged);
            Tensor[] buffers = state.get(p);
            if (buffers != null) {
                List<String> names = stateNames();
                for (int k = 0; k < buffers.length; k++) {
                    String what = "the state '" + i + "." + (k < names.size() ? names.get(k) : String.valueOf(k)) + "'";
                    if (buffers[k].isClosed()) {
                        throw new IllegalStateException(who + ": " + what + " is closed (stateDict() returns the live"
                                + " state tensors: closing one ends this optimizer's state)" + unchanged);
                    }
                    checkLike(who, what, buffers[k], p, unchanged);
                }
            }
            grads[i] = g;
        }
        return grads;
    }

    private static void checkLike(String who, String what, Tensor t, Tensor param, String unchanged) {
        if (t.dtype() != DType.F32 || !t.device().equals(param.device()) || !Arrays.equals(t.shape(), param.shape())) {
            throw new IllegalArgumentException(who + ": " + what + " is " + t + " but the parameter is " + param
                    + " (it must be f32 on the parameter's device, of its shape)" + unchanged);
        }
    }

    /** Zeroes every parameter's gradient in place. */
    public final void zeroGrad() {
        try (Profiler.Range range = Profiler.range("zero_grad")) {
            for (Tensor p : params) p.zeroGrad();
        }
    }

    /** Number of steps taken by {@link #step()} (eagerly; see {@link #stateSteps()} for replays of a CUDA graph). */
    public final long steps() {
        return steps;
    }

    /**
     * Steps the optimizer's state has taken, the count a checkpoint saves: {@link #steps()}, plus the replays of a
     * captured step where the optimizer counts its steps on the device (a capturable Adam, which reads it there).
     */
    public long stateSteps() {
        return steps;
    }

    /** The parameters, in the order given to the constructor (a state key's index counts in it); unmodifiable. */
    public final List<Tensor> parameters() {
        return params;
    }

    /**
     * Multiplies the learning rate of step t by {@code schedule.factor(t)} from the next step on (t counts every step
     * taken, those before this call and those a loaded state dict brings). Returns this.
     */
    public final Optimizer schedule(LrSchedule schedule) {
        if (schedule == null) throw new IllegalArgumentException(getClass().getSimpleName() + ".schedule: null (LrSchedule.constant() is no schedule)");
        this.schedule = schedule;
        return this;
    }

    /** The learning-rate schedule ({@link LrSchedule#constant()} unless one was set). */
    public final LrSchedule schedule() {
        return schedule;
    }

    /** True for a finite value above 0 (false for NaN): hyperparameter checks. */
    protected static boolean positive(float v) {
        return v > 0f && v < Float.POSITIVE_INFINITY;
    }

    /** True for a finite value at or above 0 (false for NaN). */
    protected static boolean nonNegative(float v) {
        return v >= 0f && v < Float.POSITIVE_INFINITY;
    }

    /** {@code lr} times the schedule's factor for the step being taken: what {@link #update} passes to its kernel. */
    protected final float scheduled(float lr) {
        return (float) (lr * factor);
    }

    /** The schedule's factor for step {@code step}, refused unless finite and >= 0 (before anything changes). */
    private double checkedFactor(long step, String unchanged) {
        if (schedule == LrSchedule.constant()) return 1;
        if (CudaGraph.isCapturing(params.get(0).device())) {
            throw new IllegalStateException(getClass().getSimpleName() + ".step: a learning-rate schedule gives each step "
                    + "its own rate, a kernel argument that a CUDA graph would replay unchanged; capture without one" + unchanged);
        }
        double f = schedule.factor(step);
        if (!(f >= 0) || Double.isInfinite(f)) {
            throw new IllegalStateException(getClass().getSimpleName() + ".step: the learning-rate schedule gave factor "
                    + f + " for step " + step + " (it must be finite and >= 0)" + unchanged);
        }
        return f;
    }

    /**
     * Updates one parameter from its gradient for step number {@code step} (1 for the first); a subclass scales its
     * learning rate by {@link #scheduled}. Called by {@link #step()} for each parameter that has a gradient.
     */
    protected abstract void update(Tensor param, Tensor grad, long step);

    /**
     * Called by {@link #step()} after its own checks and before anything changes: a subclass throws here to refuse a
     * step it cannot take (Adam refuses a CUDA graph capture unless capturable).
     */
    protected void checkStep() {
    }

    /**
     * Called once per {@link #step()} with the number of the step being taken, after every check and before the
     * per-parameter updates (a device-side step counter advances here). If it throws, the step is not counted, so it
     * must leave its own state as it was (allocate, then commit).
     */
    protected void beginStep(long step) {
    }

    /** Called after {@link #loadStateDict} replaced the step count (a device-side counter is set to it here). */
    protected void stepsLoaded(long steps) {
    }

    /** The state buffers of {@code param}: {@code count} zero-filled tensors of its shape, created on first use. */
    protected final Tensor[] state(Tensor param, int count) {
        return state.computeIfAbsent(param, p -> Scope.detached(() -> {
            Tensor[] buffers = new Tensor[count];
            try {
                for (int i = 0; i < count; i++) buffers[i] = Tensor.zeros(p.device(), p.shape());
            } catch (RuntimeException | Error e) {
                for (Tensor t : buffers) if (t != null) t.close();  // an allocation failed: free the others now
                throw e;
            }
            return buffers;
        }));
    }

    /**
     * Names of the state tensors each parameter keeps, in the order {@link #state} creates them (PyTorch's names:
     * "exp_avg", "momentum_buffer"). A subclass that keeps state overrides this; the default is no state.
     */
    protected List<String> stateNames() {
        return List.of();
    }

    /**
     * The optimizer's state as "index.name" (index of the parameter in the list given to the constructor, name from
     * {@link #stateNames()}: "0.exp_avg", "0.exp_avg_sq", ...). A parameter that has not been updated yet has no
     * entries. The tensors are the live ones, as {@link dev.kiln.nn.Module#stateDict()}'s are: save or copy them
     * before stepping on. The step count is {@link #steps()}, not a tensor: fp32 counts exactly only to 2^24.
     */
    public final Map<String, Tensor> stateDict() {
        List<String> names = stateNames();
        Map<String, Tensor> out = new LinkedHashMap<>();
        for (int i = 0; i < params.size(); i++) {
            Tensor[] buffers = state.get(params.get(i));
            if (buffers == null) continue;
            if (buffers.length != names.size()) {
                throw new IllegalStateException(getClass().getSimpleName() + " keeps " + buffers.length
                        + " state tensors per parameter but stateNames() names " + names.size());
            }
            for (int k = 0; k < buffers.length; k++) out.put(i + "." + names.get(k), buffers[k]);
        }
        return Collections.unmodifiableMap(out);
    }

    /**
     * Replaces the state with {@code stateDict} (from any device; the layout of {@link #stateDict()}) and the step
     * count with {@code steps}. Everything is checked first: on a bad name, a missing partner ("0.exp_avg" without
     * "0.exp_avg_sq"), or a shape or dtype that does not match the parameter, nothing changes and the exception lists
     * every problem. Parameters without entries lose any state they had, as in the optimizer that was saved.
     */
    public final void loadStateDict(Map<String, Tensor> stateDict, long steps) {
        Tensor[][] incoming = checked(stateDict, steps);
        try (NoGrad ignored = Autograd.noGrad()) {
            for (int i = 0; i < incoming.length; i++) {
                Tensor param = params.get(i);
                if (incoming[i] == null) {
                    Tensor[] old = state.remove(param);
                    if (old != null) for (Tensor t : old) t.close();
                    continue;
                }
                Tensor[] buffers = state(param, stateNames().size());
                for (int k = 0; k < buffers.length; k++) copyInto(buffers[k], incoming[i][k]);
            }
        }
        this.steps = steps;
        stepsLoaded(steps);
    }

    /**
     * Throws the exception {@link #loadStateDict} would throw for these arguments, and otherwise does nothing: lets a
     * checkpoint holding several parts check every part before it loads any.
     */
    public final void checkStateDict(Map<String, Tensor> stateDict, long steps) {
        checked(stateDict, steps);
    }

    /** The incoming tensors by parameter index and state slot (null rows: no state), or the exception listing every problem. */
    private Tensor[][] checked(Map<String, Tensor> stateDict, long steps) {
        String who = getClass().getSimpleName() + ".loadStateDict";
        if (stateDict == null) throw new IllegalArgumentException(who + ": state is null");
        if (steps < 0) throw new IllegalArgumentException(who + ": steps must be >= 0, got " + steps);
        List<String> names = stateNames();
        Tensor[][] incoming = new Tensor[params.size()][];
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : stateDict.entrySet()) {
            String key = e.getKey();
            int dot = key == null ? -1 : key.indexOf('.');
            int index = dot < 0 ? -1 : parameterIndex(key.substring(0, dot));
            int slot = dot < 0 ? -1 : names.indexOf(key.substring(dot + 1));
            if (index < 0 || slot < 0) {
                problems.add("unexpected '" + key + "' (expected index.name, index below " + params.size() + ", name in " + names + ")");
                continue;
            }
            Tensor src = e.getValue(), param = params.get(index);
            if (src == null || src.isClosed()) {
                problems.add("'" + key + "' is " + (src == null ? "null" : "closed"));
            } else if (src.dtype() != DType.F32 || !Arrays.equals(src.shape(), param.shape())) {
                problems.add("'" + key + "' is " + src + " but parameter " + index + " is " + param);
            }
            if (incoming[index] == null) incoming[index] = new Tensor[names.size()];
            incoming[index][slot] = src;
        }
        for (int i = 0; i < incoming.length; i++) {
            if (incoming[i] == null) continue;
            for (int k = 0; k < names.size(); k++) {
                if (incoming[i][k] == null) problems.add("missing '" + i + "." + names.get(k) + "'");
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException(who + ": nothing was loaded: " + String.join("; ", problems));
        }
        return incoming;
    }

    /** The index a state key names, or -1; only the canonical spelling ("3", not "03" or "+3") counts. */
    private int parameterIndex(String s) {
        for (int i = 0; i < s.length(); i++) if (s.charAt(i) < '0' || s.charAt(i) > '9') return -1;
        if (s.isEmpty() || s.length() > 9 || (s.length() > 1 && s.charAt(0) == '0')) return -1;
        int i = Integer.parseInt(s);
        return i < params.size() ? i : -1;
    }

    private static void copyInto(Tensor dst, Tensor src) {
        if (src.device().equals(dst.device())) {
            Ops.copy_(dst, src);
        } else {
            try (Tensor moved = Scope.detached(() -> src.to(dst.device()))) {
                Ops.copy_(dst, moved);
            }
        }
    }

    @Override
    public void close() {
        for (Tensor[] buffers : state.values()) for (Tensor t : buffers) t.close();
        state.clear();
    }
}
