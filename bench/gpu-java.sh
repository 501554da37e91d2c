#!/usr/bin/env bash
# The Java API on a GPU machine that has no Java and no network (bench/gpu-check.sh covers the native side there):
#   bench/gpu-java.sh pack DIR        on the build machine, after `mvn -B verify` (or package) with nvcc found
#   bench/gpu-java.sh run DIR OUT [--pack]   on the GPU machine, DIR carried there (about 55 MiB)
# `pack` puts into DIR what the run needs: a JRE cut down by jlink to the modules the jars use (xz-packed), the kiln
# jar exactly as built (its libkiln holds the CUDA kernels and links the CUDA runtime statically, so the machine needs
# only the driver), its runtime jars, the test classes and JUnit's console launcher, the JMH benchmarks, the fortunes
# (the char LM's corpus) and Fashion-MNIST cut to its first 12,000 training images (the full set would not fit a
# 64 MiB carry; the 10,000 test images stay whole).
# `run` then checks, on cuda:0, in this order: `kiln info`; the JUnit tests that have CUDA cases (the list the build's
# junit-cuda-emulator execution runs, read from java/pom.xml) with kiln.test.requireCuda, so a missing device fails;
# `kiln train` for the seven models; one CNN epoch under the profiler (its trace has CUDA-event device times);
# Nsight Compute with --nvtx on a few kernels of a training step, so that its report names them by the Java ranges
# ("step 9" > "forward" > "conv2d_forward_f32"); `kiln bench --device=cuda:0`; JMH's OpSuiteBench on cuda:0; and,
# where PyTorch with CUDA is importable, bench/compare/train_gpu.py (the models' training against PyTorch on the same
# GPU). OUT gets summary.md, the profiler's trace, JMH's results, each step's log in logs/ and all of them again in
# logs.tar.gz; --pack keeps only the tarball of the logs (4 files in all). Exit status 1 when a step failed.
set -uo pipefail
usage="usage: bench/gpu-java.sh pack DIR | bench/gpu-java.sh run DIR OUT [--pack]"
root=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:?$usage}
dir=${2:?$usage}

if [ "$mode" = pack ]; then
    set -e
    jar=$(ls "$root"/java/target/kiln-*.jar | grep -v -e sources -e javadoc | head -n1)
    mkdir -p "$dir/lib" "$dir/data/fashion-mnist"
    dir=$(cd "$dir" && pwd)
    cp "$jar" "$dir/kiln.jar"
    cp "$root"/java/target/lib/*.jar "$dir/lib/"
    (cd "$root/java/target/test-classes" && jar cf "$dir/tests.jar" .)
    cp "$root"/bench/target/kiln-bench-*.jar "$dir/bench.jar"
    # JMH's runtime and JUnit's console launcher, from the local Maven repository (fetched once if missing).
    for a in org.openjdk.jmh:jmh-core:1.37 net.sf.jopt-simple:jopt-simple:5.0.4 \
             org.apache.commons:commons-math3:3.6.1 org.junit.platform:junit-platform-console-standalone:1.14.4; do
        mvn -B -q dependency:copy -Dartifact="$a" -DoutputDirectory="$dir/lib" >/dev/null 2>&1 ||
            { echo "gpu-java: cannot fetch $a" >&2; exit 1; }
    done
    mv "$dir"/lib/junit-platform-console-standalone-*.jar "$dir/junit.jar"
    rm -rf "$dir/jre" && jlink --add-modules java.base,java.desktop,java.logging,java.management,jdk.management,\
jdk.unsupported,jdk.zipfs --strip-debug --no-header-files --no-man-pages --compress=2 --output "$dir/jre"
    tar -C "$dir" -cJf "$dir/jre.tar.xz" jre && rm -rf "$dir/jre"
    tar -C /usr/share/games -cJf "$dir/fortunes.tar.xz" fortunes
    python3 - "$dir/data/fashion-mnist" <<'EOF'
import gzip, shutil, struct, sys
src, dst, n = "/usr/share/datasets/fashion-mnist/", sys.argv[1] + "/", 12000
images = gzip.open(src + "train-images-idx3-ubyte.gz").read()
labels = gzip.open(src + "train-labels-idx1-ubyte.gz").read()
magic, _, rows, cols = struct.unpack(">IIII", images[:16])
with open(dst + "train-images-idx3-ubyte.gz", "wb") as f:
    f.write(gzip.compress(struct.pack(">IIII", magic, n, rows, cols) + images[16:16 + n * rows * cols]))
with open(dst + "train-labels-idx1-ubyte.gz", "wb") as f:
    f.write(gzip.compress(struct.pack(">II", struct.unpack(">I", labels[:4])[0], n) + labels[8:8 + n]))
for name in ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
    shutil.copy(src + name, dst + name)
EOF
    # The JUnit classes with CUDA cases: the junit-cuda-emulator execution's <test> list, as a class-name pattern.
    sed -n '/<id>junit-cuda-emulator</,/<\/test>/s:.*<test>\(.*\)</test>.*:\1:p' "$root/java/pom.xml" |
        sed 's/\*/.*/g; s/,/|/g; s/^/.*\\.(/; s/$/)$/' >"$dir/cuda-tests.regex"
    du -sh "$dir"
    exit 0
