// Parity cases for the LSTM layer: forward (training, with the reserve compared too, and inference), and forward plus
// full BPTT with every gradient; T = 1, 2, 7, 28, odd sizes, with and without h0/c0 and dh_n/dc_n. On a GPU the
// small-batch shapes (n <= 64, h <= 256) run the persistent forward and n = 65 or h = 300 the per-step path.
#include <string>

#include "parity/harness.h"

namespace kiln::parity {
namespace {

struct Shape {
    int64_t n, t, f, h;
    bool h0, c0;    // initial states given (else NULL)
    bool dhn, dcn;  // final-state gradients given (else NULL)
};

std::string name(const Shape& s) {
    return "n=" + std::to_string(s.n) + " t=" + std::to_string(s.t) + " f=" + std::to_string(s.f) +
           " h=" + std::to_string(s.h) + (s.h0 ? " h0" : "") + (s.c0 ? " c0" : "") + (s.dhn ? " dh_n" : "") +
           (s.dcn ? " dc_n" : "");
}

// Appends an argument and returns its index, or -1 (and appends nothing) when absent.
int add(std::vector<Arg>& args, bool present, Arg a) {
    if (!present) return -1;
    args.push_back(std::move(a));
    return (int)args.size() - 1;
}

template <class T = float>
T* at(const std::vector<void*>& p, int i) {
    return i < 0 ? nullptr : static_cast<T*>(p[i]);
}

// Inputs of one layer; weights in +-0.4 keep the gates away from saturation, where every backend agrees trivially.
struct Inputs {
    int x, h0, c0, wih, whh, b;
};
Inputs add_inputs(std::vector<Arg>& args, const Shape& s, uint32_t seed) {
    Inputs in;
    in.x = add(args, true, in_f32(host_uniform(s.n * s.t * s.f, seed)));
    in.h0 = add(args, s.h0, in_f32(host_uniform(s.n * s.h, seed + 1)));
    in.c0 = add(args, s.c0, in_f32(host_uniform(s.n * s.h, seed + 2, -2.0f, 2.0f)));
    in.wih = add(args, true, in_f32(host_uniform(4 * s.h * s.f, seed + 3, -0.4f, 0.4f)));
    in.whh = add(args, true, in_f32(host_uniform(4 * s.h * s.h, seed + 4, -0.4f, 0.4f)));
    in.b = add(args, true, in_f32(host_uniform(4 * s.h, seed + 5, -0.4f, 0.4f)));
    return in;
}

size_t reserve_floats(const Shape& s) { return (size_t)(6 * s.n * s.t * s.h); }  // kiln_lstm_reserve_size / 4

OpCase forward_case(const Shape& s, bool training) {
    std::vector<Arg> args;
    const uint32_t seed = (uint32_t)(s.n * 1009 + s.t * 101 + s.f * 13 + s.h);
    const Inputs in = add_inputs(args, s, seed);
    const int y = add(args, true, out_f32(s.n * s.t * s.h));
    const int hn = add(args, true, out_f32(s.n * s.h));
    const int cn = add(args, true, out_f32(s.n * s.h));
    const int res = add(args, training, out_f32(reserve_floats(s)));
    const kiln_lstm_desc d{s.n, s.t, s.f, s.h};
    Shape named = s;  // the forward never sees dh_n, dc_n
    named.dhn = named.dcn = false;
    return OpCase{training ? "lstm_forward" : "lstm_forward_inference", name(named), 1e-9, std::move(args),
                  [=](kiln_context* ctx, const std::vector<void*>& p) {
                      return kiln_lstm_forward_f32(ctx, &d, at(p, in.x), at(p, in.h0), at(p, in.c0), at(p, in.wih),
                                                   at(p, in.whh), at(p, in.b), at(p, y), at(p, hn), at(p, cn),
                                                   at<void>(p, res));
                  }};
}

// Forward then backward in one run (the backward needs the forward's reserve on the same device).
OpCase backward_case(const Shape& s, bool want_inputs) {
    std::vector<Arg> args;
    const uint32_t seed = (uint32_t)(s.n * 7919 + s.t * 31 + s.f * 3 + s.h * 101);
    const Inputs in = add_inputs(args, s, seed);
    const int dy = add(args, true, in_f32(host_uniform(s.n * s.t * s.h, seed + 6)));
    const int dhn = add(args, s.dhn, in_f32(host_uniform(s.n * s.h, seed + 7)));
    const int dcn = add(args, s.dcn, in_f32(host_uniform(s.n * s.h, seed + 8)));
    const int y = add(args, true, out_f32(s.n * s.t * s.h));
    const int hn = add(args, true, out_f32(s.n * s.h));
    const int cn = add(args, true, out_f32(s.n * s.h));
    const int res = add(args, true, out_f32(reserve_floats(s)));
    const int dx = add(args, want_inputs, out_f32(s.n * s.t * s.f));
    const int dh0 = add(args, want_inputs, out_f32(s.n * s.h));
    const int dc0 = add(args, want_inputs, out_f32(s.n * s.h));
    const int dwih = add(args, true, out_f32(4 * s.h * s.f));
    const int dwhh = add(args, true, out_f32(4 * s.h * s.h));
    const int db = add(args, true, out_f32(4 * s.h));
    const kiln_lstm_desc d{s.n, s.t, s.f, s.h};
    return OpCase{want_inputs ? "lstm_backward" : "lstm_backward_weights_only", name(s), 1e-8, std::move(args),
                  [=](kiln_context* ctx, const std::vector<void*>& p) {
                      const kiln_status st =
                          kiln_lstm_forward_f32(ctx, &d, at(p, in.x), at(p, in.h0), at(p, in.c0), at(p, in.wih),
                                                at(p, in.whh), at(p, in.b), at(p, y), at(p, hn), at(p, cn),
                                                at<void>(p, res));
                      if (st != KILN_OK) return st;
                      return kiln_lstm_backward_f32(ctx, &d, at(p, in.x), at(p, in.h0), at(p, in.c0), at(p, in.wih),
                                                    at(p, in.whh), at<void>(p, res), at(p, dy), at(p, dhn), at(p, dcn),
                                                    at(p, dx), at(p, dh0), at(p, dc0), at(p, dwih), at(p, dwhh),
                                                    at(p, db));
                  }};
}

std::vector<OpCase> lstm_cases() {
    std::vector<OpCase> cases;
    const Shape shapes[] = {
        {1, 1, 5, 7, false, false, false, false},   {3, 2, 5, 33, true, true, true, true},
        {3, 7, 28, 64, true, false, false, true},   {1, 28, 28, 64, false, true, true, false},
        {3, 28, 5, 7, true, true, false, false},    {64, 28, 28, 64, false, false, false, false},  // the benchmark's
        {65, 7, 5, 33, true, true, true, true},     // n > 64: per-step path on the GPU
        {3, 2, 5, 300, true, true, true, true},     // h > 256: per-step path on the GPU
        {32, 7, 256, 256, true, true, false, false},  // the large benchmark's widths, shorter
        {65, 3, 5, 33, false, false, false, false},   // per-step without h0: hprev[:, 0] zeros, no step-0 GEMM
        {33, 5, 7, 201, true, false, true, false},    // ragged: a 1-row 2nd row chunk; J = 2 on 101-200 SMs
    };
    for (const Shape& s : shapes) {
        cases.push_back(forward_case(s, true));
        cases.push_back(forward_case(s, false));
        cases.push_back(backward_case(s, true));
    }
    cases.push_back(backward_case({2, 7, 5, 33, true, true, true, true}, false));
    return cases;
}

}  // namespace
KILN_PARITY_REGISTER("lstm", lstm_cases);
}  // namespace kiln::parity
