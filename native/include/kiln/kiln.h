/* Kiln C ABI: the op entry points, one section per op family, after the runtime (contexts, devices, memory, copies,
 * graphs, profiling) of kiln_runtime.h, which this header includes: including kiln.h gives the whole ABI.
 * Every entry point returns a kiln_status and never aborts, exits or throws; on failure the message
 * for the calling thread is kept and kiln_last_error() returns it until the next failing call. */
#ifndef KILN_KILN_H
#define KILN_KILN_H

#include "kiln_runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- ops: fill and random --------------------------------------------------------------------- */

/* y[i] = value for i in [0, n). y is (n) */
KILN_API kiln_status kiln_fill_f32(kiln_context* ctx, float* y, size_t n, float value);

/* Philox4x32-10 streams (kernels/common/philox.h). Element i takes 32-bit word i%4 of the Philox block
 * with counter (offset + i/4) and key (seed): a call consumes ceil(n/4) counters, so the next call
 * should pass offset + ceil(n/4). The same (seed, offset) gives bit-identical values on every device. */
/* y[i] uniform in [lo, hi): lo < hi, both finite, hi - lo finite. y is (n) */
KILN_API kiln_status kiln_rand_uniform_f32(kiln_context* ctx, float* y, size_t n, uint64_t seed, uint64_t offset,
                                           float lo, float hi);
/* y[i] normal with the given mean and std, finite, std >= 0 (Box-Muller on word pairs). y is (n) */
KILN_API kiln_status kiln_rand_normal_f32(kiln_context* ctx, float* y, size_t n, uint64_t seed, uint64_t offset,
                                          float mean, float std);

/* ---- ops: conventions --------------------------------------------------------------------------------------
 * All tensors are dense row-major fp32 in the context's device memory (int32 where named). Forward entries assign
 * their outputs; backward entries assign the gradients they are given non-NULL pointers for (callers accumulate).
 * An input the call does not read may be NULL (binary backward's a and b for add, LSTM backward's w_ih without dx,
 * any buffer of no elements). On CUDA entries queue work on the context's stream and return; losses and `dloss` are
 * one-element device buffers, so a training step never waits for the host. No output overlaps another argument
 * unless its entry says it "may alias" it: then exactly its elements (in place) or apart. Core refuses other overlaps.
 * Special values, identical on both backends: max and max-pooling let the first NaN win and break ties by the
 * first index; a softmax row holding NaN or +inf, or only -inf, is all NaN (a -inf beside finite values gives 0);
 * a mean over zero elements is NaN; relu passes NaN through (and its backward dy at a NaN x); a dropped element is 0
 * even where x is NaN.
 * An entry's comment states the shape of each buffer argument, in one form: "x, y are (rows, cols)", "loss (1)" (sizes
 * are the entry's integer arguments or numbers), and "dmu or dlogvar may be NULL" for optional ones. A family bound by
 * no hand-written Java class gets its binding generated from these statements (java/src/codegen/GenerateBindings.java),
 * which refuses to build an entry with a buffer whose shape is not stated. */

/* ---- ops: gemm (native/src/cpu/gemm.cpp, kernels/gemm.cu) ---- */

/* C = alpha * op(A) * op(B) + beta * C for each of `batch` matrices (strides in elements between them).
 * op(A) is (m, k): A is stored (m, k) with leading dimension lda, or (k, m) when trans_a. op(B) is (k, n): B is
 * (k, n) ldb, or (n, k) when trans_b. C is (m, n) ldc and must not overlap A or B. beta == 0 never reads C. */
typedef struct kiln_gemm_desc {
    int32_t trans_a, trans_b;
    int64_t m, n, k;
    int64_t lda, ldb, ldc;
    int64_t batch;                          /* >= 1 */
    int64_t stride_a, stride_b, stride_c;   /* ignored when batch == 1 */
    float alpha, beta;
} kiln_gemm_desc;

KILN_API kiln_status kiln_gemm_f32(kiln_context* ctx, const kiln_gemm_desc* desc, const float* a, const float* b,
                                   float* c);

/* ---- ops: elementwise (native/src/cpu/elementwise.cpp, kernels/elementwise.cu) ---- */

typedef KILN_ENUM(kiln_binary_op) { KILN_ADD = 0, KILN_SUB = 1, KILN_MUL = 2, KILN_DIV = 3 } kiln_binary_op;

