// libFuzzer target over the whole C ABI (kiln.h): the input is decoded into a sequence of calls with fuzzed sizes,
// descriptors, enums, scalars and pointers (null, aliased, the context's own blocks) on live, destroyed and foreign
// contexts, CPU backend only. Build and run: native/fuzz/run.sh.
//
// The ABI cannot know how long a buffer is, so the harness keeps its side of the contract: every pointer it passes to
// a call that is valid by kiln.h is a heap block of exactly the size that call may touch (so AddressSanitizer sees one
// element too many), and a valid call whose buffers would pass kMaxCallBytes or whose work would pass kMaxWork is not
// made. A call that kiln.h makes invalid (a bad context, a negative size, a size whose bytes overflow int64, a bad
// enum or window) gets 1-element buffers where its real footprint is too large, and must fail: validation has to
// refuse it before touching memory. The oracle is then: no sanitizer report, no crash, invalid calls fail, and the
// allocator's counters return to zero when the harness has freed what it allocated.
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <type_traits>
#include <vector>

#include "kiln/kiln.h"

// enum_shim.c: the entries that take an enum, called with any int32.
extern "C" {
kiln_status fuzz_context_create(int32_t kind, int32_t index, kiln_context** out);
kiln_status fuzz_device_properties(int32_t kind, int32_t index, kiln_device_props* out);
kiln_status fuzz_binary(kiln_context* ctx, int32_t op, const float* a, int64_t stride_a, const float* b,
                        int64_t stride_b, float* y, int64_t outer, int64_t inner);
kiln_status fuzz_binary_backward(kiln_context* ctx, int32_t op, const float* a, int64_t stride_a, const float* b,
                                 int64_t stride_b, const float* dy, float* da, float* db, int64_t outer, int64_t inner);
kiln_status fuzz_activation(kiln_context* ctx, int32_t act, const float* x, float* y, int64_t n, float alpha);
kiln_status fuzz_activation_backward(kiln_context* ctx, int32_t act, const float* x, const float* y, const float* dy,
                                     float* dx, int64_t n, float alpha);
}

namespace {

constexpr int64_t kMaxCallBytes = int64_t(64) << 20;  // the whole footprint of one valid call
constexpr int64_t kMaxWork = int64_t(1) << 22;        // multiply-adds (or elements) of one valid call
constexpr int kMaxCalls = 48;                         // per input
constexpr int64_t kMaxAllocBytes = int64_t(64) << 20;  // kiln_alloc without a limit set

[[noreturn]] void finding(const char* what, const char* op) {
    std::fprintf(stderr, "FUZZ FINDING in %s: %s (last error: \"%s\")\n", op, what, kiln_last_error());
    std::fflush(stderr);
    __builtin_trap();
}

// Reads the fuzz input front to back; past the end everything reads as 0, so every input decodes to something.
class Input {
  public:
    Input(const uint8_t* data, size_t size) : p_(data), end_(data + size) {}
    bool done() const { return p_ >= end_; }
    uint8_t u8() { return p_ < end_ ? *p_++ : 0; }
    uint32_t u32() { return u8() | (uint32_t)u8() << 8 | (uint32_t)u8() << 16 | (uint32_t)u8() << 24; }
    uint64_t u64() { return u32() | (uint64_t)u32() << 32; }
    bool one_in(int n) { return u8() % n == 0; }

    // A size: mostly small (shapes that run), sometimes a limit of int32/int64/size_t, sometimes negative or wild.
    int64_t size() {
        const uint8_t k = u8();
        if (k < 160) return k % 9;
        if (k < 200) return 9 + u8() % 56;
        if (k < 208) return -(int64_t)(u8() % 4) - 1;
        static const int64_t kEdges[] = {INT32_MAX,
                                         (int64_t)INT32_MAX + 1,
                                         (int64_t)INT32_MAX + 2,
                                         INT32_MAX / 4 + 1,
                                         (int64_t)1 << 32,
                                         ((int64_t)1 << 32) + 1,
                                         (int64_t)1 << 56,
                                         ((int64_t)1 << 61) + 1,
                                         (int64_t)1 << 62,
                                         INT64_MAX / 4 + 1,
                                         INT64_MAX / 2 + 1,
                                         INT64_MAX - 1,
                                         INT64_MAX,
                                         INT64_MIN,
                                         INT64_MIN + 1,
                                         INT32_MIN,
                                         (int64_t)46341,   // 46341^2 > 2^31
                                         (int64_t)3037000500,  // 3037000500^2 > 2^63
                                         (int64_t)65536,
                                         (int64_t)1 << 20};
        if (k < 248) return kEdges[u8() % (sizeof kEdges / sizeof kEdges[0])];
        return (int64_t)u64();
    }
    int32_t i32() {
        const uint8_t k = u8();
        if (k < 200) return k % 6;
        if (k < 230) return -(int32_t)(u8() % 3) - 1;
        static const int32_t kEdges[] = {INT32_MAX, INT32_MIN, INT32_MAX / 2 + 1, 1 << 30, 65536, 46341};
        if (k < 250) return kEdges[u8() % 6];
        return (int32_t)u32();
    }
    float real() {
        const uint8_t k = u8();
        static const float kValues[] = {0.0f, 1.0f, -1.0f, 0.5f, 0.9f, 0.999f, 1e-5f, 1e-8f, 2.0f, 0.1f, -0.0f,
                                        1e30f, -1e30f, 1e-40f, std::numeric_limits<float>::quiet_NaN(),
                                        std::numeric_limits<float>::infinity(),
                                        -std::numeric_limits<float>::infinity(), 3.0f};
        if (k < 240) return kValues[k % (sizeof kValues / sizeof kValues[0])];
        const uint32_t bits = u32();
        float f;
        std::memcpy(&f, &bits, sizeof f);
        return f;
    }

  private:
    const uint8_t* p_;
    const uint8_t* end_;
};

// Saturating size arithmetic, so the harness can reason about footprints that overflow: kHuge stands for "more than
// any buffer", and `negative` records a size the contract forbids.
constexpr int64_t kHuge = INT64_MAX;
struct Extent {
    int64_t elems = 1;
    bool negative = false;
};
Extent product(std::initializer_list<int64_t> dims) {
    Extent e;
    for (int64_t d : dims) {
        if (d < 0) {
            e.negative = true;
            d = 0;
        }
        if (e.elems == kHuge && d != 0) continue;
        if (__builtin_mul_overflow(e.elems, d, &e.elems)) e.elems = kHuge;
    }
    // A zero dim zeroes the product even past a saturated one.
    for (int64_t d : dims)
        if (d == 0) e.elems = 0;
    return e;
}
int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? kHuge : r;
}
int64_t sat_mul(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? kHuge : r;
}

