// One allocator for both device kinds: live-block bookkeeping and counters, plus an optional cache of freed blocks
// (used for CUDA, where cudaMalloc/cudaFree synchronize the device and cost far more than a kernel launch).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "kiln/kiln.h"

namespace kiln {

class Allocator {
public:
    // system_alloc returns nullptr when the system is out of memory and throws kiln::Error for anything else.
    using SystemAlloc = std::function<void*(size_t)>;
    using SystemFree = std::function<void(void*, size_t)>;  // the block and the size asked of SystemAlloc

    // host_memory: the blocks are host memory (the CPU backend's, or native/emu's emulated device's), which
    // AddressSanitizer builds poison while they are free (cached or held) and past each request's end while live, so
    // that a use after kiln_free or a read past the requested size is reported; a caching allocator would otherwise
    // hide both.
    Allocator(const char* device_name, size_t alignment, bool caching, SystemAlloc sys_alloc, SystemFree sys_free,
              bool host_memory = false);
    ~Allocator();  // returns every block, live or cached, to the system
    Allocator(const Allocator&) = delete;
    Allocator& operator=(const Allocator&) = delete;

    void* allocate(size_t bytes);  // throws Error{KILN_ERR_OUT_OF_MEMORY} after emptying the cache and retrying
    void release(void* ptr);       // throws Error{KILN_ERR_INVALID_ARGUMENT} for a pointer this allocator did not give
    void empty_cache();
    kiln_memory_stats stats();
    // Caps bytes_reserved (0: no cap). An allocation that would pass it empties the cache, then fails with
    // KILN_ERR_OUT_OF_MEMORY (kiln_set_memory_limit in kiln.h).
    void set_limit(uint64_t bytes);

    // Requests are rounded so that a training loop's repeated shapes map to identical block sizes, which makes
    // exact-size reuse from the cache hit almost always (small: 512 B steps; large: 1 MiB steps).
    static size_t rounded_size(size_t bytes, size_t alignment);

    // CUDA graphs (core/graph.cpp). While capturing, an allocation the cache cannot serve fails with
    // KILN_ERR_UNSUPPORTED instead of reaching cudaMalloc (the warm-up step fills the cache), and every block handed
    // out is noted; blocks freed during the capture return to the cache as usual, since the capture reuses them in
    // the same stream order as an eager step. end_capture(true) pins the noted blocks to the new graph: a pinned
    // block that is free, now or later, is held back rather than cached, so no one else is handed memory a replay
    // writes; unpin (the graph's destruction) returns it to the cache. end_capture(false) forgets them (no graph).
    void begin_capture();
    std::vector<void*> end_capture(bool pin);
    void unpin(const std::vector<void*>& blocks);

private:
    void empty_cache_locked();
    // Whether reserving `size` more bytes stays within limit_ (set), without the overflow of reserved + size.
    bool fits_limit_locked(size_t size) const;
    [[noreturn]] void out_of_memory_locked(size_t requested, size_t rounded, const char* why);
    // AddressSanitizer poisoning of host blocks (no-ops elsewhere); give_back unpoisons a block and returns it to the
    // system.
    void poison(void* ptr, size_t bytes) const;
    void unpoison(void* ptr, size_t bytes) const;
    void give_back(void* ptr, size_t size) const;

    const char* device_name_;
    const size_t alignment_;
    const bool caching_;
    const bool host_memory_;
    SystemAlloc sys_alloc_;
    SystemFree sys_free_;
    std::mutex mutex_;
    std::unordered_map<void*, size_t> live_;   // pointer -> rounded size
    std::multimap<size_t, void*> cached_;      // rounded size -> free block
    bool capturing_ = false;
    std::unordered_map<void*, size_t> captured_;  // blocks handed out during the capture -> rounded size
    std::unordered_map<void*, int> pins_;         // block -> number of live graphs that use it
    std::unordered_map<void*, size_t> held_;      // free pinned blocks, kept out of the cache -> rounded size
    kiln_memory_stats stats_{};
    uint64_t limit_ = 0;  // 0: none
};

}  // namespace kiln