/* y[o, i] = a[o * stride_a + i] (op) b[o * stride_b + i] for o < outer, i < inner. stride_a and stride_b are each
 * inner (a full operand) or 0 (an operand of shape (inner) broadcast over the leading dimensions). y is (outer, inner)
 * and may alias a full operand; it must not overlap a broadcast one (every row reads it) unless outer is 1. */
KILN_API kiln_status kiln_binary_f32(kiln_context* ctx, kiln_binary_op op, const float* a, int64_t stride_a,
                                     const float* b, int64_t stride_b, float* y, int64_t outer, int64_t inner);
/* Gradients of kiln_binary_f32 given dy (outer, inner). da/db may be NULL (not wanted). A broadcast operand's
 * gradient (stride 0) is (inner), summed over outer. da and db may each alias dy (a broadcast one where outer is 1). */
KILN_API kiln_status kiln_binary_backward_f32(kiln_context* ctx, kiln_binary_op op, const float* a, int64_t stride_a,
                                              const float* b, int64_t stride_b, const float* dy, float* da, float* db,
                                              int64_t outer, int64_t inner);

typedef KILN_ENUM(kiln_activation) {
    KILN_RELU = 0, KILN_LEAKY_RELU = 1, KILN_TANH = 2, KILN_SIGMOID = 3, KILN_GELU = 4 /* exact, erf form */
} kiln_activation;

/* y = act(x); alpha is the negative slope of leaky_relu (ignored otherwise). x, y are (n); y may alias x. */
KILN_API kiln_status kiln_activation_f32(kiln_context* ctx, kiln_activation act, const float* x, float* y, int64_t n,
                                         float alpha);
/* dx = dy * act'(x); x and y are the forward input and output (relu, leaky_relu and gelu read x, tanh and sigmoid
 * read y; the other may be NULL). dx may alias dy or the one read. */
KILN_API kiln_status kiln_activation_backward_f32(kiln_context* ctx, kiln_activation act, const float* x,
                                                  const float* y, const float* dy, float* dx, int64_t n, float alpha);
/* y = alpha * x (y may alias x). */
KILN_API kiln_status kiln_scale_f32(kiln_context* ctx, const float* x, float* y, int64_t n, float alpha);
/* y += alpha * x (y may alias x). */
KILN_API kiln_status kiln_axpy_f32(kiln_context* ctx, int64_t n, float alpha, const float* x, float* y);

/* ---- ops: dropout (in the random family: native/src/cpu/random.cpp, kernels/random.cu) ---- */

/* Element i is kept when philox_uniform(seed, offset, i) >= p and then scaled by 1/(1-p); the backward regenerates
 * the same mask from (seed, offset), so no mask is stored. x, y, dy, dx are (n); y may alias x, dx dy. 0 <= p < 1. */
KILN_API kiln_status kiln_dropout_f32(kiln_context* ctx, const float* x, float* y, int64_t n, float p, uint64_t seed,
                                      uint64_t offset);
KILN_API kiln_status kiln_dropout_backward_f32(kiln_context* ctx, const float* dy, float* dx, int64_t n, float p,
                                               uint64_t seed, uint64_t offset);

/* ---- ops: reductions and softmax (native/src/cpu/reduce.cpp, kernels/reduce.cu) ---- */

/* y[o, i] = scale * sum_l x[o, l, i]. x is (outer, len, inner), y is (outer, inner). scale = 1 (sum) or 1/len (mean). */
KILN_API kiln_status kiln_reduce_sum_f32(kiln_context* ctx, const float* x, float* y, int64_t outer, int64_t len,
                                         int64_t inner, float scale);
/* dx[o, l, i] = scale * dy[o, i]. */
KILN_API kiln_status kiln_reduce_sum_backward_f32(kiln_context* ctx, const float* dy, float* dx, int64_t outer,
                                                  int64_t len, int64_t inner, float scale);
/* y[r] = max_c x[r, c]; index[r] = the first c attaining it (int32). x is (rows, cols), cols >= 1. */
KILN_API kiln_status kiln_max_lastdim_f32(kiln_context* ctx, const float* x, float* y, int32_t* index, int64_t rows,
                                          int64_t cols);
/* dx[r, c] = dy[r] if c == index[r] else 0. */
KILN_API kiln_status kiln_max_lastdim_backward_f32(kiln_context* ctx, const float* dy, const int32_t* index, float* dx,
                                                   int64_t rows, int64_t cols);
