// Kiln's CUDA emulator (native/emu): CUDA's device-side language on the CPU. Force-included (-include) into every
// kernels/*.cu after rewrite.cmake has turned its launches into calls; the kernels compile as C++17 unchanged, except
// where they write PTX by hand, which each such helper replaces under KILN_CUDA_EMU with this header's emulation.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "cuda_runtime.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#define __restrict__ __restrict
#define __align__(n) __attribute__((aligned(n)))
// No __shared__: rewrite.cmake turns each static shared array into a static_shared call (below), so one left over
// stops the build.

#define threadIdx (::kiln_emu::self().thread_idx)
#define blockIdx (::kiln_emu::self().block_idx)
#define blockDim (::kiln_emu::self().block_dim)
#define gridDim (::kiln_emu::self().grid_dim)
#define warpSize 32

namespace kiln_emu {
// A static __shared__ array T (`float[2][16][68]`) as rewrite.cmake writes it: `auto& as =
// static_shared<float[2][16][68], 16>([] {})`. The lambda's type is one per declaration and template instance, so
// `site` is too: the block's first thread to reach the declaration gets new memory for it, the others the same.
template <class T, size_t Align = 0, class Site>
T& static_shared(Site) {
    static const char site = 0;
    constexpr size_t align = Align ? Align : alignof(std::remove_all_extents_t<T>);
    static_assert(std::is_trivially_default_constructible_v<std::remove_all_extents_t<T>>,
                  "shared memory holds no constructed objects");
    return *static_cast<T*>(block_shared(&site, sizeof(T), align));
}
}  // namespace kiln_emu

inline void __syncthreads() { kiln_emu::sync_block(); }
inline void __syncwarp(unsigned mask = 0xffffffffu) { kiln_emu::sync_warp(mask); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __nanosleep(unsigned) { kiln_emu::spin_pause(); }

template <class T>
inline T __ldg(const T* p) { return *p; }
template <class T>
inline T __ldcg(const T* p) { return *p; }

// ---- warp shuffles -----------------------------------------------------------------------------------------------
namespace kiln_emu {

// Every lane in mask deposits v; lane reads the value of src_of(lane) (its own where that is outside its segment).
template <class T, class Src>
T shuffle(unsigned mask, T v, int width, Src src_of) {
    static_assert(sizeof(T) <= kSlotBytes && std::is_trivially_copyable_v<T>, "shuffled type");
    const unsigned lane = self().linear & 31u;
    unsigned char* slots = warp_slots();
    std::memcpy(slots + lane * kSlotBytes, &v, sizeof(T));
    sync_warp(mask);
    const int first = (int)(lane & ~(unsigned)(width - 1)), src = src_of((int)lane, first);
    T out = v;
    if (src >= first && src < first + width) std::memcpy(&out, slots + src * kSlotBytes, sizeof(T));
    sync_warp(mask, true);
    return out;
}

}  // namespace kiln_emu

template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32) {
    return kiln_emu::shuffle(mask, v, width, [&](int lane, int) { return lane ^ lane_mask; });
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return kiln_emu::shuffle(mask, v, width, [&](int lane, int) { return lane + (int)delta; });
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32) {
    return kiln_emu::shuffle(mask, v, width, [&](int lane, int first) {
        return lane - (int)delta >= first ? lane - (int)delta : lane;
    });
}
template <class T>
inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32) {
    return kiln_emu::shuffle(mask, v, width, [&](int, int first) { return first + (src_lane & (width - 1)); });
}

// ---- atomics: the hardware's read-modify-write, sequentially consistent ----------------------------------------
inline unsigned atomicAdd(unsigned* p, unsigned v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline int atomicAdd(int* p, int v) { return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST); }
inline unsigned long long atomicAdd(unsigned long long* p, unsigned long long v) {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
}
inline float atomicAdd(float* p, float v) {
    float old = *p, next;
    do {
        next = old + v;
    } while (!__atomic_compare_exchange(p, &old, &next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return old;
}
inline unsigned atomicCAS(unsigned* p, unsigned expected, unsigned desired) {
    __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
    return expected;
}
inline unsigned atomicExch(unsigned* p, unsigned v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
inline int atomicMax(int* p, int v) {
    int old = *p;
    while (old < v && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    }
    return old;
}

// ---- math that device code calls unqualified ----------------------------------------------------------------------
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned min(unsigned a, unsigned b) { return a < b ? a : b; }
inline unsigned max(unsigned a, unsigned b) { return a > b ? a : b; }
inline long min(long a, long b) { return a < b ? a : b; }
inline long max(long a, long b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long min(unsigned long a, unsigned long b) { return a < b ? a : b; }
inline unsigned long max(unsigned long a, unsigned long b) { return a > b ? a : b; }
inline float min(float a, float b) { return std::fmin(a, b); }
inline float max(float a, float b) { return std::fmax(a, b); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline float __expf(float x) { return std::exp(x); }
inline float __logf(float x) { return std::log(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float __uint_as_float(unsigned u) { float f; std::memcpy(&f, &u, 4); return f; }
inline unsigned __float_as_uint(float f) { unsigned u; std::memcpy(&u, &f, 4); return u; }
inline int __popc(unsigned v) { return __builtin_popcount(v); }
inline int __clz(unsigned v) { return v ? __builtin_clz(v) : 32; }
inline unsigned __umulhi(unsigned a, unsigned b) { return (unsigned)(((unsigned long long)a * b) >> 32); }

// ---- the PTX that kernels write by hand (each helper's KILN_CUDA_EMU branch calls these) --------------------------
namespace kiln_emu::ptx {

// cp.async of `size` bytes of which the first src_bytes are read and the rest zeroed, in flight until the
// cp_async_wait that covers its group: the destination holds garbage (NaN) until then, and src is read at that wait.
// cp_async_commit closes the open group (cp.async.commit_group); cp_async_wait(pending) lands every committed group
// but the `pending` most recent (cp.async.wait_group pending). Every helper that writes cp.async in PTX calls these
// under KILN_CUDA_EMU, so the emulator shows a read of a tile before its wait as the GPU may.
void cp_async(void* dst, const void* src, int size, int src_bytes);
void cp_async_commit();
void cp_async_wait(int pending);

inline unsigned ld_acquire(const unsigned* p) { return __atomic_load_n(p, __ATOMIC_ACQUIRE); }

// ldmatrix.sync.aligned.m8n8.x4[.trans].shared.b16: lanes 8i..8i+7 give the row addresses of 8 x 8 matrix i; lane l
// receives in r[i] row l / 4, columns 2 (l % 4) and 2 (l % 4) + 1 of matrix i (of its transpose with trans).
void ldmatrix_x4(uint32_t (&r)[4], const void* row, bool trans);

// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32, d += a b, in PTX's fragment layouts (g = lane / 4,
// c = lane % 4): a[0] (g, 2c..2c+1), a[1] (g+8, 2c..), a[2] (g, 2c+8..), a[3] (g+8, 2c+8..); b0 (k = 2c..2c+1, n =
// g), b1 (k = 2c+8.., n = g); d[0..1] (g, 2c..2c+1), d[2..3] (g+8, 2c..2c+1). Products are exact in fp32; each
// output sums its 16 products in double and adds c once, one rounding, which the hardware's order approaches.
void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1);

// cvt.rn.bf16x2.f32: hi and lo rounded to bf16, nearest even, lo in the low half.
uint32_t cvt_bf16x2(float hi, float lo);

}  // namespace kiln_emu::ptx
