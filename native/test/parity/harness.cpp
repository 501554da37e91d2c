// The parity harness runner: registry, guarded buffers, comparison, and the text/JSON report.
#include "parity/harness.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>

namespace kiln::parity {

namespace {

struct Family {
    const char* name;
    CaseFactory factory;
};

std::vector<Family>& families() {
    static std::vector<Family> all;
    return all;
}

constexpr size_t kGuardBytes = 256;
constexpr uint8_t kGuardByte = 0xA5;

size_t elem_size(Elem e) { return e == Elem::BF16 ? 2 : 4; }

Arg make(Role role, Elem elem, size_t count, const void* data) {
    Arg a{role, elem, count, {}};
    if (data) {
        a.init.resize(count * elem_size(elem));
        if (count) std::memcpy(a.init.data(), data, a.init.size());
    }
    return a;
}

struct Outcome {
    std::vector<std::vector<uint8_t>> outputs;  // per arg (empty for In)
    std::string error;                          // non-empty: the run failed
};

// Runs a case on ctx: each buffer gets guard zones before and after; outputs start as NaN bytes so an op that
// forgets to write shows up in the comparison.
Outcome run_case(kiln_context* ctx, const OpCase& c) {
    Outcome result;
    std::vector<void*> bases, ptrs;
    auto fail_with = [&](const std::string& what) {
        result.error = what + ": " + kiln_last_error();
        for (void* b : bases) kiln_free(ctx, b);
        return result;
    };
    for (const Arg& a : c.args) {
        const size_t bytes = a.count * elem_size(a.elem);
        void* base = nullptr;
        if (kiln_alloc(ctx, bytes + 2 * kGuardBytes, &base) != KILN_OK) return fail_with("alloc");
        bases.push_back(base);
        std::vector<uint8_t> image(bytes + 2 * kGuardBytes, kGuardByte);
        if (a.role == Role::Out) std::memset(image.data() + kGuardBytes, 0xFF, bytes);  // NaN pattern
        else if (bytes) std::memcpy(image.data() + kGuardBytes, a.init.data(), bytes);
        if (kiln_copy_to_device(ctx, base, image.data(), image.size()) != KILN_OK) return fail_with("upload");
        ptrs.push_back(static_cast<uint8_t*>(base) + kGuardBytes);
    }
    if (c.run(ctx, ptrs) != KILN_OK) return fail_with("op");
    if (kiln_synchronize(ctx) != KILN_OK) return fail_with("synchronize");
    for (size_t i = 0; i < c.args.size(); ++i) {
        const Arg& a = c.args[i];
        const size_t bytes = a.count * elem_size(a.elem);
        std::vector<uint8_t> image(bytes + 2 * kGuardBytes);
        if (kiln_copy_to_host(ctx, image.data(), bases[i], image.size()) != KILN_OK) return fail_with("download");
        for (size_t g = 0; g < kGuardBytes; ++g) {
            if (image[g] != kGuardByte || image[kGuardBytes + bytes + g] != kGuardByte) {
                result.error = "guard bytes of argument " + std::to_string(i) + " were overwritten";
                for (void* b : bases) kiln_free(ctx, b);
                return result;
            }
        }
        if (a.role != Role::In) result.outputs.emplace_back(image.begin() + kGuardBytes, image.begin() + kGuardBytes + bytes);
        else result.outputs.emplace_back();
    }
    for (void* b : bases) kiln_free(ctx, b);
    return result;
}

// bf16 bits -> fp32 and fp32 -> bf16 (nearest even; NaN stays NaN), written here rather than taken from the code
// under test.
float widen_bf16(uint16_t b) {
    const uint32_t u = (uint32_t)b << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
uint16_t round_bf16(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

// Element i of a float or bf16 buffer, as fp32.
float value_at(Elem e, const std::vector<uint8_t>& bytes, size_t i) {
    if (e == Elem::BF16) {
        uint16_t b;
        std::memcpy(&b, bytes.data() + 2 * i, 2);
        return widen_bf16(b);
    }
    float f;
    std::memcpy(&f, bytes.data() + 4 * i, 4);
    return f;
}

// Normalized MSE of `got` against `ref` (bf16 widened to fp32); integer outputs must match exactly. NaN anywhere in
// got counts as a miss; an infinity must be matched by the same infinity and is left out of the sums (which it would
// turn into NaN, a result nothing could fail).
double compare(const Arg& a, const std::vector<uint8_t>& got, const std::vector<uint8_t>& ref) {
    // Not memcmp: an empty output's data() may be null, which memcmp may not be given even for 0 bytes.
    const bool bit_equal = got == ref;
    if (a.elem == Elem::I32) return bit_equal ? 0.0 : INFINITY;
    double err = 0, norm = 0;
    bool zero_sign_differs = false;
    for (size_t i = 0; i < a.count; ++i) {
        const float g = value_at(a.elem, got, i), r = value_at(a.elem, ref, i);
        zero_sign_differs |= g == 0.0f && r == 0.0f && std::signbit(g) != std::signbit(r);
        if (std::isnan(g) != std::isnan(r)) return INFINITY;
        if (std::isnan(r)) continue;
        if (std::isinf(g) || std::isinf(r)) {
            if (g != r) return INFINITY;
            continue;
        }
        const double d = (double)g - (double)r;
        err += d * d;
        norm += (double)r * r;
    }
    if (bit_equal) return 0.0;
    const double nmse = err / (norm > 0 ? norm : 1.0);
    if (std::isnan(nmse)) return INFINITY;
    // A -0 against a +0 is a difference no sum sees; a tolerance of 0 means the same bits (NaN payloads aside).
    return nmse == 0 && zero_sign_differs ? std::numeric_limits<double>::denorm_min() : nmse;
}

// The harness's own checks, run before any case: element sizes, bf16 rounding and widening, and compare()'s rules.
bool self_check() {
    bool ok = elem_size(Elem::F32) == 4 && elem_size(Elem::I32) == 4 && elem_size(Elem::BF16) == 2;
    ok &= round_bf16(1.0f) == 0x3f80 && widen_bf16(0x3f80) == 1.0f && round_bf16(-2.5f) == 0xc020;
    ok &= round_bf16(1.00390625f) == 0x3f80 && round_bf16(1.01171875f) == 0x3f82;  // ties to even, both ways
    ok &= std::isnan(widen_bf16(round_bf16(NAN))) && widen_bf16(round_bf16(INFINITY)) == INFINITY;
    const Arg a = in_bf16({1.0f, -2.0f, 0.5f, INFINITY});
    ok &= a.count == 4 && a.init.size() == 8;
    std::vector<uint8_t> b = a.init;
    ok &= compare(a, b, a.init) == 0.0;
    b[2] ^= 1;  // -2 by one bf16 ulp
    const double small = compare(a, b, a.init);
    ok &= small > 0.0 && small < 1e-4;
    b = a.init;
    b[6] = 0x80;  // +inf -> -inf
    b[7] = 0xff;
    ok &= compare(a, b, a.init) == INFINITY;
    std::vector<uint8_t> nan_bytes(8, 0xff);  // what an unwritten output holds
    ok &= compare(a, nan_bytes, a.init) == INFINITY;
    const Arg f = in_f32({-INFINITY, 1.0f});
    std::vector<uint8_t> g = f.init;
    const float close = 1.0f + 0x1p-20f;
    std::memcpy(g.data() + 4, &close, 4);
    const double d = compare(f, g, f.init);
    ok &= d > 0.0 && d < 1e-10;  // equal infinities count as matched, and the rest is still compared
    const Arg z = in_f32({0.0f, 2.0f});
    std::vector<uint8_t> minus = z.init;
    minus[3] = 0x80;  // +0 -> -0: fails a tolerance of 0, passes any other
    const double signed_zero = compare(z, minus, z.init);
    ok &= signed_zero > 0.0 && signed_zero < 1e-300;
    return ok;
}

struct Report {
    int passed = 0, failed = 0, skipped = 0;
    std::string json_cases;
    void add(const std::string& backend, const OpCase& c, const char* status, double nmse, const std::string& note) {
        std::printf("  %-5s %-8s %-28s %-36s nmse=%-10.3g tol=%-8.3g %s\n", status, backend.c_str(), c.op.c_str(),
                    c.shape.c_str(), nmse, c.max_nmse, note.c_str());
        char buf[1024];
        std::snprintf(buf, sizeof(buf),
                      "%s{\"backend\":\"%s\",\"op\":\"%s\",\"shape\":\"%s\",\"status\":\"%s\",\"nmse\":%.6g,\"tol\":%.6g}",
                      json_cases.empty() ? "" : ",", backend.c_str(), c.op.c_str(), c.shape.c_str(), status,
                      std::isfinite(nmse) ? nmse : -1.0, c.max_nmse);
        json_cases += buf;
    }
};

}  // namespace

bool register_family(const char* family, CaseFactory factory) {
    families().push_back({family, factory});
    return true;
}

Arg in_f32(const std::vector<float>& v) { return make(Role::In, Elem::F32, v.size(), v.data()); }
Arg inout_f32(const std::vector<float>& v) { return make(Role::InOut, Elem::F32, v.size(), v.data()); }
Arg in_i32(const std::vector<int32_t>& v) { return make(Role::In, Elem::I32, v.size(), v.data()); }
Arg out_f32(size_t n) { return make(Role::Out, Elem::F32, n, nullptr); }
Arg out_i32(size_t n) { return make(Role::Out, Elem::I32, n, nullptr); }
Arg in_bf16(const std::vector<float>& v) {
    std::vector<uint16_t> b(v.size());
    for (size_t i = 0; i < v.size(); ++i) b[i] = round_bf16(v[i]);
    return make(Role::In, Elem::BF16, b.size(), b.data());
}
Arg out_bf16(size_t n) { return make(Role::Out, Elem::BF16, n, nullptr); }

std::vector<float> host_uniform(size_t n, uint32_t seed, float lo, float hi) {
    std::vector<float> v(n);
    uint64_t state = 0x9E3779B97F4A7C15ull ^ seed;
    for (size_t i = 0; i < n; ++i) {
        state = state * 6364136223846793005ull + 1442695040888963407ull;
        v[i] = lo + (hi - lo) * (float)((state >> 40) * 0x1p-24);
    }
    return v;
}

}  // namespace kiln::parity

// Exit status when every CPU case passed but no CUDA device was there to compare with; native/test/CMakeLists.txt
// gives it to ctest as SKIP_RETURN_CODE.
constexpr int kSkippedExitCode = 77;

// Usage: kiln_parity [--json FILE] [--require-cuda] [--filter SUBSTRING] [--shard I/N]
// --shard I/N runs every Nth of the cases the filter keeps, from the Ith (0 <= I < N): N processes with I = 0..N-1
// run each case once between them, on as many cores (the emulated device runs a kernel on one thread).
int main(int argc, char** argv) {
    using namespace kiln::parity;
    const char* json_path = nullptr;
    const char* filter = nullptr;
    bool require_cuda = false;
    int shard = 0, shards = 1;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--json" && i + 1 < argc) json_path = argv[++i];
        else if (a == "--filter" && i + 1 < argc) filter = argv[++i];
        else if (a == "--require-cuda") require_cuda = true;
        else if (a == "--shard" && i + 1 < argc) {
            if (std::sscanf(argv[++i], "%d/%d", &shard, &shards) != 2 || shards < 1 || shard < 0 || shard >= shards) {
                std::fprintf(stderr, "--shard needs I/N with 0 <= I < N, got %s\n", argv[i]);
                return 2;
            }
        } else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
    }