/* out[0] = sum x[i]^2: in double on the CPU, on the GPU in fp32 over a block per 16384 elements, in a fixed order. */
KILN_API kiln_status kiln_sum_squares_f32(kiln_context* ctx, const float* x, int64_t n, float* out);
/* Row-wise softmax (log_softmax when log != 0) over the last dimension, max-subtracted. x, y are (rows, cols). */
KILN_API kiln_status kiln_softmax_f32(kiln_context* ctx, const float* x, float* y, int64_t rows, int64_t cols,
                                      int32_t log);
/* From the forward output y: softmax dx = y * (dy - sum(dy * y)); log_softmax dx = dy - exp(y) * sum(dy). */
KILN_API kiln_status kiln_softmax_backward_f32(kiln_context* ctx, const float* y, const float* dy, float* dx,
                                               int64_t rows, int64_t cols, int32_t log);

/* ---- ops: losses (native/src/cpu/loss.cpp, kernels/loss.cu); all are means over their elements ---- */

/* loss[0] = mean_r (logsumexp(logits[r]) - logits[r, labels[r]]); lse (rows) keeps each row's logsumexp for the
 * backward. logits is (rows, cols), labels (rows) int32 in [0, cols); a label outside that range makes loss NaN. */
KILN_API kiln_status kiln_cross_entropy_f32(kiln_context* ctx, const float* logits, const int32_t* labels, float* loss,
                                            float* lse, int64_t rows, int64_t cols);
/* dlogits[r, c] = (exp(logits[r, c] - lse[r]) - [c == labels[r]]) * dloss[0] / rows; NaN over a bad label's row. */
KILN_API kiln_status kiln_cross_entropy_backward_f32(kiln_context* ctx, const float* logits, const int32_t* labels,
                                                     const float* lse, const float* dloss, float* dlogits,
                                                     int64_t rows, int64_t cols);
/* loss[0] = mean(max(x, 0) - x t + log1p(exp(-|x|))), BCE of sigmoid(x); its limit at x = +-inf. x, t are (n) */
KILN_API kiln_status kiln_bce_with_logits_f32(kiln_context* ctx, const float* x, const float* t, float* loss, int64_t n);
/* dx = (sigmoid(x) - t) * dloss[0] / n. */
KILN_API kiln_status kiln_bce_with_logits_backward_f32(kiln_context* ctx, const float* x, const float* t,
                                                       const float* dloss, float* dx, int64_t n);
/* loss[0] = mean((x - t)^2). */
KILN_API kiln_status kiln_mse_f32(kiln_context* ctx, const float* x, const float* t, float* loss, int64_t n);
/* dx = 2 (x - t) * dloss[0] / n. */
KILN_API kiln_status kiln_mse_backward_f32(kiln_context* ctx, const float* x, const float* t, const float* dloss,
                                           float* dx, int64_t n);

/* ---- ops: optimizers (native/src/cpu/optim.cpp, kernels/optim.cu): one fused pass, no buffers overlapping ---- */

/* SGD with momentum (PyTorch semantics, dampening 0): g = grad + weight_decay * param; v = momentum * v + g;
 * step = nesterov ? g + momentum * v : v; param -= lr * step. velocity may be NULL when momentum == 0. */
KILN_API kiln_status kiln_sgd_step_f32(kiln_context* ctx, float* param, const float* grad, float* velocity, int64_t n,
                                       float lr, float momentum, float weight_decay, int32_t nesterov);
/* Adam (decoupled == 0: L2 weight decay added to the gradient) or AdamW (decoupled != 0: param *= 1 - lr * wd).
 * m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; param -= lr * (m / bias_correction1) / (sqrt(v / bias_correction2) + eps),
 * with bias_correction{1,2} = 1 - beta{1,2}^step computed by the caller. */
KILN_API kiln_status kiln_adam_step_f32(kiln_context* ctx, float* param, const float* grad, float* m, float* v,
                                        int64_t n, float lr, float beta1, float beta2, float eps, float weight_decay,
                                        int32_t decoupled, float bias_correction1, float bias_correction2);

