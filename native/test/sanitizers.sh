#!/usr/bin/env bash
# Builds the native tests with AddressSanitizer and UndefinedBehaviorSanitizer (CPU backend only, no JNI) in their own
# CMake build directory and runs them with ctest; any report stops the test that hit it and fails the run.
# Usage: native/test/sanitizers.sh [BUILD_DIR] [--thread]   (default: build-asan in the repository root)
# Maven's `verify` runs it after the main ctest; it is runnable alone the same way. --thread builds and runs them
# under ThreadSanitizer instead, with KILN_NUM_THREADS=4 so that the pool runs more workers than this machine has
# cores; it is not part of `verify` (its tests alone take about 9 minutes here, and the pool's synchronization
# changes rarely).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-asan}
mode=${2:-}
jobs=${KILN_BUILD_JOBS:-2}

if [ "$mode" = "--thread" ]; then
    flags="-fsanitize=thread -fno-omit-frame-pointer"
else
    # -fno-sanitize-recover: UBSan's default is to print and carry on, which a passing ctest would then hide.
    flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
fi
mkdir -p "$build"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DKILN_ENABLE_CUDA=OFF -DKILN_ENABLE_JNI=OFF -DKILN_BUILD_BENCH=OFF \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
cmake --build "$build" --parallel "$jobs"

if [ "$mode" = "--thread" ]; then
    # halt_on_error: the first race fails the test that found it.
    export TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:${TSAN_OPTIONS:-}"
    export KILN_NUM_THREADS=${KILN_NUM_THREADS:-4}
    ctest --test-dir "$build" --output-on-failure --timeout 1800
    exit
fi
# halt_on_error: the first report fails the test (UBSan's recover is compiled out too). Leak checking is on: the
# tests own every context and buffer they create. The thread pool is made once and never joined (parallel.cpp), and
# its threads stay reachable, so LeakSanitizer does not count them.
export ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
ctest --test-dir "$build" --output-on-failure --timeout 900
