// Work items over the CPU thread pool with per-participant scratch: what the convolution's algorithms (conv2d.cpp,
// conv2d_winograd.cpp) share to run their blocks in parallel without allocating inside the loop.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

#if defined(__linux__)
#include <sys/mman.h>
#endif

#include "cpu/parallel.h"

namespace kiln::cpu::work {

// A growable per-thread buffer, grown to the largest request seen and reused (pool workers live forever, so theirs
// is allocated once). Buffers of megabytes get 2 MiB alignment so that transparent huge pages can back them (fewer
// TLB misses while streaming packed panels); small ones page alignment.
class Scratch {
  public:
    ~Scratch() { std::free(p_); }
    // At least `floats` floats, or NULL when the allocation fails (the old buffer is gone then too).
    float* try_get(size_t floats) {
        if (floats > cap_) {
            std::free(p_);
            const size_t huge = size_t(2) << 20, want = floats * sizeof(float);
            const size_t align = want >= huge ? huge : 4096, bytes = (want + align - 1) / align * align;
            p_ = static_cast<float*>(std::aligned_alloc(align, bytes));
            cap_ = p_ ? bytes / sizeof(float) : 0;
#if defined(__linux__) && defined(MADV_HUGEPAGE)
            if (p_ && align == huge) madvise(p_, bytes, MADV_HUGEPAGE);  // a hint: THP is often "madvise" only
#endif
        }
        return p_;
    }
    // The same, throwing std::bad_alloc on failure: for callers that have not started any work yet (core turns it
    // into KILN_ERR_OUT_OF_MEMORY).
    float* get(size_t floats) {
        float* p = try_get(floats);
        if (p == nullptr) throw std::bad_alloc();
        return p;
    }

  private:
    float* p_ = nullptr;
    size_t cap_ = 0;
};

// The calling thread's scratch for the convolution's algorithms: at least `floats` floats, valid until its next call.
inline float* thread_scratch(size_t floats) {
    static thread_local Scratch scratch;
    return scratch.get(floats);
}

inline int64_t slots_for(int64_t items) { return std::max<int64_t>(1, std::min<int64_t>(num_threads(), items)); }

inline int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t round_up(int64_t a, int64_t b) { return ceil_div(a, b) * b; }
inline int64_t align16(int64_t floats) { return round_up(floats, 16); }  // keeps every scratch slice 64-byte aligned
// Equal blocks of at most `cap`, each a multiple of `unit` (K = 400 with cap 384 gives 2 x 200, not 384 + 16).
inline int64_t balanced_block(int64_t total, int64_t cap, int64_t unit) {
    return std::min(round_up(ceil_div(total, ceil_div(total, cap)), unit), round_up(total, unit));
}

// Runs body(slot_scratch, item) for every item in [0, items) on up to slots_for(items) participants, each with its
// own `per_slot` floats at slots + slot * per_slot. Participant s owns the s-th contiguous range of items and works
// through it in order; one that finishes early takes items from the others' ranges, so a thread slowed by the JVM or
// another process delays the call by about one item. Contiguous ranges matter: neighbouring items write neighbouring
// outputs (the same rows of the same planes at a block boundary), and two threads taking turns along the items would
// fight over those cache lines at every item.
template <class Body>
void run_items(int64_t items, float* slots, int64_t per_slot, Body&& body) {
    if (items <= 0) return;
    const int64_t n_slots = slots_for(items);
    if (n_slots == 1) {
        for (int64_t i = 0; i < items; ++i) body(slots, i);
        return;
    }
    struct alignas(64) Range {
        std::atomic<int64_t> next;
        int64_t end;
    };
    Range* ranges = static_cast<Range*>(__builtin_alloca(sizeof(Range) * n_slots + 64));
    ranges = reinterpret_cast<Range*>((reinterpret_cast<uintptr_t>(ranges) + 63) & ~uintptr_t(63));
    for (int64_t s = 0; s < n_slots; ++s) {
        new (&ranges[s].next) std::atomic<int64_t>(s * items / n_slots);
        ranges[s].end = (s + 1) * items / n_slots;
    }
    auto worker = [&](int64_t slot) {
        float* mem = slots + slot * per_slot;
        for (int64_t k = 0; k < n_slots; ++k) {
            Range& r = ranges[(slot + k) % n_slots];
            for (int64_t i = r.next.fetch_add(1); i < r.end; i = r.next.fetch_add(1)) body(mem, i);
        }
    };
    // Each chunk of parallel_for starts at a distinct index, which names its slot; inline runs use slot 0 for all.
    parallel_for(n_slots, [&](int64_t begin, int64_t) { worker(begin); });
}

}  // namespace kiln::cpu::work
