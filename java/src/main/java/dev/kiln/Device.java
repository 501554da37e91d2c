package dev.kiln;

import dev.kiln.internal.RuntimeNative;

import java.util.Locale;

/**
 * A place where tensors live and ops run: the CPU, or one CUDA GPU. Every op of one device is queued in order on
 * that device's stream. Instances are values: {@code Device.cuda(0).equals(Device.cuda(0))}.
 */
public final class Device {
    /** Device kinds. */
    public enum Kind {
        /** The host CPU. */
        CPU,
        /** A CUDA GPU. */
        CUDA
    }

    private static final Device CPU = new Device(Kind.CPU, 0);

    private final Kind kind;
    private final int index;

    private Device(Kind kind, int index) {
        this.kind = kind;
        this.index = index;
    }

    /** The host CPU (all of its cores, as the native thread pool uses them). */
    public static Device cpu() {
        return CPU;
    }

    /**
     * CUDA device {@code index}. Fails with a {@link DeviceUnavailableException} saying what was found (how many
     * devices, or why none: no driver, no GPU, a CPU-only build) when it does not exist.
     */
    public static Device cuda(int index) {
        String[] reason = new String[1];
        int count = RuntimeNative.cudaDeviceCount(reason);
        if (index < 0 || index >= count) {
            String found = count == 0 ? "no CUDA device is available: " + reason[0]
                    : "this machine has " + count + " CUDA device(s), cuda:0 to cuda:" + (count - 1);
            throw new DeviceUnavailableException("cuda:" + index + " requested but " + found);
        }
        return new Device(Kind.CUDA, index);
    }

    /** CUDA device 0. */
    public static Device cuda() {
        return cuda(0);
    }

    /** The first GPU if there is one, else the CPU (saying why at INFO on the "dev.kiln" System.Logger). */
    public static Device best() {
        if (cudaAvailable()) return cuda(0);
        if (!loggedCpuFallback) {
            loggedCpuFallback = true;
            LOG.log(System.Logger.Level.INFO, "no CUDA device ({0}); Kiln runs on the CPU", cudaUnavailableReason());
        }
        return cpu();
    }

    private static final System.Logger LOG = System.getLogger("dev.kiln");
    private static volatile boolean loggedCpuFallback;

    /** Whether this machine and this build of Kiln have a CUDA device; {@link #cudaUnavailableReason} says why not. */
    public static boolean cudaAvailable() {
        return cudaDeviceCount() > 0;
    }

    /** How many CUDA devices this machine and this build of Kiln have (0 without a driver, a GPU or a CUDA build). */
    public static int cudaDeviceCount() {
        return RuntimeNative.cudaDeviceCount(null);
    }

    /** Why there is no CUDA device ("" when there is one). */
    public static String cudaUnavailableReason() {
        String[] reason = new String[1];
        RuntimeNative.cudaDeviceCount(reason);
        return reason[0];
    }

    /** Parses "cpu", "cuda", "cuda:N", "gpu" or "auto" (= {@link #best()}), as the CLI's --device takes them. */
    public static Device parse(String spec) {
        String s = spec == null ? "" : spec.trim().toLowerCase(Locale.ROOT);
        if (s.equals("cpu")) return cpu();
        if (s.equals("auto")) return best();
        if (s.equals("cuda") || s.equals("gpu")) return cuda(0);
        if (s.startsWith("cuda:")) {
            try {
                return cuda(Integer.parseInt(s.substring(5)));
            } catch (NumberFormatException e) {
                // fall through to the error below
            }
        }
        throw new IllegalArgumentException("unknown device '" + spec + "': expected cpu, cuda, cuda:N or auto");
    }

    /** Whether this is the CPU or a CUDA device. */
    public Kind kind() {
        return kind;
    }

    /** The CUDA device index (0 for the CPU). */
    public int index() {
        return index;
    }

    /** Whether this is a CUDA device. */
    public boolean isCuda() {
        return kind == Kind.CUDA;
    }

    /** Whether this is the CPU. */
    public boolean isCpu() {
        return kind == Kind.CPU;
    }

    /** Name, memory and (for GPUs) compute capability, as the driver reports them now. */
    public DeviceInfo info() {
        return RuntimeNative.deviceProperties(this);
    }

    /** Waits for every op queued on this device. */
    public void synchronize() {
        RuntimeNative.synchronize(this);
    }

    /** The allocator's counters for this device. */
    public MemoryStats memoryStats() {
        long[] s = RuntimeNative.memoryStats(this);
        return new MemoryStats(s[0], s[1], s[2], s[3], s[4], s[5], s[6]);
    }

    /** Returns cached, unused memory of this device to the system (other processes can then use it). */
    public void emptyCache() {
        RuntimeNative.emptyCache(this);
    }

    /**
     * Caps the memory this device's allocator may hold at {@code bytes} (in use plus cached; 0 removes the cap), as if
     * the device were that small: an allocation that would pass it first returns the cached blocks, then fails with a
     * {@link KilnOutOfMemoryException} naming the request, the bytes live and the limit. The device stays usable, so
     * a caller can free memory (close tensors, lower the batch) and carry on. The environment variable
     * {@code KILN_MEMORY_LIMIT_BYTES} sets the same cap for every device when its context is created.
     */
    public void setMemoryLimit(long bytes) {
        RuntimeNative.setMemoryLimit(this, bytes);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Device d && d.kind == kind && d.index == index;
    }

    @Override
    public int hashCode() {
        return kind.hashCode() * 31 + index;
    }

    @Override
    public String toString() {
        return kind == Kind.CPU ? "cpu" : "cuda:" + index;
    }
}
