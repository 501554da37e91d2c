// One batch-first LSTM layer on the CPU. Forward: the input projection of all steps is one GEMM, then each step runs
// the recurrent GEMM into that step's slice and one cell pass (kernels/common/lstm_cell.h) over the four
// pre-activations. Backward: one fused cell pass per step (which also adds the step into dbias) and the recurrent
// GEMM for dh_{t-1}; then dW_ih and dW_hh over all steps, two products sharing one packing of dgates^T, and dx.
// The recurrence is split by batch rows across threads (see kMinRows); the all-steps GEMMs are split inside sgemm.
#include "lstm.h"

#include <algorithm>
#include <cstring>
#include <vector>

#include "common/lstm_cell.h"
#include "cpu/parallel.h"
#include "cpu/sgemm.h"
#include "cpu/simd.h"
#include "cpu/work_items.h"

// The file is built for the x86-64 baseline (SSE2, 4 lanes). The cell passes are cloned for AVX-512 and for AVX2
// with FMA (cpu/simd.h's KILN_VECTOR_CLONES), so they run 16 or 8 cells per instruction where the CPU allows, with
// the same bits; the baseline clone calls libm's fmaf (exact, slow) on the rare x86-64 without FMA.

namespace kiln::cpu {

namespace {

// Rows of an (rows, width) operand with leading dimension ld; ld == 0 repeats one row (a shared row of zeros).
struct Rows {
    const float* p;
    int64_t ld;
    const float* row(int64_t b) const { return p + b * ld; }
};

// Forward of the cells j < len of one batch row. g points at the row's pre-activations without bias (gate k of
// unit j at g[k*h + j]) and receives the activated gates in place; bias is laid out the same way. c_prev may
// alias c (inference keeps the running cell state in c_n); ivdep because that aliasing is element-to-element.
// Two passes over the row, the four activations and then the state update, each element computing exactly what
// lstm::cell_forward computes: one pass chains five activations per element (tanh(c) waits for the other four), a
// dependency chain long enough that the out-of-order core cannot overlap enough elements to fill its pipes; apart,
// the row's pass runs 13-16% faster (819,200 cells on one Zen 5 core, 4 KiB rows in L1: 1.88 to 1.57 ms).
KILN_VECTOR_CLONES
void cell_forward_seg(float* g, const float* bias, const float* c_prev, float* c, float* hy, int64_t len, int64_t h) {
    float *gi = g, *gf = g + h, *gg = g + 2 * h, *go = g + 3 * h;
#pragma GCC ivdep
    for (int64_t j = 0; j < len; ++j) {
        gi[j] = lstm::gate_sigmoid(kiln_fadd(gi[j], bias[j]));
        gf[j] = lstm::gate_sigmoid(kiln_fadd(gf[j], bias[h + j]));
        gg[j] = lstm::gate_tanh(kiln_fadd(gg[j], bias[2 * h + j]));
        go[j] = lstm::gate_sigmoid(kiln_fadd(go[j], bias[3 * h + j]));
    }
#pragma GCC ivdep
    for (int64_t j = 0; j < len; ++j) {
        const float cj = lstm::cell_state(gi[j], gf[j], gg[j], c_prev[j]);
        c[j] = cj;
        hy[j] = lstm::cell_output(go[j], cj);
    }
}

// Backward of the cells j < len of one batch row: g (activated gates), c = c_t, c_prev from the reserve; the
// gradient reaching h_t is dy + dh (output and recurrence), dc_in the one reaching c_t from step t+1. Writes the
// pre-activation gradients dg (layout of g) and dc_out = dc_{t-1} (may alias dc_in), and adds dg into the row's own
// dbias accumulator db (layout of g): summed here while dg is in registers, where a column sum over all steps
// afterwards read the whole n t 4h dgates once more (3% of the large LSTM's forward+backward).
KILN_VECTOR_CLONES
void cell_backward_seg(const float* g, const float* c, const float* c_prev, const float* dy, const float* dh,
                       const float* dc_in, float* dg, float* dc_out, float* db, int64_t len, int64_t h) {
#pragma GCC ivdep
    for (int64_t j = 0; j < len; ++j) {
        const lstm::CellGrad r = lstm::cell_backward(g[j], g[h + j], g[2 * h + j], g[3 * h + j], c[j], c_prev[j],
                                                     kiln_fadd(dy[j], dh[j]), dc_in[j]);
        dg[j] = r.di;
        dg[h + j] = r.df;
        dg[2 * h + j] = r.dg;
        dg[3 * h + j] = r.do_;
        dc_out[j] = r.dc_prev;
        db[j] = kiln_fadd(db[j], r.di);
        db[h + j] = kiln_fadd(db[h + j], r.df);
        db[2 * h + j] = kiln_fadd(db[2 * h + j], r.dg);
        db[3 * h + j] = kiln_fadd(db[3 * h + j], r.do_);
    }
}

// sum[j] += a[r * lda + j] for r < rows, j < len: rows in order, so the result does not depend on the thread count.
KILN_VECTOR_CLONES
void add_column_sums(const float* a, int64_t lda, int64_t rows, float* sum, int64_t len) {
    for (int64_t r = 0; r < rows; ++r) {
        const float* row = a + r * lda;
#pragma GCC ivdep
        for (int64_t j = 0; j < len; ++j) sum[j] = kiln_fadd(sum[j], row[j]);
    }
}

// Batch rows are independent through time, so each thread runs the whole recurrence for a contiguous block of
// rows: one fork-join per call instead of several per step (the GEMM's and the cell pass's). Small steps are
// dominated by those joins, and on a loaded machine a join waits for a descheduled worker on every step.
// Blocks of at least kMinRows rows keep each thread's per-step GEMM from being all packing; the GEMMs called
// inside a block run on the calling thread (the pool runs nested parallel_for inline).
constexpr int64_t kMinRows = 8;

// The rows of each thread's per-step products under that split, which picks the GEMM's register tile (PackedB).
int64_t rows_per_thread(int64_t n) {
    return work::ceil_div(n, std::max<int64_t>(1, std::min<int64_t>(num_threads(), n / kMinRows)));
}

// Per-thread buffers of n t 4h floats (13 MiB at n 32, t 100, h 256), reused from call to call: the inference
// forward's pre-activations and the backward's dgates. A fresh allocation of that size goes back to the kernel when
// freed, so every call would fault its pages in again (about 5% of the forward). Kept at the largest size seen.
thread_local work::Scratch t_inference_gates;
thread_local work::Scratch t_backward_dgates;
// The backward's per-row dbias sums (n, 4h).
thread_local work::Scratch t_backward_dbias_rows;

}  // namespace

void lstm_forward_f32(int64_t n, int64_t t, int64_t f, int64_t h, const float* x, const float* h0, const float* c0,
                      const float* w_ih, const float* w_hh, const float* bias, float* y, float* h_n, float* c_n,
                      float* reserve) {
    const int64_t G = 4 * h, ldg = t * G, ldh = t * h;  // gates rows are (b, s) with (b, s) at b*ldg + s*G
    float *gates, *cell = nullptr, *hprev = nullptr;
    if (reserve) {
        const lstm::ReserveLayout L = lstm::reserve_layout(n, t, h);
        gates = reserve + L.gates;
        cell = reserve + L.cell;
        hprev = reserve + L.hprev;
    } else {
        gates = t_inference_gates.get((size_t)(n * t * G));  // inference: the pre-activations still need a home
    }
    const std::vector<float> zeros((size_t)h, 0.0f);

    // w_hh^T (h, 4h) packed once per call into the GEMM's panels: sgemm would pack it again at every step, as much
    // memory traffic as the step's multiply itself (its M is a thread's few batch rows).
    const PackedB whh_t(true, h, G, w_hh, h, rows_per_thread(n));

    // Input projection of every step at once: gates (n*t, 4h) = x (n*t, f) w_ih^T. The bias is added in the cell pass.
    sgemm(false, true, n * t, G, f, 1.0f, x, f, w_ih, f, 0.0f, gates, G);
    if (hprev)
        for (int64_t b = 0; b < n; ++b) std::memcpy(hprev + b * ldh, h0 ? h0 + b * h : zeros.data(), h * sizeof(float));

    parallel_for(n, [&](int64_t r0, int64_t r1) {
        const int64_t m = r1 - r0;
        float* yr = y + r0 * ldh;
        for (int64_t s = 0; s < t; ++s) {
            float* gs = gates + r0 * ldg + s * G;
            // h_{s-1}: kept in the reserve when training, else read back from y; at s = 0 h0, or nothing to add.
            const float* hp = (s == 0 && !h0) ? nullptr
                              : hprev        ? hprev + r0 * ldh + s * h
                              : s > 0        ? yr + (s - 1) * h
                                             : h0 + r0 * h;
            const int64_t hp_ld = (hprev || s > 0) ? ldh : h;
            if (hp) sgemm_packed_b(m, 1.0f, hp, hp_ld, whh_t, 1.0f, gs, ldg);

            const Rows cp = s > 0 ? (cell ? Rows{cell + r0 * ldh + (s - 1) * h, ldh} : Rows{c_n + r0 * h, h})
                                  : (c0 ? Rows{c0 + r0 * h, h} : Rows{zeros.data(), 0});
            float* cout = cell ? cell + r0 * ldh + s * h : c_n + r0 * h;
            const int64_t cout_ld = cell ? ldh : h;
            const bool last = s == t - 1;
            float* hnext = (hprev && !last) ? hprev + r0 * ldh + (s + 1) * h : nullptr;
            for (int64_t b = 0; b < m; ++b) {
                float* yb = yr + b * ldh + s * h;
                float* cb = cout + b * cout_ld;
                cell_forward_seg(gs + b * ldg, bias, cp.row(b), cb, yb, h, h);
                if (hnext) std::memcpy(hnext + b * ldh, yb, h * sizeof(float));
                if (last) {
                    std::memcpy(h_n + (r0 + b) * h, yb, h * sizeof(float));
                    if (cell) std::memcpy(c_n + (r0 + b) * h, cb, h * sizeof(float));
                }
            }
        }
    }, kMinRows);
}

void lstm_backward_f32(int64_t n, int64_t t, int64_t f, int64_t h, const float* x, const float* c0, const float* w_ih,
                       const float* w_hh, const float* reserve, const float* dy, const float* dh_n, const float* dc_n,
                       float* dx, float* dh0, float* dc0, float* dw_ih, float* dw_hh, float* dbias) {
    const int64_t G = 4 * h, ldg = t * G, ldh = t * h;
    const lstm::ReserveLayout L = lstm::reserve_layout(n, t, h);
    const float* gates = reserve + L.gates;
    const float* cell = reserve + L.cell;
    const float* hprev = reserve + L.hprev;
    // dgates (n, t, 4h): gradients of the pre-activations, laid out like the gates; dh, dc (n, h): the gradients
    // flowing from step s+1 into h_s and c_s.
    float* dgates = t_backward_dgates.get((size_t)(n * t * G));  // every element is written before it is read
    float* db_rows = t_backward_dbias_rows.get((size_t)(n * G));
    std::fill(db_rows, db_rows + n * G, 0.0f);
    std::vector<float> dh((size_t)(n * h)), dc((size_t)(n * h));
    const std::vector<float> zeros((size_t)h, 0.0f);
    const PackedB whh(false, G, h, w_hh, h, rows_per_thread(n));  // dh's B at every step, packed once (as in the forward)

    parallel_for(n, [&](int64_t r0, int64_t r1) {
        const int64_t m = r1 - r0;
        for (int64_t s = t - 1; s >= 0; --s) {
            const bool first = s == t - 1;
            const Rows cp = s > 0 ? Rows{cell + r0 * ldh + (s - 1) * h, ldh}
                                  : (c0 ? Rows{c0 + r0 * h, h} : Rows{zeros.data(), 0});
            const Rows dh_in = first ? (dh_n ? Rows{dh_n + r0 * h, h} : Rows{zeros.data(), 0}) : Rows{dh.data() + r0 * h, h};
            const Rows dc_in = first ? (dc_n ? Rows{dc_n + r0 * h, h} : Rows{zeros.data(), 0}) : Rows{dc.data() + r0 * h, h};
            float* dc_out = ((s == 0 && dc0) ? dc0 : dc.data()) + r0 * h;
            float* dgs = dgates + r0 * ldg + s * G;
            for (int64_t b = 0; b < m; ++b) {
                const int64_t gi = (r0 + b) * ldg + s * G, hi = (r0 + b) * ldh + s * h;
                cell_backward_seg(gates + gi, cell + hi, cp.row(b), dy + hi, dh_in.row(b), dc_in.row(b),
                                  dgates + gi, dc_out + b * h, db_rows + (r0 + b) * G, h, h);
            }
            // dh_{s-1} (m, h) = dgates_s (m, 4h) w_hh (4h, h); at s = 0 that is dh0.
            float* dh_out = s > 0 ? dh.data() : dh0;
            if (dh_out) sgemm_packed_b(m, 1.0f, dgs, ldg, whh, 0.0f, dh_out + r0 * h, h);
        }
    }, kMinRows);

    // dbias: each batch row's sum over its steps (in step order, t-1 down to 0), then the rows in order, so the
    // result does not depend on how rows were split across threads.
    std::fill(dbias, dbias + G, 0.0f);
    add_column_sums(db_rows, G, n, dbias, G);

    // Weight gradients over all steps at once: the rows (b, s) of dgates pair with the rows of x and of hprev.
    // dW_ih = dgates^T x and dW_hh = dgates^T hprev share their A: dgates^T, the large operand, is packed once for
    // both (two separate GEMMs were 9% slower), and x and hprev are read where they lie.
    const SharedAPart parts[2] = {{x, f, f, dw_ih, f}, {hprev, h, h, dw_hh, h}};
    sgemm_shared_a(true, G, n * t, 1.0f, dgates, G, parts, 2, 0.0f);
    if (dx) sgemm(false, false, n * t, f, G, 1.0f, dgates, G, w_ih, f, 0.0f, dx, f);
}

}  // namespace kiln::cpu
