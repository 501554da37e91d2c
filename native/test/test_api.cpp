// The C ABI's contract: statuses and messages on bad input, device query without a GPU, allocator counters.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

using kiln::test::message_has;

static void bad_calls_return_statuses() {
    EXPECT(kiln_alloc(nullptr, 16, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_alloc") && message_has("ctx"));
    EXPECT(kiln_fill_f32(nullptr, nullptr, 4, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_context_create((kiln_device_kind)7, 0, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 3, &ctx) == KILN_ERR_NO_DEVICE);
    EXPECT(message_has("cpu:3"));
    EXPECT(ctx == nullptr);
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    EXPECT(kiln_fill_f32(ctx, nullptr, 4, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'y' is null"));
    EXPECT(kiln_fill_f32(ctx, nullptr, 0, 1.0f) == KILN_OK);  // empty buffers may be null
    float x[4];
    EXPECT(kiln_rand_uniform_f32(ctx, x, 4, 1, 0, 2.0f, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("lo < hi"));
    // A width past FLT_MAX or an infinite bound made every element lo; an infinite std made NaN.
    EXPECT(kiln_rand_uniform_f32(ctx, x, 4, 1, 0, -3e38f, 3e38f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("finite lo and hi"));
    EXPECT(kiln_rand_uniform_f32(ctx, x, 4, 1, 0, -INFINITY, 0.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_rand_uniform_f32(ctx, x, 4, 1, 0, -1.5e38f, 1.5e38f) == KILN_OK);  // a width of 3e38 is finite
    EXPECT(kiln_rand_normal_f32(ctx, x, 4, 1, 0, 0.0f, INFINITY) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_rand_normal_f32(ctx, x, 4, 1, 0, NAN, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("finite mean"));
    EXPECT(kiln_copy_to_host(ctx, nullptr, x, 4) == KILN_ERR_INVALID_ARGUMENT && message_has("'host_dst'"));
    EXPECT(kiln_copy_to_device(ctx, x, nullptr, 4) == KILN_ERR_INVALID_ARGUMENT && message_has("'host_src'"));
    EXPECT(kiln_free(ctx, x) == KILN_ERR_INVALID_ARGUMENT);  // not ours
    EXPECT(message_has("not allocated by this cpu context"));
    // Any int32 is a value of a kiln.h enum in C++ (its type is fixed), so a caller's unknown value is refused with
    // the value in the message, even far outside the enumerators' bit range (undefined before the type was fixed).
    for (int32_t v : {-1, 5, 1 << 20, INT32_MIN, INT32_MAX}) {
        EXPECT(kiln_activation_f32(ctx, static_cast<kiln_activation>(v), x, x, 4, 0.0f) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(message_has("'act' must be one of") && message_has(std::to_string(v).c_str()));
        EXPECT(kiln_binary_f32(ctx, static_cast<kiln_binary_op>(v), x, 4, x, 4, x, 1, 4) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(message_has("'op' must be one of") && message_has(std::to_string(v).c_str()));
        kiln_context* other = nullptr;
        EXPECT(kiln_context_create(static_cast<kiln_device_kind>(v), 0, &other) == KILN_ERR_INVALID_ARGUMENT);
        EXPECT(other == nullptr && message_has("unknown device kind"));
    }
    kiln_context_destroy(ctx);
}

static void cuda_query_never_fails() {
    int32_t count = -1;
    const char* reason = nullptr;
    EXPECT(kiln_cuda_device_count(&count, &reason) == KILN_OK);
    EXPECT(count >= 0 && reason != nullptr);
    std::printf("cuda devices: %d (%s); build: %s\n", count, reason, kiln_build_info());
    kiln_context* ctx = nullptr;
    const kiln_status s = kiln_context_create(KILN_DEVICE_CUDA, count, &ctx);  // one past the last device
    EXPECT(s == KILN_ERR_NO_DEVICE);
    EXPECT(message_has(("cuda:" + std::to_string(count)).c_str()));
    std::printf("asking for cuda:%d says: %s\n", count, kiln_last_error());
    kiln_device_props props;
    EXPECT(kiln_device_properties(KILN_DEVICE_CPU, 0, &props) == KILN_OK);
    EXPECT(props.total_memory > 0 && props.multiprocessors >= 1 && std::strlen(props.name) > 0);
}

static void allocator_counts_and_reuses() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    kiln_memory_stats before, during, after;
    kiln_memory_stats_get(ctx, &before);
    std::vector<void*> blocks;
    for (size_t bytes : {size_t(0), size_t(1), size_t(100), size_t(4096), size_t(3 << 20)}) {
        void* p = nullptr;
        EXPECT(kiln_alloc(ctx, bytes, &p) == KILN_OK);
        EXPECT(p != nullptr && ((uintptr_t)p % 64) == 0);
        blocks.push_back(p);
    }
    kiln_memory_stats_get(ctx, &during);
    EXPECT(during.live_allocations == before.live_allocations + 5);
    EXPECT(during.bytes_in_use >= before.bytes_in_use + (3u << 20) + 4196);
    for (void* p : blocks) EXPECT(kiln_free(ctx, p) == KILN_OK);
    EXPECT(kiln_free(ctx, blocks[2]) == KILN_ERR_INVALID_ARGUMENT);  // double free is caught, not a crash
    EXPECT(message_has("already freed"));
    kiln_memory_stats_get(ctx, &after);
    EXPECT(after.live_allocations == before.live_allocations);
    EXPECT(after.bytes_in_use == before.bytes_in_use);
    EXPECT(after.peak_bytes_in_use >= during.bytes_in_use);
    // Round trip through copies.
    void* dev = nullptr;
    float src[5] = {1, 2, 3, 4, 5}, dst[5] = {0};
    EXPECT(kiln_alloc(ctx, sizeof(src), &dev) == KILN_OK);
    EXPECT(kiln_copy_to_device(ctx, dev, src, sizeof(src)) == KILN_OK);
    EXPECT(kiln_copy_to_host(ctx, dst, dev, sizeof(src)) == KILN_OK);
    EXPECT(std::memcmp(src, dst, sizeof(src)) == 0);
    EXPECT(kiln_fill_f32(ctx, (float*)dev, 5, 7.0f) == KILN_OK);
    EXPECT(kiln_copy_to_host(ctx, dst, dev, sizeof(dst)) == KILN_OK);
    EXPECT(dst[0] == 7.0f && dst[4] == 7.0f);
    kiln_free(ctx, dev);
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
}

// A context handle is checked against the live contexts before it is read: a destroyed one (used again, destroyed
// again) and a pointer that never was a context are refused with a status, never dereferenced.
static void stale_and_foreign_contexts_are_refused() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
    float x[4] = {0, 0, 0, 0};
    EXPECT(kiln_fill_f32(ctx, x, 4, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_fill_f32") && message_has("'ctx' is not a live Kiln context"));
    EXPECT(x[0] == 0.0f);
    EXPECT(kiln_context_destroy(ctx) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_context_destroy") && message_has("'ctx'"));
    EXPECT(kiln_synchronize(ctx) == KILN_ERR_INVALID_ARGUMENT);

    // Contexts created after the destroy never take the stale handle's place: it stays refused while they work.
    std::vector<kiln_context*> later(8, nullptr);
    for (auto& c : later) EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &c) == KILN_OK && c != ctx);
    EXPECT(kiln_fill_f32(ctx, x, 4, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_fill_f32(later[7], x, 4, 1.0f) == KILN_OK && x[3] == 1.0f);
    for (auto& c : later) EXPECT(kiln_context_destroy(c) == KILN_OK);

    int on_stack = 0x4b494c4e;  // even the old magic value does not make a context
    kiln_context* foreign = reinterpret_cast<kiln_context*>(&on_stack);
    EXPECT(kiln_fill_f32(foreign, x, 4, 2.0f) == KILN_ERR_INVALID_ARGUMENT && x[0] == 1.0f);
    EXPECT(message_has("not a live Kiln context"));
    EXPECT(kiln_context_destroy(foreign) == KILN_ERR_INVALID_ARGUMENT);
    void* out = nullptr;
    EXPECT(kiln_alloc(foreign, 16, &out) == KILN_ERR_INVALID_ARGUMENT && out == nullptr);
}

// kiln_copy_device_2d moves a band of columns between pitched rows, and refuses pitches narrower than a row,
// overlapping regions and sizes past the element limit.
static void copy_2d_moves_bands() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    float src[3 * 5], dst[3 * 4];
    for (int i = 0; i < 15; ++i) src[i] = (float)i;
    for (float& d : dst) d = -1.0f;
    // Columns 1..2 of a (3, 5) matrix into columns 2..3 of a (3, 4) one.
    EXPECT(kiln_copy_device_2d(ctx, dst + 2, 4 * sizeof(float), src + 1, 5 * sizeof(float), 2 * sizeof(float), 3) ==
           KILN_OK);
    const float want[12] = {-1, -1, 1, 2, -1, -1, 6, 7, -1, -1, 11, 12};
    bool same = true;
    for (int i = 0; i < 12; ++i) same = same && dst[i] == want[i];
    EXPECT(same);
    EXPECT(kiln_copy_device_2d(ctx, dst, 4, src, 4, 8, 2) == KILN_ERR_INVALID_ARGUMENT);  // pitch < width
    EXPECT(message_has("pitches"));
    EXPECT(kiln_copy_device_2d(ctx, src + 1, 20, src, 20, 8, 2) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("overlap"));
    EXPECT(kiln_copy_device_2d(ctx, dst, SIZE_MAX / 2, src, 4, 4, 3) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_copy_device_2d(ctx, nullptr, 4, src, 4, 4, 1) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_copy_device_2d(ctx, nullptr, 0, nullptr, 0, 0, 5) == KILN_OK);  // nothing to move
    // The 1-D copy refuses overlap too (a GPU's cudaMemcpy would leave it undefined), except onto itself; the
    // refused copies leave src as it was.
    EXPECT(kiln_copy_device(ctx, src + 1, src, 4 * sizeof(float)) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("overlap"));
    EXPECT(kiln_copy_device(ctx, src, src + 3, 4 * sizeof(float)) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_copy_device(ctx, src, src, 4 * sizeof(float)) == KILN_OK);
    EXPECT(kiln_copy_device(ctx, src + 4, src, 4 * sizeof(float)) == KILN_OK);  // adjacent, not overlapping
    EXPECT(src[4] == 0.0f && src[7] == 3.0f && src[8] == 8.0f && src[3] == 3.0f);
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
}

// On a CUDA device (the emulated one here, which refuses what a GPU's cudaMemcpy2D refuses), the 2-D copies kiln.h
// allows and cudaMemcpy2D does not: one row with a pitch below its width, and rows 2^31 bytes apart, past
// cudaDevAttrMaxPitch, as slicing the leading axis of a tensor over 2 GiB makes.
static void copy_2d_on_cuda_takes_every_pitch() {
    int32_t count = 0;
    EXPECT(kiln_cuda_device_count(&count, nullptr) == KILN_OK);
    if (count == 0) {
        std::printf("copy_2d on a CUDA device: skipped, no CUDA device\n");
        return;
    }
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CUDA, 0, &ctx) == KILN_OK);
    const size_t width = 64, far = (size_t)1 << 31;
    void* big = nullptr;
    void* dst = nullptr;
    EXPECT(kiln_alloc(ctx, far + width, &big) == KILN_OK);
    EXPECT(kiln_alloc(ctx, 2 * width, &dst) == KILN_OK);
    unsigned char row0[width], row1[width], back[2 * width];
    for (size_t i = 0; i < width; ++i) row0[i] = (unsigned char)i, row1[i] = (unsigned char)(200 - i);
    EXPECT(kiln_copy_to_device(ctx, big, row0, width) == KILN_OK);
    EXPECT(kiln_copy_to_device(ctx, static_cast<char*>(big) + far, row1, width) == KILN_OK);
    EXPECT(kiln_copy_device_2d(ctx, dst, 0, big, 0, width, 1) == KILN_OK);  // one row, pitches 0
    EXPECT(kiln_copy_to_host(ctx, back, dst, width) == KILN_OK);
    EXPECT(std::memcmp(back, row0, width) == 0);
    EXPECT(kiln_copy_device_2d(ctx, dst, width, big, far, width, 2) == KILN_OK);  // rows 2^31 bytes apart
    EXPECT(kiln_copy_to_host(ctx, back, dst, 2 * width) == KILN_OK);
    EXPECT(std::memcmp(back, row0, width) == 0 && std::memcmp(back + width, row1, width) == 0);
    EXPECT(kiln_free(ctx, big) == KILN_OK && kiln_free(ctx, dst) == KILN_OK);
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
}

// kiln_last_op names the entry that ran and its kernel path, then forgets them; device timing on the CPU times nothing.
static void last_op_names_entry_and_path() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    const char* entry = nullptr;
    const char* path = nullptr;
    int32_t timed = -1;
    EXPECT(kiln_last_op(nullptr, &path, &timed) == KILN_ERR_INVALID_ARGUMENT);
    float y[4];
    EXPECT(kiln_fill_f32(ctx, y, 4, 2.0f) == KILN_OK);
    EXPECT(kiln_last_op(&entry, &path, &timed) == KILN_OK);
    EXPECT(std::strcmp(entry, "kiln_fill_f32") == 0 && std::strcmp(path, "") == 0 && timed == 0);
    EXPECT(kiln_last_op(&entry, &path, &timed) == KILN_OK);  // read once: cleared
    EXPECT(std::strcmp(entry, "") == 0);

    // A 1x1 convolution has one path on every CPU: the implicit GEMM.
    kiln_conv2d_desc d = {1, 2, 3, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, 3, 3};
    std::vector<float> x(18, 1.0f), w(4, 0.5f), out(18, 0.0f);
    EXPECT(kiln_conv2d_forward_f32(ctx, &d, x.data(), w.data(), nullptr, out.data()) == KILN_OK);
    EXPECT(kiln_last_op(&entry, &path, &timed) == KILN_OK);
    EXPECT(std::strcmp(entry, "kiln_conv2d_forward_f32") == 0 && std::strcmp(path, "implicit_gemm") == 0);
    EXPECT(out[0] == 1.0f);
    // A 3x3 stride-1 one takes Winograd where the ISA has it (AVX-512) unless KILN_CONV_WINOGRAD=0.
    kiln_conv2d_desc d3 = {1, 2, 6, 6, 2, 3, 3, 1, 1, 1, 1, 1, 1, 6, 6};
    std::vector<float> x3(72, 1.0f), w3(36, 0.25f), y3(72, 0.0f);
    EXPECT(kiln_conv2d_forward_f32(ctx, &d3, x3.data(), w3.data(), nullptr, y3.data()) == KILN_OK);
    EXPECT(kiln_last_op(&entry, &path, &timed) == KILN_OK);
    EXPECT(std::strcmp(path, "winograd") == 0 || std::strcmp(path, "implicit_gemm") == 0);
    std::printf("3x3 conv2d path on this CPU: %s\n", path);
    // A failed op is named too: the profiler can say which op threw.
    EXPECT(kiln_fill_f32(ctx, nullptr, 4, 1.0f) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_last_op(&entry, &path, &timed) == KILN_OK);
    EXPECT(std::strcmp(entry, "kiln_fill_f32") == 0);

    int64_t count = -1;
    float ms[2];
    EXPECT(kiln_profile_device_timing(ctx, 1) == KILN_OK);
    EXPECT(kiln_fill_f32(ctx, y, 4, 2.0f) == KILN_OK);
    EXPECT(kiln_profile_device_times(ctx, ms, 2, &count) == KILN_OK);
    EXPECT(count == 0);
    EXPECT(kiln_profile_device_times(ctx, ms, -1, &count) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_profile_device_timing(ctx, 0) == KILN_OK);
    EXPECT(kiln_range_push("user range") == KILN_OK);
    EXPECT(kiln_range_pop() == KILN_OK);
    EXPECT(kiln_range_push(nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
}

// kiln_context_create_on_stream checks its arguments before it touches the stream: a missing device is named with the
// caller's stream never read (here a dummy pointer). A real stream is exercised from Java (JCudaInteropTest) on a GPU.
static void external_stream_contexts_are_checked() {
    kiln_context* ctx = nullptr;
    int dummy = 0;
    EXPECT(kiln_context_create_on_stream(0, &dummy, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("kiln_context_create_on_stream") && message_has("'out'"));
    EXPECT(kiln_context_create_on_stream(0, nullptr, &ctx) == KILN_ERR_INVALID_ARGUMENT);
    EXPECT(message_has("'stream' is null") && ctx == nullptr);
    int32_t count = 0;
    EXPECT(kiln_cuda_device_count(&count, nullptr) == KILN_OK);
    EXPECT(kiln_context_create_on_stream(count, &dummy, &ctx) == KILN_ERR_NO_DEVICE);
    EXPECT(message_has("kiln_context_create_on_stream") && message_has("cuda:") && ctx == nullptr);
    EXPECT(kiln_context_create_on_stream(-1, &dummy, &ctx) == KILN_ERR_NO_DEVICE);
}

// The measured roofline: positive, and within what any CPU this runs on can do (a sanity range, not a target).
static void peak_is_measured() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    EXPECT(kiln_measure_peak(ctx, nullptr) == KILN_ERR_INVALID_ARGUMENT);
    kiln_device_peak peak{};
    EXPECT(kiln_measure_peak(ctx, &peak) == KILN_OK);
    std::printf("cpu peak: %.1f GFLOP/s fp32 FMA, %.1f GB/s copy\n", peak.fma_gflops, peak.copy_gbps);
    EXPECT(peak.fma_gflops > 1.0 && peak.fma_gflops < 1e5);
    EXPECT(peak.copy_gbps > 0.1 && peak.copy_gbps < 1e4);
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
}

// An output documented as "may alias" an input runs in place at exactly the input's elements and is refused when it
// overlaps in part (it would read elements the call already wrote); outputs that must not overlap are refused too.
static void partial_overlaps_are_refused() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    std::vector<float> buf(512, 0.5f);
    float* a = buf.data();
    float* shifted = a + 1;  // overlaps a in all but one element
    auto refused_in_part = [](kiln_status s) { return s == KILN_ERR_INVALID_ARGUMENT && message_has("overlap in part"); };
    auto refused = [](kiln_status s) { return s == KILN_ERR_INVALID_ARGUMENT && message_has("overlap"); };

    EXPECT(kiln_activation_f32(ctx, KILN_RELU, a, a, 64, 0.0f) == KILN_OK);
    EXPECT(refused_in_part(kiln_activation_f32(ctx, KILN_RELU, a, shifted, 64, 0.0f)));
    EXPECT(kiln_activation_backward_f32(ctx, KILN_GELU, a, nullptr, a + 128, a + 128, 64, 0.0f) == KILN_OK);
    EXPECT(kiln_activation_backward_f32(ctx, KILN_TANH, nullptr, a, a + 128, a, 64, 0.0f) == KILN_OK);
    EXPECT(refused_in_part(kiln_activation_backward_f32(ctx, KILN_RELU, a, nullptr, a + 128, a + 129, 64, 0.0f)));
    EXPECT(refused_in_part(kiln_activation_backward_f32(ctx, KILN_SIGMOID, nullptr, a, a + 128, shifted, 64, 0.0f)));
    EXPECT(message_has("'y'"));
    EXPECT(kiln_scale_f32(ctx, a, a, 64, 2.0f) == KILN_OK);
    EXPECT(refused_in_part(kiln_scale_f32(ctx, shifted, a, 64, 2.0f)));
    EXPECT(refused_in_part(kiln_axpy_f32(ctx, 64, 1.0f, a, shifted)));
    EXPECT(kiln_bias_gelu_f32(ctx, a, a + 256, a, 8, 8) == KILN_OK);
    EXPECT(refused_in_part(kiln_bias_gelu_f32(ctx, a, a + 256, shifted, 8, 8)));
    EXPECT(refused(kiln_bias_gelu_f32(ctx, a, a + 60, a, 8, 8)));  // y over the bias every row reads
    EXPECT(kiln_layer_norm_f32(ctx, a, nullptr, nullptr, a, nullptr, nullptr, 8, 8, 1e-5f) == KILN_OK);
    EXPECT(refused_in_part(kiln_layer_norm_f32(ctx, a, nullptr, nullptr, shifted, nullptr, nullptr, 8, 8, 1e-5f)));
    float* mean = a + 300;
    float* rstd = a + 320;
    EXPECT(kiln_layer_norm_f32(ctx, a + 100, nullptr, nullptr, a + 200, mean, rstd, 8, 8, 1e-5f) == KILN_OK);
    EXPECT(kiln_layer_norm_backward_f32(ctx, a + 100, a + 200, nullptr, mean, rstd, a + 200, nullptr, nullptr, 8, 8) ==
           KILN_OK);
    EXPECT(refused_in_part(
        kiln_layer_norm_backward_f32(ctx, a + 100, a + 200, nullptr, mean, rstd, a + 201, nullptr, nullptr, 8, 8)));
    EXPECT(kiln_reparameterize_f32(ctx, a, a + 64, a, 64, 1, 0) == KILN_OK);
    EXPECT(refused_in_part(kiln_reparameterize_f32(ctx, a, a + 64, a + 65, 64, 1, 0)));
    EXPECT(kiln_batch_norm_backward_eval_f32(ctx, 2, 2, 4, a, a + 16, nullptr, a + 40, a + 44, 1e-5f, a, nullptr,
                                             nullptr) == KILN_OK);
    EXPECT(refused_in_part(kiln_batch_norm_backward_eval_f32(ctx, 2, 2, 4, a, a + 16, nullptr, a + 40, a + 44, 1e-5f,
                                                             a + 17, nullptr, nullptr)));
    // Binary: y may be a full operand itself, or apart, never in part; never over a broadcast one (every row reads it).
    EXPECT(kiln_binary_f32(ctx, KILN_ADD, a, 8, a + 100, 0, a, 8, 8) == KILN_OK);
    EXPECT(refused_in_part(kiln_binary_f32(ctx, KILN_ADD, a, 8, a + 100, 0, shifted, 8, 8)));
    EXPECT(refused(kiln_binary_f32(ctx, KILN_MUL, a, 8, a + 100, 0, a + 96, 8, 8)));
    EXPECT(message_has("'b'"));
    EXPECT(kiln_binary_f32(ctx, KILN_MUL, a, 8, a + 96, 0, a + 96, 1, 8) == KILN_OK);  // one row: b is a full operand

    // Attention's gradients against q, k, v, o, dout: (1, 1, 4, 4) operands at a, a + 16, ... a + 64, lse at a + 80.
    kiln_attention_desc d{};
    d.batch = d.heads = 1, d.q_len = d.kv_len = d.head_dim = 4, d.scale = 0.5f;
    const int64_t strides[3] = {16, 16, 4};
    for (int64_t* st : {d.q_stride, d.k_stride, d.v_stride, d.o_stride}) std::memcpy(st, strides, sizeof strides);
    float *q = a, *k = a + 16, *v = a + 32, *o = a + 48, *dout = a + 64, *lse = a + 80;
    EXPECT(kiln_attention_forward_f32(ctx, &d, q, k, v, nullptr, o, lse) == KILN_OK);
    EXPECT(kiln_attention_backward_f32(ctx, &d, q, k, v, o, dout, lse, nullptr, a + 100, a + 116, a + 132) == KILN_OK);
    EXPECT(refused(kiln_attention_backward_f32(ctx, &d, q, k, v, o, dout, lse, nullptr, a + 100, a + 70, a + 132)));
    EXPECT(message_has("'dk'") && message_has("'dout'"));

    // Capturable Adam: the corrections every element reads must not be written by the step.
    int32_t step = 0;
    EXPECT(kiln_adam_advance_step(ctx, &step, a + 500, 0.9f, 0.999f) == KILN_OK);
    EXPECT(refused(kiln_adam_advance_step(ctx, (int32_t*)(a + 500), a + 500, 0.9f, 0.999f)));
    EXPECT(kiln_adam_step_capturable_f32(ctx, a, a + 100, a + 200, a + 300, 64, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.0f, 0,
                                         a + 500) == KILN_OK);
    EXPECT(refused(kiln_adam_step_capturable_f32(ctx, a, a + 100, a + 200, a + 300, 64, 1e-3f, 0.9f, 0.999f, 1e-8f,
                                                 0.0f, 0, a + 250)));
    EXPECT(message_has("'m'") && message_has("'bias_corrections'"));
    kiln_context_destroy(ctx);
}

// kiln.h's default: an output overlaps no other argument unless its entry says it may alias one. Each family: a call
// with its buffers apart runs, and the same call with one output moved onto another argument is refused, naming both.
static void outputs_overlap_nothing_by_default() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    std::vector<float> buf(8192, 0.25f);
    float* a = buf.data();
    // Refused, naming both arguments (kiln.h's names, in quotes).
    auto clash = [](kiln_status s, const char* out, const char* other) {
        return s == KILN_ERR_INVALID_ARGUMENT && message_has("overlap") && message_has(out) && message_has(other);
    };
    auto* idx = reinterpret_cast<int32_t*>(a + 7000);  // int32 labels and indices, all 0
    std::fill(idx, idx + 64, 0);

    // Dropout works in place (as kiln.h now says) and refuses a partial overlap.
    EXPECT(kiln_dropout_f32(ctx, a, a, 64, 0.5f, 1, 0) == KILN_OK);
    EXPECT(clash(kiln_dropout_backward_f32(ctx, a, a + 1, 64, 0.5f, 1, 0), "'dx'", "'dy'"));
    // Binary backward: a full gradient may be dy itself; never an operand.
    EXPECT(kiln_binary_backward_f32(ctx, KILN_MUL, a, 8, a + 64, 8, a + 128, a + 128, a + 192, 8, 8) == KILN_OK);
    EXPECT(clash(kiln_binary_backward_f32(ctx, KILN_MUL, a, 8, a + 64, 8, a + 128, a, a + 192, 8, 8), "'da'", "'a'"));
    // Reductions and softmax.
    EXPECT(clash(kiln_reduce_sum_f32(ctx, a, a + 10, 2, 8, 4, 1.0f), "'y'", "'x'"));
    EXPECT(kiln_max_lastdim_f32(ctx, a, a + 100, idx, 8, 8) == KILN_OK);
    EXPECT(clash(kiln_max_lastdim_f32(ctx, a, a + 100, reinterpret_cast<int32_t*>(a + 104), 8, 8), "'y'", "'index'"));
    EXPECT(clash(kiln_sum_squares_f32(ctx, a, 64, a + 63), "'out'", "'x'"));
    EXPECT(clash(kiln_softmax_f32(ctx, a, a, 8, 8, 0), "'y'", "'x'"));  // every element of a row reads the whole row
    EXPECT(clash(kiln_softmax_backward_f32(ctx, a, a + 64, a + 64, 8, 8, 0), "'dx'", "'dy'"));
    // Losses.
    EXPECT(kiln_cross_entropy_f32(ctx, a, idx, a + 100, a + 101, 8, 8) == KILN_OK);
    EXPECT(clash(kiln_cross_entropy_f32(ctx, a, idx, a + 100, a + 60, 8, 8), "'lse'", "'logits'"));
    EXPECT(clash(kiln_cross_entropy_backward_f32(ctx, a, idx, a + 101, a + 200, a + 195, 8, 8), "'dlogits'",
                 "'dloss'"));
    EXPECT(clash(kiln_mse_f32(ctx, a, a + 64, a + 70, 64), "'loss'", "'t'"));
    EXPECT(clash(kiln_bce_with_logits_backward_f32(ctx, a, a + 64, a + 200, a + 32, 64), "'dx'", "'x'"));
    // Convolution: x (1, 1, 6, 6) at a, w (2, 1, 3, 3) at a + 100, bias at a + 120, y (1, 2, 4, 4) at a + 200.
    const kiln_conv2d_desc cd{1, 1, 6, 6, 2, 3, 3, 1, 1, 0, 0, 1, 1, 4, 4};
    EXPECT(kiln_conv2d_forward_f32(ctx, &cd, a, a + 100, a + 120, a + 200) == KILN_OK);
    EXPECT(clash(kiln_conv2d_forward_f32(ctx, &cd, a, a + 100, a + 120, a + 10), "'y'", "'x'"));
    EXPECT(clash(kiln_conv2d_backward_data_f32(ctx, &cd, a + 200, a + 100, a + 90), "'dx'", "'w'"));
    EXPECT(clash(kiln_conv2d_backward_weight_f32(ctx, &cd, a, a + 200, a + 300, a + 310), "'dw'", "'dbias'"));
    // Pooling: x (1, 2, 4, 4) at a, y and index (1, 2, 2, 2).
    const kiln_pool2d_desc pd{1, 2, 4, 4, 2, 2, 2, 2, 0, 0, 2, 2};
    EXPECT(kiln_max_pool2d_f32(ctx, &pd, a, a + 100, idx) == KILN_OK);
    EXPECT(clash(kiln_max_pool2d_f32(ctx, &pd, a, a + 100, reinterpret_cast<int32_t*>(a + 20)), "'index'", "'x'"));
    EXPECT(clash(kiln_max_pool2d_backward_f32(ctx, &pd, a + 100, idx, a + 96), "'dx'", "'dy'"));
    EXPECT(clash(kiln_avg_pool2d_backward_f32(ctx, &pd, a + 100, a + 90, 0), "'dx'", "'dy'"));
    // Batch norm (2, 2, 4): its per-channel outputs apart from each other.
    EXPECT(kiln_batch_norm_train_f32(ctx, 2, 2, 4, a, nullptr, nullptr, a + 100, a + 200, a + 202, a + 204, a + 206,
                                     0.1f, 1e-5f) == KILN_OK);
    EXPECT(clash(kiln_batch_norm_train_f32(ctx, 2, 2, 4, a, nullptr, nullptr, a + 100, a + 200, a + 202, a + 203,
                                           a + 206, 0.1f, 1e-5f), "'save_invstd'", "'running_mean'"));
    EXPECT(clash(kiln_batch_norm_eval_f32(ctx, 2, 2, 4, a, nullptr, nullptr, a + 204, a + 206, 1e-5f, a), "'y'",
                 "'x'"));
    EXPECT(clash(kiln_batch_norm_backward_f32(ctx, 2, 2, 4, a, a + 100, nullptr, a + 200, a + 202, a + 300, a + 400,
                                              a + 401), "'dgamma'", "'dbeta'"));
    // LSTM (n 2, t 3, f 4, h 5): x at a, w_ih (20, 4) at a + 100, w_hh (20, 5) at a + 200, bias (20) at a + 300.
    const kiln_lstm_desc ld{2, 3, 4, 5};
    float *x = a, *wih = a + 100, *whh = a + 200, *bias = a + 300, *y = a + 400, *hn = a + 500, *cn = a + 520;
    float* reserve = a + 1000;  // 6 n t h = 180 floats
    EXPECT(kiln_lstm_forward_f32(ctx, &ld, x, nullptr, nullptr, wih, whh, bias, y, hn, cn, reserve) == KILN_OK);
    EXPECT(clash(kiln_lstm_forward_f32(ctx, &ld, x, nullptr, nullptr, wih, whh, bias, y, y + 25, cn, reserve), "'h_n'",
                 "'y'"));
    EXPECT(clash(kiln_lstm_forward_f32(ctx, &ld, x, nullptr, nullptr, wih, whh, bias, y, hn, cn, whh + 10), "'reserve'",
                 "'w_hh'"));
    float *dx = a + 2000, *dh0 = a + 2100, *dc0 = a + 2120, *dwih = a + 2200, *dwhh = a + 2300, *db = a + 2400;
    EXPECT(kiln_lstm_backward_f32(ctx, &ld, x, nullptr, nullptr, wih, whh, reserve, y, nullptr, nullptr, dx, dh0, dc0,
                                  dwih, dwhh, db) == KILN_OK);
    EXPECT(clash(kiln_lstm_backward_f32(ctx, &ld, x, nullptr, nullptr, wih, whh, reserve, y, nullptr, nullptr, dx, dh0,
                                        dh0 + 5, dwih, dwhh, db), "'dh0'", "'dc0'"));
    EXPECT(clash(kiln_lstm_backward_f32(ctx, &ld, x, nullptr, nullptr, wih, whh, reserve, y, nullptr, nullptr, dx, dh0,
                                        dc0, dwih, dwhh, reserve + 100), "'dbias'", "'reserve'"));
    // Attention forward: o written over k, lse over o.
    kiln_attention_desc d{};
    d.batch = d.heads = 1, d.q_len = d.kv_len = d.head_dim = 4, d.scale = 0.5f;
    const int64_t strides[3] = {16, 16, 4};
    for (int64_t* st : {d.q_stride, d.k_stride, d.v_stride, d.o_stride}) std::memcpy(st, strides, sizeof strides);
    EXPECT(clash(kiln_attention_forward_f32(ctx, &d, a, a + 16, a + 32, nullptr, a + 20, a + 80), "'o'", "'k'"));
    EXPECT(clash(kiln_attention_forward_f32(ctx, &d, a, a + 16, a + 32, nullptr, a + 48, a + 60), "'o'", "'lse'"));
    // Attention's gradients may share one packed buffer (batch 2, tokens 3, 3, heads 2, head_dim 4) on elements of
    // their own: dk one head (4 elements) after dq writes dq's second head.
    kiln_attention_desc ad{};
    ad.batch = 2, ad.heads = 2, ad.q_len = ad.kv_len = 3, ad.head_dim = 4, ad.scale = 0.5f;
    const int64_t packed[3] = {72, 4, 24};  // (b, t, 3, h, d): b 3 * 24, h 4, t 3 * 2 * 4
    for (int64_t* st : {ad.q_stride, ad.k_stride, ad.v_stride}) std::memcpy(st, packed, sizeof packed);
    const int64_t token_major[3] = {24, 4, 8};
    std::memcpy(ad.o_stride, token_major, sizeof token_major);
    float *qkv = a, *po = a + 200, *pdout = a + 300, *plse = a + 400, *dqkv = a + 500;
    EXPECT(kiln_attention_forward_f32(ctx, &ad, qkv, qkv + 8, qkv + 16, nullptr, po, plse) == KILN_OK);
    EXPECT(kiln_attention_backward_f32(ctx, &ad, qkv, qkv + 8, qkv + 16, po, pdout, plse, nullptr, dqkv, dqkv + 8,
                                       dqkv + 16) == KILN_OK);
    EXPECT(clash(kiln_attention_backward_f32(ctx, &ad, qkv, qkv + 8, qkv + 16, po, pdout, plse, nullptr, dqkv,
                                             dqkv + 4, dqkv + 16), "'dq'", "'dk'"));
    EXPECT(message_has("share elements"));
    EXPECT(clash(kiln_attention_backward_f32(ctx, &ad, qkv, qkv + 8, qkv + 16, po, pdout, plse, nullptr, dqkv,
                                             dqkv + 8, dqkv + 9), "'dk'", "'dv'"));
    std::memcpy(ad.v_stride, token_major, sizeof token_major);  // dv at other strides, inside the packed buffer
    EXPECT(clash(kiln_attention_backward_f32(ctx, &ad, qkv, qkv + 8, qkv + 16, po, pdout, plse, nullptr, dqkv,
                                             dqkv + 8, dqkv + 16), "'dq'", "'dv'"));
    EXPECT(message_has("different strides"));
    // Embedding, conversion, layer norm's statistics, the sampling family.
    EXPECT(clash(kiln_embedding_f32(ctx, idx, a, a + 4, 4, 8, 4), "'y'", "'weight'"));
    EXPECT(clash(kiln_embedding_backward_f32(ctx, idx, a, a + 8, 4, 8, 4), "'dweight'", "'dy'"));
    EXPECT(clash(kiln_convert_f32_to_bf16(ctx, a, reinterpret_cast<kiln_bf16*>(a), 64), "'y'", "'x'"));
    EXPECT(clash(kiln_layer_norm_f32(ctx, a, nullptr, nullptr, a + 100, a + 200, a + 204, 8, 8, 1e-5f), "'mean'",
                 "'rstd'"));
    EXPECT(clash(kiln_gaussian_kl_f32(ctx, a, a + 64, a + 64, 8, 8), "'loss'", "'logvar'"));
    EXPECT(clash(kiln_reparameterize_backward_f32(ctx, a, a + 64, a + 128, a + 128, 64, 1, 0), "'dmu'", "'dlogvar'"));
    kiln_context_destroy(ctx);
}

// Attention's dq and dk in one buffer, at every offset across the span, for many small layouts: core must refuse
// exactly the offsets at which the two share an element, as listing their elements finds them.
static void packed_gradients_match_listing() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    uint32_t rng = 12345;
    auto next = [&](uint32_t n) {
        rng = rng * 1664525u + 1013904223u;
        return (int64_t)((rng >> 8) % n);
    };
    int layouts = 0, mismatches = 0, shared = 0, apart = 0;
    for (int trial = 0; trial < 60; ++trial) {
        kiln_attention_desc d{};
        d.batch = 1 + next(2), d.heads = 1 + next(3), d.q_len = d.kv_len = 1 + next(4), d.head_dim = 1 + next(4);
        d.scale = 0.5f;
        // Strides with distinct elements: the three axes in a random order, each clearing the ones below plus a gap.
        const int64_t counts[3] = {d.batch, d.heads, d.q_len};
        int order[3] = {0, 1, 2};
        for (int i = 2; i > 0; --i) std::swap(order[i], order[next(i + 1)]);
        int64_t stride[3], extent = d.head_dim;
        for (int i : order) stride[i] = extent + next(3), extent = (counts[i] - 1) * stride[i] + extent;
        for (int64_t* st : {d.q_stride, d.k_stride, d.v_stride, d.o_stride}) std::memcpy(st, stride, sizeof stride);
        std::vector<int64_t> mine;
        for (int64_t b = 0; b < d.batch; ++b)
            for (int64_t h = 0; h < d.heads; ++h)
                for (int64_t t = 0; t < d.q_len; ++t)
                    for (int64_t e = 0; e < d.head_dim; ++e)
                        mine.push_back(b * stride[0] + h * stride[1] + t * stride[2] + e);
        std::sort(mine.begin(), mine.end());
        const int64_t span = mine.back() + 1;
        std::vector<float> q(span, 0.1f), k(span, 0.2f), v(span, 0.3f), o(span), dout(span, 1.0f), grads(2 * span + 2);
        std::vector<float> lse(d.batch * d.heads * d.q_len);
        EXPECT(kiln_attention_forward_f32(ctx, &d, q.data(), k.data(), v.data(), nullptr, o.data(), lse.data()) ==
               KILN_OK);
        ++layouts;
        for (int64_t delta = 0; delta <= span + 1; ++delta) {
            bool shares = false;
            for (int64_t off : mine) shares |= std::binary_search(mine.begin(), mine.end(), off + delta);
            const kiln_status st = kiln_attention_backward_f32(ctx, &d, q.data(), k.data(), v.data(), o.data(),
                                                               dout.data(), lse.data(), nullptr, grads.data(),
                                                               grads.data() + delta, nullptr);
            mismatches += shares ? !(st == KILN_ERR_INVALID_ARGUMENT && message_has("share elements")) : st != KILN_OK;
            (shares ? shared : apart) += 1;
        }
    }
    EXPECT(mismatches == 0);
    EXPECT(layouts == 60 && shared > 100 && apart > 100);  // both answers were asked for, often
    std::printf("packed gradients: %d layouts, %d offsets sharing an element, %d apart, %d mismatches\n", layouts,
                shared, apart, mismatches);
    kiln_context_destroy(ctx);
}

int main() {
    EXPECT(kiln_noop() == KILN_OK);
    EXPECT(kiln_abi_version() == KILN_ABI_VERSION);
    bad_calls_return_statuses();
    cuda_query_never_fails();
    allocator_counts_and_reuses();
    stale_and_foreign_contexts_are_refused();
    copy_2d_moves_bands();
    copy_2d_on_cuda_takes_every_pitch();
    external_stream_contexts_are_checked();
    last_op_names_entry_and_path();
    peak_is_measured();
    partial_overlaps_are_refused();
    outputs_overlap_nothing_by_default();
    packed_gradients_match_listing();
    return kiln::test::finish("test_api");
}
