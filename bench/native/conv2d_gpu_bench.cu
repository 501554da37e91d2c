// GPU microbenchmark of the conv2d kernels that ship (kernels/conv2d.cu, called through their launchers): forward,
// backward-data and backward-weight (+bias grad) on the CNN's two layers and a ResNet 3x3 layer. Each direction is
// first validated against the CPU backend (normalized MSE), then timed with CUDA events over several runs with L2
// flushed before each, and reported as median ms and GFLOP/s (2 N K C R S P Q), plus the CPU backend's time on the
// same shape as the named peer. Prints the lines the comparison scripts read:
//   RESULT conv2d <shape-name> <direction> <ms> <gflops>
// Exits 0 with a SKIPPED line where no CUDA device is present; nonzero when a direction disagrees with the CPU.
#include <cuda_runtime_api.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <initializer_list>
#include <utility>
#include <vector>

#include "bench_shapes.h"
#include "common/conv_geometry.h"
#include "conv2d.h"

namespace {

using kiln::bench::uniform;
using kiln::conv::Geometry;

#define CHECK(call)                                                                                   \
    do {                                                                                              \
        const cudaError_t e_ = (call);                                                                \
        if (e_ != cudaSuccess) {                                                                      \
            std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_), __FILE__, __LINE__,     \
                        cudaGetErrorString(e_));                                                      \
            return 1;                                                                                 \
        }                                                                                             \
    } while (0)

double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
    double e = 0, n = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (std::isnan(got[i])) return INFINITY;
        const double d = (double)got[i] - ref[i];
        e += d * d;
        n += (double)ref[i] * ref[i];
    }
    return e / (n > 0 ? n : 1);
}

struct Dev {
    float* p = nullptr;
    size_t n = 0;
    ~Dev() { cudaFree(p); }
};

}  // namespace

