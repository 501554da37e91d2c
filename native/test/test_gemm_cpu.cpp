// Tests for the CPU GEMM (every ISA kernel set this CPU can run, plus the dispatched entry points) against a
// double-precision reference, and for parallel_for. Standalone main; exits nonzero on any failure.
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "cpu/parallel.h"
#include "cpu/sgemm.h"
#include "kiln/kiln.h"

namespace {

using kiln::cpu::gemm_detail::KernelSet;

std::atomic<int> g_passed{0}, g_failed{0};

void check(bool ok, const std::string& what) {
    if (ok) {
        ++g_passed;
    } else {
        ++g_failed;
        if (g_failed <= 30) std::printf("FAIL: %s\n", what.c_str());
    }
}

// Deterministic uniform values in [-1, 1).
struct Rng {
    uint64_t s;
    float next() {
        s ^= s << 13, s ^= s >> 7, s ^= s << 17;
        return static_cast<float>((s >> 40) * (1.0 / (1ull << 23)) - 1.0);
    }
};

constexpr float kGuard = -12345.5f;  // written around and between C's rows; must survive every call
const float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Case {
    bool ta, tb;
    int64_t m, n, k;
    float alpha, beta;
    int64_t pad = 0;  // extra leading-dimension slack for A, B and C
    int64_t batch = 1;
};

std::string describe(const Case& c, const char* isa) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "%s ta=%d tb=%d M=%lld N=%lld K=%lld alpha=%g beta=%g pad=%lld batch=%lld", isa,
                  c.ta, c.tb, (long long)c.m, (long long)c.n, (long long)c.k, c.alpha, c.beta, (long long)c.pad,
                  (long long)c.batch);
    return buf;
}

