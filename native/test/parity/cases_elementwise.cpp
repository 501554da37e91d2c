// Parity cases for the elementwise family: binary ops (no broadcast, either operand broadcast, scalar, both),
// their gradients (both, da only, db only), every activation forward and backward, scale and axpy (each also on views
// one float into their buffers, which the GPU's float4 chunks cannot take), and the fused bias + GELU.
// Tolerances: 0 where the math is IEEE-exact kiln_f* ops on both backends (kernels/common/activations.h);
// 1e-10 for tanh/sigmoid/gelu (platform expf/tanhf/erfcf differ by ulps); 1e-9 for broadcast gradients, which
// are column sums (double on the CPU, fp32 trees on the GPU).
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

const char* const kOps[] = {"add", "sub", "mul", "div"};
const char* const kActs[] = {"relu", "leaky_relu", "tanh", "sigmoid", "gelu"};

// Operand layouts of y (outer, inner): which of a, b is broadcast (stride 0, shape (inner)).
struct Layout {
    int64_t outer, inner;
    bool ba, bb;
};

std::string layout_name(const Layout& l) {
    std::string s = "(" + std::to_string(l.outer) + "," + std::to_string(l.inner) + ")";
    if (l.ba && l.bb) return s + " a,b bcast";
    if (l.ba) return s + " a bcast";
    if (l.bb) return s + " b bcast";
    return s;
}

std::vector<Layout> layouts() {
    std::vector<Layout> all;
    for (int64_t n : {1, 7, 33, 257, 100003}) all.push_back({1, n, false, false});  // same shapes, flat
    all.push_back({33, 257, false, false});
    // (outer large, inner small), (outer small, inner large), square-ish, scalar (inner 1), odd, one row, mid
    // Rows of whole float4 chunks (inner % 4 == 0) take the GPU's float4 broadcast path: {4099, 36}, {3, 1028}.
    const std::vector<std::pair<int64_t, int64_t>> shapes = {{100003, 3}, {3, 100003}, {257, 257}, {100003, 1},
                                                             {7, 33},     {1, 7},      {4099, 33}, {4099, 36},
                                                             {3, 1028}};
    for (bool a_side : {false, true})
        for (const auto& [o, i] : shapes) all.push_back({o, i, a_side, !a_side});
    all.push_back({33, 7, true, true});
    all.push_back({33, 8, true, true});
    all.push_back({5, 1, true, true});
    return all;
}

// b stays away from 0 so div and its gradients are well conditioned: |b| in [0.5, 2].
std::vector<float> divisor_like(size_t n, uint32_t seed) {
    std::vector<float> v = host_uniform(n, seed, 0.5f, 2.0f);
    for (size_t i = 0; i < n; i += 3) v[i] = -v[i];
    return v;
}

