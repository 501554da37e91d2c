// Harness of the op benchmark (ops_cpu_bench.cpp, ops_gpu_bench.cu; cases in ops_cases.h): every case is set up on
// the subject context (CUDA device 0, or the CPU) and on a CPU reference context, run once on both and compared; only
// a case that agrees is timed. It calls nothing but the C ABI, so what it times is the launchers that ship.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "bench_shapes.h"
#include "bench_timing.h"
#include "kiln/kiln.h"

namespace kiln::bench::ops {

using Run = std::function<kiln_status(kiln_context*)>;

// One case's buffers on one context. Inputs are copied from host data; outputs are registered for the comparison and
// start as NaN (all-ones bytes) on the subject and as 0 on the reference, so an element one backend leaves unwritten
// shows as a mismatch. A failed allocation is kept in `error` (the case then fails; the run goes on).
class Tensors {
public:
    struct Output {
        const void* p;
        size_t n;
        bool i32;
    };

    Tensors(kiln_context* ctx, bool subject) : ctx_(ctx), subject_(subject) {}
    ~Tensors() {
        for (void* p : owned_) kiln_free(ctx_, p);
    }
    Tensors(const Tensors&) = delete;
    Tensors& operator=(const Tensors&) = delete;

    float* in(const std::vector<float>& host) { return static_cast<float*>(put(host.data(), host.size() * 4)); }
    int32_t* in_i32(const std::vector<int32_t>& host) {
        return static_cast<int32_t*>(put(host.data(), host.size() * 4));
    }
    // Read and updated in place (optimizer state, running statistics): compared after the run.
    float* inout(const std::vector<float>& host) {
        float* p = in(host);
        outputs.push_back({p, host.size(), false});
        return p;
    }
    float* out(size_t n) { return static_cast<float*>(blank(n, false)); }
    int32_t* out_i32(size_t n) { return static_cast<int32_t*>(blank(n, true)); }

    std::vector<Output> outputs;
    std::string error;

private:
    void* put(const void* host, size_t bytes) {
        void* p = nullptr;
        if (!error.empty()) return nullptr;
        if (kiln_alloc(ctx_, bytes, &p) != KILN_OK || kiln_copy_to_device(ctx_, p, host, bytes) != KILN_OK) {
            error = kiln_last_error();
            return p;
        }
        owned_.push_back(p);
        return p;
    }
    void* blank(size_t n, bool i32) {
        const std::vector<uint8_t> fill(n * 4, subject_ ? 0xFF : 0x00);
        void* p = put(fill.data(), fill.size());
        outputs.push_back({p, n, i32});
        return p;
    }

    kiln_context* ctx_;
    bool subject_;
    std::vector<void*> owned_;
};

// The rate a case is measured by: floating-point work (GFLOP per call, of the FMA peak) or memory traffic (GB per
// call: each operand read once and each output written once, the least any implementation moves; of the copy peak,
// whose writes pay a read for ownership on a CPU, so an in-place update there may show more than 100%).
struct Rate {
    double giga;
    bool flops;
};
inline Rate gflop(double flop) { return {flop / 1e9, true}; }
inline Rate gbyte(double bytes) { return {bytes / 1e9, false}; }

// The largest |subject - reference| over an output, divided by the largest |reference| of that output (so the
// tolerance is relative to the output's scale, whatever it is); 0 demands identical bits.
struct Tolerance {
    double max_err;
    const char* why;
};

struct Case {
    const char* family;  // "gemm"
    const char* name;    // "square_2048": one word (the RESULT lines are split on spaces)
    const char* shape;   // "(2048,2048)x(2048,2048)"
    Rate rate;
    Tolerance tol;
    // Allocates the inputs (the same deterministic data on every call) and outputs, and returns the call.
    std::function<Run(Tensors&)> setup;
};

// The device a case is timed on. `ms` runs `reps` calls back to back and returns the milliseconds they took on the
// device's clock (CUDA events on the context's stream; std::chrono and kiln_synchronize on the CPU).
struct Subject {
    kiln_context* ctx = nullptr;
    std::string device;   // "cuda:0 NVIDIA H200 (132 SMs)"
    double target_ms;     // each sample lasts at least this long
    int samples;
    std::function<double(const Run&, int reps, kiln_status*)> ms;
};

inline double cpu_time_ms(kiln_context* ctx, const Run& run, int reps, kiln_status* st) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps && *st == KILN_OK; ++i) *st = run(ctx);
    if (*st == KILN_OK) *st = kiln_synchronize(ctx);
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Error of one output as above; an integer output (argmax indices) must match exactly. NaN agrees only with NaN.
inline double output_error(const std::vector<uint8_t>& got, const std::vector<uint8_t>& ref, size_t n, bool i32) {
    if (i32) return std::memcmp(got.data(), ref.data(), n * 4) == 0 ? 0.0 : INFINITY;
    const float* g = reinterpret_cast<const float*>(got.data());
    const float* r = reinterpret_cast<const float*>(ref.data());
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; ++i) {
        const float gi = g[i], ri = r[i];
        if (std::isnan(gi) || std::isnan(ri)) {
            if (std::isnan(gi) && std::isnan(ri)) continue;
            return INFINITY;
        }
        if (gi != ri && (!std::isfinite(gi) || !std::isfinite(ri))) return INFINITY;
        if (std::isfinite(ri)) scale = std::max(scale, (double)std::fabs(ri));
        diff = std::max(diff, std::fabs((double)gi - ri));
    }
    return diff == 0 ? 0.0 : diff / (scale > 0 ? scale : 1.0);
}

