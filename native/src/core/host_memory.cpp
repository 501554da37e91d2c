// Host memory for the CPU backend: see host_memory.h.
//
// Why huge pages: this library's CPU tensors are megabytes each and every op streams through several of them. On 4 KiB
// pages each op walks hundreds of page-table entries, and inside a virtual machine (nested paging) a TLB miss costs a
// two-level walk whose price depends on how the host happens to back the guest's pages. Measured on this project's
// 2-core VM, the character language model's training ran 20-28k tokens/s from one process to the next on 4 KiB pages
// and 34-39k on huge pages, in five alternating pairs (KILN_HUGE_PAGES=0 against the default).
#include "core/host_memory.h"

#include <sys/mman.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>

namespace kiln {
namespace {

bool huge_pages_wanted() {
    static const bool wanted = [] {
        const char* v = std::getenv("KILN_HUGE_PAGES");
        return !(v && std::strcmp(v, "0") == 0);
    }();
    return wanted;
}

bool mapped_on_its_own(size_t bytes) { return bytes >= kHugePageBytes && huge_pages_wanted(); }

// Maps bytes at a 2 MiB boundary: over-map by one huge page, then unmap the unaligned head and the tail beyond.
void* map_aligned(size_t bytes) {
    if (bytes > SIZE_MAX - kHugePageBytes) return nullptr;
    const size_t span = bytes + kHugePageBytes;
    void* raw = mmap(nullptr, span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (raw == MAP_FAILED) return nullptr;
    const uintptr_t start = reinterpret_cast<uintptr_t>(raw);
    const uintptr_t aligned = (start + kHugePageBytes - 1) & ~(uintptr_t(kHugePageBytes) - 1);
    const size_t head = aligned - start;
    if (head) munmap(raw, head);
    const size_t tail = span - head - bytes;
    if (tail) munmap(reinterpret_cast<void*>(aligned + bytes), tail);
    void* p = reinterpret_cast<void*>(aligned);
#ifdef MADV_HUGEPAGE
    // Advice only: where transparent huge pages are off the block still works, on small pages.
    madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return p;
}

}  // namespace

void* host_alloc(size_t bytes) {
    if (mapped_on_its_own(bytes)) return map_aligned(bytes);
    return std::aligned_alloc(64, bytes);
}

void host_free(void* ptr, size_t bytes) {
    if (mapped_on_its_own(bytes)) {
        munmap(ptr, bytes);
    } else {
        std::free(ptr);
    }
}

}  // namespace kiln
