"""The output of one native GPU benchmark (bench/native/*_gpu_bench.cu -> kiln_bench_*) for the gpu_*.py comparisons:
the log bench/gpu-check.sh kept of its run ($KILN_BENCH_LOGS), so that a borrowed GPU's minutes are not spent running
it twice, else a run of the binary in the build."""
import os
import subprocess
import sys


def bench_output(build, exe):
    """(stdout, exit status or None where it came from a log, where it came from) of kiln_bench_<name>."""
    logs = os.environ.get("KILN_BENCH_LOGS")
    log = os.path.join(logs, exe + ".log") if logs else None
    if log and os.path.exists(log):
        return open(log).read(), None, log
    path = os.path.join(build, "bench", "native", exe)
    if not os.path.exists(path):
        sys.exit(f"{path} not found: build the benchmarks first")
    run = subprocess.run([path], capture_output=True, text=True)
    return run.stdout, run.returncode, path
