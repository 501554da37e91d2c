// The harness's call family over the entries a GPU gives meaning to, called here on CPU contexts (the only kind a
// fuzzing build has): CUDA-graph capture and replay, the stream timer and the L2 flush (each with the contract's CPU
// answer), and capturable Adam's device-side step counter and update.
#include <algorithm>
#include <cstdint>

#include "fuzz_calls.h"
#include "fuzz_harness.h"

namespace kiln::fuzz {

namespace {

// A graph handle that is not one: null, or bytes that merely look like memory of one.
kiln_graph* junk_graph(State& s) {
    const uint8_t k = s.in.u8();
    if (k < 128) return nullptr;
    return reinterpret_cast<kiln_graph*>(s.foreign_bytes + (k & 7) * 8);
}

}  // namespace

void call_graph_and_timing(State& s) {
    static const char* const kNames[] = {"kiln_graph_capture_begin", "kiln_graph_capture_end", "kiln_graph_launch",
                                         "kiln_graph_destroy",       "kiln_graph_is_capturing", "kiln_stream_timer",
                                         "kiln_flush_l2",            "kiln_adam_advance_step",
                                         "kiln_adam_step_capturable_f32"};
    const int which = s.in.u8() % 9;
    Call c(s, kNames[which]);
    switch (which) {
        case 0: {  // a CPU context has no stream to capture: refused, never OK
            kiln_context* ctx = pick_context(s, c);
            c.forbid();
            c.check(kiln_graph_capture_begin(ctx));
            break;
        }
        case 1: {  // nothing is capturing: refused, and *out is left NULL
            kiln_context* ctx = pick_context(s, c);
            c.forbid();
            kiln_graph* out = reinterpret_cast<kiln_graph*>(s.foreign_bytes);
            const bool want = !s.in.one_in(4);
            c.check(kiln_graph_capture_end(ctx, want ? &out : nullptr));
            if (want && out != nullptr) finding("a failed capture end left a graph in *out", c.op());
            break;
        }
        case 2: {  // no live graph exists in a CPU-only process: every handle is refused
            c.forbid();
            c.check(kiln_graph_launch(junk_graph(s)));
            break;
        }
        case 3: {  // destroying NULL is a no-op; anything else is not a live graph
            kiln_graph* g = junk_graph(s);
            if (g) c.forbid();
            c.check(kiln_graph_destroy(g));
            break;
        }
        case 4: {
            kiln_context* ctx = pick_context(s, c);
            int32_t capturing = -1;
            const bool want = !s.in.one_in(4);
            if (!want) c.forbid();
            const kiln_status st = kiln_graph_is_capturing(ctx, want ? &capturing : nullptr);
            c.check(st);
            if (st == KILN_OK && capturing != 0) finding("a CPU context says it is capturing", c.op());
            break;
        }
        case 5: {  // the stream timer has no events on the CPU: both halves refused
            kiln_context* ctx = pick_context(s, c);
            c.forbid();
            if (s.in.one_in(2)) {
                c.check(kiln_stream_timer_start(ctx));
            } else {
                double ms = -1.0;
                c.check(kiln_stream_timer_stop(ctx, s.in.one_in(4) ? nullptr : &ms));
            }
            break;
        }
        case 6: {  // the flush is a no-op on the CPU that reports 0 bytes
            kiln_context* ctx = pick_context(s, c, false);
            uint64_t bytes = 77;
            const bool want = !s.in.one_in(3);
            const kiln_status st = kiln_flush_l2(ctx, want ? &bytes : nullptr);
            c.check(st);
            if (st == KILN_OK && want && bytes != 0) finding("a CPU flush reported bytes written", c.op());
            break;
        }
        case 7: {
            kiln_context* ctx = pick_context(s, c);
            const float beta1 = s.in.one_in(3) ? s.in.real() : 0.9f, beta2 = s.in.one_in(3) ? s.in.real() : 0.999f;
            if (!(beta1 >= 0.0f && beta1 < 1.0f) || !(beta2 >= 0.0f && beta2 < 1.0f)) c.forbid();
            c.need(1, 4);
            c.need(2, 4);
            if (!c.runnable()) return;
            int32_t* step = c.ptr<int32_t>(1);
            float* corrections = c.ptr<float>(2);
            if (!step || !corrections || (void*)step == (void*)corrections) c.forbid();
            c.check(kiln_adam_advance_step(ctx, step, corrections, beta1, beta2));
            break;
        }
        case 8: {  // the kiln_adam_step_f32 contract, with the corrections read from a 2-element buffer
            kiln_context* ctx = pick_context(s, c);
            const int64_t n = s.in.size();
            const int64_t e = c.extent({n});
            for (int i = 0; i < 4; ++i) c.need(e, 4);
            c.need(2, 4);
            c.work({e});
            if (!c.runnable()) return;
            const float* grad = c.ptr<float>(e);
            float* param = c.ptr<float>(e);
            float* m = c.ptr<float>(e);
            float* v = c.ptr<float>(e);
            const float* corrections = c.ptr<float>(2);
            if (!corrections) c.forbid();
            c.check(kiln_adam_step_capturable_f32(ctx, param, grad, m, v, n, s.in.real(), s.in.real(), s.in.real(),
                                                  s.in.real(), s.in.real(), s.in.i32(), corrections));
            break;
        }
    }
}

// The profiling entries: the last-op query, device timing and its collection (a CPU context times nothing), NVTX
// ranges, and the invalid forms of kiln_measure_peak (a valid call takes a second and 256 MiB).
void call_profiling(State& s) {
    static const char* const kNames[] = {"kiln_last_op", "kiln_profile_device_timing", "kiln_profile_device_times",
                                         "kiln_range_push", "kiln_measure_peak"};
    const int which = s.in.u8() % 5;
    Call c(s, kNames[which]);
    switch (which) {
        case 0: {  // any null argument is refused with a message; otherwise two strings and timed == 0
            const uint8_t nulls = s.in.u8();
            const char *entry = nullptr, *path = nullptr;
            int32_t timed = -1;
            if (nulls & 7) c.forbid();
            const kiln_status st = kiln_last_op((nulls & 1) ? nullptr : &entry, (nulls & 2) ? nullptr : &path,
                                                (nulls & 4) ? nullptr : &timed);
            c.check(st);
            if (st == KILN_OK && (!entry || !path || timed != 0)) finding("a CPU op reported as device-timed, or a null name", c.op());
            break;
        }
        case 1: {
            kiln_context* ctx = pick_context(s, c);
            c.check(kiln_profile_device_timing(ctx, s.in.i32()));
            break;
        }
        case 2: {
            kiln_context* ctx = pick_context(s, c);
            const int64_t capacity = s.in.size();
            const bool want_count = !s.in.one_in(8);
            if (capacity < 0 || !want_count) c.forbid();
            // capacity bounds what the entry may write, and a CPU context writes nothing: a capacity whose bytes would
            // not fit int64 is still a valid call, so ms is a small real buffer rather than one of capacity floats.
            float* ms = c.ptr<float>(std::min<int64_t>(std::max<int64_t>(capacity, 0), 64));
            if (!ms && capacity > 0) c.forbid();
            int64_t count = -1;
            const kiln_status st = kiln_profile_device_times(ctx, ms, capacity, want_count ? &count : nullptr);
            c.check(st);
            if (st == KILN_OK && count != 0) finding("a CPU context reported device times", c.op());
            break;
        }
        case 3: {  // a null name is refused; pushes and pops are otherwise no-ops without a tool listening
            const bool named = !s.in.one_in(4);
            if (!named) c.forbid();
            c.check(kiln_range_push(named ? "fuzz" : nullptr));
            if (s.in.one_in(2)) {
                Call pop(s, "kiln_range_pop");
                pop.check(kiln_range_pop());
            }
            break;
        }
        case 4: {  // only the refused forms: a null out, or a context that is not live
            kiln_context* ctx = pick_context(s, c);
            const bool want = !s.in.one_in(2);
            if (!want) c.forbid();
            if (live_index(s, ctx) >= 0 && want) return;
            kiln_device_peak peak;
            c.check(kiln_measure_peak(ctx, want ? &peak : nullptr));
            break;
        }
    }
}

}  // namespace kiln::fuzz
