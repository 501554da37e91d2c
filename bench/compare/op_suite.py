#!/usr/bin/env python3
"""The PyTorch side of Kiln's op suite (`kiln bench`, dev.kiln.profile.OpSuite): every case by its name, with the
same shapes, inputs made once, each run's temporaries freed, forward-only cases under no_grad and "fwd+bwd" cases
backpropagating from the sum of the output. Timed like OpBenchmark: warm-up of one sample, then samples of at least
--sample-ms, the median time per run with the fastest and slowest sample.
    V/bin/python bench/compare/op_suite.py [--json FILE] [--samples 7] [--sample-ms 25] [--only NAME ...]
Called by bench/compare/compare.py, which interleaves it with `kiln bench`."""
import argparse
import json
import os
import time

import peer_env  # noqa: E402  (before torch: see peer_env.py)

peer_env.prepare()

import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402


def cases():
    """name -> (make, backward): make() returns the function one run calls."""
    g = torch.Generator().manual_seed(42)
    r = lambda *s: torch.rand(*s, generator=g)  # noqa: E731
    n = lambda *s: torch.randn(*s, generator=g)  # noqa: E731
    grad = lambda t: t.requires_grad_()  # noqa: E731
    c = {}

    def add(name, backward, make):
        c[name] = (make, backward)

    add("gemm 64x784x256", False, lambda: (lambda x, w: lambda: x @ w.t())(r(64, 784), r(256, 784)))
    add("gemm 4096x128x512", False, lambda: (lambda h, w: lambda: h @ w.t())(r(4096, 512), r(128, 512)))
    for k in (256, 512, 1024):
        add(f"gemm {k}x{k}x{k}", False, lambda k=k: (lambda a, b: lambda: a @ b)(r(k, k), r(k, k)))
    m = 1 << 20
    add("relu 1M", False, lambda: (lambda x: lambda: torch.relu(x))(n(m)))
    add("add 1M", False, lambda: (lambda x, y: lambda: x + y)(n(m), n(m)))
    add("gelu 1M", False, lambda: (lambda x: lambda: F.gelu(x))(n(m)))
    add("sum 1M", False, lambda: (lambda x: lambda: x.sum())(n(m)))
    add("softmax 256x1000", False, lambda: (lambda x: lambda: torch.softmax(x, 1))(n(256, 1000)))
    labels = torch.tensor([(i * 37) % 1000 for i in range(256)])
    add("cross_entropy 256x1000 fwd+bwd", True, lambda: (lambda x: lambda: F.cross_entropy(x, labels))(grad(n(256, 1000))))
    add("bce_with_logits 128x784 fwd+bwd", True,
        lambda: (lambda x, t: lambda: F.binary_cross_entropy_with_logits(x, t))(grad(n(128, 784)), r(128, 784)))  # the mean, as Kiln's

    def adam():  # the optimizer object on both sides; PyTorch's fused CPU kernel (2.4+), its fastest Adam
        p = n(m)
        p.grad = n(m)
        opt = torch.optim.Adam([p], lr=1e-3, fused=True)
        return lambda: opt.step()
    add("adam 1M", False, adam)

    def conv(shape, k, pad, backward):
        x, w = n(*shape), n(k, shape[1], 3, 3)
        b = n(k) if pad == 0 else None
        if backward:
            grad(x), grad(w)
            if b is not None:
                grad(b)
        return lambda: F.conv2d(x, w, b, 1, pad)
    add("conv2d 64x1x28x28 k32 3x3", False, lambda: conv((64, 1, 28, 28), 32, 0, False))
    add("conv2d 64x32x13x13 k64 3x3", False, lambda: conv((64, 32, 13, 13), 64, 0, False))
    add("conv2d 64x32x13x13 k64 3x3 fwd+bwd", True, lambda: conv((64, 32, 13, 13), 64, 0, True))
    add("conv2d 32x64x56x56 k64 3x3 pad 1", False, lambda: conv((32, 64, 56, 56), 64, 1, False))
    add("max_pool2d 64x32x26x26 2x2 fwd+bwd", True, lambda: (lambda x: lambda: F.max_pool2d(x, 2))(grad(n(64, 32, 26, 26))))

    def bn():
        x, gamma, beta = grad(n(64, 32, 26, 26)), grad(torch.ones(32)), grad(torch.zeros(32))
        return lambda: F.batch_norm(x, None, None, gamma, beta, training=True, momentum=0.1, eps=1e-5)
    add("batch_norm 64x32x26x26 fwd+bwd", True, bn)

    def lstm(N, T, Fi, H, backward):
        layer = torch.nn.LSTM(Fi, H, batch_first=True)
        x = n(N, T, Fi)
        if backward:
            grad(x)
        else:
            layer.requires_grad_(False)
        return lambda: layer(x)[0]
    for N, T, Fi, H in ((64, 28, 28, 64), (32, 100, 256, 256)):
        s = f"N={N} T={T} F={Fi} H={H}"
        add(f"lstm {s} fwd", False, lambda N=N, T=T, Fi=Fi, H=H: lstm(N, T, Fi, H, False))
        add(f"lstm {s} fwd+bwd", True, lambda N=N, T=T, Fi=Fi, H=H: lstm(N, T, Fi, H, True))

    def attn(shape, causal, backward):
        q, k, v = n(*shape), n(*shape), n(*shape)
        if backward:
            grad(q), grad(k), grad(v)
        return lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal)
    add("attention 8x4x128x32 causal fwd", False, lambda: attn((8, 4, 128, 32), True, False))
    add("attention 8x4x128x32 causal fwd+bwd", True, lambda: attn((8, 4, 128, 32), True, True))
    add("attention 4x8x1024x64 fwd", False, lambda: attn((4, 8, 1024, 64), False, False))

    def ln():
        x, gamma, beta = grad(n(4096, 128)), grad(torch.ones(128)), grad(torch.zeros(128))
        return lambda: F.layer_norm(x, (128,), gamma, beta, 1e-5)
    add("layer_norm 4096x128 fwd+bwd", True, ln)

    def reparameterize():
        mu, lv = grad(n(1024, 1024)), grad(0.1 * n(1024, 1024))
        lv.data = lv.data  # a leaf
        return lambda: mu + torch.exp(0.5 * lv) * torch.randn(mu.shape, generator=g)
    add("reparameterize 1M fwd+bwd", True, reparameterize)

    def kl():
        mu, lv = grad(n(1024, 1024)), grad((0.1 * n(1024, 1024)).detach())
        return lambda: -0.5 * torch.sum(1 + lv - mu * mu - lv.exp()) / 1024
    add("gaussian_kl 1M fwd+bwd", True, kl)

    def transposed(shape, a, b):
        x = n(*shape)
        return lambda: x.transpose(a, b).contiguous()  # a dense copy, as Kiln's
    add("transpose 1024x1024", False, lambda: transposed((1024, 1024), 0, 1))
    add("transpose 32x128x8x64 (1,2)", False, lambda: transposed((32, 128, 8, 64), 1, 2))
    return c


