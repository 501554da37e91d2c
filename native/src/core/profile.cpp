// Profiling entries of the C ABI (kiln.h, "profiling"): the thread's last op and kernel path, per-op device times
// from CUDA events, and NVTX ranges.
#include "core/profile.h"

#include "core/context.h"
#include "core/error.h"
#include "core/gpu.h"

namespace kiln {

namespace {
// Pointers to string literals only: nothing to free, and a stale read can never dangle.
thread_local const char* t_entry = "";
thread_local const char* t_path = "";
thread_local bool t_timed = false;
}  // namespace

void begin_entry(const char* entry) noexcept {
    t_entry = entry;
    t_path = "";
    t_timed = false;
}

void note_device_timed() noexcept { t_timed = true; }

void note_kernel_path(const char* path) noexcept { t_path = path ? path : ""; }

void take_last_entry(const char** entry, const char** path, bool* device_timed) noexcept {
    *entry = t_entry;
    *path = t_path;
    *device_timed = t_timed;
    begin_entry("");
}

}  // namespace kiln

using kiln::fail;
using kiln::guarded;

// Not guarded: guarded() would make this entry its own last op.
kiln_status kiln_last_op(const char** entry, const char** path, int32_t* device_timed) {
    if (!entry || !path || !device_timed) {
        kiln::set_last_error("kiln_last_op: arguments 'entry', 'path' and 'device_timed' must not be null");
        return KILN_ERR_INVALID_ARGUMENT;
    }
    bool timed = false;
    kiln::take_last_entry(entry, path, &timed);
    *device_timed = timed ? 1 : 0;
    return KILN_OK;
}

kiln_status kiln_profile_device_timing(kiln_context* ctx, int32_t on) {
    return guarded("kiln_profile_device_timing", [&] {
        kiln_context& c = kiln::op_context(ctx, "kiln_profile_device_timing");
        if (kiln::on_cpu(c)) return;  // the CPU's op time is its wall time, which the caller measures
        kiln::refuse_while_capturing(c, "kiln_profile_device_timing", "records CUDA events to read back",
                                     "switch device timing before or after capturing");
        if (!on) {
            c.timer.reset();
        } else if (!c.timer) {
            c.timer.reset(kiln::gpu::op_timer_create(c.index));
        }
    });
}

kiln_status kiln_profile_device_times(kiln_context* ctx, float* ms, int64_t capacity, int64_t* count) {
    return guarded("kiln_profile_device_times", [&] {
        kiln_context& c = kiln::op_context(ctx, "kiln_profile_device_times");
        if (!count) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_profile_device_times: argument 'count' is null");
        if (capacity < 0) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_profile_device_times: capacity %lld < 0", (long long)capacity);
        if (!ms && capacity > 0) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_profile_device_times: argument 'ms' is null");
        *count = 0;
        kiln::refuse_while_capturing(c, "kiln_profile_device_times", "waits for the device's timing events",
                                     "collect the times after capturing");
        if (kiln::on_cpu(c) || !c.timer) return;
        *count = kiln::gpu::op_timer_collect(c.timer.get(), c.stream, ms, capacity);
    });
}

kiln_status kiln_range_push(const char* name) {
    return guarded("kiln_range_push", [&] {
        if (!name) fail(KILN_ERR_INVALID_ARGUMENT, "kiln_range_push: argument 'name' is null");
        kiln::gpu::range_push(name);
    });
}

kiln_status kiln_range_pop(void) {
    return guarded("kiln_range_pop", [] { kiln::gpu::range_pop(); });
}
