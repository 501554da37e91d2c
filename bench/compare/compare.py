#!/usr/bin/env python3
"""One comparison of Kiln against PyTorch 2.x and DJL on this machine: the op suite (every family, `kiln bench` and
bench/compare/op_suite.py on the same cases) and the models (training throughput of the seven recipes), measured in
the same run, interleaved (the order rotates every round) and repeated; one markdown table of ratios (PyTorch time /
Kiln time, or Kiln samples/s / peer samples/s: above 1 means Kiln is faster) with the median and the spread over the
rounds, and the load average during each.
    python3 -m venv V && V/bin/pip install torch==2.13.0+cpu numpy --index-url https://download.pytorch.org/whl/cpu
    V/bin/python bench/compare/compare.py [--rounds 3] [--model-rounds 2] [--ops-only | --models-only] [--no-djl]
                                          [--out FILE]
Kiln runs from `./kiln` (built on first use) or KILN_BIN. About 13 minutes on the 2-core reference machine, plus the
DJL runs.
The Java peer is DJL 0.36.0 on its PyTorch engine (libtorch 2.7.1, CPU), in bench/compare/djl: a standalone Maven
project (not a module of the root pom, so `mvn verify` never fetches DJL) that `bench/compare/djl/run MODEL --epochs
N` builds on first use and runs offline, the libtorch natives coming from the pytorch-native-cpu jar (111 MB, fetched
into ~/.m2 by that first build); DJL_RUN overrides the script. It trains mlp, cnn, rnn, vae and gan with the same
layers, batch sizes, optimizers, data and thread count (2) as the PyTorch side and times the same window. The two
Transformer tasks have no DJL version (its column shows "—"): DJL 0.36's transformer blocks are BERT-style encoders
that compose attention from matmul and softmax (no fused scaled_dot_product_attention, no decoder or cross-attention),
so train_transformer.py's models in DJL would be hand-written attention, a different computation from the other two
sides' fused kernel, and would measure our port more than DJL. --no-djl skips the peer.
Op-level figures compare against PyTorch only."""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)

import peer_env  # noqa: E402  (malloc settings for every side and child: see peer_env.py)

peer_env.prepare()


def kiln_bin():
    return os.environ.get("KILN_BIN", os.path.join(ROOT, "kiln"))


def djl_run(name, epochs):
    """One DJL training run: (samples/s, metric, engine, threads), from the JSON line bench/compare/djl/run prints."""
    cmd = [os.environ.get("DJL_RUN", os.path.join(HERE, "djl", "run")), name, "--epochs", str(epochs)]
    out = subprocess.run(cmd, check=True, stdout=subprocess.PIPE, text=True).stdout
    doc = json.loads(out.strip().splitlines()[-1])
    return doc["rate"], doc["metric"], doc["engine"], doc["threads"]


def kiln_ops(samples, sample_ms):
    out = tempfile.mktemp(suffix=".json", prefix="kiln-bench-")
    subprocess.run([kiln_bin(), "bench", "--device", "cpu", "--samples", str(samples), "--sample-ms", str(sample_ms),
                    "--json", out], check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        doc = json.load(f)
    return {r["name"]: r for r in doc["results"]}, doc


def torch_ops(samples, sample_ms):
    out = tempfile.mktemp(suffix=".json", prefix="torch-bench-")
    subprocess.run([sys.executable, os.path.join(HERE, "op_suite.py"), "--samples", str(samples), "--sample-ms",
                    str(sample_ms), "--json", out], check=True, stdout=subprocess.DEVNULL)
    with open(out) as f:
        doc = json.load(f)
    return {r["name"]: r for r in doc["results"]}, doc


def spread(ratios):
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}-{max(ratios):.2f})"


def compare_ops(rounds, samples, sample_ms, lines):
    per_case, kiln_last, loads = {}, None, []
    for r in range(rounds):
        order = (kiln_ops, torch_ops) if r % 2 == 0 else (torch_ops, kiln_ops)
        got = {}
        for fn in order:
            got[fn.__name__] = fn(samples, sample_ms)
        kiln, kdoc = got["kiln_ops"]
        torch_r, tdoc = got["torch_ops"]
        loads.append(os.getloadavg()[0])
        kiln_last = (kiln, kdoc, tdoc)
        for name, k in kiln.items():
            t = torch_r.get(name)
            if t:
                per_case.setdefault(name, []).append((t["median_ms"] / k["median_ms"], k["median_ms"], t["median_ms"]))
        print(f"ops round {r + 1}/{rounds} done, load average {loads[-1]:.2f}", file=sys.stderr, flush=True)
    kiln, kdoc, tdoc = kiln_last
    lines.append(f"### Op suite, CPU: Kiln vs PyTorch {tdoc['torch']} ({tdoc['threads']} threads each)\n")
    lines.append(f"{rounds} rounds, order alternating; each figure the median of {samples} samples of >= {sample_ms} ms. "
                 f"Measured peak: {kdoc['peak_fma_gflops']:.0f} GFLOP/s fp32 FMA, {kdoc['peak_copy_gbps']:.1f} GB/s copy. "
                 f"Load average (1 min, this benchmark's own threads included) after each round: "
                 f"{', '.join(f'{l:.2f}' for l in loads)}.\n")
    lines.append("| family | case | Kiln ms | PyTorch ms | PyTorch/Kiln (spread) | Kiln rate | of peak |")
    lines.append("|---|---|---:|---:|---:|---:|---:|")
    for name, k in kiln.items():
        rs = per_case.get(name)
        if not rs:
            continue
        km = statistics.median(x[1] for x in rs)
        tm = statistics.median(x[2] for x in rs)
        path = f" [{k['paths']}]" if k.get("paths") else ""
        # The rate at the median time over rounds, like the time beside it (the last round's report gives the work:
        # rate times its own time).
        scale = k["median_ms"] / km
        lines.append(f"| {k['family']} | {name}{path} | {km:.3f} | {tm:.3f} | {spread([x[0] for x in rs])} | "
                     f"{k['rate'] * scale:.1f} {k['unit']} | {100 * k['fraction_of_peak'] * scale:.0f}% |")
    lines.append("")