// One heap block the harness owns; exact size so that AddressSanitizer's redzone starts right after the last element.
struct Block {
    void* ptr;
    int64_t bytes;
};

// Per-input state: contexts (live, destroyed, foreign), the blocks the harness made and the kiln_alloc blocks.
struct State {
    Input in;
    kiln_context* live[2] = {nullptr, nullptr};
    uint64_t limit[2] = {0, 0};
    std::vector<kiln_context*> stale;                  // destroyed in this input: must be refused
    alignas(64) unsigned char foreign_bytes[512] = {};  // not a context, though it looks like memory of one
    std::vector<Block> owned;                          // freed at the end of the input
    struct Alloc {
        int ctx;
        void* ptr;
        int64_t bytes;
    };
    std::vector<Alloc> allocs;

    explicit State(Input i) : in(i) {}
};

// The pointers and sizes of one call: pointers are chosen per operand, with the footprint tracked for the caps.
class Call {
  public:
    Call(State& s, const char* op) : s_(s), op_(op) {}

    const char* op() const { return op_; }
    // The contract forbids this call: it must fail, and buffers beyond the caps are replaced by 1-element ones.
    void forbid() { invalid_ = true; }
    bool invalid() const { return invalid_; }

    // Records the work the call does (multiply-adds); the call is skipped when it is valid and too much.
    void work(Extent e) { work_ = sat_add(work_, e.elems); }

    // Element extent of one operand; a negative dim makes the call invalid by contract.
    int64_t extent(std::initializer_list<int64_t> dims) {
        const Extent e = product(dims);
        if (e.negative) forbid();
        return e.elems;
    }

    // Counts an operand of `count` elements of `elem` bytes against the footprint; a byte count that does not fit
    // int64 cannot describe a buffer, so such a call is invalid.
    void need(int64_t count, int64_t elem) {
        if (count < 0) count = 0;  // a negative dim made the call invalid already
        const int64_t bytes = sat_mul(count, elem);
        if (bytes == kHuge) forbid();
        footprint_ = sat_add(footprint_, bytes);
    }

    // Whether to make the call at all: a valid call must fit the caps; an invalid one always runs.
    bool runnable() const { return invalid_ || (footprint_ <= kMaxCallBytes && work_ <= kMaxWork); }
    bool oversized() const { return footprint_ > kMaxCallBytes; }

    // A pointer for an operand of `count` elements of `elem` bytes: usually a fresh exact block, sometimes null, an
    // alias of an earlier operand at least as large, or a kiln_alloc block at least as large.
    template <typename T>
    T* ptr(int64_t count, int kind = 0) {
        const uint8_t sel = s_.in.u8();
        if (count < 0) count = 0;
        const int64_t bytes = oversized() || count > kMaxCallBytes / (int64_t)sizeof(T) ? (int64_t)sizeof(T)
                                                                                          : count * (int64_t)sizeof(T);
        if (sel < 12) return nullptr;
        if (sel < 40 && !operands_.empty()) {
            const Block& b = operands_[s_.in.u8() % operands_.size()];
            if (b.bytes >= bytes) return static_cast<T*>(b.ptr);
        }
        if (sel < 52 && !s_.allocs.empty()) {
            const State::Alloc& a = s_.allocs[s_.in.u8() % s_.allocs.size()];
            if (a.bytes >= bytes && s_.live[a.ctx]) {
                operands_.push_back({a.ptr, a.bytes});
                return static_cast<T*>(a.ptr);
            }
        }
        void* p = std::malloc((size_t)bytes);
        if (!p) finding("the harness itself is out of memory", op_);
        s_.owned.push_back({p, bytes});
        operands_.push_back({p, bytes});
        fill<T>(static_cast<T*>(p), bytes / (int64_t)sizeof(T), kind);
        return static_cast<T*>(p);
    }

    // Checks the status against the contract.
    void check(kiln_status st) const {
        if (invalid_ && st == KILN_OK) finding("a call kiln.h makes invalid returned KILN_OK", op_);
        if (st != KILN_OK && kiln_last_error()[0] == '\0') finding("a failing call left no message", op_);
        if ((int)st < 0 || (int)st > KILN_ERR_INTERNAL) finding("an unknown status", op_);
        if (st == KILN_ERR_INTERNAL) finding("KILN_ERR_INTERNAL (a bug by its own account)", op_);
    }

  private:
    // Floats: small values, with NaN and infinities now and then; ints (labels, indices): in range for `kind` (a
    // column count) or anything.
    template <typename T>
    void fill(T* p, int64_t n, int kind) {
        const uint8_t mode = s_.in.u8();
        uint32_t x = 0x9E3779B9u * (mode + 1);
        for (int64_t i = 0; i < n; ++i) {
            x = x * 1664525u + 1013904223u;
            if constexpr (std::is_same_v<T, int32_t>) {
                p[i] = (mode & 1) && kind > 0 ? (int32_t)(x % (uint32_t)kind) : (int32_t)x;
            } else if constexpr (std::is_same_v<T, float>) {
                float v = (float)((int32_t)x >> 8) * 0x1p-22f;
                if ((mode & 6) == 6 && (x >> 28) == 0) v = (x & 1) ? NAN : ((x & 2) ? INFINITY : -INFINITY);
                p[i] = v;
            } else {
                p[i] = (T)(x >> 24);  // raw bytes (copies)
            }
        }
    }

    State& s_;
    const char* op_;
    bool invalid_ = false;
    int64_t footprint_ = 0;
    int64_t work_ = 0;
    std::vector<Block> operands_;
};

// The context of a call: usually live context 0 or 1; sometimes null, destroyed or foreign (the call must fail).
kiln_context* pick_context(State& s, Call& c, bool null_is_ok = false) {
    const uint8_t k = s.in.u8();
    if (k < 200) return s.live[k & 1];
    if (k < 215) {
        if (!null_is_ok) c.forbid();
        return nullptr;
    }
    c.forbid();
    if (k < 235 && !s.stale.empty()) return s.stale[s.in.u8() % s.stale.size()];
    if (k < 245) return reinterpret_cast<kiln_context*>(s.foreign_bytes);
    return reinterpret_cast<kiln_context*>(s.foreign_bytes + 8);
}

