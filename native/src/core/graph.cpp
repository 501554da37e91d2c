// C ABI entries for CUDA graphs (kiln.h, "CUDA graphs"): capture of a context's stream, replay, and the blocks of the
// context's allocator each graph holds back while it lives.
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_set>
#include <vector>

#include "core/context.h"
#include "core/error.h"
#include "core/gpu.h"

using kiln::fail;
using kiln::guarded;

struct kiln_graph {
    kiln_context* ctx;          // the context whose stream it replays on; may be destroyed first
    void* exec;                 // cudaGraphExec_t
    std::vector<void*> blocks;  // allocator blocks the capture used, pinned until the graph is destroyed
};

namespace {

// Live graphs, checked before a handle is dereferenced. As with contexts (context.cpp), a destroyed graph's shell is
// kept, never freed, so a stale handle stays refused rather than aliasing a newer graph.
struct GraphRegistry {
    std::mutex mu;
    std::unordered_set<const kiln_graph*> live;
    std::vector<std::unique_ptr<kiln_graph>> tombstones;
};

GraphRegistry& graphs() {
    static GraphRegistry* r = new GraphRegistry;  // leaked on purpose, like the context registry
    return *r;
}

void require_live(const kiln_graph* graph, const char* op) {
    if (!graph) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'graph' is null", op);
    GraphRegistry& r = graphs();
    std::lock_guard<std::mutex> lock(r.mu);
    if (r.live.count(graph) == 0)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'graph' is not a live graph (destroyed, or not from "
             "kiln_graph_capture_end)", op);
}

kiln_context& cuda_context(kiln_context* ctx, const char* op) {
    kiln_context& c = kiln::op_context(ctx, op);
    if (kiln::on_cpu(c))
        fail(KILN_ERR_UNSUPPORTED, "%s: CUDA graphs exist only on CUDA contexts; the cpu context runs each op as it is "
             "called and has nothing to capture (run the step directly)", op);
    return c;
}

}  // namespace

extern "C" {

kiln_status kiln_graph_capture_begin(kiln_context* ctx) {
    const char* op = "kiln_graph_capture_begin";
    return guarded(op, [&] {
        kiln_context& c = cuda_context(ctx, op);
        // The device timer records events on the stream and reads them back: neither belongs in a graph.
        if (c.timing.load(std::memory_order_acquire))
            fail(KILN_ERR_UNSUPPORTED, "%s: device timing is on for %s (kiln_profile_device_timing), and its events "
                 "cannot be read back inside a graph; turn it off before capturing", op, c.name.c_str());
        // Claimed by one thread, by writing its id (two at once: the second is refused here, and never touches the
        // first's state). The id is in place before the context is marked capturing, so that op_context never pairs
        // the mark with an earlier capturer's id: that thread's ops would pass and join this capture. The context is
        // marked before the stream is, and stays so until the stream's capture has ended (kiln_graph_capture_end):
        // another thread's op that starts in between is refused by op_context. One that passed op_context before can
        // still reach the stream: see kiln.h (no other thread's call may be in flight).
        std::thread::id nobody{};
        if (!c.capture_thread.compare_exchange_strong(nobody, std::this_thread::get_id(), std::memory_order_acq_rel))
            fail(KILN_ERR_UNSUPPORTED, "%s: %s is already capturing a CUDA graph; end that capture first", op,
                 c.name.c_str());
        c.capturing.store(true, std::memory_order_release);
        {
            std::lock_guard<std::mutex> lock(c.capture_mu);
            c.capture_refusal.clear();
        }
        bool began = false;
        try {
            c.allocator->begin_capture();
            began = true;
            kiln::gpu::capture_begin(c.stream);
        } catch (...) {
            if (began) c.allocator->end_capture(false);
            c.capturing.store(false, std::memory_order_release);
            c.capture_thread.store(std::thread::id{}, std::memory_order_release);
            throw;
        }
    });
}

kiln_status kiln_graph_capture_end(kiln_context* ctx, kiln_graph** out) {
    const char* op = "kiln_graph_capture_end";
    return guarded(op, [&] {
        if (out) *out = nullptr;
        kiln_context& c = cuda_context(ctx, op);
        if (!c.capturing.load(std::memory_order_acquire))
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: %s is not capturing (call kiln_graph_capture_begin first)", op,
                 c.name.c_str());
        // From here the capture ends whatever happens, so the context is usable again after any failure; it is marked
        // as capturing until the stream's capture and the allocator's have ended (see kiln_graph_capture_begin).
        struct Ended {
            kiln_context& c;
            ~Ended() {
                c.capturing.store(false, std::memory_order_release);
                c.capture_thread.store(std::thread::id{}, std::memory_order_release);  // the claim ends last
            }
        } ended{c};
        if (!out) {
            kiln::gpu::capture_abort(c.stream);
            c.allocator->end_capture(false);
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'out' is null (the capture was ended and discarded)", op);
        }
        std::string refusal;
        {
            std::lock_guard<std::mutex> lock(c.capture_mu);
            refusal = c.capture_refusal;
        }
        if (!refusal.empty()) {
            kiln::gpu::capture_abort(c.stream);
            c.allocator->end_capture(false);
            fail(KILN_ERR_UNSUPPORTED, "%s: the capture was discarded because an op was refused during it: %s", op,
                 refusal.c_str());
        }
        auto graph = std::make_unique<kiln_graph>();
        graph->ctx = ctx;
        try {
            graph->exec = kiln::gpu::capture_end(c.stream, op);
        } catch (...) {
            c.allocator->end_capture(false);
            throw;
        }
        graph->blocks = c.allocator->end_capture(true);
        GraphRegistry& r = graphs();
        std::lock_guard<std::mutex> lock(r.mu);
        r.tombstones.reserve(r.tombstones.size() + 1);  // so that kiln_graph_destroy cannot fail to keep the shell
        r.live.insert(graph.get());
        *out = graph.release();
    });
}

