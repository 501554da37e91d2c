// kiln_context: a device, its stream and its allocator; plus the checks every op entry runs on it.
#pragma once

#include <memory>
#include <string>

#include "core/allocator.h"
#include "core/error.h"
#include "kiln/kiln.h"

struct kiln_context {
    kiln_device_kind kind;
    int index;
    std::string name;   // "cpu" or "cuda:N", for messages
    void* stream;       // cudaStream_t for CUDA, nullptr for the CPU
    std::unique_ptr<kiln::Allocator> allocator;
    unsigned magic;     // catches use of a destroyed or foreign pointer passed as a context
};

namespace kiln {

constexpr unsigned kContextMagic = 0x4b494c4eu;  // "KILN"

// Validates ctx (non-null, alive) and makes its device current for this thread. Throws Error naming op.
kiln_context& op_context(kiln_context* ctx, const char* op);

inline bool on_cpu(const kiln_context& ctx) { return ctx.kind == KILN_DEVICE_CPU; }

// A null data pointer is only legal for an empty buffer.
inline void require_data(const void* ptr, size_t count, const char* op, const char* arg) {
    if (!ptr && count > 0) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument '%s' is null", op, arg);
}

}  // namespace kiln

// Runs a CUDA launcher expression on the context's stream and turns its status into kiln::Error. In a build
// without CUDA the expression is never compiled and a CUDA context cannot exist, so reaching this is a bug.
#if KILN_WITH_CUDA
#include <cuda_runtime_api.h>
#define KILN_STREAM(ctx) ((cudaStream_t)(ctx).stream)
#define KILN_CUDA_RUN(op, launch) kiln::gpu::check_launch((int)(launch), op)
#else
#define KILN_CUDA_RUN(op, launch) \
    kiln::fail(KILN_ERR_INTERNAL, "%s: CUDA context in a build without CUDA", op)
#endif
