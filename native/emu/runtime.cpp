// Kiln's CUDA emulator (native/emu): the CUDA runtime API over host memory and the SIMT engine (simt.cpp). One
// device. Work runs when it is enqueued, so every stream is always idle; a capture records its stream's work instead.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "emu.h"

struct CUstream_st {
    bool capturing = false;
    bool invalidated = false;
    cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
    std::thread::id capture_thread;
    std::vector<std::function<void()>> captured;
};
struct CUevent_st {
    std::chrono::steady_clock::time_point at;
    bool recorded = false;
};
struct CUgraph_st {
    std::vector<std::function<void()>> work;
};
struct CUgraphExec_st {
    std::vector<std::function<void()>> work;
};

namespace {

constexpr size_t kTotalMemory = (size_t)8 << 30;  // what the emulated device reports and lets be allocated
constexpr size_t kMaxPitch = 2147483647;          // cudaDevAttrMaxPitch: the widest pitch a 2-D copy takes

struct Runtime {
    std::mutex mu;
    size_t used = 0;
    std::unordered_map<void*, size_t> allocations;
    std::unordered_set<cudaStream_t> streams;
    std::unordered_map<const void*, size_t> max_dynamic_smem;  // per kernel, set by cudaFuncSetAttribute
    int capturing_global = 0;                                  // streams in a global-mode capture
};
Runtime& rt() {
    static Runtime* r = new Runtime;  // never destroyed: streams and buffers may outlive static destructors
    return *r;
}

CUstream_st legacy_stream;  // stream 0
thread_local cudaError_t tl_last_error = cudaSuccess;
thread_local int tl_capturing = 0;  // captures begun on this thread

cudaError_t set_error(cudaError_t e) {
    if (e != cudaSuccess) tl_last_error = e;
    return e;
}

CUstream_st* stream_of(cudaStream_t s) { return s ? s : &legacy_stream; }

bool known_stream(cudaStream_t s) {
    if (!s) return true;
    std::lock_guard<std::mutex> lock(rt().mu);
    return rt().streams.count(s) != 0;
}

// An unsafe call (an allocation, a synchronization, a legacy-stream copy) while this thread, or any thread in global
// mode, captures: the real runtime refuses it and invalidates the captures it would break.
bool capture_forbids_unsafe_call() {
    if (tl_capturing == 0 && rt().capturing_global == 0) return false;
    std::lock_guard<std::mutex> lock(rt().mu);
    for (cudaStream_t s : rt().streams) {
        if (s->capturing && s->mode != cudaStreamCaptureModeRelaxed &&
            (s->mode == cudaStreamCaptureModeGlobal || s->capture_thread == std::this_thread::get_id()))
            s->invalidated = true;
    }
    return true;
}

// Runs work now, or appends it to the capture of s.
cudaError_t enqueue(cudaStream_t s, std::function<void()> work) {
    CUstream_st* st = stream_of(s);
    if (st->capturing) {
        st->captured.push_back(std::move(work));
        return cudaSuccess;
    }
    work();
    return cudaSuccess;
}

bool valid_range(const void* p, size_t bytes) { return bytes == 0 || p != nullptr; }

}  // namespace

namespace kiln_emu {

cudaError_t launch(const void* kernel, const Config& cfg, std::function<void()> thread, bool cooperative) {
    const dim3 b = cfg.block, g = cfg.grid;
    const uint64_t threads = (uint64_t)b.x * b.y * b.z;
    if (threads == 0 || threads > 1024 || b.z > 64 || g.x == 0 || g.y == 0 || g.z == 0 || g.x > 2147483647u ||
        g.y > 65535 || g.z > 65535)
        return set_error(cudaErrorInvalidConfiguration);
    size_t limit = kSharedDefaultPerBlock;
    {
        std::lock_guard<std::mutex> lock(rt().mu);
        auto it = rt().max_dynamic_smem.find(kernel);
        if (it != rt().max_dynamic_smem.end()) limit = it->second;
    }
    if (cfg.smem > limit) return set_error(cudaErrorInvalidValue);
    if (!known_stream(cfg.stream)) return set_error(cudaErrorInvalidResourceHandle);
    if (cooperative &&
        (uint64_t)g.x * g.y * g.z > (uint64_t)multiprocessors() * blocks_per_sm((int)threads, cfg.smem))
        return set_error(cudaErrorCooperativeLaunchTooLarge);
    return enqueue(cfg.stream, [cfg, thread = std::move(thread), cooperative] { run_grid(cfg, thread, cooperative); });
}

}  // namespace kiln_emu

