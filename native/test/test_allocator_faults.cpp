// The allocator's bookkeeping under host-memory failure: when recording a block in its maps throws bad_alloc, the call
// fails with KILN_ERR_OUT_OF_MEMORY and nothing is lost. A free that failed can be retried; an allocation that failed
// leaves every counter and the cache as they were. The k-th host allocation inside the call is made to fail, for
// every k until the call no longer allocates, so each point where the allocator can be interrupted is visited.
#include <cstdlib>
#include <new>

#include "check.h"
#include "kiln/kiln.h"

namespace {
// -1: no failure armed; k >= 0: the k-th operator new from now throws (once).
thread_local long t_fail_in = -1;
}  // namespace

void* operator new(std::size_t n) {
    if (t_fail_in == 0) {
        t_fail_in = -1;
        throw std::bad_alloc();
    }
    if (t_fail_in > 0) --t_fail_in;
    if (void* p = std::malloc(n ? n : 1)) return p;
    throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

kiln_memory_stats stats(kiln_context* ctx) {
    kiln_memory_stats s{};
    EXPECT(kiln_memory_stats_get(ctx, &s) == KILN_OK);
    return s;
}

bool same_counters(const kiln_memory_stats& a, const kiln_memory_stats& b) {
    return a.bytes_in_use == b.bytes_in_use && a.bytes_reserved == b.bytes_reserved &&
           a.live_allocations == b.live_allocations && a.total_allocations == b.total_allocations &&
           a.cache_hits == b.cache_hits && a.system_allocations == b.system_allocations;
}

// Frees p with the k-th host allocation failing; returns whether that call failed (then p must still be freeable).
bool free_failing_at(kiln_context* ctx, void* p, long k) {
    t_fail_in = k;
    const kiln_status s = kiln_free(ctx, p);
    const bool hit = t_fail_in == -1;  // the armed failure fired inside the call
    t_fail_in = -1;
    if (s == KILN_OK) return false;
    EXPECT(hit && s == KILN_ERR_OUT_OF_MEMORY);
    EXPECT(kiln_free(ctx, p) == KILN_OK);  // the block is still live: freeing it again works
    return true;
}

void frees_interrupted_anywhere_can_be_retried() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    int failures = 0;
    for (long k = 0; k < 16; ++k) {
        void* p = nullptr;
        EXPECT(kiln_alloc(ctx, 1000 + 512 * k, &p) == KILN_OK);  // a new size each time: the cache gains a key
        failures += free_failing_at(ctx, p, k);
        const kiln_memory_stats s = stats(ctx);
        EXPECT(s.bytes_in_use == 0 && s.live_allocations == 0);
    }
    EXPECT(failures > 0);  // some k reached an allocation inside kiln_free
    EXPECT(kiln_empty_cache(ctx) == KILN_OK);
    EXPECT(stats(ctx).bytes_reserved == 0);  // every block came back to the cache, and from it to the system
    kiln_context_destroy(ctx);
}

void allocations_interrupted_anywhere_change_nothing() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    int failures = 0;
    for (int from_cache = 0; from_cache < 2; ++from_cache) {
        for (long k = 0; k < 16; ++k) {
            const size_t bytes = 4096 + 512 * k;
            if (from_cache) {  // one block of this size waits in the cache
                void* warm = nullptr;
                EXPECT(kiln_alloc(ctx, bytes, &warm) == KILN_OK && kiln_free(ctx, warm) == KILN_OK);
            }
            const kiln_memory_stats before = stats(ctx);
            void* p = nullptr;
            t_fail_in = k;
            const kiln_status s = kiln_alloc(ctx, bytes, &p);
            t_fail_in = -1;
            if (s != KILN_OK) {
                failures++;
                EXPECT(s == KILN_ERR_OUT_OF_MEMORY && p == nullptr);
                EXPECT(same_counters(before, stats(ctx)));
                EXPECT(kiln_alloc(ctx, bytes, &p) == KILN_OK);  // and the same request then succeeds
                // A block that was cached is found again, not lost: the retry is a cache hit.
                if (from_cache) EXPECT(stats(ctx).cache_hits == before.cache_hits + 1);
            }
            EXPECT(kiln_free(ctx, p) == KILN_OK);
        }
    }
    EXPECT(failures > 0);
    const kiln_memory_stats s = stats(ctx);
    EXPECT(s.bytes_in_use == 0 && s.live_allocations == 0);
    EXPECT(s.total_allocations == s.cache_hits + s.system_allocations);
    EXPECT(kiln_empty_cache(ctx) == KILN_OK);
    EXPECT(stats(ctx).bytes_reserved == 0);
    kiln_context_destroy(ctx);
}

}  // namespace

int main() {
    frees_interrupted_anywhere_can_be_retried();
    allocations_interrupted_anywhere_change_nothing();
    return kiln::test::finish("test_allocator_faults");
}
