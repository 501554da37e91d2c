// CUDA-graph benchmark: the MLP's whole training step (dev.kiln.models.Mlp, 784-256-10, batch 64: two GEMMs,
// bias, ReLU, cross entropy, their backward, capturable Adam on four tensors; 18 launches) built from the C ABI,
// run N times eagerly and N times as replays of one captured graph, timed with CUDA events on the context's stream.
// The two runs start from the same parameters and must end on the same bits (the graph runs the same kernels with
// the same arguments). The peer is the eager loop; GFLOP/s is of the step's GEMM work, as a fraction of the
// measured FMA peak (kiln_measure_peak). Prints `RESULT graph_gpu mlp <eager|graph> <us per step>` and the speedup.
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "bench_shapes.h"
#include "bench_timing.h"
#include "kiln/kiln.h"

namespace {

using kiln::bench::check;

constexpr int64_t kBatch = 64, kIn = 784, kHidden = 256, kClasses = 10;

void cuda_check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
        std::exit(1);
    }
}

float* device_floats(kiln_context* ctx, const std::vector<float>& host) {
    void* d = nullptr;
    check(kiln_alloc(ctx, host.size() * sizeof(float), &d), "kiln_alloc");
    check(kiln_copy_to_device(ctx, d, host.data(), host.size() * sizeof(float)), "kiln_copy_to_device");
    return static_cast<float*>(d);
}

std::vector<float> uniform(size_t n, uint64_t seed, float lo, float hi) {
    std::vector<float> v(n);
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (seed * 0xBF58476D1CE4E5B9ull);
    for (float& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = lo + (hi - lo) * (float)((s >> 40) * 0x1p-24);
    }
    return v;
}

kiln_gemm_desc gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, int64_t lda, int64_t ldb) {
    kiln_gemm_desc d{};
    d.trans_a = trans_a;
    d.trans_b = trans_b;
    d.m = m, d.n = n, d.k = k;
    d.lda = lda, d.ldb = ldb, d.ldc = n;
    d.batch = 1;
    d.alpha = 1.0f;
    d.beta = 0.0f;
    return d;
}

// One model's parameters, gradients, Adam state and activations, all allocated before any step runs.
struct Mlp {
    float *w1, *b1, *w2, *b2;                // (256, 784) (256) (10, 256) (10)
    float *dw1, *db1, *dw2, *db2;
    float *m[4], *v[4];
    int32_t* step;                            // (1) capturable Adam's counter
    float* bias_corrections;                  // (2)
    float *h_pre, *h, *logits, *lse, *loss;   // (B, 256) (B, 256) (B, 10) (B) (1)
    float *dloss, *dlogits, *dh, *dh_pre;     // (1) (B, 10) (B, 256) (B, 256)
};

Mlp make_mlp(kiln_context* ctx) {
    Mlp p{};
    const float k1 = 1.0f / 28.0f, k2 = 1.0f / 16.0f;  // 1/sqrt(fan_in), as nn.Linear initializes
    p.w1 = device_floats(ctx, uniform(kHidden * kIn, 1, -k1, k1));
    p.b1 = device_floats(ctx, uniform(kHidden, 2, -k1, k1));
    p.w2 = device_floats(ctx, uniform(kClasses * kHidden, 3, -k2, k2));
    p.b2 = device_floats(ctx, uniform(kClasses, 4, -k2, k2));
    const int64_t sizes[4] = {kHidden * kIn, kHidden, kClasses * kHidden, kClasses};
    float** grads[4] = {&p.dw1, &p.db1, &p.dw2, &p.db2};
    for (int i = 0; i < 4; ++i) {
        const std::vector<float> zeros(sizes[i], 0.0f);
        *grads[i] = device_floats(ctx, zeros);
        p.m[i] = device_floats(ctx, zeros);
        p.v[i] = device_floats(ctx, zeros);
    }
    void* s = nullptr;
    check(kiln_alloc(ctx, sizeof(int32_t), &s), "kiln_alloc");
    const int32_t zero = 0;
    check(kiln_copy_to_device(ctx, s, &zero, sizeof zero), "kiln_copy_to_device");
    p.step = static_cast<int32_t*>(s);
    p.bias_corrections = device_floats(ctx, {0.0f, 0.0f});
    p.h_pre = device_floats(ctx, std::vector<float>(kBatch * kHidden));
    p.h = device_floats(ctx, std::vector<float>(kBatch * kHidden));
    p.logits = device_floats(ctx, std::vector<float>(kBatch * kClasses));
    p.lse = device_floats(ctx, std::vector<float>(kBatch));
    p.loss = device_floats(ctx, {0.0f});
    p.dloss = device_floats(ctx, {1.0f});
    p.dlogits = device_floats(ctx, std::vector<float>(kBatch * kClasses));
    p.dh = device_floats(ctx, std::vector<float>(kBatch * kHidden));
    p.dh_pre = device_floats(ctx, std::vector<float>(kBatch * kHidden));
    return p;
}