// Runs one case (batched when c.batch > 1) and compares every matrix with the reference. ks == nullptr runs the
// public entry points (sgemm, or sgemm_strided_batched); otherwise sgemm_using with that kernel set.
void run_case(const Case& c, const KernelSet* ks) {
    const int64_t a_rows = c.ta ? c.k : c.m, a_cols = c.ta ? c.m : c.k;  // A as stored
    const int64_t b_rows = c.tb ? c.n : c.k, b_cols = c.tb ? c.k : c.n;
    const int64_t lda = a_cols + c.pad, ldb = b_cols + c.pad, ldc = c.n + c.pad;
    // Batch strides with slack too, so a kernel that walks off one matrix lands in guard values.
    const int64_t sa = a_rows * lda + 5, sb = b_rows * ldb + 3, sc = c.m * ldc + 7;
    Rng rng{0x9E3779B97F4A7C15ull ^ uint64_t(c.m * 131 + c.n * 17 + c.k)};

    std::vector<float> A(sa * c.batch + 1), B(sb * c.batch + 1), C(sc * c.batch + 16, kGuard);
    for (auto& v : A) v = rng.next();
    for (auto& v : B) v = rng.next();
    const int64_t c0 = 8;  // guard floats before the first C
    for (int64_t t = 0; t < c.batch; ++t)
        for (int64_t i = 0; i < c.m; ++i)
            for (int64_t j = 0; j < c.n; ++j) C[c0 + t * sc + i * ldc + j] = c.beta == 0.0f ? kNaN : rng.next();
    const std::vector<float> C_in = C;

    if (ks != nullptr) {
        for (int64_t t = 0; t < c.batch; ++t)
            kiln::cpu::gemm_detail::sgemm_using(*ks, c.ta, c.tb, c.m, c.n, c.k, c.alpha, A.data() + t * sa, lda,
                                                B.data() + t * sb, ldb, c.beta, C.data() + c0 + t * sc, ldc);
    } else if (c.batch == 1) {
        kiln::cpu::sgemm(c.ta, c.tb, c.m, c.n, c.k, c.alpha, A.data(), lda, B.data(), ldb, c.beta, C.data() + c0, ldc);
    } else {
        kiln::cpu::sgemm_strided_batched(c.ta, c.tb, c.m, c.n, c.k, c.alpha, A.data(), lda, sa, B.data(), ldb, sb,
                                         c.beta, C.data() + c0, ldc, sc, c.batch);
    }

    // Error bound scale: |alpha| * sum |a b| + |beta c| per element; fp32 rounding grows ~ sqrt(K) in practice.
    double max_err = 0.0, max_scale = 0.0;
    bool finite = true;
    for (int64_t t = 0; t < c.batch; ++t)
        for (int64_t i = 0; i < c.m; ++i)
            for (int64_t j = 0; j < c.n; ++j) {
                double dot = 0.0, mag = 0.0;
                for (int64_t l = 0; l < c.k; ++l) {
                    const double a = A[t * sa + (c.ta ? l * lda + i : i * lda + l)];
                    const double b = B[t * sb + (c.tb ? j * ldb + l : l * ldb + j)];
                    dot += a * b, mag += std::fabs(a * b);
                }
                const int64_t at = c0 + t * sc + i * ldc + j;
                double ref = c.alpha * dot, scale = std::fabs(c.alpha) * mag;
                if (c.beta != 0.0f) ref += c.beta * double(C_in[at]), scale += std::fabs(c.beta * double(C_in[at]));
                finite = finite && std::isfinite(C[at]);
                max_err = std::max(max_err, std::fabs(double(C[at]) - ref));
                max_scale = std::max(max_scale, scale);
            }
    const double tol = 1e-5 * std::sqrt(double(c.k) + 1.0) * std::max(max_scale, 1e-30);
    const char* isa = ks ? ks->isa : "public";
    char err[96];
    std::snprintf(err, sizeof err, " max_err=%.3g tol=%.3g", max_err, tol);
    check(finite && max_err <= tol, describe(c, isa) + err);

    // Everything outside the C matrices (guards, ldc slack, batch slack) must be untouched.
    size_t touched = 0;
    for (size_t x = 0; x < C.size(); ++x) {
        const int64_t rel = int64_t(x) - c0, t = rel / sc, in = rel % sc;
        const bool inside = rel >= 0 && t < c.batch && in / ldc < c.m && in % ldc < c.n;
        if (!inside && C[x] != C_in[x]) ++touched;
    }
    check(touched == 0, describe(c, isa) + " wrote outside C (" + std::to_string(touched) + " floats)");
}

std::vector<const KernelSet*> kernel_sets() {
    std::vector<const KernelSet*> sets{&kiln::cpu::gemm_detail::baseline_kernels()};
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        sets.push_back(&kiln::cpu::gemm_detail::avx2_kernels());
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
    {
        sets.push_back(&kiln::cpu::gemm_detail::avx512_kernels());
        sets.push_back(&kiln::cpu::gemm_detail::avx512_small_m_kernels());  // the LSTM steps' 8 x 32 tile
    }
#endif
    return sets;
}

void test_gemm_shapes() {
    const int64_t sizes[] = {1, 7, 33, 257};
    const std::vector<const KernelSet*> sets = kernel_sets();
    for (const KernelSet* ks : sets)
        for (int t = 0; t < 4; ++t) {
            const bool ta = t & 1, tb = t & 2;
            for (int64_t m : sizes)
                for (int64_t n : sizes)
                    for (int64_t k : sizes) run_case({ta, tb, m, n, k, 1.0f, 0.0f, (m + n + k) % 3}, ks);
            run_case({ta, tb, 65, 129, 31, 1.0f, 0.0f, 0}, ks);
            run_case({ta, tb, 65, 129, 31, -1.5f, 0.75f, 9}, ks);
            run_case({ta, tb, 37, 19, 45, 0.5f, 1.0f, 1}, ks);
            run_case({ta, tb, 31, 47, 0, 1.0f, 2.0f, 2}, ks);  // K == 0: C = beta * C
            run_case({ta, tb, 31, 47, 0, 1.0f, 0.0f, 2}, ks);  // K == 0, beta == 0: zeros over NaN
            run_case({ta, tb, 31, 47, 13, 0.0f, -0.5f, 2}, ks);  // alpha == 0: C = beta * C
        }
}

