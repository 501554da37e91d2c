// Launch-configuration helpers shared by the host launchers in kernels/*.cu.
#pragma once

#include <cstddef>

namespace kiln::cuda {

// Blocks for a grid-stride loop over `items`: enough to fill the GPU, capped so huge tensors loop instead.
inline unsigned grid_1d(size_t items, int block) {
    const size_t wanted = (items + block - 1) / block;
    const size_t cap = 65535u * 8u;
    return (unsigned)(wanted == 0 ? 1 : (wanted < cap ? wanted : cap));
}

}  // namespace kiln::cuda
