// The op benchmark (ops_cases.h) on CUDA device 0, checked against the CPU backend before timing; times back-to-back
// calls with CUDA events on the context's stream (a stream of our own, handed to kiln_context_create_on_stream so the
// events and the ops share it). Without a CUDA device it runs the table on the CPU and says so in its header, as
// kiln_cpu_bench_ops does. Usage: kiln_bench_ops [--family gemm,elementwise,...] [--samples N]
#include <cuda_runtime_api.h>

#include "ops_cases.h"

namespace {

void cuda_check(cudaError_t e, const char* what) {
    if (e != cudaSuccess) {
        std::fprintf(stderr, "%s: %s\n", what, cudaGetErrorString(e));
        std::exit(1);
    }
}

}  // namespace

int main(int argc, char** argv) {
    using namespace kiln::bench::ops;
    const Options opt = parse_options(argc, argv);
    int32_t devices = 0;
    const char* reason = "";
    kiln::bench::check(kiln_cuda_device_count(&devices, &reason), "kiln_cuda_device_count");
    Subject s;
    cudaStream_t stream = nullptr;
    cudaEvent_t t0 = nullptr, t1 = nullptr;
    if (devices > 0) {
        cuda_check(cudaSetDevice(0), "cudaSetDevice");
        cuda_check(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking), "cudaStreamCreate");
        cuda_check(cudaEventCreate(&t0), "cudaEventCreate");
        cuda_check(cudaEventCreate(&t1), "cudaEventCreate");
        kiln::bench::check(kiln_context_create_on_stream(0, stream, &s.ctx), "kiln_context_create_on_stream");
        kiln_device_props props{};
        kiln::bench::check(kiln_device_properties(KILN_DEVICE_CUDA, 0, &props), "kiln_device_properties");
        s.device = std::string("cuda:0 ") + props.name + " (sm_" + std::to_string(props.cc_major) +
                   std::to_string(props.cc_minor) + ", " + std::to_string(props.multiprocessors) + " SMs)";
        s.target_ms = 20;
        s.samples = 7;
        s.ms = [&](const Run& run, int reps, kiln_status* st) {
            cuda_check(cudaEventRecord(t0, stream), "cudaEventRecord");
            for (int i = 0; i < reps && *st == KILN_OK; ++i) *st = run(s.ctx);
            cuda_check(cudaEventRecord(t1, stream), "cudaEventRecord");
            cuda_check(cudaEventSynchronize(t1), "cudaEventSynchronize");
            if (*st == KILN_OK) *st = kiln_synchronize(s.ctx);  // reports an asynchronous error of the ops
            float ms = 0;
            cuda_check(cudaEventElapsedTime(&ms, t0, t1), "cudaEventElapsedTime");
            return (double)ms;
        };
    } else {
        kiln::bench::check(kiln_context_create(KILN_DEVICE_CPU, 0, &s.ctx), "kiln_context_create(cpu)");
        s.device = std::string("the CPU: no CUDA device (") + reason + "); timing the CPU backend against itself";
        s.target_ms = 20;
        s.samples = 5;
        s.ms = [&s](const Run& run, int reps, kiln_status* st) { return cpu_time_ms(s.ctx, run, reps, st); };
    }
    const int rc = run_cases(op_cases(), s, opt);
    kiln_context_destroy(s.ctx);
    if (stream) {
        cudaEventDestroy(t0);
        cudaEventDestroy(t1);
        cudaStreamDestroy(stream);
    }
    return rc;
}