kiln_status kiln_graph_launch(kiln_graph* graph) {
    const char* op = "kiln_graph_launch";
    return guarded(op, [&] {
        require_live(graph, op);
        kiln_context& c = kiln::op_context(graph->ctx, op);  // refuses a destroyed context
        if (c.capturing.load(std::memory_order_acquire))
            fail(KILN_ERR_UNSUPPORTED, "%s: %s is capturing; a graph launched into a capture is not supported", op,
                 c.name.c_str());
        kiln::gpu::graph_launch(graph->exec, c.stream);
    });
}

kiln_status kiln_graph_destroy(kiln_graph* graph) {
    const char* op = "kiln_graph_destroy";
    return guarded(op, [&] {
        if (!graph) return;
        {
            GraphRegistry& r = graphs();
            std::lock_guard<std::mutex> lock(r.mu);
            if (r.live.erase(graph) == 0)
                fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'graph' is not a live graph (destroyed, or not from "
                     "kiln_graph_capture_end)", op);
            r.tombstones.emplace_back(graph);
        }
        // cudaGraphExecDestroy lets queued replays finish; the held blocks may be reused only after them, which the
        // stream orders for everyone who allocates from this context next.
        kiln::gpu::graph_destroy(graph->exec);
        graph->exec = nullptr;
        // Under the registry's lock: a kiln_context_destroy on another thread retires the context first (and the
        // allocator, and the blocks, go with it) or waits until the unpin is done.
        kiln::with_live_context(graph->ctx, [&](kiln_context& c) { c.allocator->unpin(graph->blocks); });
        graph->blocks.clear();
        graph->blocks.shrink_to_fit();
    });
}

kiln_status kiln_graph_is_capturing(kiln_context* ctx, int32_t* capturing) {
    const char* op = "kiln_graph_is_capturing";
    return guarded(op, [&] {
        kiln_context& c = kiln::op_context_any_thread(ctx, op);
        if (!capturing) fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument 'capturing' is null", op);
        *capturing = c.capturing.load(std::memory_order_acquire) ? 1 : 0;
    });
}

}  // extern "C"