// Shapes that cross every cache-block boundary (mc, kc, nc) of each kernel set with ragged remainders, then
// skinny shapes on the dispatched path.
void test_gemm_blocking() {
    for (const KernelSet* ks : kernel_sets())
        for (int t = 0; t < 4; ++t) {
            const bool ta = t & 1, tb = t & 2;
            run_case({ta, tb, ks->mc + 7, 2 * ks->nr + 3, ks->kc + 5, 1.0f, 0.5f, 1}, ks);
            run_case({ta, tb, 2 * ks->mr + 1, ks->nc + ks->nr + 3, 2 * ks->kc + 1, -1.0f, 0.0f, 2}, ks);
        }
    for (int t = 0; t < 4; ++t) {
        const bool ta = t & 1, tb = t & 2;
        run_case({ta, tb, 203, 2100, 401, 1.0f, 0.0f, 3}, nullptr);
        run_case({ta, tb, 1, 700, 900, 1.0f, 1.0f, 0}, nullptr);  // GEMV-like row
        run_case({ta, tb, 700, 1, 900, 2.0f, 0.5f, 0}, nullptr);  // GEMV-like column
        run_case({ta, tb, 130, 90, 1000, 1.0f, 0.0f, 1}, nullptr);
    }
}

void test_gemm_batched() {
    for (int t = 0; t < 4; ++t) {
        const bool ta = t & 1, tb = t & 2;
        for (int64_t batch : {1, 2, 3, 5, 9}) {
            run_case({ta, tb, 33, 17, 29, 1.0f, 0.0f, 1, batch}, nullptr);
            run_case({ta, tb, 70, 90, 65, -0.5f, 1.5f, 0, batch}, nullptr);
        }
        run_case({ta, tb, 7, 7, 0, 1.0f, 0.5f, 0, 4}, nullptr);  // K == 0, batched
    }
    // M == 0 / N == 0 / batch == 0: nothing may be touched (A and B are nullptr: any read would crash; C keeps its
    // sentinel, which beta == 0 would otherwise overwrite).
    std::vector<float> c(64, 42.0f);
    kiln::cpu::sgemm(false, false, 0, 5, 5, 1.0f, nullptr, 5, nullptr, 5, 0.0f, c.data(), 5);
    kiln::cpu::sgemm(false, false, 5, 0, 5, 1.0f, nullptr, 5, nullptr, 5, 0.0f, c.data(), 5);
    kiln::cpu::sgemm_strided_batched(false, false, 4, 4, 4, 1.0f, nullptr, 4, 16, nullptr, 4, 16, 0.0f, c.data(), 4,
                                     16, 0);
    check(std::all_of(c.begin(), c.end(), [](float v) { return v == 42.0f; }), "empty shapes leave C untouched");
}

// Several application threads at once: the pool is busy for all but one, so the others must run inline.
void test_gemm_concurrent_callers() {
    std::vector<std::thread> callers;
    const int before = g_failed;
    for (int i = 0; i < 4; ++i)
        callers.emplace_back([i] {
            run_case({bool(i & 1), bool(i & 2), 150 + i, 170, 190, 1.0f, 0.0f, 1}, nullptr);
        });
    for (auto& t : callers) t.join();
    check(g_failed == before, "concurrent sgemm callers");
}