void add_binary_cases(std::vector<OpCase>& cases) {
    for (const Layout& l : layouts()) {
        const size_t n = (size_t)(l.outer * l.inner);
        const size_t na = l.ba ? (size_t)l.inner : n, nb = l.bb ? (size_t)l.inner : n;
        const int64_t sa = l.ba ? 0 : l.inner, sb = l.bb ? 0 : l.inner;
        const std::vector<float> a = host_uniform(na, 11, -3.0f, 3.0f), b = divisor_like(nb, 12);
        const std::vector<float> dy = host_uniform(n, 13);
        const int64_t outer = l.outer, inner = l.inner;
        for (int op = 0; op < 4; ++op) {
            const std::string shape = layout_name(l);
            cases.push_back({std::string(kOps[op]), shape, 0.0, {in_f32(a), in_f32(b), out_f32(n)},
                             [=](kiln_context* ctx, const std::vector<void*>& p) {
                                 return kiln_binary_f32(ctx, (kiln_binary_op)op, (const float*)p[0], sa,
                                                        (const float*)p[1], sb, (float*)p[2], outer, inner);
                             }});
            // Summed (broadcast) gradients get the reduction tolerance; full ones are elementwise and exact.
            const double tol_a = l.ba && l.outer != 1 ? 1e-9 : 0.0, tol_b = l.bb && l.outer != 1 ? 1e-9 : 0.0;
            const std::string bwd = std::string(kOps[op]) + "_backward";
            cases.push_back({bwd, shape + " da,db", std::max(tol_a, tol_b),
                             {in_f32(a), in_f32(b), in_f32(dy), out_f32(na), out_f32(nb)},
                             [=](kiln_context* ctx, const std::vector<void*>& p) {
                                 return kiln_binary_backward_f32(ctx, (kiln_binary_op)op, (const float*)p[0], sa,
                                                                 (const float*)p[1], sb, (const float*)p[2],
                                                                 (float*)p[3], (float*)p[4], outer, inner);
                             }});
            if (n > 100000 || (l.ba && l.bb)) continue;  // one-sided variants on the smaller shapes are enough
            cases.push_back({bwd, shape + " da only", tol_a, {in_f32(a), in_f32(b), in_f32(dy), out_f32(na)},
                             [=](kiln_context* ctx, const std::vector<void*>& p) {
                                 return kiln_binary_backward_f32(ctx, (kiln_binary_op)op, (const float*)p[0], sa,
                                                                 (const float*)p[1], sb, (const float*)p[2],
                                                                 (float*)p[3], nullptr, outer, inner);
                             }});
            cases.push_back({bwd, shape + " db only", tol_b, {in_f32(a), in_f32(b), in_f32(dy), out_f32(nb)},
                             [=](kiln_context* ctx, const std::vector<void*>& p) {
                                 return kiln_binary_backward_f32(ctx, (kiln_binary_op)op, (const float*)p[0], sa,
                                                                 (const float*)p[1], sb, (const float*)p[2], nullptr,
                                                                 (float*)p[3], outer, inner);
                             }});
        }
    }
    // Broadcast gradients over zero rows are zeros, not left untouched.
    cases.push_back({"mul_backward", "(0,5) a,b bcast", 0.0, {in_f32(host_uniform(5, 1)), in_f32(host_uniform(5, 2)),
                                                             out_f32(5), out_f32(5)},
                     [](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_binary_backward_f32(ctx, KILN_MUL, (const float*)p[0], 0, (const float*)p[1], 0,
                                                         nullptr, (float*)p[2], (float*)p[3], 0, 5);
                     }});
}

// Host forward for the backward cases' y inputs (tanh and sigmoid differentiate from y).
float host_activation(int act, float x, float alpha) {
    switch (act) {
        case KILN_RELU: return x < 0 ? 0.0f : x;
        case KILN_LEAKY_RELU: return x < 0 ? alpha * x : x;
        case KILN_TANH: return std::tanh(x);
        case KILN_SIGMOID: return (float)(1.0 / (1.0 + std::exp(-(double)x)));
        default: return (float)(0.5 * x * std::erfc(-x / std::sqrt(2.0)));
    }
}

