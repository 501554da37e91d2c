// Benchmark of the CPU elementwise family at the character Transformer's shapes: the fused bias + GELU forward and
// backward at (4096, 512), the GELU activation at the same size, and the residual add (forward and backward) at
// (4096, 128). Reports ns/element and GB/s of the bytes each op must move, against the copy bandwidth (memcpy) measured
// in the same run. Median of several runs after warm-up. Usage: elementwise_cpu_bench [runs]. Threads:
// KILN_NUM_THREADS. Prints one `RESULT elementwise <op> <n> <ms> <ns/elem> <GB/s> <fraction of copy>` line per case.
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bench_shapes.h"
#include "bench_timing.h"
#include "kiln/kiln.h"

namespace {

using kiln::bench::load_average;
using kiln::bench::median_ms;

using kiln::bench::check;

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
