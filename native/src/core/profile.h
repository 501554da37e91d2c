// The core's half of profiling: which entry the calling thread is running (set by kiln::guarded for every entry,
// read back through kiln_last_op) and, for CUDA contexts with device timing on, CUDA events around each op.
#pragma once

#include "common/kernel_path.h"

namespace kiln {

// Called as an entry starts: the entry's name (a string literal) becomes the thread's current op, with no path yet.
void begin_entry(const char* entry) noexcept;

// The thread's current op, the path its backend noted ("" for either when none) and whether its device time was
// recorded; reading clears them, so an entry that does not go through guarded() is never credited with the
// previous op's name.
void take_last_entry(const char** entry, const char** path, bool* device_timed) noexcept;

// Called by dispatch once a CUDA op's closing event is recorded.
void note_device_timed() noexcept;

}  // namespace kiln