int live_index(State& s, kiln_context* ctx) {
    for (int i = 0; i < 2; ++i)
        if (ctx && s.live[i] == ctx) return i;
    return -1;
}

// ---- the entries, one function each ----------------------------------------------------------------------------

void call_library(State& s) {
    switch (s.in.u8() % 6) {
        case 0:
            if (kiln_abi_version() != KILN_ABI_VERSION) finding("ABI version differs from the header", "kiln_abi_version");
            break;
        case 1:
            if (!kiln_build_info() || !kiln_build_info()[0]) finding("empty build info", "kiln_build_info");
            break;
        case 2:
            if (kiln_noop() != KILN_OK) finding("noop failed", "kiln_noop");
            break;
        case 3: {
            if (!kiln_last_error()) finding("null message", "kiln_last_error");
            break;
        }
        case 4: {
            int32_t count = -1;
            const char* reason = nullptr;
            const bool want_count = !s.in.one_in(8), want_reason = !s.in.one_in(3);
            const kiln_status st = kiln_cuda_device_count(want_count ? &count : nullptr, want_reason ? &reason : nullptr);
            if (!want_count && st == KILN_OK) finding("null count accepted", "kiln_cuda_device_count");
            if (want_count && (st != KILN_OK || count != 0)) finding("a CPU-only build reports CUDA devices", "kiln_cuda_device_count");
            break;
        }
        case 5: {
            kiln_device_props props;
            int32_t kind = s.in.one_in(4) ? s.in.i32() : (int32_t)(s.in.u8() % 2);
            const int32_t index = s.in.one_in(2) ? 0 : s.in.i32();
            const bool want = !s.in.one_in(8);
            const kiln_status st = fuzz_device_properties(kind, index, want ? &props : nullptr);
            if (st == KILN_OK && (!want || kind != KILN_DEVICE_CPU || index != 0))
                finding("properties of no device", "kiln_device_properties");
            break;
        }
    }
}

void call_context(State& s) {
    switch (s.in.u8() % 4) {
        case 0: {  // destroy one live context (it becomes stale) and create its replacement
            const int i = s.in.u8() & 1;
            if (kiln_context_destroy(s.live[i]) != KILN_OK) finding("destroying a live context failed", "kiln_context_destroy");
            s.stale.push_back(s.live[i]);
            for (size_t a = 0; a < s.allocs.size();)
                if (s.allocs[a].ctx == i) s.allocs.erase(s.allocs.begin() + a); else ++a;
            s.live[i] = nullptr;
            s.limit[i] = 0;
            if (kiln_context_create(KILN_DEVICE_CPU, 0, &s.live[i]) != KILN_OK || !s.live[i])
                finding("creating a CPU context failed", "kiln_context_create");
            break;
        }
        case 1: {  // destroy something that is not a live context
            Call c(s, "kiln_context_destroy");
            kiln_context* ctx = pick_context(s, c, true);
            if (live_index(s, ctx) >= 0) return;  // live ones are destroyed by case 0
            c.check(kiln_context_destroy(ctx));  // NULL is a no-op; stale and foreign handles must be refused
            break;
        }
        case 2: {
            Call c(s, "kiln_synchronize");
            c.check(kiln_synchronize(pick_context(s, c)));
            break;
        }
        case 3: {  // contexts that cannot exist
            int32_t kind = s.in.i32();
            const int32_t index = s.in.i32();
            if (kind == KILN_DEVICE_CPU && index == 0) kind = KILN_DEVICE_CUDA;  // no GPU in this build
            kiln_context* out = reinterpret_cast<kiln_context*>(s.foreign_bytes);
            const bool want = !s.in.one_in(4);
            const kiln_status st = fuzz_context_create(kind, index, want ? &out : nullptr);
            if (st == KILN_OK) finding("created a context for no device", "kiln_context_create");
            if (want && out != nullptr) finding("*out not cleared on failure", "kiln_context_create");
            break;
        }
    }
}

void call_memory(State& s) {
    switch (s.in.u8() % 6) {
        case 0: {
            Call c(s, "kiln_alloc");
            kiln_context* ctx = pick_context(s, c);
            const int i = live_index(s, ctx);
            uint64_t bytes = (uint64_t)s.in.size();
            // Without a cap, a request the host may actually grant is kept below the harness's budget; the cap makes
            // any size safe to ask for, since it is refused before the system is asked.
            const bool capped = i >= 0 && s.limit[i] != 0 && s.limit[i] <= (uint64_t)kMaxAllocBytes;
            if (i >= 0 && !capped && bytes > (uint64_t)kMaxAllocBytes && bytes < UINT64_MAX - (1u << 21)) bytes %= 4096;
            void* out = nullptr;
            const bool want = !s.in.one_in(10);
            if (!want) c.forbid();
            const kiln_status st = kiln_alloc(ctx, bytes, want ? &out : nullptr);
            c.check(st);
            if (st == KILN_OK) {
                if (!out || (reinterpret_cast<uintptr_t>(out) & 63) != 0) finding("null or misaligned block", "kiln_alloc");
                std::memset(out, 0xA5, bytes);  // the whole block must be ours to write
                s.allocs.push_back({i, out, (int64_t)bytes});
            } else if (st != KILN_ERR_INVALID_ARGUMENT && st != KILN_ERR_OUT_OF_MEMORY) {
                finding("unexpected status", "kiln_alloc");
            }
            break;
        }
        case 1: {
            Call c(s, "kiln_free");
            kiln_context* ctx = pick_context(s, c, false);
            const uint8_t k = s.in.u8();
            void* ptr;
            size_t slot = SIZE_MAX;
            if (k < 160 && !s.allocs.empty()) {
                slot = s.in.u8() % s.allocs.size();
                ptr = s.allocs[slot].ptr;
                if (live_index(s, ctx) != s.allocs[slot].ctx) c.forbid();  // another context's block
            } else if (k < 200) {
                ptr = nullptr;  // free(NULL) is a no-op on a live context
            } else {
                ptr = s.foreign_bytes;
                c.forbid();
            }
            const kiln_status st = kiln_free(ctx, ptr);
            c.check(st);
            if (st == KILN_OK && slot != SIZE_MAX) s.allocs.erase(s.allocs.begin() + slot);
            break;
        }
        case 2: {
            Call c(s, "kiln_memory_stats_get");
            kiln_context* ctx = pick_context(s, c);
            kiln_memory_stats st{};
            const bool want = !s.in.one_in(8);
            if (!want) c.forbid();
            c.check(kiln_memory_stats_get(ctx, want ? &st : nullptr));
            if (st.bytes_in_use > st.bytes_reserved || st.live_allocations > st.total_allocations)
                finding("inconsistent counters", "kiln_memory_stats_get");
            break;
        }
        case 3: {
            Call c(s, "kiln_empty_cache");
            c.check(kiln_empty_cache(pick_context(s, c)));
            break;
        }
        case 4: {
            Call c(s, "kiln_set_memory_limit");
            kiln_context* ctx = pick_context(s, c);
            const uint8_t k = s.in.u8();
            const uint64_t bytes = k < 64 ? 0 : k < 192 ? (uint64_t)(s.in.u8() + 1) << (s.in.u8() % 24) : s.in.u64();
            const kiln_status st = kiln_set_memory_limit(ctx, bytes);
            c.check(st);
            if (st == KILN_OK) s.limit[live_index(s, ctx)] = bytes;
            break;
        }
        case 5: {  // copies: on the CPU all three are host memmoves
            static const char* const kNames[] = {"kiln_copy_to_device", "kiln_copy_to_host", "kiln_copy_device"};
            const int which = s.in.u8() % 3;
            Call c(s, kNames[which]);
            kiln_context* ctx = pick_context(s, c);
            int64_t bytes = s.in.size();
            c.need(bytes < 0 ? kHuge : bytes, 1);  // dst
            c.need(bytes < 0 ? kHuge : bytes, 1);  // src
            if (!c.runnable()) return;
            char* dst = c.ptr<char>(bytes);
            const char* src = s.in.one_in(6) ? dst : c.ptr<char>(bytes);  // overlapping copies are memmoves
            const size_t n = (size_t)bytes;
            kiln_status st = which == 0 ? kiln_copy_to_device(ctx, dst, src, n)
                           : which == 1 ? kiln_copy_to_host(ctx, dst, src, n)
                                        : kiln_copy_device(ctx, dst, src, n);
            c.check(st);
            break;
        }
    }
}