void add_activation_cases(std::vector<OpCase>& cases) {
    const float alpha = 0.01f;
    std::vector<std::pair<std::string, std::vector<float>>> inputs;
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(257), size_t(100003)})
        inputs.push_back({"n=" + std::to_string(n), host_uniform(n, 21, -6.0f, 6.0f)});
    inputs.push_back({"edges", {-1e30f, -100.0f, -30.0f, -10.0f, -1e-30f, -0.0f, 0.0f, 1e-30f, 10.0f, 30.0f, 100.0f,
                                1e30f}});
    for (int act = 0; act < 5; ++act) {
        const bool exact = act == KILN_RELU || act == KILN_LEAKY_RELU;
        const double tol = exact ? 0.0 : 1e-10;
        for (const auto& [shape, x] : inputs) {
            const size_t n = x.size();
            std::vector<float> y(n);
            for (size_t i = 0; i < n; ++i) y[i] = host_activation(act, x[i], alpha);
            const std::vector<float> dy = host_uniform(n, 22);
            cases.push_back({kActs[act], shape, tol, {in_f32(x), out_f32(n)},
                             [=](kiln_context* ctx, const std::vector<void*>& p) {
                                 return kiln_activation_f32(ctx, (kiln_activation)act, (const float*)p[0], (float*)p[1],
                                                            (int64_t)n, alpha);
                             }});
            cases.push_back({std::string(kActs[act]) + "_backward", shape, tol,
                             {in_f32(x), in_f32(y), in_f32(dy), out_f32(n)},
                             [=](kiln_context* ctx, const std::vector<void*>& p) {
                                 return kiln_activation_backward_f32(ctx, (kiln_activation)act, (const float*)p[0],
                                                                     (const float*)p[1], (const float*)p[2],
                                                                     (float*)p[3], (int64_t)n, alpha);
                             }});
        }
        // In place (y aliases x), as kiln.h allows.
        const std::vector<float> x = host_uniform(4099, 23, -6.0f, 6.0f);
        cases.push_back({kActs[act], "n=4099 in-place", tol, {inout_f32(x)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_activation_f32(ctx, (kiln_activation)act, (const float*)p[0], (float*)p[0],
                                                        4099, alpha);
                         }});
        // Views one float into their buffers: misaligned for float4, so the GPU takes its chunks' scalar path.
        const std::vector<float> xo = host_uniform(4100, 24, -6.0f, 6.0f), dyo = host_uniform(4100, 25);
        std::vector<float> yo(4100);
        for (size_t i = 0; i < yo.size(); ++i) yo[i] = host_activation(act, xo[i], alpha);
        cases.push_back({kActs[act], "n=4099 at +1", tol, {in_f32(xo), out_f32(4100)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_activation_f32(ctx, (kiln_activation)act, (const float*)p[0] + 1,
                                                        (float*)p[1] + 1, 4099, alpha);
                         }});
        cases.push_back({std::string(kActs[act]) + "_backward", "n=4099 at +1", tol,
                         {in_f32(xo), in_f32(yo), in_f32(dyo), out_f32(4100)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_activation_backward_f32(ctx, (kiln_activation)act, (const float*)p[0] + 1,
                                                                 (const float*)p[1] + 1, (const float*)p[2] + 1,
                                                                 (float*)p[3] + 1, 4099, alpha);
                         }});
    }
}

void add_linear_cases(std::vector<OpCase>& cases) {
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(257), size_t(100003)}) {
        const std::string shape = "n=" + std::to_string(n);
        const std::vector<float> x = host_uniform(n, 31), y = host_uniform(n, 32);
        cases.push_back({"scale", shape, 0.0, {in_f32(x), out_f32(n)},
                         [n](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_scale_f32(ctx, (const float*)p[0], (float*)p[1], (int64_t)n, -1.75f);
                         }});
        cases.push_back({"axpy", shape, 0.0, {in_f32(x), inout_f32(y)},
                         [n](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_axpy_f32(ctx, (int64_t)n, 0.3f, (const float*)p[0], (float*)p[1]);
                         }});
    }
    // Views one float into their buffers (misaligned for float4: the GPU's scalar path).
    cases.push_back({"scale", "n=4099 at +1", 0.0, {in_f32(host_uniform(4100, 34)), out_f32(4100)},
                     [](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_scale_f32(ctx, (const float*)p[0] + 1, (float*)p[1] + 1, 4099, -1.75f);
                     }});
    cases.push_back({"axpy", "n=4099 at +1", 0.0, {in_f32(host_uniform(4100, 35)), inout_f32(host_uniform(4100, 36))},
                     [](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_axpy_f32(ctx, 4099, 0.3f, (const float*)p[0] + 1, (float*)p[1] + 1);
                     }});
    cases.push_back({"scale", "n=257 in-place", 0.0, {inout_f32(host_uniform(257, 33))},
                     [](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_scale_f32(ctx, (const float*)p[0], (float*)p[0], 257, 3.0f);
                     }});
}

