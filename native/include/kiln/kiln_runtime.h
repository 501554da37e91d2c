/* Kiln C ABI, part one: the runtime. Statuses, devices, contexts, memory and copies, CUDA graphs, profiling and
 * device peaks; kiln.h (which includes this header) holds the op entry points. Include kiln.h, not this file.
 * Every entry point returns a kiln_status and never aborts, exits or throws; on failure the message
 * for the calling thread is kept and kiln_last_error() returns it until the next failing call. */
#ifndef KILN_KILN_RUNTIME_H
#define KILN_KILN_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

/* Enums are int32 across the ABI. C++ fixes that type, so any int32 a caller passes (JNI, other languages) is a value
 * of the enum that validation can read and refuse if unknown, where an out-of-range value would be undefined. */
#ifdef __cplusplus
extern "C" {
#define KILN_ENUM(name) enum name : int32_t
#else
#define KILN_ENUM(name) enum name
#endif
#if defined(_WIN32)
#define KILN_API __declspec(dllexport)
#else
#define KILN_API __attribute__((visibility("default")))
#endif
#define KILN_ABI_VERSION 1

typedef KILN_ENUM(kiln_status) {
    KILN_OK = 0,
    KILN_ERR_INVALID_ARGUMENT = 1, /* a null pointer, a bad size or shape: the message names the op and argument */
    KILN_ERR_OUT_OF_MEMORY = 2,    /* host or device allocation failed, even after the cache was emptied */
    KILN_ERR_CUDA = 3,             /* the CUDA runtime reported an error (message carries its name and text) */
    KILN_ERR_NO_DEVICE = 4,        /* the requested device does not exist on this machine or in this build */
    KILN_ERR_UNSUPPORTED = 5,      /* the op exists but not for this device or configuration */
    KILN_ERR_INTERNAL = 6          /* a bug in Kiln: please report the message */
} kiln_status;

typedef KILN_ENUM(kiln_device_kind) { KILN_DEVICE_CPU = 0, KILN_DEVICE_CUDA = 1 } kiln_device_kind;

/* A context is bound to one device and, for CUDA, one stream that every op on it is queued on.
 * A context may be used from several threads; ops on one context are ordered by its stream. */
typedef struct kiln_context kiln_context;

typedef struct kiln_device_props {
    char name[256];
    uint64_t total_memory;     /* bytes */
    uint64_t free_memory;      /* bytes, at the time of the query */
    int32_t cc_major;          /* compute capability; 0 for the CPU */
    int32_t cc_minor;
    int32_t multiprocessors;   /* SMs, or logical CPU threads Kiln uses for the CPU */
} kiln_device_props;

/* Allocator counters. For CUDA, "reserved" includes blocks kept in the cache for reuse. */
typedef struct kiln_memory_stats {
    uint64_t bytes_in_use;       /* bytes handed out and not yet freed */
    uint64_t peak_bytes_in_use;
    uint64_t bytes_reserved;     /* bytes held from the system (in use + cached) */
    uint64_t live_allocations;   /* kiln_alloc calls not yet matched by kiln_free */
    uint64_t total_allocations;  /* kiln_alloc calls since the context was created */
    uint64_t system_allocations; /* allocations that went to the system (cudaMalloc / aligned_alloc) */
    uint64_t cache_hits;         /* allocations served from the cache */
} kiln_memory_stats;

/* ---- library ---------------------------------------------------------------------------------- */

/* The message of the last failed call on this thread ("" if none). Valid until the next Kiln call. */
KILN_API const char* kiln_last_error(void);
KILN_API int32_t kiln_abi_version(void);
/* How this library was built, as one line: version, CUDA architectures or "cpu-only", CPU vector ISA. */
KILN_API const char* kiln_build_info(void);
/* Does nothing and returns KILN_OK: measures the bare cost of crossing into the library. */
KILN_API kiln_status kiln_noop(void);

/* ---- devices ---------------------------------------------------------------------------------- */

/* Number of usable CUDA devices. Succeeds with 0 when there is no driver, no device, or no CUDA in
 * this build; *reason (may be NULL) then points to a static explanation, else to "". */
KILN_API kiln_status kiln_cuda_device_count(int32_t* count, const char** reason);
KILN_API kiln_status kiln_device_properties(kiln_device_kind kind, int32_t index, kiln_device_props* out);

/* ---- contexts --------------------------------------------------------------------------------- */

KILN_API kiln_status kiln_context_create(kiln_device_kind kind, int32_t index, kiln_context** out);
/* Destroying a context tears it down at once: no call on it may be in flight on another thread, kiln_free from a
 * finalizer included (a pointer used after destruction is refused; one in use during it is not protected). */
KILN_API kiln_status kiln_context_destroy(kiln_context* ctx);
/* Waits until every op queued on the context has finished; reports asynchronous CUDA errors. */
KILN_API kiln_status kiln_synchronize(kiln_context* ctx);
/* A context on cuda:index whose ops are queued on the caller's stream (a cudaStream_t of that device, created by any
 * CUDA runtime in the process: JCuda's, PyTorch's, the caller's own; all of them share the device's primary context),
 * so Kiln's ops are ordered with the caller's own work without a synchronization. Kiln does not own the stream:
 * kiln_context_destroy waits for it and leaves it alive, and the caller keeps it alive until then. stream must not be
 * NULL (the legacy default stream would serialize against every blocking stream; use a stream of your own). A stream
 * of another device is refused where the runtime can tell (CUDA 12.8 and later); a pointer that is not a live stream
 * cannot be detected. Like every context it has its own caching allocator. */
KILN_API kiln_status kiln_context_create_on_stream(int32_t index, void* stream, kiln_context** out);

/* ---- memory ----------------------------------------------------------------------------------- */

/* CPU: 64-byte aligned; CUDA: 256-byte aligned. Both come from a caching allocator: freed blocks are kept and
 * reused, so a training loop reaches neither cudaMalloc nor fresh (page-faulting) host pages after its first
 * step. kiln_empty_cache returns the cached blocks. bytes may be 0. */
KILN_API kiln_status kiln_alloc(kiln_context* ctx, size_t bytes, void** out);
KILN_API kiln_status kiln_free(kiln_context* ctx, void* ptr);
KILN_API kiln_status kiln_memory_stats_get(kiln_context* ctx, kiln_memory_stats* out);
/* Returns cached, unused blocks to the system, and kiln_flush_l2's buffer with them. */
KILN_API kiln_status kiln_empty_cache(kiln_context* ctx);
/* Caps the memory the context's allocator holds from the system (bytes_reserved: in use plus cached) at `bytes`;
 * 0 removes the cap. It simulates a smaller device, on the CPU as on a GPU, to test out-of-memory handling. An
 * allocation the cache cannot serve that would pass the cap first returns the cached blocks (as kiln_empty_cache);
 * if it still does not fit, it fails with KILN_ERR_OUT_OF_MEMORY and a message naming the request, the bytes live
 * and the cap; the context stays usable. Lowering the cap frees nothing that is in use. A new context starts with
 * the cap in the environment variable KILN_MEMORY_LIMIT_BYTES (a decimal byte count; unset, empty or 0: none). */
KILN_API kiln_status kiln_set_memory_limit(kiln_context* ctx, uint64_t bytes);

/* Copies between host memory and the context's device memory, ordered on the context's stream.
 * To-host copies complete before returning; to-device copies may still be in flight. kiln_copy_device refuses
 * regions that overlap, unless dst == src (nothing to do). */
KILN_API kiln_status kiln_copy_to_device(kiln_context* ctx, void* dst, const void* host_src, size_t bytes);
KILN_API kiln_status kiln_copy_to_host(kiln_context* ctx, void* host_dst, const void* src, size_t bytes);
KILN_API kiln_status kiln_copy_device(kiln_context* ctx, void* dst, const void* src, size_t bytes);
/* A 2-D copy within the context's device memory: `rows` rows of `width` bytes, row r from src + r src_pitch to
 * dst + r dst_pitch (pitches in bytes, each >= width when rows > 1). Slices, concatenation and key/value cache writes
 * are this one copy. The two regions must not overlap. */
KILN_API kiln_status kiln_copy_device_2d(kiln_context* ctx, void* dst, size_t dst_pitch, const void* src,
                                         size_t src_pitch, size_t width, size_t rows);

/* ---- CUDA graphs (native/src/core/graph.cpp) --------------------------------------------------------------------
 * A training step is dozens of small kernels whose launch costs more than their work; a CUDA graph records them once
 * and replays them with one launch. kiln_graph_capture_begin starts capturing everything the calling thread queues on
 * the context's stream (cudaStreamCaptureModeThreadLocal): the ops run nothing until kiln_graph_capture_end
 * instantiates them as a kiln_graph, and kiln_graph_launch replays it on the stream, asynchronously, as often as
 * wanted. What the graph holds are kernels with their arguments: the same pointers, sizes and scalars every replay. So:
 *  - inputs are fed by copying new data into the buffers the captured step read (kiln_copy_device, or a to-device
 *    copy before the launch), and outputs are read from the buffers it wrote, after the launch;
 *  - memory: while capturing, an allocation the context's cache cannot serve fails (KILN_ERR_UNSUPPORTED): run the
 *    step once eagerly first, so its blocks are cached. Every block the capture allocates stays the graph's until
 *    kiln_graph_destroy: freed by the caller during or after the capture, it is held back, never handed out again, so
 *    a replay cannot write into someone else's memory. Buffers allocated before the capture (parameters, optimizer
 *    state, inputs) are the caller's to keep alive while the graph lives;
 *  - refused while capturing, with KILN_ERR_UNSUPPORTED and a message naming the op: whatever waits for or reads the
 *    device (copies to or from host memory, kiln_synchronize, kiln_measure_peak, device timing, the stream timer,
 *    kiln_flush_l2, kiln_empty_cache, kiln_context_destroy), whatever would freeze a random stream (kiln_rand_*,
 *    dropout, reparameterization, attention with dropout > 0: their (seed, offset) are kernel arguments) and
 *    kiln_lstm_forward_f32 (its persistent path is a cooperative launch that may be refused at replay). Use
 *    kiln_adam_advance_step and kiln_adam_step_capturable_f32 for Adam. A refused op leaves the capture failed:
 *    kiln_graph_capture_end then ends it and returns the first refusal's message instead of a graph. Calls from
 *    other threads on a capturing context are refused, except kiln_free and kiln_memory_stats_get; begin a capture
 *    when no other thread's call on the context is in flight (one already past its checks would join the graph).
 * On a CPU context (and so in a build without CUDA) every entry returns KILN_ERR_UNSUPPORTED. */
typedef struct kiln_graph kiln_graph;

KILN_API kiln_status kiln_graph_capture_begin(kiln_context* ctx);
/* Ends the capture begun on ctx by this thread. On success *out is the graph; on failure (a refused op during the
 * capture, a CUDA error) the capture is still ended, *out is NULL and the context is usable again. */
KILN_API kiln_status kiln_graph_capture_end(kiln_context* ctx, kiln_graph** out);
/* Queues one replay on the stream of the graph's context and returns. */
KILN_API kiln_status kiln_graph_launch(kiln_graph* graph);
/* Releases the graph and the blocks it held back (NULL is a no-op); replays already queued finish first. */
KILN_API kiln_status kiln_graph_destroy(kiln_graph* graph);
/* 1 while ctx is capturing a graph, else 0. */
KILN_API kiln_status kiln_graph_is_capturing(kiln_context* ctx, int32_t* capturing);

/* ---- profiling -------------------------------------------------------------------------------- */

/* The entry the calling thread ran last ("kiln_conv2d_forward_f32"; "" if none since the last read: reading clears
 * it), the kernel path it took where it has several ("winograd" or "implicit_gemm", "persistent" or "per_step";
 * "" where it has one), both static strings, and whether kiln_profile_device_times holds its device time (1: a CUDA
 * op that ran with device timing on; else 0). Set as the entry starts, so a failed op is named too. */
KILN_API kiln_status kiln_last_op(const char** entry, const char** path, int32_t* device_timed);
/* While on, every op on a CUDA context is bracketed by two CUDA events on its stream; kiln_profile_device_times
 * waits for them, writes each op's device time in milliseconds into ms[0..capacity) in launch order, sets *count to
 * the number of timed ops (refused if more than capacity, nothing forgotten) and forgets them. A CPU context times
 * nothing: *count is 0. Turning it off forgets untaken times. */
KILN_API kiln_status kiln_profile_device_timing(kiln_context* ctx, int32_t on);
KILN_API kiln_status kiln_profile_device_times(kiln_context* ctx, float* ms, int64_t capacity, int64_t* count);
/* Device time of a stretch of work on the context's stream, for benchmarks: kiln_stream_timer_start records a CUDA
 * event on the stream and returns at once; kiln_stream_timer_stop records a second one, waits for it (so for
 * everything queued on the stream before it, on any thread) and sets *ms to the device time between the two, in
 * milliseconds (the events' resolution is about half a microsecond). The two events are created on first use and
 * reused. One stretch per context at a time: starting again restarts it; stopping with none started is
 * KILN_ERR_INVALID_ARGUMENT. Work other threads queue on the stream meanwhile is timed too. On a CPU context (and so
 * in a build without CUDA) both return KILN_ERR_UNSUPPORTED with a message: there the caller's wall clock is the
 * op's time. Refused during a CUDA graph capture. */
KILN_API kiln_status kiln_stream_timer_start(kiln_context* ctx);
KILN_API kiln_status kiln_stream_timer_stop(kiln_context* ctx, double* ms);
/* Queues, on the context's stream, a write (cudaMemsetAsync) of a device buffer of twice the device's L2 cache
 * (cudaDevAttrL2CacheSize, rounded up to a MiB), so that the next op starts with none of its data in L2: a benchmark
 * then times an op as it runs on cold data, not on what its previous run left in the cache. Returns without waiting.
 * The buffer comes from the context's allocator on the first call (KILN_ERR_OUT_OF_MEMORY where that fails, e.g.
 * under kiln_set_memory_limit) and is kept for the next: it counts as one live allocation in kiln_memory_stats until
 * kiln_empty_cache or kiln_context_destroy returns it. *bytes (may be NULL) is set to the bytes written. On a CPU
 * context it is a no-op that returns KILN_OK with *bytes = 0. Refused during a CUDA graph capture. */
KILN_API kiln_status kiln_flush_l2(kiln_context* ctx, uint64_t* bytes);
/* Named NVTX ranges (NVTX 3, header-only) for Nsight Systems and Nsight Compute; every CUDA op is already one,
 * named by its entry without the "kiln_" prefix. No-ops in a CPU-only build and when no tool listens. */
KILN_API kiln_status kiln_range_push(const char* name);
KILN_API kiln_status kiln_range_pop(void);

/* ---- device peaks (native/src/cpu/peak.cpp, kernels/peak.cu) --------------------------------------- */

/* What the device can do at best, measured: the roofline a benchmark's figures are a fraction of. */
typedef struct kiln_device_peak {
    double fma_gflops; /* fp32 fused multiply-adds (2 flops each) on every core or SM at once, GFLOP/s */
    double copy_gbps;  /* copy between two buffers of device memory: bytes read plus bytes written, GB/s */
} kiln_device_peak;

/* Measures the context's device, best of 3 (under a second). CPU: independent FMA chains on each of the library's
 * threads (AVX-512, AVX2 or SSE, as the CPU has), and a parallel copy of 128 MiB; CUDA: independent FMA chains on
 * every SM, and a device-to-device copy of 256 MiB, timed with events. The CPU's copy needs 256 MiB of host memory
 * and a CUDA one 512 MiB of the context's: KILN_ERR_OUT_OF_MEMORY where that is not there. */
KILN_API kiln_status kiln_measure_peak(kiln_context* ctx, kiln_device_peak* out);

#ifdef __cplusplus
}
#endif

#endif /* KILN_KILN_RUNTIME_H */
