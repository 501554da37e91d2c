// Benchmark of the CPU elementwise family at the character Transformer's shapes: the fused bias + GELU forward and
// backward at (4096, 512), the GELU activation at the same size, and the residual add (forward and backward) at
// (4096, 128). Reports ns/element and GB/s of the bytes each op must move, against the copy bandwidth (memcpy) measured
// in the same run. Each op is first checked against its formula in double; then the median of several runs after
// warm-up. Usage: elementwise_cpu_bench [runs]. Threads: KILN_NUM_THREADS. Prints one
// `RESULT elementwise <op> <n> <ms> <ns/elem> <GB/s> <fraction of copy>` line per case.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_reference.h"
#include "bench_shapes.h"
#include "bench_timing.h"
#include "kiln/kiln.h"

namespace {

using kiln::bench::load_average;
using kiln::bench::median_ms;

using kiln::bench::check;
using kiln::bench::close_to;
using kiln::bench::Doubles;
using Floats = std::vector<float>;

double gelu(double x) { return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0))); }
double gelu_slope(double x) {
    return 0.5 * (1.0 + std::erf(x / std::sqrt(2.0))) + x * std::exp(-0.5 * x * x) / std::sqrt(2.0 * M_PI);
}

// Each op once against its formula in double (bias + GELU and its gradients, add and mul backward) before anything is
// timed: a figure is never the speed of a wrong answer.
bool outputs_match_formulas(kiln_context* ctx, int64_t rows, int64_t cols, const Floats& x, const Floats& bias,
                            const Floats& dy, const Floats& ra, const Floats& rb, const Floats& rdy, int64_t inner) {
    const int64_t n = rows * cols, rn = (int64_t)ra.size();
    Floats y(n), dx(n), dbias(cols), da(rn), db(rn);
    Doubles want_y(n), want_dx(n), want_dbias(cols, 0.0), want_g(n), want_gd(n), want_da(rn), want_db(rn);
    for (int64_t i = 0; i < n; ++i) {
        const double v = (double)x[i] + bias[i % cols];
        want_y[i] = gelu(v), want_dx[i] = dy[i] * gelu_slope(v), want_dbias[i % cols] += want_dx[i];
        want_g[i] = gelu(x[i]), want_gd[i] = dy[i] * gelu_slope(x[i]);
    }
    const double tol = 1e-5;
    check(kiln_bias_gelu_f32(ctx, x.data(), bias.data(), y.data(), rows, cols), "bias_gelu");
    check(kiln_bias_gelu_backward_f32(ctx, x.data(), bias.data(), dy.data(), dx.data(), dbias.data(), rows, cols),
          "bias_gelu_backward");
    bool ok = close_to("bias_gelu", y.data(), want_y, tol) && close_to("bias_gelu dx", dx.data(), want_dx, tol) &&
              close_to("bias_gelu dbias", dbias.data(), want_dbias, tol);
    check(kiln_activation_f32(ctx, KILN_GELU, x.data(), y.data(), n, 0.0f), "gelu");
    check(kiln_activation_backward_f32(ctx, KILN_GELU, x.data(), nullptr, dy.data(), dx.data(), n, 0.0f), "gelu_backward");
    ok = ok && close_to("gelu", y.data(), want_g, tol) && close_to("gelu dx", dx.data(), want_gd, tol);
    check(kiln_binary_f32(ctx, KILN_ADD, ra.data(), inner, rb.data(), inner, y.data(), rn / inner, inner), "add");
    for (int64_t i = 0; i < rn; ++i) want_da[i] = (double)ra[i] + rb[i];
    ok = ok && close_to("add", y.data(), want_da, tol);
    check(kiln_binary_backward_f32(ctx, KILN_ADD, nullptr, inner, nullptr, inner, rdy.data(), da.data(), db.data(),
                                   rn / inner, inner),
          "add_backward");
    ok = ok && close_to("add da", da.data(), Doubles(rdy.begin(), rdy.end()), tol) &&
         close_to("add db", db.data(), Doubles(rdy.begin(), rdy.end()), tol);
    check(kiln_binary_backward_f32(ctx, KILN_MUL, ra.data(), inner, rb.data(), inner, rdy.data(), da.data(), db.data(),
                                   rn / inner, inner),
          "mul_backward");
    for (int64_t i = 0; i < rn; ++i) want_da[i] = (double)rdy[i] * rb[i], want_db[i] = (double)rdy[i] * ra[i];
    return ok && close_to("mul da", da.data(), want_da, tol) && close_to("mul db", db.data(), want_db, tol);
}

}  // namespace

