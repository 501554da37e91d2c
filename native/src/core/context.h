// kiln_context: a device, its stream and its allocator; plus the checks every op entry runs on it.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>

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
    std::unique_ptr<kiln::gpu::OpTimer, kiln::gpu::OpTimerDeleter> timer;
};

namespace kiln {

// Validates ctx (non-null and a live context of this library: looked up before it is dereferenced, so a destroyed
// or foreign pointer is refused, not read) and makes its device current for this thread. Throws Error naming op.
kiln_context& op_context(kiln_context* ctx, const char* op);

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

