#!/usr/bin/env python3
"""VAE and GAN training throughput on the CPU, Kiln vs PyTorch 2.x, in the same run on the same data:
    bench/compare/train_generative.py [vae gan] [--epochs N] [--repeat R] [--python-peer-only]
Each model trains N epochs with its recipe (VAE: latent 20, Adam 1e-3, batch 128; GAN: two Adam 2e-4 beta1 0.5, batch
64) in PyTorch and with `./kiln train` (the same threads, peer_env.THREADS), alternating R times; the table gives
samples/s of both, the ratio (Kiln / PyTorch) per repeat and its spread, the load average, and each side's final metric.
The peer is PyTorch 2.x: run with a venv that has it, e.g.
    python3 -m venv V && V/bin/pip install torch==2.13.0+cpu numpy   (the CPU wheel, from PyTorch's own index)
    V/bin/python bench/compare/train_generative.py
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import peer_env  # noqa: E402  (before torch: see peer_env.py)

peer_env.prepare()

import torch  # noqa: E402

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import Gan, Vae, fashion_mnist, gan_step  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def torch_vae(epochs):
    torch.manual_seed(42)
    x, _ = fashion_mnist("train")
    xt, _ = fashion_mnist("test")
    model = Vae(20)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    g = torch.Generator().manual_seed(42)
    seconds = 0.0
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        t0 = time.perf_counter()
        for i in range(0, len(x), 128):
            loss, _, _ = model.losses(x[perm[i:i + 128]])
            opt.zero_grad()
            loss.backward()
            opt.step()
        seconds += time.perf_counter() - t0
    with torch.no_grad():
        total = sum(model.losses(xt[i:i + 1000])[0].item() * len(xt[i:i + 1000]) for i in range(0, len(xt), 1000))
    return len(x) * epochs / seconds, {"test_negative_elbo": total / len(xt)}


def train_torch_gan(epochs, seed=42, x=None):
    """The GAN recipe in PyTorch for `epochs` epochs: (model, seconds spent in the training loops, last losses)."""
    torch.manual_seed(seed)
    if x is None:
        x, _ = fashion_mnist("train")
    model = Gan()
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()
    g = torch.Generator().manual_seed(seed)
    seconds, d_loss, g_loss = 0.0, 0.0, 0.0
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        t0 = time.perf_counter()
        for i in range(0, len(x), 64):
            d, gl = gan_step(model, x[perm[i:i + 64]].reshape(-1, 784) * 2 - 1, opt_d, opt_g, bce)
            d_loss, g_loss = d.item(), gl.item()
        seconds += time.perf_counter() - t0
    return model, seconds, {"d_loss": d_loss, "g_loss": g_loss}


def torch_gan(epochs):
    x, _ = fashion_mnist("train")
    _, seconds, losses = train_torch_gan(epochs, 42, x)
    return len(x) * epochs / seconds, losses


def kiln(name, epochs):
    out = tempfile.mkdtemp(prefix="kiln-bench-")
    subprocess.run([os.environ.get("KILN_BIN", os.path.join(ROOT, "kiln")), "train", name, "--device", "cpu", "--epochs", str(epochs), "--no-score", "--out", out],
                   check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.json")) as f:
        m = json.load(f)
    keep = {k: round(m[k], 2) for k in ("test_negative_elbo",) if k in m}
    return m["train_samples_per_second"], keep


def main():
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="*", default=["vae", "gan"])
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(peer_env.THREADS)
    peers = {"vae": torch_vae, "gan": torch_gan}
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; {a.epochs} epoch(s) per run, {a.repeat} repeats")
    print("| model | run | kiln samples/s | pytorch samples/s | kiln/pytorch | load avg | kiln | pytorch |")
    print("|---|---|---|---|---|---|---|---|")
    for name in a.models:
        ratios = []
        for r in range(a.repeat):
            ks, km = kiln(name, a.epochs)
            ts, tm = peers[name](a.epochs)
            ratios.append(ks / ts)
            print(f"| {name} | {r + 1} | {ks:,.0f} | {ts:,.0f} | {ks / ts:.2f}x | {os.getloadavg()[0]:.2f} | {km} | {tm} |",
                  flush=True)
        spread = f"{min(ratios):.2f}-{max(ratios):.2f}x"
        print(f"| {name} | median | | | {statistics.median(ratios):.2f}x (spread {spread}) | | | |")


if __name__ == "__main__":
    main()