int main() {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("kiln conv2d GPU benchmark: SKIPPED (no CUDA device)\n");
        return 0;
    }
    cudaDeviceProp prop;
    CHECK(cudaGetDeviceProperties(&prop, 0));
    std::printf("kiln conv2d GPU benchmark on %s (%d SMs); peer: Kiln's CPU backend on this host\n\n", prop.name,
                prop.multiProcessorCount);
    std::printf("%-28s %-16s %10s %10s %12s %10s %10s\n", "shape", "direction", "ms", "GFLOP/s", "CPU GFLOP/s",
                "vs CPU", "nmse");

    const std::vector<kiln::bench::ConvShape> shapes = kiln::bench::shapes_to_run(kiln::bench::conv_shapes());
    const int gpu_runs = kiln::bench::smoke_run() ? 3 : 12;  // two warm-ups, then the timed runs
    cudaStream_t stream;
    CHECK(cudaStreamCreate(&stream));
    cudaEvent_t t0, t1;
    CHECK(cudaEventCreate(&t0));
    CHECK(cudaEventCreate(&t1));
    Dev flush;  // written before every timed run so no run finds its inputs in L2
    flush.n = (size_t)std::max(prop.l2CacheSize, 1 << 20) * 2 / sizeof(float);
    CHECK(cudaMalloc(&flush.p, flush.n * sizeof(float)));

    bool ok_all = true;
    for (const kiln::bench::ConvShape& sh : shapes) {
        const Geometry& g = sh.g;
        const size_t nx = kiln::conv::x_size(g), nw = kiln::conv::w_size(g), ny = kiln::conv::y_size(g);
        const std::vector<float> hx = uniform(nx, 1), hw = uniform(nw, 2), hb = uniform(g.k, 3), hdy = uniform(ny, 4);
        Dev x, w, b, y, dy, dx, dw, db, ws;
        const size_t nws = std::max<size_t>(1, kiln::cuda::conv2d_backward_weight_workspace_bytes(g) / sizeof(float));
        const std::initializer_list<std::pair<Dev*, size_t>> buffers = {
            {&x, nx}, {&w, nw}, {&b, (size_t)g.k}, {&y, ny},  {&dy, ny},
            {&dx, nx}, {&dw, nw}, {&db, (size_t)g.k}, {&ws, nws}};
        for (auto [d, n] : buffers) {
            d->n = n;
            CHECK(cudaMalloc(&d->p, n * sizeof(float)));
        }
        CHECK(cudaMemcpy(x.p, hx.data(), nx * 4, cudaMemcpyHostToDevice));
        CHECK(cudaMemcpy(w.p, hw.data(), nw * 4, cudaMemcpyHostToDevice));
        CHECK(cudaMemcpy(b.p, hb.data(), g.k * 4, cudaMemcpyHostToDevice));
        CHECK(cudaMemcpy(dy.p, hdy.data(), ny * 4, cudaMemcpyHostToDevice));

        std::vector<float> ry(ny), rdx(nx), rdw(nw), rdb(g.k);
        struct Dir {
            const char* name;
            std::function<cudaError_t()> gpu;
            std::function<void()> cpu;
            Dev* out;
            std::vector<float>* ref;
        } dirs[] = {
            {"forward", [&] { return kiln::cuda::conv2d_forward_f32(stream, g, x.p, w.p, b.p, y.p); },
             [&] { kiln::cpu::conv2d_forward_f32(g, hx.data(), hw.data(), hb.data(), ry.data()); }, &y, &ry},
            {"backward-data", [&] { return kiln::cuda::conv2d_backward_data_f32(stream, g, dy.p, w.p, dx.p); },
             [&] { kiln::cpu::conv2d_backward_data_f32(g, hdy.data(), hw.data(), rdx.data()); }, &dx, &rdx},
            {"backward-weight",
             [&] {
                 kiln::BufferScratch scratch(ws.p, ws.n * sizeof(float));
                 return kiln::cuda::conv2d_backward_weight_f32(stream, scratch, g, x.p, dy.p, dw.p, db.p);
             },
             [&] { kiln::cpu::conv2d_backward_weight_f32(g, hx.data(), hdy.data(), rdw.data(), rdb.data()); }, &dw,
             &rdw},
        };
        const double gflop = kiln::conv::flops(g) / 1e9;
        double ms_of[3];
        bool ok_of[3];
        int di = 0;
        for (Dir& d : dirs) {
            // Validate first: one run on each backend, compared by normalized MSE. That CPU run is also the CPU's
            // warm-up (thread pool, first-touch page faults); its time is the median of three more.
            d.cpu();
            std::vector<double> cpu_runs;
            for (int run = 0; run < 3; ++run) {
                const auto c0 = std::chrono::steady_clock::now();
                d.cpu();
                cpu_runs.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - c0).count());
            }
            std::sort(cpu_runs.begin(), cpu_runs.end());
            const double cpu_s = cpu_runs[1];
            CHECK(cudaMemsetAsync(d.out->p, 0xFF, d.out->n * 4, stream));  // NaN: an unwritten element shows
            CHECK(d.gpu());
            CHECK(cudaStreamSynchronize(stream));
            std::vector<float> got(d.out->n);
            CHECK(cudaMemcpy(got.data(), d.out->p, got.size() * 4, cudaMemcpyDeviceToHost));
            double err = nmse(got, *d.ref);
            if (d.out == &dw) {
                std::vector<float> gdb(g.k);
                CHECK(cudaMemcpy(gdb.data(), db.p, g.k * 4, cudaMemcpyDeviceToHost));
                err = std::max(err, nmse(gdb, rdb));
            }
            const bool ok = err <= 1e-9;
            ok_all &= ok;
            ok_of[di] = ok;

            std::vector<float> ms;
            for (int run = 0; run < gpu_runs; ++run) {
                CHECK(cudaMemsetAsync(flush.p, run, flush.n * 4, stream));
                CHECK(cudaEventRecord(t0, stream));
                CHECK(d.gpu());
                CHECK(cudaEventRecord(t1, stream));
                CHECK(cudaEventSynchronize(t1));
                float m = 0;
                CHECK(cudaEventElapsedTime(&m, t0, t1));
                if (run >= 2) ms.push_back(m);  // two warm-up runs
            }
            std::sort(ms.begin(), ms.end());
            const double med = ms[ms.size() / 2];
            ms_of[di++] = med;
            std::printf("%-28s %-16s %10.4f %10.1f %12.1f %9.1fx %10.2g%s\n", sh.name, d.name, med,
                        gflop / (med / 1e3), gflop / cpu_s, cpu_s * 1e3 / med, err, ok ? "" : "  MISMATCH vs CPU");
        }
        for (int i = 0; i < 3; ++i)  // a direction that does not match the CPU has no result to compare
            if (ok_of[i])
                std::printf("RESULT conv2d %s %s %.4f %.2f\n", sh.name, dirs[i].name, ms_of[i],
                            gflop / (ms_of[i] / 1e3));
    }
    cudaEventDestroy(t0);
    cudaEventDestroy(t1);
    cudaStreamDestroy(stream);
    return ok_all ? 0 : 1;
}