int kiln_emu::multiprocessors() {
    static const int count = [] {
        const char* v = std::getenv("KILN_EMU_MULTIPROCESSORS");
        const int n = v ? std::atoi(v) : kMultiprocessors;
        return n >= 1 && n <= kMultiprocessors ? n : kMultiprocessors;
    }();
    return count;
}

// CUDA_VISIBLE_DEVICES hides the device as it hides a GPU: visible where the variable is unset or its list starts
// with 0, so a test can run the no-device paths against this build too (CUDA_VISIBLE_DEVICES= or -1).
static bool device_visible() {
    static const bool visible = [] {
        const char* v = std::getenv("CUDA_VISIBLE_DEVICES");
        return v == nullptr || (v[0] == '0' && (v[1] == '\0' || v[1] == ','));
    }();
    return visible;
}

cudaError_t cudaGetDeviceCount(int* count) {
    if (!count) return set_error(cudaErrorInvalidValue);
    *count = device_visible() ? 1 : 0;
    return device_visible() ? cudaSuccess : set_error(cudaErrorNoDevice);
}
cudaError_t cudaGetDevice(int* device) {
    if (!device) return set_error(cudaErrorInvalidValue);
    *device = 0;
    return cudaSuccess;
}
cudaError_t cudaSetDevice(int device) {
    return device == 0 && device_visible() ? cudaSuccess : set_error(cudaErrorInvalidDevice);
}

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int device) {
    if (!p) return set_error(cudaErrorInvalidValue);
    if (device != 0 || !device_visible()) return set_error(cudaErrorInvalidDevice);
    std::memset(p, 0, sizeof *p);
    std::snprintf(p->name, sizeof p->name, "Kiln CUDA emulator (H200-shaped, on the CPU)");
    p->totalGlobalMem = kTotalMemory;
    p->sharedMemPerBlock = kiln_emu::kSharedDefaultPerBlock;
    p->warpSize = 32;
    p->maxThreadsPerBlock = 1024;
    p->maxThreadsDim[0] = p->maxThreadsDim[1] = 1024;
    p->maxThreadsDim[2] = 64;
    p->maxGridSize[0] = 2147483647;
    p->maxGridSize[1] = p->maxGridSize[2] = 65535;
    p->major = 9;
    p->minor = 0;
    p->multiProcessorCount = kiln_emu::multiprocessors();
    p->maxThreadsPerMultiProcessor = kiln_emu::kMaxThreadsPerSm;
    p->sharedMemPerBlockOptin = kiln_emu::kSharedOptinPerBlock;
    p->sharedMemPerMultiprocessor = kiln_emu::kSharedPerSm;
    p->l2CacheSize = 50 << 20;
    p->cooperativeLaunch = 1;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int* value, cudaDeviceAttr attr, int device) {
    if (!value) return set_error(cudaErrorInvalidValue);
    if (device != 0 || !device_visible()) return set_error(cudaErrorInvalidDevice);
    switch (attr) {
        case cudaDevAttrMaxPitch: *value = (int)kMaxPitch; return cudaSuccess;
        case cudaDevAttrMultiProcessorCount: *value = kiln_emu::multiprocessors(); return cudaSuccess;
        case cudaDevAttrL2CacheSize: *value = 50 << 20; return cudaSuccess;
        case cudaDevAttrCooperativeLaunch: *value = 1; return cudaSuccess;
        case cudaDevAttrMaxSharedMemoryPerBlockOptin: *value = (int)kiln_emu::kSharedOptinPerBlock; return cudaSuccess;
    }
    return set_error(cudaErrorInvalidValue);
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
    if (!free_bytes || !total_bytes) return set_error(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> lock(rt().mu);
    *total_bytes = kTotalMemory;
    *free_bytes = kTotalMemory - rt().used;
    return cudaSuccess;
}

cudaError_t cudaGetLastError() {
    const cudaError_t e = tl_last_error;
    tl_last_error = cudaSuccess;
    return e;
}

const char* cudaGetErrorName(cudaError_t err) {
    switch (err) {
        case cudaSuccess: return "cudaSuccess";
        case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
        case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
        case cudaErrorInitializationError: return "cudaErrorInitializationError";
        case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
        case cudaErrorInvalidPitchValue: return "cudaErrorInvalidPitchValue";
        case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
        case cudaErrorNoDevice: return "cudaErrorNoDevice";
        case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
        case cudaErrorInvalidResourceHandle: return "cudaErrorInvalidResourceHandle";
        case cudaErrorNotReady: return "cudaErrorNotReady";
        case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
        case cudaErrorCooperativeLaunchTooLarge: return "cudaErrorCooperativeLaunchTooLarge";
        case cudaErrorNotSupported: return "cudaErrorNotSupported";
        case cudaErrorStreamCaptureUnsupported: return "cudaErrorStreamCaptureUnsupported";
        case cudaErrorStreamCaptureInvalidated: return "cudaErrorStreamCaptureInvalidated";
        case cudaErrorStreamCaptureWrongThread: return "cudaErrorStreamCaptureWrongThread";
    }
    return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t err) {
    switch (err) {
        case cudaSuccess: return "no error";
        case cudaErrorInvalidValue: return "invalid argument";
        case cudaErrorMemoryAllocation: return "out of memory";
        case cudaErrorInvalidConfiguration: return "invalid configuration argument";
        case cudaErrorInvalidDevice: return "invalid device ordinal";
        case cudaErrorInvalidResourceHandle: return "invalid resource handle";
        case cudaErrorCooperativeLaunchTooLarge: return "too many blocks in cooperative launch";
        case cudaErrorStreamCaptureUnsupported: return "operation not permitted when stream is capturing";
        case cudaErrorStreamCaptureInvalidated: return "operation failed due to a previous error during capture";
        default: return cudaGetErrorName(err);
    }
}

// ---- memory ------------------------------------------------------------------------------------------------------

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
    if (!ptr) return set_error(cudaErrorInvalidValue);
    if (capture_forbids_unsafe_call()) return set_error(cudaErrorStreamCaptureUnsupported);
    *ptr = nullptr;
    if (bytes == 0) return cudaSuccess;
    const size_t rounded = (bytes + 255) / 256 * 256;
    {
        std::lock_guard<std::mutex> lock(rt().mu);
        if (rounded > kTotalMemory - rt().used) return set_error(cudaErrorMemoryAllocation);
        rt().used += rounded;
    }
    void* p = std::aligned_alloc(256, rounded);
    if (!p) {
        std::lock_guard<std::mutex> lock(rt().mu);
        rt().used -= rounded;
        return set_error(cudaErrorMemoryAllocation);
    }
    // Fresh device memory holds garbage on a GPU; here every byte is 0xff (a float NaN, an int -1), so a kernel
    // that reads what nothing wrote shows it.
    std::memset(p, 0xff, rounded);
    std::lock_guard<std::mutex> lock(rt().mu);
    rt().allocations[p] = rounded;
    *ptr = p;
    return cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
    if (!ptr) return cudaSuccess;
    std::lock_guard<std::mutex> lock(rt().mu);
    auto it = rt().allocations.find(ptr);
    if (it == rt().allocations.end()) return set_error(cudaErrorInvalidValue);
    rt().used -= it->second;
    rt().allocations.erase(it);
    std::free(ptr);
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind, cudaStream_t s) {
    if (!valid_range(dst, bytes) || !valid_range(src, bytes)) return set_error(cudaErrorInvalidValue);
    if (!known_stream(s)) return set_error(cudaErrorInvalidResourceHandle);
    return enqueue(s, [=] { std::memmove(dst, src, bytes); });
}
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind) {
    if (capture_forbids_unsafe_call()) return set_error(cudaErrorStreamCaptureUnsupported);
    return cudaMemcpyAsync(dst, src, bytes, kind, nullptr);
}

