// CUDA-event benchmark of the LSTM layer's two forward paths (per-step GEMM + fused cell; persistent cooperative
// kernel) and of forward+backward, at (N=64,T=28,F=28,H=64) and (N=32,T=100,F=256,H=256). Each path is first checked
// against the CPU backend (normalized MSE of y, h_n, c_n and, for forward+backward, of every gradient); timings are
// the median of several runs after warm-up, with GFLOP/s and the ratio against the per-step path as the peer.
// Prints `RESULT lstm_gpu <shape> <step|persistent> <forward|forward_backward> <ms>` lines.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "bench_shapes.h"
#include "kiln/kiln.h"
#include "lstm.h"

namespace {

using kiln::cuda::LstmPath;

#define CHECK(call)                                                                                  \
    do {                                                                                             \
        const cudaError_t e_ = (call);                                                               \
        if (e_ != cudaSuccess) {                                                                     \
            std::fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call, cudaGetErrorString(e_)); \
            return false;                                                                            \
        }                                                                                            \
    } while (0)

using kiln::bench::uniform;
using Shape = kiln::bench::LstmShape;
constexpr const auto& kShapes = kiln::bench::kLstmShapes;

double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
    double e = 0, r = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (!std::isfinite(got[i])) return INFINITY;
        e += ((double)got[i] - ref[i]) * ((double)got[i] - ref[i]);
        r += (double)ref[i] * ref[i];
    }
    return e / (r > 0 ? r : 1);
}

struct Buf {
    float* d = nullptr;
    size_t n = 0;
    ~Buf() { cudaFree(d); }
    bool alloc(size_t count) {
        n = count;
        return cudaMalloc(&d, std::max<size_t>(count, 1) * sizeof(float)) == cudaSuccess;
    }
    bool upload(const std::vector<float>& h) {
        return alloc(h.size()) && cudaMemcpy(d, h.data(), h.size() * 4, cudaMemcpyHostToDevice) == cudaSuccess;
    }
    std::vector<float> download() const {
        std::vector<float> h(n);
        cudaMemcpy(h.data(), d, n * 4, cudaMemcpyDeviceToHost);
        return h;
    }
};

// GEMM flops of the forward (input + recurrent projections); forward+backward counts three times that.
double forward_flops(const Shape& s) { return 2.0 * s.n * s.t * 4 * s.h * (double)(s.f + s.h); }

