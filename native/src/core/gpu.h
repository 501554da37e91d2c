// The core's narrow view of the CUDA runtime. gpu_cuda.cpp implements it when the build has CUDA; gpu_none.cpp
// otherwise, where every CUDA request fails cleanly with KILN_ERR_NO_DEVICE. Nothing here exposes CUDA types,
// so core code compiles the same either way.
#pragma once

#include <cstddef>
#include <cstdint>

#include "kiln/kiln.h"

namespace kiln::gpu {

enum class CopyKind { ToDevice, ToHost, DeviceToDevice };

// Never throws: 0 devices plus a static reason when there is no driver, no device, or no CUDA in this build.
int device_count(const char** reason);
void properties(int device, kiln_device_props* out);
void set_device(int device);
void* create_stream(int device);
void destroy_stream(int device, void* stream) noexcept;
// Refuses (KILN_ERR_INVALID_ARGUMENT, naming op) a caller's stream that the runtime reports on another device.
void check_stream(int device, void* stream, const char* op);
void* malloc_or_null(int device, size_t bytes);  // nullptr on out-of-memory; throws on other errors
void free(int device, void* ptr) noexcept;
void copy(void* stream, void* dst, const void* src, size_t bytes, CopyKind kind);  // host copies complete on return
// rows rows of width bytes between pitched device regions, queued on the stream.
void copy_2d(void* stream, void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width, size_t rows);
void synchronize(void* stream);
// Turns the result of a kernel launcher (a cudaError_t passed as int) into kiln::Error naming the op.
void check_launch(int cuda_error, const char* op);
const char* build_archs();  // e.g. "sm_80,sm_90,compute_90" or "none"

// CUDA graphs (core/graph.cpp). capture_begin starts a thread-local capture of `stream`; capture_end ends it and
// returns the instantiated graph (a cudaGraphExec_t); capture_abort ends a capture whose graph is not wanted.
void capture_begin(void* stream);
void* capture_end(void* stream, const char* op);
void capture_abort(void* stream) noexcept;
void graph_launch(void* exec, void* stream);
void graph_destroy(void* exec) noexcept;

// NVTX ranges (header-only NVTX 3 in a CUDA build; nothing otherwise). Never throw.
void range_push(const char* name) noexcept;
void range_pop() noexcept;

// Device time of each op on a stream (kiln_profile_device_timing): a CUDA event pair around every op, read back in
// launch order by op_timer_collect, which waits for them and fails if more than `capacity` ops are pending.
struct OpTimer;
OpTimer* op_timer_create(int device);
void op_timer_destroy(OpTimer* timer) noexcept;
void op_timer_begin(OpTimer* timer, void* stream);
void op_timer_end(OpTimer* timer, void* stream);
int64_t op_timer_collect(OpTimer* timer, void* stream, float* ms, int64_t capacity);
struct OpTimerDeleter {
    void operator()(OpTimer* timer) const noexcept { op_timer_destroy(timer); }
};

// Device time of one stretch of work on a stream (kiln_stream_timer_start / _stop): a reused pair of CUDA events.
// stream_timer_stop records the closing event, waits for it and returns the milliseconds between the two.
struct StreamTimer;
StreamTimer* stream_timer_create(int device);
void stream_timer_destroy(StreamTimer* timer) noexcept;
void stream_timer_start(StreamTimer* timer, void* stream);
double stream_timer_stop(StreamTimer* timer, void* stream);
struct StreamTimerDeleter {
    void operator()(StreamTimer* timer) const noexcept { stream_timer_destroy(timer); }
};

// The device's L2 cache in bytes (cudaDevAttrL2CacheSize), and a byte fill of device memory queued on a stream
// (kiln_flush_l2 writes its buffer with it).
size_t l2_cache_bytes(int device);
void memset_async(void* stream, void* dst, int value, size_t bytes);

}  // namespace kiln::gpu
