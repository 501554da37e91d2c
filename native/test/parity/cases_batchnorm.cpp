// Parity cases for batch norm: training forward (y, saved mean/invstd, running-stat update), evaluation, the
// backward (dx, dgamma, dbeta, and dx alone) and the evaluation backward (all three, dx alone, dgamma/dbeta alone, an
// empty batch), with and without gamma/beta and running stats, for one value per channel, a BatchNorm1d-like
// hw == 1, a small odd shape, and a training-sized CNN activation. Evaluation and the evaluation backward's dx alone
// are bit-identical by construction (same per-element formula); channel sums are fp32 blocks on the GPU and double
// on the CPU, hence the small tolerances.
#include <cmath>
#include <string>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

struct Shape {
    int64_t n, c, hw;
};

std::string shape_of(Shape s) {
    return "(" + std::to_string(s.n) + "," + std::to_string(s.c) + "," + std::to_string(s.hw) + ")";
}

// x with a per-channel offset and scale, so channels differ and a mean well away from 0 is exercised.
std::vector<float> activations(Shape s, uint32_t seed) {
    std::vector<float> x = host_uniform((size_t)(s.n * s.c * s.hw), seed);
    for (int64_t i = 0; i < s.n; ++i)
        for (int64_t ch = 0; ch < s.c; ++ch)
            for (int64_t j = 0; j < s.hw; ++j) {
                float& v = x[(size_t)((i * s.c + ch) * s.hw + j)];
                v = v * (0.5f + 0.1f * (float)(ch % 7)) + 0.5f * (float)(ch % 5);
            }
    return x;
}

// Host batch statistics (double) for the backward's saved mean and invstd.
void host_stats(Shape s, const std::vector<float>& x, float eps, std::vector<float>* mean, std::vector<float>* invstd) {
    mean->assign((size_t)s.c, 0.0f);
    invstd->assign((size_t)s.c, 0.0f);
    const double m = (double)(s.n * s.hw);
    for (int64_t ch = 0; ch < s.c; ++ch) {
        double sum = 0, sq = 0;
        for (int64_t i = 0; i < s.n; ++i)
            for (int64_t j = 0; j < s.hw; ++j) sum += x[(size_t)((i * s.c + ch) * s.hw + j)];
        const double mu = sum / m;
        for (int64_t i = 0; i < s.n; ++i)
            for (int64_t j = 0; j < s.hw; ++j) {
                const double d = x[(size_t)((i * s.c + ch) * s.hw + j)] - mu;
                sq += d * d;
            }
        (*mean)[ch] = (float)mu;
        (*invstd)[ch] = (float)(1.0 / std::sqrt(sq / m + eps));
    }
}

// The evaluation backward with the gradients selected by want_dx / want_params (dgamma and dbeta together).
void add_eval_backward_case(std::vector<OpCase>& cases, Shape s, bool affine, bool want_dx, bool want_params,
                            const std::vector<float>& x, const std::vector<float>& dy, const std::vector<float>& rmean,
                            const std::vector<float>& rvar, const std::vector<float>& gamma, float eps) {
    const size_t total = (size_t)(s.n * s.c * s.hw), c = (size_t)s.c;
    std::vector<Arg> args = {in_f32(x), in_f32(dy), in_f32(rmean), in_f32(rvar)};
    if (affine) args.push_back(in_f32(gamma));
    if (want_dx) args.push_back(out_f32(total));
    if (want_params) {
        args.push_back(out_f32(c));
        args.push_back(out_f32(c));
    }
    const std::string which = want_dx && want_params ? "" : want_dx ? " dx only" : " dgamma dbeta only";
    cases.push_back(OpCase{"batch_norm_backward_eval", shape_of(s) + (affine ? " affine" : "") + which,
                           want_params ? 1e-9 : 0.0, args,
                           [s, affine, want_dx, want_params, eps](kiln_context* ctx, const std::vector<void*>& p) {
                               size_t k = 4;
                               const float* g = affine ? (const float*)p[k++] : nullptr;
                               float* dx = want_dx ? (float*)p[k++] : nullptr;
                               float* dg = want_params ? (float*)p[k++] : nullptr;
                               float* db = want_params ? (float*)p[k++] : nullptr;
                               return kiln_batch_norm_backward_eval_f32(ctx, s.n, s.c, s.hw, (const float*)p[0],
                                                                        (const float*)p[1], g, (const float*)p[2],
                                                                        (const float*)p[3], eps, dx, dg, db);
                           }});
}

