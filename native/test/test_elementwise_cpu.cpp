// Tests of the elementwise family's binary ops, scale/axpy and dropout on a CPU context through the C ABI: forward ops
// against naive double-precision references, every backward against central finite differences of the double
// reference (the broadcast reductions included), in-place aliasing, dropout's mask against the public Philox uniform
// stream, and the validation errors (the activations' included). The activations themselves and the fused bias + GELU
// are in test_elementwise_activation_cpu.cpp (split for the 600-line rule). Standalone main; exits nonzero on any
// failure.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

using kiln::test::close;
using kiln::test::message_has;
using kiln::test::uniform;

namespace {

kiln_context* g_ctx = nullptr;


// Away from 0: |b| in [0.5, 2], alternating sign.
std::vector<float> divisors(size_t n, uint64_t seed) {
    std::vector<float> v = uniform(n, seed, 0.5f, 2.0f);
    for (size_t i = 0; i < n; i += 2) v[i] = -v[i];
    return v;
}

// ---- binary ops --------------------------------------------------------------------------------------------------

double ref_binary(int op, double a, double b) {
    switch (op) {
        case KILN_ADD: return a + b;
        case KILN_SUB: return a - b;
        case KILN_MUL: return a * b;
        default: return a / b;
    }
}

struct Layout {
    int64_t outer, inner;
    bool ba, bb;
};

std::string describe(const char* what, int op, const Layout& l) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%s op=%d outer=%lld inner=%lld ba=%d bb=%d", what, op, (long long)l.outer,
                  (long long)l.inner, l.ba, l.bb);
    return buf;
}

// y = sum over (o, i) of w[o, i] * (a op b)[o, i] in double: the scalar whose gradient binary_backward computes
// when dy = w.
double binary_loss(int op, const Layout& l, const std::vector<double>& a, const std::vector<double>& b,
                   const std::vector<float>& w) {
    double s = 0;
    for (int64_t o = 0; o < l.outer; ++o)
        for (int64_t i = 0; i < l.inner; ++i)
            s += (double)w[o * l.inner + i] *
                 ref_binary(op, a[l.ba ? i : o * l.inner + i], b[l.bb ? i : o * l.inner + i]);
    return s;
}

void check_binary_forward(int op, const Layout& l) {
    const int64_t n = l.outer * l.inner;
    const size_t na = l.ba ? l.inner : n, nb = l.bb ? l.inner : n;
    const std::vector<float> a = uniform(na, 1, -3, 3), b = divisors(nb, 2);
    std::vector<float> y(n, NAN);
    EXPECT(kiln_binary_f32(g_ctx, (kiln_binary_op)op, a.data(), l.ba ? 0 : l.inner, b.data(), l.bb ? 0 : l.inner,
                           y.data(), l.outer, l.inner) == KILN_OK);
    // One IEEE operation: rounding the double result gives exactly the float result (double holds > 2*24+2 bits).
    int bad = 0;
    for (int64_t o = 0; o < l.outer; ++o)
        for (int64_t i = 0; i < l.inner; ++i) {
            const float want = (float)ref_binary(op, a[l.ba ? i : o * l.inner + i], b[l.bb ? i : o * l.inner + i]);
            bad += y[o * l.inner + i] != want;
        }
    if (bad) std::printf("  %s: %d mismatches\n", describe("binary forward", op, l).c_str(), bad);
    EXPECT(bad == 0);
}

