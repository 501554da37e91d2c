package dev.kiln;

import java.util.ArrayList;
import java.util.List;

/** Test helper: every device this machine has (the CPU, plus each CUDA GPU). */
final class Devices {
    private Devices() {
    }

    static List<Device> all() {
        List<Device> all = new ArrayList<>();
        all.add(Device.cpu());
        for (int i = 0; i < Device.cudaDeviceCount(); i++) all.add(Device.cuda(i));
        if (all.size() == 1) {
            System.out.println("[kiln] CUDA cases SKIPPED on this machine: " + Device.cudaUnavailableReason());
        }
        return all;
    }
}
