package dev.kiln;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeviceTest {
    @Test
    void cpuIsAlwaysThereAndDescribesItself() {
        DeviceInfo info = Device.cpu().info();
        assertTrue(info.totalMemory() > 0 && info.computeUnits() >= 1, info.toString());
        assertEquals(Device.cpu(), Device.parse("cpu"));
        assertEquals("cpu", Device.cpu().toString());
        String build = Kiln.buildInfo();
        assertTrue(build.contains("kiln ") && build.contains("cpu: "), build);
        assertEquals(Kiln.version(), build.substring(5, build.indexOf(';')));
    }

    @Test
    void missingGpuIsAClearException() {
        int count = Device.cudaDeviceCount();
        DeviceUnavailableException e = assertThrows(DeviceUnavailableException.class, () -> Device.cuda(count));
        assertTrue(e.getMessage().startsWith("cuda:" + count + " requested but "), e.getMessage());
        if (count == 0) {
            assertTrue(e.getMessage().contains("no CUDA device is available: " + Device.cudaUnavailableReason()), e.getMessage());
            assertEquals(Device.cpu(), Device.best());
            assertThrows(DeviceUnavailableException.class, () -> Device.parse("cuda:0"));
        } else {
            assertTrue(e.getMessage().contains(count + " CUDA device(s)"), e.getMessage());
            assertEquals(Device.cuda(0), Device.best());
        }
        assertThrows(DeviceUnavailableException.class, () -> Device.cuda(-1));
    }

    @Test
    void parseRejectsNonsense() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Device.parse("tpu:0"));
        assertTrue(e.getMessage().contains("tpu:0") && e.getMessage().contains("cpu, cuda, cuda:N or auto"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Device.parse("cuda:x"));
    }
}
