/* Kiln C ABI: contexts, devices, memory, copies and the op entry points.
 * Every entry point returns a kiln_status and never aborts, exits or throws; on failure the message
 * for the calling thread is kept and kiln_last_error() returns it until the next failing call. */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(_WIN32)
#define KILN_API __declspec(dllexport)
#else
#define KILN_API __attribute__((visibility("default")))
#endif

#define KILN_ABI_VERSION 1

typedef enum kiln_status {
    KILN_OK = 0,
    KILN_ERR_INVALID_ARGUMENT = 1, /* a null pointer, a bad size or shape: the message names the op and argument */
    KILN_ERR_OUT_OF_MEMORY = 2,    /* host or device allocation failed, even after the cache was emptied */
    KILN_ERR_CUDA = 3,             /* the CUDA runtime reported an error (message carries its name and text) */
    KILN_ERR_NO_DEVICE = 4,        /* the requested device does not exist on this machine or in this build */
    KILN_ERR_UNSUPPORTED = 5,      /* the op exists but not for this device or configuration */
    KILN_ERR_INTERNAL = 6          /* a bug in Kiln: please report the message */
} kiln_status;

typedef enum kiln_device_kind {
    KILN_DEVICE_CPU = 0,
    KILN_DEVICE_CUDA = 1
} kiln_device_kind;

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
KILN_API kiln_status kiln_context_destroy(kiln_context* ctx);
/* Waits until every op queued on the context has finished; reports asynchronous CUDA errors. */
KILN_API kiln_status kiln_synchronize(kiln_context* ctx);

/* ---- memory ----------------------------------------------------------------------------------- */

/* CPU: 64-byte aligned. CUDA: 256-byte aligned, from a caching allocator (freed blocks are kept and
 * reused, so a training loop does not reach cudaMalloc after its first step). bytes may be 0. */
KILN_API kiln_status kiln_alloc(kiln_context* ctx, size_t bytes, void** out);
KILN_API kiln_status kiln_free(kiln_context* ctx, void* ptr);
KILN_API kiln_status kiln_memory_stats_get(kiln_context* ctx, kiln_memory_stats* out);
/* Returns cached, unused blocks to the system. */
KILN_API kiln_status kiln_empty_cache(kiln_context* ctx);

/* Copies between host memory and the context's device memory, ordered on the context's stream.
 * To-host copies complete before returning; to-device copies may still be in flight. */
KILN_API kiln_status kiln_copy_to_device(kiln_context* ctx, void* dst, const void* host_src, size_t bytes);
KILN_API kiln_status kiln_copy_to_host(kiln_context* ctx, void* host_dst, const void* src, size_t bytes);
KILN_API kiln_status kiln_copy_device(kiln_context* ctx, void* dst, const void* src, size_t bytes);

/* ---- ops: fill and random --------------------------------------------------------------------- */

/* y[i] = value for i in [0, n). y is (n) */
KILN_API kiln_status kiln_fill_f32(kiln_context* ctx, float* y, size_t n, float value);

/* Philox4x32-10 streams (kernels/common/philox.h). Element i takes 32-bit word i%4 of the Philox block
 * with counter (offset + i/4) and key (seed): a call consumes ceil(n/4) counters, so the next call
 * should pass offset + ceil(n/4). The same (seed, offset) gives bit-identical values on every device. */
/* y[i] uniform in [lo, hi). y is (n) */
KILN_API kiln_status kiln_rand_uniform_f32(kiln_context* ctx, float* y, size_t n, uint64_t seed, uint64_t offset,
                                           float lo, float hi);
/* y[i] normal with the given mean and std (Box-Muller on word pairs). y is (n) */
KILN_API kiln_status kiln_rand_normal_f32(kiln_context* ctx, float* y, size_t n, uint64_t seed, uint64_t offset,
                                          float mean, float std);

#ifdef __cplusplus
}
#endif

#endif /* KILN_KILN_H */
