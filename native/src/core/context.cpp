// The registry of live contexts behind op_context: a context is checked against it before any of its fields is read.
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

kiln_context& op_context(kiln_context* ctx, const char* op) {
    if (!ctx) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'ctx' is null", op);
    {
        Registry& r = registry();
        std::lock_guard<std::mutex> lock(r.mu);
        if (r.live.count(ctx) == 0) not_live(op);
    }
    if (ctx->kind == KILN_DEVICE_CUDA) gpu::set_device(ctx->index);
    return *ctx;
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