/* Capturable Adam, for CUDA graphs: the step count lives on the device, so a replayed step counts itself instead of
 * repeating the bias corrections that were frozen into the graph when it was captured. Once per optimizer step,
 * kiln_adam_advance_step adds 1 to step (int32 (1), saturating at INT32_MAX) and writes
 * bias_corrections (2) = {1 - beta1^step, 1 - beta2^step}: beta^step by square-and-multiply in double, rounded once
 * to float (kiln_adam_bias_correction in kernels/common/optim_math.h; dev.kiln.optim.Adam computes the host's
 * corrections by the same rule), so N capturable steps give the bits of N kiln_adam_step_f32 calls. Then
 * kiln_adam_step_capturable_f32 is kiln_adam_step_f32 with the corrections read from bias_corrections on the device. */
KILN_API kiln_status kiln_adam_advance_step(kiln_context* ctx, int32_t* step, float* bias_corrections, float beta1,
                                            float beta2);
KILN_API kiln_status kiln_adam_step_capturable_f32(kiln_context* ctx, float* param, const float* grad, float* m,
                                                   float* v, int64_t n, float lr, float beta1, float beta2, float eps,
                                                   float weight_decay, int32_t decoupled,
                                                   const float* bias_corrections);

/* ---- ops: convolution (native/src/cpu/conv2d.cpp, kernels/conv2d.cu) ---- */

/* A 2-D convolution in NCHW: x (n, c, h, w), w (k, c, r, s), bias (k) or NULL, y (n, k, p, q) with
 * p = (h + 2 pad_h - dilation_h (r - 1) - 1) / stride_h + 1 and likewise q; the caller fills p and q and the
 * entry points check them. (Cross-correlation, as in every DL framework.)
 * Algorithms on the CPU: an implicit GEMM for every shape, and on CPUs with AVX-512 or AVX2 (with FMA) Winograd
 * F(2x2, 3x3) for 3x3 stride-1 undilated layers with at least 8 input and 8 output channels (about 2x fewer
 * multiplies). Both sum in an order fixed by the shape, so results never depend on the thread count; Winograd's
 * transforms round differently from the direct sum (differences of a few ulps of the terms' magnitude).
 * KILN_CONV_WINOGRAD=0 in the environment keeps every layer on the implicit GEMM. */
typedef struct kiln_conv2d_desc {
    int64_t n, c, h, w;
    int64_t k, r, s;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int32_t dilation_h, dilation_w;
    int64_t p, q;
} kiln_conv2d_desc;

KILN_API kiln_status kiln_conv2d_forward_f32(kiln_context* ctx, const kiln_conv2d_desc* desc, const float* x,
                                             const float* w, const float* bias, float* y);
/* dx (n, c, h, w) from dy (n, k, p, q) and w. */
KILN_API kiln_status kiln_conv2d_backward_data_f32(kiln_context* ctx, const kiln_conv2d_desc* desc, const float* dy,
                                                   const float* w, float* dx);
/* dw (k, c, r, s) and, when dbias is not NULL, dbias (k) from x and dy. */
KILN_API kiln_status kiln_conv2d_backward_weight_f32(kiln_context* ctx, const kiln_conv2d_desc* desc, const float* x,
                                                     const float* dy, float* dw, float* dbias);
/* Bytes of scratch the CPU backend uses per call for this shape (bounded; 0 where none is needed). */
KILN_API kiln_status kiln_conv2d_workspace_size(const kiln_conv2d_desc* desc, uint64_t* bytes);

/* ---- ops: pooling and batch norm (native/src/cpu/pool.cpp, kernels/pool.cu; batchnorm.cpp / batchnorm.cu) ---- */

/* x (n, c, h, w) -> y (n, c, p, q) with p = (h + 2 pad_h - kernel_h) / stride_h + 1 (floor), likewise q. */
typedef struct kiln_pool2d_desc {
    int64_t n, c, h, w;
    int32_t kernel_h, kernel_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;
    int64_t p, q;
} kiln_pool2d_desc;

/* Max pooling; index (n, c, p, q) int32 receives the argmax's position in its input plane (row * w + col),
 * which the backward scatters to. Padding never wins (it is -inf). */
KILN_API kiln_status kiln_max_pool2d_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* x, float* y,
                                         int32_t* index);
KILN_API kiln_status kiln_max_pool2d_backward_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* dy,
                                                  const int32_t* index, float* dx);
/* Average pooling; count_include_pad != 0 divides by the full window, else by the in-bounds part. */
KILN_API kiln_status kiln_avg_pool2d_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* x, float* y,
                                         int32_t count_include_pad);