cudaError_t cudaMemcpy2DAsync(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                              cudaMemcpyKind, cudaStream_t s) {
    // As a GPU does: pitches below the width (one row too) and above cudaDevAttrMaxPitch are refused.
    if (width > dpitch || width > spitch || dpitch > kMaxPitch || spitch > kMaxPitch)
        return set_error(cudaErrorInvalidPitchValue);
    if (height > 0 && width > 0 && (!dst || !src)) return set_error(cudaErrorInvalidValue);
    if (!known_stream(s)) return set_error(cudaErrorInvalidResourceHandle);
    return enqueue(s, [=] {
        for (size_t r = 0; r < height; ++r)
            std::memmove(static_cast<char*>(dst) + r * dpitch, static_cast<const char*>(src) + r * spitch, width);
    });
}
cudaError_t cudaMemcpy2D(void* dst, size_t dpitch, const void* src, size_t spitch, size_t width, size_t height,
                         cudaMemcpyKind kind) {
    if (capture_forbids_unsafe_call()) return set_error(cudaErrorStreamCaptureUnsupported);
    return cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height, kind, nullptr);
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cudaStream_t s) {
    if (!valid_range(dst, bytes)) return set_error(cudaErrorInvalidValue);
    if (!known_stream(s)) return set_error(cudaErrorInvalidResourceHandle);
    return enqueue(s, [=] { std::memset(dst, value, bytes); });
}
cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
    if (capture_forbids_unsafe_call()) return set_error(cudaErrorStreamCaptureUnsupported);
    return cudaMemsetAsync(dst, value, bytes, nullptr);
}
cudaError_t cudaMemset2D(void* dst, size_t pitch, int value, size_t width, size_t height) {
    if (width > pitch) return set_error(cudaErrorInvalidPitchValue);
    if (capture_forbids_unsafe_call()) return set_error(cudaErrorStreamCaptureUnsupported);
    for (size_t r = 0; r < height; ++r) std::memset(static_cast<char*>(dst) + r * pitch, value, width);
    return cudaSuccess;
}

