// CUDA-event benchmark of the fused attention kernels that ship (kernels/attention_f32.cu and attention_bf16.cu through
// their launchers), fp32 and bf16, forward and backward, causal and not, at (N=8,H=4,T=S=128,D=32),
// (N=4,H=8,T=S=512,D=64) and (N=4,H=16,T=S=2048,D=128), contiguous (N, H, T, D). Each case is first checked against the
// CPU backend on one (batch, head): all of o, lse, dq, dk, dv where T <= 512, else o, lse and dq of the last 256
// queries (a query's row needs only its own keys; the bottom-right causal mask keeps its alignment). Timings are the
// median of 10 runs after 2 warm-ups with L2 flushed before each; TFLOP/s count 4 T S D per (batch, head) for the
// forward and 2.5 times that for the backward (FlashAttention's convention), with S replaced by the visible keys under
// the causal mask.
// bench/compare/gpu_attention.py times PyTorch's scaled_dot_product_attention on the same cases as the named peer.
// Prints `RESULT attention <shape> <f32|bf16> <causal|full> <forward|backward> <ms> <tflops>` lines; exits 0 with a
// SKIPPED line where no CUDA device is present, nonzero when a case disagrees with the CPU.
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <vector>

#include "attention.h"
#include "bench_shapes.h"
#include "common/bf16.h"