KILN_API kiln_status kiln_avg_pool2d_backward_f32(kiln_context* ctx, const kiln_pool2d_desc* desc, const float* dy,
                                                  float* dx, int32_t count_include_pad);

/* Batch norm over (n, c, hw) per channel. Training: batch statistics; saves mean (c) and invstd = 1/sqrt(var + eps)
 * (c) for the backward, and updates running_mean/running_var (unbiased variance) with momentum when they are not
 * NULL: running = (1 - momentum) running + momentum batch. gamma/beta (c) may be NULL (1 and 0). */
KILN_API kiln_status kiln_batch_norm_train_f32(kiln_context* ctx, int64_t n, int64_t c, int64_t hw, const float* x,
                                               const float* gamma, const float* beta, float* y, float* save_mean,
                                               float* save_invstd, float* running_mean, float* running_var,
                                               float momentum, float eps);
/* Evaluation: y = gamma (x - running_mean) / sqrt(running_var + eps) + beta. */
KILN_API kiln_status kiln_batch_norm_eval_f32(kiln_context* ctx, int64_t n, int64_t c, int64_t hw, const float* x,
                                              const float* gamma, const float* beta, const float* running_mean,
                                              const float* running_var, float eps, float* y);
/* Backward of the training form: dx, and dgamma/dbeta (c) when not NULL. With one value per channel (n*hw == 1)
 * the variance is 0: y = beta, dx = 0, and the running variance takes the batch variance (0). */
KILN_API kiln_status kiln_batch_norm_backward_f32(kiln_context* ctx, int64_t n, int64_t c, int64_t hw, const float* x,
                                                  const float* dy, const float* gamma, const float* save_mean,
                                                  const float* save_invstd, float* dx, float* dgamma, float* dbeta);
/* Backward of the evaluation form, for fine-tuning with frozen statistics: running_mean/running_var (c) are constants
 * (no gradient), invstd = 1/sqrt(running_var + eps) as in kiln_batch_norm_eval_f32, and
 *   dx = dy gamma invstd,   dgamma = sum over (n, hw) of dy (x - running_mean) invstd,   dbeta = sum of dy.
 * x, dy, dx are (n, c, hw); gamma (c) may be NULL (1). dx, dgamma, dbeta (c) may each be NULL (not wanted); the others
 * are assigned; dx may alias x or dy. n * hw == 0 is allowed: dgamma and dbeta are then 0. */
KILN_API kiln_status kiln_batch_norm_backward_eval_f32(kiln_context* ctx, int64_t n, int64_t c, int64_t hw,
                                                       const float* x, const float* dy, const float* gamma,
                                                       const float* running_mean, const float* running_var, float eps,
                                                       float* dx, float* dgamma, float* dbeta);

/* ---- ops: LSTM (native/src/cpu/lstm.cpp, kernels/lstm.cu; gate math in kernels/common/lstm_cell.h) ---- */

/* One batch-first LSTM layer over x (n, t, f) with hidden size h. Gates in PyTorch order (i, f, g, o):
 * w_ih (4h, f), w_hh (4h, h), bias (4h) (one bias: PyTorch's b_ih + b_hh). h0, c0 (n, h) may be NULL (zeros).
 * Outputs: y (n, t, h), h_n and c_n (n, h). Layers stack by feeding y to the next layer. */
typedef struct kiln_lstm_desc {
    int64_t n, t, f, h;
} kiln_lstm_desc;

/* Bytes the forward keeps for the backward in `reserve`: exactly what BPTT needs, 24*n*t*h: the activated gates
 * (n, t, 4h), the cell states (n, t, h) and the hidden state each step read (n, t, h), h0 at step 0. */
KILN_API kiln_status kiln_lstm_reserve_size(const kiln_lstm_desc* desc, uint64_t* bytes);
/* reserve may be NULL (inference: nothing is kept). */
KILN_API kiln_status kiln_lstm_forward_f32(kiln_context* ctx, const kiln_lstm_desc* desc, const float* x,
                                           const float* h0, const float* c0, const float* w_ih, const float* w_hh,
                                           const float* bias, float* y, float* h_n, float* c_n, void* reserve);
