// Digest of the outputs of the CPU ops that split work or reductions across threads (conv2d in every algorithm and
// direction, GEMM, batch norm, sums, layer norm, the embedding backward, bias + GELU, attention, the LSTM), one
// "name digest" line each.
// The ctest `thread_count_independence` runs it with KILN_NUM_THREADS=1 and =3 and requires identical lines: results
// must not depend on the thread count, which the library promises and a single process cannot check (the thread count
// is read once).
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

namespace {

kiln_context* g_ctx = nullptr;
bool g_ok = true;

uint64_t digest(const std::vector<float>& v) {  // FNV-1a over the bytes
    uint64_t h = 1469598103934665603ull;
    const unsigned char* p = reinterpret_cast<const unsigned char*>(v.data());
    for (size_t i = 0; i < v.size() * sizeof(float); ++i) h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

void report(const char* name, const char* what, kiln_status st, const std::vector<float>& v) {
    if (st != KILN_OK) {
        std::printf("%s %s FAILED: %s\n", name, what, kiln_last_error());
        g_ok = false;
        return;
    }
    std::printf("%s %s %016llx\n", name, what, (unsigned long long)digest(v));
}

struct Conv {
    const char* name;
    int64_t n, c, h, w, k, r;
    int32_t stride, pad;
};

void conv(const Conv& t) {
    kiln_conv2d_desc d{};
    d.n = t.n, d.c = t.c, d.h = t.h, d.w = t.w, d.k = t.k, d.r = t.r, d.s = t.r;
    d.stride_h = d.stride_w = t.stride, d.pad_h = d.pad_w = t.pad, d.dilation_h = d.dilation_w = 1;
    d.p = (t.h + 2 * t.pad - t.r) / t.stride + 1;
    d.q = (t.w + 2 * t.pad - t.r) / t.stride + 1;
    const size_t nx = d.n * d.c * d.h * d.w, nw = d.k * d.c * d.r * d.s, ny = d.n * d.k * d.p * d.q;
    const std::vector<float> x = kiln::test::uniform(nx, 1), w = kiln::test::uniform(nw, 2),
                             b = kiln::test::uniform(d.k, 3), dy = kiln::test::uniform(ny, 4);
    std::vector<float> y(ny), dx(nx), dw(nw), db(d.k);
    report(t.name, "forward", kiln_conv2d_forward_f32(g_ctx, &d, x.data(), w.data(), b.data(), y.data()), y);
    report(t.name, "backward-data", kiln_conv2d_backward_data_f32(g_ctx, &d, dy.data(), w.data(), dx.data()), dx);
    const kiln_status st = kiln_conv2d_backward_weight_f32(g_ctx, &d, x.data(), dy.data(), dw.data(), db.data());
    report(t.name, "backward-weight", st, dw);
    report(t.name, "backward-bias", st, db);
}

}  // namespace

int main() {
    if (kiln_context_create(KILN_DEVICE_CPU, 0, &g_ctx) != KILN_OK) {
        std::printf("cannot create a CPU context: %s\n", kiln_last_error());
        return 1;
    }
    const Conv convs[] = {
        {"conv-winograd-cnn2", 16, 32, 13, 13, 64, 3, 1, 0},   // Winograd on AVX-512, else the implicit GEMM
        {"conv-winograd-p1", 4, 16, 30, 30, 24, 3, 1, 1},
        {"conv-cnn1-dot-wgrad", 16, 1, 28, 28, 32, 3, 1, 0},   // few taps: the dot-form weight gradient
        {"conv-stride2", 8, 12, 17, 17, 20, 3, 2, 1},          // the generic (pitch q) layout
        {"conv-5x5", 6, 10, 16, 16, 12, 5, 1, 2},
    };
    for (const Conv& t : convs) conv(t);

    {  // GEMM large enough to be split across threads
        kiln_gemm_desc d{};
        d.m = 300, d.n = 257, d.k = 700, d.lda = 700, d.ldb = 257, d.ldc = 257, d.batch = 1, d.alpha = 1.0f;
        const std::vector<float> a = kiln::test::uniform(300 * 700, 5), b = kiln::test::uniform(700 * 257, 6);
        std::vector<float> c(300 * 257);
        report("gemm", "c", kiln_gemm_f32(g_ctx, &d, a.data(), b.data(), c.data()), c);
    }
    {  // batch norm training forward and backward (per-channel sums split into blocks)
        const int64_t n = 32, c = 5, hw = 3000;
        const std::vector<float> x = kiln::test::uniform(n * c * hw, 7), dy = kiln::test::uniform(n * c * hw, 8);
        const std::vector<float> gamma = kiln::test::uniform(c, 9), beta = kiln::test::uniform(c, 10);
        std::vector<float> y(n * c * hw), mean(c), invstd(c), dx(n * c * hw), dgamma(c), dbeta(c);
        report("batch_norm", "y", kiln_batch_norm_train_f32(g_ctx, n, c, hw, x.data(), gamma.data(), beta.data(), y.data(),
                                                           mean.data(), invstd.data(), nullptr, nullptr, 0.1f, 1e-5f),
               y);
        const kiln_status st = kiln_batch_norm_backward_f32(g_ctx, n, c, hw, x.data(), dy.data(), gamma.data(), mean.data(),
                                                            invstd.data(), dx.data(), dgamma.data(), dbeta.data());
        report("batch_norm", "dx", st, dx);
        report("batch_norm", "dgamma", st, dgamma);
    }
    {  // attention: query tiles split across threads forward, whole heads backward (causal, key lengths, dropout)
        kiln_attention_desc d{};
        d.batch = 3, d.heads = 2, d.q_len = 150, d.kv_len = 130, d.head_dim = 40;
        for (int64_t* s : {d.q_stride, d.o_stride}) s[0] = 2 * 150 * 40, s[1] = 150 * 40, s[2] = 40;
        for (int64_t* s : {d.k_stride, d.v_stride}) s[0] = 2 * 130 * 40, s[1] = 130 * 40, s[2] = 40;
        d.scale = 0.15f, d.causal = 1, d.dropout = 0.25f, d.seed = 17, d.offset = 5;
        const int32_t lengths[3] = {130, 77, 0};
        const size_t nq = 3 * 2 * 150 * 40, nkv = 3 * 2 * 130 * 40;
        const std::vector<float> q = kiln::test::uniform(nq, 12), k = kiln::test::uniform(nkv, 13),
                                 v = kiln::test::uniform(nkv, 14), dout = kiln::test::uniform(nq, 15);
        std::vector<float> o(nq), lse(3 * 2 * 150), dq(nq), dk(nkv), dv(nkv);
        kiln_status st = kiln_attention_forward_f32(g_ctx, &d, q.data(), k.data(), v.data(), lengths, o.data(), lse.data());
        report("attention", "o", st, o);
        report("attention", "lse", st, lse);
        st = kiln_attention_backward_f32(g_ctx, &d, q.data(), k.data(), v.data(), o.data(), dout.data(), lse.data(),
                                         lengths, dq.data(), dk.data(), dv.data());
        report("attention", "dq", st, dq);
        report("attention", "dk", st, dk);
        report("attention", "dv", st, dv);
    }
    {  // a long sum
        const std::vector<float> x = kiln::test::uniform(3 * 400000, 11);
        std::vector<float> s(3);
        report("reduce_sum", "rows", kiln_reduce_sum_f32(g_ctx, x.data(), s.data(), 3, 400000, 1, 1.0f), s);
    }
    {  // layer norm forward and backward (dgamma/dbeta over row blocks), rows split across threads
        const int64_t rows = 1500, cols = 300;
        const std::vector<float> x = kiln::test::uniform(rows * cols, 12), dy = kiln::test::uniform(rows * cols, 13);
        const std::vector<float> gamma = kiln::test::uniform(cols, 14), beta = kiln::test::uniform(cols, 15);
        std::vector<float> y(rows * cols), mean(rows), rstd(rows), dx(rows * cols), dgamma(cols), dbeta(cols);
        report("layer_norm", "y", kiln_layer_norm_f32(g_ctx, x.data(), gamma.data(), beta.data(), y.data(), mean.data(),
                                                       rstd.data(), rows, cols, 1e-5f), y);
        const kiln_status st = kiln_layer_norm_backward_f32(g_ctx, x.data(), dy.data(), gamma.data(), mean.data(),
                                                            rstd.data(), dx.data(), dgamma.data(), dbeta.data(), rows,
                                                            cols);
        report("layer_norm", "dx", st, dx);
        report("layer_norm", "dgamma", st, dgamma);
        report("layer_norm", "dbeta", st, dbeta);
    }
    {  // embedding backward: its blocks of (vocab rows x columns) follow the thread count, its bits must not
        const int64_t n = 6000, vocab = 97, dim = 500;
        std::vector<int32_t> idx(n);
        for (int64_t i = 0; i < n; ++i) idx[i] = (int32_t)((i * 7919) % (vocab + 3)) - 1;  // some out of range
        const std::vector<float> dy = kiln::test::uniform(n * dim, 16);
        std::vector<float> dw(vocab * dim);
        report("embedding", "dweight", kiln_embedding_backward_f32(g_ctx, idx.data(), dy.data(), dw.data(), n, vocab, dim),
               dw);
    }
    {  // bias + GELU backward: dbias over row blocks
        const int64_t rows = 3000, cols = 200;
        const std::vector<float> x = kiln::test::uniform(rows * cols, 17), dy = kiln::test::uniform(rows * cols, 18);
        const std::vector<float> bias = kiln::test::uniform(cols, 19);
        std::vector<float> dx(rows * cols), dbias(cols);
        const kiln_status st =
            kiln_bias_gelu_backward_f32(g_ctx, x.data(), bias.data(), dy.data(), dx.data(), dbias.data(), rows, cols);
        report("bias_gelu", "dx", st, dx);
        report("bias_gelu", "dbias", st, dbias);
    }
    {  // LSTM: batch rows split across threads in blocks of 8 (the recurrence), dbias summed per row, all-step GEMMs
        const kiln_lstm_desc d{37, 6, 20, 33};
        const int64_t G = 4 * d.h;
        uint64_t bytes = 0;
        kiln_lstm_reserve_size(&d, &bytes);
        const std::vector<float> x = kiln::test::uniform(d.n * d.t * d.f, 20), h0 = kiln::test::uniform(d.n * d.h, 21),
                                 c0 = kiln::test::uniform(d.n * d.h, 22), wih = kiln::test::uniform(G * d.f, 23),
                                 whh = kiln::test::uniform(G * d.h, 24), bias = kiln::test::uniform(G, 25),
                                 dy = kiln::test::uniform(d.n * d.t * d.h, 26);
        std::vector<float> y(d.n * d.t * d.h), hn(d.n * d.h), cn(d.n * d.h), reserve(bytes / sizeof(float));
        std::vector<float> dx(d.n * d.t * d.f), dh0(d.n * d.h), dc0(d.n * d.h), dwih(G * d.f), dwhh(G * d.h), db(G);
        report("lstm", "y", kiln_lstm_forward_f32(g_ctx, &d, x.data(), h0.data(), c0.data(), wih.data(), whh.data(),
                                                  bias.data(), y.data(), hn.data(), cn.data(), reserve.data()), y);
        const kiln_status st =
            kiln_lstm_backward_f32(g_ctx, &d, x.data(), h0.data(), c0.data(), wih.data(), whh.data(), reserve.data(),
                                   dy.data(), nullptr, nullptr, dx.data(), dh0.data(), dc0.data(), dwih.data(),
                                   dwhh.data(), db.data());
        for (const auto& [what, v] : {std::pair<const char*, const std::vector<float>*>{"dx", &dx}, {"dh0", &dh0},
                                      {"dc0", &dc0}, {"dw_ih", &dwih}, {"dw_hh", &dwhh}, {"dbias", &db}})
            report("lstm", what, st, *v);
    }
    kiln_context_destroy(g_ctx);
    return g_ok ? 0 : 1;
}
