#!/usr/bin/env python3
"""GPU kernels, Kiln vs PyTorch (cuDNN, TF32 off for an fp32 comparison), same shapes, same run:
    python3 bench/compare/gpu_kernels.py --build BUILD_DIR
bench/gpu-check.sh runs it when torch with CUDA is importable. Kiln's side is the native CUDA-event benchmarks
(bench/native/*_gpu_bench.cu -> kiln_bench_*, which validate against the CPU backend before timing and print
`RESULT ...` lines); PyTorch's side is timed here with CUDA events (warm-up, then the median). The table gives
PyTorch time / Kiln time (above 1.0: Kiln is faster)."""
import argparse
import statistics
import sys

import torch
import torch.nn.functional as F

from bench_logs import bench_output

CONV_SHAPES = {  # as bench/native/conv2d_gpu_bench.cu: (N, C, H, W, K, R, pad)
    "cnn1-n64-1x32-3x3-28": (64, 1, 28, 28, 32, 3, 0),
    "cnn2-n64-32x64-3x3-13": (64, 32, 13, 13, 64, 3, 0),
    "resnet-n32-64x64-3x3-56-p1": (32, 64, 56, 56, 64, 3, 1),
}
LSTM_SHAPES = {"n64_t28_f28_h64": (64, 28, 28, 64), "n32_t100_f256_h256": (32, 100, 256, 256)}


_flush = None


def flush_l2(run):
    """Writes twice the L2 (outside the timed part), as the Kiln conv2d bench does before each run: cold data on both
    sides."""
    global _flush
    if _flush is None:
        l2 = getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 64 << 20)
        _flush = torch.empty(2 * l2 // 4, device="cuda")
    _flush.fill_(float(run))


def cuda_ms(fn, warmup=5, reps=20, flush=False):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for run in range(reps):
        if flush:
            flush_l2(run)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def torch_conv():
    out = {}
    bw = torch.ops.aten.convolution_backward
    for name, (n, c, h, w, k, r, pad) in CONV_SHAPES.items():
        x = torch.randn(n, c, h, w, device="cuda")
        wt = torch.randn(k, c, r, r, device="cuda")
        b = torch.randn(k, device="cuda")
        dy = torch.randn_like(F.conv2d(x, wt, b, padding=pad))
        out[("conv2d", name, "forward")] = cuda_ms(lambda: F.conv2d(x, wt, b, padding=pad), flush=True)
        out[("conv2d", name, "backward-data")] = cuda_ms(
            lambda: bw(dy, x, wt, [k], [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, [True, False, False]), flush=True)
        out[("conv2d", name, "backward-weight")] = cuda_ms(
            lambda: bw(dy, x, wt, [k], [1, 1], [pad, pad], [1, 1], False, [0, 0], 1, [False, True, True]), flush=True)
    return out


def torch_lstm():
    out = {}
    for name, (n, t, f, h) in LSTM_SHAPES.items():
        lstm = torch.nn.LSTM(f, h, batch_first=True).cuda()
        x = torch.randn(n, t, f, device="cuda", requires_grad=True)

        def fwd():
            with torch.no_grad():
                lstm(x)

        def fwd_bwd():
            y, _ = lstm(x)
            y.sum().backward()

        out[("lstm", name, "forward")] = cuda_ms(fwd)
        out[("lstm", name, "forward_backward")] = cuda_ms(fwd_bwd)
    return out


def kiln_results(build):
    """RESULT lines of kiln_bench_conv2d and kiln_bench_lstm (a case that failed its check against the CPU prints
    none). For the LSTM, the path the library itself takes: the persistent kernel where the bench ran it (the shipped
    Auto path picks it whenever it fits), else the per-step path."""
    results, lstm = {}, {}
    for exe in ("kiln_bench_conv2d", "kiln_bench_lstm"):
        text, rc, source = bench_output(build, exe)
        print(f"<!-- Kiln's {exe[len('kiln_bench_'):]} side from {source} -->")
        if rc:
            print(f"<!-- {exe} exited {rc}: a result did not match the CPU backend or a run failed; "
                  f"only its checked cases are compared -->")
        for line in text.splitlines():
            p = line.split()
            if len(p) >= 5 and p[0] == "RESULT" and p[1] == "conv2d":
                results[("conv2d", p[2], p[3])] = float(p[4])
            elif len(p) >= 6 and p[0] == "RESULT" and p[1] == "lstm_gpu":
                lstm.setdefault(("lstm", p[2], p[4]), {})[p[3]] = float(p[5])
    for key, paths in lstm.items():
        results[key] = paths.get("persistent", paths.get("step"))
    return results


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch cannot see a CUDA device")
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.benchmark = True
    kiln = kiln_results(a.build)
    peer = {**torch_conv(), **torch_lstm()}
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, cuDNN {torch.backends.cudnn.version()}, TF32 off")
    print("| op | shape | direction | kiln ms | pytorch ms | pytorch/kiln |")
    print("|---|---|---|---|---|---|")
    for key, t in peer.items():
        k = kiln.get(key)
        ratio = f"{t / k:.2f}x" if k else "-"
        print(f"| {key[0]} | {key[1]} | {key[2]} | {k:.3f} | {t:.3f} | {ratio} |" if k else
              f"| {key[0]} | {key[1]} | {key[2]} | - | {t:.3f} | - |")


if __name__ == "__main__":
    main()