    if (!self_check()) {
        std::fprintf(stderr, "kiln parity: the harness's self-check failed (element sizes, bf16, compare)\n");
        return 1;
    }
    kiln_context* cpu = nullptr;
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &cpu) != KILN_OK) {
        std::fprintf(stderr, "cannot create the CPU context: %s\n", kiln_last_error());
        return 1;
    }
    int32_t gpus = 0;
    const char* reason = "";
    kiln_cuda_device_count(&gpus, &reason);
    std::vector<std::pair<std::string, kiln_context*>> others;
    for (int d = 0; d < gpus; ++d) {
        kiln_context* ctx = nullptr;
        if (kiln_context_create(KILN_DEVICE_CUDA, d, &ctx) != KILN_OK) {
            std::fprintf(stderr, "cannot create a context on cuda:%d: %s\n", d, kiln_last_error());
            return 1;
        }
        others.emplace_back("cuda:" + std::to_string(d), ctx);
    }
    std::printf("kiln parity: %s\n", kiln_build_info());
    if (gpus == 0) std::printf("kiln parity: CUDA cases SKIPPED: %s\n", reason);

    Report report;
    int64_t kept = 0;  // cases the filter kept so far, for the shard's share
    for (const auto& fam : families()) {
        for (const OpCase& c : fam.factory()) {
            if (filter && (fam.name + std::string("/") + c.op).find(filter) == std::string::npos) continue;
            if (kept++ % shards != shard) continue;
            const Outcome ref = run_case(cpu, c);
            if (!ref.error.empty()) {
                report.failed++;
                report.add("cpu", c, "FAIL", INFINITY, ref.error);
                continue;
            }
            report.passed++;
            report.add("cpu", c, "ok", 0.0, "reference");
            if (others.empty()) {
                report.skipped++;
                continue;
            }
            for (auto& [name, ctx] : others) {
                const Outcome got = run_case(ctx, c);
                if (!got.error.empty()) {
                    report.failed++;
                    report.add(name, c, "FAIL", INFINITY, got.error);
                    continue;
                }
                double worst = 0;
                for (size_t i = 0; i < c.args.size(); ++i)
                    if (c.args[i].role != Role::In) worst = std::fmax(worst, compare(c.args[i], got.outputs[i], ref.outputs[i]));
                const bool ok = worst <= c.max_nmse;
                (ok ? report.passed : report.failed)++;
                report.add(name, c, ok ? "ok" : "FAIL", worst, "");
            }
        }
    }
    std::printf("parity: %d passed, %d failed, %d skipped\n", report.passed, report.failed, report.skipped);
    if (json_path) {
        if (FILE* f = std::fopen(json_path, "w")) {
            std::fprintf(f, "{\"build\":\"%s\",\"cuda_devices\":%d,\"passed\":%d,\"failed\":%d,\"skipped\":%d,\"cases\":[%s]}\n",
                         kiln_build_info(), gpus, report.passed, report.failed, report.skipped, report.json_cases.c_str());
            std::fclose(f);
        }
    }
    for (auto& [name, ctx] : others) kiln_context_destroy(ctx);
    kiln_context_destroy(cpu);
    if (require_cuda && gpus == 0) {
        std::fprintf(stderr, "--require-cuda given but no CUDA device is available: %s\n", reason);
        return 1;
    }
    if (report.failed > 0) return 1;
    // Nothing was compared with another backend: say so in ctest's own terms (SKIP_RETURN_CODE) rather than pass.
    // The CPU self-checks above still ran, and a failure among them still fails the test.
    return gpus == 0 ? kSkippedExitCode : 0;
}
