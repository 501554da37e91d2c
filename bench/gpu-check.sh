#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU, nvcc and CMake (no Java, no network needed; the Java API's checks on
# such a machine are bench/gpu-java.sh's):
#   bench/gpu-check.sh OUT_DIR [--allow-no-gpu] [--budget SECONDS] [--pack] [--emulate]
# Builds libkiln and the native tests for the local GPU, runs ctest and the parity harness (CUDA vs CPU), every native
# benchmark (kiln_bench_*), every PyTorch comparison script (bench/compare/gpu_*.py) when torch with CUDA is
# importable, and the parity harness under compute-sanitizer memcheck when it exists, in that order: what a short
# lease must not miss comes first. Writes summary.md and summary.json into OUT_DIR, each step's log into
# OUT_DIR/logs/, and all the logs again as OUT_DIR/logs.tar.gz.
#   --budget S   finish within S seconds: each step's time limit is cut to what is left (less 20 s for the summary),
#                a step with under 15 s left is not started ("skipped (budget)"), and one stopped at a limit the
#                budget shortened is "cut (budget)", not a failure. A borrowed GPU with a 10-minute command limit
#                runs `bench/gpu-check.sh "$OUT" --budget 540 --pack`.
#   --pack       keep only the tarball of the logs (OUT_DIR then holds at most 7 files: summary.md, summary.json,
#                parity.json, gpu.txt, ptxas.txt, logs.tar.gz and nothing else).
#   --emulate    a rehearsal without a GPU: the CUDA backend on native/emu's emulated device, the benchmarks in their
#                smoke runs (KILN_BENCH_SMOKE=1: least work, no timing worth the name), no memcheck; so that the
#                script and the benchmarks are shown to run before a GPU's minutes are spent on them.
# Exit status: 0 when every step ran and passed, 1 when a step failed or timed out, 2 when none failed but the budget
# left some unrun. Op families join by registering parity cases and adding benchmarks, not by editing this
# (kiln_bench_graph, the MLP training step eager vs replayed as a CUDA graph, joined that way).
# The comparison scripts find the native benchmarks' logs in $KILN_BENCH_LOGS (OUT_DIR/logs) and read their RESULT
# lines rather than run the benchmarks again (bench/compare/bench_logs.py).
set -uo pipefail

usage="usage: bench/gpu-check.sh OUT_DIR [--allow-no-gpu] [--budget SECONDS] [--pack] [--emulate]"
out=${1:?$usage}
shift
allow_no_gpu=0 budget=0 pack=0 emulate=0
while [ $# -gt 0 ]; do
    case "$1" in
        --allow-no-gpu) allow_no_gpu=1 ;;
        --budget) budget=${2:?$usage}; shift ;;
        --pack) pack=1 ;;
        --emulate) emulate=1 ;;
        *) echo "$usage" >&2; exit 64 ;;
    esac
    shift
done
case "$budget" in ''|*[!0-9]*) echo "gpu-check: --budget takes whole seconds, got '$budget'" >&2; exit 64 ;; esac
mkdir -p "$out/logs"
out=$(cd "$out" && pwd)
logs="$out/logs"
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/gpu-check"
[ $emulate -eq 1 ] && build="$root/build/gpu-check-emu"
t0=$(date +%s)
deadline=$(( budget > 0 ? t0 + budget - 20 : 0 ))
declare -A status seconds
order=()

step() {  # step NAME TIMEOUT_S COMMAND... : runs within the budget, logs to LOGS/NAME.log, records status and time
    local name=$1 limit=$2 cut=0
    shift 2
    order+=("$name")
    if [ "$deadline" -gt 0 ]; then
        local left=$(( deadline - $(date +%s) ))
        if [ "$left" -lt 15 ]; then
            status[$name]="skipped (budget)"
            echo "== $name: skipped, ${left}s of the budget left"
            return 1
        fi
        [ "$left" -lt "$limit" ] && limit=$left cut=1
    fi
    local s=$(date +%s)
    echo "== $name (limit ${limit}s): $*"
    timeout "$limit" "$@" >"$logs/$name.log" 2>&1
    local rc=$?
    seconds[$name]=$(( $(date +%s) - s ))
    # A step stopped at a limit the budget shortened did not fail: it had no more time (counted as skipped).
    case $rc in
        0) status[$name]=pass ;;
        124) [ $cut -eq 1 ] && status[$name]="cut (budget)" || status[$name]=timeout ;;
        *) status[$name]="fail($rc)" ;;
    esac
    echo "   ${status[$name]} in ${seconds[$name]}s (log: $logs/$name.log)"
    tail -n 3 "$logs/$name.log" | sed 's/^/   | /'
    return $rc
}
not_run() {  # not_run NAME REASON
    order+=("$1")
    status[$1]="not run ($2)"
}

export PATH="$PATH:/usr/local/cuda/bin"
arch=""
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv >"$out/gpu.txt" 2>&1
    arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')
elif [ $emulate -eq 1 ]; then
    echo "the emulated H200 of native/emu (a rehearsal: no GPU)" >"$out/gpu.txt"
