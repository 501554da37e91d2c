#!/usr/bin/env bash
# Checks that Kiln's runtime image runs on its own Java with no JDK on the PATH: bin/kiln info must list the devices,
# and with --train (when the Fashion-MNIST files are there) a short bin/kiln train mlp must finish.
#   check-runtime.sh RUNTIME_DIR [--train]
set -euo pipefail
rt=$(cd "$1" && pwd -P)
scratch=$(mktemp -d)  # a fresh HOME and cache: the native library is extracted anew from the image's jar
trap 'rm -rf "$scratch"' EXIT
data=${KILN_DATA:-/usr/share/datasets/fashion-mnist}
# Nothing on PATH and no JAVA_HOME: a launcher that looked for `java` there (or in /usr/bin) fails instead of passing
# by accident.
run() {
    env -i PATH=/nonexistent HOME="$scratch" XDG_CACHE_HOME="$scratch/cache" KILN_DATA="$data" "$rt/bin/kiln" "$@"
}

java_home=$(env -i PATH=/nonexistent "$rt/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.home = //p')
if [ "$java_home" != "$rt" ]; then
    echo "check-runtime: the image's java reports java.home '$java_home', expected $rt" >&2
    exit 1
fi
out=$(run info)
echo "$out"
for want in "build:" "library: $scratch/cache/kiln/native/" "cpu:"; do
    case $out in
        *"$want"*) ;;
        *) echo "check-runtime: 'bin/kiln info' printed no '$want'" >&2; exit 1 ;;
    esac
done
if [ "${2:-}" = "--train" ]; then
    if [ ! -d "$data" ]; then
        echo "check-runtime: train SKIPPED: no Fashion-MNIST files in $data"
    else
        run train mlp --epochs 1 --limit 2000 --out "$scratch/run" </dev/null
        test -s "$scratch/run/metrics.json" || { echo "check-runtime: train wrote no metrics.json" >&2; exit 1; }
    fi
fi
echo "check-runtime: OK ($rt runs with no JDK on the PATH)"
