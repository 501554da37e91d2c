// The out-of-line helpers of fuzz_harness.h: findings, the saturating product of dims and the choice of a call's
// context.
#include "fuzz_harness.h"

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

}  // namespace kiln::fuzz
