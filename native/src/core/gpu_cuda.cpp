// The GPU layer over the CUDA runtime (linked statically, so this library loads on machines without a driver
// and only then finds out that there is no device).
#include <cuda_runtime_api.h>

#include <cstdio>
#include <cstring>

#include "core/error.h"
#include "core/gpu.h"
#include "kiln_build_config.h"


namespace kiln::gpu {

namespace {

[[noreturn]] void fail_cuda(cudaError_t err, const char* what) {
    cudaGetLastError();  // clear sticky-free errors so the next call starts clean
    fail(KILN_ERR_CUDA, "%s: CUDA error %s (%s)", what, cudaGetErrorName(err), cudaGetErrorString(err));
}

void check(cudaError_t err, const char* what) {
    if (err != cudaSuccess) fail_cuda(err, what);
}

}  // namespace

int device_count(const char** reason) {
    int count = 0;
    const cudaError_t err = cudaGetDeviceCount(&count);
    if (err != cudaSuccess) {
        cudaGetLastError();
        if (reason) {
            switch (err) {
                case cudaErrorNoDevice: *reason = "the CUDA driver found no GPU"; break;
                case cudaErrorInsufficientDriver:
                    *reason = "no CUDA driver is installed, or it is older than this library's CUDA runtime";
                    break;
                default: *reason = cudaGetErrorString(err); break;
            }
        }
        return 0;
    }
    if (reason) *reason = count > 0 ? "" : "the CUDA driver found no GPU";
    return count;
}

void properties(int device, kiln_device_props* out) {
    cudaDeviceProp p;
    check(cudaGetDeviceProperties(&p, device), "kiln_device_properties");
    std::memset(out, 0, sizeof(*out));
    std::snprintf(out->name, sizeof(out->name), "%s", p.name);
    out->total_memory = p.totalGlobalMem;
    out->cc_major = p.major;
    out->cc_minor = p.minor;
    out->multiprocessors = p.multiProcessorCount;
    set_device(device);
    size_t free_b = 0, total_b = 0;
    check(cudaMemGetInfo(&free_b, &total_b), "kiln_device_properties");
    out->free_memory = free_b;
}

void set_device(int device) { check(cudaSetDevice(device), "cudaSetDevice"); }

void* create_stream(int device) {
    set_device(device);
    cudaStream_t s = nullptr;
    check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "kiln_context_create");
    return s;
}

void destroy_stream(int device, void* stream) noexcept {
    if (cudaSetDevice(device) == cudaSuccess) cudaStreamDestroy((cudaStream_t)stream);
    cudaGetLastError();
}

void* malloc_or_null(int device, size_t bytes) {
    set_device(device);
    void* p = nullptr;
    const cudaError_t err = cudaMalloc(&p, bytes);
    if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        return nullptr;
    }
    check(err, "cudaMalloc");
    return p;
}

void free(int device, void* ptr) noexcept {
    if (cudaSetDevice(device) == cudaSuccess) cudaFree(ptr);
    cudaGetLastError();
}

void copy(void* stream, void* dst, const void* src, size_t bytes, CopyKind kind) {
    const cudaMemcpyKind k = kind == CopyKind::ToDevice ? cudaMemcpyHostToDevice
                             : kind == CopyKind::ToHost ? cudaMemcpyDeviceToHost
                                                        : cudaMemcpyDeviceToDevice;
    check(cudaMemcpyAsync(dst, src, bytes, k, (cudaStream_t)stream), "kiln copy");
    // Host copies complete before returning: the caller (often a JVM array pinned for the call) reuses the buffer.
    if (kind != CopyKind::DeviceToDevice) check(cudaStreamSynchronize((cudaStream_t)stream), "kiln copy");
}

void copy_2d(void* stream, void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width, size_t rows) {
    check(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, rows, cudaMemcpyDeviceToDevice, (cudaStream_t)stream),
          "kiln_copy_device_2d");
}

void synchronize(void* stream) { check(cudaStreamSynchronize((cudaStream_t)stream), "kiln_synchronize"); }

void check_launch(int cuda_error, const char* op) {
    if (cuda_error != cudaSuccess) fail_cuda((cudaError_t)cuda_error, op);
}

const char* build_archs() { return KILN_CUDA_ARCHS; }

}  // namespace kiln::gpu
