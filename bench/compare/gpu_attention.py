#!/usr/bin/env python3
"""Fused attention on the GPU, Kiln vs PyTorch's scaled_dot_product_attention, same cases, same run:
    python3 bench/compare/gpu_attention.py --build BUILD_DIR
bench/gpu-check.sh runs it when torch with CUDA is importable. Kiln's side is bench/native/attention_gpu_bench.cu
(kiln_bench_attention, which checks every case against the CPU backend before timing it and prints `RESULT attention
...` lines); PyTorch's side is timed here with CUDA events (warm-up, then the median of 20, L2 flushed before each):
fp32 on the memory-efficient backend (math where that refuses) with TF32 off, bf16 on the flash backend. Shapes
(N, H, T = S, D): (8, 4, 128, 32), (4, 8, 512, 64), (4, 16, 2048, 128), causal and not, forward and backward (the
backward alone, from a kept graph). TFLOP/s count 4 T S D per (batch, head) for the forward, 2.5 times that for the
backward, with S the visible keys under the causal mask, on both sides. The last column is PyTorch time / Kiln time
(above 1.0: Kiln is faster)."""
import argparse
import statistics
import sys

import torch
import torch.nn.functional as F

from bench_logs import bench_output

SHAPES = {  # as bench/native/attention_gpu_bench.cu: (N, H, T, D)
    "n8_h4_t128_d32": (8, 4, 128, 32),
    "n4_h8_t512_d64": (4, 8, 512, 64),
    "n4_h16_t2048_d128": (4, 16, 2048, 128),
}

try:  # torch >= 2.3
    from torch.nn.attention import SDPBackend, sdpa_kernel

    def backend(name):
        return sdpa_kernel([getattr(SDPBackend, name)])
except ImportError:  # older torch: the boolean switches
    def backend(name):
        flags = {"FLASH_ATTENTION": "enable_flash", "EFFICIENT_ATTENTION": "enable_mem_efficient", "MATH": "enable_math"}
        kw = {v: (k == name) for k, v in flags.items()}
        return torch.backends.cuda.sdp_kernel(**kw)

_flush = None


def cuda_ms(fn, warmup=3, reps=20):
    global _flush
    if _flush is None:
        l2 = getattr(torch.cuda.get_device_properties(0), "L2_cache_size", 64 << 20)
        _flush = torch.empty(2 * max(l2, 1 << 20), dtype=torch.uint8, device="cuda")
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for i in range(reps):
        _flush.fill_(i & 0xFF)
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        torch.cuda.synchronize()
        times.append(start.elapsed_time(end))
    return statistics.median(times)


def tflop(shape, causal, direction):
    n, h, t, d = shape
    pairs = t * (t + 1) / 2 if causal else t * t
    f = 4.0 * n * h * pairs * d / 1e12
    return f if direction == "forward" else 2.5 * f


def torch_case(shape, dtype, causal):
    """{direction: (backend, ms)} for one case, trying the backends in order until one accepts it."""
    n, h, t, d = shape
    dt = torch.float32 if dtype == "f32" else torch.bfloat16
    order = ["EFFICIENT_ATTENTION", "MATH"] if dtype == "f32" else ["FLASH_ATTENTION", "EFFICIENT_ATTENTION"]
    g = torch.Generator(device="cuda").manual_seed(0)
    q, k, v = [(torch.rand(n, h, t, d, device="cuda", generator=g, dtype=torch.float32) * 4 - 2)
               .to(dt).requires_grad_(True) for _ in range(3)]
    for name in order:
        try:
            with backend(name):
                o = F.scaled_dot_product_attention(q, k, v, is_causal=causal)
                dout = torch.rand_like(o) * 2 - 1
                out = {"forward": (name, cuda_ms(lambda: F.scaled_dot_product_attention(
                    q.detach(), k.detach(), v.detach(), is_causal=causal)))}
                bwd = lambda: torch.autograd.grad(o, (q, k, v), dout, retain_graph=True)
                out["backward"] = (name, cuda_ms(bwd))
                return out
        except RuntimeError as e:  # this backend refuses the case (dtype, arch, shape)
            print(f"# {name} refused {shape} {dtype}: {str(e).splitlines()[0]}", file=sys.stderr)
    return {}


def kiln_results(build):
    """RESULT lines of kiln_bench_attention: from the log bench/gpu-check.sh kept ($KILN_BENCH_LOGS), else a run."""
    text, rc, source = bench_output(build, "kiln_bench_attention")
    if rc is None:  # a log: its exit status is gpu-check's summary's; a mismatch or CUDA error shows in the text
        rc = 1 if "MISMATCH" in text or "CUDA error" in text else 0
    print(f"# Kiln's side from {source}")
    if rc:
        sys.stderr.write(text)
    results = {}
    for line in text.splitlines():
        p = line.split()
        if len(p) >= 8 and p[0] == "RESULT" and p[1] == "attention":
            results[(p[2], p[3], p[4], p[5])] = (float(p[6]), float(p[7]))
    return results, rc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True)
    a = ap.parse_args()
    if not torch.cuda.is_available():
        sys.exit("torch cannot see a CUDA device")
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    kiln, rc = kiln_results(a.build)
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, TF32 off")
    print("| shape | dtype | mask | direction | kiln ms | kiln TFLOP/s | pytorch backend | pytorch ms | "
          "pytorch TFLOP/s | pytorch/kiln |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, shape in SHAPES.items():
        for dtype in ("f32", "bf16"):
            for causal in (False, True):
                peer = torch_case(shape, dtype, causal)
                mask = "causal" if causal else "full"
                for direction in ("forward", "backward"):
                    k = kiln.get((name, dtype, mask, direction))
                    be, t = peer.get(direction, ("-", None))
                    fl = tflop(shape, causal, direction)
                    ks = f"{k[0]:.3f} | {k[1]:.2f}" if k else "- | -"
                    ts = f"{t:.3f} | {fl / (t / 1e3):.2f}" if t else "- | -"
                    ratio = f"{t / k[0]:.2f}x" if (k and t) else "-"
                    print(f"| {name} | {dtype} | {mask} | {direction} | {ks} | {be.lower()} | {ts} | {ratio} |")
    if rc != 0:
        sys.exit(f"kiln_bench_attention exited {rc} (a case disagreed with the CPU, or a CUDA error)")


if __name__ == "__main__":
    main()
