// Tests of the embedding family on a CPU context, through the C ABI: the lookup against a plain copy (NaN rows for
// out-of-range indices), the backward against the contract's own definition, a sequential fp32 loop in increasing
// position (bit for bit), against a double sum and against central finite differences, with repeated indices, unused
// rows and out-of-range indices; sinusoidal positions against a long-double reference (odd dims, offsets, large
// positions); empty shapes and the validation messages.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

using kiln::test::all_close;
using kiln::test::grad_matches;
using kiln::test::message_has;
using kiln::test::uniform;
using kiln::test::widen;

namespace {

kiln_context* g_ctx = nullptr;
const float kNaN = std::numeric_limits<float>::quiet_NaN();

// Indices in [lo, hi) from a small LCG (out-of-range values included when lo < 0 or hi > vocab).
std::vector<int32_t> indices(size_t n, uint64_t seed, int32_t lo, int32_t hi) {
    std::vector<int32_t> v(n);
    uint64_t s = seed * 0x9E3779B97F4A7C15ull + 7;
    for (auto& i : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        i = lo + (int32_t)((s >> 33) % (uint64_t)(hi - lo));
    }
    return v;
}

void lookup(int64_t n, int64_t vocab, int64_t dim) {
    const std::string name = "n=" + std::to_string(n) + " vocab=" + std::to_string(vocab) + " dim=" + std::to_string(dim);
    std::vector<int32_t> idx = indices(n, n + vocab, -2, (int32_t)vocab + 2);
    idx[0] = (int32_t)vocab - 1;
    if (n > 2) idx[1] = INT32_MIN, idx[2] = INT32_MAX;
    const std::vector<float> weight = uniform(vocab * dim, 3);
    std::vector<float> y(n * dim, 0.0f);
    EXPECT(kiln_embedding_f32(g_ctx, idx.data(), weight.data(), y.data(), n, vocab, dim) == KILN_OK);
    int bad = 0;
    for (int64_t i = 0; i < n; ++i)
        for (int64_t c = 0; c < dim; ++c) {
            const float got = y[i * dim + c];
            if (idx[i] >= 0 && idx[i] < vocab) bad += std::memcmp(&got, &weight[idx[i] * dim + c], 4) != 0;
            else bad += !std::isnan(got);
        }
    if (bad) std::printf("  embedding %s: %d wrong elements\n", name.c_str(), bad);
    EXPECT(bad == 0);
}

// dweight by the contract's words: every row zero, then dy[i] added to row indices[i] for i = 0, 1, ... in fp32.
std::vector<float> sequential_backward(const std::vector<int32_t>& idx, const std::vector<float>& dy, int64_t vocab,
                                       int64_t dim) {
    std::vector<float> dw(vocab * dim, 0.0f);
    for (size_t i = 0; i < idx.size(); ++i) {
        if (idx[i] < 0 || idx[i] >= vocab) continue;
        for (int64_t c = 0; c < dim; ++c) dw[idx[i] * dim + c] += dy[i * dim + c];
    }
    return dw;
}

void backward(int64_t n, int64_t vocab, int64_t dim, int32_t lo, int32_t hi) {
    const std::string name = "n=" + std::to_string(n) + " vocab=" + std::to_string(vocab) + " dim=" + std::to_string(dim);
    const std::vector<int32_t> idx = indices(n, 2 * n + vocab, lo, hi);
    // Magnitudes spread over six decades, so a different order of additions changes the bits.
    std::vector<float> dy = uniform(n * dim, 5);
    for (int64_t i = 0; i < n * dim; i += 3) dy[i] *= 1e3f;
    for (int64_t i = 1; i < n * dim; i += 7) dy[i] *= 1e-3f;
    std::vector<float> dw(vocab * dim, kNaN);  // rows nobody names must come back as zeros
    EXPECT(kiln_embedding_backward_f32(g_ctx, idx.data(), dy.data(), dw.data(), n, vocab, dim) == KILN_OK);
    const std::vector<float> want = sequential_backward(idx, dy, vocab, dim);
    const bool same = std::memcmp(dw.data(), want.data(), want.size() * sizeof(float)) == 0;
    if (!same) std::printf("  embedding backward %s: not the bits of the sequential loop\n", name.c_str());
    EXPECT(same);
    std::vector<double> sum(vocab * dim, 0.0);
    for (int64_t i = 0; i < n; ++i)
        if (idx[i] >= 0 && idx[i] < vocab)
            for (int64_t c = 0; c < dim; ++c) sum[idx[i] * dim + c] += dy[i * dim + c];
    EXPECT(all_close("embedding dweight vs double " + name, dw, sum, 1e-5, 1e-2));
}

// L = sum w y as a function of the table: finite differences see the same gradient (a check of the definition, not of
// the bits).
void backward_matches_finite_differences() {
    const int64_t n = 40, vocab = 9, dim = 5;
    const std::vector<int32_t> idx = indices(n, 11, -1, (int32_t)vocab + 1);
    const std::vector<float> weight = uniform(vocab * dim, 12), w = uniform(n * dim, 13);
    std::vector<float> dw(vocab * dim);
    EXPECT(kiln_embedding_backward_f32(g_ctx, idx.data(), w.data(), dw.data(), n, vocab, dim) == KILN_OK);
    auto loss = [&](const std::vector<double>& table) {
        double s = 0;
        for (int64_t i = 0; i < n; ++i)
            if (idx[i] >= 0 && idx[i] < vocab)
                for (int64_t c = 0; c < dim; ++c) s += w[i * dim + c] * table[idx[i] * dim + c];
        return s;
    };
    EXPECT(grad_matches("embedding dweight", loss, widen(weight), dw));
}

// Positions against a long-double reference: y[t, 2i] = sin(p w_i), y[t, 2i + 1] = cos(p w_i), w_i = 10000^(-2i/dim).
void positions(int64_t len, int64_t dim, int64_t start) {
    const std::string name = "len=" + std::to_string(len) + " dim=" + std::to_string(dim) + " start=" + std::to_string(start);
    std::vector<float> y(len * dim, kNaN);
    EXPECT(kiln_sinusoidal_positions_f32(g_ctx, y.data(), len, dim, start) == KILN_OK);
    std::vector<double> want(len * dim);
    for (int64_t t = 0; t < len; ++t)
        for (int64_t c = 0; c < dim; ++c) {
            const long double w = std::pow(10000.0L, -(long double)(c - c % 2) / (long double)dim);
            const long double a = (long double)(start + t) * w;
            want[t * dim + c] = (double)(c % 2 ? std::cos(a) : std::sin(a));
        }
    // Half an ulp of the float result plus the double evaluation's own error (which grows with the angle).
    EXPECT(all_close("positions " + name, y, want, 7e-8, 1e-12 * (double)(start + len) + 4e-8));
    if (dim >= 2 && start == 0) EXPECT(y[0] == 0.0f && y[1] == 1.0f);  // position 0: sin 0, cos 0
}

void empty_shapes_and_validation() {
    int32_t idx[3] = {0, 1, 2};
    float w[6] = {1, 2, 3, 4, 5, 6}, y[6], dw[6];
    EXPECT(kiln_embedding_f32(g_ctx, nullptr, nullptr, nullptr, 0, 3, 2) == KILN_OK);
    EXPECT(kiln_embedding_f32(g_ctx, idx, nullptr, y, 3, 0, 0) == KILN_OK);  // dim 0: nothing to read or write
    std::vector<float> zeros(6, kNaN);
    EXPECT(kiln_embedding_backward_f32(g_ctx, nullptr, nullptr, zeros.data(), 0, 3, 2) == KILN_OK);
    EXPECT(zeros == std::vector<float>(6, 0.0f));  // no positions: every row 0
    EXPECT(kiln_embedding_f32(g_ctx, idx, nullptr, y, 3, 3, 2) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("kiln_embedding_f32") && message_has("'weight'"));
    EXPECT(kiln_embedding_f32(g_ctx, nullptr, w, y, 3, 3, 2) == KILN_ERR_INVALID_ARGUMENT && message_has("'indices'"));
    EXPECT(kiln_embedding_f32(g_ctx, idx, w, y, 3, -3, 2) == KILN_ERR_INVALID_ARGUMENT && message_has("vocab=-3"));
    EXPECT(kiln_embedding_backward_f32(g_ctx, idx, w, nullptr, 3, 3, 2) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("kiln_embedding_backward_f32") && message_has("'dweight'"));
    EXPECT(kiln_embedding_backward_f32(g_ctx, idx, nullptr, dw, 3, 3, 2) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'dy'"));
    EXPECT(kiln_embedding_backward_f32(g_ctx, idx, w, dw, (int64_t)1 << 31, 3, 2) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("2^31"));
    EXPECT(kiln_embedding_f32(g_ctx, idx, w, y, INT64_MAX / 2, 3, 4) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("too large"));
    EXPECT(kiln_sinusoidal_positions_f32(g_ctx, nullptr, 0, 4, 0) == KILN_OK);
    EXPECT(kiln_sinusoidal_positions_f32(g_ctx, nullptr, 2, 3, 0) == KILN_ERR_INVALID_ARGUMENT && message_has("'y'"));
    EXPECT(kiln_sinusoidal_positions_f32(g_ctx, y, 2, 3, -1) == KILN_ERR_INVALID_ARGUMENT && message_has("start=-1"));
    EXPECT(kiln_sinusoidal_positions_f32(g_ctx, y, 2, 3, INT64_MAX) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("overflows"));
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    lookup(1, 1, 1);
    lookup(7, 5, 3);
    lookup(300, 100, 64);
    lookup(1000, 50000, 33);
    backward(1, 1, 1, 0, 1);
    backward(7, 5, 3, -2, 7);          // out-of-range on both sides
    backward(5000, 100, 64, 0, 100);   // characters: ~50 repeats per row
    backward(3000, 5, 1030, -1, 5);    // few rows, long rows: split over columns
    backward(20000, 50000, 16, 0, 50000);  // a large vocabulary: most rows unused
    backward(4096, 3, 8, 1, 2);        // one row takes every position
    backward_matches_finite_differences();
    positions(1, 1, 0);
    positions(7, 5, 0);
    positions(50, 64, 3);
    positions(20, 33, 100000);         // large positions: the phase needs the double product
    positions(3, 512, 0);
    empty_shapes_and_validation();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_embedding_cpu");
}