// ---- streams and events ------------------------------------------------------------------------------------------

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
    if (!s) return set_error(cudaErrorInvalidValue);
    *s = new CUstream_st;
    std::lock_guard<std::mutex> lock(rt().mu);
    rt().streams.insert(*s);
    return cudaSuccess;
}
cudaError_t cudaStreamCreate(cudaStream_t* s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }

cudaError_t cudaStreamDestroy(cudaStream_t s) {
    if (!s) return set_error(cudaErrorInvalidResourceHandle);
    {
        std::lock_guard<std::mutex> lock(rt().mu);
        if (!rt().streams.erase(s)) return set_error(cudaErrorInvalidResourceHandle);
    }
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s) {
    if (!known_stream(s)) return set_error(cudaErrorInvalidResourceHandle);
    if (stream_of(s)->capturing) {
        stream_of(s)->invalidated = true;
        return set_error(cudaErrorStreamCaptureUnsupported);
    }
    return cudaSuccess;
}
cudaError_t cudaDeviceSynchronize() {
    return capture_forbids_unsafe_call() ? set_error(cudaErrorStreamCaptureUnsupported) : cudaSuccess;
}
cudaError_t cudaStreamQuery(cudaStream_t s) {
    return known_stream(s) ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle);
}
cudaError_t cudaStreamGetDevice(cudaStream_t s, int* device) {
    if (!device) return set_error(cudaErrorInvalidValue);
    if (!known_stream(s)) return set_error(cudaErrorInvalidResourceHandle);
    *device = 0;
    return cudaSuccess;
}

