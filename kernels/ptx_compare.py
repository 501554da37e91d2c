#!/usr/bin/env python3
"""Whether a change to CUDA kernels changed the code nvcc makes of them, kernel by kernel, without a GPU.

A refactor of a kernel (a helper pulled out, a loop turned into a template) is meant to leave its speed alone, and
speed needs a GPU to measure. This compares the code instead: each .cu file is compiled to PTX (no line information,
so moved lines do not count) for every architecture the build targets, once from the working tree and once from a git
revision, and every kernel's instructions are compared after the names nvcc derives from the file (the anonymous
namespace's hash, the function's number in branch labels) are taken out. ptxas's report (registers, spills, stack,
shared and constant memory) is compared too.
Same PTX means the same machine code; a kernel that differs is listed with its instruction-count changes, for reading.

    python3 kernels/ptx_compare.py [--base REV] [--arch 80,90] kernels/attention_f32.cu [more .cu files]

--base defaults to HEAD (compare the uncommitted change). Needs nvcc (CUDA_HOME or /usr/local/cuda) and git; no GPU.
Exit status: 0 when every kernel is the same, 1 when any differs, 2 on a usage or compile error.
"""
import argparse
import collections
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NVCC = os.path.join(os.environ.get("CUDA_HOME", "/usr/local/cuda"), "bin", "nvcc")
FLAGS = ["-O3", "-DNDEBUG", "-std=c++17", "--expt-relaxed-constexpr"]
FILE_HASH = re.compile(r"\d+_GLOBAL__N__\w*?_cu_[0-9a-f]{8}")  # the anonymous namespace's per-file name
# Branch labels carry the function's position in the file ($L__BB7_3: block 3 of function 7), so a kernel added
# before another renames all of the other's labels.
LABEL_FUNCTION = re.compile(r"\$L__BB\d+_")


def compile_tree(tree, source, arch, out_dir):
    """PTX text and ptxas's per-kernel report of tree/source for compute_<arch>."""
    includes = ["-I" + os.path.join(tree, d) for d in ("native/include", "kernels", "native/src")]
    ptx = os.path.join(out_dir, "k.ptx")
    run([NVCC, *FLAGS, *includes, "-arch=compute_" + arch, "-ptx", os.path.join(tree, source), "-o", ptx])
    report = run([NVCC, *FLAGS, *includes, "--generate-code=arch=compute_%s,code=sm_%s" % (arch, arch),
                  "-Xptxas=-v", "-c", os.path.join(tree, source), "-o", os.path.join(out_dir, "k.o")])
    with open(ptx) as f:
        return f.read(), ptxas_report(report)


def run(cmd):
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit("ptx_compare: %s failed:\n%s" % (" ".join(cmd[:1] + cmd[-3:]), p.stderr[-4000:]))
    return p.stderr


def kernels(ptx):
    """Kernel name -> its instruction lines, without comments, .loc/.file lines or the file's hash."""
    out, name = {}, None
    for line in ptx.splitlines():
        m = re.search(r"\.entry (\S+)\(", line)
        if m:
            name = FILE_HASH.sub("", m.group(1))
            out[name] = []
            continue
        s = line.strip()
        if name and s and not s.startswith(("//", ".loc", ".file")):
            out[name].append(LABEL_FUNCTION.sub("$L__BB_", FILE_HASH.sub("", s)))
    return out


def ptxas_report(text):
    out, name = collections.defaultdict(list), None
    for line in text.splitlines():
        m = re.search(r"Compiling entry function '(\S+)'", line)
        if m:
            name = FILE_HASH.sub("", m.group(1))
        elif name and ("Used" in line or "spill" in line):
            out[name].append(line.split("info    :")[-1].strip())
    return out


def opcode_counts(lines):
    counts = collections.Counter()
    for s in lines:
        words = s.split()
        if s.endswith(":") or s in ("{", "}") or not words:
            continue
        op = words[1] if words[0].startswith("@") and len(words) > 1 else words[0]
        counts[op.rstrip(";")] += 1
    return counts


def short(name):
    """attn_fwd_f32_kernel<64,4,2> from its mangled name: the last of the length-prefixed names, and integer template
    arguments if any."""
    i = 3 if name.startswith("_ZN") else 2
    ident = None
    while i < len(name) and name[i].isdigit():
        j = i
        while name[j].isdigit():
            j += 1
        ident, i = name[j:j + int(name[i:j])], j + int(name[i:j])
    if not ident:
        return name[:80]
    m = re.match(r"I((?:Li\d+E)+)E", name[i:])
    args = re.findall(r"\d+", m.group(1)) if m else []
    return ident + ("<" + ",".join(args) + ">" if args else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", default="HEAD", help="git revision to compare against (default HEAD)")
    ap.add_argument("--arch", default="80,90", help="compute capabilities, comma-separated (default 80,90)")
    ap.add_argument("sources", nargs="+", help=".cu files, relative to the repository root")
    args = ap.parse_args()
    if not os.path.exists(NVCC):
        sys.exit("ptx_compare: no nvcc at %s (set CUDA_HOME)" % NVCC)
    differs = 0
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "base")
        os.makedirs(base)
        archive = subprocess.run(["git", "-C", ROOT, "archive", args.base, "kernels", "native/include", "native/src"],
                                 capture_output=True)
        if archive.returncode != 0:
            sys.exit("ptx_compare: git archive %s: %s" % (args.base, archive.stderr.decode()[-500:]))
        subprocess.run(["tar", "-x", "-C", base], input=archive.stdout, check=True)
        for source in args.sources:
            for arch in args.arch.split(","):
                old_ptx, old_report = compile_tree(base, source, arch, tmp)
                new_ptx, new_report = compile_tree(ROOT, source, arch, tmp)
                old, new = kernels(old_ptx), kernels(new_ptx)
                same = 0
                for name in sorted(set(old) | set(new)):
                    label = "%s sm_%s %s" % (source, arch, short(name))
                    if name not in old or name not in new:
                        print("%-70s %s" % (label, "only in " + ("the working tree" if name in new else args.base)))
                        differs += 1
                        continue
                    if old[name] == new[name] and old_report[name] == new_report[name]:
                        same += 1
                        continue
                    differs += 1
                    a, b = opcode_counts(old[name]), opcode_counts(new[name])
                    delta = {op: b[op] - a[op] for op in sorted(set(a) | set(b)) if a[op] != b[op]}
                    if old[name] == new[name]:
                        how = "PTX the same, ptxas's report not"
                    else:
                        how = "PTX differs, %d -> %d lines, %s" % (
                            len(old[name]), len(new[name]),
                            "opcode counts %s" % delta if delta else "the same opcodes in another order")
                    print("%-70s %s" % (label, how))
                    for before, after in zip(old_report[name], new_report[name]):
                        if before != after:
                            print("    ptxas: %s  ->  %s" % (before, after))
                print("%s sm_%s: %d of %d kernels the same as %s" % (source, arch, same, len(set(old) | set(new)),
                                                                     args.base))
    return 1 if differs else 0


if __name__ == "__main__":
    sys.exit(main())
