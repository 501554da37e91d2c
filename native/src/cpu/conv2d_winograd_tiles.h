// The tile transforms of the Winograd F(2x2, 3x3) conv2d (conv2d_winograd.h's Kernels), written once over a chunk
// lane set C and instantiated per ISA: conv2d_winograd_avx512.cpp (a chunk's 16 tiles in one zmm) and
// conv2d_winograd_avx2.cpp (half a's 8 tiles in one ymm, half b's in another). Include it only from files built for
// C's ISA.
//
// Neighbouring tiles' input patches overlap by two columns: tile j of a half needs columns 2 j + {0, 1, 2, 3} from the
// half's patch start. One 16-column window per half and row, split into its even (2 j) and odd (2 j + 1) columns,
// gives the first two; the same from two columns further on gives 2 j + 2 and 2 j + 3. The loads' masks also produce
// the zero padding: columns outside the image are never read and come out 0, so no padded copy of the input is made.
// What depends only on the chunk (masks, offsets, which rows exist) is worked out once per call, and the channel loop
// runs over it; the next channels' rows are prefetched, since a block reads a few short rows from every plane, a
// pattern the hardware prefetchers do not follow.
//
// What C provides:
//   R       a chunk's 16 tile lanes (half a's tiles in lanes 0..7, half b's in 8..15): zero(), add(a, b), sub(a, b),
//           set1(x);
//   Wide    16 consecutive floats of one row (a half's window), read through a Cols mask: load(cols, p), where
//           inside(start, limit) masks the columns l with 0 <= start + l < limit, first(n) the first n (n may be <= 0
//           or > 16), none() no column; any(cols) tests for one;
//   split(wa, wb, even, odd)         the even and the odd columns of half a's window and of half b's, as two R;
//   Lanes and lanes_of(chunk)        how a chunk's lanes map to its contiguous slots (a's tiles, then b's);
//   store_slots(p, lanes, r)         r's tiles to consecutive floats at p;
//   load_slots(p, lanes), slots_to_lanes(lanes, r)  the inverse: 16 floats from p (slack allowed past the chunk's
//           slots) as an R in slot order, then that R in lane order (what an ISA does in either step is its own);
//   store_out(pa, ca, pb, cb, y0, y1)  columns 2 j and 2 j + 1 of an output row, y0 and y1, interleaved: half a's to
//           pa through ca, half b's to pb through cb.
#pragma once

#include <xmmintrin.h>

#include <cstdint>

#include "cpu/conv2d_winograd.h"

namespace kiln::cpu::winograd {
namespace {

template <class C>
struct Transforms {
    using R = typename C::R;
    using Cols = typename C::Cols;
    using Lanes = typename C::Lanes;

    static constexpr int kPrefetchChannels = 2;          // how far ahead the input's rows are fetched
    static constexpr int64_t kPrefetchMinPlane = 1024;   // floats: planes from 32 x 32 up
    static constexpr int64_t kBatch = 64;                // chunks prepared at a time (stack arrays)

    static int64_t row_offset(const Layout& lay, int64_t row) {
        return row / lay.row_group * lay.row_group_stride + row % lay.row_group * lay.row_stride;
    }

    // ---- input: V = B^T d B ------------------------------------------------------------------------------------

    // One half's window on the input rows: columns col0 + {0..15} and col0 + 2 + {0..15} of rows row0 + {0..3}.
    struct InWindow {
        int64_t src;          // (row0, col0) in the plane set; may point before the plane where masks exclude it
        Cols m0[4], m2[4];    // per row: columns inside the plane (none for rows outside it, or an empty half)
    };

