// One CPU context used from several application threads at once, as kiln.h allows: each thread's results must have
// the bits of the same calls made alone, its failed call's message must be its own, while another thread empties the
// cache, reads the counters and sets the memory limit, and a third creates, uses and destroys contexts of its own.
// Under AddressSanitizer (mvn verify) it checks the allocator's bookkeeping under contention; under ThreadSanitizer
// (native/test/sanitizers.sh DIR --thread) it is the test that shares a context between threads.
#include <atomic>
#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

namespace {

using kiln::test::message_has;

// Every buffer a round uses: 8192 floats covers each operand below.
constexpr int64_t kElems = 8192;

struct Buffers {
    kiln_context* ctx;
    float *x = nullptr, *w = nullptr, *y = nullptr;
    explicit Buffers(kiln_context* c) : ctx(c) {
        for (float** p : {&x, &w, &y}) EXPECT(kiln_alloc(ctx, kElems * sizeof(float), (void**)p) == KILN_OK);
    }
    ~Buffers() {
        for (float* p : {x, w, y}) EXPECT(kiln_free(ctx, p) == KILN_OK);
    }
};

// One round of ops whose inputs depend on (stream, round) only; returns every output, in order.
std::vector<float> one_round(kiln_context* ctx, uint64_t stream, uint64_t round) {
    std::vector<float> out;
    auto keep = [&out](const float* p, int64_t n) { out.insert(out.end(), p, p + n); };
    Buffers b(ctx);
    EXPECT(kiln_rand_uniform_f32(ctx, b.x, kElems, stream, round, -1.0f, 1.0f) == KILN_OK);
    EXPECT(kiln_rand_normal_f32(ctx, b.w, kElems, stream + 1000, round, 0.0f, 0.1f) == KILN_OK);

    kiln_gemm_desc g{};
    g.m = g.n = g.k = g.lda = g.ldb = g.ldc = 64, g.batch = 1, g.alpha = 1.0f;
    EXPECT(kiln_gemm_f32(ctx, &g, b.x, b.w, b.y) == KILN_OK);
    keep(b.y, 64 * 64);

    // (2, 16, 16, 16) images, 16 3x3 filters, padding 1: x, dy and y are 8192 floats, w 2304.
    const kiln_conv2d_desc cd{2, 16, 16, 16, 16, 3, 3, 1, 1, 1, 1, 1, 1, 16, 16};
    EXPECT(kiln_conv2d_forward_f32(ctx, &cd, b.x, b.w, nullptr, b.y) == KILN_OK);
    keep(b.y, kElems);
    EXPECT(kiln_conv2d_backward_data_f32(ctx, &cd, b.x, b.w, b.y) == KILN_OK);
    keep(b.y, kElems);
    EXPECT(kiln_conv2d_backward_weight_f32(ctx, &cd, b.x, b.x, b.y, nullptr) == KILN_OK);
    keep(b.y, 16 * 16 * 9);

    EXPECT(kiln_softmax_f32(ctx, b.x, b.y, 32, 256, 0) == KILN_OK);
    keep(b.y, kElems);

    // (2, 2, 32, 16) query, key and value views of x; o in y, lse in w.
    kiln_attention_desc ad{};
    ad.batch = ad.heads = 2, ad.q_len = ad.kv_len = 32, ad.head_dim = 16, ad.scale = 0.25f, ad.causal = 1;
    const int64_t strides[3] = {2 * 32 * 16, 32 * 16, 16};
    for (int64_t* s : {ad.q_stride, ad.k_stride, ad.v_stride, ad.o_stride}) std::memcpy(s, strides, sizeof strides);
    EXPECT(kiln_attention_forward_f32(ctx, &ad, b.x, b.x, b.x, nullptr, b.y, b.w) == KILN_OK);
    keep(b.y, 2 * 2 * 32 * 16);
    keep(b.w, 2 * 2 * 32);

    float ss = 0.0f;
    EXPECT(kiln_sum_squares_f32(ctx, b.x, kElems, &ss) == KILN_OK);
    out.push_back(ss);

    // A failing call: its message is this thread's, whatever the others are doing.
    EXPECT(kiln_fill_f32(ctx, nullptr, 5, 0.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_fill_f32") && message_has("'y' is null"));
    return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void threads_sharing_a_context_get_the_bits_of_calls_made_alone() {
    constexpr int kThreads = 4, kRounds = 6;
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    std::vector<std::vector<float>> alone(kThreads * kRounds);
    for (int t = 0; t < kThreads; ++t)
        for (int r = 0; r < kRounds; ++r) alone[t * kRounds + r] = one_round(ctx, 100 + t, r);
    // Each round's inputs differ, so a result handed to the wrong round or thread cannot pass by coincidence.
    EXPECT(!same_bits(alone[0], alone[1]) && !same_bits(alone[0], alone[kRounds]));

    std::vector<std::vector<float>> together(kThreads * kRounds);
    std::atomic<bool> stop{false};
    std::atomic<int> churn_mismatches{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t)
        threads.emplace_back([&, t] {
            for (int r = 0; r < kRounds; ++r) together[t * kRounds + r] = one_round(ctx, 100 + t, r);
        });
    std::thread housekeeping([&] {
        while (!stop.load()) {
            kiln_memory_stats stats;
            EXPECT(kiln_empty_cache(ctx) == KILN_OK);
            EXPECT(kiln_memory_stats_get(ctx, &stats) == KILN_OK);
            EXPECT(kiln_set_memory_limit(ctx, 0) == KILN_OK);  // 0: no limit, so no round can be refused
            std::this_thread::yield();
        }
    });
    std::thread churn([&] {
        for (int r = 0; r < 3; ++r) {
            kiln_context* own = nullptr;
            EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &own) == KILN_OK);
            if (!same_bits(one_round(own, 100, r), alone[r])) churn_mismatches++;
            EXPECT(kiln_context_destroy(own) == KILN_OK);
        }
    });
    for (auto& t : threads) t.join();
    churn.join();
    stop = true;
    housekeeping.join();

    int mismatches = 0;
    for (size_t i = 0; i < alone.size(); ++i) mismatches += !same_bits(alone[i], together[i]);
    EXPECT(mismatches == 0);
    EXPECT(churn_mismatches == 0);
    kiln_memory_stats stats;
    EXPECT(kiln_memory_stats_get(ctx, &stats) == KILN_OK);
    EXPECT(stats.bytes_in_use == 0 && stats.live_allocations == 0);  // every round freed what it took
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
}

}  // namespace

int main() {
    threads_sharing_a_context_get_the_bits_of_calls_made_alone();
    return kiln::test::finish("test_shared_context");
}
