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

// Scratch for one call, from the context's caching allocator (the ABI has no workspace argument). It goes back to the
// cache as soon as the kernels are queued: every op on a context runs on the context's one stream, so whoever gets
// the block next is ordered after the kernels that use it.
class DeviceScratch {
public:
    DeviceScratch(kiln_context& c, size_t bytes) : c_(c), ptr_(bytes ? c.allocator->allocate(bytes) : nullptr) {}
    ~DeviceScratch() {
        if (!ptr_) return;
        try {
            c_.allocator->release(ptr_);
        } catch (...) {
            // Cannot happen for a block this allocator just gave out; never let it escape a destructor.
        }
    }
    DeviceScratch(const DeviceScratch&) = delete;
    DeviceScratch& operator=(const DeviceScratch&) = delete;
    void* get() const { return ptr_; }
    template <typename T>
    T* as() const { return static_cast<T*>(ptr_); }

private:
    kiln_context& c_;
    void* ptr_;
};

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
