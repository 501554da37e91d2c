// Tests of the LSTM entries on a CPU context, through the C ABI: the forward against a naive double-precision LSTM
// written here, every gradient (x, h0, c0, w_ih, w_hh, bias) against central finite differences of that reference,
// a stacked two-layer network, inference mode (reserve NULL) giving the training outputs bit for bit, saturated
// gates, and the validation errors.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

using kiln::test::message_has;

namespace {

kiln_context* g_ctx = nullptr;
const float kNaN = std::numeric_limits<float>::quiet_NaN();
using D = std::vector<double>;
using F = std::vector<float>;

F uniform(size_t n, uint64_t seed, float lo = -1.0f, float hi = 1.0f) {
    F v(n);
    uint64_t s = 0x9E3779B97F4A7C15ull ^ (seed * 0xBF58476D1CE4E5B9ull);
    for (auto& x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = lo + (hi - lo) * (float)((s >> 40) * 0x1p-24);
    }
    return v;
}

D widen(const F& v) { return D(v.begin(), v.end()); }

struct Shape {
    int64_t n, t, f, h;
    std::string str() const {
        return "(n=" + std::to_string(n) + " t=" + std::to_string(t) + " f=" + std::to_string(f) +
               " h=" + std::to_string(h) + ")";
    }
};

// ---- double reference ----------------------------------------------------------------------------------------------

double sig(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// One layer, PyTorch semantics: gates i, f, g, o; h0/c0 empty means zeros. y is (n, t, h); hn, cn are (n, h).
void ref_forward(const Shape& s, const D& x, const D& h0, const D& c0, const D& wih, const D& whh, const D& b, D& y,
                 D& hn, D& cn) {
    const int64_t n = s.n, t = s.t, f = s.f, h = s.h;
    D hp = h0.empty() ? D(n * h, 0.0) : h0, c = c0.empty() ? D(n * h, 0.0) : c0, hnew(n * h), a(4 * h);
    y.assign(n * t * h, 0.0);
    for (int64_t st = 0; st < t; ++st) {
        for (int64_t r = 0; r < n; ++r) {
            for (int64_t q = 0; q < 4 * h; ++q) {
                double v = b[q];
                for (int64_t k = 0; k < f; ++k) v += x[(r * t + st) * f + k] * wih[q * f + k];
                for (int64_t k = 0; k < h; ++k) v += hp[r * h + k] * whh[q * h + k];
                a[q] = v;
            }
            for (int64_t j = 0; j < h; ++j) {
                const double ig = sig(a[j]), fg = sig(a[h + j]), gg = std::tanh(a[2 * h + j]), og = sig(a[3 * h + j]);
                c[r * h + j] = fg * c[r * h + j] + ig * gg;
                hnew[r * h + j] = og * std::tanh(c[r * h + j]);
                y[(r * t + st) * h + j] = hnew[r * h + j];
            }
        }
        hp = hnew;
    }
    hn = hp;
    cn = c;
}

// All inputs of one layer, in double for the reference and float for the library.
struct Layer {
    Shape s;
    F x, h0, c0, wih, whh, b;  // h0/c0 empty: NULL
    D dx() const { return widen(x); }
};

Layer make_layer(const Shape& s, bool with_h0, bool with_c0, uint64_t seed, float wscale = 0.5f) {
    Layer L{s, uniform(s.n * s.t * s.f, seed), {}, {}, {}, {}, {}};
    if (with_h0) L.h0 = uniform(s.n * s.h, seed + 1, -0.8f, 0.8f);
    if (with_c0) L.c0 = uniform(s.n * s.h, seed + 2, -1.5f, 1.5f);
    L.wih = uniform(4 * s.h * s.f, seed + 3, -wscale, wscale);
    L.whh = uniform(4 * s.h * s.h, seed + 4, -wscale, wscale);
    L.b = uniform(4 * s.h, seed + 5, -0.5f, 0.5f);
    return L;
}

const float* opt(const F& v) { return v.empty() ? nullptr : v.data(); }
float* opt(F& v) { return v.empty() ? nullptr : v.data(); }

uint64_t reserve_floats(const Shape& s) {
    kiln_lstm_desc d{s.n, s.t, s.f, s.h};
    uint64_t bytes = 0;
    if (kiln_lstm_reserve_size(&d, &bytes) != KILN_OK) return 0;
    return bytes / sizeof(float);
}

struct FwdOut {
    F y, hn, cn, reserve;
};

// Runs the library forward; training keeps a reserve (filled with NaN first, so an unwritten float shows).
FwdOut run_forward(const Layer& L, bool training, kiln_status* status = nullptr) {
    const Shape& s = L.s;
    FwdOut o{F(s.n * s.t * s.h, kNaN), F(s.n * s.h, kNaN), F(s.n * s.h, kNaN), {}};
    if (training) o.reserve.assign(reserve_floats(s), kNaN);
    kiln_lstm_desc d{s.n, s.t, s.f, s.h};
    const kiln_status st = kiln_lstm_forward_f32(g_ctx, &d, L.x.data(), opt(L.h0), opt(L.c0), L.wih.data(), L.whh.data(),
                                                 L.b.data(), o.y.data(), o.hn.data(), o.cn.data(),
                                                 training ? o.reserve.data() : nullptr);
    if (status) *status = st;
    else EXPECT(st == KILN_OK);
    return o;
}

bool close_all(const std::string& what, const F& got, const D& want, double atol, double rtol) {
    if (got.size() != want.size()) {
        std::printf("  %s: size %zu, want %zu\n", what.c_str(), got.size(), want.size());
        return false;
    }
    for (size_t i = 0; i < got.size(); ++i)
        if (!(std::fabs(got[i] - want[i]) <= atol + rtol * std::fabs(want[i]))) {
            std::printf("  %s[%zu]: got %.9g, want %.9g\n", what.c_str(), i, got[i], want[i]);
            return false;
        }
    return true;
}

bool all_finite(const F& v) {
    return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

bool same_bits(const F& a, const F& b) { return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * 4) == 0; }

// ---- forward ---------------------------------------------------------------------------------------------------------

void forward_matches_reference_and_inference_is_identical() {
    const Shape shapes[] = {{1, 1, 1, 1}, {3, 2, 5, 7}, {2, 7, 28, 33}, {4, 28, 5, 64}, {1, 3, 4, 17},
                            {64, 3, 7, 70} /* threaded cell passes */, {5, 4, 300, 9}};
    uint64_t seed = 100;
    for (const Shape& s : shapes)
        for (int states = 0; states < 4; ++states) {
            const Layer L = make_layer(s, states & 1, states & 2, seed += 10);
            const std::string name = "forward " + s.str() + (states & 1 ? " h0" : "") + (states & 2 ? " c0" : "");
            const FwdOut tr = run_forward(L, true);
            D y, hn, cn;
            ref_forward(s, L.dx(), widen(L.h0), widen(L.c0), widen(L.wih), widen(L.whh), widen(L.b), y, hn, cn);
            EXPECT(close_all(name + " y", tr.y, y, 2e-6, 2e-5));
            EXPECT(close_all(name + " h_n", tr.hn, hn, 2e-6, 2e-5));
            EXPECT(close_all(name + " c_n", tr.cn, cn, 4e-6, 2e-5));
            EXPECT(all_finite(tr.reserve));  // every float of the reserve was written
            const FwdOut inf = run_forward(L, false);
            EXPECT(same_bits(inf.y, tr.y));
            EXPECT(same_bits(inf.hn, tr.hn));
            EXPECT(same_bits(inf.cn, tr.cn));
        }
}

void saturated_gates_stay_finite() {
    // Weights x60: pre-activations reach hundreds, every gate saturates; the result must be finite and right.
    const Shape s{3, 5, 6, 9};
    const Layer L = make_layer(s, true, true, 77, 30.0f);
    const FwdOut o = run_forward(L, true);
    D y, hn, cn;
    ref_forward(s, L.dx(), widen(L.h0), widen(L.c0), widen(L.wih), widen(L.whh), widen(L.b), y, hn, cn);
    EXPECT(all_finite(o.y) && all_finite(o.cn) && all_finite(o.reserve));
    EXPECT(close_all("saturated y", o.y, y, 1e-5, 1e-5));
    EXPECT(close_all("saturated c_n", o.cn, cn, 1e-5, 1e-5));
}

// ---- backward against finite differences ------------------------------------------------------------------------

// Loss L = sum(wy * y) + sum(wh * h_n) + sum(wc * c_n); its gradients are the backward of dy = wy, dh_n = wh, dc_n = wc.
struct Seeds {
    D wy, wh, wc;  // wh/wc empty: that term is absent (dh_n / dc_n NULL)
};

double ref_loss(const Shape& s, const D& x, const D& h0, const D& c0, const D& wih, const D& whh, const D& b,
                const Seeds& w) {
    D y, hn, cn;
    ref_forward(s, x, h0, c0, wih, whh, b, y, hn, cn);
    double l = 0;
    for (size_t i = 0; i < y.size(); ++i) l += w.wy[i] * y[i];
    for (size_t i = 0; i < w.wh.size(); ++i) l += w.wh[i] * hn[i];
    for (size_t i = 0; i < w.wc.size(); ++i) l += w.wc[i] * cn[i];
    return l;
}

// Checks `got` = dL/dv for every coordinate of v, where set(v) installs v into the reference inputs.
bool fd_matches(const std::string& what, D v, const F& got, const std::function<double(const D&)>& L) {
    if (got.size() != v.size()) {
        std::printf("  %s: gradient has %zu entries, want %zu\n", what.c_str(), got.size(), v.size());
        return false;
    }
    const double eps = 1e-5;
    for (size_t i = 0; i < v.size(); ++i) {
        const double v0 = v[i];
        v[i] = v0 + eps;
        const double lp = L(v);
        v[i] = v0 - eps;
        const double lm = L(v);
        v[i] = v0;
        const double fd = (lp - lm) / (2 * eps);
        if (!(std::fabs(got[i] - fd) <= 1e-5 + 2e-4 * std::fabs(fd))) {
            std::printf("  %s[%zu]: got %.9g, finite difference %.9g\n", what.c_str(), i, got[i], fd);
            return false;
        }
    }
    return true;
}

struct Grads {
    F dx, dh0, dc0, dwih, dwhh, db;
};

Grads run_backward(const Layer& L, const F& reserve, const F& dy, const F& dhn, const F& dcn, bool want_inputs,
                   bool pass_h0 = true) {
    const Shape& s = L.s;
    Grads g{want_inputs ? F(s.n * s.t * s.f, kNaN) : F(),
            want_inputs ? F(s.n * s.h, kNaN) : F(),
            want_inputs ? F(s.n * s.h, kNaN) : F(),
            F(4 * s.h * s.f, kNaN),
            F(4 * s.h * s.h, kNaN),
            F(4 * s.h, kNaN)};
    kiln_lstm_desc d{s.n, s.t, s.f, s.h};
    EXPECT(kiln_lstm_backward_f32(g_ctx, &d, L.x.data(), pass_h0 ? opt(L.h0) : nullptr, opt(L.c0), L.wih.data(),
                                  L.whh.data(), reserve.data(), dy.data(), opt(dhn), opt(dcn), opt(g.dx), opt(g.dh0),
                                  opt(g.dc0), g.dwih.data(), g.dwhh.data(), g.db.data()) == KILN_OK);
    return g;
}

void gradients_match_finite_differences() {
    const Shape shapes[] = {{1, 1, 3, 2}, {2, 2, 3, 5}, {3, 7, 4, 6}, {2, 7, 2, 17}};
    uint64_t seed = 500;
    for (const Shape& s : shapes)
        for (int variant = 0; variant < 4; ++variant) {
            // variant bit 0: h0 and c0 given; bit 1: dh_n and dc_n given.
            const bool states = variant & 1, final_grads = variant & 2;
            const Layer L = make_layer(s, states, states, seed += 10);
            const std::string name = "grad " + s.str() + (states ? " h0,c0" : "") + (final_grads ? " dh_n,dc_n" : "");
            Seeds w{widen(uniform(s.n * s.t * s.h, seed + 7)), {}, {}};
            F dy = uniform(s.n * s.t * s.h, seed + 7), dhn, dcn;
            if (final_grads) {
                dhn = uniform(s.n * s.h, seed + 8);
                dcn = uniform(s.n * s.h, seed + 9);
                w.wh = widen(dhn);
                w.wc = widen(dcn);
            }
            const FwdOut fo = run_forward(L, true);
            const Grads g = run_backward(L, fo.reserve, dy, dhn, dcn, true);

            const D x = L.dx(), h0 = widen(L.h0), c0 = widen(L.c0), wih = widen(L.wih), whh = widen(L.whh),
                    b = widen(L.b);
            EXPECT(fd_matches(name + " dx", x, g.dx, [&](const D& v) { return ref_loss(s, v, h0, c0, wih, whh, b, w); }));
            EXPECT(fd_matches(name + " dw_ih", wih, g.dwih,
                              [&](const D& v) { return ref_loss(s, x, h0, c0, v, whh, b, w); }));
            EXPECT(fd_matches(name + " dw_hh", whh, g.dwhh,
                              [&](const D& v) { return ref_loss(s, x, h0, c0, wih, v, b, w); }));
            EXPECT(fd_matches(name + " dbias", b, g.db, [&](const D& v) { return ref_loss(s, x, h0, c0, wih, whh, v, w); }));
            // dh0/dc0 are the gradients with respect to the initial states, zeros when h0/c0 were NULL.
            const D zeros(s.n * s.h, 0.0);
            EXPECT(fd_matches(name + " dh0", states ? h0 : zeros, g.dh0,
                              [&](const D& v) { return ref_loss(s, x, v, c0.empty() ? zeros : c0, wih, whh, b, w); }));
            EXPECT(fd_matches(name + " dc0", states ? c0 : zeros, g.dc0,
                              [&](const D& v) { return ref_loss(s, x, h0.empty() ? zeros : h0, v, wih, whh, b, w); }));

            // Not asking for dx, dh0, dc0 changes nothing else; h0 is not read by the backward (it is in the reserve).
            const Grads g2 = run_backward(L, fo.reserve, dy, dhn, dcn, false, false);
            EXPECT(same_bits(g2.dwih, g.dwih) && same_bits(g2.dwhh, g.dwhh) && same_bits(g2.db, g.db));
            // The backward leaves the reserve alone, so a second backward gives the same bits.
            const Grads g3 = run_backward(L, fo.reserve, dy, dhn, dcn, true);
            EXPECT(same_bits(g3.dx, g.dx) && same_bits(g3.dh0, g.dh0) && same_bits(g3.dc0, g.dc0) &&
                   same_bits(g3.dwhh, g.dwhh));
        }
}

// ---- two stacked layers -------------------------------------------------------------------------------------------

void two_stacked_layers() {
    const Shape s1{3, 7, 5, 6}, s2{3, 7, 6, 4};  // layer 2 reads layer 1's y (n, t, 6)
    const Layer L1 = make_layer(s1, true, true, 900);
    Layer L2 = make_layer(s2, false, true, 950);
    const FwdOut o1 = run_forward(L1, true);
    L2.x = o1.y;
    const FwdOut o2 = run_forward(L2, true);

    D y1, hn1, cn1, y2, hn2, cn2;
    ref_forward(s1, L1.dx(), widen(L1.h0), widen(L1.c0), widen(L1.wih), widen(L1.whh), widen(L1.b), y1, hn1, cn1);
    ref_forward(s2, y1, {}, widen(L2.c0), widen(L2.wih), widen(L2.whh), widen(L2.b), y2, hn2, cn2);
    EXPECT(close_all("stacked layer 1 y", o1.y, y1, 2e-6, 2e-5));
    EXPECT(close_all("stacked layer 2 y", o2.y, y2, 4e-6, 4e-5));
    EXPECT(close_all("stacked layer 2 h_n", o2.hn, hn2, 4e-6, 4e-5));
    EXPECT(close_all("stacked layer 1 c_n", o1.cn, cn1, 4e-6, 2e-5));

    // Backward through both: layer 2's dx is layer 1's dy. Loss = sum(wy * y2).
    const F dy2 = uniform(s2.n * s2.t * s2.h, 960);
    const Grads g2 = run_backward(L2, o2.reserve, dy2, {}, {}, true);
    const Grads g1 = run_backward(L1, o1.reserve, g2.dx, {}, {}, true);
    const D wy = widen(dy2);
    auto stacked_loss = [&](const D& x, const D& wih1, const D& whh1) {
        D a, b, c, y, hn, cn;
        ref_forward(s1, x, widen(L1.h0), widen(L1.c0), wih1, whh1, widen(L1.b), a, b, c);
        ref_forward(s2, a, {}, widen(L2.c0), widen(L2.wih), widen(L2.whh), widen(L2.b), y, hn, cn);
        double l = 0;
        for (size_t i = 0; i < y.size(); ++i) l += wy[i] * y[i];
        return l;
    };
    const D x = L1.dx(), wih1 = widen(L1.wih), whh1 = widen(L1.whh);
    EXPECT(fd_matches("stacked dx", x, g1.dx, [&](const D& v) { return stacked_loss(v, wih1, whh1); }));
    EXPECT(fd_matches("stacked dw_ih1", wih1, g1.dwih, [&](const D& v) { return stacked_loss(x, v, whh1); }));
    EXPECT(fd_matches("stacked dw_hh1", whh1, g1.dwhh, [&](const D& v) { return stacked_loss(x, wih1, v); }));
}

// ---- validation ---------------------------------------------------------------------------------------------------

void validation_names_op_and_argument() {
    const Shape s{2, 3, 4, 5};
    const Layer L = make_layer(s, false, false, 1234);
    F y(s.n * s.t * s.h), hn(s.n * s.h), cn(s.n * s.h), res(reserve_floats(s));
    kiln_lstm_desc d{s.n, s.t, s.f, s.h};

    uint64_t bytes = 0;
    EXPECT(kiln_lstm_reserve_size(&d, &bytes) == KILN_OK && bytes == 24u * 2 * 3 * 5);
    EXPECT(kiln_lstm_reserve_size(&d, nullptr) == KILN_ERR_INVALID_ARGUMENT && message_has("bytes"));
    EXPECT(kiln_lstm_reserve_size(nullptr, &bytes) == KILN_ERR_INVALID_ARGUMENT && message_has("desc"));

    auto fwd = [&](const kiln_lstm_desc* dd, const float* x, const float* wih, const float* bias, float* yy, float* hh) {
        return kiln_lstm_forward_f32(g_ctx, dd, x, nullptr, nullptr, wih, L.whh.data(), bias, yy, hh, cn.data(),
                                     res.data());
    };
    EXPECT(fwd(&d, L.x.data(), L.wih.data(), L.b.data(), y.data(), hn.data()) == KILN_OK);
    EXPECT(kiln_lstm_forward_f32(nullptr, &d, L.x.data(), nullptr, nullptr, L.wih.data(), L.whh.data(), L.b.data(),
                                 y.data(), hn.data(), cn.data(), nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(fwd(nullptr, L.x.data(), L.wih.data(), L.b.data(), y.data(), hn.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_lstm_forward_f32") && message_has("desc"));
    EXPECT(fwd(&d, nullptr, L.wih.data(), L.b.data(), y.data(), hn.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_lstm_forward_f32") && message_has("'x'") && message_has("(n, t, f)") && message_has("f=4"));
    EXPECT(fwd(&d, L.x.data(), nullptr, L.b.data(), y.data(), hn.data()) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'w_ih'"));
    EXPECT(fwd(&d, L.x.data(), L.wih.data(), nullptr, y.data(), hn.data()) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'bias'"));
    EXPECT(fwd(&d, L.x.data(), L.wih.data(), L.b.data(), nullptr, hn.data()) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'y'"));
    EXPECT(fwd(&d, L.x.data(), L.wih.data(), L.b.data(), y.data(), nullptr) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'h_n'"));
    for (const kiln_lstm_desc bad : {kiln_lstm_desc{0, 3, 4, 5}, kiln_lstm_desc{2, 0, 4, 5}, kiln_lstm_desc{2, 3, 0, 5},
                                     kiln_lstm_desc{2, 3, 4, 0}, kiln_lstm_desc{2, -3, 4, 5}}) {
        EXPECT(fwd(&bad, L.x.data(), L.wih.data(), L.b.data(), y.data(), hn.data()) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(message_has("kiln_lstm_forward_f32") && message_has(">= 1"));
        EXPECT(kiln_lstm_reserve_size(&bad, &bytes) == KILN_ERR_INVALID_ARGUMENT && message_has("kiln_lstm_reserve_size"));
    }
    const kiln_lstm_desc huge{INT64_C(1) << 40, INT64_C(1) << 20, 4, 5};
    EXPECT(kiln_lstm_reserve_size(&huge, &bytes) == KILN_ERR_INVALID_ARGUMENT && message_has("too large"));

    F dy(s.n * s.t * s.h, 0.1f), dwih(4 * s.h * s.f), dwhh(4 * s.h * s.h), db(4 * s.h), dx(s.n * s.t * s.f);
    auto bwd = [&](const float* wih, const void* reserve, const float* dyp, float* dxp, float* dbp) {
        return kiln_lstm_backward_f32(g_ctx, &d, L.x.data(), nullptr, nullptr, wih, L.whh.data(), reserve, dyp, nullptr,
                                      nullptr, dxp, nullptr, nullptr, dwih.data(), dwhh.data(), dbp);
    };
    EXPECT(bwd(L.wih.data(), res.data(), dy.data(), dx.data(), db.data()) == KILN_OK);
    EXPECT(bwd(L.wih.data(), nullptr, dy.data(), dx.data(), db.data()) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_lstm_backward_f32") && message_has("'reserve'"));
    EXPECT(bwd(L.wih.data(), res.data(), nullptr, dx.data(), db.data()) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'dy'"));
    EXPECT(bwd(L.wih.data(), res.data(), dy.data(), dx.data(), nullptr) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'dbias'"));
    // w_ih is read only for dx.
    EXPECT(bwd(nullptr, res.data(), dy.data(), dx.data(), db.data()) == KILN_ERR_INVALID_ARGUMENT &&
           message_has("'w_ih'"));
    EXPECT(bwd(nullptr, res.data(), dy.data(), nullptr, db.data()) == KILN_OK);
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create the CPU context: %s\n", kiln_last_error());
        return 1;
    }
    forward_matches_reference_and_inference_is_identical();
    saturated_gates_stay_finite();
    gradients_match_finite_differences();
    two_stacked_layers();
    validation_names_op_and_argument();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_lstm_cpu");
}
