#!/usr/bin/env bash
# Runs the CUDA backend on a machine without a GPU: builds libkiln with -DKILN_CUDA_EMULATOR=ON (kernels/*.cu compiled
# as C++ behind native/emu's emulated runtime, see ARCHITECTURE.md) in its own build directory and runs the native
# tests that reach the CUDA backend. parity then compares every CUDA kernel with the CPU backend case by case instead
# of skipping; test_graph and test_bench_timing run their GPU halves (capture and replay, event timing).
# It also builds libkiln.so there, with the JNI glue where JAVA_HOME names a JDK (and KILN_VERSION, the jar's version),
# for the JUnit tests that Maven's `verify` then runs against the emulated device (java/pom.xml's junit-cuda-emulator).
# The plain run also builds the GPU benchmarks (bench/native/*_gpu_bench.cu) and runs each in its smoke run
# (KILN_BENCH_SMOKE=1: the smallest shape, a few runs), so their code runs before any GPU's time is spent.
# --asan builds it all (kernels, emulator, core) with AddressSanitizer and UBSan instead, without the JNI glue: a
# kernel's read or write past a buffer is then reported with its source line, as compute-sanitizer's memcheck would.
# It then runs every other native test of that build under the sanitizers too, with the emulated device hidden
# (CUDA_VISIBLE_DEVICES=), so they test the CPU backend exactly as native/test/sanitizers.sh's CPU-only build does:
# `mvn verify` runs this instead of that script, one sanitizer build fewer (about 4 minutes of CI).
# --race builds it all with ThreadSanitizer instead, each CUDA thread a TSan fiber ordered only by what a GPU promises
# (block start, __syncthreads, warp collectives, the launch's end; native/emu/race.h), and runs parity, test_graph and
# test_api: a missing barrier is then reported as the data race it is, with both accesses' source lines, as
# compute-sanitizer's racecheck would, whatever order the emulator's scheduler happened to run the threads in; so are
# two blocks of one launch fewer than 4 apart that touch the same memory, one of them writing, which racecheck would
# not see (KILN_EMU_RACE_FIBER_SETS; see race.h). It builds with Clang, whose TSan runtime runs it about twice as fast
# as GCC 12's and makes a fiber 80x faster. FILTER (parity's --filter, a substring of "family/op" such as attention/)
# limits parity to some cases; all of them take about 11 minutes here, build included.
# Usage: native/test/cuda_emulator.sh [BUILD_DIR] [--asan | --race [FILTER]]   (default: build-emu in the repository
# root)
# Maven's `verify` runs it after the sanitizer run; it is runnable alone the same way.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build-emu}
mode=${2:-}
filter=${3:-}
jobs=${KILN_BUILD_JOBS:-2}
tests=(kiln_parity test_graph test_bench_timing test_api)

mkdir -p "$build"
if [ "$mode" = "--asan" ]; then
    flags="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
    options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_ENABLE_JNI=OFF "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags")
    export ASAN_OPTIONS="halt_on_error=1:detect_leaks=1:${ASAN_OPTIONS:-}"
    export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}"
    # test_bench_timing's 64 MiB fills are 10x slower under ASan and check timing, not memory: left to the plain run
    # on the emulated device (it runs below on the CPU with the rest of ctest).
    tests=(kiln_parity test_graph test_api)
    all_native_tests=1
elif [ "$mode" = "--race" ]; then
    flags="-fsanitize=thread -fno-omit-frame-pointer"
    # Clang's ThreadSanitizer runtime, not GCC's: a fiber costs 7 us to make and free there against 580 us in GCC 12's
    # libtsan (whose ThreadState is 772 KiB, mapped, zeroed and unmapped each time), so the race check can give every
    # block new fibers and leave the blocks of a launch unordered (race.h).
    options=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_ENABLE_JNI=OFF -DCMAKE_C_COMPILER=clang
             -DCMAKE_CXX_COMPILER=clang++ "-DCMAKE_C_FLAGS=$flags" "-DCMAKE_CXX_FLAGS=$flags")
    export TSAN_OPTIONS="halt_on_error=1:history_size=4:${TSAN_OPTIONS:-}"
    # A cooperative grid runs one block per SM at once, each thread a live TSan fiber: 8 SMs keep the LSTM's
    # persistent grid (256 threads a block) to 2048 live fibers.
    export KILN_EMU_MULTIPROCESSORS=8
    # test_graph and test_api add the host's side: streams, events, graph capture and replay against the kernels.
    tests=(kiln_parity test_graph test_api)
elif [ -n "$mode" ]; then
    echo "usage: native/test/cuda_emulator.sh [BUILD_DIR] [--asan | --race [FILTER]]" >&2
    exit 64
else
    options=(-DCMAKE_BUILD_TYPE=Release -DKILN_ENABLE_JNI=ON ${JAVA_HOME:+"-DJAVA_HOME=$JAVA_HOME"})
