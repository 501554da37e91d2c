// Launch-configuration helpers shared by the host launchers in kernels/*.cu.
#pragma once

#include <cstddef>
#include <cstdint>

namespace kiln::cuda {

// Blocks for a grid-stride loop over `items`: enough to fill the GPU, capped so huge tensors loop instead.
inline unsigned grid_1d(size_t items, int block) {
    const size_t wanted = (items + block - 1) / block;
    const size_t cap = 65535u * 8u;
    return (unsigned)(wanted == 0 ? 1 : (wanted < cap ? wanted : cap));
}

// Whether a flat index over `total` items fits 32-bit index math (cheaper than 64-bit on the GPU); the margin below
// 2^32 keeps `k + stride` in a grid-stride loop from wrapping.
inline bool fits_u32(int64_t total) { return total <= ((int64_t)1 << 31); }

// Calls launch(uint32_t{}) when fits_u32(total), else launch(uint64_t{}): the caller's generic lambda instantiates
// its kernel for the narrower index type where it can.
template <typename Launch>
void with_index_width(int64_t total, Launch&& launch) {
    if (fits_u32(total)) launch(uint32_t{});
    else launch(uint64_t{});
}

}  // namespace kiln::cuda
