// AVX-512 tile transforms of the Winograd F(2x2, 3x3) conv2d (conv2d_winograd.h): one chunk of up to 16 tiles per
// vector, half a's tiles in lanes 0..7 and half b's in lanes 8..15. Compiled with -mavx512f etc.; called only after
// the dispatch saw AVX-512.
//
// Neighbouring tiles' input patches overlap by two columns: tile j of a half needs columns 2 j + {0, 1, 2, 3} from the
// half's patch start. One masked 16-column load per half and a two-source permute give the even (2 j) or odd
// (2 j + 1) columns of both halves at once; the same from two columns further on gives 2 j + 2 and 2 j + 3. The masks
// also produce the zero padding: lanes outside the image are never read and come out 0, so no padded copy of the
// input is made. Where half a is short of 8 tiles, the lanes are compressed to contiguous slots on the way out (and
// expanded on the way in).
// What depends only on the chunk (masks, offsets, which rows exist) is worked out once per call, and the channel loop
// runs over it; the next channels' rows are prefetched, since a block reads a few short rows from every plane, a
// pattern the hardware prefetchers do not follow.
#include <immintrin.h>

#include <cstdint>

#include "cpu/conv2d_winograd.h"

namespace kiln::cpu::winograd {
namespace {

constexpr int kPrefetchChannels = 2;       // how far ahead the input's rows are fetched
constexpr int64_t kPrefetchMinPlane = 1024;  // floats: planes from 32 x 32 up
constexpr int64_t kBatch = 64;        // chunks prepared at a time (stack arrays)

// Lanes l with 0 <= start + l < limit.
inline __mmask16 inside(int64_t start, int64_t limit) {
    const int64_t lo = start < 0 ? -start : 0, hi = limit - start < 16 ? limit - start : 16;
    if (hi <= lo) return 0;
    return static_cast<__mmask16>(((1u << hi) - 1) & ~((1u << lo) - 1));
}

// The first n lanes (n may be <= 0 or > 16).
inline __mmask16 first(int64_t n) {
    return n >= 16 ? static_cast<__mmask16>(0xFFFF) : static_cast<__mmask16>((1u << (n > 0 ? n : 0)) - 1);
}

inline __m512 load(__mmask16 m, const float* p) { return m ? _mm512_maskz_loadu_ps(m, p) : _mm512_setzero_ps(); }

inline __m512 even_of(__m512 lo, __m512 hi) {
    const __m512i idx = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    return _mm512_permutex2var_ps(lo, idx, hi);
}
inline __m512 odd_of(__m512 lo, __m512 hi) {
    const __m512i idx = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27, 29, 31);
    return _mm512_permutex2var_ps(lo, idx, hi);
}

int64_t row_offset(const Layout& lay, int64_t row) {
    return row / lay.row_group * lay.row_group_stride + row % lay.row_group * lay.row_stride;
}

// ---- the chunk's lanes ------------------------------------------------------------------------------------------

struct Lanes {
    __mmask16 used;  // lanes holding tiles: a's, then b's from lane 8
    __mmask16 out;   // the same count of contiguous slots
    bool gaps;       // a is short of 8 tiles and b has some: lanes and slots differ
};

Lanes lanes_of(const Chunk& ch) {
    Lanes l;
    l.used = static_cast<__mmask16>(first(ch.a.n) | (first(ch.b.n) << 8));
    l.out = first(ch.a.n + ch.b.n);
    l.gaps = ch.a.n < 8 && ch.b.n > 0;
    return l;
}

// v's used lanes stored to consecutive floats at o.
inline void store_slots(float* o, const Lanes& l, __m512 v) {
    _mm512_mask_storeu_ps(o, l.out, l.gaps ? _mm512_maskz_compress_ps(l.used, v) : v);
}

// ---- input: V = B^T d B ---------------------------------------------------------------------------------------

// One half's window on the input rows: columns col0 + {0..15} and col0 + 2 + {0..15} of rows row0 + {0..3}.
struct InWindow {
    int64_t src;          // (row0, col0) in the plane set; may point before the plane where masks exclude it
    __mmask16 m0[4], m2[4];  // per row: columns inside the plane (0 for rows outside it, or an empty half)
};

InWindow window_of(const Half& h, const Planes& xp, int pad_h, int pad_w) {
    InWindow win;
    const int64_t row0 = 2 * int64_t(h.tr) - pad_h, col0 = 2 * int64_t(h.tc) - pad_w;
    win.src = h.img * xp.img_stride + row0 * xp.cols + col0;
    const __mmask16 m0 = h.n ? inside(col0, xp.cols) : 0, m2 = h.n ? inside(col0 + 2, xp.cols) : 0;
    for (int i = 0; i < 4; ++i) {
        const bool in = row0 + i >= 0 && row0 + i < xp.rows;
        win.m0[i] = in ? m0 : 0;
        win.m2[i] = in ? m2 : 0;
    }
    return win;
}

struct InPrep {
    InWindow a, b;
    int64_t dst;  // the chunk's slot offset in the layout
    Lanes lanes;
};

void input_batch(const float* x, const Planes& xp, int pad_h, int pad_w, const Chunk* chunks, int64_t nchunks,
                 float* dst, const Layout& lay) {
    InPrep prep[kBatch];
    for (int64_t u = 0; u < nchunks; ++u) {
        prep[u].a = window_of(chunks[u].a, xp, pad_h, pad_w);
        prep[u].b = window_of(chunks[u].b, xp, pad_h, pad_w);
        prep[u].dst = lay.at(0, chunks[u].slot);
        prep[u].lanes = lanes_of(chunks[u]);
    }
    const int64_t xs = lay.xi_stride, pf = kPrefetchChannels * xp.ch_stride;
    for (int64_t c = 0; c < xp.channels; ++c) {
        const float* plane = x + c * xp.ch_stride;
        float* out = dst + row_offset(lay, c);
        // Small planes sit back to back, a stream the hardware follows by itself; prefetching them only costs.
        const bool ahead = xp.ch_stride >= kPrefetchMinPlane && c + kPrefetchChannels < xp.channels;
        for (int64_t u = 0; u < nchunks; ++u) {
            const InPrep& p = prep[u];
            // The row pass B^T d, accumulated as the rows arrive: t_i[k] is element (i, k) of B^T d.
            __m512 t0[4], t1[4], t2[4], t3[4];
            for (int k = 0; k < 4; ++k) t0[k] = t1[k] = t2[k] = t3[k] = _mm512_setzero_ps();
            for (int i = 0; i < 4; ++i) {
                if (!(p.a.m0[i] | p.a.m2[i] | p.b.m0[i] | p.b.m2[i])) continue;
                const float* ra = plane + p.a.src + i * xp.cols;
                const float* rb = plane + p.b.src + i * xp.cols;
                if (ahead) {
                    if (p.a.m0[i] | p.a.m2[i]) {
                        _mm_prefetch(reinterpret_cast<const char*>(ra + pf), _MM_HINT_T0);
                        _mm_prefetch(reinterpret_cast<const char*>(ra + pf + 17), _MM_HINT_T0);
                    }
                    if (p.b.m0[i] | p.b.m2[i]) _mm_prefetch(reinterpret_cast<const char*>(rb + pf + 17), _MM_HINT_T0);
                }
                const __m512 lo = load(p.a.m0[i], ra), hi = load(p.b.m0[i], rb);
                const __m512 lo2 = load(p.a.m2[i], ra + 2), hi2 = load(p.b.m2[i], rb + 2);
                const __m512 d[4] = {even_of(lo, hi), odd_of(lo, hi), even_of(lo2, hi2), odd_of(lo2, hi2)};
                for (int k = 0; k < 4; ++k) {
                    switch (i) {  // B^T rows: (1 0 -1 0), (0 1 1 0), (0 -1 1 0), (0 1 0 -1)
                        case 0: t0[k] = _mm512_add_ps(t0[k], d[k]); break;
                        case 1:
                            t1[k] = _mm512_add_ps(t1[k], d[k]);
                            t2[k] = _mm512_sub_ps(t2[k], d[k]);
                            t3[k] = _mm512_add_ps(t3[k], d[k]);
                            break;
                        case 2:
                            t0[k] = _mm512_sub_ps(t0[k], d[k]);
                            t1[k] = _mm512_add_ps(t1[k], d[k]);
                            t2[k] = _mm512_add_ps(t2[k], d[k]);
                            break;
                        default: t3[k] = _mm512_sub_ps(t3[k], d[k]); break;
                    }
                }
            }
            float* o = out + p.dst;
            const __m512* rows[4] = {t0, t1, t2, t3};
            for (int i = 0; i < 4; ++i, o += 4 * xs) {  // the column pass, B^T along each row, out to xi = 4 i + k
                const __m512* t = rows[i];
                store_slots(o, p.lanes, _mm512_sub_ps(t[0], t[2]));
                store_slots(o + xs, p.lanes, _mm512_add_ps(t[1], t[2]));
                store_slots(o + 2 * xs, p.lanes, _mm512_sub_ps(t[2], t[1]));
                store_slots(o + 3 * xs, p.lanes, _mm512_sub_ps(t[1], t[3]));
            }
        }
    }
}

void input(const float* x, Planes xp, int pad_h, int pad_w, const Chunk* chunks, int64_t nchunks, float* dst,
           Layout lay) {
    for (int64_t u = 0; u < nchunks; u += kBatch)
        input_batch(x, xp, pad_h, pad_w, chunks + u, nchunks - u < kBatch ? nchunks - u : kBatch, dst, lay);
}

// ---- output: y = A^T M A + bias ---------------------------------------------------------------------------------

// One half's outputs: rows 2 tr + {0, 1}, columns 2 tc + {0..15}.
struct OutWindow {
    int64_t dst;             // (2 tr, 2 tc) in the plane set
    __mmask16 cols[2];       // per output row: the half's columns below q (0 for rows at or past p)
};

OutWindow out_window_of(const Half& h, const Planes& yp) {
    OutWindow win;
    const int64_t oh0 = 2 * int64_t(h.tr), col = 2 * int64_t(h.tc);
    win.dst = h.img * yp.img_stride + oh0 * yp.cols + col;
    const __mmask16 m = first(yp.cols - col < 2 * h.n ? yp.cols - col : 2 * h.n);
    for (int a = 0; a < 2; ++a) win.cols[a] = oh0 + a < yp.rows ? m : 0;
    return win;
}

struct OutPrep {
    int64_t src;  // the chunk's slot offset in M's layout
    OutWindow a, b;
    Lanes lanes;
};

void output_batch(const float* m, const Layout& lay, const Chunk* chunks, int64_t nchunks, const float* bias,
                  float* y, const Planes& yp) {
    OutPrep prep[kBatch];
    for (int64_t u = 0; u < nchunks; ++u) {
        prep[u].src = lay.at(0, chunks[u].slot);
        prep[u].a = out_window_of(chunks[u].a, yp);
        prep[u].b = out_window_of(chunks[u].b, yp);
        prep[u].lanes = lanes_of(chunks[u]);
    }
    const __m512i ilo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
    const __m512i ihi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
    const int64_t xs = lay.xi_stride;
    for (int64_t k = 0; k < yp.channels; ++k) {
        const float* mk = m + row_offset(lay, k);
        float* plane = y + k * yp.ch_stride;
        const __m512 vb = _mm512_set1_ps(bias ? bias[k] : 0.0f);
        for (int64_t u = 0; u < nchunks; ++u) {
            const OutPrep& p = prep[u];
            const float* src = mk + p.src;  // whole vectors from the chunk's first slot (M has slack at its end)
            // A^T M: s0 = M0 + M1 + M2, s1 = M1 - M2 - M3 (rows of M), column by column.
            __m512 s0[4], s1[4];
            for (int k4 = 0; k4 < 4; ++k4) {
                const __m512 m0 = _mm512_loadu_ps(src + (0 + k4) * xs), m1 = _mm512_loadu_ps(src + (4 + k4) * xs);
                const __m512 m2 = _mm512_loadu_ps(src + (8 + k4) * xs), m3 = _mm512_loadu_ps(src + (12 + k4) * xs);
                s0[k4] = _mm512_add_ps(_mm512_add_ps(m0, m1), m2);
                s1[k4] = _mm512_sub_ps(_mm512_sub_ps(m1, m2), m3);
            }
            for (int a = 0; a < 2; ++a) {
                if (!(p.a.cols[a] | p.b.cols[a])) continue;
                const __m512* s = a == 0 ? s0 : s1;
                __m512 y0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(s[0], s[1]), s[2]), vb);
                __m512 y1 = _mm512_add_ps(_mm512_sub_ps(_mm512_sub_ps(s[1], s[2]), s[3]), vb);
                if (p.lanes.gaps) {  // slots back to lanes: b's tiles to lane 8 on
                    y0 = _mm512_maskz_expand_ps(p.lanes.used, y0);
                    y1 = _mm512_maskz_expand_ps(p.lanes.used, y1);
                }
                // Columns 2 j and 2 j + 1 interleaved: lanes 0..7 (half a) and 8..15 (half b), 16 floats each.
                if (p.a.cols[a])
                    _mm512_mask_storeu_ps(plane + p.a.dst + a * yp.cols, p.a.cols[a], _mm512_permutex2var_ps(y0, ilo, y1));
                if (p.b.cols[a])
                    _mm512_mask_storeu_ps(plane + p.b.dst + a * yp.cols, p.b.cols[a], _mm512_permutex2var_ps(y0, ihi, y1));
            }
        }
    }
}

