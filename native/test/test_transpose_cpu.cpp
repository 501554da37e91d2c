// Tests of the transpose entry on a CPU context, through the C ABI: every output element against the definition
// y[o, c, m, r, i] = x[o, r, m, c, i] computed by index arithmetic alone, over shapes that leave partial tiles, runs of
// every length class (1, short, long), several planes; the backward identity (the same call with rows and cols
// exchanged restores x); transposing two axes of a 4-D tensor as the Java op describes it; and validation.
#include <cstdint>
#include <cstdio>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

using kiln::test::message_has;
using kiln::test::uniform;

namespace {

kiln_context* g_ctx = nullptr;

// y from the definition: loop over x and place each element.
std::vector<float> reference(const std::vector<float>& x, int64_t outer, int64_t rows, int64_t mid, int64_t cols,
                             int64_t inner) {
    std::vector<float> y(x.size());
    for (int64_t o = 0; o < outer; ++o)
        for (int64_t r = 0; r < rows; ++r)
            for (int64_t m = 0; m < mid; ++m)
                for (int64_t c = 0; c < cols; ++c)
                    for (int64_t i = 0; i < inner; ++i) {
                        const int64_t xi = (((o * rows + r) * mid + m) * cols + c) * inner + i;
                        const int64_t yi = (((o * cols + c) * mid + m) * rows + r) * inner + i;
                        y[(size_t)yi] = x[(size_t)xi];
                    }
    return y;
}

void matches_definition(int64_t outer, int64_t rows, int64_t mid, int64_t cols, int64_t inner) {
    const size_t n = (size_t)(outer * rows * mid * cols * inner);
    const std::vector<float> x = uniform(n, (uint64_t)(n + rows), -3.0f, 3.0f);
    std::vector<float> y(n, -99.0f), back(n, -99.0f);
    EXPECT(kiln_transpose_f32(g_ctx, x.data(), y.data(), outer, rows, mid, cols, inner) == KILN_OK);
    const bool exact = y == reference(x, outer, rows, mid, cols, inner);
    if (!exact) {
        std::printf("  (%lld, %lld, %lld, %lld, %lld): differs from the definition\n", (long long)outer,
                    (long long)rows, (long long)mid, (long long)cols, (long long)inner);
    }
    EXPECT(exact);
    // The backward: dy (outer, cols, mid, rows, inner) transposed with rows and cols exchanged is x's layout again.
    EXPECT(kiln_transpose_f32(g_ctx, y.data(), back.data(), outer, cols, mid, rows, inner) == KILN_OK);
    EXPECT(back == x);
}

// Axes 1 and 3 of a (2, 3, 4, 5) tensor: outer 2, rows 3, mid 4, cols 5, inner 1; y is (2, 5, 4, 3).
void four_d_axes_one_and_three() {
    const std::vector<float> x = uniform(120, 7);
    std::vector<float> y(120);
    EXPECT(kiln_transpose_f32(g_ctx, x.data(), y.data(), 2, 3, 4, 5, 1) == KILN_OK);
    int wrong = 0;
    for (int a = 0; a < 2; ++a)
        for (int b = 0; b < 3; ++b)
            for (int c = 0; c < 4; ++c)
                for (int d = 0; d < 5; ++d) wrong += y[((a * 5 + d) * 4 + c) * 3 + b] != x[((a * 3 + b) * 4 + c) * 5 + d];
    EXPECT(wrong == 0);
}

void empty_shapes_and_validation() {
    float x[6] = {1, 2, 3, 4, 5, 6}, y[6] = {};
    EXPECT(kiln_transpose_f32(g_ctx, x, y, 1, 0, 1, 3, 1) == KILN_OK);  // nothing to move
    EXPECT(kiln_transpose_f32(g_ctx, nullptr, nullptr, 0, 2, 1, 3, 1) == KILN_OK);
    EXPECT(kiln_transpose_f32(g_ctx, nullptr, y, 1, 2, 1, 3, 1) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("kiln_transpose_f32") && message_has("'x'"));
    EXPECT(kiln_transpose_f32(g_ctx, x, nullptr, 1, 2, 1, 3, 1) == KILN_ERR_INVALID_ARGUMENT && message_has("'y'"));
    EXPECT(kiln_transpose_f32(g_ctx, x, y, 1, -2, 1, 3, 1) == KILN_ERR_INVALID_ARGUMENT && message_has("'rows'"));
    EXPECT(kiln_transpose_f32(g_ctx, x, y, (int64_t)1 << 40, 1 << 20, 1, 1 << 20, 1) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_transpose_f32(g_ctx, x, x, 1, 2, 1, 3, 1) == KILN_ERR_INVALID_ARGUMENT && message_has("'y'"));
    EXPECT(kiln_transpose_f32(g_ctx, x, x + 1, 1, 1, 1, 5, 1) == KILN_ERR_INVALID_ARGUMENT);  // overlapping
    EXPECT(kiln_transpose_f32(nullptr, x, y, 1, 2, 1, 3, 1) == KILN_ERR_INVALID_ARGUMENT);
    const float want[6] = {1, 4, 2, 5, 3, 6};  // a 2 x 3 matrix transposed, after the refusals left y alone
    EXPECT(kiln_transpose_f32(g_ctx, x, y, 1, 2, 1, 3, 1) == KILN_OK);
    EXPECT(std::vector<float>(y, y + 6) == std::vector<float>(want, want + 6));
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    matches_definition(1, 1, 1, 1, 1);
    matches_definition(1, 2, 1, 3, 1);
    matches_definition(1, 32, 1, 32, 1);       // one whole tile
    matches_definition(1, 33, 1, 65, 1);       // partial tiles on both sides
    matches_definition(3, 100, 1, 7, 1);       // several matrices, a narrow one
    matches_definition(2, 31, 5, 40, 1);       // planes between the axes
    matches_definition(1, 512, 1, 384, 1);     // many tiles, split across threads
    matches_definition(2, 9, 3, 11, 3);        // short runs
    matches_definition(2, 12, 2, 10, 16);      // runs at the tile's limit
    matches_definition(3, 6, 2, 5, 17);        // long runs, one at a time
    matches_definition(1, 8, 1, 64, 200);      // the attention heads' layout: (T, H, D) to (H, T, D)
    matches_definition(4, 1, 7, 1, 9);         // rows and cols of 1: a copy
    four_d_axes_one_and_three();
    empty_shapes_and_validation();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_transpose_cpu");
}