// fill and the Philox streams: y (n) with n a size_t.
void call_fill_random(State& s) {
    static const char* const kNames[] = {"kiln_fill_f32", "kiln_rand_uniform_f32", "kiln_rand_normal_f32"};
    const int which = s.in.u8() % 3;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    const uint64_t n = (uint64_t)s.in.size();  // negative sizes become huge size_t values
    c.need(n > (uint64_t)INT64_MAX ? kHuge : (int64_t)n, 4);
    c.work({(int64_t)std::min<uint64_t>(n, (uint64_t)kHuge)});
    const float a = s.in.real(), b = s.in.real();
    const uint64_t seed = s.in.u64(), offset = s.in.one_in(2) ? s.in.u64() : 0;
    if (which == 1 && !(a < b)) c.forbid();
    if (which == 2 && !(b >= 0.0f)) c.forbid();
    if (!c.runnable()) return;
    float* y = c.ptr<float>((int64_t)std::min<uint64_t>(n, (uint64_t)kHuge));
    kiln_status st = which == 0 ? kiln_fill_f32(ctx, y, n, a)
                   : which == 1 ? kiln_rand_uniform_f32(ctx, y, n, seed, offset, a, b)
                                : kiln_rand_normal_f32(ctx, y, n, seed, offset, a, b);
    c.check(st);
}

void call_gemm(State& s) {
    Call c(s, "kiln_gemm_f32");
    kiln_context* ctx = pick_context(s, c);
    kiln_gemm_desc d{};
    d.trans_a = s.in.one_in(2) ? 0 : (s.in.one_in(4) ? s.in.i32() : 1);
    d.trans_b = s.in.one_in(2) ? 0 : (s.in.one_in(4) ? s.in.i32() : 1);
    d.m = s.in.size(), d.n = s.in.size(), d.k = s.in.size();
    d.batch = s.in.one_in(2) ? 1 : s.in.size();
    // Leading dimensions and strides: usually the packed ones (plus a little), sometimes anything.
    const int64_t ac = d.trans_a ? d.m : d.k, bc = d.trans_b ? d.k : d.n;
    const int64_t ar = d.trans_a ? d.k : d.m, br = d.trans_b ? d.n : d.k;
    auto ld = [&](int64_t cols) { return s.in.one_in(5) ? s.in.size() : sat_add(std::max<int64_t>(cols, 1), s.in.u8() % 3); };
    d.lda = ld(ac), d.ldb = ld(bc), d.ldc = ld(d.n);
    auto stride = [&](int64_t rows, int64_t ldv) {
        const uint8_t k = s.in.u8();
        return k < 40 ? 0 : k < 200 ? sat_add(sat_mul(rows, ldv), k % 3) : s.in.size();
    };
    d.stride_a = stride(ar, d.lda), d.stride_b = stride(br, d.ldb), d.stride_c = stride(d.m, d.ldc);
    d.alpha = s.in.real(), d.beta = s.in.one_in(3) ? 0.0f : s.in.real();
    const bool desc_null = s.in.one_in(40);
    if (desc_null) c.forbid();
    // The contract: m, n, k >= 0, batch >= 1, ld >= max(1, cols), batch strides >= 0 when batch > 1.
    if (d.m < 0 || d.n < 0 || d.k < 0 || d.batch < 1) c.forbid();
    if (d.lda < std::max<int64_t>(ac, 1) || d.ldb < std::max<int64_t>(bc, 1) || d.ldc < std::max<int64_t>(d.n, 1))
        c.forbid();
    // Extent of one stored operand over the batch: ((batch - 1) * stride) + (rows - 1) * ld + cols.
    auto span = [&](int64_t rows, int64_t cols, int64_t ldv, int64_t str) -> int64_t {
        if (rows <= 0 || cols <= 0 || d.batch <= 0) return 0;
        const int64_t one = sat_add(sat_mul(rows - 1, ldv < 0 ? kHuge : ldv), cols);
        if (d.batch == 1) return one;
        if (str < 0) {
            c.forbid();
            return 1;
        }
        return sat_add(sat_mul(d.batch - 1, str), one);
    };
    const int64_t na = span(ar, ac, d.lda, d.stride_a), nb = span(br, bc, d.ldb, d.stride_b);
    const int64_t nc = span(d.m, d.n, d.ldc, d.stride_c);
    c.need(na, 4), c.need(nb, 4), c.need(nc, 4);
    c.work(product({d.m, d.n, d.k, d.batch}));
    c.work(product({d.m, d.n, d.batch}));
    if (!c.runnable()) return;
    const float* a = c.ptr<float>(na);
    const float* b = c.ptr<float>(nb);
    float* cm = c.ptr<float>(nc);
    c.check(kiln_gemm_f32(ctx, desc_null ? nullptr : &d, a, b, cm));
}