    static InWindow window_of(const Half& h, const Planes& xp, int pad_h, int pad_w) {
        InWindow win;
        const int64_t row0 = 2 * int64_t(h.tr) - pad_h, col0 = 2 * int64_t(h.tc) - pad_w;
        win.src = h.img * xp.img_stride + row0 * xp.cols + col0;
        const Cols m0 = h.n ? C::inside(col0, xp.cols) : C::none(), m2 = h.n ? C::inside(col0 + 2, xp.cols) : C::none();
        for (int i = 0; i < 4; ++i) {
            const bool in = row0 + i >= 0 && row0 + i < xp.rows;
            win.m0[i] = in ? m0 : C::none();
            win.m2[i] = in ? m2 : C::none();
        }
        return win;
    }

    struct InPrep {
        InWindow a, b;
        int64_t dst;  // the chunk's slot offset in the layout
        Lanes lanes;
    };

    static void input_batch(const float* x, const Planes& xp, int pad_h, int pad_w, const Chunk* chunks,
                            int64_t nchunks, float* dst, const Layout& lay) {
        InPrep prep[kBatch];
        for (int64_t u = 0; u < nchunks; ++u) {
            prep[u].a = window_of(chunks[u].a, xp, pad_h, pad_w);
            prep[u].b = window_of(chunks[u].b, xp, pad_h, pad_w);
            prep[u].dst = lay.at(0, chunks[u].slot);
            prep[u].lanes = C::lanes_of(chunks[u]);
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
                R t0[4], t1[4], t2[4], t3[4];
                for (int k = 0; k < 4; ++k) t0[k] = t1[k] = t2[k] = t3[k] = C::zero();
                for (int i = 0; i < 4; ++i) {
                    const bool in_a = C::any(p.a.m0[i]) || C::any(p.a.m2[i]);
                    const bool in_b = C::any(p.b.m0[i]) || C::any(p.b.m2[i]);
                    if (!in_a && !in_b) continue;
                    const float* ra = plane + p.a.src + i * xp.cols;
                    const float* rb = plane + p.b.src + i * xp.cols;
                    if (ahead) {
                        if (in_a) {
                            _mm_prefetch(reinterpret_cast<const char*>(ra + pf), _MM_HINT_T0);
                            _mm_prefetch(reinterpret_cast<const char*>(ra + pf + 17), _MM_HINT_T0);
                        }
                        if (in_b) _mm_prefetch(reinterpret_cast<const char*>(rb + pf + 17), _MM_HINT_T0);
                    }
                    const auto lo = C::load(p.a.m0[i], ra), hi = C::load(p.b.m0[i], rb);
                    const auto lo2 = C::load(p.a.m2[i], ra + 2), hi2 = C::load(p.b.m2[i], rb + 2);
                    R d[4];
                    C::split(lo, hi, d[0], d[1]);
                    C::split(lo2, hi2, d[2], d[3]);
                    for (int k = 0; k < 4; ++k) {
                        switch (i) {  // B^T rows: (1 0 -1 0), (0 1 1 0), (0 -1 1 0), (0 1 0 -1)
                            case 0: t0[k] = C::add(t0[k], d[k]); break;
                            case 1:
                                t1[k] = C::add(t1[k], d[k]);
                                t2[k] = C::sub(t2[k], d[k]);
                                t3[k] = C::add(t3[k], d[k]);
                                break;
                            case 2:
                                t0[k] = C::sub(t0[k], d[k]);
                                t1[k] = C::add(t1[k], d[k]);
                                t2[k] = C::add(t2[k], d[k]);
                                break;
                            default: t3[k] = C::sub(t3[k], d[k]); break;
                        }
                    }
                }
                float* o = out + p.dst;
                const R* rows[4] = {t0, t1, t2, t3};
                for (int i = 0; i < 4; ++i, o += 4 * xs) {  // the column pass, B^T along each row, out to xi = 4 i + k
                    const R* t = rows[i];
                    C::store_slots(o, p.lanes, C::sub(t[0], t[2]));
                    C::store_slots(o + xs, p.lanes, C::add(t[1], t[2]));
                    C::store_slots(o + 2 * xs, p.lanes, C::sub(t[2], t[1]));
                    C::store_slots(o + 3 * xs, p.lanes, C::sub(t[1], t[3]));
                }
            }
        }
    }

