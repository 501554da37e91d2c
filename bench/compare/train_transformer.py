#!/usr/bin/env python3
"""The two Transformer tasks, Kiln vs PyTorch 2.x, in the same run, on the same data and architecture:
    bench/compare/train_transformer.py [transformer charlm] [--steps N] [--repeat R] [--peer-only]
transformer: encoder-decoder (2 + 2 pre-norm layers, d_model 128, 4 heads, feed-forward 512, GELU, sinusoidal
  positions, shared embedding), reversing strings of 8-16 digits, teacher forcing, Adam 1e-3, batch 64; exact match
  of greedy decodes on 1,000 held-out strings.
charlm: decoder-only (4 pre-norm layers, same widths, learned positions, context 128) on the Debian fortunes (files
  without an extension, name order, last 10% held out), Adam 1e-3, batch 32; validation bits per character.
Both sides count training tokens/s the same way (transformer: batch x (16 + 17) positions; charlm: batch x 128) and
time only the training steps. The table gives each side's rate, the ratio (Kiln / PyTorch) per repeat with its
spread, the load average, and each side's final metric.
Run with a venv that has PyTorch 2.x (CPU wheel from PyTorch's index):
    V/bin/python bench/compare/train_transformer.py
"""
import argparse
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time

import peer_env  # noqa: E402  (before torch: see peer_env.py)

peer_env.prepare()

import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
PAD, BOS, EOS, DIGIT0, VOCAB, MAX_DIGITS = 0, 1, 2, 3, 13, 16
TARGET = MAX_DIGITS + 1


