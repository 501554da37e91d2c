#!/usr/bin/env bash
# Builds Kiln's self-contained runtime: a jlink image of just the JDK modules that the kiln jar and its dependencies
# need (found by jdeps), the jars themselves in app/ (libkiln.so is inside the kiln jar, extracted at first use as
# anywhere else) and bin/kiln. Then packs it as a .tar.gz beside it.
#   make-runtime.sh JAVA_HOME KILN_JAR LIB_DIR OUT_DIR
set -euo pipefail
java_home=$1 jar=$2 lib=$3 out=$4
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
for tool in jdeps jlink; do
    if [ ! -x "$java_home/bin/$tool" ]; then
        echo "make-runtime: $java_home/bin/$tool is missing: the runtime image needs a full JDK (with jmods)" >&2
        exit 1
    fi
done

jars=("$jar" "$lib"/*.jar)
# --ignore-missing-deps: optional dependencies (JCuda) are absent on purpose. Reflection is invisible to jdeps, so two
# modules are added by hand: java.logging (System.Logger then logs as on a full JDK) and jdk.unsupported (Gson's
# Unsafe allocator).
modules=$("$java_home/bin/jdeps" --ignore-missing-deps --print-module-deps --multi-release 17 "${jars[@]}" 2>/dev/null)
modules="$modules,java.logging,jdk.unsupported"

rm -rf "$out" "$out.tar.gz"
"$java_home/bin/jlink" --add-modules "$modules" --output "$out" \
    --strip-debug --no-header-files --no-man-pages --compress=2
mkdir -p "$out/app"
cp "${jars[@]}" "$out/app/"
cp "$here/kiln" "$out/bin/kiln"
chmod +x "$out/bin/kiln"
tar -C "$(dirname "$out")" -czf "$out.tar.gz" "$(basename "$out")"
echo "kiln runtime: $out ($(du -sh "$out" | cut -f1), modules $modules); $out.tar.gz ($(du -sh "$out.tar.gz" | cut -f1))"
