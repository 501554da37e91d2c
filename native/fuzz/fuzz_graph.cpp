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
            const kiln_status st = c.call(kiln_graph_is_capturing, ctx,
                                          c.given("capturing", Use::out, s.in.one_in(4) ? nullptr : &capturing));
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
            // The corrections first, so that the step can land one element into them (a partial overlap).
            float* corrections = c.out<float>("bias_corrections", 2);
            int32_t* step = c.out<int32_t>("step", 1);
            c.call(kiln_adam_advance_step, ctx, step, corrections, beta1, beta2);
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
            const float* grad = c.in<float>("grad", e);
            float* param = c.out<float>("param", e);
            float* m = c.out<float>("m", e);
            float* v = c.out<float>("v", e);
            const float* corrections = c.in<float>("bias_corrections", 2);
            const float lr = s.in.real(), beta1 = s.in.real(), beta2 = s.in.real(), eps = s.in.real();
            const float weight_decay = s.in.real();
            const int32_t decoupled = s.in.i32();
            if (!adam_hyperparameters_valid(lr, beta1, beta2, eps, weight_decay)) c.forbid();
            c.call(kiln_adam_step_capturable_f32, ctx, param, grad, m, v, n, lr, beta1, beta2, eps, weight_decay,
                   decoupled, corrections);
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
        case 0: {  // any null argument is refused by name; otherwise two strings and timed == 0
            const uint8_t nulls = s.in.u8();
            const char *entry = nullptr, *path = nullptr;
            int32_t timed = -1;
            const kiln_status st = c.call(kiln_last_op, c.given("entry", Use::out, (nulls & 1) ? nullptr : &entry),
                                          c.given("path", Use::out, (nulls & 2) ? nullptr : &path),
                                          c.given("device_timed", Use::out, (nulls & 4) ? nullptr : &timed));
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
            int64_t count = -1;
            int64_t* count_arg = c.given("count", Use::out, s.in.one_in(8) ? nullptr : &count);
            if (capacity < 0) c.forbid();
            // capacity bounds what the entry may write, and a CPU context writes nothing: a capacity whose bytes would
            // not fit int64 is still a valid call, so ms is a small real buffer rather than one of capacity floats.
            float* ms = c.out<float>("ms", std::min<int64_t>(std::max<int64_t>(capacity, 0), 64));
            const kiln_status st = c.call(kiln_profile_device_times, ctx, ms, capacity, count_arg);
            if (st == KILN_OK && count != 0) finding("a CPU context reported device times", c.op());
            break;
        }
        case 3: {  // a null name is refused; pushes and pops are otherwise no-ops without a tool listening
            c.call(kiln_range_push, c.given("name", Use::handle, s.in.one_in(4) ? nullptr : "fuzz"));
            if (s.in.one_in(2)) {
                Call pop(s, "kiln_range_pop");
                pop.check(kiln_range_pop());
            }
            break;
        }
        case 4: {  // only the refused forms: a null out, or a context that is not live
            kiln_context* ctx = pick_context(s, c);
            const bool want = !s.in.one_in(2);
            if (live_index(s, ctx) >= 0 && want) return;
            kiln_device_peak peak{};
            c.call(kiln_measure_peak, ctx, c.given("out", Use::out, want ? &peak : nullptr));
            break;
        }
    }
}

}  // namespace kiln::fuzz