fi

[ "$mode" = run ] || { echo "$usage" >&2; exit 64; }
out=${3:?$usage}
pack=0
[ "${4:-}" = --pack ] && pack=1
mkdir -p "$out/logs" /tmp/kiln-java
dir=$(cd "$dir" && pwd) out=$(cd "$out" && pwd)
tar -C /tmp/kiln-java -xJf "$dir/jre.tar.xz"
[ -d /usr/share/games/fortunes ] ||
    { mkdir -p /usr/share/games && tar -C /usr/share/games -xJf "$dir/fortunes.tar.xz"; }
java=/tmp/kiln-java/jre/bin/java
cp="$dir/kiln.jar:$(ls "$dir"/lib/*.jar | tr '\n' ':')"  # spelled out: JUnit's -cp does not expand lib/*
export KILN_DATA="$dir/data"
jvm=(-Dkiln.cache.dir=/tmp/kiln-java/cache)
kiln=("$java" "${jvm[@]}" -cp "$cp" dev.kiln.cli.Main)
failed=0 rows=()
step() {  # step NAME LIMIT_S COMMAND...: logs to OUT/NAME.log
    local name=$1 limit=$2 s=$(date +%s) status
    shift 2
    timeout "$limit" "$@" >"$out/logs/$name.log" 2>&1
    local rc=$?
    case $rc in 0) status=pass ;; 124) status=timeout ;; *) status="fail($rc)" ;; esac
    [ "$status" = pass ] || failed=$((failed + 1))
    rows+=("| $name | $status | $(( $(date +%s) - s )) |")
    echo "== $name: $status"
    grep -v ETA "$out/logs/$name.log" | tail -n 4 | sed 's/^/   | /'
}
step info 60 "${kiln[@]}" info
step junit-cuda 300 "$java" "${jvm[@]}" -Xcheck:jni -Dkiln.test.requireCuda=true -jar "$dir/junit.jar" execute \
    -cp "$dir/tests.jar:$cp" --scan-classpath "$dir/tests.jar" --include-classname "$(cat "$dir/cuda-tests.regex")" \
    --details=tree --disable-banner
for spec in "cnn --epochs 2" "rnn --epochs 2" "mlp --epochs 2" "vae --epochs 3 --no-score" \
            "gan --epochs 2 --no-score" "transformer --steps 400" "charlm --steps 200"; do
    set -- $spec
    step "train-$1" 120 "${kiln[@]}" train $spec --device=cuda:0 --out "/tmp/kiln-java/runs/$1"
done
step profile-cnn 90 "${kiln[@]}" train cnn --device=cuda:0 --epochs 1 --limit 2048 --out /tmp/kiln-java/runs/p \
    --profile "$out/cnn-cuda-trace.json"
if command -v ncu >/dev/null; then
    # Kernels of a training step well after start-up; --print-nvtx-rename puts the innermost range before each name.
    step ncu-nvtx 180 ncu --clock-control none --nvtx --print-nvtx-rename kernel --launch-skip 400 --launch-count 12 \
        --section LaunchStats "${kiln[@]}" train cnn --device=cuda:0 --epochs 1 --limit 1024 --out /tmp/kiln-java/runs/n
fi
step bench-cuda 180 "${kiln[@]}" bench --device=cuda:0
step jmh-cuda 180 "$java" "${jvm[@]}" -cp "$dir/bench.jar:$cp" org.openjdk.jmh.Main OpSuiteBench -p device=cuda:0 \
    -p "op=gemm 1024x1024x1024,add 1M,relu 1M" -f 1 -wi 2 -w 1s -i 3 -r 1s -jvmArgsAppend "${jvm[*]}" \
    -rf json -rff "$out/jmh-cuda.json"
# JMH exits 0 when a benchmark's setup throws: demand a result for each case.
results=$(grep -c '"benchmark"' "$out/jmh-cuda.json" 2>/dev/null)
if [ "${rows[-1]}" != "${rows[-1]/| pass |/}" ] && [ "$results" != 3 ]; then
    rows[-1]="| jmh-cuda | fail (no result) | |" failed=$((failed + 1))
    echo "   jmh-cuda: no result for some case, see $out/logs/jmh-cuda.log"
fi
if python3 -c "import torch; assert torch.cuda.is_available()" >/dev/null 2>&1; then
    export KILN_BIN="${kiln[*]}"  # train_gpu.py splits it as a shell would
    step train-gpu-vs-pytorch 300 python3 "$root/bench/compare/train_gpu.py"
fi
{
    echo "# Kiln's Java API on $(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -n1)"
    echo
    echo "| step | status | seconds |"
    echo "|---|---|---|"
    printf '%s\n' "${rows[@]}"
} >"$out/summary.md"
tar -czf "$out/logs.tar.gz" -C "$out" logs
[ $pack -eq 1 ] && rm -rf "$out/logs"
cat "$out/summary.md"
[ $failed -eq 0 ]