// binary ops: operands are full (stride inner) or broadcast (stride 0).
void call_binary(State& s) {
    const bool backward = s.in.one_in(2);
    Call c(s, backward ? "kiln_binary_backward_f32" : "kiln_binary_f32");
    kiln_context* ctx = pick_context(s, c);
    int32_t op = s.in.one_in(10) ? s.in.i32() : s.in.u8() % 4;
    if (op < 0 || op > 3) c.forbid();
    const int64_t outer = s.in.size(), inner = s.in.size();
    auto stride = [&] {
        const uint8_t k = s.in.u8();
        return k < 80 ? 0 : k < 240 ? inner : s.in.size();
    };
    const int64_t sa = stride(), sb = stride();
    if ((sa != 0 && sa != inner) || (sb != 0 && sb != inner)) c.forbid();
    const int64_t n = c.extent({outer, inner});
    const int64_t na = sa == 0 ? std::max<int64_t>(inner, 0) : n, nb = sb == 0 ? std::max<int64_t>(inner, 0) : n;
    c.need(na, 4), c.need(nb, 4), c.need(n, 4);
    if (backward) c.need(n, 4), c.need(na, 4), c.need(nb, 4);
    c.work({n});
    if (!c.runnable()) return;
    const float* a = c.ptr<float>(na);
    const float* b = c.ptr<float>(nb);
    if (!backward) {
        float* y = c.ptr<float>(n);
        c.check(fuzz_binary(ctx, op, a, sa, b, sb, y, outer, inner));
        return;
    }
    const float* dy = c.ptr<float>(n);
    float* da = c.ptr<float>(na);
    float* db = c.ptr<float>(nb);
    c.check(fuzz_binary_backward(ctx, op, a, sa, b, sb, dy, da, db, outer, inner));
}

// One-tensor ops of n elements: activations, scale, axpy, dropout, sum of squares, the pointwise losses, optimizers.
void call_pointwise(State& s) {
    static const char* const kNames[] = {
        "kiln_activation_f32", "kiln_activation_backward_f32", "kiln_scale_f32", "kiln_axpy_f32",
        "kiln_dropout_f32", "kiln_dropout_backward_f32", "kiln_sum_squares_f32", "kiln_bce_with_logits_f32",
        "kiln_bce_with_logits_backward_f32", "kiln_mse_f32", "kiln_mse_backward_f32", "kiln_sgd_step_f32",
        "kiln_adam_step_f32"};
    const int which = s.in.u8() % 13;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    const int64_t n = s.in.size();
    const int64_t e = c.extent({n});
    for (int i = 0; i < 5; ++i) c.need(e, 4);
    c.work({e});
    const float alpha = s.in.real();
    int32_t act = s.in.one_in(10) ? s.in.i32() : s.in.u8() % 5;
    if ((which == 0 || which == 1) && (act < 0 || act > 4)) c.forbid();
    const float p = s.in.one_in(4) ? s.in.real() : (float)(s.in.u8() % 10) / 10.0f;
    if ((which == 4 || which == 5) && !(p >= 0.0f && p < 1.0f)) c.forbid();
    const uint64_t seed = s.in.u64();
    if (!c.runnable()) return;
    const float* x = c.ptr<float>(e);
    kiln_status st = KILN_OK;
    switch (which) {
        case 0: st = fuzz_activation(ctx, act, x, s.in.one_in(3) ? const_cast<float*>(x) : c.ptr<float>(e), n, alpha); break;
        case 1: {
            const float* y = c.ptr<float>(e);
            const float* dy = c.ptr<float>(e);
            st = fuzz_activation_backward(ctx, act, x, y, dy, c.ptr<float>(e), n, alpha);
            break;
        }
        case 2: st = kiln_scale_f32(ctx, x, s.in.one_in(3) ? const_cast<float*>(x) : c.ptr<float>(e), n, alpha); break;
        case 3: st = kiln_axpy_f32(ctx, n, alpha, x, c.ptr<float>(e)); break;
        case 4: st = kiln_dropout_f32(ctx, x, c.ptr<float>(e), n, p, seed, seed >> 7); break;
        case 5: st = kiln_dropout_backward_f32(ctx, x, c.ptr<float>(e), n, p, seed, seed >> 7); break;
        case 6: st = kiln_sum_squares_f32(ctx, x, n, c.ptr<float>(1)); break;
        case 7: {
            const float* t = c.ptr<float>(e);
            st = kiln_bce_with_logits_f32(ctx, x, t, c.ptr<float>(1), n);
            break;
        }
        case 8: {
            const float* t = c.ptr<float>(e);
            const float* dloss = c.ptr<float>(1);
            st = kiln_bce_with_logits_backward_f32(ctx, x, t, dloss, c.ptr<float>(e), n);
            break;
        }
        case 9: {
            const float* t = c.ptr<float>(e);
            st = kiln_mse_f32(ctx, x, t, c.ptr<float>(1), n);
            break;
        }
        case 10: {
            const float* t = c.ptr<float>(e);
            const float* dloss = c.ptr<float>(1);
            st = kiln_mse_backward_f32(ctx, x, t, dloss, c.ptr<float>(e), n);
            break;
        }
        case 11: {
            float* param = c.ptr<float>(e);
            float* vel = c.ptr<float>(e);
            st = kiln_sgd_step_f32(ctx, param, x, vel, n, alpha, s.in.real(), s.in.real(), s.in.i32());
            break;
        }
        case 12: {
            float* param = c.ptr<float>(e);
            float* m = c.ptr<float>(e);
            float* v = c.ptr<float>(e);
            st = kiln_adam_step_f32(ctx, param, x, m, v, n, alpha, s.in.real(), s.in.real(), s.in.real(), s.in.real(),
                                    s.in.i32(), s.in.real(), s.in.real());
            break;
        }
    }
    c.check(st);
}