void test_parallel_for() {
    check(kiln::cpu::num_threads() >= 1, "num_threads() >= 1");
    for (int64_t n : {0, 1, 2, 3, 7, 64, 1000, 100003})
        for (int64_t grain : {1, 3, 64, 5000}) {
            std::vector<std::atomic<int>> hits(n);
            for (auto& h : hits) h = 0;
            std::atomic<bool> bad_range{false};
            kiln::cpu::parallel_for(n, [&](int64_t b, int64_t e) {
                if (b < 0 || e > n || b >= e) bad_range = true;
                for (int64_t i = b; i < e; ++i) hits[i].fetch_add(1);
            }, grain);
            bool once = !bad_range;
            for (auto& h : hits) once = once && h == 1;
            check(once, "parallel_for covers [0," + std::to_string(n) + ") once, grain " + std::to_string(grain));
        }

    // With the pool idle, one chunk per thread really runs on distinct threads.
    const int threads = kiln::cpu::num_threads();
    std::vector<std::thread::id> ran_on(threads);
    kiln::cpu::parallel_for(threads, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) ran_on[i] = std::this_thread::get_id();
    });
    std::sort(ran_on.begin(), ran_on.end());
    check(std::unique(ran_on.begin(), ran_on.end()) == ran_on.end(), "parallel_for uses every pool thread");

    // Nested: the inner call must run inline on the calling task's thread and still cover its range.
    std::atomic<int> inner_total{0};
    std::atomic<bool> nested_inline{true};
    kiln::cpu::parallel_for(8, [&](int64_t b, int64_t e) {
        for (int64_t i = b; i < e; ++i) {
            const std::thread::id outer = std::this_thread::get_id();
            kiln::cpu::parallel_for(100, [&](int64_t ib, int64_t ie) {
                if (std::this_thread::get_id() != outer || ib != 0 || ie != 100) nested_inline = false;
                inner_total.fetch_add(int(ie - ib));
            });
        }
    });
    check(nested_inline && inner_total == 800, "nested parallel_for runs inline");

    // A throwing task must not escape its pool thread (that would terminate the JVM): the other chunks still run,
    // and the exception reaches the caller after the join, whichever chunk threw (the caller's own or a worker's).
    for (int64_t thrower : {int64_t(0), int64_t(999)}) {
        std::atomic<int64_t> covered{0};
        std::string caught;
        try {
            kiln::cpu::parallel_for(1000, [&](int64_t b, int64_t e) {
                covered.fetch_add(e - b);
                if (b <= thrower && thrower < e) throw std::runtime_error("task failure");
            });
        } catch (const std::runtime_error& err) {
            caught = err.what();
        }
        check(covered == 1000, "parallel_for contains a throwing task");
        check(caught == "task failure", "parallel_for rethrows a task's exception on the caller, chunk of " +
                                            std::to_string(thrower));
    }

    // Application threads racing for the pool: every call still covers its range exactly once.
    std::atomic<bool> all_ok{true};
    std::vector<std::thread> callers;
    for (int c = 0; c < 4; ++c)
        callers.emplace_back([&] {
            for (int rep = 0; rep < 200; ++rep) {
                std::atomic<int64_t> sum{0};
                kiln::cpu::parallel_for(1000, [&](int64_t b, int64_t e) {
                    for (int64_t i = b; i < e; ++i) sum.fetch_add(i);
                });
                if (sum != 999 * 1000 / 2) all_ok = false;
            }
        });
    for (auto& t : callers) t.join();
    check(all_ok, "parallel_for from concurrent application threads");
}

bool last_error_has(const char* needle) {
    if (std::strstr(kiln_last_error(), needle)) return true;
    std::printf("  message \"%s\" lacks \"%s\"\n", kiln_last_error(), needle);
    return false;
}

