// Kiln's CUDA emulator (native/emu): between the runtime API (runtime.cpp) and the SIMT engine (simt.cpp).
#pragma once

#include <functional>

#include "kiln_emu/launch.h"

namespace kiln_emu {

// The emulated device's limits (an H200's).
constexpr int kMultiprocessors = 132;
// The SMs the device reports: kMultiprocessors, or KILN_EMU_MULTIPROCESSORS (1 to 132) where set. The race check sets
// a few, so that a cooperative grid (one block per SM) stays within ThreadSanitizer's 8128 live threads.
int multiprocessors();
constexpr int kMaxThreadsPerSm = 2048;
constexpr int kMaxBlocksPerSm = 32;
constexpr size_t kSharedPerSm = 233472;         // 228 KiB
constexpr size_t kSharedOptinPerBlock = 232448;  // 227 KiB
constexpr size_t kSharedDefaultPerBlock = 48 * 1024;
constexpr size_t kSharedReservedPerBlock = 1024;

// Blocks of block_size threads with dynamic_smem bytes each that one SM holds at once (registers are not modelled).
int blocks_per_sm(int block_size, size_t dynamic_smem);

// Runs every thread of a validated grid to completion on the calling OS thread (a cooperative grid: one OS thread
// per block). Stops the process with a report on a deadlock (threads that wait for a barrier others never reach).
void run_grid(const Config& cfg, const std::function<void()>& thread, bool cooperative);

}  // namespace kiln_emu
