// The checked size arithmetic of core/checked.h and its messages.
#include "core/checked.h"

#include <cstdio>
#include <string>

#include "core/error.h"

namespace kiln {

namespace {

// "(n=2, c=3)" for the message.
std::string dims_str(std::initializer_list<Dim> dims) {
    std::string s = "(";
    for (const Dim& d : dims) {
        if (s.size() > 1) s += ", ";
        char value[32];
        std::snprintf(value, sizeof value, "=%lld", (long long)d.value);
        s += d.name;
        s += value;
    }
    return s + ")";
}

[[noreturn]] void too_large(const char* op, const char* what, std::initializer_list<Dim> dims, int64_t limit) {
    if (limit == INT64_MAX)
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: %s %s is too large: its size overflows int64 (more than INT64_MAX)", op,
             what, dims_str(dims).c_str());
    if (limit == kMaxElements)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: %s %s is too large: its size overflows the 2^60 - 1 elements whose bytes fit int64 (INT64_MAX)",
             op, what, dims_str(dims).c_str());
    fail(KILN_ERR_INVALID_ARGUMENT, "%s: %s %s is too large: its size overflows the supported %lld (of INT64_MAX)", op,
         what, dims_str(dims).c_str(), (long long)limit);
}

void check_non_negative(const char* op, std::initializer_list<Dim> dims) {
    for (const Dim& d : dims)
        if (d.value < 0)
            fail(KILN_ERR_INVALID_ARGUMENT, "%s: argument '%s' must be >= 0, got %lld", op, d.name, (long long)d.value);
}

}  // namespace

int64_t checked_product(const char* op, const char* what, std::initializer_list<Dim> dims, int64_t limit) {
    check_non_negative(op, dims);
    int64_t n = 1;
    for (const Dim& d : dims)
        if (__builtin_mul_overflow(n, d.value, &n)) too_large(op, what, dims, limit);
    if (n > limit) too_large(op, what, dims, limit);
    return n;
}

int64_t checked_span(const char* op, const char* what, Dim count, Dim stride, Dim last, int64_t limit) {
    check_non_negative(op, {count, stride, last});
    if (count.value == 0 || last.value == 0) return 0;
    int64_t span = 0;
    if (__builtin_mul_overflow(count.value - 1, stride.value, &span) ||
        __builtin_add_overflow(span, last.value, &span) || span > limit)
        too_large(op, what, {count, stride, last}, limit);
    return span;
}

int64_t checked_count(const char* op, const char* what, const char* name, size_t n) {
    if (n > (size_t)kMaxElements)
        fail(KILN_ERR_INVALID_ARGUMENT,
             "%s: %s (%s=%llu) is too large: its size overflows the 2^60 - 1 elements whose bytes fit int64 "
             "(INT64_MAX)", op, what, name, (unsigned long long)n);
    return (int64_t)n;
}

int64_t checked_bytes(const char* op, const char* what, int64_t n, int64_t elem_size) {
    return checked_product(op, what, {{"elements", n}, {"bytes each", elem_size}}, INT64_MAX);
}

namespace {

bool overlaps(const void* a, int64_t a_bytes, const void* b, int64_t b_bytes) {
    if (!a || !b || a_bytes <= 0 || b_bytes <= 0) return false;
    const uintptr_t pa = reinterpret_cast<uintptr_t>(a), pb = reinterpret_cast<uintptr_t>(b);
    // Compared as distances from the lower start, which cannot overflow where start + bytes could.
    return pa <= pb ? pb - pa < (uint64_t)a_bytes : pa - pb < (uint64_t)b_bytes;
}

}  // namespace

void check_disjoint(const char* op, const char* name_a, const void* a, int64_t a_bytes, const char* name_b,
                    const void* b, int64_t b_bytes) {
    if (overlaps(a, a_bytes, b, b_bytes)) {
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: '%s' (%lld bytes at %p) and '%s' (%lld bytes at %p) overlap; they must be "
             "separate memory", op, name_a, (long long)a_bytes, a, name_b, (long long)b_bytes, b);
    }
}

void check_same_or_disjoint(const char* op, const char* name_a, const void* a, int64_t a_bytes, const char* name_b,
                            const void* b, int64_t b_bytes) {
    if (a == b && a_bytes == b_bytes) return;
    if (overlaps(a, a_bytes, b, b_bytes)) {
        fail(KILN_ERR_INVALID_ARGUMENT, "%s: '%s' (%lld bytes at %p) and '%s' (%lld bytes at %p) overlap in part; they "
             "must be the same elements (in place) or separate memory", op, name_a, (long long)a_bytes, a, name_b,
             (long long)b_bytes, b);
    }
}

void check_outputs_apart(const char* op, std::initializer_list<Region> outputs, std::initializer_list<Region> inputs) {
    for (auto out = outputs.begin(); out != outputs.end(); ++out) {
        for (auto other = out + 1; other != outputs.end(); ++other)
            check_disjoint(op, out->name, out->p, out->bytes, other->name, other->p, other->bytes);
        for (const Region& in : inputs) check_disjoint(op, out->name, out->p, out->bytes, in.name, in.p, in.bytes);
    }
}

}  // namespace kiln