// Runs the case once on each context and returns the largest error over its outputs (INFINITY and a message in
// `what` when a call or a copy fails).
inline double validate(const Case& c, Tensors& sub, const Run& sub_run, kiln_context* sub_ctx, Tensors& ref,
                       const Run& ref_run, kiln_context* ref_ctx, std::string* what) {
    if (!sub.error.empty() || !ref.error.empty()) {
        *what = "setup: " + (sub.error.empty() ? ref.error : sub.error);
        return INFINITY;
    }
    if (ref_run(ref_ctx) != KILN_OK || kiln_synchronize(ref_ctx) != KILN_OK) {
        *what = std::string("reference: ") + kiln_last_error();
        return INFINITY;
    }
    if (sub_run(sub_ctx) != KILN_OK || kiln_synchronize(sub_ctx) != KILN_OK) {
        *what = std::string("subject: ") + kiln_last_error();
        return INFINITY;
    }
    double err = 0;
    for (size_t i = 0; i < sub.outputs.size(); ++i) {
        const Tensors::Output &s = sub.outputs[i], &r = ref.outputs[i];
        std::vector<uint8_t> got(s.n * 4), want(r.n * 4);
        if (kiln_copy_to_host(sub_ctx, got.data(), s.p, got.size()) != KILN_OK ||
            kiln_copy_to_host(ref_ctx, want.data(), r.p, want.size()) != KILN_OK) {
            *what = std::string("copy to host: ") + kiln_last_error();
            return INFINITY;
        }
        const double e = output_error(got, want, s.n, s.i32);
        if (e > c.tol.max_err && what->empty()) {
            const char* how = s.i32 ? " (int32) differs" : " differs";
            if (!s.i32 && std::isinf(e)) how = " has NaN or inf where the reference has not, or the reverse";
            *what = "output " + std::to_string(i) + how;
        }
        err = std::max(err, e);
    }
    return err;
}

struct Options {
    std::vector<std::string> families;  // empty: all
    int samples = 0;                    // 0: the subject's default
};

inline Options parse_options(int argc, char** argv) {
    Options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--family" && i + 1 < argc) {
            std::string list = argv[++i];
            for (size_t p = 0; p <= list.size();) {
                const size_t q = std::min(list.find(',', p), list.size());
                if (q > p) o.families.push_back(list.substr(p, q - p));
                p = q + 1;
            }
        } else if (a == "--samples" && i + 1 < argc) {
            o.samples = std::max(1, std::atoi(argv[++i]));
        } else {
            std::fprintf(stderr, "usage: %s [--family gemm,elementwise,...] [--samples N]\n", argv[0]);
            std::exit(2);
        }
    }
    return o;
}

