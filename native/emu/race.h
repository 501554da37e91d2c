// Kiln's CUDA emulator (native/emu): the race check's hooks into ThreadSanitizer, for the SIMT engine (simt.cpp).
// KILN_EMU_TSAN=1 is the race check's build (native/emu/CMakeLists.txt); elsewhere every hook is an empty function.
#pragma once

#include <cstdio>

#include "kiln_emu/launch.h"

#ifndef KILN_EMU_TSAN
#define KILN_EMU_TSAN 0
#endif
#if KILN_EMU_TSAN
#include <sanitizer/tsan_interface.h>
#endif

namespace kiln_emu {

// The race check (native/test/cuda_emulator.sh --race): simt.cpp is built without ThreadSanitizer's instrumentation
// and the kernels with it, and each CUDA thread is a TSan fiber. Switching fibers implies no order (no_sync): the
// scheduler runs threads one after another, but a GPU runs them at once. The orders a GPU does promise are told to
// TSan as release/acquire pairs: a block's start (the scheduler's setup) before its threads, __syncthreads among the
// block's threads, a warp collective among its lanes, and each thread before its block's end (so the launch's). Two
// threads' accesses to one address, one of them a write, with no such pair between them, are then a reported data
// race, whichever order the scheduler ran them in. The blocks of a cooperative grid run at once and are not ordered;
// those of an ordinary launch run one after another on one OS thread, reusing its static __shared__ arrays and the
// fibers' stacks, and are ordered so (a race between them is left to run_grid's drawn block order, which parity
// meets).
namespace race {
#if KILN_EMU_TSAN
inline void* current() { return __tsan_get_current_fiber(); }
inline void* create() { return __tsan_create_fiber(0); }
inline void destroy(void* fiber) { __tsan_destroy_fiber(fiber); }
inline void switch_to(void* fiber) { __tsan_switch_to_fiber(fiber, __tsan_switch_to_fiber_no_sync); }
inline void release(const void* sync) { __tsan_release(const_cast<void*>(sync)); }
inline void acquire(const void* sync) { __tsan_acquire(const_cast<void*>(sync)); }
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
inline void name(void*, const ThreadState&) {}
#endif
}  // namespace race

}  // namespace kiln_emu
