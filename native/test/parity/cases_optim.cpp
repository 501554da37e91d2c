// Parity cases for the optimizer steps: SGD (plain, momentum, Nesterov, weight decay), Adam/AdamW and its capturable
// form (device-side step counter), each run for three steps so the state buffers carry over. Tolerance 0: the update rules use only IEEE-exact kiln_f* ops
// (kernels/common/optim_math.h), so both backends must produce the same bits.
#include <cmath>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

std::vector<OpCase> optim_cases() {
    std::vector<OpCase> cases;
    struct Sgd {
        const char* name;
        float momentum, wd;
        int nesterov;
    };
    const Sgd sgds[] = {{"plain", 0.0f, 0.0f, 0}, {"plain wd", 0.0f, 1e-2f, 0}, {"momentum", 0.9f, 0.0f, 0},
                        {"momentum wd", 0.9f, 5e-4f, 0}, {"nesterov", 0.9f, 0.0f, 1}, {"nesterov wd", 0.8f, 1e-2f, 1}};
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(257), size_t(100003)}) {
        const std::string shape = "n=" + std::to_string(n);
        const std::vector<float> param = host_uniform(n, 41), grad = host_uniform(n, 42), state = host_uniform(n, 43);
        const std::vector<float> v2 = host_uniform(n, 44, 0.0f, 0.1f);
        for (const Sgd& s : sgds) {
            const bool has_v = s.momentum != 0.0f;
            std::vector<Arg> args = {inout_f32(param), in_f32(grad)};
            if (has_v) args.push_back(inout_f32(state));
            cases.push_back({"sgd_step", shape + " " + s.name + " x3", 0.0, args,
                             [n, s, has_v](kiln_context* ctx, const std::vector<void*>& p) {
                                 for (int step = 0; step < 3; ++step) {
                                     const kiln_status st = kiln_sgd_step_f32(
                                         ctx, (float*)p[0], (const float*)p[1], has_v ? (float*)p[2] : nullptr,
                                         (int64_t)n, 0.05f, s.momentum, s.wd, s.nesterov);
                                     if (st != KILN_OK) return st;
                                 }
                                 return KILN_OK;
                             }});
        }
        for (int decoupled : {0, 1}) {
            for (float wd : {0.0f, 1e-2f}) {
                const std::string name = std::string(decoupled ? "adamw" : "adam") + (wd != 0.0f ? " wd" : "");
                cases.push_back({"adam_step", shape + " " + name + " x3", 0.0,
                                 {inout_f32(param), in_f32(grad), inout_f32(state), inout_f32(v2)},
                                 [n, decoupled, wd](kiln_context* ctx, const std::vector<void*>& p) {
                                     const float b1 = 0.9f, b2 = 0.999f;
                                     for (int step = 1; step <= 3; ++step) {
                                         const float bc1 = 1.0f - std::pow(b1, (float)step);
                                         const float bc2 = 1.0f - std::pow(b2, (float)step);
                                         const kiln_status st = kiln_adam_step_f32(
                                             ctx, (float*)p[0], (const float*)p[1], (float*)p[2], (float*)p[3],
                                             (int64_t)n, 1e-3f, b1, b2, 1e-8f, wd, decoupled, bc1, bc2);
                                         if (st != KILN_OK) return st;
                                     }
                                     return KILN_OK;
                                 }});
                // The capturable form: the counter and corrections advance on the device before each step.
                cases.push_back({"adam_step_capturable", shape + " " + name + " x3", 0.0,
                                 {inout_f32(param), in_f32(grad), inout_f32(state), inout_f32(v2), in_i32({0}),
                                  out_f32(2)},
                                 [n, decoupled, wd](kiln_context* ctx, const std::vector<void*>& p) {
                                     for (int step = 1; step <= 3; ++step) {
                                         kiln_status st = kiln_adam_advance_step(ctx, (int32_t*)p[4], (float*)p[5],
                                                                                 0.9f, 0.999f);
                                         if (st == KILN_OK)
                                             st = kiln_adam_step_capturable_f32(
                                                 ctx, (float*)p[0], (const float*)p[1], (float*)p[2], (float*)p[3],
                                                 (int64_t)n, 1e-3f, 0.9f, 0.999f, 1e-8f, wd, decoupled,
                                                 (const float*)p[5]);
                                         if (st != KILN_OK) return st;
                                     }
                                     return KILN_OK;
                                 }});
            }
        }
    }
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("optim", optim_cases);
}  // namespace kiln::parity