// kiln_gemm_f32's validation: every bad call returns KILN_ERR_INVALID_ARGUMENT with a message naming the argument,
// and sizes whose extents overflow int64 (which used to reach the packing code and crash) are refused before any
// pointer is read.
void test_gemm_abi_errors() {
    kiln_context* ctx = nullptr;
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) != KILN_OK) return check(false, "CPU context");
    std::vector<float> a(64, 1.0f), b(64, 1.0f), c(64, 0.0f);
    const auto run = [&](kiln_gemm_desc d, const float* pa, const float* pb, float* pc) {
        return kiln_gemm_f32(ctx, &d, pa, pb, pc);
    };
    const auto desc = [](int64_t m, int64_t n, int64_t k) {
        kiln_gemm_desc d{};
        d.m = m, d.n = n, d.k = k, d.alpha = 1.0f, d.beta = 0.0f;
        d.lda = std::max<int64_t>(k, 1), d.ldb = std::max<int64_t>(n, 1), d.ldc = std::max<int64_t>(n, 1);
        d.batch = 1;
        return d;
    };
    const kiln_status bad = KILN_ERR_INVALID_ARGUMENT;
    check(run(desc(4, 4, 4), a.data(), b.data(), c.data()) == KILN_OK, "a valid call");

    kiln_gemm_desc d = desc(4, 4, 4);
    check(kiln_gemm_f32(nullptr, &d, a.data(), b.data(), c.data()) == bad && last_error_has("'ctx'"), "null ctx");
    check(kiln_gemm_f32(ctx, nullptr, a.data(), b.data(), c.data()) == bad && last_error_has("'desc'"), "null desc");
    check(run(d, nullptr, b.data(), c.data()) == bad && last_error_has("'a' is null"), "null a");
    check(run(d, a.data(), nullptr, c.data()) == bad && last_error_has("'b' is null"), "null b");
    check(run(d, a.data(), b.data(), nullptr) == bad && last_error_has("'c' is null"), "null c");
    check(run(desc(0, 4, 4), nullptr, nullptr, nullptr) == KILN_OK, "null pointers with m == 0");

    d = desc(4, 4, 4), d.lda = 3;
    check(run(d, a.data(), b.data(), c.data()) == bad && last_error_has("'lda'") && last_error_has("(4, 4)"),
          "lda < cols");
    d = desc(4, 4, 4), d.trans_b = 1, d.ldb = 2;
    check(run(d, a.data(), b.data(), c.data()) == bad && last_error_has("'ldb'"), "ldb < cols (transposed)");
    d = desc(4, 4, 4), d.ldc = 1;
    check(run(d, a.data(), b.data(), c.data()) == bad && last_error_has("'ldc'"), "ldc < cols");
    for (int i = 0; i < 4; ++i) {
        d = desc(4, 4, 4);
        int64_t* field[] = {&d.m, &d.n, &d.k, &d.batch};
        const char* name[] = {"m=-1", "n=-1", "k=-1", "batch=-1"};
        *field[i] = -1;
        check(run(d, a.data(), b.data(), c.data()) == bad && last_error_has(name[i]), std::string("negative ") + name[i]);
    }

    // The three shapes that crashed in the packing code before their extents were checked.
    const int64_t big = INT64_C(1) << 33;
    d = desc(big, big, big), d.lda = d.ldb = d.ldc = big;
    check(run(d, a.data(), b.data(), c.data()) == bad && last_error_has("kiln_gemm_f32") &&
              last_error_has("a (rows=8589934592, lda=8589934592, cols=8589934592)") && last_error_has("int64"),
          "m = n = k = lda = ldb = ldc = 2^33");
    const int64_t huge = INT64_C(1) << 32;
    d = desc(huge, huge, 1);
    check(run(d, a.data(), b.data(), c.data()) == bad &&
              last_error_has("c (rows=4294967296, ldc=4294967296, cols=4294967296)"),
          "m = n = 2^32, k = 1");
    d = desc(1, 1, 1), d.batch = INT64_C(1) << 40, d.stride_a = d.stride_b = d.stride_c = INT64_C(1) << 40;
    check(run(d, a.data(), b.data(), c.data()) == bad &&
              last_error_has("a (batch=1099511627776, stride_a=1099511627776"),
          "batch = 2^40 with strides 2^40");
    check(c[0] == 4.0f && c[16] == 0.0f, "refused calls leave C alone");

    // C overlapping A or B: tiles of C written while A and B are still read (A in place, on the CPU) fed results
    // back in as operands. Refused; C beside A, or a product that reads neither (k == 0), is fine.
    d = desc(2, 4, 4);
    check(run(d, c.data(), b.data(), c.data()) == bad && last_error_has("'c'") && last_error_has("'a'") &&
              last_error_has("overlap"), "C == A");
    check(run(d, a.data(), c.data() + 4, c.data()) == bad && last_error_has("'b'"), "C overlapping B");
    check(run(d, c.data() + 8, b.data(), c.data()) == KILN_OK, "A just past C");
    check(run(desc(2, 4, 0), c.data(), c.data(), c.data()) == KILN_OK, "k == 0 reads neither A nor B");
    kiln_context_destroy(ctx);
}