fi
benches=()
all_native_tests=${all_native_tests:-0}
bench_option=ON
[ "$all_native_tests" -eq 0 ] || bench_option=OFF  # the sanitizer build needs the tests, not the benchmarks
if [ -z "$mode" ]; then
    for f in "$root"/bench/native/*_gpu_bench.cu; do benches+=("kiln_bench_$(basename "$f" _gpu_bench.cu)"); done
fi
cmake -S "$root" -B "$build" -DKILN_CUDA_EMULATOR=ON -DKILN_BUILD_BENCH=$bench_option "${options[@]}" \
    ${KILN_VERSION:+"-DKILN_VERSION=$KILN_VERSION"} >"$build/configure.log" 2>&1 ||
    { cat "$build/configure.log"; exit 1; }
targets=("${tests[@]}" emu_selfcheck ${benches[@]+"${benches[@]}"})
[ -n "$mode" ] || targets+=(kiln)
[ "$all_native_tests" -eq 0 ] || targets+=(all)
cmake --build "$build" --parallel "$jobs" --target "${targets[@]}"

# The emulator first shows that it can tell (native/emu/selfcheck.cu): right kernels pass, shared memory that nothing
# wrote reads as NaN in every block, and under a sanitizer the kernel broken for it is reported at its line.
echo "== the emulator's self-check"
selfcheck="$build/native/emu/emu_selfcheck"
if ! "$selfcheck" ordered; then
    echo "cuda_emulator: the emulator's self-check failed right kernels" >&2
    exit 1
fi
expect_report() {  # expect_report MODE EXIT PATTERN WHAT: emu_selfcheck MODE must exit EXIT with PATTERN in its log
    local rc=0 log="$build/selfcheck_$1.log"
    "$selfcheck" "$1" >"$log" 2>&1 || rc=$?
    if [ "$rc" -ne "$2" ] || ! grep -Eq "$3" "$log"; then
        cat "$log" >&2
        echo "cuda_emulator: $4 was not reported (exit $rc)" >&2
        exit 1
    fi
    echo "emu_selfcheck $1: $4 was reported: $(grep -m1 SUMMARY "$log")"
}
# 66 is ThreadSanitizer's exit status after a report, 1 AddressSanitizer's.
if [ "$mode" = "--race" ]; then
    expect_report racy 66 "data race .*selfcheck.cu:[0-9]+(:[0-9]+)? in .*block_sum" "the block sum without its barrier"
    # Blocks on different fiber sets are unordered: blocks that write one address are reported. Right kernels stay
    # unreported with every block ordered (one set) and with none ordered (new fibers for each block).
    expect_report blocks 66 "data race .*selfcheck.cu:[0-9]+(:[0-9]+)? in .*last_block_wins" \
        "blocks writing the same outputs"
    for sets in 1 0; do
        if ! KILN_EMU_RACE_FIBER_SETS=$sets "$selfcheck" ordered; then
            echo "cuda_emulator: the race check failed right kernels with KILN_EMU_RACE_FIBER_SETS=$sets" >&2
            exit 1
        fi
    done
fi
[ "$mode" != "--asan" ] ||
    expect_report overrun 1 "heap-buffer-overflow .*selfcheck.cu:[0-9]+(:[0-9]+)? in .*shared_overrun" \
        "a write past a static __shared__ array"

# The programs run as jobs on KILN_TEST_JOBS lanes (default: the build's), longest first: the emulated device runs a
# kernel on one thread, so parity is cut into as many shards (--shard). Each job writes its own log; the logs are
# printed in the order the jobs started once all have ended. A skip (exit 77) would mean the emulated device was not
# found: here that is a failure, not a pass.
lanes=${KILN_TEST_JOBS:-$jobs}
rm -rf "$build/logs"  # a shard log left by an earlier run with more lanes would be summed below
mkdir -p "$build/logs"
started=()
start_job() {  # start_job NAME COMMAND...: COMMAND's output goes to logs/NAME.log and its exit status to logs/NAME.rc
    local name=$1
    shift
    while [ "$(jobs -rp | wc -l)" -ge "$lanes" ]; do wait -n || true; done
    started+=("$name")
    (
        rc=0
        "$@" >"$build/logs/$name.log" 2>&1 || rc=$?
        echo "$rc" >"$build/logs/$name.rc"
    ) &
}
if [[ " ${tests[*]} " == *" test_bench_timing "* ]]; then
    start_job test_bench_timing "$build/native/test/test_bench_timing"
fi
for ((i = 0; i < lanes; i++)); do
    start_job "kiln_parity-$i" "$build/native/test/kiln_parity" ${filter:+--filter "$filter"} --shard "$i/$lanes"
done
for b in ${benches[@]+"${benches[@]}"}; do start_job "$b" env KILN_BENCH_SMOKE=1 "$build/bench/native/$b"; done
start_job test_api "$build/native/test/test_api"
start_job test_graph "$build/native/test/test_graph"
wait
failed=()
for name in "${started[@]}"; do
    case $name in
        kiln_bench_*) echo "== $name, smoke run on the emulated CUDA device" ;;
        *) echo "== $name on the emulated CUDA device" ;;
    esac
    cat "$build/logs/$name.log"
    rc=$(cat "$build/logs/$name.rc")
    [ "$rc" -eq 0 ] || failed+=("$name (exit $rc)")
done
# One line for the shards together, in the form of a single run's.
cat "$build"/logs/kiln_parity-*.log | awk '/^parity: /{p += $2; f += $4; s += $6}
    END {printf "parity: %d passed, %d failed, %d skipped (all %d shards)\n", p, f, s, '"$lanes"'}'
if [ ${#failed[@]} -gt 0 ]; then
    echo "cuda_emulator: failed: ${failed[*]}" >&2
    exit 1
fi
echo "cuda_emulator: ${#tests[@]} test programs passed, ${#benches[@]} GPU benchmarks ran, on the emulated CUDA device"
if [ "$all_native_tests" -eq 1 ]; then
    # The whole native suite on the CPU backend under the same sanitizers, the options native/test/sanitizers.sh uses:
    # leaks checked (the tests own every context and buffer they make), use after return and initialization order.
    echo "== the native tests under AddressSanitizer and UBSan, the emulated device hidden"
    ASAN_OPTIONS="halt_on_error=1:abort_on_error=0:detect_leaks=1:detect_stack_use_after_return=1:\
check_initialization_order=1:strict_init_order=1" CUDA_VISIBLE_DEVICES= \
        ctest --test-dir "$build" --output-on-failure --timeout 900 -E '^parity$'
fi
