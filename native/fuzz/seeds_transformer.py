#!/usr/bin/env python3
# Writes the seed inputs of native/fuzz/corpus for the transformer families (fuzz_transformer.cpp): one valid call per
# entry, forward then backward, encoded byte by byte in the order the harness reads them (family 255, its sub-selector,
# the context, sizes, descriptor fields, then each operand's pointer choice and fill mode). Regenerate after changing
# those reads: python3 native/fuzz/seeds_transformer.py native/fuzz/corpus (files are named by their SHA-1, as
# libFuzzer names them).
import hashlib, os, struct, sys

class Enc:
    def __init__(self): self.b = bytearray()
    def u8(self, v): self.b.append(v & 0xff)
    def u64(self, v): self.b += struct.pack('<Q', v)
    def size(self, v):
        if 0 <= v <= 8: self.u8(v)
        elif 9 <= v <= 64: self.u8(160); self.u8(v - 9)
        else: raise ValueError(v)
    def yes(self): self.u8(0)      # one_in(n) true
    def no(self): self.u8(1)       # one_in(n) false
    def ctx(self, i=0): self.u8(i)
    def fresh(self, mode=1): self.u8(100); self.u8(mode)   # a fresh exact block, filled (mode 1: ints in range)
    def fresh_bf16(self, count, mode=1):
        self.fresh(mode)
        if count > 0: self.u8(mode)
    def family(self, sub): self.u8(255); self.u8(sub)

def attention(e, which, b, h, tq, tk, d, causal=1, lengths=True, dropout_byte=0, layout=(0, 0, 0, 0)):
    e.family(1); e.u8(which); e.ctx()
    e.size(b); e.size(h); e.size(tq)
    if tk == tq: e.yes()
    else: e.no(); e.size(tk)
    assert 1 <= d <= 16; e.u8(d - 1)
    e.u8(layout[0]); e.u8(layout[1])
    if layout[2] is None: e.yes()
    else: e.no(); e.u8(layout[2])
    if layout[3] is None: e.yes()
    else: e.no(); e.u8(layout[3])
    e.no()                 # scale: 1/sqrt(d)
    e.no(); e.u8(causal)   # causal
    e.u8(dropout_byte)     # < 128: no dropout; 128 + k (k < 10): k / 10
    e.u64(0x5eed); e.no(); e.u64(77)
    e.no()                 # desc not null
    bf16 = which >= 2
    def span(layout_kind, t):
        if layout_kind == 0 or layout_kind is None: return b * h * t * d
        if layout_kind == 3: return b * t * h * d
        if layout_kind == 4: return b * t * 3 * h * d - 2 * h * d
        if layout_kind == 5: return b * t * d
        raise ValueError
    nq, nk = span(layout[0], tq), span(layout[1], tk)
    nv = nk if layout[2] is None else span(layout[2], tk)
    no = nq if layout[3] is None else span(layout[3], tq)
    if lengths: e.no(); e.fresh(1)
    else: e.yes()
    def operand(n):
        if bf16: e.fresh_bf16(n, 2)
        else: e.fresh(2)
    if which in (0, 2):
        operand(nq); operand(nk); operand(nv)
        e.fresh(2)   # o (output: fresh block, its fill is not read)
        e.fresh(2)   # lse
    else:
        operand(nq); operand(nk); operand(nv); operand(no); operand(no)
        e.fresh(2)   # lse
        for _ in range(3): e.no(); e.fresh(2)

def layer_norm(e, backward, rows, cols):
    e.family(2)
    if backward: e.yes()
    else: e.no()
    e.ctx(); e.size(rows); e.size(cols); e.no()
    e.fresh(2)   # x
    if not backward:
        e.no(); e.fresh(2); e.no(); e.fresh(2)   # gamma, beta
        e.no(); e.fresh(2)                       # y
        e.no(); e.fresh(2); e.no(); e.fresh(2)   # mean, rstd
    else:
        e.fresh(2)                               # dy
        e.no(); e.fresh(2)                       # gamma
        e.fresh(2); e.fresh(2)                   # mean, rstd
        for _ in range(3): e.no(); e.fresh(2)    # dx, dgamma, dbeta

def embedding(e, which, n=0, vocab=0, dim=0, length=0, start=0):
    e.family(3); e.u8(which); e.ctx()
    if which == 2:
        e.size(length); e.size(dim); e.no(); e.u8(start); e.fresh(2); return
    e.size(n); e.size(vocab); e.size(dim)
    e.fresh(1)   # indices, in range
    e.fresh(2); e.fresh(2)

def bias_gelu(e, backward, rows, cols):
    e.family(4)
    if backward: e.yes()
    else: e.no()
    e.ctx(); e.size(rows); e.size(cols)
    e.fresh(2); e.fresh(2)
    if not backward: e.no(); e.fresh(2)
    else:
        e.fresh(2); e.no(); e.fresh(2); e.no(); e.fresh(2)

def convert(e, widen, n, mode=6):
    e.family(0)
    if widen: e.yes()
    else: e.no()
    e.ctx(); e.size(n)
    if widen: e.fresh_bf16(n, mode); e.fresh(2)
    else: e.fresh(mode); e.fresh(2)

def copy_2d(e, width, rows, extra_d, extra_s):
    e.family(5); e.ctx(); e.size(width); e.size(rows)
    e.no(); e.u8(extra_d); e.no(); e.u8(extra_s)
    e.no()   # not the same block
    e.fresh(2); e.fresh(2)

seeds = {}
e = Enc(); attention(e, 0, 2, 3, 5, 5, 8); attention(e, 1, 2, 3, 5, 5, 8); seeds['attention-f32-causal'] = e
e = Enc(); attention(e, 0, 1, 2, 3, 7, 4, causal=0, lengths=False, dropout_byte=131, layout=(3, 3, None, 3))
attention(e, 1, 1, 2, 3, 7, 4, causal=0, lengths=False, dropout_byte=131, layout=(3, 3, None, 3)); seeds['attention-f32-dropout-token-major'] = e
e = Enc(); attention(e, 2, 2, 2, 4, 6, 16, causal=1, layout=(0, 5, 5, None)); attention(e, 3, 2, 2, 4, 6, 16, causal=1, layout=(0, 5, 5, None)); seeds['attention-bf16-shared-kv'] = e
e = Enc(); attention(e, 2, 1, 3, 1, 9, 8, causal=1, lengths=True); attention(e, 3, 1, 3, 1, 9, 8, causal=1); seeds['attention-bf16-decode'] = e
e = Enc(); layer_norm(e, False, 4, 33); layer_norm(e, True, 4, 33); seeds['layer-norm'] = e
e = Enc(); embedding(e, 0, n=7, vocab=5, dim=6); embedding(e, 1, n=7, vocab=5, dim=6); embedding(e, 2, length=8, dim=7, start=3); seeds['embedding-positions'] = e
e = Enc(); bias_gelu(e, False, 3, 17); bias_gelu(e, True, 3, 17); seeds['bias-gelu'] = e
e = Enc(); convert(e, False, 37); convert(e, True, 37); copy_2d(e, 12, 5, 3, 0); seeds['convert-copy-2d'] = e

out = sys.argv[1] if len(sys.argv) > 1 else "native/fuzz/corpus"
os.makedirs(out, exist_ok=True)
for name, enc in seeds.items():
    data = bytes(enc.b)
    digest = hashlib.sha1(data).hexdigest()
    open(os.path.join(out, digest), 'wb').write(data)
    print(digest, name, len(data), 'bytes')
