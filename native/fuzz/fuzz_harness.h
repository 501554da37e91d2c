// The harness's shared parts, used by every call family: the caps, the input decoder (Input), saturating size
// arithmetic (Extent), the per-input State and the per-call operand chooser (Call), which also records each pointer
// argument by kiln.h's name and use for the oracles of fuzz_oracles.cpp. The contract they keep with the ABI is
// described at the top of fuzz_abi.cpp.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <type_traits>
#include <vector>

#include "kiln/kiln.h"

namespace kiln::fuzz {

constexpr int64_t kMaxCallBytes = int64_t(64) << 20;  // the whole footprint of one valid call
constexpr int64_t kMaxWork = int64_t(1) << 22;        // multiply-adds (or elements) of one valid call
constexpr int kMaxCalls = 48;                         // per input
constexpr int64_t kMaxAllocBytes = int64_t(64) << 20;  // kiln_alloc without a limit set

// Reports a broken contract and traps, so that libFuzzer keeps the input that found it.
[[noreturn]] void finding(const char* what, const char* op);

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
Extent product(std::initializer_list<int64_t> dims);
inline int64_t sat_add(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_add_overflow(a, b, &r) ? kHuge : r;
}
inline int64_t sat_mul(int64_t a, int64_t b) {
    int64_t r;
    return __builtin_mul_overflow(a, b, &r) ? kHuge : r;
}

// One heap block the harness made or handed out. A fresh block is followed by kSlackBytes that AddressSanitizer sees
// as poisoned, so an overrun of one element is still reported; the slack is unpoisoned only where a partial overlap
// (out = in + 1 element) is placed over it.
constexpr int64_t kSlackBytes = 8;  // one element of any operand type
struct Block {
    void* ptr;
    int64_t bytes;  // what the operand it was made for may touch
    int64_t room;   // what the harness may hand out from ptr: bytes plus the slack, or a kiln_alloc block's size
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

// How kiln.h lets an entry take one pointer argument. in/out: read/written and required; opt_in/opt_out: kiln.h says
// it may be NULL (a backward entry's gradients all may: "ops: conventions"). handle: a descriptor, context or name,
// required even by a call that has nothing to do.
enum class Use : uint8_t { in, out, opt_in, opt_out, handle };

// What kiln.h lets two arguments of one entry do with memory: overlap freely (two inputs), never overlap, or be the
// very same buffer but not overlap in part. fuzz_oracles.cpp holds kiln.h's rules: its conventions' default (an
// output overlaps nothing) and the entries' stated exceptions.
enum class Overlap : uint8_t { free, never, exact_only };
Overlap alias_rule(const char* entry, const char* a, Use a_use, const char* b, Use b_use);

// One pointer argument of a call, as the oracles (fuzz_oracles.cpp) see it.
struct Arg {
    const char* name;  // kiln.h's name for it, which a refusal must quote
    Use use;
    const void* ptr;
    int64_t bytes;  // what the call may touch from ptr (NULL included: a NULL with bytes is one the call needs)
    int64_t room;   // what the harness could place from ptr (see Block)
};

// The pointers and sizes of one call: pointers are chosen per operand, with the footprint tracked for the caps, and
// declared by kiln.h's name and Use so that the oracles can judge the result: a NULL required pointer must be refused
// by name, two arguments kiln.h keeps apart must not be accepted overlapping, an exact alias it allows must run, and a
// refused call must leave its outputs as they were.
class Call {
  public:
    Call(State& s, const char* op) : s_(s), op_(op) {}

    const char* op() const { return op_; }
    // The contract forbids this call: it must fail, and buffers beyond the caps are replaced by 1-element ones.
    void forbid() { invalid_ = true; }
    bool invalid() const { return invalid_; }
    // kiln.h makes this call a no-op that writes nothing, so its data pointers may be NULL or overlap (attention, a
    // length 0).
    void no_op() { no_op_ = true; }

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

    // Whether to make the call at all: a valid call must fit the caps; one that must fail always runs.
    bool runnable() const {
        return invalid_ || null_given_ || (footprint_ <= kMaxCallBytes && work_ <= kMaxWork);
    }
    bool oversized() const { return footprint_ > kMaxCallBytes; }