    static void input(const float* x, Planes xp, int pad_h, int pad_w, const Chunk* chunks, int64_t nchunks,
                      float* dst, Layout lay) {
        for (int64_t u = 0; u < nchunks; u += kBatch)
            input_batch(x, xp, pad_h, pad_w, chunks + u, nchunks - u < kBatch ? nchunks - u : kBatch, dst, lay);
    }

    // ---- output: y = A^T M A + bias -----------------------------------------------------------------------------

    // One half's outputs: rows 2 tr + {0, 1}, columns 2 tc + {0..15}.
    struct OutWindow {
        int64_t dst;   // (2 tr, 2 tc) in the plane set
        Cols cols[2];  // per output row: the half's columns below q (none for rows at or past p)
    };

    static OutWindow out_window_of(const Half& h, const Planes& yp) {
        OutWindow win;
        const int64_t oh0 = 2 * int64_t(h.tr), col = 2 * int64_t(h.tc);
        win.dst = h.img * yp.img_stride + oh0 * yp.cols + col;
        const Cols m = C::first(yp.cols - col < 2 * h.n ? yp.cols - col : 2 * h.n);
        for (int a = 0; a < 2; ++a) win.cols[a] = oh0 + a < yp.rows ? m : C::none();
        return win;
    }

    struct OutPrep {
        int64_t src;  // the chunk's slot offset in M's layout
        OutWindow a, b;
        Lanes lanes;
    };

    static void output_batch(const float* m, const Layout& lay, const Chunk* chunks, int64_t nchunks,
                             const float* bias, float* y, const Planes& yp) {
        OutPrep prep[kBatch];
        for (int64_t u = 0; u < nchunks; ++u) {
            prep[u].src = lay.at(0, chunks[u].slot);
            prep[u].a = out_window_of(chunks[u].a, yp);
            prep[u].b = out_window_of(chunks[u].b, yp);
            prep[u].lanes = C::lanes_of(chunks[u]);
        }
        const int64_t xs = lay.xi_stride;
        for (int64_t k = 0; k < yp.channels; ++k) {
            const float* mk = m + row_offset(lay, k);
            float* plane = y + k * yp.ch_stride;
            const R vb = C::set1(bias ? bias[k] : 0.0f);
            for (int64_t u = 0; u < nchunks; ++u) {
                const OutPrep& p = prep[u];
                const float* src = mk + p.src;  // whole vectors from the chunk's first slot (M has slack at its end)
                // A^T M: s0 = M0 + M1 + M2, s1 = M1 - M2 - M3 (rows of M), column by column.
                R s0[4], s1[4];
                for (int k4 = 0; k4 < 4; ++k4) {
                    const R m0 = C::load_slots(src + (0 + k4) * xs, p.lanes);
                    const R m1 = C::load_slots(src + (4 + k4) * xs, p.lanes);
                    const R m2 = C::load_slots(src + (8 + k4) * xs, p.lanes);
                    const R m3 = C::load_slots(src + (12 + k4) * xs, p.lanes);
                    s0[k4] = C::add(C::add(m0, m1), m2);
                    s1[k4] = C::sub(C::sub(m1, m2), m3);
                }
                for (int a = 0; a < 2; ++a) {
                    if (!C::any(p.a.cols[a]) && !C::any(p.b.cols[a])) continue;
                    const R* s = a == 0 ? s0 : s1;
                    const R y0 = C::slots_to_lanes(p.lanes, C::add(C::add(C::add(s[0], s[1]), s[2]), vb));
                    const R y1 = C::slots_to_lanes(p.lanes, C::add(C::sub(C::sub(s[1], s[2]), s[3]), vb));
                    C::store_out(plane + p.a.dst + a * yp.cols, p.a.cols[a], plane + p.b.dst + a * yp.cols,
                                 p.b.cols[a], y0, y1);
                }
            }
        }
    }