/* Full backpropagation through time from dy (n, t, h) and dh_n, dc_n (n, h) (either may be NULL: zero); h0 is
 * read from the reserve (the argument is accepted for symmetry and may be NULL). Writes
 * dx (n, t, f), dh0 and dc0 (n, h) (each may be NULL: not wanted), dw_ih, dw_hh, dbias (assigned, not added). */
KILN_API kiln_status kiln_lstm_backward_f32(kiln_context* ctx, const kiln_lstm_desc* desc, const float* x,
                                            const float* h0, const float* c0, const float* w_ih, const float* w_hh,
                                            const void* reserve, const float* dy, const float* dh_n, const float* dc_n,
                                            float* dx, float* dh0, float* dc0, float* dw_ih, float* dw_hh,
                                            float* dbias);

/* ---- ops: sampling (native/src/cpu/sampling.cpp, kernels/sampling.cu; math in kernels/common/sampling_math.h) ---- */

/* The VAE's reparameterization: z = mu + exp(logvar / 2) eps, where eps[i] is element i of the standard normal stream
 * kiln_rand_normal_f32 draws with (seed, offset): drawn inside the kernel and regenerated by the backward, never
 * stored. A call consumes ceil(n / 4) counters. The exp is built from correctly rounded operations, so z has the same
 * bits on every device. mu, logvar, z are (n); z may alias mu or logvar. */
KILN_API kiln_status kiln_reparameterize_f32(kiln_context* ctx, const float* mu, const float* logvar, float* z,
                                             int64_t n, uint64_t seed, uint64_t offset);
/* dmu = dz and dlogvar = dz exp(logvar / 2) eps / 2, eps regenerated from (seed, offset). logvar, dz, dmu, dlogvar are
 * (n); dmu or dlogvar may be NULL (not wanted). */
KILN_API kiln_status kiln_reparameterize_backward_f32(kiln_context* ctx, const float* logvar, const float* dz,
                                                      float* dmu, float* dlogvar, int64_t n, uint64_t seed,
                                                      uint64_t offset);
/* KL divergence of N(mu, exp(logvar)) from N(0, I), summed over the latent dimensions and averaged over the batch:
 * loss (1) = -1/(2 batch) sum over (batch, dim) of (1 + logvar - mu^2 - exp(logvar)). mu, logvar are (batch, dim);
 * one pass over both. batch == 0 gives NaN, as the other mean losses. */
KILN_API kiln_status kiln_gaussian_kl_f32(kiln_context* ctx, const float* mu, const float* logvar, float* loss,
                                          int64_t batch, int64_t dim);
/* With s = dloss[0] / batch: dmu = s mu, dlogvar = s (exp(logvar) - 1) / 2, in one pass. mu, logvar, dmu, dlogvar are
 * (batch, dim), dloss (1) is read on the device; dmu or dlogvar may be NULL (not wanted). */
KILN_API kiln_status kiln_gaussian_kl_backward_f32(kiln_context* ctx, const float* mu, const float* logvar,
                                                   const float* dloss, float* dmu, float* dlogvar, int64_t batch,
                                                   int64_t dim);

/* ---- ops: bf16 conversion (native/src/cpu/convert.cpp, kernels/convert.cu; rounding in kernels/common/bf16.h) ---- */

/* bfloat16 elements: the upper 16 bits of an IEEE fp32. Conversion from fp32 rounds to nearest, ties to even; NaN
 * stays NaN (quiet); +-inf and values that round past the largest finite bf16 become +-inf. x, y are (n). */
typedef uint16_t kiln_bf16;

KILN_API kiln_status kiln_convert_f32_to_bf16(kiln_context* ctx, const float* x, kiln_bf16* y, int64_t n);
KILN_API kiln_status kiln_convert_bf16_to_f32(kiln_context* ctx, const kiln_bf16* x, float* y, int64_t n);

/* ---- ops: attention (native/src/cpu/attention.cpp, kernels/attention_*.cu; math in kernels/common/attention_math.h) ---- */