void output(const float* m, Layout lay, const Chunk* chunks, int64_t nchunks, const float* bias, float* y,
            Planes yp) {
    for (int64_t u = 0; u < nchunks; u += kBatch)
        output_batch(m, lay, chunks + u, nchunks - u < kBatch ? nchunks - u : kBatch, bias, y, yp);
}

// ---- grad_output: dM = A dY A^T ----------------------------------------------------------------------------------

// One half's dy window: rows 2 tr + {0, 1}, columns 2 tc + {0..15}.
struct GradWindow {
    int64_t src;
    __mmask16 cols[2];  // per row: columns inside the plane (0 for rows past it, or an empty half)
};

GradWindow grad_window_of(const Half& h, const Planes& dp) {
    GradWindow win;
    const int64_t oh0 = 2 * int64_t(h.tr), col = 2 * int64_t(h.tc);
    win.src = h.img * dp.img_stride + oh0 * dp.cols + col;
    const __mmask16 m = h.n ? inside(col, dp.cols) : 0;
    for (int a = 0; a < 2; ++a) win.cols[a] = oh0 + a < dp.rows ? m : 0;
    return win;
}

struct GradPrep {
    GradWindow a, b;
    int64_t dst;
    Lanes lanes;
};

void grad_output_batch(const float* dy, const Planes& dp, const Chunk* chunks, int64_t nchunks, float* dst,
                       const Layout& lay) {
    GradPrep prep[kBatch];
    for (int64_t u = 0; u < nchunks; ++u) {
        prep[u].a = grad_window_of(chunks[u].a, dp);
        prep[u].b = grad_window_of(chunks[u].b, dp);
        prep[u].dst = lay.at(0, chunks[u].slot);
        prep[u].lanes = lanes_of(chunks[u]);
    }
    const int64_t xs = lay.xi_stride;
    const __m512 zero = _mm512_setzero_ps();
    for (int64_t k = 0; k < dp.channels; ++k) {
        const float* plane = dy + k * dp.ch_stride;
        float* out = dst + row_offset(lay, k);
        for (int64_t u = 0; u < nchunks; ++u) {
            const GradPrep& p = prep[u];
            // e[a][b] = dy(2 tr + a, 2 (tc + j) + b) of each lane's tile, 0 outside the plane.
            __m512 e[2][2];
            for (int a = 0; a < 2; ++a) {
                const __m512 lo = load(p.a.cols[a], plane + p.a.src + a * dp.cols);
                const __m512 hi = load(p.b.cols[a], plane + p.b.src + a * dp.cols);
                e[a][0] = even_of(lo, hi);
                e[a][1] = odd_of(lo, hi);
            }
            // A = (1 0; 1 1; 1 -1; 0 -1): z = A e (rows), then dM = z A^T (columns).
            __m512 z[4][2];
            for (int b = 0; b < 2; ++b) {
                z[0][b] = e[0][b];
                z[1][b] = _mm512_add_ps(e[0][b], e[1][b]);
                z[2][b] = _mm512_sub_ps(e[0][b], e[1][b]);
                z[3][b] = _mm512_sub_ps(zero, e[1][b]);
            }
            float* o = out + p.dst;
            for (int i = 0; i < 4; ++i) {
                store_slots(o + (4 * i + 0) * xs, p.lanes, z[i][0]);
                store_slots(o + (4 * i + 1) * xs, p.lanes, _mm512_add_ps(z[i][0], z[i][1]));
                store_slots(o + (4 * i + 2) * xs, p.lanes, _mm512_sub_ps(z[i][0], z[i][1]));
                store_slots(o + (4 * i + 3) * xs, p.lanes, _mm512_sub_ps(zero, z[i][1]));
            }
        }
    }
}

void grad_output(const float* dy, Planes dp, const Chunk* chunks, int64_t nchunks, float* dst, Layout lay) {
    for (int64_t u = 0; u < nchunks; u += kBatch)
        grad_output_batch(dy, dp, chunks + u, nchunks - u < kBatch ? nchunks - u : kBatch, dst, lay);
}

}  // namespace

const Kernels& avx512_kernels() {
    static const Kernels k{"avx512", input, output, grad_output};
    return k;
}

}  // namespace kiln::cpu::winograd
