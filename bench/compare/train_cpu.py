#!/usr/bin/env python3
"""End-to-end CPU training throughput, Kiln vs PyTorch, in the same run on the same data:
    bench/compare/train_cpu.py [cnn|rnn|mlp ...] [--epochs N]
Each model trains for N epochs (Adam 1e-3, batch 64, seed 42) in PyTorch and with `./kiln train`, on the same
number of threads (peer_env.THREADS); the table reports training samples/s of both, their ratio (Kiln / PyTorch) and
both test accuracies.
The peer is PyTorch 2.x: run with a venv that has it (see compare.py; Debian's 1.13 is no fair peer on 2 cores)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import peer_env  # noqa: E402  (before torch: see peer_env.py)

peer_env.prepare()

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import MODELS, fashion_mnist  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def torch_run(name, epochs):
    torch.manual_seed(42)
    torch.set_num_threads(peer_env.THREADS)
    x, y = fashion_mnist("train")
    xt, yt = fashion_mnist("test")
    model = MODELS[name]()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()
    g = torch.Generator().manual_seed(42)
    seconds = 0.0
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        model.train()
        t0 = time.perf_counter()
        for i in range(0, len(x), 64):
            idx = perm[i:i + 64]
            opt.zero_grad()
            loss = loss_fn(model(x[idx]), y[idx])
            loss.backward()
            opt.step()
        seconds += time.perf_counter() - t0
    model.eval()
    with torch.no_grad():
        acc = sum((model(xt[i:i + 1000]).argmax(1) == yt[i:i + 1000]).sum().item() for i in range(0, len(xt), 1000))
    return len(x) * epochs / seconds, acc / len(xt)


def kiln_run(name, epochs):
    out = tempfile.mkdtemp(prefix="kiln-bench-")
    env = {k: v for k, v in os.environ.items()}
    subprocess.run([os.environ.get("KILN_BIN", os.path.join(ROOT, "kiln")), "train", name, "--device", "cpu", "--epochs", str(epochs),
                    "--batch", "64", "--lr", "1e-3", "--seed", "42", "--out", out], check=True, env=env,
                   stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.json")) as f:
        m = json.load(f)
    return m["train_samples_per_second"], m["test_accuracy"]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="*", default=["cnn", "rnn"])
    p.add_argument("--epochs", type=int, default=1)
    a = p.parse_args()
    rows = []
    for name in a.models:
        ks, ka = kiln_run(name, a.epochs)
        ts, ta = torch_run(name, a.epochs)
        rows.append((name, ks, ts, ks / ts, ka, ta))
    print(f"\nCPU training, {a.epochs} epoch(s), batch 64, {peer_env.THREADS} threads each; load average {os.getloadavg()[0]:.2f}")
    print("| model | kiln samples/s | pytorch samples/s | kiln/pytorch | kiln test acc | pytorch test acc |")
    print("|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r[0]} | {r[1]:,.0f} | {r[2]:,.0f} | {r[3]:.2f}x | {100 * r[4]:.2f}% | {100 * r[5]:.2f}% |")


if __name__ == "__main__":
    main()