def measure(make, backward, samples, sample_ms):
    fn = make()

    def run():
        if backward:
            out = fn()
            (out if out.numel() == 1 else out.sum()).backward()
        else:
            with torch.no_grad():
                fn()
    run()
    t0, warm = time.perf_counter(), 0
    while (time.perf_counter() - t0) * 1e3 < sample_ms or warm < 3:
        run()
        warm += 1
    per_run = (time.perf_counter() - t0) * 1e3 / warm
    runs = max(1, int(-(-sample_ms // max(per_run, 1e-6))))
    ms = []
    for _ in range(samples):
        t = time.perf_counter()
        for _ in range(runs):
            run()
        ms.append((time.perf_counter() - t) * 1e3 / runs)
    ms.sort()
    return {"median_ms": ms[len(ms) // 2], "min_ms": ms[0], "max_ms": ms[-1], "runs_per_sample": runs}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--json")
    p.add_argument("--samples", type=int, default=7)
    p.add_argument("--sample-ms", type=float, default=25)
    p.add_argument("--threads", type=int, default=peer_env.THREADS)
    p.add_argument("--only", nargs="*")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    results = []
    for name, (make, backward) in cases().items():
        if a.only and name not in a.only:
            continue
        r = measure(make, backward, a.samples, a.sample_ms)
        r["name"] = name
        results.append(r)
        print(f"| {name} | {r['median_ms']:.4f} | {r['min_ms']:.4f}-{r['max_ms']:.4f} |", flush=True)
    doc = {"torch": torch.__version__, "threads": torch.get_num_threads(), "load_average": os.getloadavg()[0],
           "results": results}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
