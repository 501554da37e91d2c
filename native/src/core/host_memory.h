// Host memory for the CPU backend's caching allocator: small blocks from the C heap, large ones mapped on huge-page
// boundaries so that the kernel can back them with transparent huge pages.
#pragma once

#include <cstddef>

namespace kiln {

// Blocks of at least this many bytes are mapped on their own, 2 MiB-aligned, and advised for huge pages.
constexpr size_t kHugePageBytes = size_t(2) << 20;

// Returns nullptr when the system is out of memory. bytes is a multiple of 64 (the allocator's rounding).
// KILN_HUGE_PAGES=0 in the environment keeps every block on the C heap (read once, at the first large block).
void* host_alloc(size_t bytes);
// ptr and bytes as host_alloc got and returned them.
void host_free(void* ptr, size_t bytes);

}  // namespace kiln
