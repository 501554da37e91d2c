// The CUDA emulator's check of itself (native/test/cuda_emulator.sh runs it before parity in every mode): kernels
// whose outcome on a GPU is known, so that a passing parity run means right kernels rather than an emulator that
// stopped looking. Built as the emulator builds kernels/*.cu: rewritten by rewrite.cmake, device.h force-included.
// Usage: emu_selfcheck ordered   (exit 0: every sum right, and shared memory nothing wrote reads as NaN in every
//                                 block; under ThreadSanitizer also nothing reported)
//        emu_selfcheck racy      (the race check: a data race reported at block_sum's read, exit 66; else exit 1)
//        emu_selfcheck blocks    (the race check: a data race reported at last_block_wins's write, exit 66)
//        emu_selfcheck overrun   (AddressSanitizer: a write past a static __shared__ array reported; else exit 1)
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

constexpr int kThreads = 256;

// out[b] = the sum of block b's kThreads inputs, through shared memory. Without `barrier`, thread 0 reads the other
// threads' slots with nothing ordering their writes first: the missing __syncthreads the race check exists to find.
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

// out[2b], out[2b + 1] = what block b finds in a static and in the dynamic shared array before writing them: garbage
// on a GPU, NaN here, in every block (a block that found the last block's zeros would hide a read of nothing).
__global__ void unwritten_shared(float* out) {
    __shared__ float fixed[4];
    extern __shared__ float dynamic[];
    if (threadIdx.x == 0) {
        out[2 * blockIdx.x] = fixed[blockIdx.x % 4];
        out[2 * blockIdx.x + 1] = dynamic[blockIdx.x % 4];
        fixed[blockIdx.x % 4] = 0.0f;
        dynamic[blockIdx.x % 4] = 0.0f;
    }
}

// Every block writes out[0..31]: the same value, so any order gives the same result, yet the writes of different
// blocks race (nothing orders one block before another), as a result tile that two blocks both cover would.
__global__ void last_block_wins(float* out) {
    if (threadIdx.x < 32) out[threadIdx.x] = (float)threadIdx.x;
}

// Launched with 33 threads: the last writes one float past `slots`, which AddressSanitizer must report. Through a
// pointer, as block_reduce's smem is reached, so that UBSan's check of array bounds does not see it first.
__global__ void shared_overrun(float* out) {
    __shared__ float slots[32];
    float* slot = slots + threadIdx.x;
    *slot = 1.0f;
    __syncthreads();
    if (threadIdx.x == 0) out[0] = slots[31];
}

bool ok(cudaError_t e, const char* what) {
    if (e == cudaSuccess) return true;
    std::fprintf(stderr, "emu_selfcheck: %s: %s\n", what, cudaGetErrorString(e));
    return false;
}

template <class T>
bool to_host(std::vector<T>& host, const T* device) {
    return ok(cudaMemcpy(host.data(), device, host.size() * sizeof(T), cudaMemcpyDeviceToHost), "cudaMemcpy");
}

}  // namespace

int main(int argc, char** argv) {
    const char* mode = argc == 2 ? argv[1] : "";
    const bool racy = std::strcmp(mode, "racy") == 0, overrun = std::strcmp(mode, "overrun") == 0;
    const bool racy_blocks = std::strcmp(mode, "blocks") == 0;
    if (!racy && !overrun && !racy_blocks && std::strcmp(mode, "ordered") != 0) {
        std::fprintf(stderr, "usage: emu_selfcheck ordered|racy|blocks|overrun\n");
        return 64;
    }
    const int blocks = 4, n = blocks * kThreads;
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = (float)(i % 7);  // small integers: every sum below is exact
    float *dx = nullptr, *dsum = nullptr, *dwarp = nullptr, *dfound = nullptr;
    if (!ok(cudaMalloc(&dx, n * sizeof(float)), "cudaMalloc") ||
        !ok(cudaMalloc(&dsum, blocks * sizeof(float)), "cudaMalloc") ||
        !ok(cudaMalloc(&dwarp, n / 32 * sizeof(float)), "cudaMalloc") ||
        !ok(cudaMalloc(&dfound, 2 * blocks * sizeof(float)), "cudaMalloc") ||
        !ok(cudaMemcpy(dx, x.data(), n * sizeof(float), cudaMemcpyHostToDevice), "cudaMemcpy"))
        return 1;

    if (overrun) {
        shared_overrun<<<1, 33>>>(dsum);
        ok(cudaDeviceSynchronize(), "shared_overrun");
        std::fprintf(stderr, "emu_selfcheck: a write past a static __shared__ array ran to the end unreported\n");
        return 1;
    }
    if (racy_blocks) {
        last_block_wins<<<blocks, kThreads>>>(dwarp);
        ok(cudaDeviceSynchronize(), "last_block_wins");
        std::fprintf(stderr, "emu_selfcheck: blocks writing the same outputs ran to the end unreported\n");
        return 1;
    }
    block_sum<<<blocks, kThreads>>>(dx, dsum, !racy);
    warp_sums<<<blocks, kThreads>>>(dx, dwarp);
    unwritten_shared<<<blocks, 32, 4 * sizeof(float)>>>(dfound);
    std::vector<float> sums(blocks), warps(n / 32), found(2 * blocks);
    if (!ok(cudaDeviceSynchronize(), "kernels") || !to_host(sums, dsum) || !to_host(warps, dwarp) ||
        !to_host(found, dfound))
        return 1;
    if (racy) {
        std::fprintf(stderr, "emu_selfcheck: block_sum without its barrier ran to the end unreported\n");
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
    int written = 0;
    for (float f : found) written += !std::isnan(f);
    cudaFree(dx);
    cudaFree(dsum);
    cudaFree(dwarp);
    cudaFree(dfound);
    std::printf("emu_selfcheck: %d of %d sums wrong; %d of %d reads of unwritten shared memory found a value\n", wrong,
                blocks + n / 32, written, 2 * blocks);
    return wrong == 0 && written == 0 ? 0 : 1;
}
