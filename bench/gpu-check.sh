#!/usr/bin/env bash
# One command for a machine with an NVIDIA GPU, nvcc and CMake (no Java, no network needed):
#   bench/gpu-check.sh OUT_DIR [--allow-no-gpu]
# Builds libkiln and the native tests for the local GPU, runs ctest and the parity harness (CUDA vs CPU), runs the
# harness again under compute-sanitizer memcheck when it exists, runs every native benchmark (kiln_bench_*) and
# every PyTorch comparison script (bench/compare/gpu_*.py) when torch is importable, and writes summary.md and
# summary.json into OUT_DIR. Op families join by registering parity cases and adding benchmarks, not by editing this
# (kiln_bench_graph, the MLP training step eager vs replayed as a CUDA graph, joined that way).
# The comparison scripts find the native benchmarks' logs in $KILN_BENCH_LOGS (OUT_DIR), so a script that needs a
# benchmark's RESULT lines can read them rather than run the benchmark again.
set -uo pipefail

out=${1:?usage: bench/gpu-check.sh OUT_DIR [--allow-no-gpu]}
allow_no_gpu=${2:-}
mkdir -p "$out"
out=$(cd "$out" && pwd)
root=$(cd "$(dirname "$0")/.." && pwd)
build="$root/build/gpu-check"
t0=$(date +%s)
declare -A status seconds

step() {  # step NAME TIMEOUT_S COMMAND... : runs, logs to OUT/NAME.log, records status and duration
    local name=$1 limit=$2
    shift 2
    local s=$(date +%s)
    echo "== $name: $*"
    timeout "$limit" "$@" >"$out/$name.log" 2>&1
    local rc=$?
    seconds[$name]=$(( $(date +%s) - s ))
    if [ $rc -eq 0 ]; then status[$name]=pass; elif [ $rc -eq 124 ]; then status[$name]=timeout; else status[$name]="fail($rc)"; fi
    echo "   ${status[$name]} in ${seconds[$name]}s (log: $out/$name.log)"
    tail -n 3 "$out/$name.log" | sed 's/^/   | /'
    return $rc
}

export PATH="$PATH:/usr/local/cuda/bin"
arch=""
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,memory.total,driver_version,compute_cap --format=csv >"$out/gpu.txt" 2>&1
    arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -n1 | tr -d ' .')
fi
archs=${arch:+${arch}-real}
archs=${archs:-"80-real;90-real;90-virtual"}
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)
require=(--require-cuda)
[ "$allow_no_gpu" = "--allow-no-gpu" ] && require=()

step configure 120 cmake -S "$root" -B "$build" "${generator[@]}" -DCMAKE_BUILD_TYPE=Release -DKILN_ENABLE_JNI=OFF \
    "-DCMAKE_CUDA_ARCHITECTURES=$archs"
step build 300 cmake --build "$build" --parallel
grep -E "spill|Compiling entry|registers" "$out/build.log" >"$out/ptxas.txt" 2>/dev/null
spilling=$(grep -cE "[1-9][0-9]* bytes spill (stores|loads)" "$out/ptxas.txt")
step ctest 300 ctest --test-dir "$build" --output-on-failure
parity="$build/native/test/kiln_parity"
step parity 300 "$parity" "${require[@]}" --json "$out/parity.json"
# The persistent LSTM takes its units per block (J) from the SM count, so a large GPU never runs J = 4 or 8 at
# h <= 256: the LSTM cases again with each forced (kernels/lstm.cu, KILN_LSTM_PERSIST_UNITS).
for units in 4 8; do
    step "parity-lstm-j$units" 120 env KILN_LSTM_PERSIST_UNITS=$units "$parity" "${require[@]}" --filter lstm/
done
if command -v compute-sanitizer >/dev/null; then
    step memcheck 420 compute-sanitizer --tool memcheck --error-exitcode 1 --leak-check full "$parity" "${require[@]}"
else
    status[memcheck]="not run (no compute-sanitizer)"
fi
export KILN_BENCH_LOGS="$out"
for b in $(find "$build" -maxdepth 3 -type f -name 'kiln_bench_*' -perm -u+x 2>/dev/null | sort); do
    step "$(basename "$b")" 240 "$b"
done
if python3 -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
    for py in "$root"/bench/compare/gpu_*.py; do
        [ -e "$py" ] || continue
        step "$(basename "$py" .py)" 240 python3 "$py" --build "$build"
    done
else
    status[pytorch]="not run (torch with CUDA not importable)"
fi

total=$(( $(date +%s) - t0 ))
parity_line=$(grep -E "^parity: " "$out/parity.log" 2>/dev/null | tail -n1)
{
    echo "# Kiln GPU check"
    echo
    echo "- when: $(date -u +%FT%TZ), total ${total}s"
    echo "- gpu: $(tail -n +2 "$out/gpu.txt" 2>/dev/null | head -n1)"
    echo "- build: $(grep -m1 -E '^kiln parity: kiln' "$out/parity.log" 2>/dev/null | sed 's/^kiln parity: //')"
    echo "- kernels with register spills: ${spilling:-unknown} (details in ptxas.txt)"
    echo "- ${parity_line:-parity: no result}"
    echo
    echo "| step | status | seconds |"
    echo "|---|---|---|"
    for k in "${!status[@]}"; do echo "| $k | ${status[$k]} | ${seconds[$k]:-} |"; done | sort
} >"$out/summary.md"
{
    printf '{"total_seconds":%d,"spilling_kernels":%s,"parity":"%s","steps":{' "$total" "${spilling:-null}" "$parity_line"
    first=1
    for k in "${!status[@]}"; do
        [ $first -eq 1 ] || printf ','
        first=0
        printf '"%s":{"status":"%s","seconds":%s}' "$k" "${status[$k]}" "${seconds[$k]:-null}"
    done
    printf '}}\n'
} >"$out/summary.json"
cat "$out/summary.md"
for k in "${!status[@]}"; do
    case "${status[$k]}" in pass|"not run"*) ;; *) exit 1 ;; esac
done
exit 0
