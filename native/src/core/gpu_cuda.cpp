// The GPU layer over the CUDA runtime (linked statically, so this library loads on machines without a driver
// and only then finds out that there is no device).
#include <cuda_runtime_api.h>
#include <nvtx3/nvToolsExt.h>  // NVTX 3 is header-only: it finds a listening tool (Nsight) at run time, or does nothing

#include <cstdio>
#include <cstring>
#include <vector>

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

void check_stream(int device, void* stream, const char* op) {
#if CUDART_VERSION >= 12080
    int owner = -1;
    check(cudaStreamGetDevice((cudaStream_t)stream, &owner), op);
    if (owner != device)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'stream' belongs to cuda:%d, not cuda:%d", op, owner, device);
#else
    (void)device;  // older runtimes cannot name a stream's device: the caller's word is taken
    const cudaError_t err = cudaStreamQuery((cudaStream_t)stream);
    if (err != cudaSuccess && err != cudaErrorNotReady) fail_cuda(err, op);
#endif
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
    const auto s = (cudaStream_t)stream;
    const char* op = "kiln_copy_device_2d";
    // cudaMemcpy2D refuses what kiln.h allows: a pitch below the width even for one row, and any pitch above
    // cudaDevAttrMaxPitch (2^31 - 1 bytes), which slicing the leading axis of a tensor over 2 GiB reaches. One row,
    // or rows that lie back to back, is one 1-D copy; rows too far apart go one 1-D copy each (rows are then few:
    // each is more than 2 GiB of the device's memory).
    if (rows == 1 || (dst_pitch == width && src_pitch == width)) {
        check(cudaMemcpyAsync(dst, src, rows * width, cudaMemcpyDeviceToDevice, s), op);
        return;
    }
    int device = 0, max_pitch = 0;
    check(cudaGetDevice(&device), op);
    check(cudaDeviceGetAttribute(&max_pitch, cudaDevAttrMaxPitch, device), op);
    if (dst_pitch > (size_t)max_pitch || src_pitch > (size_t)max_pitch) {
        for (size_t r = 0; r < rows; ++r) {
            check(cudaMemcpyAsync(static_cast<char*>(dst) + r * dst_pitch, static_cast<const char*>(src) + r * src_pitch,
                                  width, cudaMemcpyDeviceToDevice, s),
                  op);
        }
        return;
    }
    check(cudaMemcpy2DAsync(dst, dst_pitch, src, src_pitch, width, rows, cudaMemcpyDeviceToDevice, s), op);
}

void synchronize(void* stream) { check(cudaStreamSynchronize((cudaStream_t)stream), "kiln_synchronize"); }

void check_launch(int cuda_error, const char* op) {
    if (cuda_error != cudaSuccess) fail_cuda((cudaError_t)cuda_error, op);
}

const char* build_archs() { return KILN_CUDA_ARCHS; }

void capture_begin(void* stream) {
    // Thread-local: this thread's unsafe calls (a stray cudaMalloc, a synchronization) fail the capture instead of
    // being silently outside it, while other threads of the process keep working on their own streams.
    check(cudaStreamBeginCapture((cudaStream_t)stream, cudaStreamCaptureModeThreadLocal), "kiln_graph_capture_begin");
}

void* capture_end(void* stream, const char* op) {
    cudaGraph_t graph = nullptr;
    check(cudaStreamEndCapture((cudaStream_t)stream, &graph), op);
    cudaGraphExec_t exec = nullptr;
    const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
    cudaGraphDestroy(graph);  // the executable graph is a copy; the template is not needed again
    check(err, op);
    return exec;
}

void capture_abort(void* stream) noexcept {
    cudaGraph_t graph = nullptr;
    if (cudaStreamEndCapture((cudaStream_t)stream, &graph) == cudaSuccess && graph) cudaGraphDestroy(graph);
    cudaGetLastError();
}

void graph_launch(void* exec, void* stream) {
    check(cudaGraphLaunch((cudaGraphExec_t)exec, (cudaStream_t)stream), "kiln_graph_launch");
}

void graph_destroy(void* exec) noexcept {
    cudaGraphExecDestroy((cudaGraphExec_t)exec);
    cudaGetLastError();
}

void range_push(const char* name) noexcept { nvtxRangePushA(name); }
void range_pop() noexcept { nvtxRangePop(); }