// Forward, backward and a capturable Adam step: what Classification.step and Adam run for the Java Mlp.
void train_step(kiln_context* ctx, Mlp& p, const float* x, const int32_t* labels) {
    const int64_t B = kBatch, H = kHidden, C = kClasses;
    kiln_gemm_desc d = gemm(0, 1, B, H, kIn, kIn, kIn);  // h_pre = x w1^T
    check(kiln_gemm_f32(ctx, &d, x, p.w1, p.h_pre), "gemm");
    check(kiln_binary_f32(ctx, KILN_ADD, p.h_pre, H, p.b1, 0, p.h_pre, B, H), "bias");
    check(kiln_activation_f32(ctx, KILN_RELU, p.h_pre, p.h, B * H, 0.0f), "relu");
    d = gemm(0, 1, B, C, H, H, H);  // logits = h w2^T
    check(kiln_gemm_f32(ctx, &d, p.h, p.w2, p.logits), "gemm");
    check(kiln_binary_f32(ctx, KILN_ADD, p.logits, C, p.b2, 0, p.logits, B, C), "bias");
    check(kiln_cross_entropy_f32(ctx, p.logits, labels, p.loss, p.lse, B, C), "cross_entropy");
    check(kiln_cross_entropy_backward_f32(ctx, p.logits, labels, p.lse, p.dloss, p.dlogits, B, C), "ce backward");
    d = gemm(1, 0, C, H, B, C, H);  // dw2 = dlogits^T h
    check(kiln_gemm_f32(ctx, &d, p.dlogits, p.h, p.dw2), "gemm");
    check(kiln_reduce_sum_f32(ctx, p.dlogits, p.db2, 1, B, C, 1.0f), "db2");
    d = gemm(0, 0, B, H, C, C, H);  // dh = dlogits w2
    check(kiln_gemm_f32(ctx, &d, p.dlogits, p.w2, p.dh), "gemm");
    check(kiln_activation_backward_f32(ctx, KILN_RELU, p.h_pre, p.h, p.dh, p.dh_pre, B * H, 0.0f), "relu backward");
    d = gemm(1, 0, H, kIn, B, H, kIn);  // dw1 = dh_pre^T x
    check(kiln_gemm_f32(ctx, &d, p.dh_pre, x, p.dw1), "gemm");
    check(kiln_reduce_sum_f32(ctx, p.dh_pre, p.db1, 1, B, H, 1.0f), "db1");
    check(kiln_adam_advance_step(ctx, p.step, p.bias_corrections, 0.9f, 0.999f), "adam advance");
    float* params[4] = {p.w1, p.b1, p.w2, p.b2};
    const float* grads[4] = {p.dw1, p.db1, p.dw2, p.db2};
    const int64_t sizes[4] = {kHidden * kIn, kHidden, kClasses * kHidden, kClasses};
    for (int i = 0; i < 4; ++i)
        check(kiln_adam_step_capturable_f32(ctx, params[i], grads[i], p.m[i], p.v[i], sizes[i], 1e-3f, 0.9f, 0.999f,
                                            1e-8f, 0.0f, 0, p.bias_corrections),
              "adam");
}

std::vector<float> download(kiln_context* ctx, const float* d, int64_t n) {
    std::vector<float> h(n);
    check(kiln_copy_to_host(ctx, h.data(), d, n * sizeof(float)), "kiln_copy_to_host");
    return h;
}

// Milliseconds per step of `steps` calls of fn between two events on the stream, best of `reps`.
template <class Fn>
double ms_per_step(cudaStream_t s, int reps, int steps, Fn&& fn) {
    cudaEvent_t a, b;
    cuda_check(cudaEventCreate(&a), "cudaEventCreate");
    cuda_check(cudaEventCreate(&b), "cudaEventCreate");
    double best = 1e30;
    for (int r = 0; r < reps; ++r) {
        cuda_check(cudaEventRecord(a, s), "cudaEventRecord");
        for (int i = 0; i < steps; ++i) fn();
        cuda_check(cudaEventRecord(b, s), "cudaEventRecord");
        cuda_check(cudaEventSynchronize(b), "cudaEventSynchronize");
        float ms = 0;
        cuda_check(cudaEventElapsedTime(&ms, a, b), "cudaEventElapsedTime");
        best = std::min(best, (double)ms / steps);
    }
    cudaEventDestroy(a);
    cudaEventDestroy(b);
    return best;
}

}  // namespace

