// The race check's check of itself (native/test/cuda_emulator.sh --race runs it before parity): the emulator under
// ThreadSanitizer must pass kernels that order their threads as a GPU requires and report the one that does not, so
// that a passing race check means the kernels are race-free rather than that the check has stopped looking.
// Usage: emu_race_selfcheck ordered   (exit 0: results right, nothing reported)
//        emu_race_selfcheck racy      (under TSan: a data race reported at block_sum's read, exit 66; else exit 1)
// Kernels in CUDA's language, compiled as the emulator compiles kernels/*.cu (device.h force-included); launches
// written as rewrite.cmake writes them.
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

constexpr int kThreads = 256;

// out[b] = the sum of block b's kThreads inputs, through shared memory. Without `barrier`, thread 0 reads the other
// threads' slots with nothing ordering their writes first: the missing __syncthreads the check exists to find.
__global__ void block_sum(const float* x, float* out, bool barrier) {
    __shared__ float part[kThreads];
    part[threadIdx.x] = x[blockIdx.x * kThreads + threadIdx.x];
    if (barrier) __syncthreads();
    if (threadIdx.x == 0) {
        float s = 0.0f;
        for (int i = 0; i < kThreads; ++i) s += part[i];
        out[blockIdx.x] = s;
    }
}

// out[b * 8 + w] = the sum of warp w's inputs in block b, by shuffles: ordered by the warp collectives alone.
__global__ void warp_sums(const float* x, float* out) {
    float v = x[blockIdx.x * kThreads + threadIdx.x];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    if (threadIdx.x % 32 == 0) out[blockIdx.x * (kThreads / 32) + threadIdx.x / 32] = v;
}

bool ok(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return true;
    std::fprintf(stderr, "emu_race_selfcheck: %s: %s\n", what, cudaGetErrorString(e));
    return false;
}

}  // namespace

int main(int argc, char** argv) {
    const bool racy = argc == 2 && std::strcmp(argv[1], "racy") == 0;
    if (argc != 2 || (!racy && std::strcmp(argv[1], "ordered") != 0)) {
        std::fprintf(stderr, "usage: emu_race_selfcheck ordered|racy\n");
        return 64;
    }
    const int blocks = 4, n = blocks * kThreads;
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = (float)(i % 7);  // small integers: every sum below is exact
    float *dx = nullptr, *dsum = nullptr, *dwarp = nullptr;
    if (!ok(cudaMalloc(&dx, n * sizeof(float)), "cudaMalloc") ||
        !ok(cudaMalloc(&dsum, blocks * sizeof(float)), "cudaMalloc") ||
        !ok(cudaMalloc(&dwarp, n / 32 * sizeof(float)), "cudaMalloc") ||
        !ok(cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy"))
        return 1;

    block_sum * ::kiln_emu::Launch(blocks, kThreads)(dx, dsum, !racy);
    warp_sums * ::kiln_emu::Launch(blocks, kThreads)(dx, dwarp);
    std::vector<float> sums(blocks), warps(n / 32);
    if (!ok(cudaDeviceSynchronize(), "kernels") ||
        !ok(cudaMemcpy(sums.data(), dsum, blocks * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy") ||
        !ok(cudaMemcpy(warps.data(), dwarp, n / 32 * sizeof(float), cudaMemcpyDeviceToHost), "cudaMemcpy"))
        return 1;
    if (racy) {
        std::fprintf(stderr, "emu_race_selfcheck: block_sum without its barrier ran to the end unreported\n");
        return 1;
    }
    int wrong = 0;
    for (int b = 0; b < blocks; ++b) {
        float expected = 0.0f;
        for (int i = 0; i < kThreads; ++i) expected += x[b * kThreads + i];
        wrong += sums[b] != expected;
    }
    for (int w = 0; w < n / 32; ++w) {
        float expected = 0.0f;
        for (int i = 0; i < 32; ++i) expected += x[w * 32 + i];
        wrong += warps[w] != expected;
    }
    cudaFree(dx);
    cudaFree(dsum);
    cudaFree(dwarp);
    std::printf("emu_race_selfcheck: %d of %d sums wrong\n", wrong, blocks + n / 32);
    return wrong == 0 ? 0 : 1;
}