bool bench_shape(const Shape& s, kiln_context* cpu, int runs) {
    const int64_t n = s.n, t = s.t, f = s.f, h = s.h;
    const float k = 1.0f / std::sqrt((float)h);
    const std::vector<float> x = uniform(n * t * f, 1, -1, 1), wih = uniform(4 * h * f, 2, -k, k),
                             whh = uniform(4 * h * h, 3, -k, k), b = uniform(4 * h, 4, -k, k),
                             h0 = uniform(n * h, 6, -0.5f, 0.5f), c0 = uniform(n * h, 7, -1, 1),
                             dy = uniform(n * t * h, 5, -1, 1);
    const kiln_lstm_desc desc{n, t, f, h};
    uint64_t res_bytes = 0;
    kiln_lstm_reserve_size(&desc, &res_bytes);

    // CPU reference.
    std::vector<float> ry(n * t * h), rhn(n * h), rcn(n * h), rres(res_bytes / 4), rdx(n * t * f), rdh0(n * h),
        rdc0(n * h), rdwih(4 * h * f), rdwhh(4 * h * h), rdb(4 * h);
    if (kiln_lstm_forward_f32(cpu, &desc, x.data(), h0.data(), c0.data(), wih.data(), whh.data(), b.data(), ry.data(),
                              rhn.data(), rcn.data(), rres.data()) != KILN_OK ||
        kiln_lstm_backward_f32(cpu, &desc, x.data(), h0.data(), c0.data(), wih.data(), whh.data(), rres.data(),
                               dy.data(), nullptr, nullptr, rdx.data(), rdh0.data(), rdc0.data(), rdwih.data(),
                               rdwhh.data(), rdb.data()) != KILN_OK) {
        std::fprintf(stderr, "CPU reference failed: %s\n", kiln_last_error());
        return false;
    }

    Buf dx_, dh0_, dc0_, dwih_, dwhh_, db_, X, H0, C0, WIH, WHH, B, DY, Y, HN, CN, RES, WS;
    if (!X.upload(x) || !H0.upload(h0) || !C0.upload(c0) || !WIH.upload(wih) || !WHH.upload(whh) || !B.upload(b) ||
        !DY.upload(dy) || !Y.alloc(n * t * h) || !HN.alloc(n * h) || !CN.alloc(n * h) || !RES.alloc(res_bytes / 4) ||
        !dx_.alloc(n * t * f) || !dh0_.alloc(n * h) || !dc0_.alloc(n * h) || !dwih_.alloc(4 * h * f) ||
        !dwhh_.alloc(4 * h * h) || !db_.alloc(4 * h)) {
        std::fprintf(stderr, "cudaMalloc failed\n");
        return false;
    }
    const size_t ws_bytes = std::max({kiln::cuda::lstm_forward_workspace_bytes(n, t, f, h, false, LstmPath::Auto),
                                      kiln::cuda::lstm_forward_workspace_bytes(n, t, f, h, true, LstmPath::Auto),
                                      kiln::cuda::lstm_backward_workspace_bytes(n, t, f, h)});
    if (!WS.alloc(ws_bytes / 4 + 64)) return false;
    kiln::BufferScratch scratch(WS.d, (ws_bytes / 4 + 64) * sizeof(float));
    cudaStream_t st;
    CHECK(cudaStreamCreate(&st));
    cudaEvent_t e0, e1;
    CHECK(cudaEventCreate(&e0));
    CHECK(cudaEventCreate(&e1));

    const double gf = forward_flops(s) / 1e6;
    double step_ms[2] = {0, 0};
    for (LstmPath path : {LstmPath::Step, LstmPath::Persistent}) {
        const char* pname = path == LstmPath::Step ? "step" : "persistent";
        if (path == LstmPath::Persistent && !kiln::cuda::lstm_forward_uses_persistent(n, t, h)) {
            std::printf("%-20s %-11s (does not apply on this device)\n", s.name, pname);
            continue;
        }
        auto fwd = [&](float* reserve) {
            return kiln::cuda::lstm_forward_on_path_f32(st, scratch, path, n, t, f, h, X.d, H0.d, C0.d, WIH.d, WHH.d,
                                                        B.d, Y.d, HN.d, CN.d, reserve);
        };
        auto bwd = [&] {
            return kiln::cuda::lstm_backward_f32(st, scratch, n, t, f, h, X.d, C0.d, WIH.d, WHH.d, RES.d, DY.d, nullptr,
                                                 nullptr, dx_.d, dh0_.d, dc0_.d, dwih_.d, dwhh_.d, db_.d);
        };
        // Validate against the CPU before timing.
        CHECK(fwd(RES.d));
        CHECK(bwd());
        CHECK(cudaStreamSynchronize(st));
        const double errs[] = {nmse(Y.download(), ry),      nmse(HN.download(), rhn),     nmse(CN.download(), rcn),
                               nmse(dx_.download(), rdx),   nmse(dh0_.download(), rdh0),  nmse(dc0_.download(), rdc0),
                               nmse(dwih_.download(), rdwih), nmse(dwhh_.download(), rdwhh), nmse(db_.download(), rdb)};
        const double worst = *std::max_element(std::begin(errs), std::end(errs));
        CHECK(fwd(nullptr));  // inference must give the same outputs
        CHECK(cudaStreamSynchronize(st));
        const double worst_inf = std::max(nmse(Y.download(), ry), nmse(CN.download(), rcn));
        if (!(worst <= 1e-8) || !(worst_inf <= 1e-8)) {
            std::printf("%-20s %-11s WRONG: worst nmse %.3g (inference %.3g) against the CPU backend\n", s.name, pname,
                        worst, worst_inf);
            return false;
        }

        double ms[2];
        for (int pass = 0; pass < 2; ++pass) {
            std::vector<float> times;
            for (int r = 0; r < runs + 3; ++r) {
                CHECK(cudaEventRecord(e0, st));
                if (pass == 0) {
                    CHECK(fwd(nullptr));
                } else {
                    CHECK(fwd(RES.d));
                    CHECK(bwd());
                }
                CHECK(cudaEventRecord(e1, st));
                CHECK(cudaEventSynchronize(e1));
                float t_ms = 0;
                CHECK(cudaEventElapsedTime(&t_ms, e0, e1));
                if (r >= 3) times.push_back(t_ms);
            }
            std::sort(times.begin(), times.end());
            ms[pass] = times[times.size() / 2];
        }
        if (path == LstmPath::Step) step_ms[0] = ms[0], step_ms[1] = ms[1];
        for (int pass = 0; pass < 2; ++pass) {
            const char* pass_name = pass == 0 ? "forward" : "forward_backward";
            std::printf("%-20s %-11s %-17s %9.3f ms %9.1f GFLOP/s  %.2fx vs step   (nmse %.2g)\n", s.name, pname,
                        pass_name, ms[pass], (pass ? 3 : 1) * gf / ms[pass], step_ms[pass] / ms[pass], worst);
            std::printf("RESULT lstm_gpu %s %s %s %.4f\n", s.name, pname, pass_name, ms[pass]);
        }
    }
    cudaEventDestroy(e0);
    cudaEventDestroy(e1);
    cudaStreamDestroy(st);
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = kiln::bench::smoke_run() ? 3 : argc > 1 ? std::max(3, std::atoi(argv[1])) : 21;
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("kiln lstm gpu bench: SKIPPED, no CUDA device\n");
        return 0;
    }
    cudaDeviceProp prop;
    cudaGetDeviceProperties(&prop, 0);
    std::printf("kiln lstm gpu bench: %s, %d SMs; median of %d runs after 3 warm-ups; peer: the per-step path\n",
                prop.name, prop.multiProcessorCount, runs);
    kiln_context* cpu = nullptr;
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &cpu) != KILN_OK) return 1;
    bool ok = true;
    const std::vector<Shape> all(std::begin(kShapes), std::end(kShapes));
    for (const Shape& s : kiln::bench::shapes_to_run(all)) ok &= bench_shape(s, cpu, runs);
    kiln_context_destroy(cpu);
    return ok ? 0 : 1;
}