// Events are created once and reused: cudaEventCreate costs microseconds, as much as a small op.
struct OpTimer {
    int device;
    std::vector<cudaEvent_t> events;  // 2 per op: begin, end; the first 2 * pending are recorded
    size_t pending = 0;
};

OpTimer* op_timer_create(int device) {
    set_device(device);
    return new OpTimer{device, {}, 0};
}

void op_timer_destroy(OpTimer* timer) noexcept {
    if (!timer) return;
    if (cudaSetDevice(timer->device) == cudaSuccess) {
        for (cudaEvent_t e : timer->events) cudaEventDestroy(e);
    }
    cudaGetLastError();
    delete timer;
}

namespace {
void record_event(OpTimer* timer, size_t slot, void* stream) {
    while (timer->events.size() <= slot) {
        cudaEvent_t e = nullptr;
        check(cudaEventCreate(&e), "kiln profiler (cudaEventCreate)");
        timer->events.push_back(e);
    }
    check(cudaEventRecord(timer->events[slot], (cudaStream_t)stream), "kiln profiler (cudaEventRecord)");
}
}  // namespace

void op_timer_begin(OpTimer* timer, void* stream) { record_event(timer, 2 * timer->pending, stream); }

void op_timer_end(OpTimer* timer, void* stream) {
    record_event(timer, 2 * timer->pending + 1, stream);
    timer->pending++;
}

int64_t op_timer_collect(OpTimer* timer, void* stream, float* ms, int64_t capacity) {
    const int64_t n = (int64_t)timer->pending;
    if (n > capacity) {
        fail(KILN_ERR_INVALID_ARGUMENT, "kiln_profile_device_times: %lld ops are timed but capacity is %lld",
             (long long)n, (long long)capacity);
    }
    synchronize(stream);
    for (int64_t i = 0; i < n; ++i) {
        check(cudaEventElapsedTime(&ms[i], timer->events[2 * i], timer->events[2 * i + 1]), "kiln_profile_device_times");
    }
    timer->pending = 0;
    return n;
}

struct StreamTimer {
    int device;
    cudaEvent_t begin = nullptr, end = nullptr;
};

StreamTimer* stream_timer_create(int device) {
    set_device(device);
    auto* t = new StreamTimer{device};
    cudaError_t err = cudaEventCreate(&t->begin);
    if (err == cudaSuccess) err = cudaEventCreate(&t->end);
    if (err != cudaSuccess) {
        stream_timer_destroy(t);
        check(err, "kiln_stream_timer_start (cudaEventCreate)");
    }
    return t;
}

void stream_timer_destroy(StreamTimer* timer) noexcept {
    if (!timer) return;
    if (cudaSetDevice(timer->device) == cudaSuccess) {
        if (timer->begin) cudaEventDestroy(timer->begin);
        if (timer->end) cudaEventDestroy(timer->end);
    }
    cudaGetLastError();
    delete timer;
}

void stream_timer_start(StreamTimer* timer, void* stream) {
    check(cudaEventRecord(timer->begin, (cudaStream_t)stream), "kiln_stream_timer_start (cudaEventRecord)");
}

double stream_timer_stop(StreamTimer* timer, void* stream) {
    check(cudaEventRecord(timer->end, (cudaStream_t)stream), "kiln_stream_timer_stop (cudaEventRecord)");
    check(cudaEventSynchronize(timer->end), "kiln_stream_timer_stop (cudaEventSynchronize)");
    float ms = 0.0f;
    check(cudaEventElapsedTime(&ms, timer->begin, timer->end), "kiln_stream_timer_stop (cudaEventElapsedTime)");
    return ms;
}

size_t l2_cache_bytes(int device) {
    int bytes = 0;
    check(cudaDeviceGetAttribute(&bytes, cudaDevAttrL2CacheSize, device), "kiln_flush_l2 (cudaDevAttrL2CacheSize)");
    return bytes > 0 ? (size_t)bytes : 0;
}

void memset_async(void* stream, void* dst, int value, size_t bytes) {
    check(cudaMemsetAsync(dst, value, bytes, (cudaStream_t)stream), "kiln_flush_l2 (cudaMemsetAsync)");
}

}  // namespace kiln::gpu