int main(int argc, char** argv) {
    const int runs = argc > 1 ? std::atoi(argv[1]) : 21;
    kiln_context* ctx = nullptr;
    check(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx), "context");
    std::printf("elementwise kernels on the CPU, median of %d runs, load average %.2f\n", runs, load_average());
    std::printf("| op | shape | ms | ns/elem | GB/s | of copy |\n|---|---|---|---|---|---|\n");

    const int64_t rows = 4096, cols = 512, n = rows * cols;
    const std::vector<float> x = kiln::bench::uniform((size_t)n, 1, -4, 4), bias = kiln::bench::uniform((size_t)cols, 2);
    const std::vector<float> dy = kiln::bench::uniform((size_t)n, 3);
    std::vector<float> y((size_t)n), dx((size_t)n), dbias((size_t)cols);
    const double copy_ms = median_ms(runs, [&] { std::memcpy(y.data(), x.data(), (size_t)n * 4); });
    const double copy_gbs = 2.0 * 4.0 * (double)n / copy_ms / 1e6;

    const int64_t rn = 4096 * 128;
    const std::vector<float> ra = kiln::bench::uniform((size_t)rn, 4), rb = kiln::bench::uniform((size_t)rn, 5);
    const std::vector<float> rdy = kiln::bench::uniform((size_t)rn, 6);
    std::vector<float> ry((size_t)rn), rda((size_t)rn), rdb((size_t)rn);
    if (!outputs_match_formulas(ctx, rows, cols, x, bias, dy, ra, rb, rdy, 128)) {
        std::fprintf(stderr, "a result is wrong; nothing timed\n");
        return 1;
    }

    struct Op {
        const char* name;
        const char* shape;
        int64_t elems;
        double streams;  // arrays of elems floats read or written
        double ms;
    } ops[] = {
        {"copy (memcpy)", "4096x512", n, 2, copy_ms},
        {"bias_gelu", "4096x512", n, 2, median_ms(runs, [&] {
             check(kiln_bias_gelu_f32(ctx, x.data(), bias.data(), y.data(), rows, cols), "bias_gelu");
         })},
        {"bias_gelu_backward", "4096x512", n, 3, median_ms(runs, [&] {
             check(kiln_bias_gelu_backward_f32(ctx, x.data(), bias.data(), dy.data(), dx.data(), dbias.data(), rows, cols),
                   "bias_gelu_backward");
         })},
        {"gelu", "4096x512", n, 2, median_ms(runs, [&] {
             check(kiln_activation_f32(ctx, KILN_GELU, x.data(), y.data(), n, 0.0f), "gelu");
         })},
        {"gelu_backward", "4096x512", n, 3, median_ms(runs, [&] {
             check(kiln_activation_backward_f32(ctx, KILN_GELU, x.data(), nullptr, dy.data(), dx.data(), n, 0.0f),
                   "gelu_backward");
         })},
        {"add", "4096x128", rn, 3, median_ms(runs, [&] {
             check(kiln_binary_f32(ctx, KILN_ADD, ra.data(), 128, rb.data(), 128, ry.data(), 4096, 128), "add");
         })},
        {"add_backward", "4096x128", rn, 3, median_ms(runs, [&] {
             check(kiln_binary_backward_f32(ctx, KILN_ADD, nullptr, 128, nullptr, 128, rdy.data(), rda.data(), rdb.data(),
                                            4096, 128),
                   "add_backward");
         })},
        {"mul_backward", "4096x128", rn, 5, median_ms(runs, [&] {
             check(kiln_binary_backward_f32(ctx, KILN_MUL, ra.data(), 128, rb.data(), 128, rdy.data(), rda.data(),
                                            rdb.data(), 4096, 128),
                   "mul_backward");
         })},
    };
    for (const Op& op : ops) {
        const double gbs = op.streams * 4.0 * (double)op.elems / op.ms / 1e6;
        const double ns = op.ms * 1e6 / (double)op.elems;
        std::printf("| %s | %s | %.3f | %.3f | %.1f | %.2f |\n", op.name, op.shape, op.ms, ns, gbs, gbs / copy_gbs);
        std::printf("RESULT elementwise %s %lld %.4f %.4f %.2f %.3f\n", op.name, (long long)op.elems, op.ms, ns, gbs,
                    gbs / copy_gbs);
    }
    std::printf("load average after: %.2f\n", load_average());
    kiln_context_destroy(ctx);
    return 0;
}
