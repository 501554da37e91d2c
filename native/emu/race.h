// Kiln's CUDA emulator (native/emu): the race check's hooks into ThreadSanitizer, for the SIMT engine (simt.cpp).
// KILN_EMU_TSAN=1 is the race check's build (native/emu/CMakeLists.txt); elsewhere every hook is an empty function.
#pragma once

#include <sys/mman.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "kiln_emu/launch.h"

#ifndef KILN_EMU_TSAN
#define KILN_EMU_TSAN 0
#endif
#if KILN_EMU_TSAN
#include <sanitizer/tsan_interface.h>
extern "C" void __tsan_ignore_thread_begin();  // exported by libtsan, not declared by GCC 12's header
extern "C" void __tsan_ignore_thread_end();
#endif

namespace kiln_emu {

// The race check (native/test/cuda_emulator.sh --race): simt.cpp is built without ThreadSanitizer's instrumentation
// and the kernels with it, and each CUDA thread is a TSan fiber. Switching fibers implies no order (no_sync): the
// scheduler runs threads one after another, but a GPU runs them at once. The orders a GPU does promise are told to
// TSan as release/acquire pairs: a block's start (the scheduler's setup) before its threads, __syncthreads among the
// block's threads, a warp collective among its lanes, and each thread before its launch's end. Two threads' accesses
// to one address, one of them a write, with no such pair between them, are then a reported data race, whichever
// order the scheduler ran them in. The blocks of a cooperative grid run at once and are not ordered. Those of an
// ordinary launch run one after another on one OS thread, each block's threads on the fibers of one of
// KILN_EMU_RACE_FIBER_SETS sets (default 4): block i (its linear index) on set i mod 4. A fiber's own accesses are
// ordered, so a block is ordered after the blocks before it in its set (a multiple of 4 away) and unordered with all
// the others: two blocks of one launch that are fewer than 4 apart, or any two when every block touches the same
// memory, and that read or write what the other writes are reported, which compute-sanitizer's racecheck (shared
// memory only) would not do. KILN_EMU_RACE_FIBER_SETS=0 leaves no two blocks of a launch ordered: each block's threads
// are then new fibers, on stacks whose earlier accesses are forgotten, at 2-5x the run (a fiber per CUDA thread, and
// grid_1d launches a thread per element); =1 orders each block before the next. Each block's shared memory and
// release/acquire objects are its own.
namespace race {
#if KILN_EMU_TSAN
inline void* current() { return __tsan_get_current_fiber(); }
inline void* create() { return __tsan_create_fiber(0); }
inline void destroy(void* fiber) { __tsan_destroy_fiber(fiber); }
inline void switch_to(void* fiber) { __tsan_switch_to_fiber(fiber, __tsan_switch_to_fiber_no_sync); }
inline void release(const void* sync) { __tsan_release(const_cast<void*>(sync)); }
inline void acquire(const void* sync) { __tsan_acquire(const_cast<void*>(sync)); }
inline unsigned fiber_sets() {
    static const unsigned sets = [] {
        const char* v = std::getenv("KILN_EMU_RACE_FIBER_SETS");
        if (!v || !*v) return 4u;
        char* end = nullptr;
        const unsigned long n = std::strtoul(v, &end, 10);
        if (*end || n > 64) {
            std::fprintf(stderr, "kiln CUDA emulator: KILN_EMU_RACE_FIBER_SETS=%s is not a count from 0 to 64\n", v);
            std::abort();
        }
        return (unsigned)n;
    }();
    return sets;
}
// Between quiet(true) and quiet(false) the running fiber's memory accesses are not its own: new memory allocated
// then starts with no owner (shared memory belongs to the block, not to the thread that happened to make it).
inline void quiet(bool on) { on ? __tsan_ignore_thread_begin() : __tsan_ignore_thread_end(); }
// The accesses recorded for [p, p + n) are dropped, as for new memory: the pages are mapped afresh (zero, untouched).
inline void forget(void* p, size_t n) {
    quiet(true);  // mapped quietly, the range has no accesses at all rather than a write by this fiber
    if (mmap(p, n, PROT_READ | PROT_WRITE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0) != p) {
        std::perror("kiln CUDA emulator: cannot map a thread's stack afresh");
        std::abort();
    }
    quiet(false);
}
// A report then names the CUDA thread, "block (1,0,0) thread (64,0,0)", beside TSan's own thread number.
inline void name(void* fiber, const ThreadState& t) {
    char text[64];
    std::snprintf(text, sizeof text, "block (%u,%u,%u) thread (%u,%u,%u)", t.block_idx.x, t.block_idx.y,
                  t.block_idx.z, t.thread_idx.x, t.thread_idx.y, t.thread_idx.z);
    __tsan_set_fiber_name(fiber, text);
}
#else
inline void* current() { return nullptr; }
inline void* create() { return nullptr; }
inline void destroy(void*) {}
inline void switch_to(void*) {}
inline void release(const void*) {}
inline void acquire(const void*) {}
inline unsigned fiber_sets() { return 1; }
inline void quiet(bool) {}
inline void forget(void*, size_t) {}
inline void name(void*, const ThreadState&) {}
#endif
}  // namespace race

}  // namespace kiln_emu
