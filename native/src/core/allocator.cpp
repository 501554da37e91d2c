// Allocator: live-block map, counters and the size-keyed cache of freed blocks.
#include "core/allocator.h"

#include <cstdio>

#include "core/error.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define KILN_POISON(p, n) ASAN_POISON_MEMORY_REGION(p, n)
#define KILN_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION(p, n)
#else
#define KILN_POISON(p, n) ((void)(p), (void)(n))
#define KILN_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

namespace kiln {

Allocator::Allocator(const char* device_name, size_t alignment, bool caching, SystemAlloc sys_alloc,
                     SystemFree sys_free, bool host_memory)
    : device_name_(device_name), alignment_(alignment), caching_(caching), host_memory_(host_memory),
      sys_alloc_(std::move(sys_alloc)), sys_free_(std::move(sys_free)) {}

Allocator::~Allocator() {
    std::lock_guard<std::mutex> lock(mutex_);
    for (auto& kv : live_) give_back(kv.first, kv.second);
    live_.clear();
    for (auto& kv : held_) give_back(kv.first, kv.second);
    held_.clear();
    empty_cache_locked();
}

void Allocator::poison(void* ptr, size_t bytes) const {
    if (host_memory_) KILN_POISON(ptr, bytes);
}

void Allocator::unpoison(void* ptr, size_t bytes) const {
    if (host_memory_) KILN_UNPOISON(ptr, bytes);
}

void Allocator::give_back(void* ptr, size_t size) const {
    unpoison(ptr, size);
    sys_free_(ptr, size);
}

size_t Allocator::rounded_size(size_t bytes, size_t alignment) {
    const size_t small_step = alignment > 512 ? alignment : 512;
    const size_t large_step = size_t(1) << 20;
    if (bytes == 0) return small_step;  // a real, unique block, so that free() stays uniform
    const size_t step = bytes < large_step ? small_step : large_step;
    if (bytes > SIZE_MAX - step) return 0;
    return (bytes + step - 1) / step * step;
}

void* Allocator::allocate(size_t bytes) {
    const size_t size = rounded_size(bytes, alignment_);
    if (size == 0) fail(KILN_ERR_OUT_OF_MEMORY, "kiln_alloc: %zu bytes cannot be allocated on %s", bytes, device_name_);
    std::lock_guard<std::mutex> lock(mutex_);
    void* ptr = nullptr;
    // A cache hit leaves the cache as a node, so that a failure to record the block (bad_alloc in the maps below) can
    // put it back without allocating.
    decltype(cached_)::node_type from_cache;
    if (caching_) {
        auto it = cached_.find(size);
        if (it != cached_.end()) {
            from_cache = cached_.extract(it);
            ptr = from_cache.mapped();
        }
    }
    if (!ptr && capturing_) {
        fail(KILN_ERR_UNSUPPORTED,
             "kiln_alloc: %zu bytes (%zu rounded) requested on %s while it captures a CUDA graph, and its cache holds no "
             "free block of that size: a graph cannot contain cudaMalloc. Run the step once before capturing, so that "
             "every block it needs is cached",
             bytes, size, device_name_);
    }
    if (!ptr) {
        // The cap is checked before the system is asked, so a simulated small device fails the way a real one would:
        // after the cache was given back.
        // Written as a subtraction: reserved + size wraps for a size near 2^64, and the request would pass the cap.
        if (limit_ != 0 && !fits_limit_locked(size)) {
            empty_cache_locked();
            if (!fits_limit_locked(size)) out_of_memory_locked(bytes, size, "the memory limit");
        }
        ptr = sys_alloc_(size);
        if (!ptr && !cached_.empty()) {  // the cache may hold the memory we need in the wrong sizes
            empty_cache_locked();
            ptr = sys_alloc_(size);
        }
        if (!ptr) out_of_memory_locked(bytes, size, "the system");
    }
    try {
        live_.emplace(ptr, size);
        if (capturing_) captured_.emplace(ptr, size);
    } catch (...) {  // the block goes back where it came from, and no counter has moved
        live_.erase(ptr);
        if (from_cache) {
            cached_.insert(std::move(from_cache));
        } else {
            give_back(ptr, size);
        }
        throw;
    }
    // The caller may touch the bytes it asked for, and no more.
    unpoison(ptr, size);
    poison(static_cast<char*>(ptr) + bytes, size - bytes);
    if (from_cache) {
        stats_.cache_hits++;
    } else {
        stats_.system_allocations++;
        stats_.bytes_reserved += size;
    }
    stats_.bytes_in_use += size;
    if (stats_.bytes_in_use > stats_.peak_bytes_in_use) stats_.peak_bytes_in_use = stats_.bytes_in_use;
    stats_.live_allocations++;
    stats_.total_allocations++;
    return ptr;
}

bool Allocator::fits_limit_locked(size_t size) const {
    return size <= limit_ && stats_.bytes_reserved <= limit_ - size;
}

void Allocator::out_of_memory_locked(size_t requested, size_t rounded, const char* why) {
    char limit[96] = "no limit set";
    if (limit_ != 0)
        std::snprintf(limit, sizeof limit, "limit %llu bytes (KILN_MEMORY_LIMIT_BYTES / kiln_set_memory_limit)",
                      (unsigned long long)limit_);
    fail(KILN_ERR_OUT_OF_MEMORY,
         "kiln_alloc: out of memory on %s: %zu bytes requested (%zu rounded) were refused by %s; live: %llu bytes in "
         "%llu blocks (peak %llu bytes); %s",
         device_name_, requested, rounded, why, (unsigned long long)stats_.bytes_in_use,
         (unsigned long long)stats_.live_allocations, (unsigned long long)stats_.peak_bytes_in_use, limit);
}

void Allocator::release(void* ptr) {
    if (!ptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = live_.find(ptr);
    if (it == live_.end()) {
        fail(KILN_ERR_INVALID_ARGUMENT,
             "kiln_free: pointer %p was not allocated by this %s context, or was already freed", ptr, device_name_);
    }
    const size_t size = it->second;
    // The block leaves the live map only once it has a place: if recording it as held or cached throws (bad_alloc),
    // it is still live, every counter is as it was, and the caller can free it again.
    if (pins_.count(ptr)) {
        held_.emplace(ptr, size);  // a live graph still writes it on every replay
        poison(ptr, size);         // free, though still mapped: any use of it now is a use after free
    } else if (caching_) {
        cached_.emplace(size, ptr);
        poison(ptr, size);
    } else {
        give_back(ptr, size);
        stats_.bytes_reserved -= size;
    }
    live_.erase(it);
    stats_.bytes_in_use -= size;
    stats_.live_allocations--;
}

void Allocator::begin_capture() {
    std::lock_guard<std::mutex> lock(mutex_);
    capturing_ = true;
    captured_.clear();
}

std::vector<void*> Allocator::end_capture(bool pin) {
    std::lock_guard<std::mutex> lock(mutex_);
    capturing_ = false;
    std::vector<void*> blocks;
    if (pin) {
        blocks.reserve(captured_.size());
        for (const auto& [ptr, size] : captured_) {
            blocks.push_back(ptr);
            if (pins_[ptr]++ > 0 || live_.count(ptr)) continue;  // held already, or still in the caller's hands
            // Freed during the capture, so back in the cache: take it out before anyone else is handed it.
            auto range = cached_.equal_range(size);
            for (auto it = range.first; it != range.second; ++it) {
                if (it->second == ptr) {
                    cached_.erase(it);
                    break;
                }
            }
            held_.emplace(ptr, size);
        }
    }
    captured_.clear();
    return blocks;
}

void Allocator::unpin(const std::vector<void*>& blocks) {
    std::lock_guard<std::mutex> lock(mutex_);
    for (void* ptr : blocks) {
        auto pin = pins_.find(ptr);
        if (pin == pins_.end() || --pin->second > 0) continue;
        pins_.erase(pin);
        auto held = held_.find(ptr);
        if (held == held_.end()) continue;  // still live: its release will cache it
        const size_t size = held->second;
        held_.erase(held);
        if (caching_) {
            cached_.emplace(size, ptr);
        } else {
            give_back(ptr, size);
            stats_.bytes_reserved -= size;
        }
    }
}

void Allocator::empty_cache() {
    std::lock_guard<std::mutex> lock(mutex_);
    empty_cache_locked();
}

void Allocator::empty_cache_locked() {
    for (auto& kv : cached_) {
        give_back(kv.second, kv.first);
        stats_.bytes_reserved -= kv.first;
    }
    cached_.clear();
}

void Allocator::set_limit(uint64_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    limit_ = bytes;
}

kiln_memory_stats Allocator::stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
}

}  // namespace kiln
