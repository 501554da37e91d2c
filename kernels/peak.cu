// The GPU's roofline, measured (kiln_measure_peak): fp32 FMA throughput with every SM busy, and device-to-device copy
// bandwidth. Timed with events on the context's stream; the benchmarks print their figures as fractions of these.
#include <algorithm>

#include "peak.h"

namespace kiln::cuda {

namespace {

constexpr int kThreads = 256;
constexpr int kChains = 8;      // independent FMA chains per thread: enough to hide the FMA latency at full occupancy
#if defined(KILN_CUDA_EMU)
constexpr int kIters = 64;  // native/emu: its times mean nothing, and 65536 would take minutes on the CPU
#else
constexpr int kIters = 65536;  // about 5 ms on an H200: long enough for event timing
#endif

// Each thread runs kChains chains of kIters dependent FMAs. The result is stored only under a condition no input
// meets, so the compiler must compute it but the store never happens.
__global__ void __launch_bounds__(kThreads) fma_kernel(float* sink, float seed) {
    float a[kChains];
#pragma unroll
    for (int c = 0; c < kChains; ++c) a[c] = seed + (float)(threadIdx.x + c);
    const float b = 0.999999f, d = 1e-6f;
    for (int i = 0; i < kIters; ++i) {
#pragma unroll
        for (int c = 0; c < kChains; ++c) a[c] = fmaf(a[c], b, d);
    }
    float sum = 0.0f;
#pragma unroll
    for (int c = 0; c < kChains; ++c) sum += a[c];
    if (sum == -1.0f) sink[0] = sum;
}

// Milliseconds between two events around `queue`, best of 3.
template <class Queue>
cudaError_t best_of_3(cudaStream_t s, Queue queue, float* best_ms) {
    cudaEvent_t start = nullptr, stop = nullptr;
    cudaError_t err = cudaEventCreate(&start);
    if (err == cudaSuccess) err = cudaEventCreate(&stop);
    *best_ms = 0.0f;
    for (int rep = 0; rep < 3 && err == cudaSuccess; ++rep) {
        if ((err = cudaEventRecord(start, s)) != cudaSuccess) break;
        if ((err = queue()) != cudaSuccess) break;
        if ((err = cudaEventRecord(stop, s)) != cudaSuccess) break;
        if ((err = cudaEventSynchronize(stop)) != cudaSuccess) break;
        float ms = 0.0f;
        if ((err = cudaEventElapsedTime(&ms, start, stop)) != cudaSuccess) break;
        if (*best_ms == 0.0f || ms < *best_ms) *best_ms = ms;
    }
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    return err;
}

}  // namespace

cudaError_t measure_peak(cudaStream_t s, Scratch& scratch, kiln_device_peak* out) {
    int device = 0, sms = 0;
    cudaError_t err = cudaGetDevice(&device);
    if (err == cudaSuccess) err = cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device);
    if (err != cudaSuccess) return err;
    constexpr size_t kBytes = size_t(256) << 20;
    char* src = static_cast<char*>(scratch.get(kBytes));
    char* dst = static_cast<char*>(scratch.get(kBytes));
    if (!src || !dst) return cudaErrorInvalidValue;

    const int blocks = sms * 8;  // several waves' worth of resident blocks on every SM
    float fma_ms = 0.0f;
    err = best_of_3(s, [&] {
        fma_kernel<<<blocks, kThreads, 0, s>>>(reinterpret_cast<float*>(dst), 1.0f);
        return cudaGetLastError();
    }, &fma_ms);
    if (err != cudaSuccess) return err;
    if ((err = cudaMemsetAsync(src, 1, kBytes, s)) != cudaSuccess) return err;
    float copy_ms = 0.0f;
    err = best_of_3(s, [&] { return cudaMemcpyAsync(dst, src, kBytes, cudaMemcpyDeviceToDevice, s); }, &copy_ms);
    if (err != cudaSuccess) return err;
    const double flops = double(blocks) * kThreads * kChains * kIters * 2.0;
    out->fma_gflops = flops / (fma_ms * 1e-3) / 1e9;
    out->copy_gbps = 2.0 * double(kBytes) / (copy_ms * 1e-3) / 1e9;
    return cudaSuccess;
}

}  // namespace kiln::cuda