    static void output(const float* m, Layout lay, const Chunk* chunks, int64_t nchunks, const float* bias, float* y,
                       Planes yp) {
        for (int64_t u = 0; u < nchunks; u += kBatch)
            output_batch(m, lay, chunks + u, nchunks - u < kBatch ? nchunks - u : kBatch, bias, y, yp);
    }

    // ---- grad_output: dM = A dY A^T -------------------------------------------------------------------------------

    // One half's dy window: rows 2 tr + {0, 1}, columns 2 tc + {0..15}.
    struct GradWindow {
        int64_t src;
        Cols cols[2];  // per row: columns inside the plane (none for rows past it, or an empty half)
    };

    static GradWindow grad_window_of(const Half& h, const Planes& dp) {
        GradWindow win;
        const int64_t oh0 = 2 * int64_t(h.tr), col = 2 * int64_t(h.tc);
        win.src = h.img * dp.img_stride + oh0 * dp.cols + col;
        const Cols m = h.n ? C::inside(col, dp.cols) : C::none();
        for (int a = 0; a < 2; ++a) win.cols[a] = oh0 + a < dp.rows ? m : C::none();
        return win;
    }

    struct GradPrep {
        GradWindow a, b;
        int64_t dst;
        Lanes lanes;
    };

    static void grad_output_batch(const float* dy, const Planes& dp, const Chunk* chunks, int64_t nchunks,
                                  float* dst, const Layout& lay) {
        GradPrep prep[kBatch];
        for (int64_t u = 0; u < nchunks; ++u) {
            prep[u].a = grad_window_of(chunks[u].a, dp);
            prep[u].b = grad_window_of(chunks[u].b, dp);
            prep[u].dst = lay.at(0, chunks[u].slot);
            prep[u].lanes = C::lanes_of(chunks[u]);
        }
        const int64_t xs = lay.xi_stride;
        const R zero = C::zero();
        for (int64_t k = 0; k < dp.channels; ++k) {
            const float* plane = dy + k * dp.ch_stride;
            float* out = dst + row_offset(lay, k);
            for (int64_t u = 0; u < nchunks; ++u) {
                const GradPrep& p = prep[u];
                // e[a][b] = dy(2 tr + a, 2 (tc + j) + b) of each lane's tile, 0 outside the plane.
                R e[2][2];
                for (int a = 0; a < 2; ++a) {
                    const auto lo = C::load(p.a.cols[a], plane + p.a.src + a * dp.cols);
                    const auto hi = C::load(p.b.cols[a], plane + p.b.src + a * dp.cols);
                    C::split(lo, hi, e[a][0], e[a][1]);
                }
                // A = (1 0; 1 1; 1 -1; 0 -1): z = A e (rows), then dM = z A^T (columns).
                R z[4][2];
                for (int b = 0; b < 2; ++b) {
                    z[0][b] = e[0][b];
                    z[1][b] = C::add(e[0][b], e[1][b]);
                    z[2][b] = C::sub(e[0][b], e[1][b]);
                    z[3][b] = C::sub(zero, e[1][b]);
                }
                float* o = out + p.dst;
                for (int i = 0; i < 4; ++i) {
                    C::store_slots(o + (4 * i + 0) * xs, p.lanes, z[i][0]);
                    C::store_slots(o + (4 * i + 1) * xs, p.lanes, C::add(z[i][0], z[i][1]));
                    C::store_slots(o + (4 * i + 2) * xs, p.lanes, C::sub(z[i][0], z[i][1]));
                    C::store_slots(o + (4 * i + 3) * xs, p.lanes, C::sub(zero, z[i][1]));
                }
            }
        }
    }

    static void grad_output(const float* dy, Planes dp, const Chunk* chunks, int64_t nchunks, float* dst,
                            Layout lay) {
        for (int64_t u = 0; u < nchunks; u += kBatch)
            grad_output_batch(dy, dp, chunks + u, nchunks - u < kBatch ? nchunks - u : kBatch, dst, lay);
    }
};

}  // namespace
}  // namespace kiln::cpu::winograd