/* Fused scaled dot-product multi-head attention, per (batch b, head h):
 *   O[b, h] = dropout(softmax(scale Q[b, h] K[b, h]^T + mask)) V[b, h]
 * Logical shapes: Q and O (batch, heads, q_len, head_dim); K and V (batch, heads, kv_len, head_dim). Each operand sits
 * at its own element strides {batch, head, token} with head_dim contiguous, so a packed QKV projection
 * (batch, q_len, 3, heads, head_dim) is read in place and O may be written token-major (batch, q_len, heads,
 * head_dim) for the output projection. A gradient has the strides of its operand (dq those of q, ...).
 * Mask: key s is visible to query t when s < kv_lengths[b] (when kv_lengths, int32 (batch) with values in
 * [0, kv_len], is not NULL) and, when causal, s <= t + (kv_len - q_len): bottom-right aligned, so the last query sees
 * every key (what a decoder reading a key/value cache needs); with q_len == kv_len it is the usual lower triangle.
 * A query with no visible key outputs 0, its lse is -inf and its gradients are 0; so does one whose visible scores
 * are all -inf (PyTorch gives NaN there). A NaN or +inf score makes the query's output, lse and gradients NaN. Key
 * tiles that are wholly masked are skipped, so a query reading a cache of capacity kv_len at length L costs O(L).
 * The q_len x kv_len scores are never stored: the forward keeps only lse (batch, heads, q_len), each query's
 * log-sum-exp of its scaled, masked scores (natural log), which the backward reads to rebuild the weights.
 * Dropout on the weights (after the softmax, before V): the weight (b, h, t, s) is kept when the Philox uniform of
 * element ((b heads + h) q_len + t) kv_len + s of (seed, offset) is >= dropout (the rule of kiln_dropout_f32), then
 * scaled by 1 / (1 - dropout); the backward regenerates the mask. A call consumes ceil(batch heads q_len kv_len / 4)
 * counters. 1 <= head_dim <= 128; any q_len, kv_len >= 1 (0: a no-op, writing nothing). Refused: negative strides,
 * output strides under which two elements of o (or of dq, dk, dv) would share memory (inputs may overlap: one K for
 * every head is fine), a non-finite scale, causal other than 0 or 1. kv_lengths outside [0, kv_len] are refused on a CPU
 * context, which reads them before the call; a CUDA kernel cannot report, so there a length is clamped to that range. */
typedef struct kiln_attention_desc {
    int64_t batch, heads, q_len, kv_len, head_dim;
    int64_t q_stride[3], k_stride[3], v_stride[3], o_stride[3]; /* elements between batches, heads, tokens */
    float scale;                                                /* usually 1 / sqrt(head_dim) */
    int32_t causal;
    float dropout;                                              /* 0 <= dropout < 1 */
    uint64_t seed, offset;                                      /* dropout's Philox stream (ignored when 0) */
} kiln_attention_desc;

/* o as above; lse (batch, heads, q_len) fp32 contiguous, may be NULL (inference: nothing kept). kv_lengths may be NULL. */
KILN_API kiln_status kiln_attention_forward_f32(kiln_context* ctx, const kiln_attention_desc* desc, const float* q,
                                                const float* k, const float* v, const int32_t* kv_lengths, float* o,
                                                float* lse);
/* dq, dk, dv (assigned; each may be NULL: not wanted) from dout (the strides of o), with o and lse from the forward
 * of the same desc. Deterministic: no float atomics, reduction orders fixed by the shape. dq, dk, dv may share one
 * buffer (a packed QKV gradient) at the same strides and lengths, each on elements of its own; nothing else. */
KILN_API kiln_status kiln_attention_backward_f32(kiln_context* ctx, const kiln_attention_desc* desc, const float* q,
                                                 const float* k, const float* v, const float* o, const float* dout,
                                                 const float* lse, const int32_t* kv_lengths, float* dq, float* dk,
                                                 float* dv);
/* The same with bf16 q, k, v, o, dout, dq, dk, dv and fp32 accumulation (tensor cores on sm_80+); lse stays fp32.
 * The CPU computes in fp32 from the widened inputs and rounds each output once. */
KILN_API kiln_status kiln_attention_forward_bf16(kiln_context* ctx, const kiln_attention_desc* desc, const kiln_bf16* q,
                                                 const kiln_bf16* k, const kiln_bf16* v, const int32_t* kv_lengths,
                                                 kiln_bf16* o, float* lse);
KILN_API kiln_status kiln_attention_backward_bf16(kiln_context* ctx, const kiln_attention_desc* desc,
                                                  const kiln_bf16* q, const kiln_bf16* k, const kiln_bf16* v,
                                                  const kiln_bf16* o, const kiln_bf16* dout, const float* lse,
                                                  const int32_t* kv_lengths, kiln_bf16* dq, kiln_bf16* dk,
                                                  kiln_bf16* dv);

