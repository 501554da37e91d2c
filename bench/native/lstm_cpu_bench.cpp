// Benchmark of the CPU LSTM layer (kiln_lstm_forward_f32 / kiln_lstm_backward_f32 on a CPU context): forward and
// forward+backward at (N=64,T=28,F=28,H=64) and (N=32,T=100,F=256,H=256), each first checked against a double-precision
// reference, median of several runs after warm-up, GFLOP/s of the GEMM work, and the ratio against PyTorch's nn.LSTM
// (batch_first, one layer) timed in the same run by a python3 child process with the same thread count, when a
// python3 with torch is found.
// Usage: lstm_cpu_bench [runs]. Threads: KILN_NUM_THREADS. Peer interpreter: KILN_BENCH_PYTHON (default: the first of
// python3, /usr/bin/python3 that imports torch). Prints one `RESULT lstm <shape> <forward|forward_backward> <ms>` line
// per measurement.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bench_reference.h"
#include "bench_shapes.h"
#include "bench_timing.h"
#include "cpu/parallel.h"
#include "kiln/kiln.h"

namespace {

using Clock = std::chrono::steady_clock;
using kiln::bench::load_average;
using kiln::bench::median_ms;
using kiln::bench::uniform;
using Shape = kiln::bench::LstmShape;
constexpr const auto& kShapes = kiln::bench::kLstmShapes;

// GEMM flops: forward 2 n t 4h (f + h) (input and recurrent projections); the backward does it twice over
// (dx and dW_ih over f, dh and dW_hh over h). The cell passes are O(n t h) and not counted.
double forward_flops(const Shape& s) { return 2.0 * s.n * s.t * 4 * s.h * (double)(s.f + s.h); }

// ---- the peer: PyTorch nn.LSTM in a child python3 -------------------------------------------------------------------

const char* kPeerScript = R"PY(
import sys, time, statistics, torch
torch.set_num_threads(int(sys.argv[1])); runs = int(sys.argv[2])
for spec in sys.argv[3:]:
    n, t, f, h = map(int, spec.split(','))
    torch.manual_seed(0)
    m = torch.nn.LSTM(f, h, batch_first=True)
    x = torch.randn(n, t, f)
    def fwd():
        with torch.no_grad():
            m(x)
    xx = x.clone().requires_grad_(True)  # made once, like Kiln's buffers: the timed part is the LSTM's alone
    dy = torch.ones(n, t, h)
    def fb():
        xx.grad = None  # dx assigned each run, as Kiln's is (not accumulated)
        y, (hn, cn) = m(xx)
        y.backward(dy)
    out = []
    for fn in (fwd, fb):
        warm_until, i = time.perf_counter() + 0.2, 0
        while i < 3 or time.perf_counter() < warm_until:  # the same warm-up as Kiln's median_ms
            fn(); i += 1
        ms = []
        for _ in range(runs):
            t0 = time.perf_counter(); fn(); ms.append((time.perf_counter() - t0) * 1e3)
        out.append(statistics.median(ms))
    print("PEER %s %.6f %.6f" % (spec, out[0], out[1]), flush=True)
)PY";

std::string python_with_torch() {
    if (const char* p = std::getenv("KILN_BENCH_PYTHON")) return p;
    for (const char* cand : {"python3", "/usr/bin/python3"}) {
        const std::string cmd = std::string(cand) + " -c 'import torch' >/dev/null 2>&1";
        if (std::system(cmd.c_str()) == 0) return cand;
    }
    return "";
}

struct PeerTimes {
    double fwd = -1, fb = -1;
};

// Runs the peer script for every shape; returns the times in kShapes order (negative: not measured).
std::vector<PeerTimes> run_peer(const std::string& python, int threads, int runs, std::string* version) {
    std::vector<PeerTimes> out(sizeof(kShapes) / sizeof(kShapes[0]));
    if (python.empty()) return out;
    const char* path = "/tmp/kiln_lstm_peer.py";
    if (FILE* f = std::fopen(path, "w")) {
        std::fputs(kPeerScript, f);
        std::fclose(f);
    } else {
        return out;
    }
    std::string cmd = python + " -c 'import torch; print(\"VERSION\", torch.__version__)'; " + python + " " + path + " " +
                      std::to_string(threads) + " " + std::to_string(runs);
    for (const Shape& s : kShapes)
        cmd += " " + std::to_string(s.n) + "," + std::to_string(s.t) + "," + std::to_string(s.f) + "," + std::to_string(s.h);
    // The peer's malloc settings of bench/compare/peer_env.py (which says why), inherited through popen.
    setenv("MALLOC_MMAP_THRESHOLD_", "33554432", 0);
    setenv("MALLOC_TRIM_THRESHOLD_", "1073741824", 0);
    setenv("MALLOC_MMAP_MAX_", "0", 0);
    FILE* p = popen(cmd.c_str(), "r");
    if (!p) return out;
    char line[512];
    size_t i = 0;
    while (std::fgets(line, sizeof(line), p)) {
        char spec[128], ver[128];
        double a, b;
        if (std::sscanf(line, "VERSION %127s", ver) == 1) *version = ver;
        if (std::sscanf(line, "PEER %127s %lf %lf", spec, &a, &b) == 3 && i < out.size()) out[i++] = {a, b};
    }
    pclose(p);
    return out;
}