// Reductions, softmax and cross entropy over (rows, cols) or (outer, len, inner).
void call_rows(State& s) {
    static const char* const kNames[] = {"kiln_reduce_sum_f32", "kiln_reduce_sum_backward_f32",
                                         "kiln_max_lastdim_f32", "kiln_max_lastdim_backward_f32",
                                         "kiln_softmax_f32", "kiln_softmax_backward_f32",
                                         "kiln_cross_entropy_f32", "kiln_cross_entropy_backward_f32"};
    const int which = s.in.u8() % 8;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    if (which < 2) {
        const int64_t outer = s.in.size(), len = s.in.size(), inner = s.in.size();
        const float scale = s.in.real();
        const int64_t nx = c.extent({outer, len, inner}), ny = c.extent({outer, inner});
        c.need(nx, 4), c.need(ny, 4);
        c.work({nx});
        if (!c.runnable()) return;
        if (which == 0) {
            const float* x = c.ptr<float>(nx);
            c.check(kiln_reduce_sum_f32(ctx, x, c.ptr<float>(ny), outer, len, inner, scale));
        } else {
            const float* dy = c.ptr<float>(ny);
            c.check(kiln_reduce_sum_backward_f32(ctx, dy, c.ptr<float>(nx), outer, len, inner, scale));
        }
        return;
    }
    const int64_t rows = s.in.size(), cols = s.in.size();
    const int64_t n = c.extent({rows, cols}), nr = c.extent({rows});
    if (which >= 2 && which <= 3 && cols < 1) c.forbid();  // max over an empty row has no answer
    c.need(n, 4), c.need(n, 4), c.need(n, 4), c.need(nr, 4), c.need(nr, 4), c.need(nr, 4);
    c.work({n});
    const int32_t log = s.in.one_in(2) ? 0 : s.in.i32();
    if (!c.runnable()) return;
    const int label_range = cols > 0 && cols < INT32_MAX && s.in.one_in(2) ? (int)cols : 0;
    kiln_status st = KILN_OK;
    switch (which) {
        case 2: {
            const float* x = c.ptr<float>(n);
            float* y = c.ptr<float>(nr);
            st = kiln_max_lastdim_f32(ctx, x, y, c.ptr<int32_t>(nr, label_range), rows, cols);
            break;
        }
        case 3: {
            const float* dy = c.ptr<float>(nr);
            const int32_t* index = c.ptr<int32_t>(nr, label_range);
            st = kiln_max_lastdim_backward_f32(ctx, dy, index, c.ptr<float>(n), rows, cols);
            break;
        }
        case 4: {
            const float* x = c.ptr<float>(n);
            st = kiln_softmax_f32(ctx, x, s.in.one_in(3) ? const_cast<float*>(x) : c.ptr<float>(n), rows, cols, log);
            break;
        }
        case 5: {
            const float* y = c.ptr<float>(n);
            const float* dy = c.ptr<float>(n);
            st = kiln_softmax_backward_f32(ctx, y, dy, c.ptr<float>(n), rows, cols, log);
            break;
        }
        case 6: {
            const float* logits = c.ptr<float>(n);
            const int32_t* labels = c.ptr<int32_t>(nr, label_range);
            float* loss = c.ptr<float>(1);
            st = kiln_cross_entropy_f32(ctx, logits, labels, loss, c.ptr<float>(nr), rows, cols);
            break;
        }
        case 7: {
            const float* logits = c.ptr<float>(n);
            const int32_t* labels = c.ptr<int32_t>(nr, label_range);
            const float* lse = c.ptr<float>(nr);
            const float* dloss = c.ptr<float>(1);
            st = kiln_cross_entropy_backward_f32(ctx, logits, labels, lse, dloss, c.ptr<float>(n), rows, cols);
            break;
        }
    }
    c.check(st);
}

// One window axis: usually a consistent (in, window, stride, pad, dilation, out), sometimes anything.
struct Axis {
    int64_t in, window, out;
    int32_t stride, pad, dilation;
    bool valid;  // by kiln.h's formula
};
Axis pick_axis(State& s, bool pool) {
    Axis a;
    a.in = s.in.size();
    a.window = s.in.one_in(4) ? s.in.size() : 1 + s.in.u8() % 5;
    a.stride = s.in.one_in(5) ? s.in.i32() : 1 + s.in.u8() % 3;
    a.pad = s.in.one_in(5) ? s.in.i32() : s.in.u8() % 3;
    a.dilation = pool ? 1 : (s.in.one_in(5) ? s.in.i32() : 1 + s.in.u8() % 2);
    a.valid = a.in >= 1 && a.window >= 1 && a.stride >= 1 && a.pad >= 0 && a.dilation >= 1;
    int64_t want = -1;
    if (a.valid) {
        const int64_t padded = sat_add(a.in, 2 * (int64_t)a.pad);
        const int64_t taps = sat_add(sat_mul(a.dilation, a.window - 1), 1);
        if (padded == kHuge || taps == kHuge || padded < taps) a.valid = false;
        else want = (padded - taps) / a.stride + 1;
    }
    a.out = s.in.one_in(8) ? s.in.size() : want;
    if (a.out != want) a.valid = false;
    return a;
}