// sgemm_packed_b against sgemm on the same operands: bit for bit (same kernels, same K blocking), across K blocks
// (K > kc = 384), N blocks (N > nc), M blocks and ragged edges, both layouts of B, beta 0, 1 and 0.5, strided A and
// C, a packed B reused for many products (as the LSTM's steps use it), and the small-M register tile.
void test_gemm_packed_b() {
    struct Case {
        int64_t m, n, k;
        bool tb;
        float beta;
    };
    const Case cases[] = {{16, 1024, 256, true, 1.0f},  {16, 256, 1024, false, 0.0f}, {5, 17, 3, false, 0.5f},
                          {33, 1000, 800, true, 0.0f},  {1, 1, 1, false, 1.0f},       {2100, 40, 70, true, 0.5f},
                          {7, 385, 385, false, 1.0f}};
    Rng rng{99};
    for (const Case& c : cases) {
        const int64_t lda = c.k + 3, ldb = (c.tb ? c.k : c.n) + 5, ldc = c.n + 2;
        std::vector<float> A((size_t)(c.m * lda)), B((size_t)((c.tb ? c.n : c.k) * ldb)), C0((size_t)(c.m * ldc));
        for (float& v : A) v = rng.next();
        for (float& v : B) v = rng.next();
        for (float& v : C0) v = rng.next();
        // Packed for any M, and with the rows hint (M <= 16 takes the small-M register tile where the ISA has one).
        for (const int64_t rows : {int64_t(0), c.m}) {
        const kiln::cpu::PackedB packed(c.tb, c.k, c.n, B.data(), ldb, rows);
        for (int reuse = 0; reuse < 2; ++reuse) {
            std::vector<float> want = C0, got = C0;
            kiln::cpu::sgemm(false, c.tb, c.m, c.n, c.k, 0.75f, A.data(), lda, B.data(), ldb, c.beta, want.data(), ldc);
            kiln::cpu::sgemm_packed_b(c.m, 0.75f, A.data(), lda, packed, c.beta, got.data(), ldc);
            bool same = true;
            for (int64_t i = 0; i < c.m && same; ++i)
                same = std::memcmp(want.data() + i * ldc, got.data() + i * ldc, (size_t)c.n * sizeof(float)) == 0;
            check(same, "sgemm_packed_b m=" + std::to_string(c.m) + " n=" + std::to_string(c.n) + " k=" +
                            std::to_string(c.k) + (c.tb ? " transB" : "") + " beta=" + std::to_string(c.beta) +
                            " rows hint " + std::to_string(rows) + " equals sgemm bit for bit (use " +
                            std::to_string(reuse + 1) + ")");
            // The padding columns of C (ldc > n) are never written.
            check(got[(size_t)c.n] == C0[(size_t)c.n], "sgemm_packed_b leaves C's padding alone");
        }
        }
    }
}

