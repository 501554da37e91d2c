package dev.kiln;

/**
 * What the native library reports about a device.
 *
 * @param name            marketing name of the GPU, or the CPU model
 * @param totalMemory     bytes of device memory (host RAM for the CPU)
 * @param freeMemory      bytes free at the time of the query
 * @param ccMajor         CUDA compute capability, major (0 for the CPU)
 * @param ccMinor         CUDA compute capability, minor
 * @param computeUnits    streaming multiprocessors, or the CPU threads Kiln uses
 */
public record DeviceInfo(String name, long totalMemory, long freeMemory, int ccMajor, int ccMinor, int computeUnits) {
}