void call_conv(State& s) {
    static const char* const kNames[] = {"kiln_conv2d_forward_f32", "kiln_conv2d_backward_data_f32",
                                         "kiln_conv2d_backward_weight_f32", "kiln_conv2d_workspace_size"};
    const int which = s.in.u8() % 4;
    Call c(s, kNames[which]);
    kiln_context* ctx = which == 3 ? nullptr : pick_context(s, c);
    kiln_conv2d_desc d{};
    d.n = s.in.size(), d.c = s.in.size(), d.k = s.in.size();
    const Axis ah = pick_axis(s, false), aw = pick_axis(s, false);
    d.h = ah.in, d.r = ah.window, d.stride_h = ah.stride, d.pad_h = ah.pad, d.dilation_h = ah.dilation, d.p = ah.out;
    d.w = aw.in, d.s = aw.window, d.stride_w = aw.stride, d.pad_w = aw.pad, d.dilation_w = aw.dilation, d.q = aw.out;
    if (!ah.valid || !aw.valid || d.n < 0 || d.c < 1 || d.k < 1) c.forbid();
    const bool desc_null = s.in.one_in(40);
    if (desc_null) c.forbid();
    const int64_t nx = c.extent({d.n, d.c, d.h, d.w}), nw = c.extent({d.k, d.c, d.r, d.s});
    const int64_t ny = c.extent({d.n, d.k, d.p, d.q});
    c.need(nx, 4), c.need(nw, 4), c.need(ny, 4), c.need(d.k, 4);
    c.work(product({d.n, d.k, d.p, d.q, d.c, d.r, d.s}));
    c.work(product({d.n, d.c, d.h, d.w, 4}));
    if (which == 3) {
        uint64_t bytes = 0;
        const bool want = !s.in.one_in(10);
        if (!want) c.forbid();
        c.check(kiln_conv2d_workspace_size(desc_null ? nullptr : &d, want ? &bytes : nullptr));
        return;
    }
    if (!c.runnable()) return;
    const kiln_conv2d_desc* dp = desc_null ? nullptr : &d;
    kiln_status st;
    if (which == 0) {
        const float* x = c.ptr<float>(nx);
        const float* w = c.ptr<float>(nw);
        const float* bias = c.ptr<float>(d.k);
        st = kiln_conv2d_forward_f32(ctx, dp, x, w, bias, c.ptr<float>(ny));
    } else if (which == 1) {
        const float* dy = c.ptr<float>(ny);
        const float* w = c.ptr<float>(nw);
        st = kiln_conv2d_backward_data_f32(ctx, dp, dy, w, c.ptr<float>(nx));
    } else {
        const float* x = c.ptr<float>(nx);
        const float* dy = c.ptr<float>(ny);
        float* dw = c.ptr<float>(nw);
        st = kiln_conv2d_backward_weight_f32(ctx, dp, x, dy, dw, c.ptr<float>(d.k));
    }
    c.check(st);
}

void call_pool(State& s) {
    static const char* const kNames[] = {"kiln_max_pool2d_f32", "kiln_max_pool2d_backward_f32", "kiln_avg_pool2d_f32",
                                         "kiln_avg_pool2d_backward_f32"};
    const int which = s.in.u8() % 4;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    kiln_pool2d_desc d{};
    d.n = s.in.size(), d.c = s.in.size();
    const Axis ah = pick_axis(s, true), aw = pick_axis(s, true);
    d.h = ah.in, d.kernel_h = (int32_t)std::min<int64_t>(ah.window, INT32_MAX), d.stride_h = ah.stride, d.pad_h = ah.pad;
    d.w = aw.in, d.kernel_w = (int32_t)std::min<int64_t>(aw.window, INT32_MAX), d.stride_w = aw.stride, d.pad_w = aw.pad;
    d.p = ah.out, d.q = aw.out;
    if (!ah.valid || !aw.valid || d.n < 0 || d.c < 0 || ah.window > INT32_MAX || aw.window > INT32_MAX) c.forbid();
    const bool desc_null = s.in.one_in(40);
    if (desc_null) c.forbid();
    const int64_t nx = c.extent({d.n, d.c, d.h, d.w}), ny = c.extent({d.n, d.c, d.p, d.q});
    c.need(nx, 4), c.need(ny, 4), c.need(ny, 4);
    c.work(product({d.n, d.c, d.p, d.q, d.kernel_h, d.kernel_w}));
    c.work({nx});
    const int32_t include = s.in.one_in(2) ? 0 : s.in.i32();
    if (!c.runnable()) return;
    const int64_t plane = d.h > 0 && d.w > 0 && d.h <= INT32_MAX && d.w <= INT32_MAX / d.h ? d.h * d.w : 0;
    const kiln_pool2d_desc* dp = desc_null ? nullptr : &d;
    kiln_status st;
    switch (which) {
        case 0: {
            const float* x = c.ptr<float>(nx);
            float* y = c.ptr<float>(ny);
            st = kiln_max_pool2d_f32(ctx, dp, x, y, c.ptr<int32_t>(ny, (int)plane));
            break;
        }
        case 1: {
            const float* dy = c.ptr<float>(ny);
            const int32_t* index = c.ptr<int32_t>(ny, (int)plane);
            st = kiln_max_pool2d_backward_f32(ctx, dp, dy, index, c.ptr<float>(nx));
            break;
        }
        case 2: {
            const float* x = c.ptr<float>(nx);
            st = kiln_avg_pool2d_f32(ctx, dp, x, c.ptr<float>(ny), include);
            break;
        }
        default: {
            const float* dy = c.ptr<float>(ny);
            st = kiln_avg_pool2d_backward_f32(ctx, dp, dy, c.ptr<float>(nx), include);
            break;
        }
    }
    c.check(st);
}

void call_batchnorm(State& s) {
    static const char* const kNames[] = {"kiln_batch_norm_train_f32", "kiln_batch_norm_eval_f32",
                                         "kiln_batch_norm_backward_f32", "kiln_batch_norm_backward_eval_f32"};
    const int which = s.in.u8() % 4;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    const int64_t n = s.in.size(), ch = s.in.size(), hw = s.in.size();
    const int64_t nx = c.extent({n, ch, hw}), nc = c.extent({ch});
    for (int i = 0; i < 3; ++i) c.need(nx, 4);
    for (int i = 0; i < 6; ++i) c.need(nc, 4);
    c.work({nx});
    const float momentum = s.in.one_in(3) ? s.in.real() : 0.1f;
    const float eps = s.in.one_in(3) ? s.in.real() : 1e-5f;
    if (which != 2 && !(eps > 0.0f && std::isfinite(eps))) c.forbid();
    if (which == 0 && !(momentum >= 0.0f && momentum <= 1.0f)) c.forbid();
    if (!c.runnable()) return;
    const float* x = c.ptr<float>(nx);
    const float* gamma = c.ptr<float>(nc);
    kiln_status st;
    switch (which) {
        case 0: {
            const float* beta = c.ptr<float>(nc);
            float* y = c.ptr<float>(nx);
            float* mean = c.ptr<float>(nc);
            float* invstd = c.ptr<float>(nc);
            float* rm = c.ptr<float>(nc);
            st = kiln_batch_norm_train_f32(ctx, n, ch, hw, x, gamma, beta, y, mean, invstd, rm, c.ptr<float>(nc),
                                           momentum, eps);
            break;
        }
        case 1: {
            const float* beta = c.ptr<float>(nc);
            const float* rm = c.ptr<float>(nc);
            const float* rv = c.ptr<float>(nc);
            st = kiln_batch_norm_eval_f32(ctx, n, ch, hw, x, gamma, beta, rm, rv, eps, c.ptr<float>(nx));
            break;
        }
        case 2: {
            const float* dy = c.ptr<float>(nx);
            const float* mean = c.ptr<float>(nc);
            const float* invstd = c.ptr<float>(nc);
            float* dx = c.ptr<float>(nx);
            float* dgamma = c.ptr<float>(nc);
            st = kiln_batch_norm_backward_f32(ctx, n, ch, hw, x, dy, gamma, mean, invstd, dx, dgamma, c.ptr<float>(nc));
            break;
        }
        default: {
            const float* dy = c.ptr<float>(nx);
            const float* rm = c.ptr<float>(nc);
            const float* rv = c.ptr<float>(nc);
            float* dx = c.ptr<float>(nx);
            float* dgamma = c.ptr<float>(nc);
            st = kiln_batch_norm_backward_eval_f32(ctx, n, ch, hw, x, dy, gamma, rm, rv, eps, dx, dgamma,
                                                   c.ptr<float>(nc));
            break;
        }
    }
    c.check(st);
}

