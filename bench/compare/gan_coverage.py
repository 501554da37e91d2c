#!/usr/bin/env python3
"""Mode coverage of the GAN recipe, Kiln vs the same recipe in PyTorch 2.x, scored by the same judge.

The GAN check asks that 5 epochs give samples of every Fashion-MNIST class at >= 3% (by the cached classifier's
predictions over 10,000 samples). Whether a recipe meets that depends on the seed, so one run says little: this
trains the recipe (generator 100-256-512-784 tanh, discriminator 784-512-256-1 LeakyReLU 0.2, BCE on logits, two Adam
2e-4 beta1 0.5, batch 64, 5 epochs) for several seeds in both frameworks and scores every generator with Kiln's
`kiln eval gan` (Frechet distance on the classifier's features, and the class histogram), so the two sides differ only
in who trained the weights. The PyTorch generator is written as safetensors under Kiln's parameter names.
    V/bin/python bench/compare/gan_coverage.py [--seeds 1 7 42] [--epochs 5] [--out FILE]
About 2 minutes per seed and side on the 2-core reference machine.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checkpoint_roundtrip import write_safetensors  # noqa: E402
import train_generative  # noqa: E402
from torch_models import fashion_mnist  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SCORE = re.compile(r"samples: FD ([0-9.]+), classes \[([0-9, ]+)\]")


def kiln_bin():
    return os.environ.get("KILN_BIN", os.path.join(ROOT, "kiln"))


def parse_score(text):
    m = SCORE.search(text)
    if not m:
        raise SystemExit("no score line in:\n" + text)
    counts = [int(c) for c in m.group(2).split(",")]
    return float(m.group(1)), counts


def torch_side(seed, epochs, x, work):
    model = train_generative.train_torch_gan(epochs, seed, x)[0]
    path = os.path.join(work, f"torch-gan-{seed}.safetensors")
    write_safetensors(path, {n: t.detach().numpy() for n, t in model.state_dict().items()}, {"model": "gan"})
    out = subprocess.run([kiln_bin(), "eval", "gan", "--device", "cpu", "--model-file", path, "--seed", str(seed)],
                         check=True, stdout=subprocess.PIPE, text=True).stdout
    return parse_score(out)


def kiln_side(seed, epochs, work):
    out = subprocess.run([kiln_bin(), "train", "gan", "--device", "cpu", "--epochs", str(epochs), "--seed", str(seed),
                          "--out", os.path.join(work, f"kiln-gan-{seed}")], check=True, stdout=subprocess.PIPE,
                         text=True).stdout
    return parse_score(out.replace("\r", "\n"))


def row(side, seed, fd, counts):
    total = sum(counts)
    fractions = [100.0 * c / total for c in counts]
    low = min(range(10), key=lambda i: counts[i])
    ok = "yes" if fractions[low] >= 3.0 else "no"
    return (f"| {side} | {seed} | {fd:.1f} | {fractions[low]:.1f}% (class {low}) | {ok} | "
            + " ".join(f"{f:.1f}" for f in fractions) + " |")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--seeds", type=int, nargs="+", default=[1, 7, 42])
    p.add_argument("--epochs", type=int, default=5)
    p.add_argument("--out", help="also write the table to this markdown file")
    a = p.parse_args()
    torch.set_num_threads(os.cpu_count())
    x, _ = fashion_mnist("train")
    lines = [f"### GAN mode coverage after {a.epochs} epochs: Kiln vs PyTorch {torch.__version__}, judged by kiln eval gan\n",
             "| trained by | seed | Frechet distance | rarest class | every class >= 3% | class shares, % (0-9) |",
             "|---|---:|---:|---:|:-:|---|"]
    results = {"Kiln": [], "PyTorch": []}
    with tempfile.TemporaryDirectory(prefix="kiln-gan-coverage-") as work:
        for seed in a.seeds:
            for side in ("Kiln", "PyTorch"):
                fd, counts = kiln_side(seed, a.epochs, work) if side == "Kiln" else torch_side(seed, a.epochs, x, work)
                results[side].append((fd, min(counts) / sum(counts)))
                lines.append(row(side, seed, fd, counts))
                print(lines[-1], file=sys.stderr, flush=True)
    lines.append("")
    for side, rs in results.items():
        passed = sum(1 for _, low in rs if low >= 0.03)
        lines.append(f"{side}: median Frechet distance {statistics.median(fd for fd, _ in rs):.1f}; every class >= 3% "
                     f"in {passed} of {len(rs)} seeds.")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
