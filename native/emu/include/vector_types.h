// Kiln's CUDA emulator (native/emu): the CUDA vector types and dim3, laid out and aligned as the real ones.
#pragma once

#include <cstdint>

struct uint3 {
    unsigned x, y, z;
};
struct dim3 {
    unsigned x, y, z;
    constexpr dim3(unsigned vx = 1, unsigned vy = 1, unsigned vz = 1) : x(vx), y(vy), z(vz) {}
    constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
};

#define KILN_EMU_VEC2(T, name, align) \
    struct alignas(align) name {      \
        T x, y;                       \
    };                                \
    inline name make_##name(T x, T y) { return name{x, y}; }
#define KILN_EMU_VEC4(T, name, align) \
    struct alignas(align) name {      \
        T x, y, z, w;                 \
    };                                \
    inline name make_##name(T x, T y, T z, T w) { return name{x, y, z, w}; }

KILN_EMU_VEC2(float, float2, 8)
KILN_EMU_VEC4(float, float4, 16)
KILN_EMU_VEC2(int, int2, 8)
KILN_EMU_VEC4(int, int4, 16)
KILN_EMU_VEC2(unsigned, uint2, 8)
KILN_EMU_VEC4(unsigned, uint4, 16)
KILN_EMU_VEC2(double, double2, 16)

#undef KILN_EMU_VEC2
#undef KILN_EMU_VEC4