void call_lstm(State& s) {
    static const char* const kNames[] = {"kiln_lstm_reserve_size", "kiln_lstm_forward_f32", "kiln_lstm_backward_f32"};
    const int which = s.in.u8() % 3;
    Call c(s, kNames[which]);
    kiln_context* ctx = which == 0 ? nullptr : pick_context(s, c);
    kiln_lstm_desc d{s.in.size(), s.in.size(), s.in.size(), s.in.size()};
    if (d.n < 1 || d.t < 1 || d.f < 1 || d.h < 1) c.forbid();
    const bool desc_null = s.in.one_in(40);
    if (desc_null) c.forbid();
    const int64_t nx = c.extent({d.n, d.t, d.f}), ny = c.extent({d.n, d.t, d.h}), nh = c.extent({d.n, d.h});
    const int64_t nwi = c.extent({4, d.h, d.f}), nwh = c.extent({4, d.h, d.h}), nb = c.extent({4, d.h});
    const int64_t nres = c.extent({6, d.n, d.t, d.h});
    c.need(nx, 8), c.need(ny, 8), c.need(nh, 24), c.need(nwi, 8), c.need(nwh, 8), c.need(nb, 8), c.need(nres, 4);
    c.work(product({d.n, d.t, 4, d.h, sat_add(d.f, d.h)}));
    if (which == 0) {
        uint64_t bytes = 0;
        const bool want = !s.in.one_in(10);
        if (!want) c.forbid();
        const kiln_status st = kiln_lstm_reserve_size(desc_null ? nullptr : &d, want ? &bytes : nullptr);
        c.check(st);
        if (st == KILN_OK && bytes != (uint64_t)nres * 4) finding("reserve size differs from 24 n t h", c.op());
        return;
    }
    if (!c.runnable()) return;
    const kiln_lstm_desc* dp = desc_null ? nullptr : &d;
    const float* x = c.ptr<float>(nx);
    const float* h0 = c.ptr<float>(nh);
    const float* c0 = c.ptr<float>(nh);
    const float* w_ih = c.ptr<float>(nwi);
    const float* w_hh = c.ptr<float>(nwh);
    kiln_status st;
    if (which == 1) {
        const float* bias = c.ptr<float>(nb);
        float* y = c.ptr<float>(ny);
        float* h_n = c.ptr<float>(nh);
        float* c_n = c.ptr<float>(nh);
        st = kiln_lstm_forward_f32(ctx, dp, x, h0, c0, w_ih, w_hh, bias, y, h_n, c_n, c.ptr<float>(nres));
    } else {
        const float* reserve = c.ptr<float>(nres);
        const float* dy = c.ptr<float>(ny);
        const float* dh_n = c.ptr<float>(nh);
        const float* dc_n = c.ptr<float>(nh);
        float* dx = c.ptr<float>(nx);
        float* dh0 = c.ptr<float>(nh);
        float* dc0 = c.ptr<float>(nh);
        float* dw_ih = c.ptr<float>(nwi);
        float* dw_hh = c.ptr<float>(nwh);
        st = kiln_lstm_backward_f32(ctx, dp, x, h0, c0, w_ih, w_hh, reserve, dy, dh_n, dc_n, dx, dh0, dc0, dw_ih,
                                    dw_hh, c.ptr<float>(nb));
    }
    c.check(st);
}

// The VAE's sampling family: reparameterization (n) and the Gaussian KL over (batch, dim).
void call_sampling(State& s) {
    static const char* const kNames[] = {"kiln_reparameterize_f32", "kiln_reparameterize_backward_f32",
                                         "kiln_gaussian_kl_f32", "kiln_gaussian_kl_backward_f32"};
    const int which = s.in.u8() % 4;
    Call c(s, kNames[which]);
    kiln_context* ctx = pick_context(s, c);
    const int64_t a = s.in.size(), b = which >= 2 ? s.in.size() : 1;
    const int64_t n = c.extent({a, b});
    for (int i = 0; i < 4; ++i) c.need(n, 4);
    c.need(1, 4);
    c.work({n});
    const uint64_t seed = s.in.u64(), offset = s.in.one_in(2) ? 0 : s.in.u64();
    if (!c.runnable()) return;
    const float* x = c.ptr<float>(n);
    const float* y = c.ptr<float>(n);
    kiln_status st;
    switch (which) {
        case 0: st = kiln_reparameterize_f32(ctx, x, y, s.in.one_in(4) ? const_cast<float*>(x) : c.ptr<float>(n), a,
                                             seed, offset); break;
        case 1: {
            float* dmu = c.ptr<float>(n);
            st = kiln_reparameterize_backward_f32(ctx, x, y, dmu, c.ptr<float>(n), a, seed, offset);
            break;
        }
        case 2: st = kiln_gaussian_kl_f32(ctx, x, y, c.ptr<float>(1), a, b); break;
        default: {
            const float* dloss = c.ptr<float>(1);
            float* dmu = c.ptr<float>(n);
            st = kiln_gaussian_kl_backward_f32(ctx, x, y, dloss, dmu, c.ptr<float>(n), a, b);
            break;
        }
    }
    c.check(st);
}

}  // namespace

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
        // keeps decoding to the calls it was minimized for.
        const uint8_t family = s.in.u8();
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