fi
archs=${arch:+${arch}-real}
archs=${archs:-"80-real;90-real;90-virtual"}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
require=(--require-cuda)
[ $allow_no_gpu -eq 1 ] && require=()
emu_option=()
if [ $emulate -eq 1 ]; then
    emu_option=(-DKILN_CUDA_EMULATOR=ON)
    export KILN_BENCH_SMOKE=1  # bench/native/bench_shapes.h
fi

step configure 120 cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DKILN_ENABLE_JNI=OFF \
    "-DCMAKE_CUDA_ARCHITECTURES=$archs" "${emu_option[@]}" &&
    step build 420 cmake --build "$build" --parallel
built=$?
grep -E "spill|Compiling entry|registers" "$logs/build.log" >"$out/ptxas.txt" 2>/dev/null
spilling=$(grep -cE "[1-9][0-9]* bytes spill (stores|loads)" "$out/ptxas.txt")
[ -s "$out/ptxas.txt" ] || spilling="unknown (no ptxas output)"
parity="$build/native/test/kiln_parity"
if [ $built -ne 0 ]; then
    not_run "everything else" "no build: see logs/configure.log and logs/build.log"
else
    step parity 300 "$parity" "${require[@]}" --json "$out/parity.json"
    # The persistent LSTM takes its units per block (J) from the SM count, so a large GPU never runs J = 4 or 8 at
    # h <= 256: the LSTM cases again with each forced (kernels/lstm.cu, KILN_LSTM_PERSIST_UNITS).
    for units in 4 8; do
        step "parity-lstm-j$units" 120 env KILN_LSTM_PERSIST_UNITS=$units "$parity" "${require[@]}" --filter lstm/
    done
    # The other native tests (the parity harness has just run on its own).
    step ctest 300 ctest --test-dir "$build" --output-on-failure -E '^parity$'
    export KILN_BENCH_LOGS="$logs"
    benches=$(find "$build" -maxdepth 3 -type f -name 'kiln_bench_*' -perm -u+x 2>/dev/null | sort)
    [ -n "$benches" ] || not_run benchmarks "no kiln_bench_* built"
    for b in $benches; do
        step "$(basename "$b")" 240 "$b"
    done
    if python3 -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
        for py in "$root"/bench/compare/gpu_*.py; do
            [ -e "$py" ] || continue
            step "$(basename "$py" .py)" 240 python3 "$py" --build "$build"
        done
    else
        not_run pytorch "torch with CUDA not importable"
    fi
    if command -v compute-sanitizer >/dev/null; then
        step memcheck 420 compute-sanitizer --tool memcheck --error-exitcode 1 --leak-check full \
            "$parity" "${require[@]}"
    else
        not_run memcheck "no compute-sanitizer"
    fi
fi  # built

total=$(( $(date +%s) - t0 ))
gpu_line=$(tail -n +2 "$out/gpu.txt" 2>/dev/null | head -n1)  # nvidia-smi's csv: a header, then the GPU
[ $emulate -eq 1 ] && gpu_line=$(head -n1 "$out/gpu.txt")
parity_line=$(grep -E "^parity: " "$logs/parity.log" 2>/dev/null | tail -n1)
skipped=0 failed=0
for k in "${order[@]}"; do
    case "${status[$k]}" in
        pass | "not run"*) ;;
        *"(budget)") skipped=$((skipped + 1)) ;;
        *) failed=$((failed + 1)) ;;
    esac
done
{
    echo "# Kiln GPU check"
    echo
    echo "- when: $(date -u +%FT%TZ), total ${total}s$([ "$budget" -gt 0 ] && echo " of a ${budget}s budget")"
    echo "- gpu: $gpu_line"
    echo "- build: $(grep -m1 -E '^kiln parity: kiln' "$logs/parity.log" 2>/dev/null | sed 's/^kiln parity: //')"
    echo "- kernels with register spills: ${spilling:-unknown} (details in ptxas.txt)"
    echo "- ${parity_line:-parity: no result}"
    errors=$(grep -m3 -E 'error|FAILED' "$logs/build.log" "$logs/configure.log" 2>/dev/null | tr '\n' ' ')
    [ $built -eq 0 ] || echo "- build errors: $errors"
    echo "- steps failed: $failed; skipped for the budget: $skipped"
    echo
    echo "| step | status | seconds |"
    echo "|---|---|---|"
    for k in "${order[@]}"; do echo "| $k | ${status[$k]} | ${seconds[$k]:-} |"; done
} >"$out/summary.md"
{
    case "$spilling" in ''|*[!0-9]*) spilling_json=null ;; *) spilling_json=$spilling ;; esac
    printf '{"total_seconds":%d,"budget_seconds":%d,"spilling_kernels":%s,"parity":"%s","steps":[' \
        "$total" "$budget" "$spilling_json" "$parity_line"
    first=1
    for k in "${order[@]}"; do
        [ $first -eq 1 ] || printf ','
        first=0
        printf '{"name":"%s","status":"%s","seconds":%s}' "$k" "${status[$k]}" "${seconds[$k]:-null}"
    done
    printf ']}\n'
} >"$out/summary.json"
tar -czf "$out/logs.tar.gz" -C "$out" logs
[ $pack -eq 1 ] && rm -rf "$logs"
cat "$out/summary.md"
[ $failed -gt 0 ] && exit 1
[ $skipped -gt 0 ] && exit 2
exit 0