// Gradients from the op against the analytic double reference (all shapes) and against central differences of
// binary_loss (small shapes): a broadcast operand's gradient must be the sum over the rows it was used in.
void check_binary_backward(int op, const Layout& l, bool want_a, bool want_b) {
    const int64_t n = l.outer * l.inner;
    const size_t na = l.ba ? l.inner : n, nb = l.bb ? l.inner : n;
    const std::vector<float> a = uniform(na, 3, -3, 3), b = divisors(nb, 4), dy = uniform(n, 5);
    std::vector<float> da(na, NAN), db(nb, NAN);
    EXPECT(kiln_binary_backward_f32(g_ctx, (kiln_binary_op)op, a.data(), l.ba ? 0 : l.inner, b.data(),
                                    l.bb ? 0 : l.inner, dy.data(), want_a ? da.data() : nullptr,
                                    want_b ? db.data() : nullptr, l.outer, l.inner) == KILN_OK);
    // Analytic reference in double, summed over outer for broadcast operands; `mag` bounds the rounding of a sum.
    std::vector<double> ra(na, 0), rb(nb, 0), mag_a(na, 0), mag_b(nb, 0);
    for (int64_t o = 0; o < l.outer; ++o)
        for (int64_t i = 0; i < l.inner; ++i) {
            const size_t ia = l.ba ? i : o * l.inner + i, ib = l.bb ? i : o * l.inner + i;
            const double av = a[ia], bv = b[ib], g = dy[o * l.inner + i];
            double ga = g, gb = g;
            if (op == KILN_SUB) gb = -g;
            if (op == KILN_MUL) ga = g * bv, gb = g * av;
            if (op == KILN_DIV) ga = g / bv, gb = -g * av / (bv * bv);
            ra[ia] += ga, rb[ib] += gb;
            mag_a[ia] += std::fabs(ga), mag_b[ib] += std::fabs(gb);
        }
    int bad = 0;
    for (size_t i = 0; want_a && i < na; ++i) bad += !close(da[i], ra[i], 2e-6, 1e-6 * mag_a[i]);
    for (size_t i = 0; want_b && i < nb; ++i) bad += !close(db[i], rb[i], 2e-6, 1e-6 * mag_b[i]);
    if (!want_a) bad += !std::isnan(da[0]);  // not wanted: untouched
    if (!want_b) bad += !std::isnan(db[0]);
    if (bad)
        std::printf("  %s da=%d db=%d: %d mismatches\n", describe("binary backward", op, l).c_str(), want_a, want_b,
                    bad);
    EXPECT(bad == 0);

    if (n > 2400) return;
    // Central differences on the double reference of the forward.
    std::vector<double> ad(a.begin(), a.end()), bd(b.begin(), b.end());
    const double h = 1e-5;
    int fd_bad = 0;
    auto fd = [&](std::vector<double>& v, size_t j) {
        const double keep = v[j];
        v[j] = keep + h;
        const double up = binary_loss(op, l, ad, bd, dy);
        v[j] = keep - h;
        const double down = binary_loss(op, l, ad, bd, dy);
        v[j] = keep;
        return (up - down) / (2 * h);
    };
    for (size_t j = 0; want_a && j < na; ++j) fd_bad += !close(da[j], fd(ad, j), 1e-5, 1e-6 * (1 + mag_a[j]));
    for (size_t j = 0; want_b && j < nb; ++j) fd_bad += !close(db[j], fd(bd, j), 1e-5, 1e-6 * (1 + mag_b[j]));
    if (fd_bad) std::printf("  %s: %d finite-difference mismatches\n", describe("binary grad", op, l).c_str(), fd_bad);
    EXPECT(fd_bad == 0);
}

void binary_ops() {
    std::vector<Layout> layouts;
    for (int64_t n : {1, 7, 33, 257, 100003}) layouts.push_back({1, n, false, false});
    // Short rows with at least one full tile of rows (the CPU tiles rows shorter than 256) plus leftover rows:
    // (11, 200), (9, 130), (4099, 5); rows too few to tile: (12, 33).
    const std::pair<int64_t, int64_t> shapes[] = {{5, 7},      {7, 1},    {1, 6},  {100003, 3}, {3, 100003},
                                                  {257, 257},  {4099, 1}, {12, 33}, {11, 200},  {9, 130},
                                                  {4099, 5}};
    for (const auto& [o, i] : shapes) {
        layouts.push_back({o, i, false, false});
        layouts.push_back({o, i, true, false});
        layouts.push_back({o, i, false, true});
    }
    layouts.push_back({6, 5, true, true});
    layouts.push_back({9, 1, true, true});
    for (int op = 0; op < 4; ++op)
        for (const Layout& l : layouts) {
            check_binary_forward(op, l);
            check_binary_backward(op, l, true, true);
            check_binary_backward(op, l, true, false);
            check_binary_backward(op, l, false, true);
        }
}

// In place: y over a full a; and da written over dy (the broadcast db must still see the original dy).
void binary_in_place() {
    const int64_t outer = 64, inner = 300;
    std::vector<float> a = uniform(outer * inner, 6), b = uniform(inner, 7);
    const std::vector<float> a0 = a;
    EXPECT(kiln_binary_f32(g_ctx, KILN_MUL, a.data(), inner, b.data(), 0, a.data(), outer, inner) == KILN_OK);
    int bad = 0;
    for (int64_t k = 0; k < outer * inner; ++k) bad += a[k] != a0[k] * b[k % inner];
    EXPECT(bad == 0);

    std::vector<float> dy = uniform(outer * inner, 8);
    const std::vector<float> dy0 = dy;
    std::vector<float> db(inner);
    EXPECT(kiln_binary_backward_f32(g_ctx, KILN_MUL, a0.data(), inner, b.data(), 0, dy.data(), dy.data(), db.data(),
                                    outer, inner) == KILN_OK);
    bad = 0;
    for (int64_t i = 0; i < inner; ++i) {
        double s = 0, m = 0;
        for (int64_t o = 0; o < outer; ++o) {
            const double t = (double)dy0[o * inner + i] * a0[o * inner + i];
            s += t, m += std::fabs(t);
        }
        bad += !close(db[i], s, 1e-6, 1e-6 * m);
    }
    for (int64_t k = 0; k < outer * inner; ++k) bad += dy[k] != dy0[k] * b[k % inner];
    EXPECT(bad == 0);
}

