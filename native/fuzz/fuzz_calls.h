// The call families of the harness, one function each, that LLVMFuzzerTestOneInput dispatches to: each reads its
// entry, sizes and pointers from s.in and makes (or, past the caps, skips) one call. Defined in fuzz_runtime.cpp,
// fuzz_ops.cpp, fuzz_layers.cpp and fuzz_transformer.cpp.
#pragma once

#include "fuzz_harness.h"

namespace kiln::fuzz {

// What core refuses of Adam's hyperparameters, though kiln.h does not say so: a non-finite lr or weight decay, a beta
// outside [0, 1), an eps that is negative or not finite.
inline bool adam_hyperparameters_valid(float lr, float beta1, float beta2, float eps, float weight_decay) {
    return std::isfinite(lr) && std::isfinite(weight_decay) && beta1 >= 0.0f && beta1 < 1.0f && beta2 >= 0.0f &&
           beta2 < 1.0f && eps >= 0.0f && std::isfinite(eps);
}

// fuzz_runtime.cpp: library info, contexts, memory, fill and random streams.
void call_library(State& s);
void call_context(State& s);
void call_memory(State& s);
void call_fill_random(State& s);

// fuzz_ops.cpp: gemm, binary, pointwise and row-wise ops.
void call_gemm(State& s);
void call_binary(State& s);
void call_pointwise(State& s);
void call_rows(State& s);

// fuzz_layers.cpp: convolution, pooling, batch norm, LSTM and the VAE's sampling.
void call_conv(State& s);
void call_pool(State& s);
void call_batchnorm(State& s);
void call_lstm(State& s);
void call_sampling(State& s);

// fuzz_transformer.cpp: bf16 conversion, attention, layer norm, embedding and positions, bias + GELU, pitched copies.
void call_convert(State& s);
void call_attention(State& s);
void call_layer_norm(State& s);
void call_embedding(State& s);
void call_bias_gelu(State& s);
void call_copy_2d(State& s);
void call_graph_and_timing(State& s);  // fuzz_graph.cpp
void call_profiling(State& s);        // fuzz_graph.cpp

}  // namespace kiln::fuzz
