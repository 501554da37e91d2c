// kiln_context: a device, its stream and its allocator; plus the checks every op entry runs on it.
#pragma once

#include <atomic>
#include <cstdint>
#include <initializer_list>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/allocator.h"
#include "core/error.h"
#include "core/gpu.h"
#include "kiln/kiln.h"

struct kiln_context {
    kiln_device_kind kind;
    int index;
    std::string name;   // "cpu" or "cuda:N", for messages
    void* stream;       // cudaStream_t for CUDA, nullptr for the CPU
    bool owns_stream;   // false for kiln_context_create_on_stream: the caller's stream outlives the context
    std::unique_ptr<kiln::Allocator> allocator;
    // CUDA events around each op while kiln_profile_device_timing is on; null otherwise (and always on the CPU).
    // Under timer_mu, which a timed op holds from its begin event to its end event, so threads timing ops at once,
    // or switching timing while another thread times an op, never see half an op or a timer being destroyed;
    // `timing` lets untimed ops skip the lock.
    std::mutex timer_mu;
    std::atomic<bool> timing{false};
    std::unique_ptr<kiln::gpu::OpTimer, kiln::gpu::OpTimerDeleter> timer;
    // kiln_stream_timer_start / _stop and kiln_flush_l2 (core/profile.cpp), CUDA only, under bench_mu: the event pair
    // (created on first use), whether a stretch is open, and the flush buffer (a live block of the allocator, kept
    // for reuse; released by kiln_empty_cache and kiln_context_destroy).
    std::mutex bench_mu;
    std::unique_ptr<kiln::gpu::StreamTimer, kiln::gpu::StreamTimerDeleter> stream_timer;
    bool stream_timer_running = false;
    void* l2_flush = nullptr;
    size_t l2_flush_bytes = 0;
    // A CUDA graph capture on the stream (core/graph.cpp): claimed by one thread (a compare-exchange of its id into
    // capture_thread, then capturing set), read by every entry on any thread (op_context), hence both atomic.
    std::atomic<bool> capturing{false};
    std::atomic<std::thread::id> capture_thread{};
    std::mutex capture_mu;        // guards capture_refusal, which a refused op on any thread may set
    std::string capture_refusal;  // the first op refused during the capture: kiln_graph_capture_end reports it
};

namespace kiln {

// Validates ctx (non-null and a live context of this library: looked up before it is dereferenced, so a destroyed
// or foreign pointer is refused, not read) and makes its device current for this thread. Throws Error naming op.
kiln_context& op_context(kiln_context* ctx, const char* op);

// Runs f(*ctx) under the context registry's lock if ctx is still live, so that kiln_context_destroy (which retires
// the context under that lock before tearing it down) waits for it; returns whether it ran. f must not call back
// into the registry.
bool with_live_context(kiln_context* ctx, const std::function<void(kiln_context&)>& f);

// op_context for the entries that may run on any thread while the context captures a CUDA graph: they queue nothing
// on its stream (kiln_free: the allocator holds back graph blocks itself; kiln_memory_stats_get).
kiln_context& op_context_any_thread(kiln_context* ctx, const char* op);

// Returns kiln_flush_l2's buffer, if any, to ctx's allocator (kiln_empty_cache, kiln_context_destroy).
void release_l2_flush(kiln_context& ctx);

// Called first by everything a CUDA graph cannot contain (kiln.h, "CUDA graphs"). While ctx captures, records the
// refusal (kiln_graph_capture_end reports the first one instead of a partial graph) and throws
// KILN_ERR_UNSUPPORTED: "<op>: <what>, which a CUDA graph capture cannot contain; <instead>".
void refuse_while_capturing(kiln_context& ctx, const char* op, const char* what, const char* instead);

// ctx's allocator->allocate(bytes), except that a cache miss refused during a capture also fails the capture (as
// refuse_while_capturing does), so kiln_graph_capture_end does not instantiate a step that lost an allocation.
void* allocate(kiln_context& ctx, size_t bytes);

// The registry of live contexts (context.cpp). A destroyed context's memory is kept as a tombstone, never freed, so
// no later context can be created at its address and a stale handle stays refused for the life of the process.
kiln_context* register_context(std::unique_ptr<kiln_context> ctx);
// Removes ctx from the live set (op names the caller in the error if it is not live) and returns it for teardown.
kiln_context& retire_context(kiln_context* ctx, const char* op);

inline bool on_cpu(const kiln_context& ctx) { return ctx.kind == KILN_DEVICE_CPU; }

// A null data pointer is only legal for an empty buffer.
inline void require_data(const void* ptr, size_t count, const char* op, const char* arg) {
    if (!ptr && count > 0) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument '%s' is null", op, arg);
}

// One operand of an entry for require_all: its pointer, its element count and its name in the C ABI.
struct Operand {
    const void* ptr;
    int64_t count;
    const char* arg;
};

// require_data for each operand in order: the first null one with elements is named.
inline void require_all(const char* op, std::initializer_list<Operand> operands) {
    for (const Operand& o : operands) require_data(o.ptr, (size_t)o.count, op, o.arg);
}

}  // namespace kiln