// Zero rows: a broadcast operand's gradient is an empty sum, so zeros (not left as they were).
void binary_empty() {
    std::vector<float> a(4, 1.0f), b(4, 2.0f), da(4, NAN), db(4, NAN);
    EXPECT(kiln_binary_backward_f32(g_ctx, KILN_DIV, a.data(), 0, b.data(), 0, nullptr, da.data(), db.data(), 0, 4) ==
           KILN_OK);
    EXPECT(da[0] == 0.0f && da[3] == 0.0f && db[0] == 0.0f && db[3] == 0.0f);
    EXPECT(kiln_binary_f32(g_ctx, KILN_ADD, nullptr, 0, nullptr, 0, nullptr, 0, 4) == KILN_OK);
    EXPECT(kiln_binary_f32(g_ctx, KILN_ADD, nullptr, 0, nullptr, 0, nullptr, 3, 0) == KILN_OK);
}

// ---- scale, axpy -------------------------------------------------------------------------------------------------

void linear_ops() {
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(257), size_t(100003)}) {
        const std::vector<float> x = uniform(n, 20);
        std::vector<float> y(n, NAN), z = uniform(n, 21);
        const std::vector<float> z0 = z;
        EXPECT(kiln_scale_f32(g_ctx, x.data(), y.data(), (int64_t)n, -2.5f) == KILN_OK);
        EXPECT(kiln_axpy_f32(g_ctx, (int64_t)n, 0.75f, x.data(), z.data()) == KILN_OK);
        int bad = 0;
        for (size_t i = 0; i < n; ++i) {
            bad += y[i] != (float)(-2.5 * x[i]);  // one rounding: exact
            bad += !close(z[i], (double)z0[i] + 0.75 * x[i], 1e-6, 1e-7);
        }
        EXPECT(bad == 0);
    }
    std::vector<float> x = uniform(100, 22);
    const std::vector<float> x0 = x;
    EXPECT(kiln_scale_f32(g_ctx, x.data(), x.data(), 100, 3.0f) == KILN_OK);  // in place
    EXPECT(x[17] == 3.0f * x0[17] && x[99] == 3.0f * x0[99]);
}

// ---- dropout -----------------------------------------------------------------------------------------------------

void dropout() {
    const uint64_t seed = 0x5EEDull, offset = 12345;
    for (size_t n : {size_t(1), size_t(7), size_t(33), size_t(257), size_t(100003)}) {
        std::vector<float> x = uniform(n, 30);
        x[0] = -0.0f;
        std::vector<float> y(n, NAN), u(n), dx(n, NAN);
        // p = 0: an exact copy, bit for bit (negative zero included).
        EXPECT(kiln_dropout_f32(g_ctx, x.data(), y.data(), (int64_t)n, 0.0f, seed, offset) == KILN_OK);
        EXPECT(std::memcmp(x.data(), y.data(), n * sizeof(float)) == 0);
        // p = 0.3: element i is kept (scaled by 1/0.7) exactly when the uniform stream at (seed, offset) is >= p.
        const float p = 0.3f, scale = 1.0f / (1.0f - p);
        EXPECT(kiln_rand_uniform_f32(g_ctx, u.data(), n, seed, offset, 0.0f, 1.0f) == KILN_OK);
        EXPECT(kiln_dropout_f32(g_ctx, x.data(), y.data(), (int64_t)n, p, seed, offset) == KILN_OK);
        EXPECT(kiln_dropout_backward_f32(g_ctx, x.data(), dx.data(), (int64_t)n, p, seed, offset) == KILN_OK);
        int bad = 0;
        size_t kept = 0;
        for (size_t i = 0; i < n; ++i) {
            const bool keep = u[i] >= p;
            kept += keep;
            bad += y[i] != (keep ? x[i] * scale : 0.0f);
            bad += std::memcmp(&dx[i], &y[i], 4) != 0;  // backward regenerates the same mask
        }
        EXPECT(bad == 0);
        if (n == 100003) {
            const double frac = (double)kept / n, sd = std::sqrt(0.3 * 0.7 / n);
            EXPECT(std::fabs(frac - 0.7) < 6 * sd);
        }
    }
    // Counter layout: one Philox block (4 elements) per counter, so offset + 1 is the same stream 4 elements later.
    const size_t n = 1001;
    const std::vector<float> x(n + 4, 1.0f);
    std::vector<float> a(n + 4), b(n);
    EXPECT(kiln_dropout_f32(g_ctx, x.data(), a.data(), (int64_t)(n + 4), 0.5f, 9, 100) == KILN_OK);
    EXPECT(kiln_dropout_f32(g_ctx, x.data(), b.data(), (int64_t)n, 0.5f, 9, 101) == KILN_OK);
    EXPECT(std::memcmp(a.data() + 4, b.data(), n * sizeof(float)) == 0);
    // In place.
    std::vector<float> c = uniform(n, 31);
    std::vector<float> d(n);
    EXPECT(kiln_dropout_f32(g_ctx, c.data(), d.data(), (int64_t)n, 0.25f, 3, 0) == KILN_OK);
    EXPECT(kiln_dropout_f32(g_ctx, c.data(), c.data(), (int64_t)n, 0.25f, 3, 0) == KILN_OK);
    EXPECT(std::memcmp(c.data(), d.data(), n * sizeof(float)) == 0);
}

