// CUDA-less build: the GPU layer reports zero devices and refuses CUDA requests with a clear message.
#include "core/error.h"
#include "core/gpu.h"

namespace kiln::gpu {

namespace {
[[noreturn]] void no_cuda() {
    fail(KILN_ERR_NO_DEVICE, "this Kiln library was built without CUDA (nvcc was not found at build time)");
}
}  // namespace

int device_count(const char** reason) {
    if (reason) *reason = "this Kiln library was built without CUDA (nvcc was not found at build time)";
    return 0;
}
void properties(int, kiln_device_props*) { no_cuda(); }
void set_device(int) { no_cuda(); }
void* create_stream(int) { no_cuda(); }
void destroy_stream(int, void*) noexcept {}
void check_stream(int, void*, const char*) { no_cuda(); }
void* malloc_or_null(int, size_t) { no_cuda(); }
void free(int, void*) noexcept {}
void copy(void*, void*, const void*, size_t, CopyKind) { no_cuda(); }
void copy_2d(void*, void*, size_t, const void*, size_t, size_t, size_t) { no_cuda(); }
void synchronize(void*) { no_cuda(); }
void check_launch(int, const char*) { no_cuda(); }
const char* build_archs() { return "none"; }
void capture_begin(void*) { no_cuda(); }
void* capture_end(void*, const char*) { no_cuda(); }
void capture_abort(void*) noexcept {}
void graph_launch(void*, void*) { no_cuda(); }
void graph_destroy(void*) noexcept {}
void range_push(const char*) noexcept {}
void range_pop() noexcept {}
OpTimer* op_timer_create(int) { no_cuda(); }
void op_timer_destroy(OpTimer*) noexcept {}
void op_timer_begin(OpTimer*, void*) { no_cuda(); }
void op_timer_end(OpTimer*, void*) { no_cuda(); }
int64_t op_timer_collect(OpTimer*, void*, float*, int64_t) { no_cuda(); }
StreamTimer* stream_timer_create(int) { no_cuda(); }
void stream_timer_destroy(StreamTimer*) noexcept {}
void stream_timer_start(StreamTimer*, void*) { no_cuda(); }
double stream_timer_stop(StreamTimer*, void*) { no_cuda(); }
size_t l2_cache_bytes(int) { no_cuda(); }
void memset_async(void*, void*, int, size_t) { no_cuda(); }

}  // namespace kiln::gpu