namespace {

using kiln::bench::uniform;

#define CHECK(call)                                                                                   \
    do {                                                                                              \
        const cudaError_t e_ = (call);                                                                \
        if (e_ != cudaSuccess) {                                                                      \
            std::printf("CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_), __FILE__, __LINE__,     \
                        cudaGetErrorString(e_));                                                      \
            return false;                                                                             \
        }                                                                                             \
    } while (0)

struct Shape {
    const char* name;
    int64_t n, h, t, d;
};
constexpr Shape kShapes[] = {{"n8_h4_t128_d32", 8, 4, 128, 32},
                             {"n4_h8_t512_d64", 4, 8, 512, 64},
                             {"n4_h16_t2048_d128", 4, 16, 2048, 128}};
constexpr int64_t kCheckRows = 256;  // queries checked against the CPU above T = 512

double nmse(const std::vector<float>& got, const std::vector<float>& ref) {
    double e = 0, r = 0;
    for (size_t i = 0; i < ref.size(); ++i) {
        if (std::isinf(ref[i]) && got[i] == ref[i]) continue;
        if (!std::isfinite(got[i])) return INFINITY;
        e += ((double)got[i] - ref[i]) * ((double)got[i] - ref[i]);
        r += (double)ref[i] * ref[i];
    }
    return e / (r > 0 ? r : 1);
}

struct Dev {
    void* p = nullptr;
    size_t bytes = 0;
    ~Dev() { cudaFree(p); }
};

kiln_attention_desc desc_of(const Shape& s, bool causal) {
    kiln_attention_desc d{};
    d.batch = s.n;
    d.heads = s.h;
    d.q_len = d.kv_len = s.t;
    d.head_dim = s.d;
    for (int64_t* st : {d.q_stride, d.k_stride, d.v_stride, d.o_stride}) {
        st[0] = s.h * s.t * s.d;
        st[1] = s.t * s.d;
        st[2] = s.d;
    }
    d.scale = 1.0f / std::sqrt((float)s.d);
    d.causal = causal;
    return d;
}

// Visible (query, key) pairs of one (batch, head).
double pairs(const Shape& s, bool causal) {
    return causal ? (double)s.t * (double)(s.t + 1) / 2.0 : (double)s.t * (double)s.t;
}

// Host copies as fp32 (bf16 values widened) and the element type the kernels take.
template <class T>
T to_elem(float x);
template <>
float to_elem<float>(float x) { return x; }
template <>
kiln_bf16 to_elem<kiln_bf16>(float x) { return kiln::f32_to_bf16(x); }
float to_f32(float x) { return x; }
float to_f32(kiln_bf16 x) { return kiln::bf16_to_f32(x); }

template <class T>
bool upload(Dev& dst, const std::vector<T>& h) {
    dst.bytes = h.size() * sizeof(T);
    CHECK(cudaMalloc(&dst.p, dst.bytes));
    CHECK(cudaMemcpy(dst.p, h.data(), dst.bytes, cudaMemcpyHostToDevice));
    return true;
}
template <class T>
bool download(std::vector<float>& out, const Dev& src, size_t offset, size_t count) {
    std::vector<T> h(count);
    CHECK(cudaMemcpy(h.data(), static_cast<const T*>(src.p) + offset, count * sizeof(T), cudaMemcpyDeviceToHost));
    out.resize(count);
    for (size_t i = 0; i < count; ++i) out[i] = to_f32(h[i]);
    return true;
}

// CPU reference entries per element type.
void cpu_forward(const kiln_attention_desc& d, const float* q, const float* k, const float* v, float* o, float* lse) {
    kiln::cpu::attention_forward_f32(d, q, k, v, nullptr, o, lse);
}
void cpu_forward(const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k, const kiln_bf16* v,
                 kiln_bf16* o, float* lse) {
    kiln::cpu::attention_forward_bf16(d, q, k, v, nullptr, o, lse);
}
void cpu_backward(const kiln_attention_desc& d, const float* q, const float* k, const float* v, const float* o,
                  const float* dout, const float* lse, float* dq, float* dk, float* dv) {
    kiln::cpu::attention_backward_f32(d, q, k, v, o, dout, lse, nullptr, dq, dk, dv);
}
void cpu_backward(const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k, const kiln_bf16* v,
                  const kiln_bf16* o, const kiln_bf16* dout, const float* lse, kiln_bf16* dq, kiln_bf16* dk,
                  kiln_bf16* dv) {
    kiln::cpu::attention_backward_bf16(d, q, k, v, o, dout, lse, nullptr, dq, dk, dv);
}

cudaError_t gpu_forward(cudaStream_t s, const kiln_attention_desc& d, const float* q, const float* k, const float* v,
                        float* o, float* lse) {
    return kiln::cuda::attention_forward_f32(s, d, q, k, v, nullptr, o, lse);
}
cudaError_t gpu_forward(cudaStream_t s, const kiln_attention_desc& d, const kiln_bf16* q, const kiln_bf16* k,
                        const kiln_bf16* v, kiln_bf16* o, float* lse) {
    return kiln::cuda::attention_forward_bf16(s, d, q, k, v, nullptr, o, lse);
}
cudaError_t gpu_backward(cudaStream_t s, kiln::Scratch& scratch, const kiln_attention_desc& d, const float* q,
                         const float* k, const float* v, const float* o, const float* dout, const float* lse,
                         float* dq, float* dk, float* dv) {
    return kiln::cuda::attention_backward_f32(s, scratch, d, q, k, v, o, dout, lse, nullptr, dq, dk, dv);
}
cudaError_t gpu_backward(cudaStream_t s, kiln::Scratch& scratch, const kiln_attention_desc& d, const kiln_bf16* q,
                         const kiln_bf16* k, const kiln_bf16* v, const kiln_bf16* o, const kiln_bf16* dout,
                         const float* lse, kiln_bf16* dq, kiln_bf16* dk, kiln_bf16* dv) {
    return kiln::cuda::attention_backward_bf16(s, scratch, d, q, k, v, o, dout, lse, nullptr, dq, dk, dv);
}

struct Timer {
    cudaStream_t stream;
    cudaEvent_t t0, t1;
    Dev flush;
};

// Median ms of 10 timed runs after 2 warm-ups (1 in a smoke run), L2 flushed before each.
bool time_ms(Timer& tm, const std::function<cudaError_t()>& fn, double* ms_out) {
    std::vector<float> ms;
    const int runs = kiln::bench::smoke_run() ? 3 : 12;
    for (int run = 0; run < runs; ++run) {
        CHECK(cudaMemsetAsync(tm.flush.p, run, tm.flush.bytes, tm.stream));
        CHECK(cudaEventRecord(tm.t0, tm.stream));
        CHECK(fn());
        CHECK(cudaEventRecord(tm.t1, tm.stream));
        CHECK(cudaEventSynchronize(tm.t1));
        float m = 0;
        CHECK(cudaEventElapsedTime(&m, tm.t0, tm.t1));
        if (run >= 2) ms.push_back(m);
    }
    std::sort(ms.begin(), ms.end());
    *ms_out = ms[ms.size() / 2];
    return true;
}

// One (shape, dtype, mask): validate forward and backward against the CPU on (batch 0, head 0), then time both.
template <class T>
bool run_case(Timer& tm, const Shape& s, bool causal, const char* dtype, bool* ok_all) {
    const kiln_attention_desc d = desc_of(s, causal);
    const size_t n = (size_t)(s.n * s.h * s.t * s.d), rows = (size_t)(s.n * s.h * s.t);
    std::vector<T> hq(n), hk(n), hv(n), hdo(n);
    {
        const std::vector<float> q = uniform(n, 11, -2.0f, 2.0f), k = uniform(n, 12, -2.0f, 2.0f),
                                 v = uniform(n, 13), dout = uniform(n, 14);
        for (size_t i = 0; i < n; ++i) {
            hq[i] = to_elem<T>(q[i]);
            hk[i] = to_elem<T>(k[i]);
            hv[i] = to_elem<T>(v[i]);
            hdo[i] = to_elem<T>(dout[i]);
        }
    }
    Dev q, k, v, dout, o, lse, dq, dk, dv, scratch;
    if (!upload(q, hq) || !upload(k, hk) || !upload(v, hv) || !upload(dout, hdo)) return false;
    for (Dev* b : {&o, &dq, &dk, &dv}) {
        b->bytes = n * sizeof(T);
        CHECK(cudaMalloc(&b->p, b->bytes));
        CHECK(cudaMemsetAsync(b->p, 0xFF, b->bytes, tm.stream));  // NaN: an unwritten element shows
    }
    lse.bytes = scratch.bytes = rows * sizeof(float);
    CHECK(cudaMalloc(&lse.p, lse.bytes));
    CHECK(cudaMalloc(&scratch.p, scratch.bytes));
    kiln::BufferScratch scr(scratch.p, scratch.bytes);
    auto P = [](Dev& b) { return static_cast<T*>(b.p); };
    const float* L = static_cast<const float*>(lse.p);
    auto fwd = [&] { return gpu_forward(tm.stream, d, P(q), P(k), P(v), P(o), static_cast<float*>(lse.p)); };
    auto bwd = [&] { return gpu_backward(tm.stream, scr, d, P(q), P(k), P(v), P(o), P(dout), L, P(dq), P(dk), P(dv)); };
    CHECK(fwd());
    CHECK(bwd());
    CHECK(cudaStreamSynchronize(tm.stream));

    // The CPU on (batch 0, head 0): the whole of it, or its last kCheckRows queries against every key.
    const bool whole = s.t <= 512;
    const int64_t rows_checked = whole ? s.t : kCheckRows, first = s.t - rows_checked;
    kiln_attention_desc one = d;
    one.batch = one.heads = 1;
    one.q_len = rows_checked;
    const size_t qoff = (size_t)(first * s.d), qn = (size_t)(rows_checked * s.d), kn = (size_t)(s.t * s.d);
    std::vector<T> ro(qn), rdq(qn), rdk(kn), rdv(kn);
    std::vector<float> rlse((size_t)rows_checked);
    cpu_forward(one, hq.data() + qoff, hk.data(), hv.data(), ro.data(), rlse.data());
    // The backward reads the GPU's o (as the CPU would read its own), and the CPU's lse for those rows.
    std::vector<T> go_elems(qn);
    CHECK(cudaMemcpy(go_elems.data(), P(o) + qoff, qn * sizeof(T), cudaMemcpyDeviceToHost));
    cpu_backward(one, hq.data() + qoff, hk.data(), hv.data(), go_elems.data(), hdo.data() + qoff, rlse.data(),
                 rdq.data(), whole ? rdk.data() : nullptr, whole ? rdv.data() : nullptr);
    auto widen = [](const std::vector<T>& h) {
        std::vector<float> f(h.size());
        for (size_t i = 0; i < h.size(); ++i) f[i] = to_f32(h[i]);
        return f;
    };
    std::vector<float> got;
    double err_f = 0, err_b = 0;
    if (!download<T>(got, o, qoff, qn)) return false;
    err_f = std::max(err_f, nmse(got, widen(ro)));
    std::vector<float> glse((size_t)rows_checked);
    CHECK(cudaMemcpy(glse.data(), L + first, glse.size() * 4, cudaMemcpyDeviceToHost));
    err_f = std::max(err_f, nmse(glse, rlse));
    if (!download<T>(got, dq, qoff, qn)) return false;
    err_b = std::max(err_b, nmse(got, widen(rdq)));
    if (whole) {
        if (!download<T>(got, dk, 0, kn)) return false;
        err_b = std::max(err_b, nmse(got, widen(rdk)));
        if (!download<T>(got, dv, 0, kn)) return false;
        err_b = std::max(err_b, nmse(got, widen(rdv)));
    }
    const double tol = sizeof(T) == 2 ? 1e-4 : 1e-8;

    const double fwd_tflop = 4.0 * (double)(s.n * s.h) * pairs(s, causal) * (double)s.d / 1e12;
    const double bwd_tflop = 2.5 * fwd_tflop;
    double ms_f = 0, ms_b = 0;
    if (!time_ms(tm, fwd, &ms_f) || !time_ms(tm, bwd, &ms_b)) return false;
    const char* mask = causal ? "causal" : "full";
    const struct {
        const char* dir;
        double ms, tflop, err;
    } lines[] = {{"forward", ms_f, fwd_tflop, err_f}, {"backward", ms_b, bwd_tflop, err_b}};
    for (const auto& l : lines) {
        const bool ok = l.err <= tol;
        *ok_all &= ok;
        std::printf("%-20s %-5s %-7s %-9s %10.4f %9.2f %10.2g%s\n", s.name, dtype, mask, l.dir, l.ms,
                    l.tflop / (l.ms / 1e3), l.err, ok ? "" : "  MISMATCH vs CPU");
        std::printf("RESULT attention %s %s %s %s %.4f %.3f\n", s.name, dtype, mask, l.dir, l.ms,
                    l.tflop / (l.ms / 1e3));
    }
    return true;
}

}  // namespace

int main() {
    int devices = 0;
    if (cudaGetDeviceCount(&devices) != cudaSuccess || devices == 0) {
        std::printf("kiln attention GPU benchmark: SKIPPED (no CUDA device)\n");
        return 0;
    }
    cudaDeviceProp prop;
    if (cudaGetDeviceProperties(&prop, 0) != cudaSuccess) return 1;
    std::printf("kiln attention GPU benchmark on %s (%d SMs); peer: PyTorch SDPA (bench/compare/gpu_attention.py)\n\n",
                prop.name, prop.multiProcessorCount);
    std::printf("%-20s %-5s %-7s %-9s %10s %9s %10s\n", "shape", "dtype", "mask", "direction", "ms", "TFLOP/s",
                "nmse");
    Timer tm{};
    if (cudaStreamCreate(&tm.stream) != cudaSuccess || cudaEventCreate(&tm.t0) != cudaSuccess ||
        cudaEventCreate(&tm.t1) != cudaSuccess)
        return 1;
    tm.flush.bytes = (size_t)std::max(prop.l2CacheSize, 1 << 20) * 2;
    if (cudaMalloc(&tm.flush.p, tm.flush.bytes) != cudaSuccess) return 1;
    bool ok_all = true;
    const std::vector<Shape> all(std::begin(kShapes), std::end(kShapes));
    for (const Shape& s : kiln::bench::shapes_to_run(all))
        for (bool causal : {false, true}) {
            if (!run_case<float>(tm, s, causal, "f32", &ok_all)) return 1;
            if (!run_case<kiln_bf16>(tm, s, causal, "bf16", &ok_all)) return 1;
        }
    cudaEventDestroy(tm.t0);
    cudaEventDestroy(tm.t1);
    cudaStreamDestroy(tm.stream);
    return ok_all ? 0 : 1;
}