// ---- validation --------------------------------------------------------------------------------------------------

void validation() {
    float buf[16] = {0};
    // Binary: strides, op, sizes, null pointers, the op named in the message.
    EXPECT(kiln_binary_f32(g_ctx, KILN_ADD, buf, 3, buf, 4, buf, 2, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_binary_f32") && message_has("stride_a") && message_has("got 3"));
    EXPECT(kiln_binary_f32(g_ctx, KILN_ADD, buf, 4, buf, 1, buf, 2, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("stride_b"));
    EXPECT(kiln_binary_f32(g_ctx, (kiln_binary_op)7, buf, 4, buf, 4, buf, 2, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'op'") && message_has("got 7"));
    EXPECT(kiln_binary_f32(g_ctx, KILN_ADD, buf, 4, buf, 4, buf, -2, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("outer") && message_has("-2"));
    EXPECT(kiln_binary_f32(g_ctx, KILN_ADD, buf, 0, buf, 0, buf, INT64_MAX / 2, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("overflow"));
    EXPECT(kiln_binary_f32(g_ctx, KILN_ADD, nullptr, 4, buf, 4, buf, 2, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'a' is null"));
    EXPECT(kiln_binary_f32(nullptr, KILN_ADD, buf, 4, buf, 4, buf, 2, 4) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_binary_backward_f32(g_ctx, KILN_MUL, buf, 4, nullptr, 4, buf, buf + 8, nullptr, 2, 4) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_binary_backward_f32") && message_has("'b' is null"));
    EXPECT(kiln_binary_backward_f32(g_ctx, KILN_ADD, nullptr, 4, nullptr, 4, buf, buf + 8, nullptr, 2, 4) == KILN_OK);
    EXPECT(kiln_binary_backward_f32(g_ctx, KILN_ADD, buf, 4, buf, 0, nullptr, buf + 8, nullptr, 2, 4) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'dy' is null"));
    // Activations.
    EXPECT(kiln_activation_f32(g_ctx, (kiln_activation)9, buf, buf, 4, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_activation_f32") && message_has("'act'") && message_has("got 9"));
    EXPECT(kiln_activation_f32(g_ctx, KILN_RELU, buf, buf, -1, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'n'") && message_has("-1"));
    EXPECT(kiln_activation_backward_f32(g_ctx, KILN_TANH, nullptr, nullptr, buf, buf, 4, 0) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'y' is null"));
    EXPECT(kiln_activation_backward_f32(g_ctx, KILN_TANH, nullptr, buf, buf, buf + 4, 4, 0) == KILN_OK);  // x unused
    EXPECT(kiln_activation_backward_f32(g_ctx, KILN_GELU, nullptr, buf, buf, buf + 4, 4, 0) ==
           KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'x' is null"));
    EXPECT(kiln_scale_f32(g_ctx, buf, nullptr, 4, 1) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_axpy_f32(g_ctx, -3, 1, buf, buf) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_scale_f32(g_ctx, nullptr, nullptr, 0, 1) == KILN_OK);  // empty buffers may be null
    // Dropout: p must be in [0, 1).
    for (float p : {1.0f, -0.1f, 1.5f, (float)NAN}) {
        EXPECT(kiln_dropout_f32(g_ctx, buf, buf, 4, p, 1, 0) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(message_has("kiln_dropout_f32") && message_has("'p'") && message_has("[0, 1)"));
    }
    EXPECT(kiln_dropout_backward_f32(g_ctx, buf, nullptr, 4, 0.5f, 1, 0) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_dropout_backward_f32") && message_has("'dx' is null"));
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    binary_ops();
    binary_in_place();
    binary_empty();
    linear_ops();
    dropout();
    validation();
    kiln_context_destroy(g_ctx);
    return kiln::test::finish("test_elementwise_cpu");
}