int main() {
    int32_t devices = 0;
    const char* reason = "";
    check(kiln_cuda_device_count(&devices, &reason), "kiln_cuda_device_count");
    if (devices == 0) {
        std::printf("graph_gpu: skipped, no CUDA device (%s)\n", reason);
        return 0;
    }
    cudaStream_t stream = nullptr;
    cuda_check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
    kiln_context* ctx = nullptr;  // on our stream, so the events time exactly its work
    check(kiln_context_create_on_stream(0, stream, &ctx), "kiln_context_create_on_stream");
    kiln_device_peak peak{};
    check(kiln_measure_peak(ctx, &peak), "kiln_measure_peak");
    check(kiln_empty_cache(ctx), "kiln_empty_cache");  // the peak's 512 MiB need not stay cached

    float* x = device_floats(ctx, uniform(kBatch * kIn, 7, 0.0f, 1.0f));
    std::vector<int32_t> host_labels(kBatch);
    for (int64_t i = 0; i < kBatch; ++i) host_labels[i] = (int32_t)((i * 7) % kClasses);
    void* labels = nullptr;
    check(kiln_alloc(ctx, kBatch * sizeof(int32_t), &labels), "kiln_alloc");
    check(kiln_copy_to_device(ctx, labels, host_labels.data(), kBatch * sizeof(int32_t)), "kiln_copy_to_device");
    const int32_t* y = static_cast<const int32_t*>(labels);

    Mlp eager = make_mlp(ctx), graphed = make_mlp(ctx);
    // One eager step each: the warm-up that fills the allocator's cache (GEMM scratch, if any) before the capture.
    train_step(ctx, eager, x, y);
    train_step(ctx, graphed, x, y);
    check(kiln_synchronize(ctx), "kiln_synchronize");
    check(kiln_graph_capture_begin(ctx), "kiln_graph_capture_begin");
    train_step(ctx, graphed, x, y);
    kiln_graph* graph = nullptr;
    check(kiln_graph_capture_end(ctx, &graph), "kiln_graph_capture_end");

    const bool smoke = kiln::bench::smoke_run();  // bench_shapes.h
    const int reps = smoke ? 2 : 5, steps = smoke ? 3 : 200;
    const double eager_ms = ms_per_step(stream, reps, steps, [&] { train_step(ctx, eager, x, y); });
    const double graph_ms = ms_per_step(stream, reps, steps, [&] { check(kiln_graph_launch(graph), "launch"); });

    // Both models took 1 + reps * steps steps from the same start: the same bits are expected.
    const float* a[4] = {eager.w1, eager.b1, eager.w2, eager.b2};
    const float* b[4] = {graphed.w1, graphed.b1, graphed.w2, graphed.b2};
    const int64_t sizes[4] = {kHidden * kIn, kHidden, kClasses * kHidden, kClasses};
    int64_t differing = 0;
    for (int i = 0; i < 4; ++i) {
        const std::vector<float> pa = download(ctx, a[i], sizes[i]), pb = download(ctx, b[i], sizes[i]);
        for (int64_t j = 0; j < sizes[i]; ++j) differing += std::memcmp(&pa[j], &pb[j], 4) != 0;
    }
    int32_t counts[2] = {0, 0};
    check(kiln_copy_to_host(ctx, &counts[0], eager.step, 4), "kiln_copy_to_host");
    check(kiln_copy_to_host(ctx, &counts[1], graphed.step, 4), "kiln_copy_to_host");

    // The products the step computes: both layers forward, both weight gradients, and the hidden layer's input
    // gradient (dh); the first layer's input gradient is never formed (x needs none).
    const double flops = 2.0 * kBatch * (2.0 * kIn * kHidden + 3.0 * kHidden * kClasses);
    std::printf("graph_gpu: %s\n", kiln_build_info());
    std::printf("MLP 784-%lld-%lld, batch %lld, Adam: best of %d runs of %d steps\n", (long long)kHidden,
                (long long)kClasses, (long long)kBatch, reps, steps);
    std::printf("  eager  %8.2f us/step  %7.1f GFLOP/s (%.2f%% of the %.0f GFLOP/s FMA peak)\n", eager_ms * 1e3,
                flops / eager_ms * 1e-6, 100.0 * flops / eager_ms * 1e-6 / peak.fma_gflops, peak.fma_gflops);
    std::printf("  graph  %8.2f us/step  %7.1f GFLOP/s (%.2f%%)\n", graph_ms * 1e3, flops / graph_ms * 1e-6,
                100.0 * flops / graph_ms * 1e-6 / peak.fma_gflops);
    std::printf("  speedup of the graph over eager launches: %.2fx\n", eager_ms / graph_ms);
    std::printf("  steps counted on the device: eager %d, graph %d; parameters differing: %lld of %lld\n", counts[0],
                counts[1], (long long)differing, (long long)(sizes[0] + sizes[1] + sizes[2] + sizes[3]));
    std::printf("RESULT graph_gpu mlp eager %.3f\n", eager_ms * 1e3);
    std::printf("RESULT graph_gpu mlp graph %.3f\n", graph_ms * 1e3);
    std::printf("RESULT graph_gpu mlp speedup %.3f\n", eager_ms / graph_ms);

    check(kiln_graph_destroy(graph), "kiln_graph_destroy");
    check(kiln_context_destroy(ctx), "kiln_context_destroy");
    cudaStreamDestroy(stream);
    const bool same = differing == 0 && counts[0] == counts[1];
    if (!same) std::printf("FAILED: the replayed steps do not match the eager ones\n");
    return same ? 0 : 1;
}