// Validates and times every selected case on the subject; prints the table and the RESULT lines. Returns the exit
// status: 0 when every case agreed with the reference, 1 otherwise.
inline int run_cases(const std::vector<Case>& cases, Subject& subject, const Options& opt) {
    kiln_context* ref_ctx = nullptr;
    check(kiln_context_create(KILN_DEVICE_CPU, 0, &ref_ctx), "kiln_context_create(cpu)");
    // A smoke run (bench_shapes.h) times only the GEMM cases under a GFLOP, once: the memory-bound cases all move
    // 64 MiB operands, minutes each on the emulator, and reach the device through the same code.
    const bool smoke = smoke_run();
    kiln_device_peak peak{};
    check(kiln_measure_peak(subject.ctx, &peak), "kiln_measure_peak");
    const int samples = smoke ? 1 : opt.samples > 0 ? opt.samples : subject.samples;
    if (smoke) std::printf("SMOKE RUN (KILN_BENCH_SMOKE): the cases under 1 GFLOP, one sample; no real timing\n");
    std::printf("kiln op benchmark on %s\n", subject.device.c_str());
    std::printf("build: %s\n", kiln_build_info());
    std::printf("measured peak (kiln_measure_peak): %.1f GFLOP/s fp32 FMA, %.1f GB/s copy; load average %.2f\n",
                peak.fma_gflops, peak.copy_gbps, load_average());
    std::printf("reference: Kiln's CPU backend; check = max|subject - reference| / max|reference| vs the case's "
                "tolerance\n");
    std::printf("time: median of %d samples of >= %.0f ms each (spread: (max - min) / median)\n\n", samples,
                subject.target_ms);
    std::printf("%-12s %-22s %-26s %-22s %10s %7s %17s %8s\n", "family", "case", "shape", "check", "median ms",
                "spread", "rate", "of peak");

    int failed = 0, run = 0;
    std::vector<std::string> results;
    for (const Case& c : cases) {
        if (!opt.families.empty() &&
            std::find(opt.families.begin(), opt.families.end(), c.family) == opt.families.end())
            continue;
        if (smoke && (!c.rate.flops || c.rate.giga > 1.0)) continue;
        ++run;
        Tensors sub(subject.ctx, true);
        const Run sub_run = c.setup(sub);
        std::string what;
        double err;
        {
            Tensors ref(ref_ctx, false);  // freed before timing
            const Run ref_run = c.setup(ref);
            err = validate(c, sub, sub_run, subject.ctx, ref, ref_run, ref_ctx, &what);
        }
        char check_col[64];
        std::snprintf(check_col, sizeof check_col, "%.1e/%.0e %s", err, c.tol.max_err,
                      err <= c.tol.max_err ? "PASS" : "FAIL");
        if (!(err <= c.tol.max_err)) {
            ++failed;
            std::printf("%-12s %-22s %-26s %-22s  not timed: %s\n", c.family, c.name, c.shape, check_col,
                        what.c_str());
            std::fflush(stdout);
            continue;
        }

        // Warm up, then size a sample to the target from one timed call.
        kiln_status st = KILN_OK;
        subject.ms(sub_run, 1, &st);
        const double one = std::max(subject.ms(sub_run, 1, &st), 1e-4);
        const int reps = std::max(1, std::min(100000, (int)std::ceil(subject.target_ms / one)));
        std::vector<double> ms;
        for (int s = 0; s < samples && st == KILN_OK; ++s) ms.push_back(subject.ms(sub_run, reps, &st) / reps);
        if (st != KILN_OK) {
            ++failed;
            std::printf("%-12s %-22s %-26s %-22s  timing failed: %s\n", c.family, c.name, c.shape, check_col,
                        kiln_last_error());
            continue;
        }
        std::sort(ms.begin(), ms.end());
        const double med = ms[ms.size() / 2], spread = (ms.back() - ms.front()) / med;
        const double rate = c.rate.giga / (med / 1e3);
        const double of_peak = rate / (c.rate.flops ? peak.fma_gflops : peak.copy_gbps);
        std::printf("%-12s %-22s %-26s %-22s %10.4f %6.1f%% %9.1f %-7s %7.1f%%\n", c.family, c.name, c.shape,
                    check_col, med, 100 * spread, rate, c.rate.flops ? "GFLOP/s" : "GB/s", 100 * of_peak);
        std::fflush(stdout);
        char line[256];
        std::snprintf(line, sizeof line, "RESULT %s %s %.5f %.2f %s", c.family, c.name, med, rate,
                      c.rate.flops ? "GFLOP/s" : "GB/s");
        results.push_back(line);
    }
    std::printf("\n");
    for (const std::string& r : results) std::printf("%s\n", r.c_str());
    std::printf("\n%d cases, %d passed, %d failed (load average now %.2f)\n", run, run - failed, failed,
                load_average());
    kiln_context_destroy(ref_ctx);
    if (run == 0) std::printf("no case matched the --family filter\n");
    return failed == 0 && run > 0 ? 0 : 1;
}

}  // namespace kiln::bench::ops
