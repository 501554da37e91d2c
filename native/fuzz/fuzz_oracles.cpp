// The oracles over a call's declared pointer arguments (Call in fuzz_harness.h), and kiln.h's aliasing rules they read.
// Null pointers: a NULL where kiln.h requires a pointer must be refused with KILN_ERR_INVALID_ARGUMENT and a message
// that names a NULL argument. Overlap: two arguments kiln.h keeps apart must not be accepted overlapping, and an exact
// alias it allows must run. A refusal either oracle expects must leave every written argument as it was.
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include "fuzz_harness.h"

namespace kiln::fuzz {

namespace {

// For `entry`, each argument named in `first` against each other argument named in `second` (space-separated).
struct AliasRule {
    const char* entry;
    const char* first;
    const char* second;
    Overlap rule;
};

// kiln.h's conventions: an output overlaps no other argument, unless the entry says it "may alias" one, which then
// means exactly those elements or none. Inputs may overlap each other freely. The stated exceptions:
constexpr AliasRule kAliasRules[] = {
    {"kiln_activation_f32", "y", "x", Overlap::exact_only},
    {"kiln_activation_backward_f32", "dx", "dy x y", Overlap::exact_only},  // "dx may alias dy or the one read"
    {"kiln_scale_f32", "y", "x", Overlap::exact_only},
    {"kiln_axpy_f32", "y", "x", Overlap::exact_only},
    // "y ... may alias a full operand; it must not overlap a broadcast one": a broadcast operand is smaller than y
    // (unless there is one row, where it is a full one), so any overlap with it is a clash, not an alias.
    {"kiln_binary_f32", "y", "a b", Overlap::exact_only},
    {"kiln_binary_backward_f32", "da db", "dy", Overlap::exact_only},
    {"kiln_dropout_f32", "y", "x", Overlap::exact_only},
    {"kiln_dropout_backward_f32", "dx", "dy", Overlap::exact_only},
    {"kiln_bias_gelu_f32", "y", "x", Overlap::exact_only},
    {"kiln_bias_gelu_backward_f32", "dx", "dy", Overlap::exact_only},
    {"kiln_layer_norm_f32", "y", "x", Overlap::exact_only},
    {"kiln_layer_norm_backward_f32", "dx", "dy", Overlap::exact_only},
    {"kiln_batch_norm_backward_eval_f32", "dx", "x dy", Overlap::exact_only},
    {"kiln_reparameterize_f32", "z", "mu logvar", Overlap::exact_only},
    // Attention backward: "dq, dk, dv may share one buffer ... each on elements of its own", judged element by element
    // in fuzz_transformer.cpp (call_attention), not by the byte ranges compared here.
    {"kiln_attention_backward_f32", "dq dk dv", "dq dk dv", Overlap::free},
    {"kiln_attention_backward_bf16", "dq dk dv", "dq dk dv", Overlap::free},
    // Host and device memory: apart by nature on a GPU, and the CPU backend copies with memmove.
    {"kiln_copy_to_device", "dst", "host_src", Overlap::free},
    {"kiln_copy_to_host", "host_dst", "src", Overlap::free},
    // "kiln_copy_device refuses regions that overlap, unless dst == src".
    {"kiln_copy_device", "dst", "src", Overlap::exact_only},
};

bool named_in(const char* names, const char* name) {
    const size_t n = std::strlen(name);
    for (const char* p = names;;) {
        const char* end = std::strchr(p, ' ');
        const size_t len = end ? (size_t)(end - p) : std::strlen(p);
        if (len == n && std::strncmp(p, name, n) == 0) return true;
        if (!end) return false;
        p = end + 1;
    }
}

[[noreturn]] __attribute__((format(printf, 2, 3))) void finding_about(const char* op, const char* fmt, ...) {
    char what[256];
    va_list args;
    va_start(args, fmt);
    std::vsnprintf(what, sizeof what, fmt, args);
    va_end(args);
    finding(what, op);
}

bool written(const Arg& a) { return a.use == Use::out || a.use == Use::opt_out; }
bool required(const Arg& a) { return a.use == Use::in || a.use == Use::out || a.use == Use::handle; }
bool present(const Arg& a) { return a.ptr && a.bytes > 0; }
bool missing(const Arg& a) { return !a.ptr && a.bytes > 0; }

bool overlap(const Arg& a, const Arg& b) {
    const uintptr_t pa = reinterpret_cast<uintptr_t>(a.ptr), pb = reinterpret_cast<uintptr_t>(b.ptr);
    return pa <= pb ? pb - pa < (uint64_t)a.bytes : pa - pb < (uint64_t)b.bytes;
}
bool same_buffer(const Arg& a, const Arg& b) { return a.ptr == b.ptr && a.bytes == b.bytes; }

// Core names an argument in quotes: "argument 'x' is null".
bool quotes(const char* message, const char* name) {
    char quoted[64];
    std::snprintf(quoted, sizeof quoted, "'%s'", name);
    return std::strstr(message, quoted) != nullptr;
}

}  // namespace

Overlap alias_rule(const char* entry, const char* a, Use a_use, const char* b, Use b_use) {
    if (std::strcmp(a, b) == 0) return Overlap::free;
    for (const AliasRule& r : kAliasRules)
        if (std::strcmp(r.entry, entry) == 0 &&
            ((named_in(r.first, a) && named_in(r.second, b)) || (named_in(r.first, b) && named_in(r.second, a))))
            return r.rule;
    const bool writes = a_use == Use::out || a_use == Use::opt_out || b_use == Use::out || b_use == Use::opt_out;
    return writes ? Overlap::never : Overlap::free;
}

Call::Expectation Call::expect(bool keep_written) const {
    Expectation e;
    // A handle is needed always; data only by a call with something to write (an output given, or a required one
    // missing): kiln.h's no-ops, and a backward entry given no gradient to write ("ops: conventions"), do nothing, so
    // their inputs are not held to being there.
    bool writes = false, any_missing = false;
    for (const Arg& a : args_) writes |= written(a) && (a.ptr || required(a)) && a.bytes > 0;
    for (const Arg& a : args_) {
        if (!missing(a) || !required(a)) continue;
        any_missing = true;
        if (!e.missing && (a.use == Use::handle || (!no_op_ && writes))) e.missing = &a;
    }
    bool other_overlap = false;  // two inputs: allowed, but an in-place check is kept to the plainest calls
    // A no-op reads and writes nothing, so where its operands lie is not a fault (kiln.h: attention with a length 0).
    for (size_t i = 0; i < (no_op_ ? 0 : args_.size()); ++i)
        for (size_t j = i + 1; j < args_.size(); ++j) {
            const Arg &a = args_[i], &b = args_[j];
            if (!present(a) || !present(b) || !overlap(a, b)) continue;
            const Overlap rule = alias_rule(op_, a.name, a.use, b.name, b.use);
            if (rule == Overlap::free) {
                other_overlap = true;
                continue;
            }
            const Arg** pair = rule == Overlap::exact_only && same_buffer(a, b) ? e.in_place : e.clash;
            if (!pair[0]) pair[0] = &a, pair[1] = &b;
        }
    // An allowed alias is held to running only where nothing else may be refused.
    if (invalid_ || any_missing || other_overlap || e.clash[0]) e.in_place[0] = e.in_place[1] = nullptr;
    if (keep_written && (e.missing || e.clash[0]))
        for (const Arg& a : args_)
            if (written(a) && present(a)) {
                const auto* bytes = static_cast<const unsigned char*>(a.ptr);
                e.written.emplace_back(bytes, bytes + a.bytes);
            }
    return e;
}

void Call::judge(kiln_status st, const Expectation& e) const {
    if (invalid_ && st == KILN_OK) finding("a call kiln.h makes invalid returned KILN_OK", op_);
    if (st != KILN_OK && kiln_last_error()[0] == '\0') finding("a failing call left no message", op_);
    if ((int)st < 0 || (int)st > KILN_ERR_INTERNAL) finding("an unknown status", op_);
    if (st == KILN_ERR_INTERNAL) finding("KILN_ERR_INTERNAL (a bug by its own account)", op_);
    if (e.missing) {
        if (st == KILN_OK)
            finding_about(op_, "argument '%s' is NULL, which kiln.h does not allow here, and the call returned KILN_OK",
                          e.missing->name);
        // Only a call the harness holds valid but for its NULLs must blame one: another fault may be reported first.
        if (!invalid_ && !e.clash[0]) {
            if (st != KILN_ERR_INVALID_ARGUMENT)
                finding_about(op_, "NULL '%s' was refused with status %d, not KILN_ERR_INVALID_ARGUMENT",
                              e.missing->name, (int)st);
            // A size core finds too large is a fault the harness does not model (core's limits are tighter than
            // int64 bytes), and it may be reported before the NULL.
            bool named = std::strstr(kiln_last_error(), "too large") != nullptr;
            for (const Arg& a : args_) named |= missing(a) && quotes(kiln_last_error(), a.name);
            if (!named) finding_about(op_, "the refusal names no NULL argument ('%s' is one)", e.missing->name);
        }
    }
    if (e.clash[0] && st == KILN_OK) {
        const char* how = same_buffer(*e.clash[0], *e.clash[1]) ? "exactly" : "in part";
        finding_about(op_, "'%s' and '%s' overlap %s, which kiln.h forbids, and the call returned KILN_OK",
                      e.clash[0]->name, e.clash[1]->name, how);
    }
    if (e.in_place[0] && st != KILN_OK && st != KILN_ERR_OUT_OF_MEMORY)
        finding_about(op_, "'%s' is '%s' itself, which kiln.h allows, and the call was refused", e.in_place[0]->name,
                      e.in_place[1]->name);
    size_t k = 0;
    for (const Arg& a : args_) {
        if (k == e.written.size()) break;
        if (!written(a) || !present(a)) continue;
        if (std::memcmp(a.ptr, e.written[k++].data(), (size_t)a.bytes) != 0)
            finding_about(op_, "a call the oracles expect refused wrote to '%s'", a.name);
    }
}

}  // namespace kiln::fuzz
