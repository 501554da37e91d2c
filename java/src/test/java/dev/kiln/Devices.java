package dev.kiln;

import java.util.ArrayList;
import java.util.List;

/** Test helper: every device this machine has (the CPU, plus each CUDA GPU). */
public final class Devices {
    private Devices() {
    }

    static List<Device> all() {
        List<Device> all = new ArrayList<>();
        all.add(Device.cpu());
        for (int i = 0; i < Device.cudaDeviceCount(); i++) all.add(Device.cuda(i));
        if (all.size() == 1) noCudaDevice("CUDA cases");
        return all;
    }

    /**
     * Says, visibly, that {@code what} is skipped for want of a CUDA device; or fails, where the run must have one
     * ({@code -Dkiln.test.requireCuda=true}, set by the build's run against the emulated device), so that a device
     * that went missing cannot pass as a skip.
     */
    public static void noCudaDevice(String what) {
        String reason = Device.cudaUnavailableReason();
        if (Boolean.getBoolean("kiln.test.requireCuda")) {
            throw new AssertionError(what + ": kiln.test.requireCuda is set, but no CUDA device is available: " + reason);
        }
        System.out.println("[kiln] " + what + " SKIPPED on this machine: " + reason);
    }
}