cudaError_t cudaEventCreate(cudaEvent_t* e) {
    if (!e) return set_error(cudaErrorInvalidValue);
    *e = new CUevent_st;
    return cudaSuccess;
}
cudaError_t cudaEventDestroy(cudaEvent_t e) {
    if (!e) return set_error(cudaErrorInvalidResourceHandle);
    delete e;
    return cudaSuccess;
}
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s) {
    if (!e) return set_error(cudaErrorInvalidResourceHandle);
    if (!known_stream(s)) return set_error(cudaErrorInvalidResourceHandle);
    return enqueue(s, [e] {
        e->at = std::chrono::steady_clock::now();
        e->recorded = true;
    });
}
cudaError_t cudaEventSynchronize(cudaEvent_t e) { return e ? cudaSuccess : set_error(cudaErrorInvalidResourceHandle); }
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
    if (!ms) return set_error(cudaErrorInvalidValue);
    if (!start || !end) return set_error(cudaErrorInvalidResourceHandle);
    if (!start->recorded || !end->recorded) return set_error(cudaErrorInvalidResourceHandle);
    *ms = std::chrono::duration<float, std::milli>(end->at - start->at).count();
    return cudaSuccess;
}

// ---- graphs ------------------------------------------------------------------------------------------------------

cudaError_t cudaStreamBeginCapture(cudaStream_t s, cudaStreamCaptureMode mode) {
    if (!s) return set_error(cudaErrorStreamCaptureUnsupported);  // the legacy stream cannot be captured
    if (!known_stream(s)) return set_error(cudaErrorInvalidResourceHandle);
    if (s->capturing) return set_error(cudaErrorInvalidValue);
    s->capturing = true;
    s->invalidated = false;
    s->mode = mode;
    s->capture_thread = std::this_thread::get_id();
    s->captured.clear();
    ++tl_capturing;
    if (mode == cudaStreamCaptureModeGlobal) {
        std::lock_guard<std::mutex> lock(rt().mu);
        ++rt().capturing_global;
    }
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t* graph) {
    if (!graph) return set_error(cudaErrorInvalidValue);
    if (!s || !known_stream(s) || !s->capturing) return set_error(cudaErrorInvalidValue);
    if (s->capture_thread != std::this_thread::get_id() && s->mode != cudaStreamCaptureModeRelaxed)
        return set_error(cudaErrorStreamCaptureWrongThread);
    s->capturing = false;
    --tl_capturing;
    if (s->mode == cudaStreamCaptureModeGlobal) {
        std::lock_guard<std::mutex> lock(rt().mu);
        --rt().capturing_global;
    }
    *graph = nullptr;
    if (s->invalidated) {
        s->captured.clear();
        return set_error(cudaErrorStreamCaptureInvalidated);
    }
    *graph = new CUgraph_st{std::move(s->captured)};
    s->captured.clear();
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph, unsigned long long) {
    if (!exec || !graph) return set_error(cudaErrorInvalidValue);
    *exec = new CUgraphExec_st{graph->work};
    return cudaSuccess;
}
cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s) {
    if (!exec) return set_error(cudaErrorInvalidValue);
    if (!known_stream(s)) return set_error(cudaErrorInvalidResourceHandle);
    for (const auto& work : exec->work) enqueue(s, work);
    return cudaSuccess;
}
cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
    delete graph;
    return cudaSuccess;
}
cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
    delete exec;
    return cudaSuccess;
}

// ---- kernels -----------------------------------------------------------------------------------------------------

cudaError_t cudaFuncSetAttribute(const void* func, cudaFuncAttribute attr, int value) {
    if (!func || attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 ||
        (size_t)value > kiln_emu::kSharedOptinPerBlock)
        return set_error(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> lock(rt().mu);
    rt().max_dynamic_smem[func] = (size_t)value;
    return cudaSuccess;
}

cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, const void* func, int block_size,
                                                          size_t dynamic_smem) {
    if (!blocks || !func || block_size <= 0 || block_size > 1024) return set_error(cudaErrorInvalidValue);
    *blocks = kiln_emu::blocks_per_sm(block_size, dynamic_smem);
    return cudaSuccess;
}
