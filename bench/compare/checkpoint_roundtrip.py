#!/usr/bin/env python3
"""Kiln checkpoints and PyTorch read each other's weights:
    bench/compare/checkpoint_roundtrip.py [--kiln CMD] [--limit N] [--work DIR]

1. Kiln -> PyTorch: `kiln train cnn --epochs 1 --save DIR` writes DIR/checkpoint.safetensors; this script parses it
   with its own few lines (8-byte little-endian header length, JSON header, little-endian data), maps Kiln's
   state-dict names onto bench/compare/torch_models.py's cnn(), and compares PyTorch's test accuracy with the one
   Kiln wrote to metrics.json.
2. PyTorch -> Kiln: a PyTorch-initialized cnn() written as safetensors under Kiln's names, read by
   `kiln eval cnn --model-file F`; the accuracies of this untrained model are compared the same way, and those of the
   same model after 300 steps of Adam in PyTorch.
All pairs must agree within 0.1% (10 of the 10,000 test images). Needs a python with torch and numpy
(/opt/torchvenv/bin/python, or Debian's python3-torch)."""
import argparse
import json
import os
import re
import struct
import subprocess
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(__file__))
from torch_models import cnn, fashion_mnist  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
TOLERANCE = 0.001

# Kiln's Cnn is features (a Sequential: conv 0, conv 3, dense 7) and classifier; torch_models.cnn() is one Sequential
# with the same indices for the first three and the last dense layer at 9.
KILN_TO_TORCH = {"features.0": "0", "features.3": "3", "features.7": "7", "classifier": "9"}
TORCH_TO_KILN = {v: k for k, v in KILN_TO_TORCH.items()}


def read_safetensors(path):
    """Name -> float32 array and the metadata of a safetensors file (F32 and I32 only, as Kiln writes)."""
    with open(path, "rb") as f:
        (length,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "I32": "<i4"}
    tensors = {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        tensors[name] = np.frombuffer(data[begin:end], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return tensors, meta


def write_safetensors(path, tensors, meta):
    """The same layout: the header padded with spaces to 8 bytes, then each tensor's bytes in order."""
    header, offset, blobs = {"__metadata__": meta}, 0, []
    for name, a in tensors.items():
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
        blobs.append(b)
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))


def rename(name, table):
    module, _, leaf = name.rpartition(".")
    return table[module] + "." + leaf


def accuracy(model, x, y):
    model.eval()
    with torch.no_grad():
        return sum((model(x[i:i + 1000]).argmax(1) == y[i:i + 1000]).sum().item() for i in range(0, len(x), 1000)) / len(x)


def kiln(cmd, *args):
    return subprocess.run(cmd + list(args), check=True, capture_output=True, text=True).stdout


def to_kiln(cmd, model, path, xt, yt):
    """Writes `model` under Kiln's names; returns the accuracies `kiln eval` and PyTorch give it."""
    write_safetensors(path, {rename(n, TORCH_TO_KILN): t.detach().numpy() for n, t in model.state_dict().items()},
                      {"model": "cnn", "written_by": "torch " + torch.__version__})
    printed = kiln(cmd, "eval", "cnn", "--device", "cpu", "--model-file", path)
    m = re.search(r"\((\d+)/(\d+) correct\)", printed)
    return int(m.group(1)) / int(m.group(2)), accuracy(model, xt, yt)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--kiln", default=os.path.join(ROOT, "kiln"), help="the kiln command (default: ./kiln)")
    p.add_argument("--limit", type=int, help="train on the first N images only (quicker; the check is the same)")
    p.add_argument("--work", help="folder for the files (default: a new temporary one)")
    a = p.parse_args()
    cmd = a.kiln.split()
    work = a.work or tempfile.mkdtemp(prefix="kiln-roundtrip-")
    torch.set_num_threads(2)
    xt, yt = fashion_mnist("test")

    # 1. Kiln's checkpoint into PyTorch.
    save, out = os.path.join(work, "save"), os.path.join(work, "out")
    extra = ["--limit", str(a.limit)] if a.limit else []
    kiln(cmd, "train", "cnn", "--device", "cpu", "--epochs", "1", "--save", save, "--out", out, *extra)
    with open(os.path.join(out, "metrics.json")) as f:
        kiln_trained = json.load(f)["test_accuracy"]
    tensors, meta = read_safetensors(os.path.join(save, "checkpoint.safetensors"))
    assert meta.get("config.model") == "cnn", meta
    state = {rename(n[len("model."):], KILN_TO_TORCH): torch.from_numpy(t.copy())
             for n, t in tensors.items() if n.startswith("model.")}
    model = cnn()
    model.load_state_dict(state, strict=True)
    torch_trained = accuracy(model, xt, yt)

    # 2. A PyTorch-initialized CNN into Kiln; an untrained model's ~10% says little about the weights' layout, so a
    # copy trained briefly in PyTorch (300 steps of Adam) goes the same way too.
    torch.manual_seed(0)
    fresh = cnn()
    kiln_fresh, torch_fresh = to_kiln(cmd, fresh, os.path.join(work, "torch_cnn.safetensors"), xt, yt)
    x, y = fashion_mnist("train")
    opt = torch.optim.Adam(fresh.parameters(), lr=1e-3)
    fresh.train()
    for i in range(300):
        idx = torch.randint(0, len(x), (64,))
        opt.zero_grad()
        torch.nn.functional.cross_entropy(fresh(x[idx]), y[idx]).backward()
        opt.step()
    kiln_brief, torch_brief = to_kiln(cmd, fresh, os.path.join(work, "torch_cnn_300_steps.safetensors"), xt, yt)

    ok = True
    print(f"files in {work}")
    for what, k, t in (("Kiln-trained CNN (1 epoch), read by PyTorch", kiln_trained, torch_trained),
                       ("PyTorch-initialized CNN, read by kiln eval", kiln_fresh, torch_fresh),
                       ("PyTorch CNN after 300 steps, read by kiln eval", kiln_brief, torch_brief)):
        agree = abs(k - t) <= TOLERANCE + 1e-12
        ok &= agree
        print(f"{what}: kiln {100 * k:.2f}%, pytorch {100 * t:.2f}%, difference {100 * abs(k - t):.2f}% "
              f"({'agree' if agree else 'DISAGREE'} within {100 * TOLERANCE:.1f}%)")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
