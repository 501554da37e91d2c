// Kiln's CUDA emulator (native/emu): the warp-level PTX instructions that kernels write by hand (ldmatrix, the bf16
// mma, cvt.rn.bf16x2), emulated from the PTX ISA's fragment layouts. Each lane puts its operands in the warp's
// exchange slots, the warp meets (a warp collective, which the race check orders), and each lane reads what the
// instruction would give it. cp.async, which needs the thread's own state, is in simt.cpp.
#include <cstring>

#include "emu.h"
#include "kiln_emu/device.h"

namespace kiln_emu::ptx {

namespace {
float bf16_lo(uint32_t r) { return __uint_as_float(r << 16); }
float bf16_hi(uint32_t r) { return __uint_as_float(r & 0xffff0000u); }
float bf16_half(uint32_t r, unsigned which) { return which ? bf16_hi(r) : bf16_lo(r); }
}  // namespace

void ldmatrix_x4(uint32_t (&r)[4], const void* row, bool trans) {
    const unsigned lane = self().linear % 32;
    unsigned char* slots = warp_slots();
    std::memcpy(slots + lane * kSlotBytes, &row, sizeof row);
    sync_warp(0xffffffffu);
    auto row_of = [&](unsigned l) {
        const void* p;
        std::memcpy(&p, slots + l * kSlotBytes, sizeof p);
        return static_cast<const uint16_t*>(p);
    };
    const unsigned g = lane / 4, c = lane % 4;
    for (unsigned i = 0; i < 4; ++i) {
        uint16_t lo, hi;
        if (!trans) {
            const uint16_t* p = row_of(8 * i + g);
            lo = p[2 * c];
            hi = p[2 * c + 1];
        } else {  // element (g, 2c + j) of the transpose is row 2c + j, column g of the matrix
            lo = row_of(8 * i + 2 * c)[g];
            hi = row_of(8 * i + 2 * c + 1)[g];
        }
        r[i] = (uint32_t)lo | ((uint32_t)hi << 16);
    }
    sync_warp(0xffffffffu, true);
}

void mma_m16n8k16_bf16(float (&d)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
    struct Frag {
        uint32_t a[4], b0, b1;
    };
    const unsigned lane = self().linear % 32;
    unsigned char* slots = warp_slots();
    const Frag mine{{a[0], a[1], a[2], a[3]}, b0, b1};
    std::memcpy(slots + lane * kSlotBytes, &mine, sizeof mine);
    sync_warp(0xffffffffu);
    auto frag = [&](unsigned l) {
        Frag f;
        std::memcpy(&f, slots + l * kSlotBytes, sizeof f);
        return f;
    };
    auto A = [&](unsigned row, unsigned k) {  // a[(row >= 8) + 2 (k >= 8)] of lane (row % 8) * 4 + (k % 8) / 2
        return bf16_half(frag((row % 8) * 4 + (k % 8) / 2).a[(row >= 8) + 2 * (k >= 8)], k % 2);
    };
    auto B = [&](unsigned k, unsigned n) {  // b0 (k < 8) or b1 of lane n * 4 + (k % 8) / 2
        const Frag f = frag(n * 4 + (k % 8) / 2);
        return bf16_half(k < 8 ? f.b0 : f.b1, k % 2);
    };
    const unsigned g = lane / 4, c = lane % 4;
    float out[4];
    for (unsigned e = 0; e < 4; ++e) {
        const unsigned row = g + 8 * (e / 2), col = 2 * c + e % 2;
        double sum = 0.0;
        for (unsigned k = 0; k < 16; ++k) sum += (double)A(row, k) * (double)B(k, col);
        out[e] = (float)(sum + (double)d[e]);
    }
    sync_warp(0xffffffffu, true);
    for (unsigned e = 0; e < 4; ++e) d[e] = out[e];
}

uint32_t cvt_bf16x2(float hi, float lo) {
    auto rn = [](float f) -> uint32_t {
        const uint32_t u = __float_as_uint(f);
        if ((u & 0x7fffffffu) > 0x7f800000u) return 0x7fffu;  // the canonical NaN
        return (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    };
    return rn(lo) | (rn(hi) << 16);
}

}  // namespace kiln_emu::ptx
