// libFuzzer target over the whole C ABI (kiln.h): the input is decoded into a sequence of calls with fuzzed sizes,
// descriptors, enums, scalars and pointers (null, aliased, overlapping in part, the context's own blocks) on live,
// destroyed and foreign contexts, CPU backend only. Build and run: native/fuzz/run.sh.
//
// The ABI cannot know how long a buffer is, so the harness keeps its side of the contract: every pointer it passes to
// a call that is valid by kiln.h is a heap block of exactly the size that call may touch (so AddressSanitizer sees one
// element too many), and a valid call whose buffers would pass kMaxCallBytes or whose work would pass kMaxWork is not
// made. A call that kiln.h makes invalid (a bad context, a negative size, a size whose bytes overflow int64, a bad
// enum or window) gets 1-element buffers where its real footprint is too large, and must fail: validation has to
// refuse it before touching memory. The oracle is then: no sanitizer report, no crash, invalid calls fail, and the
// allocator's counters return to zero when the harness has freed what it allocated. Two more judge each call by its
// pointer arguments (fuzz_oracles.cpp): a NULL kiln.h does not allow must be refused by name, and arguments kiln.h
// keeps apart must not be accepted overlapping (while an exact alias it allows must run); such a refusal leaves every
// output as it was.
//
// This file holds the libFuzzer entry points and the dispatch over the call families; the decoder, the state and
// the operand chooser are in fuzz_harness.h, the oracles in fuzz_oracles.cpp, the families in fuzz_runtime.cpp,
// fuzz_ops.cpp, fuzz_layers.cpp, fuzz_transformer.cpp and fuzz_graph.cpp.
#include <cstdint>
#include <cstdlib>

#include "fuzz_calls.h"
#include "fuzz_harness.h"
#include "kiln/kiln.h"

using namespace kiln::fuzz;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    // Two workers exercise the parallel splits; overwrite=0 keeps what a person running the target chose.
    setenv("KILN_NUM_THREADS", "2", 0);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    State s{Input(data, size)};
    for (int i = 0; i < 2; ++i)
        if (kiln_context_create(KILN_DEVICE_CPU, 0, &s.live[i]) != KILN_OK) finding("no CPU context", "kiln_context_create");
    for (int call = 0; call < kMaxCalls && !s.in.done(); ++call) {
        // Families added later take selector values of their own above 12 * 21 = 252, so that the committed corpus
        // keeps decoding to the calls it was minimized for: 252 to 254 are the sampling family, and 255 opens a second
        // selector byte for the transformer's families (255 was sampling's too until they came).
        const uint8_t family = s.in.u8();
        if (family == 255) {
            // The second byte: 0 to 251 keep the six transformer-era families (251 = 6 * 42 - 1, so the corpus still
            // decodes as minimized); 252 to 254 are the graph, stream-timer and capturable-Adam entries, 255 the
            // profiling entries.
            const uint8_t sub = s.in.u8();
            if (sub >= 252) {
                if (sub == 255) call_profiling(s); else call_graph_and_timing(s);
                continue;
            }
            switch (sub % 6) {
                case 0: call_convert(s); break;
                case 1: call_attention(s); break;
                case 2: call_layer_norm(s); break;
                case 3: call_embedding(s); break;
                case 4: call_bias_gelu(s); break;
                case 5: call_copy_2d(s); break;
            }
            continue;
        }
        switch (family >= 252 ? 12 : family % 12) {
            case 0: call_library(s); break;
            case 1: call_context(s); break;
            case 2: call_memory(s); break;
            case 3: call_fill_random(s); break;
            case 4: call_gemm(s); break;
            case 5: call_binary(s); break;
            case 6: call_pointwise(s); break;
            case 7: call_rows(s); break;
            case 8: call_conv(s); break;
            case 9: call_pool(s); break;
            case 10: call_batchnorm(s); break;
            case 11: call_lstm(s); break;
            case 12: call_sampling(s); break;
        }
    }
    // Everything the harness allocated goes back; then the counters must say nothing is in use.
    for (const State::Alloc& a : s.allocs)
        if (kiln_free(s.live[a.ctx], a.ptr) != KILN_OK) finding("freeing a live block failed", "kiln_free");
    for (int i = 0; i < 2; ++i) {
        kiln_memory_stats st{};
        if (kiln_memory_stats_get(s.live[i], &st) != KILN_OK) finding("stats of a live context", "kiln_memory_stats_get");
        if (st.bytes_in_use != 0 || st.live_allocations != 0) finding("bytes still in use after every free", "kiln_free");
        if (kiln_context_destroy(s.live[i]) != KILN_OK) finding("destroying a live context", "kiln_context_destroy");
    }
    for (const Block& b : s.owned) std::free(b.ptr);
    return 0;
}
