// Tiny persistent thread pool for the CPU backend: one fork-join primitive, parallel_for.
// Safe inside a JVM: never blocks on a busy pool, never deadlocks on nesting, never lets an exception escape a thread.
#pragma once

#include <cstdint>
#include <functional>

namespace kiln::cpu {

// Threads the pool uses, the calling thread included: KILN_NUM_THREADS if it is set to an integer >= 1,
// else std::thread::hardware_concurrency() (at least 1). Read once, on first use.
int num_threads();

// Runs fn(begin, end) over [0, n) split into at most num_threads() contiguous chunks of at least `grain`
// items each; the calling thread runs the first chunk. Every index is covered exactly once.
// Runs fn(0, n) inline, on the calling thread, when: n is small (one chunk), the pool is busy with another
// application thread's call (so concurrent callers never wait on each other), or the call comes from inside
// a task (nesting). When chunks throw, every chunk still runs to its end or its throw, and after the join the first
// exception caught is rethrown on the calling thread (core turns it into a status); none escapes a pool thread.
void parallel_for(int64_t n, const std::function<void(int64_t, int64_t)>& fn, int64_t grain = 1);

}  // namespace kiln::cpu
