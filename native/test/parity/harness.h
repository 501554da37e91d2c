// Backend parity harness (after ggml's test-backend-ops): every op registers its cases once; the harness runs each
// case on the CPU backend as the reference and on every CUDA device, compares outputs by normalized MSE against
// the case's tolerance, and checks guard bytes around every output on every backend, the CPU included.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "kiln/kiln.h"

namespace kiln::parity {

enum class Role { In, Out, InOut };
enum class Elem { F32, I32, BF16 };  // BF16: 2-byte elements, compared widened to fp32

struct Arg {
    Role role;
    Elem elem;
    size_t count;                // elements
    std::vector<uint8_t> init;   // host bytes for In / InOut
};

Arg in_f32(const std::vector<float>& values);
Arg inout_f32(const std::vector<float>& values);
Arg in_i32(const std::vector<int32_t>& values);
Arg out_f32(size_t count);
Arg out_i32(size_t count);
// bf16 (kiln_bf16) buffers: inputs given as floats are rounded to nearest even by the harness itself.
Arg in_bf16(const std::vector<float>& values);
Arg out_bf16(size_t count);

struct OpCase {
    std::string op;       // "rand_normal"
    std::string shape;    // "n=1000003"
    double max_nmse;      // 0 demands bit-identical outputs
    std::vector<Arg> args;
    // Runs the op on ctx with device pointers in args order.
    std::function<kiln_status(kiln_context*, const std::vector<void*>&)> run;
};

using CaseFactory = std::vector<OpCase> (*)();

// Registers a family's cases; call through KILN_PARITY_REGISTER at namespace scope.
bool register_family(const char* family, CaseFactory factory);

// Deterministic host data for inputs (a small LCG: the harness must not depend on the code under test).
std::vector<float> host_uniform(size_t n, uint32_t seed, float lo = -1.0f, float hi = 1.0f);

}  // namespace kiln::parity

#define KILN_PARITY_REGISTER(family, factory) \
    static const bool kiln_parity_registered_##factory = kiln::parity::register_family(family, factory)
