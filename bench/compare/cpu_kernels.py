#!/usr/bin/env python3
"""CPU kernels, Kiln vs PyTorch (oneDNN / OpenBLAS), in the same run on the same shapes, the same threads each
(peer_env.THREADS: every core, or KILN_BENCH_THREADS):
    /usr/bin/python3 bench/compare/cpu_kernels.py [--build DIR] [gemm] [conv2d] [lstm]
Kiln's side is the native benchmark binaries (bench/native/*_cpu_bench.cpp, built by `mvn verify` into
java/target/native/bench/native/), which print `RESULT <family> <shape> <direction> <ms> [...]` lines; PyTorch's side
is timed here (warm-up, then the median of repeated runs). Prints a markdown table with the ratio
PyTorch time / Kiln time (above 1.0: Kiln is faster) and Kiln's GFLOP/s; for convolutions PyTorch runs in both
NCHW and channels_last and the faster is the peer."""
import argparse
import os
import statistics
import subprocess
import sys
import time

import peer_env  # noqa: E402  (before torch: see peer_env.py)

peer_env.prepare()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def median_ms(fn, warmup=3, reps=9):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        ts.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(ts)


# ---- PyTorch side: shape name -> {direction: (callable, flops)} -------------------------------------------------

def torch_gemm():
    out = {}
    for n in (512, 1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        out[f"n{n}"] = {"gemm": [("", lambda a=a, b=b: a @ b, 2 * n ** 3)]}
    return out


CONV_SHAPES = {  # name: (N, C, H, W, K, R, pad), as bench/native/conv2d_cpu_bench.cpp
    "cnn1-n64-1x32-3x3-28": (64, 1, 28, 28, 32, 3, 0),
    "cnn2-n64-32x64-3x3-13": (64, 32, 13, 13, 64, 3, 0),
    "resnet-n32-64x64-3x3-56-p1": (32, 64, 56, 56, 64, 3, 1),
}


def torch_conv2d():
    """Each direction in both memory layouts; the faster one is the peer (this PyTorch build reaches oneDNN's speed
    only with channels_last on some shapes, and is far slower with NCHW there)."""
    out = {}
    for name, (n, c, h, w, k, r, pad) in CONV_SHAPES.items():
        dirs = {}
        for layout in (torch.contiguous_format, torch.channels_last):
            x = torch.randn(n, c, h, w).to(memory_format=layout).requires_grad_()
            wt = torch.randn(k, c, r, r).to(memory_format=layout).requires_grad_()
            bias = torch.randn(k, requires_grad=True)
            y = F.conv2d(x, wt, bias, padding=pad)  # the graph is kept: the backward timings cover the backward only
            dy = torch.randn_like(y)
            flops = 2 * n * k * c * r * r * y.shape[2] * y.shape[3]
            tag = "nchw" if layout is torch.contiguous_format else "channels_last"
            grad = torch.autograd.grad
            dirs.setdefault("forward", []).append(
                (tag, (lambda x=x, wt=wt, bias=bias: F.conv2d(x.detach(), wt.detach(), bias.detach(), padding=pad)), flops))
            dirs.setdefault("backward-data", []).append(
                (tag, (lambda y=y, x=x, dy=dy: grad(y, x, dy, retain_graph=True)), flops))
            dirs.setdefault("backward-weight", []).append(
                (tag, (lambda y=y, wt=wt, bias=bias, dy=dy: grad(y, (wt, bias), dy, retain_graph=True)), flops))
        out[name] = dirs
    return out


LSTM_SHAPES = {"n64_t28_f28_h64": (64, 28, 28, 64), "n32_t100_f256_h256": (32, 100, 256, 256)}


def torch_lstm():
    out = {}
    for name, (n, t, f, h) in LSTM_SHAPES.items():
        lstm = torch.nn.LSTM(f, h, batch_first=True)
        x = torch.randn(n, t, f)

        def fwd():
            with torch.no_grad():
                lstm(x)

        def fwd_bwd():
            y, _ = lstm(x)
            y.sum().backward()

        flops = 2 * n * t * 4 * h * (f + h)
        out[name] = {"forward": [("", fwd, flops)], "forward_backward": [("", fwd_bwd, 3 * flops)]}
    return out


TORCH = {"gemm": torch_gemm, "conv2d": torch_conv2d, "lstm": torch_lstm}


def kiln_results(build, family):
    exe = os.path.join(build, "bench", "native", f"kiln_cpu_bench_{family}")
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: build first (mvn -B verify, or cmake --build {build})")
    run = subprocess.run([exe], capture_output=True, text=True, check=True)
    results = {}
    for line in run.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] == "RESULT" and parts[1] == family:
            results[(parts[2], parts[3])] = float(parts[4])
    return results


def main():
    p = argparse.ArgumentParser()
    p.add_argument("families", nargs="*", default=["gemm", "conv2d", "lstm"])
    p.add_argument("--build", default=os.path.join(ROOT, "java", "target", "native"))
    a = p.parse_args()
    torch.set_num_threads(peer_env.THREADS)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.2f}")
    print("| family | shape | direction | kiln ms | pytorch ms (layout) | pytorch/kiln | kiln GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for family in a.families:
        kiln = kiln_results(a.build, family)
        for shape, directions in TORCH[family]().items():
            for direction, variants in directions.items():
                timed = []
                for tag, fn, flops in variants:
                    try:
                        timed.append((median_ms(fn), tag, flops))
                    except RuntimeError as e:  # a layout oneDNN refuses for this shape is no peer
                        print(f"<!-- pytorch {tag} {shape} {direction}: {str(e).splitlines()[0]} -->")
                t, tag, flops = min(timed)
                others = ", ".join(f"{vt:.3f} {vtag}" for vt, vtag, _ in timed if vtag != tag)
                peer = f"{t:.3f}" + (f" ({tag}; {others})" if tag else "")
                k = kiln.get((shape, direction))
                if k is None:
                    print(f"| {family} | {shape} | {direction} | - | {peer} | - | - |")
                    continue
                print(f"| {family} | {shape} | {direction} | {k:.3f} | {peer} | {t / k:.2f}x | {flops / k / 1e6:.1f} |")


if __name__ == "__main__":
    main()
