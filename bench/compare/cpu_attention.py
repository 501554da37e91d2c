#!/usr/bin/env python3
"""Fused attention on the CPU, Kiln vs PyTorch's scaled_dot_product_attention, same shapes, same run, the same
threads each (peer_env.THREADS: every core, or KILN_BENCH_THREADS):
    /usr/bin/python3 bench/compare/cpu_attention.py [--bin PATH] [--runs N]
Kiln's side is the native benchmark bench/native/attention_cpu_bench.cpp (kiln_cpu_bench_attention: its path from
--bin, else $KILN_BENCH_BIN, else the Maven build java/target/native/bench/native/), which prints `RESULT attention
<shape> <forward|forward_backward> <ms> ...` lines; PyTorch's side (torch 2.x on the CPU, fp32, contiguous
(N, H, T, D) operands) is timed here: warm-up, then the median of repeated runs. Shapes (N, H, T = S, D): (8, 4, 128,
32) and (4, 8, 512, 64), causal and not; "forward" is the inference forward, "forward_backward" a forward with
autograd and the backward of a fixed upstream gradient. GFLOP/s as FlashAttention counts them: forward 4 N H T S D,
backward 2.5 times that, over the T (T + 1) / 2 visible pairs under the causal mask, on both sides. The ratio column
is PyTorch time / Kiln time (above 1.0: Kiln is faster)."""
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
THREADS = peer_env.THREADS
SHAPES = [(8, 4, 128, 128, 32), (4, 8, 512, 512, 64)]  # (N, H, T, S, D), as attention_cpu_bench.cpp


def shape_name(n, h, t, s, d, causal):
    return f"n{n}_h{h}_t{t}_s{s}_d{d}" + ("_causal" if causal else "")


def median_ms(fn, runs, warmup=3):
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def torch_times(runs):
    """{(shape name, direction): (ms, flops)} for PyTorch's scaled_dot_product_attention."""
    out = {}
    gen = torch.Generator().manual_seed(0)
    for n, h, t, s, d in SHAPES:
        q = torch.randn(n, h, t, d, generator=gen)
        k = torch.randn(n, h, s, d, generator=gen)
        v = torch.randn(n, h, s, d, generator=gen)
        dout = torch.randn(n, h, t, d, generator=gen)
        for causal in (False, True):
            pairs = t * (t + 1) / 2 if causal else t * s  # visible pairs: the shapes are square (T == S)
            flops = 4.0 * n * h * pairs * d

            def forward(causal=causal):
                with torch.no_grad():
                    F.scaled_dot_product_attention(q, k, v, is_causal=causal)

            qg, kg, vg = (x.clone().requires_grad_(True) for x in (q, k, v))

            def forward_backward(causal=causal, qg=qg, kg=kg, vg=vg):
                for x in (qg, kg, vg):
                    x.grad = None
                F.scaled_dot_product_attention(qg, kg, vg, is_causal=causal).backward(dout)

            name = shape_name(n, h, t, s, d, causal)
            out[(name, "forward")] = (median_ms(forward, runs), flops)
            out[(name, "forward_backward")] = (median_ms(forward_backward, runs), 3.5 * flops)
    return out


def kiln_times(exe, runs):
    """{(shape name, direction): ms} from the native benchmark's RESULT lines."""
    if not os.path.exists(exe):
        sys.exit(f"{exe} not found: build it first (mvn -B verify, or cmake --build BUILD --target kiln_cpu_bench_attention) "
                 "or point --bin / KILN_BENCH_BIN at it")
    env = dict(os.environ, KILN_NUM_THREADS=str(THREADS))
    run = subprocess.run([exe, str(runs)], capture_output=True, text=True, check=True, env=env)
    results = {}
    for line in run.stdout.splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[0] == "RESULT" and parts[1] == "attention":
            results[(parts[2], parts[3])] = float(parts[4])
        elif line.startswith("attention on the CPU"):
            print(f"kiln: {line}")
    return results


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_bin = os.environ.get("KILN_BENCH_BIN") or os.path.join(
        ROOT, "java", "target", "native", "bench", "native", "kiln_cpu_bench_attention")
    p.add_argument("--bin", default=default_bin, help="the kiln_cpu_bench_attention binary")
    p.add_argument("--runs", type=int, default=21, help="timed runs per measurement, each side")
    a = p.parse_args()
    torch.set_num_threads(THREADS)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; load average {os.getloadavg()[0]:.2f}")
    kiln = kiln_times(a.bin, a.runs)  # Kiln first: PyTorch's OpenMP workers spin for a while after each call
    peer = torch_times(a.runs)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    print("| shape | direction | kiln ms | pytorch ms | pytorch/kiln | kiln GFLOP/s | pytorch GFLOP/s |")
    print("|---|---|---|---|---|---|---|")
    for (name, direction), (t_ms, flops) in peer.items():
        k_ms = kiln.get((name, direction))
        if k_ms is None:
            print(f"| {name} | {direction} | - | {t_ms:.3f} | - | - | {flops / t_ms / 1e6:.1f} |")
            continue
        print(f"| {name} | {direction} | {k_ms:.3f} | {t_ms:.3f} | {t_ms / k_ms:.2f}x | {flops / k_ms / 1e6:.1f} | "
              f"{flops / t_ms / 1e6:.1f} |")


if __name__ == "__main__":
    main()