    // An operand of `count` elements, declared as kiln.h's argument `name`: usually a fresh exact block, sometimes
    // null, an alias of an earlier operand at least as large, a kiln_alloc block at least as large, or a partial
    // overlap with an earlier argument kiln.h keeps it apart from. `kind` bounds int fills (see fill).
    template <typename T>
    T* in(const char* name, int64_t count, int kind = 0) { return arg<T>(name, Use::in, count, kind); }
    template <typename T>
    T* out(const char* name, int64_t count, int kind = 0) { return arg<T>(name, Use::out, count, kind); }
    template <typename T>
    T* opt_in(const char* name, int64_t count, int kind = 0) { return arg<T>(name, Use::opt_in, count, kind); }
    template <typename T>
    T* opt_out(const char* name, int64_t count, int kind = 0) { return arg<T>(name, Use::opt_out, count, kind); }

    // The same choice of pointer, not yet declared: for an argument whose Use depends on a value read after it.
    template <typename T>
    T* ptr(int64_t count, int kind = 0) {
        const Placed p = place(nullptr, Use::in, count, (int64_t)sizeof(T));
        if (p.fresh) fill<T>(static_cast<T*>(p.ptr), p.bytes / (int64_t)sizeof(T), kind);
        return static_cast<T*>(p.ptr);
    }

    // A fresh block of `bytes` that no input byte decides (none is read), for a call the harness derives from one it
    // has made (attention's gradients in one packed buffer): exact, with the slack poisoned, freed with the rest.
    void* fresh_block(int64_t bytes);

    // Declares a pointer the call site chose itself, of `count` elements: a descriptor, an out-param, an operand
    // from ptr(), or an earlier operand passed again where kiln.h lets the entry work in place.
    template <typename T>
    T* given(const char* name, Use use, T* p, int64_t count = 1) {
        declare(name, use, p, block_bytes(count, (int64_t)sizeof(T)), 0);
        return p;
    }
    // The same for a pointer to an incomplete type (a context): `bytes` is only whether the call needs it.
    void declare(const char* name, Use use, const void* p, int64_t bytes, int64_t room);

    // Makes the call entry(args...) and judges it: the status against the contract (check) and, where the oracles
    // expect a refusal, the written arguments against a copy taken just before.
    template <typename Entry, typename... Args>
    kiln_status call(Entry entry, Args... args) {
        const Expectation e = expect(true);
        const kiln_status st = entry(args...);
        judge(st, e);
        return st;
    }

    // Checks the status of a call made by the call site against the contract and the oracles (outputs unchecked).
    void check(kiln_status st) const { judge(st, expect(false)); }

  private:
    struct Placed {
        void* ptr;
        int64_t bytes, room;
        bool fresh;  // a new block, to be filled
    };
    // What the oracles expect of the call about to be made (fuzz_oracles.cpp).
    struct Expectation {
        const Arg* missing = nullptr;                     // a NULL the call needs: it must be refused by name
        const Arg* clash[2] = {nullptr, nullptr};         // an overlap kiln.h forbids: it must be refused
        const Arg* in_place[2] = {nullptr, nullptr};      // an exact alias kiln.h allows in a valid call: it must run
        std::vector<std::vector<unsigned char>> written;  // each written argument's bytes, when a refusal is due
    };

    template <typename T>
    T* arg(const char* name, Use use, int64_t count, int kind) {
        const Placed p = place(name, use, count, (int64_t)sizeof(T));
        if (p.fresh) fill<T>(static_cast<T*>(p.ptr), p.bytes / (int64_t)sizeof(T), kind);
        declare(name, use, p.ptr, p.bytes, p.room);
        return static_cast<T*>(p.ptr);
    }
    // Bytes of the block for `count` elements: exact, or one element past the caps (the call is then invalid).
    int64_t block_bytes(int64_t count, int64_t elem) const {
        if (count < 0) count = 0;
        return oversized() || count > kMaxCallBytes / elem ? elem : count * elem;
    }
    Placed place(const char* name, Use use, int64_t count, int64_t elem);
    void* overlap_earlier(const char* name, Use use, int64_t bytes, int64_t elem, uint8_t pick, int64_t* room);
    Expectation expect(bool keep_written) const;
    void judge(kiln_status st, const Expectation& e) const;

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
    bool null_given_ = false;  // a required argument declared NULL before runnable(): the call must fail
    bool no_op_ = false;
    int64_t footprint_ = 0;
    int64_t work_ = 0;
    std::vector<Block> operands_;  // the blocks handed out, for aliases
    std::vector<Arg> args_;        // the declared arguments, in order
};

// The context of a call: usually live context 0 or 1; sometimes null, destroyed or foreign (the call must fail).
kiln_context* pick_context(State& s, Call& c, bool null_is_ok = false);

// Which live context (0 or 1) ctx is, or -1 for null, destroyed and foreign ones.
int live_index(State& s, kiln_context* ctx);

}  // namespace kiln::fuzz
