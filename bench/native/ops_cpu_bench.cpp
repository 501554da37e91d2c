// The op benchmark (ops_cases.h) on the CPU backend: subject and reference are both CPU contexts, so the check is of
// the harness itself (and of the backend's determinism across contexts); the figures are the CPU's, timed with
// std::chrono. The GPU build of the same table is ops_gpu_bench.cu (kiln_bench_ops).
// Usage: kiln_cpu_bench_ops [--family gemm,elementwise,...] [--samples N]
#include "ops_cases.h"

int main(int argc, char** argv) {
    using namespace kiln::bench::ops;
    const Options opt = parse_options(argc, argv);
    Subject s;
    kiln::bench::check(kiln_context_create(KILN_DEVICE_CPU, 0, &s.ctx), "kiln_context_create(cpu)");
    kiln_device_props props{};
    kiln::bench::check(kiln_device_properties(KILN_DEVICE_CPU, 0, &props), "kiln_device_properties");
    s.device = std::string("cpu ") + props.name + " (" + std::to_string(props.multiprocessors) + " threads)";
    s.target_ms = 20;
    s.samples = 5;
    s.ms = [&s](const Run& run, int reps, kiln_status* st) { return cpu_time_ms(s.ctx, run, reps, st); };
    const int rc = run_cases(op_cases(), s, opt);
    kiln_context_destroy(s.ctx);
    return rc;
}
