// Overflow-checked size arithmetic for validation: every element count, extent and byte size core hands a backend
// is formed here, in int64, and a size that does not fit fails with the op, the tensor and its dims in the message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>

namespace kiln {

// One named size of a tensor: {"n", n}. The name is what the message prints ("n=4").
struct Dim {
    const char* name;
    int64_t value;
};

// The most elements any one buffer may have: 2^60 - 1, so that its bytes at up to 8 per element fit int64 (and
// ptrdiff_t). A larger count can describe no real buffer, yet a backend would index that far past the caller's pointer.
constexpr int64_t kMaxElements = INT64_MAX / 8;

// The product of dims (each must be >= 0), or KILN_ERR_INVALID_ARGUMENT naming op, the tensor `what` and every dim.
// `limit` caps the result lower where a backend needs more headroom (a reserve of several tensors, 32-bit indexing).
int64_t checked_product(const char* op, const char* what, std::initializer_list<Dim> dims,
                        int64_t limit = kMaxElements);

// An element count passed as size_t (fill, the Philox streams) as int64, refused past kMaxElements like a product.
int64_t checked_count(const char* op, const char* what, const char* name, size_t n);

// Elements a strided run of `count` items spans: (count - 1) * stride + last, the extent of a matrix of `count` rows
// with leading dimension `stride` whose last row has `last` elements, or of a batch of `count` matrices `stride`
// apart, each `last` long. 0 when count or last is 0. Fails like checked_product, naming the three sizes.
int64_t checked_span(const char* op, const char* what, Dim count, Dim stride, Dim last, int64_t limit = kMaxElements);

// n * sizeof(T) for an element count that fits int64, checked the same way: the bytes of a buffer of n elements.
int64_t checked_bytes(const char* op, const char* what, int64_t n, int64_t elem_size);

// Refuses, naming both, two buffers whose byte ranges [a, a + a_bytes) and [b, b + b_bytes) overlap (a NULL or empty
// one overlaps nothing): for entries whose kernels write one while still reading the other, or take both as restrict
// pointers. A strided operand's range is its whole span, so two interleaved views of one buffer count as overlapping.
void check_disjoint(const char* op, const char* name_a, const void* a, int64_t a_bytes, const char* name_b,
                    const void* b, int64_t b_bytes);

// For an output documented as "may alias" an input: the two must be the very same elements (an in-place call: the
// kernels read each element before they write it) or separate memory. A partial overlap (y = x + 1 element) would
// read elements the call has already written, so it is refused, naming both, as PyTorch refuses it.
void check_same_or_disjoint(const char* op, const char* name_a, const void* a, int64_t a_bytes, const char* name_b,
                            const void* b, int64_t b_bytes);

// One buffer argument of an entry, for the overlap checks: kiln.h's name for it, its start and the bytes the call may
// touch from there (a NULL or empty one overlaps nothing).
struct Region {
    const char* name;
    const void* p;
    int64_t bytes;
};

// kiln.h's default ("ops: conventions"): an output overlaps no other argument. Checks each of `outputs` against the
// outputs after it and against every one of `inputs` with check_disjoint. A pair the entry lets alias is left out of
// these lists by the caller and checked with check_same_or_disjoint instead.
void check_outputs_apart(const char* op, std::initializer_list<Region> outputs,
                         std::initializer_list<Region> inputs = {});

}  // namespace kiln
