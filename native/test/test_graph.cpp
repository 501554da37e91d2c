// Tests of the CUDA graph entries (kiln_graph_*). Everywhere: the CPU context's KILN_ERR_UNSUPPORTED, bad handles,
// the allocator's capture rules (cache misses refused, blocks held back while a graph lives) and the refusal of every
// op a graph cannot contain, driven through the C ABI on a CPU context marked as capturing. On a GPU: a few ops and a
// capturable Adam step captured, replayed and compared with the same calls run eagerly, and threads racing to begin a
// capture. Without a CUDA device the GPU half is skipped visibly: the test exits 77 (ctest: skipped) after the CPU
// half passed.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <thread>
#include <vector>

#include "check.h"
#include "core/allocator.h"
#include "core/context.h"
#include "core/error.h"
#include "kiln/kiln.h"

using kiln::test::message_has;

namespace {

void cpu_context_is_unsupported(kiln_context* cpu) {
    EXPECT(kiln_graph_capture_begin(cpu) == KILN_ERR_UNSUPPORTED);
    EXPECT(message_has("kiln_graph_capture_begin") && message_has("CUDA contexts"));
    kiln_graph* graph = reinterpret_cast<kiln_graph*>(0x1);
    EXPECT(kiln_graph_capture_end(cpu, &graph) == KILN_ERR_UNSUPPORTED && graph == nullptr);
    int32_t capturing = 7;
    EXPECT(kiln_graph_is_capturing(cpu, &capturing) == KILN_OK && capturing == 0);
    EXPECT(kiln_graph_capture_begin(nullptr) == KILN_ERR_INVALID_ARGUMENT && message_has("'ctx' is null"));
    EXPECT(kiln_graph_launch(nullptr) == KILN_ERR_INVALID_ARGUMENT && message_has("'graph' is null"));
    int not_a_graph = 0;
    EXPECT(kiln_graph_launch(reinterpret_cast<kiln_graph*>(&not_a_graph)) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("not a live graph"));
    EXPECT(kiln_graph_destroy(reinterpret_cast<kiln_graph*>(&not_a_graph)) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_graph_destroy(nullptr) == KILN_OK);
}

// The allocator alone, over malloc: what a capture may and may not take, and what a graph holds back.
void allocator_capture_rules() {
    kiln::Allocator a("test", 64, true, [](size_t n) { return std::aligned_alloc(64, n); },
                      [](void* p, size_t) { std::free(p); });
    void* warm = a.allocate(1000);  // the "warm-up step": its block is cached when freed
    a.release(warm);
    a.begin_capture();
    void* x = a.allocate(1000);
    EXPECT(x == warm);  // a cache hit
    bool refused = false;
    try {
        a.allocate(5000);  // a size the cache does not hold
    } catch (const kiln::Error& e) {
        refused = e.status == KILN_ERR_UNSUPPORTED && e.message.find("captures a CUDA graph") != std::string::npos;
    }
    EXPECT(refused);
    a.release(x);                  // freed inside the capture: the capture may reuse it, in stream order
    void* again = a.allocate(1000);
    EXPECT(again == x);
    void* out = again;             // kept by the caller past the capture (a static output)
    std::vector<void*> pinned = a.end_capture(true);
    EXPECT(pinned.size() == 1 && pinned[0] == x);
    a.release(out);                // freed while the graph lives: held back
    void* other = a.allocate(1000);
    EXPECT(other != x);            // nobody else is handed the graph's block
    a.release(other);
    a.unpin(pinned);               // the graph is gone: the block is cached again
    void* reused = a.allocate(1000);
    void* reused2 = a.allocate(1000);
    EXPECT(reused == x || reused2 == x);
    a.release(reused);
    a.release(reused2);
    // A capture that produced no graph pins nothing.
    a.begin_capture();
    void* y = a.allocate(1000);
    a.release(y);
    EXPECT(a.end_capture(false).empty());
    void* z = a.allocate(1000);
    a.release(z);
    EXPECT(a.stats().live_allocations == 0);
}

// Every refusal, through the C ABI, on a CPU context marked as capturing by this thread (the CPU cannot capture, so
// the flag is set by hand: the checks read only it).
void refusals_while_capturing(kiln_context* cpu) {
    float* buf = nullptr;
    EXPECT(kiln_alloc(cpu, 64 * sizeof(float), reinterpret_cast<void**>(&buf)) == KILN_OK);
    std::vector<float> host(64, 1.0f);
    kiln_context& c = *cpu;
    c.capture_thread = std::this_thread::get_id();
    c.capture_refusal.clear();
    c.capturing.store(true);
    struct Refused {
        kiln_status status;
        const char* op;
        const char* why;
    };
    int32_t step = 0;
    float bc[2];
    kiln_device_peak peak;
    kiln_attention_desc attn{};
    attn.batch = attn.heads = attn.q_len = attn.kv_len = attn.head_dim = 1;
    attn.scale = 1.0f;
    attn.dropout = 0.5f;
    const Refused cases[] = {
        {kiln_copy_to_host(cpu, host.data(), buf, 256), "kiln_copy_to_host", "reads the device back"},
        {kiln_copy_to_device(cpu, buf, host.data(), 256), "kiln_copy_to_device", "copies from host memory"},
        {kiln_synchronize(cpu), "kiln_synchronize", "waits for the device"},
        {kiln_empty_cache(cpu), "kiln_empty_cache", "cudaFree"},
        {kiln_measure_peak(cpu, &peak), "kiln_measure_peak", "events"},
        {kiln_profile_device_timing(cpu, 1), "", ""},  // the CPU never times: nothing to refuse
        {kiln_rand_uniform_f32(cpu, buf, 64, 1, 0, 0.0f, 1.0f), "kiln_rand_uniform_f32", "Philox"},
        {kiln_rand_normal_f32(cpu, buf, 64, 1, 0, 0.0f, 1.0f), "kiln_rand_normal_f32", "Philox"},
        {kiln_dropout_f32(cpu, buf, buf, 64, 0.5f, 1, 0), "kiln_dropout_f32", "frozen"},
        {kiln_dropout_backward_f32(cpu, buf, buf, 64, 0.5f, 1, 0), "kiln_dropout_backward_f32", "frozen"},
        {kiln_reparameterize_f32(cpu, buf, buf + 8, buf + 16, 8, 1, 0), "kiln_reparameterize_f32", "frozen"},
        {kiln_attention_forward_f32(cpu, &attn, buf, buf, buf, nullptr, buf + 8, nullptr),
         "kiln_attention_forward_f32", "dropout"},
        {kiln_context_destroy(cpu), "kiln_context_destroy", "end the capture first"},
    };
    for (const Refused& r : cases) {
        if (!*r.op) {
            EXPECT(r.status == KILN_OK);
            continue;
        }
        EXPECT(r.status == KILN_ERR_UNSUPPORTED);
        if (r.status != KILN_ERR_UNSUPPORTED) std::printf("  %s returned %d\n", r.op, (int)r.status);
    }
    // The message of the last one names the op, the reason and what to do instead.
    EXPECT(message_has("kiln_context_destroy") && message_has("which a CUDA graph capture cannot contain"));
    // The first refusal is kept for kiln_graph_capture_end to report.
    EXPECT(c.capture_refusal.find("kiln_copy_to_host: reads the device back") == 0);
    // Capturable work is not refused: a device-to-device copy, a fill, capturable Adam.
    EXPECT(kiln_copy_device(cpu, buf + 32, buf, 32 * sizeof(float)) == KILN_OK);
    EXPECT(kiln_fill_f32(cpu, buf, 64, 0.0f) == KILN_OK);
    EXPECT(kiln_adam_advance_step(cpu, &step, bc, 0.9f, 0.999f) == KILN_OK && step == 1);
    // Another thread's ops would join the capture: refused; its frees are fine (a JVM cleaner's thread).
    kiln_status other_fill = KILN_OK, other_free = KILN_ERR_INTERNAL;
    void* spare = nullptr;
    EXPECT(kiln_alloc(cpu, 16, &spare) == KILN_OK);
    std::thread other([&] {
        other_fill = kiln_fill_f32(cpu, buf, 64, 1.0f);
        if (other_fill != KILN_OK && !std::strstr(kiln_last_error(), "another thread")) other_fill = KILN_ERR_INTERNAL;
        other_free = kiln_free(cpu, spare);
    });
    other.join();
    EXPECT(other_fill == KILN_ERR_UNSUPPORTED);
    EXPECT(other_free == KILN_OK);
    c.capturing.store(false);
    c.capture_refusal.clear();
    EXPECT(kiln_copy_to_host(cpu, host.data(), buf, 256) == KILN_OK && host[0] == 0.0f);
    EXPECT(kiln_free(cpu, buf) == KILN_OK);
}

// ---- GPU ---------------------------------------------------------------------------------------------------------

#define OK(call) EXPECT((call) == KILN_OK)

std::vector<float> download(kiln_context* ctx, const float* d, size_t n) {
    std::vector<float> h(n);
    OK(kiln_copy_to_host(ctx, h.data(), d, n * sizeof(float)));
    return h;
}

float* upload(kiln_context* ctx, const std::vector<float>& h) {
    void* d = nullptr;
    OK(kiln_alloc(ctx, h.size() * sizeof(float), &d));
    OK(kiln_copy_to_device(ctx, d, h.data(), h.size() * sizeof(float)));
    return static_cast<float*>(d);
}

// y = relu(x) * 0.5 + y, then three Adam steps on p with gradient y: eagerly, then the same as one graph.
void step_ops(kiln_context* ctx, const float* x, float* tmp, float* y, float* p, float* m, float* v, int32_t* count,
              float* bc, int64_t n) {
    OK(kiln_activation_f32(ctx, KILN_RELU, x, tmp, n, 0.0f));
    OK(kiln_axpy_f32(ctx, n, 0.5f, tmp, y));
    OK(kiln_adam_advance_step(ctx, count, bc, 0.9f, 0.999f));
    OK(kiln_adam_step_capturable_f32(ctx, p, y, m, v, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f, 0, bc));
}

void gpu_capture_and_replay() {
    kiln_context* ctx = nullptr;
    OK(kiln_context_create(KILN_DEVICE_CUDA, 0, &ctx));
    const int64_t n = 4099;
    const std::vector<float> hx = kiln::test::uniform(n, 1), hp = kiln::test::uniform(n, 2), zeros(n, 0.0f);
    float* x = upload(ctx, hx);
    float* bufs[2][5];  // per run: tmp, y, p, m, v
    int32_t* counts[2];
    float* bcs[2];
    for (int r = 0; r < 2; ++r) {
        bufs[r][0] = upload(ctx, zeros);
        bufs[r][1] = upload(ctx, zeros);
        bufs[r][2] = upload(ctx, hp);
        bufs[r][3] = upload(ctx, zeros);
        bufs[r][4] = upload(ctx, zeros);
        void* c = nullptr;
        OK(kiln_alloc(ctx, 256, &c));
        const int32_t zero = 0;
        OK(kiln_copy_to_device(ctx, c, &zero, sizeof zero));
        counts[r] = static_cast<int32_t*>(c);
        bcs[r] = upload(ctx, {0.0f, 0.0f});
    }
    const int replays = 5;
    for (int i = 0; i < replays; ++i)
        step_ops(ctx, x, bufs[0][0], bufs[0][1], bufs[0][2], bufs[0][3], bufs[0][4], counts[0], bcs[0], n);

    // A refused op fails the whole capture and leaves the context usable.
    OK(kiln_graph_capture_begin(ctx));
    std::vector<float> sink(n);
    EXPECT(kiln_copy_to_host(ctx, sink.data(), x, n * 4) == KILN_ERR_UNSUPPORTED);
    kiln_graph* graph = nullptr;
    EXPECT(kiln_graph_capture_end(ctx, &graph) == KILN_ERR_UNSUPPORTED && graph == nullptr);
    EXPECT(message_has("discarded") && message_has("kiln_copy_to_host"));
    // A cache miss during the capture is refused too.
    OK(kiln_graph_capture_begin(ctx));
    void* big = nullptr;
    EXPECT(kiln_alloc(ctx, size_t(3) << 20, &big) == KILN_ERR_UNSUPPORTED && message_has("cache"));
    EXPECT(kiln_graph_capture_end(ctx, &graph) == KILN_ERR_UNSUPPORTED && graph == nullptr);
    EXPECT(message_has("discarded") && message_has("kiln_alloc"));

    OK(kiln_graph_capture_begin(ctx));
    int32_t capturing = 0;
    OK(kiln_graph_is_capturing(ctx, &capturing));
    EXPECT(capturing == 1);
    step_ops(ctx, x, bufs[1][0], bufs[1][1], bufs[1][2], bufs[1][3], bufs[1][4], counts[1], bcs[1], n);
    OK(kiln_graph_capture_end(ctx, &graph));
    for (int i = 0; i < replays; ++i) OK(kiln_graph_launch(graph));
    OK(kiln_synchronize(ctx));
    for (int k = 1; k < 5; ++k) {
        const std::vector<float> eager = download(ctx, bufs[0][k], n), replayed = download(ctx, bufs[1][k], n);
        EXPECT(std::memcmp(eager.data(), replayed.data(), n * 4) == 0);
    }
    int32_t eager_count = 0, replay_count = 0;
    OK(kiln_copy_to_host(ctx, &eager_count, counts[0], 4));
    OK(kiln_copy_to_host(ctx, &replay_count, counts[1], 4));
    EXPECT(eager_count == replays && replay_count == replays);
    OK(kiln_graph_destroy(graph));
    EXPECT(kiln_graph_launch(graph) == KILN_ERR_INVALID_ARGUMENT);  // a stale handle is refused, not followed
    OK(kiln_context_destroy(ctx));
}

// Threads racing to begin a capture on one context: each round exactly one wins and the others are refused without
// disturbing its capture, which the winner ends once every thread has tried (so that no late thread can win a second
// time). Under cuda_emulator.sh --race, ThreadSanitizer also checks that the claim orders what it must.
void concurrent_capture_claims() {
    kiln_context* ctx = nullptr;
    OK(kiln_context_create(KILN_DEVICE_CUDA, 0, &ctx));
    const int threads = 4, rounds = 40;
    for (int round = 0; round < rounds; ++round) {
        std::atomic<int> ready{0}, tried{0}, winners{0}, refused{0};
        std::vector<std::thread> pool;
        for (int t = 0; t < threads; ++t)
            pool.emplace_back([&] {
                ready.fetch_add(1);
                while (ready.load() < threads) std::this_thread::yield();  // all start together
                const kiln_status st = kiln_graph_capture_begin(ctx);
                const bool refusal = st == KILN_ERR_UNSUPPORTED && message_has("capturing");
                tried.fetch_add(1);
                if (refusal) refused.fetch_add(1);
                if (st != KILN_OK) return;
                winners.fetch_add(1);
                while (tried.load() < threads) std::this_thread::yield();
                int32_t capturing = 0;
                EXPECT(kiln_graph_is_capturing(ctx, &capturing) == KILN_OK && capturing == 1);
                kiln_graph* graph = nullptr;
                EXPECT(kiln_graph_capture_end(ctx, &graph) == KILN_OK && graph != nullptr);
                EXPECT(kiln_graph_destroy(graph) == KILN_OK);
            });
        for (std::thread& t : pool) t.join();
        EXPECT(winners.load() == 1 && refused.load() == threads - 1);
    }
    int32_t capturing = 1;
    OK(kiln_graph_is_capturing(ctx, &capturing));
    EXPECT(capturing == 0);
    OK(kiln_context_destroy(ctx));
}

}  // namespace

int main() {
    kiln_context* cpu = nullptr;
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &cpu) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    cpu_context_is_unsupported(cpu);
    allocator_capture_rules();
    refusals_while_capturing(cpu);
    kiln_context_destroy(cpu);
    int32_t devices = 0;
    const char* reason = "";
    kiln_cuda_device_count(&devices, &reason);
    if (devices == 0) {
        const int rc = kiln::test::finish("test_graph (CPU half)");
        std::printf("SKIPPED: the GPU half (capture and replay): no CUDA device (%s)\n", reason);
        return rc != 0 ? rc : 77;
    }
    gpu_capture_and_replay();
    concurrent_capture_claims();
    return kiln::test::finish("test_graph");
}