class Attention(nn.Module):
    """Kiln's MultiHeadAttention: fused qkv (self) or q + fused kv (cross), then out."""

    def __init__(self, d, heads, cross):
        super().__init__()
        self.heads, self.cross = heads, cross
        if cross:
            self.q, self.kv = nn.Linear(d, d), nn.Linear(d, 2 * d)
        else:
            self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x, memory=None, causal=False, key_lengths=None):
        n, t, d = x.shape
        h = self.heads
        if self.cross:
            q = self.q(x).view(n, t, h, d // h).transpose(1, 2)
            k, v = self.kv(memory).view(n, memory.shape[1], 2, h, d // h).permute(2, 0, 3, 1, 4)
        else:
            q, k, v = self.qkv(x).view(n, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        mask = None
        if key_lengths is not None:
            s = k.shape[2]
            mask = (torch.arange(s)[None, :] < key_lengths[:, None])[:, None, None, :]
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=causal and mask is None)
        return self.out(y.transpose(1, 2).reshape(n, t, d))


class FeedForward(nn.Module):
    def __init__(self, d, hidden):
        super().__init__()
        self.linear1, self.linear2 = nn.Linear(d, hidden), nn.Linear(hidden, d)

    def forward(self, x):
        return self.linear2(F.gelu(self.linear1(x)))


class Block(nn.Module):
    """Pre-norm: self-attention, optional cross-attention, feed-forward, each in a residual branch."""

    def __init__(self, d, heads, hidden, cross):
        super().__init__()
        self.norm1, self.self_attn = nn.LayerNorm(d), Attention(d, heads, False)
        self.cross = cross
        if cross:
            self.norm2, self.cross_attn = nn.LayerNorm(d), Attention(d, heads, True)
        self.norm3, self.ff = nn.LayerNorm(d), FeedForward(d, hidden)

    def forward(self, x, causal, key_lengths=None, memory=None, memory_lengths=None):
        x = x + self.self_attn(self.norm1(x), causal=causal, key_lengths=key_lengths)
        if self.cross:
            x = x + self.cross_attn(self.norm2(x), memory=memory, key_lengths=memory_lengths)
        return x + self.ff(self.norm3(x))


def sinusoidal(length, d, start=0):
    pos = torch.arange(start, start + length, dtype=torch.float32)[:, None]
    i = torch.arange(0, d, 2, dtype=torch.float32)
    w = torch.pow(10000.0, -i / d)
    pe = torch.zeros(length, d)
    pe[:, 0::2] = torch.sin(pos * w)
    pe[:, 1::2] = torch.cos(pos * w)[:, : d // 2]
    return pe


class Seq2Seq(nn.Module):
    def __init__(self, d=128, heads=4, hidden=512, layers=2):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d)
        self.encoder = nn.ModuleList(Block(d, heads, hidden, False) for _ in range(layers))
        self.encoder_norm = nn.LayerNorm(d)
        self.decoder = nn.ModuleList(Block(d, heads, hidden, True) for _ in range(layers))
        self.decoder_norm = nn.LayerNorm(d)
        self.head = nn.Linear(d, VOCAB)

    def encode(self, src, lengths):
        x = self.embed(src) + sinusoidal(src.shape[1], self.embed.embedding_dim)
        for b in self.encoder:
            x = b(x, False, key_lengths=lengths)
        return self.encoder_norm(x)

    def decode(self, tgt, memory, lengths, start=0):
        x = self.embed(tgt) + sinusoidal(tgt.shape[1], self.embed.embedding_dim, start)
        for b in self.decoder:
            x = b(x, True, memory=memory, memory_lengths=lengths)
        return self.head(self.decoder_norm(x))

    def forward(self, src, lengths, tgt_in):
        return self.decode(tgt_in, self.encode(src, lengths), lengths)


class CharLm(nn.Module):
    def __init__(self, vocab, d=128, heads=4, hidden=512, layers=4, context=128):
        super().__init__()
        self.embed, self.pos = nn.Embedding(vocab, d), nn.Embedding(context, d)
        self.blocks = nn.ModuleList(Block(d, heads, hidden, False) for _ in range(layers))
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, vocab)

    def forward(self, tokens):
        x = self.embed(tokens) + self.pos(torch.arange(tokens.shape[1]))
        for b in self.blocks:
            x = b(x, True)
        return self.head(self.norm(x))


def digit_batch(strings):
    n = len(strings)
    src = torch.zeros(n, MAX_DIGITS, dtype=torch.long)
    lengths = torch.zeros(n, dtype=torch.long)
    tin = torch.zeros(n, TARGET, dtype=torch.long)
    tout = torch.zeros(n, TARGET, dtype=torch.long)
    for i, s in enumerate(strings):
        lengths[i] = len(s)
        src[i, : len(s)] = torch.tensor(s) + DIGIT0
        rev = torch.tensor(s[::-1]) + DIGIT0
        tout[i, : len(s)] = rev
        tout[i, len(s)] = EOS
        tin[i, 0] = BOS
        tin[i, 1: len(s) + 1] = rev[: TARGET - 1]
    return src, lengths, tin, tout


def torch_transformer(steps, seed=42):
    torch.manual_seed(seed)
    rnd = random.Random(seed + 1_000_003)
    held = []
    seen = set()
    while len(held) < 1000:
        s = [rnd.randrange(10) for _ in range(rnd.randint(8, 16))]
        if tuple(s) not in seen:
            seen.add(tuple(s))
            held.append(s)
    train = random.Random(seed)
    model = Seq2Seq()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds, tokens, loss_v = 0.0, 0, float("nan")
    for _ in range(steps):
        strings = []
        while len(strings) < 64:
            s = [train.randrange(10) for _ in range(train.randint(8, 16))]
            if tuple(s) not in seen:
                strings.append(s)
        src, lengths, tin, tout = digit_batch(strings)
        t0 = time.perf_counter()
        logits = model(src, lengths, tin)
        loss = F.cross_entropy(logits.reshape(-1, VOCAB), tout.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        seconds += time.perf_counter() - t0
        tokens += 64 * (MAX_DIGITS + TARGET)
        loss_v = loss.item()
    model.eval()
    correct = 0
    with torch.no_grad():
        for i in range(0, 1000, 250):
            part = held[i:i + 250]
            src, lengths, _, _ = digit_batch(part)
            memory = model.encode(src, lengths)
            out = torch.full((len(part), 1), BOS, dtype=torch.long)
            for _ in range(TARGET):  # no cache here: the peer's decode is not timed
                nxt = model.decode(out, memory, lengths)[:, -1].argmax(-1, keepdim=True)
                out = torch.cat([out, nxt], 1)
            for j, s in enumerate(part):
                seq = out[j, 1:].tolist()
                seq = seq[: seq.index(EOS)] if EOS in seq else seq
                correct += seq == [d + DIGIT0 for d in s[::-1]]
    return tokens / seconds, {"exact_match": correct / 1000, "loss": round(loss_v, 4)}


def fortunes():
    d = "/usr/share/games/fortunes"
    names = sorted(f for f in os.listdir(d) if "." not in f and os.path.isfile(os.path.join(d, f)))
    text = "".join(open(os.path.join(d, f), "rb").read().decode("utf-8", "replace") for f in names)
    alphabet = sorted(set(text))
    index = {c: i for i, c in enumerate(alphabet)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.long)
    split = int(len(ids) * 0.9)
    return ids[:split], ids[split:], len(alphabet)


def torch_charlm(steps, seed=42, context=128, batch=32):
    torch.manual_seed(seed)
    train, val, vocab = fortunes()
    g = torch.Generator().manual_seed(seed)
    model = CharLm(vocab)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    seconds, tokens = 0.0, 0
    for _ in range(steps):
        starts = torch.randint(0, len(train) - context, (batch,), generator=g)
        w = torch.stack([train[s:s + context + 1] for s in starts.tolist()])
        t0 = time.perf_counter()
        logits = model(w[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, vocab), w[:, 1:].reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
        seconds += time.perf_counter() - t0
        tokens += batch * context
    model.eval()
    count = len(val) // (context + 1)
    windows = val[: count * (context + 1)].view(count, context + 1)
    nats = 0.0
    with torch.no_grad():
        for i in range(0, count, 64):
            w = windows[i:i + 64]
            nats += F.cross_entropy(model(w[:, :-1]).reshape(-1, vocab), w[:, 1:].reshape(-1)).item() * len(w)
    return tokens / seconds, {"bits_per_character": round(nats / count / math.log(2), 3)}


def kiln(name, steps):
    out = tempfile.mkdtemp(prefix="kiln-bench-")
    subprocess.run([os.environ.get("KILN_BIN", os.path.join(ROOT, "kiln")), "train", name, "--device", "cpu",
                    "--steps", str(steps), "--out", out], check=True, stdout=subprocess.DEVNULL)
    with open(os.path.join(out, "metrics.json")) as f:
        m = json.load(f)
    keep = {k: round(m[k], 3) for k in ("exact_match", "bits_per_character") if k in m}
    return m["train_tokens_per_second"], keep


def main():
    p = argparse.ArgumentParser()
    p.add_argument("models", nargs="*", default=["transformer", "charlm"])
    p.add_argument("--steps", type=int, default=0, help="steps per run (default: the recipe's, 1500 / 1000)")
    p.add_argument("--repeat", type=int, default=1)
    p.add_argument("--peer-only", action="store_true")
    a = p.parse_args()
    torch.set_num_threads(peer_env.THREADS)
    peers = {"transformer": (torch_transformer, 1500), "charlm": (torch_charlm, 1000)}
    print(f"PyTorch {torch.__version__}, {torch.get_num_threads()} threads; {a.repeat} repeat(s)")
    print("| model | run | steps | kiln tokens/s | pytorch tokens/s | kiln/pytorch | load avg | kiln | pytorch |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in a.models:
        fn, default_steps = peers[name]
        steps = a.steps or default_steps
        ratios = []
        for r in range(a.repeat):
            ks, km = (float("nan"), {}) if a.peer_only else kiln(name, steps)
            ts, tm = fn(steps)
            ratios.append(ks / ts)
            print(f"| {name} | {r + 1} | {steps} | {ks:,.0f} | {ts:,.0f} | {ks / ts:.2f}x | {os.getloadavg()[0]:.2f} "
                  f"| {km} | {tm} |", flush=True)
        if not a.peer_only:
            print(f"| {name} | median | | | | {statistics.median(ratios):.2f}x (spread {min(ratios):.2f}-"
                  f"{max(ratios):.2f}x) | | | |")


if __name__ == "__main__":
    main()