/* ---- ops: layer norm (native/src/cpu/layernorm.cpp, kernels/layernorm.cu) ---- */

/* Over the last dimension of x (rows, cols): y = (x - mean) rstd gamma + beta, rstd = 1 / sqrt(var + eps) with the
 * biased variance (eps > 0 and finite); statistics in one fused pass. gamma, beta (cols) may be NULL (1 and 0). mean and rstd (rows) are
 * saved for the backward; they may be NULL (inference). y may alias x. */
KILN_API kiln_status kiln_layer_norm_f32(kiln_context* ctx, const float* x, const float* gamma, const float* beta,
                                         float* y, float* mean, float* rstd, int64_t rows, int64_t cols, float eps);
/* dx (rows, cols), dgamma and dbeta (cols) from dy; each output may be NULL (not wanted). dgamma and dbeta sum over
 * rows in an order fixed by the shape. dx may alias dy. */
KILN_API kiln_status kiln_layer_norm_backward_f32(kiln_context* ctx, const float* x, const float* dy,
                                                  const float* gamma, const float* mean, const float* rstd, float* dx,
                                                  float* dgamma, float* dbeta, int64_t rows, int64_t cols);

/* ---- ops: embedding and positions (native/src/cpu/embedding.cpp, kernels/embedding.cu) ---- */

/* y[i, :] = weight[indices[i], :]: indices (n) int32, weight (vocab, dim), y (n, dim). An index outside [0, vocab)
 * gives a row of NaN (indices live on the device; they are not read on the host). */
KILN_API kiln_status kiln_embedding_f32(kiln_context* ctx, const int32_t* indices, const float* weight, float* y,
                                        int64_t n, int64_t vocab, int64_t dim);
/* dweight (vocab, dim) assigned: row v = the sum of dy[i, :] over i with indices[i] == v, added in increasing i on
 * every backend (deterministic; no float atomics); indices outside [0, vocab) are ignored. n < 2^31. */
KILN_API kiln_status kiln_embedding_backward_f32(kiln_context* ctx, const int32_t* indices, const float* dy,
                                                 float* dweight, int64_t n, int64_t vocab, int64_t dim);
/* Sinusoidal positional encodings (Vaswani et al. 2017), y (len, dim) for positions start .. start + len - 1:
 * y[t, 2i] = sin(p w_i), y[t, 2i + 1] = cos(p w_i), w_i = 10000^(-2i / dim), p = start + t (dim may be odd);
 * start >= 0 and start + len must not overflow. */
KILN_API kiln_status kiln_sinusoidal_positions_f32(kiln_context* ctx, float* y, int64_t len, int64_t dim,
                                                   int64_t start);

/* ---- ops: fused bias + GELU (in the elementwise family) ---- */

/* y = gelu(x + bias) (exact, erf form) with x, y (rows, cols) and bias (cols); y may alias x. */
KILN_API kiln_status kiln_bias_gelu_f32(kiln_context* ctx, const float* x, const float* bias, float* y, int64_t rows,
                                        int64_t cols);
/* dx = dy gelu'(x + bias) (rows, cols), which may alias dy, and dbias (cols) = its sum over rows (fixed order);
 * either may be NULL. */
KILN_API kiln_status kiln_bias_gelu_backward_f32(kiln_context* ctx, const float* x, const float* bias,
                                                 const float* dy, float* dx, float* dbias, int64_t rows, int64_t cols);

/* ---- ops: transpose (native/src/cpu/transpose.cpp, kernels/transpose.cu) ---- */

/* Swaps two axes: y[o, c, m, r, i] = x[o, r, m, c, i]. x is (outer, rows, mid, cols, inner), y is (outer, cols, mid,
 * rows, inner). Exchanging axes a < b of a dense tensor is one call: rows and cols are the two axes' sizes, and outer,
 * mid and inner the products of the sizes before a, between a and b, and after b. Its backward is the same call on dy
 * with rows and cols exchanged. A copy, so the bits are the input's on every device. */
KILN_API kiln_status kiln_transpose_f32(kiln_context* ctx, const float* x, float* y, int64_t outer, int64_t rows,
                                        int64_t mid, int64_t cols, int64_t inner);

#ifdef __cplusplus
}
#endif

#endif /* KILN_KILN_H */
