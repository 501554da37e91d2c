// The out-of-line helpers of fuzz_harness.h: findings, the saturating product of dims, the choice of a call's context
// and of each operand's pointer.
#include "fuzz_harness.h"

#include <sanitizer/asan_interface.h>

#include <cstdio>

namespace kiln::fuzz {

[[noreturn]] void finding(const char* what, const char* op) {
    std::fprintf(stderr, "FUZZ FINDING in %s: %s (last error: \"%s\")\n", op, what, kiln_last_error());
    std::fflush(stderr);
    __builtin_trap();
}

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

kiln_context* pick_context(State& s, Call& c, bool null_is_ok) {
    const uint8_t k = s.in.u8();
    kiln_context* ctx;
    if (k < 200) {
        ctx = s.live[k & 1];
    } else if (k < 215) {
        ctx = nullptr;  // refused by name unless null_is_ok: the null-pointer oracle judges it like any handle
    } else {
        c.forbid();
        if (k < 235 && !s.stale.empty()) ctx = s.stale[s.in.u8() % s.stale.size()];
        else if (k < 245) ctx = reinterpret_cast<kiln_context*>(s.foreign_bytes);
        else ctx = reinterpret_cast<kiln_context*>(s.foreign_bytes + 8);
    }
    c.declare("ctx", null_is_ok ? Use::opt_in : Use::handle, ctx, 1, 0);
    return ctx;
}

int live_index(State& s, kiln_context* ctx) {
    for (int i = 0; i < 2; ++i)
        if (ctx && s.live[i] == ctx) return i;
    return -1;
}

void Call::declare(const char* name, Use use, const void* p, int64_t bytes, int64_t room) {
    args_.push_back({name, use, p, bytes, room});
    if (!p && bytes > 0 && (use == Use::handle || use == Use::out)) null_given_ = true;
}

Call::Placed Call::place(const char* name, Use use, int64_t count, int64_t elem) {
    const uint8_t sel = s_.in.u8();
    const int64_t bytes = block_bytes(count, elem);
    if (sel < 12) return {nullptr, bytes, 0, false};
    if (sel < 40 && !operands_.empty()) {
        const uint8_t pick = s_.in.u8();
        // Where kiln.h keeps this argument apart from an earlier one, some of these choices place it one element into
        // that one (out = in + 1): the partial overlap the oracles expect a refusal of.
        int64_t room = 0;
        if (sel < 24)
            if (void* p = overlap_earlier(name, use, bytes, elem, pick, &room)) return {p, bytes, room, false};
        const Block& b = operands_[pick % operands_.size()];
        if (b.bytes >= bytes) return {b.ptr, bytes, b.room, false};
    }
    if (sel < 52 && !s_.allocs.empty()) {
        const State::Alloc& a = s_.allocs[s_.in.u8() % s_.allocs.size()];
        if (a.bytes >= bytes && s_.live[a.ctx]) {
            operands_.push_back({a.ptr, a.bytes, a.bytes});
            return {a.ptr, bytes, a.bytes, false};
        }
    }
    return {fresh_block(bytes), bytes, bytes + kSlackBytes, true};
}

void* Call::fresh_block(int64_t bytes) {
    void* p = std::malloc((size_t)(bytes + kSlackBytes));
    if (!p) finding("the harness itself is out of memory", op_);
    ASAN_POISON_MEMORY_REGION(static_cast<char*>(p) + bytes, kSlackBytes);
    const Block b{p, bytes, bytes + kSlackBytes};
    s_.owned.push_back(b);
    operands_.push_back(b);
    return p;
}

// One element into an earlier argument that kiln.h says `name` must not overlap (or may only alias exactly), where
// that argument's room holds the shifted operand; NULL when there is none.
void* Call::overlap_earlier(const char* name, Use use, int64_t bytes, int64_t elem, uint8_t pick, int64_t* room) {
    if (!name || bytes <= 0) return nullptr;
    std::vector<const Arg*> partners;
    for (const Arg& a : args_)
        if (a.ptr && a.bytes > elem && a.room - elem >= bytes &&
            alias_rule(op_, name, use, a.name, a.use) != Overlap::free)
            partners.push_back(&a);
    if (partners.empty()) return nullptr;
    const Arg& a = *partners[pick % partners.size()];
    char* p = static_cast<char*>(const_cast<void*>(a.ptr)) + elem;
    ASAN_UNPOISON_MEMORY_REGION(p, bytes);  // the tail may reach into the slack
    *room = a.room - elem;
    return p;
}

}  // namespace kiln::fuzz
