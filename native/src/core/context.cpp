// The registry of live contexts behind op_context: a context is checked against it before any of its fields is read.
#include <cstdio>
#include <mutex>
#include <unordered_set>
#include <vector>

#include "core/context.h"
#include "core/gpu.h"

namespace kiln {

namespace {

struct Registry {
    std::mutex mu;
    std::unordered_set<const kiln_context*> live;
    // Destroyed contexts, emptied but not freed: their addresses are never handed out again (see context.h).
    std::vector<std::unique_ptr<kiln_context>> tombstones;
};

Registry& registry() {
    static Registry* r = new Registry;  // leaked on purpose: contexts may be destroyed from static destructors
    return *r;
}

[[noreturn]] void not_live(const char* op) {
    fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is not a live Kiln context (destroyed, or not from "
         "kiln_context_create)", op);
}

}  // namespace

kiln_context& op_context_any_thread(kiln_context* ctx, const char* op) {
    if (!ctx) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is null", op);
    {
        Registry& r = registry();
        std::lock_guard<std::mutex> lock(r.mu);
        if (r.live.count(ctx) == 0) not_live(op);
    }
    if (ctx->kind == KILN_DEVICE_CUDA) gpu::set_device(ctx->index);
    return *ctx;
}

kiln_context& op_context(kiln_context* ctx, const char* op) {
    kiln_context& c = op_context_any_thread(ctx, op);
    // Work another thread queued on a capturing stream would join the capture (or break it) behind the capturer's
    // back; a thread-local capture is the capturing thread's alone.
    if (c.capturing.load(std::memory_order_acquire) && c.capture_thread.load(std::memory_order_acquire) != std::this_thread::get_id())
        fail(KILN_ERR_UNSUPPORTED, "%s: %s is capturing a CUDA graph on another thread; wait for "
             "kiln_graph_capture_end before using the context from this one", op, c.name.c_str());
    return c;
}

bool with_live_context(kiln_context* ctx, const std::function<void(kiln_context&)>& f) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.live.count(ctx) == 0) return false;
    f(*ctx);
    return true;
}

void refuse_while_capturing(kiln_context& ctx, const char* op, const char* what, const char* instead) {
    if (!ctx.capturing.load(std::memory_order_acquire)) return;
    char message[512];
    std::snprintf(message, sizeof message, "%s: %s, which a CUDA graph capture cannot contain; %s (%s is capturing)",
                  op, what, instead, ctx.name.c_str());
    {
        std::lock_guard<std::mutex> lock(ctx.capture_mu);
        if (ctx.capture_refusal.empty()) ctx.capture_refusal = message;
    }
    fail(KILN_ERR_UNSUPPORTED, "%s", message);
}

void* allocate(kiln_context& ctx, size_t bytes) {
    try {
        return ctx.allocator->allocate(bytes);
    } catch (const Error& e) {
        if (e.status == KILN_ERR_UNSUPPORTED && ctx.capturing.load(std::memory_order_acquire)) {
            std::lock_guard<std::mutex> lock(ctx.capture_mu);
            if (ctx.capture_refusal.empty()) ctx.capture_refusal = e.message;
        }
        throw;
    }
}

kiln_context* register_context(std::unique_ptr<kiln_context> ctx) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    r.tombstones.reserve(r.tombstones.size() + 1);  // so that retire_context cannot fail to keep it
    r.live.insert(ctx.get());
    return ctx.release();
}

kiln_context& retire_context(kiln_context* ctx, const char* op) {
    Registry& r = registry();
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.live.erase(ctx) == 0) not_live(op);
    r.tombstones.emplace_back(ctx);
    return *ctx;
}

}  // namespace kiln
