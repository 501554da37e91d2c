package dev.kiln;

/**
 * Allocator counters of one device. Sizes are after Kiln's rounding (512-byte steps, 1 MiB steps above 1 MiB).
 *
 * @param bytesInUse         bytes held by live tensors
 * @param peakBytesInUse     the high-water mark of {@code bytesInUse}
 * @param bytesReserved      bytes held from the system: in use plus cached for reuse
 * @param liveAllocations    allocations not yet freed
 * @param totalAllocations   allocations since the device was first used
 * @param systemAllocations  allocations that reached the system (cudaMalloc or aligned_alloc)
 * @param cacheHits          allocations served from the cache without a system call
 */
public record MemoryStats(long bytesInUse, long peakBytesInUse, long bytesReserved, long liveAllocations,
                          long totalAllocations, long systemAllocations, long cacheHits) {
}
