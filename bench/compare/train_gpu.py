#!/usr/bin/env python3
"""Training throughput on a CUDA GPU: Kiln's Java API (`kiln train MODEL --device cuda:0`) against PyTorch on the same
GPU, the same recipes and the same data, alternating and repeated:
    bench/compare/train_gpu.py [mlp cnn rnn vae gan] [--epochs N] [--repeat R]
The recipes are the CPU comparisons' (train_cpu.py, train_generative.py): Adam, seed 42, batch 64 (the VAE 128), the
GAN's two optimizers. Both sides keep the images in host memory and copy each batch to the device, as Kiln's loader
does, and both count every epoch, the first included. PyTorch runs with cuDNN and TF32 off for both matrix products
and convolutions: Kiln computes in fp32. KILN_BIN names the kiln launcher (default ./kiln: it needs Java 17 and the
built jar, whose libkiln carries the CUDA kernels when nvcc was found at build time); KILN_DATA, as for the other
scripts, the Fashion-MNIST folder. The table gives samples/s of both sides, the ratio (Kiln / PyTorch) per repeat, its
median and spread, and each side's final metric.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

import torch

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import MODELS, Gan, Vae, fashion_mnist, gan_step  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
DEV = torch.device("cuda:0")
BATCH = {"mlp": 64, "cnn": 64, "rnn": 64, "vae": 128, "gan": 64}


def epochs_timed(epochs, x, batch, step):
    """Runs `step(host_indices)` over shuffled batches for `epochs` epochs; seconds spent, the device drained."""
    g = torch.Generator().manual_seed(42)
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(epochs):
        perm = torch.randperm(len(x), generator=g)
        for i in range(0, len(x), batch):
            step(perm[i:i + batch])
    torch.cuda.synchronize()
    return time.perf_counter() - t0


def torch_classifier(name, epochs):
    torch.manual_seed(42)
    x, y = fashion_mnist("train")
    xt, yt = fashion_mnist("test")
    model = MODELS[name]().to(DEV)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(idx):
        opt.zero_grad()
        loss_fn(model(x[idx].to(DEV)), y[idx].to(DEV)).backward()
        opt.step()

    seconds = epochs_timed(epochs, x, BATCH[name], step)
    with torch.no_grad():
        hits = sum((model(xt[i:i + 1000].to(DEV)).argmax(1).cpu() == yt[i:i + 1000]).sum().item()
                   for i in range(0, len(xt), 1000))
    return len(x) * epochs / seconds, f"test acc {100 * hits / len(xt):.2f}%"


def torch_vae(epochs):
    torch.manual_seed(42)
    x, _ = fashion_mnist("train")
    model = Vae(20).to(DEV)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(idx):
        loss, _, _ = model.losses(x[idx].to(DEV))
        opt.zero_grad()
        loss.backward()
        opt.step()

    seconds = epochs_timed(epochs, x, BATCH["vae"], step)
    return len(x) * epochs / seconds, ""


def torch_gan(epochs):
    torch.manual_seed(42)
    x, _ = fashion_mnist("train")
    model = Gan().to(DEV)
    opt_g = torch.optim.Adam(model.generator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(model.discriminator.parameters(), lr=2e-4, betas=(0.5, 0.999))
    bce = torch.nn.BCEWithLogitsLoss()

    def step(idx):
        gan_step(model, x[idx].to(DEV).reshape(-1, 784) * 2 - 1, opt_d, opt_g, bce)

    seconds = epochs_timed(epochs, x, BATCH["gan"], step)
    return len(x) * epochs / seconds, ""


def kiln(name, epochs):
    out = tempfile.mkdtemp(prefix="kiln-gpu-")
    cmd = shlex.split(os.environ.get("KILN_BIN", os.path.join(ROOT, "kiln")))
    extra = ["--no-score"] if name in ("vae", "gan") else []
    subprocess.run(cmd + ["train", name, "--device", "cuda:0", "--epochs", str(epochs), "--batch", str(BATCH[name]),
                          "--seed", "42", "--out", out] + extra, check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.json")) as f:
        m = json.load(f)
    metric = f"test acc {100 * m['test_accuracy']:.2f}%" if "test_accuracy" in m else ""
    return m["train_samples_per_second"], metric


def main():
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="*", default=["mlp", "cnn", "rnn", "vae", "gan"])
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--repeat", type=int, default=3)
    a = p.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.zeros(1, device=DEV)  # the CUDA context, before any timing (Kiln makes its own before training too)
    peers = {"vae": torch_vae, "gan": torch_gan}
    print(f"{torch.cuda.get_device_name(DEV)}; PyTorch {torch.__version__} (cuDNN {torch.backends.cudnn.version()}); "
          f"{a.epochs} epoch(s) of {len(fashion_mnist('train')[0])} images per run, {a.repeat} repeats, "
          f"load average {os.getloadavg()[0]:.2f}")
    print("| model | run | kiln samples/s | pytorch samples/s | kiln/pytorch | kiln | pytorch |")
    print("|---|---|---:|---:|---:|---|---|")
    for name in a.models:
        peer = peers.get(name, lambda e, n=name: torch_classifier(n, e))
        ratios = []
        for r in range(a.repeat):
            # The order flips every repeat, so neither side always runs on a GPU the other has just warmed.
            if r % 2 == 0:
                ks, km = kiln(name, a.epochs)
                ts, tm = peer(a.epochs)
            else:
                ts, tm = peer(a.epochs)
                ks, km = kiln(name, a.epochs)
            ratios.append(ks / ts)
            print(f"| {name} | {r + 1} | {ks:,.0f} | {ts:,.0f} | {ks / ts:.2f}x | {km} | {tm} |", flush=True)
        print(f"| {name} | median | | | {statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f}x) | | |",
              flush=True)


if __name__ == "__main__":
    main()
