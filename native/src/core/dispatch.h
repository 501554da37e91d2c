// The one place that picks a backend: an op entry validates, then hands its arguments once to kiln::dispatch, which
// calls kiln::cpu::NAME(args...) on a CPU context or kiln::cuda::NAME(stream, args...) on a CUDA one (with device
// scratch from the context's allocator where the launcher takes a kiln::Scratch&) and turns the launch status into
// kiln::Error. In a CPU-only build the CUDA half is never named, so nothing needs the CUDA toolkit.
#pragma once

#include <cstddef>
#include <cstring>
#include <type_traits>

#include "common/cuda_api.h"
#include "common/scratch.h"
#include "core/context.h"
#include "core/gpu.h"
#include "core/profile.h"

namespace kiln {

// The two implementations of one op entry; Cuda is std::nullptr_t in a CPU-only build.
template <class Cpu, class Cuda>
struct Backends {
    Cpu cpu;
    Cuda cuda;
};

// KILN_BACKENDS(conv2d_forward_f32): kiln::cpu::conv2d_forward_f32 and, in a CUDA build only,
// kiln::cuda::conv2d_forward_f32.
#if KILN_WITH_CUDA
#define KILN_BACKENDS(name) \
    (kiln::Backends<decltype(&kiln::cpu::name), decltype(&kiln::cuda::name)>{&kiln::cpu::name, &kiln::cuda::name})
#else
#define KILN_BACKENDS(name) (kiln::Backends<decltype(&kiln::cpu::name), std::nullptr_t>{&kiln::cpu::name, nullptr})
#endif

// Blocks of the context's caching allocator for one call. They go back to the cache as soon as the kernels are
// queued: every op on a context runs on the context's one stream, so whoever gets a block next is ordered after the
// kernels that use it.
class ContextScratch final : public Scratch {
  public:
    explicit ContextScratch(kiln_context& c) : c_(c) {}
    ~ContextScratch();
    ContextScratch(const ContextScratch&) = delete;
    ContextScratch& operator=(const ContextScratch&) = delete;
    void* get(size_t bytes) override;

  private:
    static constexpr int kMaxBlocks = 4;  // no launcher asks for more than one or two
    kiln_context& c_;
    void* blocks_[kMaxBlocks] = {};
    int count_ = 0;
};

// An NVTX range for the extent of one CUDA op's launch, closed however the launch ends.
class NvtxRange final {
  public:
    explicit NvtxRange(const char* entry) noexcept {
        gpu::range_push(std::strncmp(entry, "kiln_", 5) == 0 ? entry + 5 : entry);
    }
    ~NvtxRange() { gpu::range_pop(); }
    NvtxRange(const NvtxRange&) = delete;
    NvtxRange& operator=(const NvtxRange&) = delete;
};

// Runs the backend of cx's device on args. A CUDA launcher may take a kiln::Scratch& right after its stream.
template <class Cpu, class Cuda, class... Args>
void dispatch(kiln_context& cx, const char* op, Backends<Cpu, Cuda> fn, const Args&... args) {
    if (on_cpu(cx)) {
        fn.cpu(args...);
        return;
    }
    if constexpr (std::is_same_v<Cuda, std::nullptr_t>) {
        fail(KILN_ERR_INTERNAL, "%s: CUDA context in a build without CUDA", op);
    } else {
        const cudaStream_t stream = static_cast<cudaStream_t>(cx.stream);
        // Nsight shows every op as a range named like the profiler's records: the entry without "kiln_".
        NvtxRange range(op);
        auto launch = [&] {
            if constexpr (std::is_invocable_v<Cuda, cudaStream_t, Scratch&, const Args&...>) {
                ContextScratch scratch(cx);
                gpu::check_launch((int)fn.cuda(stream, scratch, args...), op);
            } else {
                gpu::check_launch((int)fn.cuda(stream, args...), op);
            }
        };
        if (!cx.timing.load(std::memory_order_acquire)) return launch();
        // Timed: begin event, launch and end event as one step under timer_mu (see kiln_context::timer).
        std::lock_guard<std::mutex> lock(cx.timer_mu);
        if (!cx.timer) return launch();  // switched off since the flag was read
        gpu::op_timer_begin(cx.timer.get(), cx.stream);
        launch();
        gpu::op_timer_end(cx.timer.get(), cx.stream);
        note_device_timed();
    }
}

}  // namespace kiln
