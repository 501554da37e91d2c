// Kiln's CUDA emulator (native/emu): what emulated device code and the launch syntax call in runtime.cpp.
//
// Each CUDA thread of a block runs as a fiber (its own stack) on one OS thread, switched only where CUDA threads
// wait for each other: __syncthreads, the warp collectives (__shfl_*_sync, __syncwarp, ldmatrix, mma) and spin
// waits. Blocks run one after another; a cooperative launch runs all its blocks at once, one OS thread each, since
// its blocks wait for each other. Shared memory, static arrays and the dynamic buffer alike, is the block's own, new
// for each block and filled with 0xff bytes (float NaN), so a read of shared memory that nothing wrote shows as NaN.
#pragma once

#include <cstddef>
#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "cuda_runtime_api.h"

namespace kiln_emu {

struct ThreadState {
    uint3 thread_idx;
    uint3 block_idx;
    dim3 block_dim;
    dim3 grid_dim;
    unsigned linear;  // x + y * block_dim.x + z * block_dim.x * block_dim.y: the warp is linear / 32
};

// The CUDA thread running on this OS thread; null outside a kernel.
ThreadState* current();
inline ThreadState& self() { return *current(); }

struct Config {
    dim3 grid, block;
    size_t smem;
    cudaStream_t stream;
};

// Runs `thread` once per CUDA thread of the grid, now or, while cfg.stream is capturing, when the graph is launched.
// The result is also the sticky error that cudaGetLastError returns, as for a real launch.
cudaError_t launch(const void* kernel, const Config& cfg, std::function<void()> thread, bool cooperative);

void sync_block();
// Every lane in mask that exists arrives; the warp's exchange slots are then reset when `reset_slots`.
void sync_warp(unsigned mask, bool reset_slots = false);
// The warp's exchange slots: 32 x kSlotBytes, lane l at l * kSlotBytes. Lanes that did not write hold 0xff bytes.
constexpr size_t kSlotBytes = 64;
unsigned char* warp_slots();
unsigned char* dynamic_shared();
// The running block's memory for the static __shared__ array declared at `site` (device.h's static_shared): made at
// the first call of each block, `bytes` of 0xff (float NaN) aligned to `align`, as dynamic shared memory is.
void* block_shared(const void* site, size_t bytes, size_t align);
// A spin wait's pause: lets the other blocks of a cooperative launch run.
void spin_pause();

// ---- the launch syntax -------------------------------------------------------------------------------------------
// rewrite.cmake turns `kernel<<<grid, block, smem, stream>>>(args...)` into
// `kernel * ::kiln_emu::Launch(grid, block, smem, stream)(args...)`: the call binds the arguments, the `*` launches.
template <class... A>
struct Bound {
    Config cfg;
    std::tuple<std::decay_t<A>...> args;
};

struct Launch {
    Config cfg;
    Launch(dim3 grid, dim3 block, size_t smem = 0, cudaStream_t stream = nullptr) : cfg{grid, block, smem, stream} {}
    template <class... A>
    Bound<A...> operator()(A&&... args) const {
        return Bound<A...>{cfg, std::tuple<std::decay_t<A>...>(std::forward<A>(args)...)};
    }
};

// The arguments convert to the kernel's parameter types once, as a real launch copies them into parameter space.
template <class... P, class... A>
void operator*(void (*kernel)(P...), Bound<A...>&& bound) {
    static_assert(sizeof...(P) == sizeof...(A), "kernel launched with the wrong number of arguments");
    auto params = std::apply([](auto&&... a) { return std::tuple<P...>(static_cast<P>(a)...); }, bound.args);
    launch(reinterpret_cast<const void*>(kernel), bound.cfg, [kernel, params] { std::apply(kernel, params); }, false);
}

template <class... P, size_t... I>
std::tuple<P...> unpack(void** args, std::index_sequence<I...>) {
    return std::tuple<P...>(*static_cast<std::remove_reference_t<P>*>(args[I])...);
}

}  // namespace kiln_emu

// cuda_runtime.h's typed form (the runtime's own is by address and void** arguments).
template <class... P>
cudaError_t cudaLaunchCooperativeKernel(void (*kernel)(P...), dim3 grid, dim3 block, void** args, size_t smem = 0,
                                        cudaStream_t stream = nullptr) {
    auto params = kiln_emu::unpack<P...>(args, std::index_sequence_for<P...>{});
    return kiln_emu::launch(reinterpret_cast<const void*>(kernel), kiln_emu::Config{grid, block, smem, stream},
                            [kernel, params] { std::apply(kernel, params); }, true);
}