// sgemm_shared_a against one sgemm per part: bit for bit (the same K blocking), for parts of one column, of several B
// blocks (n > nc) and ragged, M over several row blocks and threads with a ragged edge, K over several blocks, both
// layouts of A, beta 0 (C full of NaN, which must not be read), 1 and 0.5; K == 0 and alpha == 0 give beta * C.
void test_gemm_shared_a() {
    const int64_t m = 1100, k = 800;
    const int64_t ns[3] = {1, 900, 61};
    Rng rng{123};
    for (int ta = 0; ta < 2; ++ta)
        for (const float beta : {0.0f, 1.0f, 0.5f})
            for (const int64_t kk : {k, int64_t(0)}) {
                const int64_t lda = (ta ? m : k) + 3;
                std::vector<float> A((size_t)((ta ? k : m) * lda));
                for (float& v : A) v = rng.next();
                std::vector<std::vector<float>> B(3), want(3), got(3);
                kiln::cpu::SharedAPart parts[3];
                for (int i = 0; i < 3; ++i) {
                    const int64_t ldb = ns[i] + 2, ldc = ns[i] + 1;
                    B[i].resize((size_t)(k * ldb));
                    for (float& v : B[i]) v = rng.next();
                    want[i].resize((size_t)(m * ldc));
                    for (float& v : want[i]) v = beta == 0.0f ? std::nanf("") : rng.next();
                    got[i] = want[i];
                    kiln::cpu::sgemm(ta, false, m, ns[i], kk, 0.75f, A.data(), lda, B[i].data(), ldb, beta,
                                     want[i].data(), ldc);
                    parts[i] = {B[i].data(), ldb, ns[i], got[i].data(), ldc};
                }
                kiln::cpu::sgemm_shared_a(ta, m, kk, 0.75f, A.data(), lda, parts, 3, beta);
                for (int i = 0; i < 3; ++i) {
                    bool same = true;
                    for (int64_t r = 0; r < m && same; ++r)
                        same = std::memcmp(want[i].data() + r * parts[i].ldc, got[i].data() + r * parts[i].ldc,
                                           (size_t)ns[i] * sizeof(float)) == 0;
                    const bool pad_kept = beta == 0.0f ? std::isnan(got[i][(size_t)ns[i]])
                                                       : got[i][(size_t)ns[i]] == want[i][(size_t)ns[i]];
                    check(same && pad_kept, "sgemm_shared_a part n=" + std::to_string(ns[i]) + (ta ? " transA" : "") +
                                                " beta=" + std::to_string(beta) + " k=" + std::to_string(kk) +
                                                " equals sgemm bit for bit and leaves C's padding alone");
                }
            }
}

// A narrow product (all of N in one B block) reads A in place instead of packing it; a wide one packs it. Both must
// sum the same products in the same order: the narrow product's C equals the wide one's first columns bit for bit,
// for every kernel set, both layouts of A and B, ragged rows (the last micro-panel is packed even in place) and K
// over several blocks.
void test_gemm_a_in_place_same_bits() {
    for (const KernelSet* ks : kernel_sets())
        for (int t = 0; t < 4; ++t) {
            const bool ta = t & 1, tb = t & 2;
            const int64_t m = 4 * ks->mr + 3, k = 2 * ks->kc + 7, narrow = 2 * ks->nr - 3;
            const int64_t wide = 2 * ks->nc + 3 * ks->nr + 5;
            const int64_t lda = (ta ? m : k) + 1, ldb = (tb ? k : wide) + 2;
            Rng rng{uint64_t(7 + t)};
            std::vector<float> A((size_t)((ta ? k : m) * lda)), B((size_t)((tb ? wide : k) * ldb));
            for (float& v : A) v = rng.next();
            for (float& v : B) v = rng.next();
            std::vector<float> c_narrow((size_t)(m * narrow), 1.0f), c_wide((size_t)(m * wide), 1.0f);
            kiln::cpu::gemm_detail::sgemm_using(*ks, ta, tb, m, narrow, k, 1.25f, A.data(), lda, B.data(), ldb, 0.5f,
                                                c_narrow.data(), narrow);
            kiln::cpu::gemm_detail::sgemm_using(*ks, ta, tb, m, wide, k, 1.25f, A.data(), lda, B.data(), ldb, 0.5f,
                                                c_wide.data(), wide);
            bool same = true;
            for (int64_t i = 0; i < m && same; ++i)
                same = std::memcmp(c_narrow.data() + i * narrow, c_wide.data() + i * wide,
                                   (size_t)narrow * sizeof(float)) == 0;
            check(same, std::string(ks->isa) + " mr=" + std::to_string(ks->mr) + (ta ? " transA" : "") +
                            (tb ? " transB" : "") + ": A read in place gives the packed path's bits");
        }
}