void add_cases(std::vector<OpCase>& cases, Shape s, bool affine, bool running) {
    const std::string shape = shape_of(s) + (affine ? " affine" : "") + (running ? " running" : "");
    const size_t total = (size_t)(s.n * s.c * s.hw), c = (size_t)s.c;
    const uint32_t seed = (uint32_t)(total * 13 + c);
    const float eps = 1e-5f, momentum = 0.1f;
    const std::vector<float> x = activations(s, seed);
    const std::vector<float> gamma = host_uniform(c, seed + 1, 0.5f, 1.5f), beta = host_uniform(c, seed + 2);
    const std::vector<float> rmean = host_uniform(c, seed + 3), rvar = host_uniform(c, seed + 4, 0.5f, 2.0f);

    // Args in order: x, [gamma, beta], y, save_mean, save_invstd, [running_mean, running_var].
    std::vector<Arg> train_args = {in_f32(x)};
    if (affine) {
        train_args.push_back(in_f32(gamma));
        train_args.push_back(in_f32(beta));
    }
    train_args.push_back(out_f32(total));
    train_args.push_back(out_f32(c));
    train_args.push_back(out_f32(c));
    if (running) {
        train_args.push_back(inout_f32(rmean));
        train_args.push_back(inout_f32(rvar));
    }
    cases.push_back(OpCase{"batch_norm_train", shape, 1e-10, train_args,
                           [s, affine, running, eps, momentum](kiln_context* ctx, const std::vector<void*>& p) {
                               size_t k = 0;
                               const float* xp = (const float*)p[k++];
                               const float* g = affine ? (const float*)p[k++] : nullptr;
                               const float* b = affine ? (const float*)p[k++] : nullptr;
                               float* y = (float*)p[k++];
                               float* mean = (float*)p[k++];
                               float* invstd = (float*)p[k++];
                               float* rm = running ? (float*)p[k++] : nullptr;
                               float* rv = running ? (float*)p[k++] : nullptr;
                               return kiln_batch_norm_train_f32(ctx, s.n, s.c, s.hw, xp, g, b, y, mean, invstd, rm, rv,
                                                                momentum, eps);
                           }});

    // Eval reads the running stats (always given) and optional gamma/beta: args x, rm, rv, [gamma, beta], y. It does
    // not depend on `running`, so it is added once per shape and affine flag.
    if (!running) {
    std::vector<Arg> eval_args = {in_f32(x), in_f32(rmean), in_f32(rvar)};
    if (affine) {
        eval_args.push_back(in_f32(gamma));
        eval_args.push_back(in_f32(beta));
    }
    eval_args.push_back(out_f32(total));
    cases.push_back(OpCase{"batch_norm_eval", shape_of(s) + (affine ? " affine" : ""), 0.0, eval_args,
                           [s, affine, eps](kiln_context* ctx, const std::vector<void*>& p) {
                               const float* g = affine ? (const float*)p[3] : nullptr;
                               const float* b = affine ? (const float*)p[4] : nullptr;
                               return kiln_batch_norm_eval_f32(ctx, s.n, s.c, s.hw, (const float*)p[0], g, b,
                                                               (const float*)p[1], (const float*)p[2], eps,
                                                               (float*)p[affine ? 5 : 3]);
                           }});
    }

    // Backward: args x, dy, save_mean, save_invstd, [gamma], dx, [dgamma, dbeta] (running selects whether the
    // parameter gradients are asked for, so both the full and the dx-only paths are covered).
    std::vector<float> mean, invstd;
    host_stats(s, x, eps, &mean, &invstd);
    std::vector<Arg> bwd_args = {in_f32(x), in_f32(host_uniform(total, seed + 5)), in_f32(mean), in_f32(invstd)};
    if (affine) bwd_args.push_back(in_f32(gamma));
    bwd_args.push_back(out_f32(total));
    const bool params = running;
    if (params) {
        bwd_args.push_back(out_f32(c));
        bwd_args.push_back(out_f32(c));
    }
    cases.push_back(OpCase{"batch_norm_backward", shape_of(s) + (affine ? " affine" : "") + (params ? "" : " dx only"),
                           1e-9, bwd_args, [s, affine, params](kiln_context* ctx, const std::vector<void*>& p) {
                               size_t k = 4;
                               const float* g = affine ? (const float*)p[k++] : nullptr;
                               float* dx = (float*)p[k++];
                               float* dg = params ? (float*)p[k++] : nullptr;
                               float* db = params ? (float*)p[k++] : nullptr;
                               return kiln_batch_norm_backward_f32(ctx, s.n, s.c, s.hw, (const float*)p[0],
                                                                   (const float*)p[1], g, (const float*)p[2],
                                                                   (const float*)p[3], dx, dg, db);
                           }});

    // Evaluation backward: args x, dy, running_mean, running_var, [gamma], then the wanted gradients in the order dx,
    // dgamma, dbeta. `running` picks the variants (it does not enter this op): all three, or each path alone: dx
    // alone is element-wise on the GPU and bit-identical; dgamma/dbeta without dx exercise the channel kernel's
    // skipped store.
    const std::vector<float> dy = host_uniform(total, seed + 6);
    struct Want {
        bool dx, params;
    };
    const std::vector<Want> variants = running ? std::vector<Want>{{true, true}}
                                               : std::vector<Want>{{true, false}, {false, true}};
    for (Want want : variants) add_eval_backward_case(cases, s, affine, want.dx, want.params, x, dy, rmean, rvar,
                                                      gamma, eps);
}

std::vector<OpCase> batchnorm_cases() {
    std::vector<OpCase> cases;
    for (Shape s : {Shape{1, 1, 1}, Shape{4, 7, 13 * 13}, Shape{64, 32, 26 * 26}, Shape{256, 10, 1}, Shape{3, 5, 7}})
        for (int v = 0; v < 4; ++v) add_cases(cases, s, v & 1, v & 2);
    // Evaluating an empty batch is valid, and its backward still assigns dgamma = dbeta = 0 (the training forms refuse
    // it, so it is added here alone).
    const Shape empty{0, 3, 4};
    const std::vector<float> none, rmean = host_uniform(3, 91), rvar = host_uniform(3, 92, 0.5f, 2.0f);
    add_eval_backward_case(cases, empty, true, true, true, none, none, rmean, rvar, host_uniform(3, 93), 1e-5f);
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("batchnorm", batchnorm_cases);
}  // namespace kiln::parity
