package dev.kiln.cli;

import dev.kiln.Device;
import dev.kiln.DeviceInfo;
import dev.kiln.Kiln;
import picocli.CommandLine.Command;

import java.util.concurrent.Callable;

/** {@code kiln info}: how the native library was built and which devices it sees. */
@Command(name = "info", description = "Print the devices found and how the native library was built.")
final class InfoCommand implements Callable<Integer> {
    @Override
    public Integer call() {
        System.out.println("build:   " + Kiln.buildInfo());
        System.out.println("library: " + Kiln.nativeLibraryPath());
        DeviceInfo cpu = Device.cpu().info();
        System.out.printf("cpu:     %s, %d threads, %.1f GiB (%.1f GiB available)%n", cpu.name(), cpu.computeUnits(),
                gib(cpu.totalMemory()), gib(cpu.freeMemory()));
        int gpus = Device.cudaDeviceCount();
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

    private static double gib(long bytes) {
        return bytes / (1024.0 * 1024 * 1024);
    }
}