// One training forward and backward against bench_reference.h's double-precision LSTM, before anything is timed.
// dy is zero but for the first and the last sample, so the weight gradients (sums over the batch) are those two
// samples' alone and the reference needs only them; every output is then checked: y, h_n, c_n, dx, dh0, dc0 of both
// rows and dw_ih, dw_hh, dbias whole.
bool matches_reference(kiln_context* ctx, const Shape& s, const std::vector<float>& x, const std::vector<float>& wih,
                       const std::vector<float>& whh, const std::vector<float>& b, const std::vector<float>& dy) {
    const int64_t n = s.n, t = s.t, f = s.f, h = s.h;
    std::vector<float> dy2(n * t * h, 0.0f), y(n * t * h), hn(n * h), cn(n * h), dx(n * t * f), dh0(n * h), dc0(n * h),
        dwih(4 * h * f), dwhh(4 * h * h), db(4 * h);
    const int64_t rows[2] = {0, n - 1};
    for (int64_t r : rows) std::copy(&dy[r * t * h], &dy[r * t * h] + t * h, &dy2[r * t * h]);
    const kiln_lstm_desc d{n, t, f, h};
    uint64_t bytes = 0;
    kiln::bench::check(kiln_lstm_reserve_size(&d, &bytes), "kiln_lstm_reserve_size");
    std::vector<float> reserve(bytes / sizeof(float));
    kiln::bench::check(kiln_lstm_forward_f32(ctx, &d, x.data(), nullptr, nullptr, wih.data(), whh.data(), b.data(),
                                             y.data(), hn.data(), cn.data(), reserve.data()),
                       "kiln_lstm_forward_f32");
    kiln::bench::check(kiln_lstm_backward_f32(ctx, &d, x.data(), nullptr, nullptr, wih.data(), whh.data(),
                                              reserve.data(), dy2.data(), nullptr, nullptr, dx.data(), dh0.data(),
                                              dc0.data(), dwih.data(), dwhh.data(), db.data()),
                       "kiln_lstm_backward_f32");
    using kiln::bench::close_to;
    const double tol = 1e-4;
    kiln::bench::Doubles want_dwih(4 * h * f, 0), want_dwhh(4 * h * h, 0), want_db(4 * h, 0);
    for (int64_t r : rows) {
        const kiln::bench::LstmSampleRef ref = kiln::bench::lstm_sample_reference(
            t, f, h, &x[r * t * f], wih.data(), whh.data(), b.data(), &dy2[r * t * h]);
        if (!(close_to("y", &y[r * t * h], ref.y, tol) && close_to("h_n", &hn[r * h], ref.hn, tol) &&
              close_to("c_n", &cn[r * h], ref.cn, tol) && close_to("dx", &dx[r * t * f], ref.dx, tol) &&
              close_to("dh0", &dh0[r * h], ref.dh0, tol) && close_to("dc0", &dc0[r * h], ref.dc0, tol)))
            return false;
        for (size_t i = 0; i < want_dwih.size(); ++i) want_dwih[i] += ref.dwih[i];
        for (size_t i = 0; i < want_dwhh.size(); ++i) want_dwhh[i] += ref.dwhh[i];
        for (size_t i = 0; i < want_db.size(); ++i) want_db[i] += ref.db[i];
    }
    return close_to("dw_ih", dwih.data(), want_dwih, tol) && close_to("dw_hh", dwhh.data(), want_dwhh, tol) &&
           close_to("dbias", db.data(), want_db, tol);
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::max(3, std::atoi(argv[1])) : 11;
    kiln_context* ctx = nullptr;
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) != KILN_OK) {
        std::fprintf(stderr, "cannot create the CPU context: %s\n", kiln_last_error());
        return 1;
    }
    const int threads = kiln::cpu::num_threads();
    std::printf("kiln lstm cpu bench: %s; %d threads, median of %d runs after at least 200 ms of warm-up, load average %.2f\n",
                kiln_build_info(), threads, runs, load_average());

    struct Row {
        double fwd, fb;
    };
    std::vector<Row> rows;
    for (const Shape& s : kShapes) {
        const int64_t n = s.n, t = s.t, f = s.f, h = s.h;
        const float k = 1.0f / std::sqrt((float)h);  // PyTorch's init range
        const std::vector<float> x = uniform(n * t * f, 1, -1, 1), wih = uniform(4 * h * f, 2, -k, k),
                                 whh = uniform(4 * h * h, 3, -k, k), b = uniform(4 * h, 4, -k, k),
                                 dy = uniform(n * t * h, 5, -1, 1);
        std::vector<float> y(n * t * h), hn(n * h), cn(n * h), dx(n * t * f), dwih(4 * h * f), dwhh(4 * h * h),
            db(4 * h), dh0(n * h), dc0(n * h);
        if (!matches_reference(ctx, s, x, wih, whh, b, dy)) {
            std::fprintf(stderr, "%s: the result is wrong; not timed\n", s.name);
            return 1;
        }
        const kiln_lstm_desc d{n, t, f, h};
        uint64_t bytes = 0;
        kiln_lstm_reserve_size(&d, &bytes);
        std::vector<float> reserve(bytes / sizeof(float));
        bool ok = true;
        auto forward = [&](void* res) {
            ok &= kiln_lstm_forward_f32(ctx, &d, x.data(), nullptr, nullptr, wih.data(), whh.data(), b.data(), y.data(),
                                        hn.data(), cn.data(), res) == KILN_OK;
        };
        // Inference forward (nothing kept), as PyTorch's no_grad forward; training forward plus the full backward.
        const double fwd = median_ms(runs, [&] { forward(nullptr); });
        const double fb = median_ms(runs, [&] {
            forward(reserve.data());
            ok &= kiln_lstm_backward_f32(ctx, &d, x.data(), nullptr, nullptr, wih.data(), whh.data(), reserve.data(),
                                         dy.data(), nullptr, nullptr, dx.data(), dh0.data(), dc0.data(), dwih.data(),
                                         dwhh.data(), db.data()) == KILN_OK;
        });
        if (!ok) {
            std::fprintf(stderr, "%s: a kiln call failed: %s\n", s.name, kiln_last_error());
            return 1;
        }
        rows.push_back({fwd, fb});
    }

    std::string version = "?";
    const std::string python = python_with_torch();
    const std::vector<PeerTimes> peer = run_peer(python, threads, runs, &version);
    std::printf("peer: %s\n\n", python.empty() ? "none (no python3 with torch; set KILN_BENCH_PYTHON)"
                                               : ("PyTorch " + version + " nn.LSTM via " + python).c_str());
    std::printf("%-20s %-17s %10s %9s %12s %14s\n", "shape", "pass", "kiln ms", "GFLOP/s", "torch ms", "kiln speedup");
    for (size_t i = 0; i < rows.size(); ++i) {
        const Shape& s = kShapes[i];
        const double gf = forward_flops(s) / 1e6;  // flops / 1e9 per ms -> GFLOP/s
        const double kms[2] = {rows[i].fwd, rows[i].fb}, pms[2] = {peer[i].fwd, peer[i].fb}, mult[2] = {1, 3};
        const char* pass[2] = {"forward", "forward_backward"};
        for (int j = 0; j < 2; ++j) {
            char ptxt[32] = "-", rtxt[32] = "-";
            if (pms[j] > 0) {
                std::snprintf(ptxt, sizeof(ptxt), "%.3f", pms[j]);
                std::snprintf(rtxt, sizeof(rtxt), "%.2fx", pms[j] / kms[j]);
            }
            std::printf("%-20s %-17s %10.3f %9.1f %12s %14s\n", s.name, pass[j], kms[j], mult[j] * gf / kms[j], ptxt,
                        rtxt);
        }
    }
    std::printf("\n");
    for (size_t i = 0; i < rows.size(); ++i) {
        std::printf("RESULT lstm %s forward %.4f\n", kShapes[i].name, rows[i].fwd);
        std::printf("RESULT lstm %s forward_backward %.4f\n", kShapes[i].name, rows[i].fb);
    }
    kiln_context_destroy(ctx);
    return 0;
}