// sgemm picks AVX-512's 8 x 32 tile where it pads less than 6 x 64 (N = 1, 20, 784 here): its C must be the 6 x 64
// tile's bit for bit (the same K blocking), for both layouts of A and B, rows that leave a ragged micro-panel, K over
// several blocks.
void test_gemm_tile_choice_same_bits() {
    using kiln::cpu::gemm_detail::avx512_kernels;
    using kiln::cpu::gemm_detail::avx512_small_m_kernels;
    const std::vector<const KernelSet*> sets = kernel_sets();
    if (std::find(sets.begin(), sets.end(), &avx512_kernels()) == sets.end()) return;  // no AVX-512 here
    for (int t = 0; t < 4; ++t)
        for (int64_t n : {1, 20, 32, 784}) {
            const bool ta = t & 1, tb = t & 2;
            const int64_t m = 133, k = 2 * avx512_kernels().kc + 5, ldc = n + 3;
            const int64_t lda = ta ? m : k, ldb = tb ? k : n;
            Rng rng{uint64_t(31 + t)};
            std::vector<float> A((size_t)((ta ? k : m) * lda)), B((size_t)((tb ? n : k) * ldb));
            for (float& v : A) v = rng.next();
            for (float& v : B) v = rng.next();
            std::vector<float> c_wide((size_t)(m * ldc), 0.25f), c_narrow(c_wide), c_public(c_wide);
            kiln::cpu::gemm_detail::sgemm_using(avx512_kernels(), ta, tb, m, n, k, 1.5f, A.data(), lda, B.data(), ldb,
                                                0.5f, c_wide.data(), ldc);
            kiln::cpu::gemm_detail::sgemm_using(avx512_small_m_kernels(), ta, tb, m, n, k, 1.5f, A.data(), lda,
                                                B.data(), ldb, 0.5f, c_narrow.data(), ldc);
            kiln::cpu::sgemm(ta, tb, m, n, k, 1.5f, A.data(), lda, B.data(), ldb, 0.5f, c_public.data(), ldc);
            const std::string what = std::string("n=") + std::to_string(n) + (ta ? " transA" : "") + (tb ? " transB" : "");
            check(std::memcmp(c_wide.data(), c_narrow.data(), c_wide.size() * sizeof(float)) == 0,
                  what + ": the 8 x 32 tile gives the 6 x 64 tile's bits");
            check(std::memcmp(c_wide.data(), c_public.data(), c_wide.size() * sizeof(float)) == 0,
                  what + ": sgemm gives the 6 x 64 tile's bits");
        }
}

}  // namespace

int main() {
    std::printf("gemm_cpu: dispatched isa %s, %d threads\n", kiln::cpu::gemm_isa(), kiln::cpu::num_threads());
    test_parallel_for();
    test_gemm_shapes();
    test_gemm_blocking();
    test_gemm_batched();
    test_gemm_concurrent_callers();
    test_gemm_abi_errors();
    test_gemm_packed_b();
    test_gemm_shared_a();
    test_gemm_a_in_place_same_bits();
    test_gemm_tile_choice_same_bits();
    std::printf("gemm_cpu: %d passed, %d failed\n", g_passed.load(), g_failed.load());
    return g_failed == 0 ? 0 : 1;
}
