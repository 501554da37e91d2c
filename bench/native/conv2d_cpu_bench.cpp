// Benchmark of the CPU conv2d (forward, backward-data, backward-weight with bias grad) on the CNN's two layers and a
// ResNet 3x3 layer: median ms and GFLOP/s (2 N K C R S P Q per direction), and the ratio against a named peer run in
// the same process on the same inputs: textbook explicit im2col/col2im around Kiln's own sgemm (so the ratio is what
// implicit packing buys). Prints a table and one line per measurement for comparison scripts:
//   RESULT conv2d <shape-name> <direction> <ms> <gflops>
// GFLOP/s count the direct convolution's 2 N K C R S P Q for every algorithm, so Winograd rows show the effective rate.
// Usage: kiln_cpu_bench_conv2d [--quick] [--no-peer] [--implicit-gemm] [--shape SUBSTRING]   Threads: KILN_NUM_THREADS.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bench_shapes.h"
#include "common/conv_geometry.h"
#include "conv2d.h"
#include "cpu/conv2d_paths.h"
#include "cpu/parallel.h"
#include "cpu/sgemm.h"
#include "kiln/kiln.h"

namespace {

using Clock = std::chrono::steady_clock;
using kiln::bench::uniform;
using kiln::conv::Geometry;

// ---- the peer: explicit im2col / col2im around kiln::cpu::sgemm, one image at a time -------------------------

void im2col(const Geometry& g, const float* x, float* col) {  // x is (c, h, w), col is (c r s, p q)
    for (int64_t c = 0; c < g.c; ++c)
        for (int64_t r = 0; r < g.r; ++r)
            for (int64_t s = 0; s < g.s; ++s) {
                float* row = col + ((c * g.r + r) * g.s + s) * g.p * g.q;
                for (int64_t oh = 0; oh < g.p; ++oh) {
                    const int64_t ih = kiln::conv::input_index(oh, r, g.stride_h, g.pad_h, g.dilation_h);
                    for (int64_t ow = 0; ow < g.q; ++ow) {
                        const int64_t iw = kiln::conv::input_index(ow, s, g.stride_w, g.pad_w, g.dilation_w);
                        row[oh * g.q + ow] =
                            (ih >= 0 && ih < g.h && iw >= 0 && iw < g.w) ? x[(c * g.h + ih) * g.w + iw] : 0.0f;
                    }
                }
            }
}

void col2im(const Geometry& g, const float* col, float* dx) {  // adds col (c r s, p q) into dx (c, h, w)
    for (int64_t c = 0; c < g.c; ++c)
        for (int64_t r = 0; r < g.r; ++r)
            for (int64_t s = 0; s < g.s; ++s) {
                const float* row = col + ((c * g.r + r) * g.s + s) * g.p * g.q;
                for (int64_t oh = 0; oh < g.p; ++oh) {
                    const int64_t ih = kiln::conv::input_index(oh, r, g.stride_h, g.pad_h, g.dilation_h);
                    if (ih < 0 || ih >= g.h) continue;
                    for (int64_t ow = 0; ow < g.q; ++ow) {
                        const int64_t iw = kiln::conv::input_index(ow, s, g.stride_w, g.pad_w, g.dilation_w);
                        if (iw >= 0 && iw < g.w) dx[(c * g.h + ih) * g.w + iw] += row[oh * g.q + ow];
                    }
                }
            }
}

struct Peer {
    std::vector<float> col;
    void forward(const Geometry& g, const float* x, const float* w, const float* b, float* y) {
        const int64_t crs = g.c * g.r * g.s, pq = g.p * g.q;
        col.resize(crs * pq);
        for (int64_t n = 0; n < g.n; ++n) {
            im2col(g, x + n * g.c * g.h * g.w, col.data());
            float* yn = y + n * g.k * pq;
            kiln::cpu::sgemm(false, false, g.k, pq, crs, 1.0f, w, crs, col.data(), pq, 0.0f, yn, pq);
            for (int64_t k = 0; k < g.k; ++k)
                for (int64_t i = 0; i < pq; ++i) yn[k * pq + i] += b[k];
        }
    }
    void backward_data(const Geometry& g, const float* dy, const float* w, float* dx) {
        const int64_t crs = g.c * g.r * g.s, pq = g.p * g.q, chw = g.c * g.h * g.w;
        col.resize(crs * pq);
        std::fill(dx, dx + g.n * chw, 0.0f);
        for (int64_t n = 0; n < g.n; ++n) {
            kiln::cpu::sgemm(true, false, crs, pq, g.k, 1.0f, w, crs, dy + n * g.k * pq, pq, 0.0f, col.data(), pq);
            col2im(g, col.data(), dx + n * chw);
        }
    }
    void backward_weight(const Geometry& g, const float* x, const float* dy, float* dw, float* db) {
        const int64_t crs = g.c * g.r * g.s, pq = g.p * g.q;
        col.resize(crs * pq);
        for (int64_t n = 0; n < g.n; ++n) {
            im2col(g, x + n * g.c * g.h * g.w, col.data());
            kiln::cpu::sgemm(false, true, g.k, crs, pq, 1.0f, dy + n * g.k * pq, pq, col.data(), pq, n ? 1.0f : 0.0f,
                             dw, crs);
        }
        for (int64_t k = 0; k < g.k; ++k) {
            double s = 0;
            for (int64_t n = 0; n < g.n; ++n)
                for (int64_t i = 0; i < pq; ++i) s += dy[(n * g.k + k) * pq + i];
            db[k] = (float)s;
        }
    }
};

// ---- timing --------------------------------------------------------------------------------------------------

// Median seconds of fn over at least `min_runs` runs and `min_seconds`, after two warm-up runs.
double median_seconds(const std::function<void()>& fn, int min_runs, double min_seconds) {
    fn();
    fn();
    std::vector<double> t;
    const auto start = Clock::now();
    while ((int)t.size() < min_runs || std::chrono::duration<double>(Clock::now() - start).count() < min_seconds) {
        const auto t0 = Clock::now();
        fn();
        t.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
        if (t.size() >= 200) break;
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// Largest |a - b| relative to max |b|: the peer and Kiln must agree before either is timed.
double rel_diff(const std::vector<float>& a, const std::vector<float>& b) {
    double d = 0, m = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        d = std::max(d, (double)std::fabs(a[i] - b[i]));
        m = std::max(m, (double)std::fabs(b[i]));
    }
    return d / (m > 0 ? m : 1);
}

}  // namespace

int main(int argc, char** argv) {
    bool quick = false, with_peer = true;
    const char* only = nullptr;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--quick") == 0) {
            quick = true;
        } else if (std::strcmp(argv[i], "--no-peer") == 0) {
            with_peer = false;
        } else if (std::strcmp(argv[i], "--implicit-gemm") == 0) {
            kiln::cpu::conv2d_detail::set_winograd_for_testing(kiln::cpu::conv2d_detail::WinogradUse::off);
        } else if (std::strcmp(argv[i], "--shape") == 0 && i + 1 < argc) {
            only = argv[++i];
        } else {
            std::fprintf(stderr, "usage: %s [--quick] [--no-peer] [--implicit-gemm] [--shape SUBSTRING]\n", argv[0]);
            return 2;
        }
    }
    const std::vector<kiln::bench::ConvShape> shapes = kiln::bench::conv_shapes();
    std::printf("kiln conv2d CPU benchmark: %d threads, gemm %s, wgrad %s\n", kiln::cpu::num_threads(),
                kiln::cpu::gemm_isa(), kiln::cpu::conv2d_isa());
    std::printf("peer: explicit im2col/col2im + kiln sgemm (one image at a time)\n\n");
    std::printf("%-28s %-16s %-14s %10s %10s %12s %10s %8s\n", "shape", "direction", "algorithm", "ms", "GFLOP/s",
                "peer GFLOP/s", "workspace", "vs peer");

    bool all_ok = true;
    for (const kiln::bench::ConvShape& sh : shapes) {
        if (only && !std::strstr(sh.name, only)) continue;
        const Geometry& g = sh.g;
        const size_t nx = kiln::conv::x_size(g), nw = kiln::conv::w_size(g), ny = kiln::conv::y_size(g);
        const std::vector<float> x = uniform(nx, 1), w = uniform(nw, 2), b = uniform(g.k, 3), dy = uniform(ny, 4);
        std::vector<float> y(ny), y_peer(ny), dx(nx), dx_peer(nx), dw(nw), dw_peer(nw), db(g.k), db_peer(g.k);
        Peer peer;
        const double gflop = kiln::conv::flops(g) / 1e9;
        const double ws_kib = kiln::cpu::conv2d_workspace_bytes(g) / 1024.0;
        const int runs = quick ? 3 : 9;
        const double secs = quick ? 0.2 : 1.0;

        struct Dir {
            const char* name;
            kiln::cpu::winograd::Direction direction;
            std::function<void()> kiln, peer;
            std::vector<float>*got, *want;
        };
        Dir dirs[] = {
            {"forward", kiln::cpu::winograd::Direction::forward,
             [&] { kiln::cpu::conv2d_forward_f32(g, x.data(), w.data(), b.data(), y.data()); },
             [&] { peer.forward(g, x.data(), w.data(), b.data(), y_peer.data()); }, &y, &y_peer},
            {"backward-data", kiln::cpu::winograd::Direction::data,
             [&] { kiln::cpu::conv2d_backward_data_f32(g, dy.data(), w.data(), dx.data()); },
             [&] { peer.backward_data(g, dy.data(), w.data(), dx_peer.data()); }, &dx, &dx_peer},
            {"backward-weight", kiln::cpu::winograd::Direction::weight,
             [&] { kiln::cpu::conv2d_backward_weight_f32(g, x.data(), dy.data(), dw.data(), db.data()); },
             [&] { peer.backward_weight(g, x.data(), dy.data(), dw_peer.data(), db_peer.data()); }, &dw, &dw_peer},
        };
        double ms[3];
        int di = 0;
        for (Dir& d : dirs) {
            d.kiln();
            bool ok = true;
            if (with_peer) {
                d.peer();
                const bool bias_ok = std::strcmp(d.name, "backward-weight") != 0 || rel_diff(db, db_peer) < 1e-4;
                ok = rel_diff(*d.got, *d.want) < 1e-4 && bias_ok;
            }
            all_ok &= ok;
            const double t = median_seconds(d.kiln, runs, secs);
            const double tp = with_peer ? median_seconds(d.peer, runs, secs) : 0.0;
            std::printf("%-28s %-16s %-14s %10.3f %10.1f %12.1f %8.0fK %7.2fx%s\n", sh.name, d.name,
                        kiln::cpu::conv2d_detail::conv2d_algorithm(g, d.direction), t * 1e3, gflop / t,
                        tp > 0 ? gflop / tp : 0.0,
                        ws_kib, tp / t, ok ? "" : "  MISMATCH vs peer");
            ms[di++] = t * 1e3;
        }
        for (int i = 0; i < 3; ++i)
            std::printf("RESULT conv2d %s %s %.4f %.2f\n", sh.name, dirs[i].name, ms[i], gflop / (ms[i] / 1e3));
    }
    return all_ok ? 0 : 1;
}
