package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.DeviceInfo;
import dev.kiln.Kiln;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code kiln info}: how the native library was built and which devices it sees, as text or JSON. */
@Command(name = "info",
        description = "Print how the native library was built (version, CUDA architectures, CPU vector ISA), where it was "
                + "loaded from, and the devices it sees: the CPU and every CUDA GPU, or why there is none.")
final class InfoCommand implements Callable<Integer> {
    @Option(names = "--json", description = "Print the same facts as one JSON object (for scripts and CI)")
    boolean json;

    @Override
    public Integer call() {
        DeviceInfo cpu = Device.cpu().info();
        int gpus = Device.cudaDeviceCount();
        if (json) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("build", Kiln.buildInfo());
            doc.put("library", String.valueOf(Kiln.nativeLibraryPath()));
            doc.put("java", System.getProperty("java.version") + " (" + System.getProperty("java.vm.name") + ")");
            doc.put("os", System.getProperty("os.name") + " " + System.getProperty("os.version") + " " + System.getProperty("os.arch"));
            List<Map<String, Object>> devices = new ArrayList<>();
            devices.add(device("cpu", cpu));
            for (int i = 0; i < gpus; i++) devices.add(device("cuda:" + i, Device.cuda(i).info()));
            doc.put("devices", devices);
            doc.put("cuda_devices", gpus);
            if (gpus == 0) doc.put("cuda_unavailable_reason", Device.cudaUnavailableReason());
            System.out.println(Metrics.toJson(doc));
            return 0;
        }
        System.out.println("build:   " + Kiln.buildInfo());
        System.out.println("library: " + Kiln.nativeLibraryPath());
        System.out.printf("cpu:     %s, %d threads, %.1f GiB (%.1f GiB available)%n", cpu.name(), cpu.computeUnits(),
                gib(cpu.totalMemory()), gib(cpu.freeMemory()));
        if (gpus == 0) {
            System.out.println("cuda:    no devices (" + Device.cudaUnavailableReason() + ")");
        }
        for (int i = 0; i < gpus; i++) {
            DeviceInfo g = Device.cuda(i).info();
            System.out.printf("cuda:%d:  %s, compute capability %d.%d, %d SMs, %.1f GiB (%.1f GiB free)%n", i, g.name(),
                    g.ccMajor(), g.ccMinor(), g.computeUnits(), gib(g.totalMemory()), gib(g.freeMemory()));
        }
        return 0;
    }

    private static Map<String, Object> device(String name, DeviceInfo d) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("device", name);
        m.put("name", d.name());
        m.put("compute_units", d.computeUnits());
        m.put("total_memory_bytes", d.totalMemory());
        m.put("free_memory_bytes", d.freeMemory());
        if (!name.equals("cpu")) m.put("compute_capability", d.ccMajor() + "." + d.ccMinor());
        return m;
    }

    private static double gib(long bytes) {
        return bytes / (1024.0 * 1024 * 1024);
    }
}