def compare_models(rounds, lines, djl=True):
    import train_cpu
    import train_generative
    import train_transformer
    import torch
    torch.set_num_threads(peer_env.THREADS)
    # name -> (kiln run, torch run, djl run or None, unit); each returns (rate, metric, ...). Classifiers: 1 epoch;
    # VAE, GAN: 1 epoch; the Transformer tasks: 300 and 200 steps (no DJL peer, see the docstring). Rates are
    # throughput: samples/s or tokens/s.
    models = {
        "mlp": (lambda: train_cpu.kiln_run("mlp", 1), lambda: train_cpu.torch_run("mlp", 1), lambda: djl_run("mlp", 1),
                "samples/s"),
        "cnn": (lambda: train_cpu.kiln_run("cnn", 1), lambda: train_cpu.torch_run("cnn", 1), lambda: djl_run("cnn", 1),
                "samples/s"),
        "rnn": (lambda: train_cpu.kiln_run("rnn", 1), lambda: train_cpu.torch_run("rnn", 1), lambda: djl_run("rnn", 1),
                "samples/s"),
        "vae": (lambda: train_generative.kiln("vae", 1), lambda: train_generative.torch_vae(1), lambda: djl_run("vae", 1),
                "samples/s"),
        "gan": (lambda: train_generative.kiln("gan", 1), lambda: train_generative.torch_gan(1), lambda: djl_run("gan", 1),
                "samples/s"),
        "transformer": (lambda: train_transformer.kiln("transformer", 300),
                        lambda: train_transformer.torch_transformer(300), None, "tokens/s"),
        "charlm": (lambda: train_transformer.kiln("charlm", 200), lambda: train_transformer.torch_charlm(200), None,
                   "tokens/s"),
    }
    rows, loads, djl_engine, djl_engine_threads = {}, [], None, None
    for r in range(rounds):
        for name, (k, t, d, unit) in models.items():
            runners = [("kiln", k), ("torch", t)] + ([("djl", d)] if djl and d else [])
            # Rotate the order each round so that no side always runs first (or right after the same neighbour).
            shift = r % len(runners)
            got = {}
            for side, run in runners[shift:] + runners[:shift]:
                res = run()
                got[side] = res[0]
                if side == "djl":
                    djl_engine, djl_engine_threads = res[2], res[3]
            rows.setdefault(name, []).append((got["kiln"], got["torch"], got.get("djl")))
            djl_text = f" djl {got['djl']:,.0f}" if "djl" in got else ""
            print(f"models round {r + 1}/{rounds}: {name} kiln {got['kiln']:,.0f} pytorch {got['torch']:,.0f}{djl_text} "
                  f"{unit}", file=sys.stderr, flush=True)
        loads.append(os.getloadavg()[0])
    peers = f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads; Kiln {peer_env.THREADS})"
    if djl_engine:
        peers += f" and DJL 0.36.0 on libtorch {djl_engine.split()[-1]} ({djl_engine_threads} threads)"
    lines.append(f"### Training throughput, CPU: Kiln vs {peers}\n")
    lines.append(f"{rounds} rounds, order rotating. Load average (1 min, this benchmark's own threads included) after "
                 f"each round: {', '.join(f'{l:.2f}' for l in loads)}.\n")
    if djl:
        lines.append("| model | Kiln | PyTorch | DJL | Kiln/PyTorch (spread) | Kiln/DJL (spread) |")
        lines.append("|---|---:|---:|---:|---:|---:|")
    else:
        lines.append("| model | Kiln | PyTorch | Kiln/PyTorch (spread) |")
        lines.append("|---|---:|---:|---:|")
    for name, rs in rows.items():
        unit = models[name][3]
        kiln = f"{statistics.median(x[0] for x in rs):,.0f} {unit}"
        torch_rate = f"{statistics.median(x[1] for x in rs):,.0f} {unit}"
        vs_torch = spread([x[0] / x[1] for x in rs])
        if not djl:
            lines.append(f"| {name} | {kiln} | {torch_rate} | {vs_torch} |")
        elif rs[0][2] is None:
            lines.append(f"| {name} | {kiln} | {torch_rate} | — | {vs_torch} | — |")
        else:
            lines.append(f"| {name} | {kiln} | {torch_rate} | {statistics.median(x[2] for x in rs):,.0f} {unit} | "
                         f"{vs_torch} | {spread([x[0] / x[2] for x in rs])} |")
    lines.append("")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3, help="op-suite rounds")
    p.add_argument("--model-rounds", type=int, default=2)
    p.add_argument("--samples", type=int, default=7)
    p.add_argument("--sample-ms", type=float, default=25)
    p.add_argument("--ops-only", action="store_true")
    p.add_argument("--models-only", action="store_true")
    p.add_argument("--no-djl", action="store_true", help="leave the DJL peer out of the models table")
    p.add_argument("--out", help="also write the tables to this markdown file")
    a = p.parse_args()
    started = time.time()
    lines = []
    if not a.models_only:
        compare_ops(a.rounds, a.samples, a.sample_ms, lines)
    if not a.ops_only:
        compare_models(a.model_rounds, lines, djl=not a.no_djl)
    lines.append(f"Total {time.time() - started:.0f} s.")
    text = "\n".join(lines)
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text + "\n")


if __name__ == "__main__":
    main()
