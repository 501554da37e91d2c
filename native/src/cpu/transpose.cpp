// The transpose family on the CPU: y[o, c, m, r, i] = x[o, r, m, c, i] over (outer, rows, mid, cols, inner). Each
// (o, m) is a rows x cols matrix of runs of `inner` floats, moved in square tiles that fit the L1 cache, so that both
// the reads along x's rows and the writes along y's rows stay within lines the tile has already brought in; long runs
// need no tile (a run is itself a contiguous copy). The tiles are split across the thread pool; a copy, so the bits do
// not depend on the split.
#include <algorithm>
#include <cstdint>
#include <cstring>

#include "common/entry_backends.h"
#include "cpu/parallel.h"

namespace kiln::cpu {

namespace {

constexpr int64_t kGrainFloats = 1 << 14;  // 64 KiB moved per task at least: well above the pool's overhead

// Tile side in (rows, cols): kSide x kSide single floats (4 KiB read and written), 8 x 8 runs of up to 16 floats;
// longer runs take no tile (1: transpose_long_runs).
constexpr int64_t kSide = 32;
int64_t tile_side(int64_t inner) { return inner == 1 ? kSide : inner <= 16 ? 8 : 1; }

// The single floats of x's rows [r0, r1) and columns [c0, c1) (strides x_row, 1) into y's rows [c0, c1) and columns
// [r0, r1) (strides y_col, 1), through a local tile: x's rows are read whole into it, then y's rows written whole
// from it. Reading x by columns instead would touch 32 lines a row stride apart at once, and with a power-of-two
// stride those share one set of the L1 cache: each line evicted before its next float is read. A function of its own,
// aligned to a cache line: inlined into the tile loop, the same code ran 1024 x 1024 in 260 or 395 us depending only
// on where an edit elsewhere in the file had placed it.
__attribute__((noinline, aligned(64))) void move_tile(const float* xp, int64_t x_row, float* yp, int64_t y_col,
                                                      int64_t r0, int64_t r1, int64_t c0, int64_t c1) {
    float tile[kSide * kSide];
    for (int64_t r = r0; r < r1; ++r) {
        const float* xrow = xp + r * x_row;
        for (int64_t c = c0; c < c1; ++c) tile[(r - r0) * kSide + (c - c0)] = xrow[c];
    }
    for (int64_t c = c0; c < c1; ++c) {
        float* yrow = yp + c * y_col;
        for (int64_t r = r0; r < r1; ++r) yrow[r] = tile[(r - r0) * kSide + (c - c0)];
    }
}

// Runs longer than 16 floats (an attention head's D): x's rows x[o, r, m, :, :] taken in order, each row's cols runs
// written to y[o, c, m, r, :]. The row's indices are carried from row to row, decoded once per task: decoding them per
// run, as the tiles do per tile, cost three divisions for every 64-float copy and ran at 40% of PyTorch's speed on
// (32, 128, 8, 64) to (32, 8, 128, 64).
void transpose_long_runs(const float* x, float* y, int64_t outer, int64_t rows, int64_t mid, int64_t cols,
                         int64_t inner) {
    const int64_t row_floats = cols * inner, y_col = mid * rows * inner;
    parallel_for(outer * rows * mid, [&](int64_t begin, int64_t end) {
        int64_t m = begin % mid, r = begin / mid % rows, o = begin / mid / rows;
        for (int64_t t = begin; t < end; ++t) {
            const float* src = x + t * row_floats;                      // x[o, r, m, 0, 0]
            float* dst = y + ((o * cols * mid + m) * rows + r) * inner;  // y[o, 0, m, r, 0]
            for (int64_t c = 0; c < cols; ++c) std::memcpy(dst + c * y_col, src + c * inner, (size_t)inner * 4);
            if (++m == mid) {
                m = 0;
                if (++r == rows) r = 0, ++o;
            }
        }
    }, kGrainFloats / row_floats + 1);
}

}  // namespace

void transpose_f32(const float* x, float* y, int64_t outer, int64_t rows, int64_t mid, int64_t cols, int64_t inner) {
    const int64_t side = tile_side(inner);
    if (side == 1) return transpose_long_runs(x, y, outer, rows, mid, cols, inner);
    const int64_t row_tiles = (rows + side - 1) / side, col_tiles = (cols + side - 1) / side;
    // x's strides for r and c, y's for c and r, in floats.
    const int64_t x_row = mid * cols * inner, x_col = inner;
    const int64_t y_col = mid * rows * inner, y_row = inner;
    const int64_t tiles = outer * mid * row_tiles * col_tiles;
    const int64_t grain = kGrainFloats / (side * side * inner) + 1;
    parallel_for(tiles, [&](int64_t begin, int64_t end) {
        for (int64_t t = begin; t < end; ++t) {
            // Consecutive tiles run along x's columns, so a task reads x in order.
            int64_t q = t;
            const int64_t tc = q % col_tiles;
            q /= col_tiles;
            const int64_t tr = q % row_tiles;
            q /= row_tiles;
            const int64_t m = q % mid, o = q / mid;
            const float* xp = x + (o * rows * mid + m) * cols * inner;  // x[o, 0, m, 0, 0]
            float* yp = y + (o * cols * mid + m) * rows * inner;        // y[o, 0, m, 0, 0]
            const int64_t r0 = tr * side, r1 = std::min(r0 + side, rows);
            const int64_t c0 = tc * side, c1 = std::min(c0 + side, cols);
            if (inner == 1) {
                move_tile(xp, x_row, yp, y_col, r0, r1, c0, c1);
            } else {
                for (int64_t c = c0; c < c1; ++c) {
                    for (int64_t r = r0; r < r1; ++r) {
                        std::memcpy(yp + c * y_col + r * y_row, xp + r * x_row + c * x_col, (size_t)inner * 4);
                    }
                }
            }
        }
    }, grain);
}

}  // namespace kiln::cpu

KILN_CPU_TWIN(transpose_f32);