// Fused bias + GELU: forward (one column, odd widths, a tall matrix, one long row, in place) and backward: dx with
// dbias (dbias sums dx on the GPU), dbias alone (the column sum evaluates gelu' itself), dx alone, no rows. Element
// values carry the erfcf/expf tolerance; dbias the column-sum one.
void add_bias_gelu_cases(std::vector<OpCase>& cases) {
    // {257, 36} and {3, 1028}: rows of whole float4 chunks, the GPU's float4 path.
    const std::vector<std::pair<int64_t, int64_t>> shapes = {{1, 1},      {3, 7},    {257, 33}, {4099, 33},
                                                             {3, 100003}, {257, 36}, {3, 1028}};
    for (const auto& shape_rc : shapes) {
        const int64_t rows = shape_rc.first, cols = shape_rc.second;  // not a structured binding: lambdas capture these
        const size_t n = (size_t)(rows * cols);
        const std::string shape = "(" + std::to_string(rows) + "," + std::to_string(cols) + ")";
        const std::vector<float> x = host_uniform(n, 41, -5.0f, 5.0f), bias = host_uniform((size_t)cols, 42);
        const std::vector<float> dy = host_uniform(n, 43);
        cases.push_back({"bias_gelu", shape, 1e-10, {in_f32(x), in_f32(bias), out_f32(n)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_bias_gelu_f32(ctx, (const float*)p[0], (const float*)p[1], (float*)p[2], rows,
                                                       cols);
                         }});
        cases.push_back({"bias_gelu_backward", shape + " dx,dbias", 1e-9,
                         {in_f32(x), in_f32(bias), in_f32(dy), out_f32(n), out_f32((size_t)cols)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_bias_gelu_backward_f32(ctx, (const float*)p[0], (const float*)p[1],
                                                                (const float*)p[2], (float*)p[3], (float*)p[4], rows,
                                                                cols);
                         }});
        cases.push_back({"bias_gelu_backward", shape + " dbias only", 1e-9,
                         {in_f32(x), in_f32(bias), in_f32(dy), out_f32((size_t)cols)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_bias_gelu_backward_f32(ctx, (const float*)p[0], (const float*)p[1],
                                                                (const float*)p[2], nullptr, (float*)p[3], rows, cols);
                         }});
        cases.push_back({"bias_gelu_backward", shape + " dx only", 1e-10,
                         {in_f32(x), in_f32(bias), in_f32(dy), out_f32(n)},
                         [=](kiln_context* ctx, const std::vector<void*>& p) {
                             return kiln_bias_gelu_backward_f32(ctx, (const float*)p[0], (const float*)p[1],
                                                                (const float*)p[2], (float*)p[3], nullptr, rows, cols);
                         }});
    }
    cases.push_back({"bias_gelu", "(33,129) in-place", 1e-10,
                     {inout_f32(host_uniform(33 * 129, 44, -5.0f, 5.0f)), in_f32(host_uniform(129, 45))},
                     [](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_bias_gelu_f32(ctx, (const float*)p[0], (const float*)p[1], (float*)p[0], 33, 129);
                     }});
    cases.push_back({"bias_gelu_backward", "(0,6) dbias zeros", 0.0, {out_f32(6)},
                     [](kiln_context* ctx, const std::vector<void*>& p) {
                         return kiln_bias_gelu_backward_f32(ctx, nullptr, nullptr, nullptr, nullptr, (float*)p[0], 0,
                                                            6);
                     }});
}

std::vector<OpCase> elementwise_cases() {
    std::vector<OpCase> cases;
    add_binary_cases(cases);
    add_activation_cases(cases);
    add_linear_cases(cases);
    add_bias_gelu_cases(cases);
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("elementwise", elementwise_cases);
}  // namespace kiln::parity
