// Double-precision references the CPU benchmarks check one result against before they time anything, so that a
// figure is never the speed of a wrong answer (a broken build flag, a kernel set this CPU picks that the tests did
// not). They are plain loops, independent of the library's kernels: the LSTM of one sample, the attention of one head.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <vector>

namespace kiln::bench {

using Doubles = std::vector<double>;

// |got - want| <= tol (rms(want) + |want|) for each of the n elements; prints the first miss. -inf must match -inf.
inline bool close_to(const char* what, const float* got, const Doubles& want, double tol) {
    double ss = 0;
    for (double w : want) ss += std::isfinite(w) ? w * w : 0.0;
    const double rms = want.empty() ? 0.0 : std::sqrt(ss / (double)want.size());
    for (size_t i = 0; i < want.size(); ++i) {
        const double g = got[i], w = want[i];
        const bool ok = std::isinf(w) ? g == w : std::fabs(g - w) <= tol * (rms + std::fabs(w));
        if (!ok) {
            std::fprintf(stderr, "%s[%zu] = %.9g, the double reference gives %.9g (rms %.3g)\n", what, i, g, w, rms);
            return false;
        }
    }
    return true;
}

// ---- LSTM: one sample through t steps (PyTorch's gate order i, f, g, o; zero h0 and c0) --------------------------

struct LstmSampleRef {
    Doubles y, hn, cn;        // (t, h), (h), (h)
    Doubles dx, dh0, dc0;     // (t, f), (h), (h)
    Doubles dwih, dwhh, db;   // (4h, f), (4h, h), (4h): this sample's share of the weight gradients
};

// x (t, f) and dy (t, h) are the sample's rows; w_ih (4h, f), w_hh (4h, h), bias (4h); dh_n = dc_n = 0.
inline LstmSampleRef lstm_sample_reference(int64_t t, int64_t f, int64_t h, const float* x, const float* wih,
                                           const float* whh, const float* bias, const float* dy) {
    auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    LstmSampleRef r;
    r.y.assign(t * h, 0), r.dx.assign(t * f, 0), r.dh0.assign(h, 0), r.dc0.assign(h, 0);
    r.dwih.assign(4 * h * f, 0), r.dwhh.assign(4 * h * h, 0), r.db.assign(4 * h, 0);
    Doubles gates(t * 4 * h), c(t * h), hprev(h, 0), cprev(h, 0);
    for (int64_t s = 0; s < t; ++s) {
        for (int64_t j = 0; j < 4 * h; ++j) {
            double z = bias[j];
            for (int64_t k = 0; k < f; ++k) z += (double)wih[j * f + k] * x[s * f + k];
            for (int64_t k = 0; k < h; ++k) z += (double)whh[j * h + k] * hprev[k];
            gates[s * 4 * h + j] = j / h == 2 ? std::tanh(z) : sig(z);
        }
        for (int64_t u = 0; u < h; ++u) {
            const double* g = &gates[s * 4 * h];
            c[s * h + u] = g[h + u] * cprev[u] + g[u] * g[2 * h + u];
            r.y[s * h + u] = g[3 * h + u] * std::tanh(c[s * h + u]);
        }
        std::copy(&r.y[s * h], &r.y[s * h] + h, hprev.begin());
        std::copy(&c[s * h], &c[s * h] + h, cprev.begin());
    }
    r.hn = hprev, r.cn = cprev;
    Doubles dh(h, 0), dc(h, 0), dz(4 * h);
    for (int64_t s = t - 1; s >= 0; --s) {
        const double* g = &gates[s * 4 * h];
        for (int64_t u = 0; u < h; ++u) {
            const double tc = std::tanh(c[s * h + u]), c0 = s > 0 ? c[(s - 1) * h + u] : 0.0;
            const double dhu = dh[u] + dy[s * h + u];
            const double dcu = dc[u] + dhu * g[3 * h + u] * (1 - tc * tc);
            dz[u] = dcu * g[2 * h + u] * g[u] * (1 - g[u]);
            dz[h + u] = dcu * c0 * g[h + u] * (1 - g[h + u]);
            dz[2 * h + u] = dcu * g[u] * (1 - g[2 * h + u] * g[2 * h + u]);
            dz[3 * h + u] = dhu * tc * g[3 * h + u] * (1 - g[3 * h + u]);
            dc[u] = dcu * g[h + u];
        }
        std::fill(dh.begin(), dh.end(), 0.0);
        for (int64_t j = 0; j < 4 * h; ++j) {
            r.db[j] += dz[j];
            for (int64_t k = 0; k < f; ++k) {
                r.dx[s * f + k] += dz[j] * wih[j * f + k];
                r.dwih[j * f + k] += dz[j] * x[s * f + k];
            }
            for (int64_t k = 0; k < h; ++k) {
                dh[k] += dz[j] * whh[j * h + k];
                if (s > 0) r.dwhh[j * h + k] += dz[j] * r.y[(s - 1) * h + k];
            }
        }
    }
    r.dh0 = dh, r.dc0 = dc;
    return r;
}

// ---- attention: one head, every score explicit ------------------------------------------------------------------

struct AttentionHeadRef {
    Doubles o, lse, dq, dk, dv;  // (t, d), (t), (t, d), (s, d), (s, d)
};

// q, dout (t, d) and k, v (s, d), contiguous rows of one head; causal is bottom-right aligned as kiln.h says.
inline AttentionHeadRef attention_head_reference(int64_t t, int64_t s, int64_t d, double scale, bool causal,
                                                 const float* q, const float* k, const float* v, const float* dout) {
    AttentionHeadRef r;
    r.o.assign(t * d, 0), r.lse.assign(t, 0), r.dq.assign(t * d, 0), r.dk.assign(s * d, 0), r.dv.assign(s * d, 0);
    Doubles p(s);
    for (int64_t i = 0; i < t; ++i) {
        const int64_t visible = causal ? std::min(s, i + (s - t) + 1) : s;
        double m = -std::numeric_limits<double>::infinity(), sum = 0;
        for (int64_t j = 0; j < visible; ++j) {
            double dot = 0;
            for (int64_t e = 0; e < d; ++e) dot += (double)q[i * d + e] * k[j * d + e];
            p[j] = scale * dot, m = std::max(m, p[j]);
        }
        for (int64_t j = 0; j < visible; ++j) sum += std::exp(p[j] - m);
        r.lse[i] = m + std::log(sum);
        for (int64_t j = 0; j < visible; ++j) {
            p[j] = std::exp(p[j] - r.lse[i]);
            for (int64_t e = 0; e < d; ++e) r.o[i * d + e] += p[j] * v[j * d + e];
        }
        double delta = 0;  // dout_i . o_i: the softmax Jacobian's row term
        for (int64_t e = 0; e < d; ++e) delta += (double)dout[i * d + e] * r.o[i * d + e];
        for (int64_t j = 0; j < visible; ++j) {
            double dp = 0;
            for (int64_t e = 0; e < d; ++e) dp += (double)dout[i * d + e] * v[j * d + e];
            const double ds = p[j] * (dp - delta) * scale;
            for (int64_t e = 0; e < d; ++e) {
                r.dq[i * d + e] += ds * k[j * d + e];
                r.dk[j * d + e] += ds * q[i * d + e];
                r.dv[j * d + e] += p[j] * dout[i * d + e];
            }
        }
    }
    return r;
}

}  // namespace kiln::bench
