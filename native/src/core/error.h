// Error plumbing for the C ABI: internal code throws kiln::Error; every entry point runs its body through
// kiln::guarded(), which turns any exception into a status plus a per-thread message and never lets it escape.
#pragma once

#include <cstdarg>
#include <string>

#include "core/profile.h"
#include "kiln/kiln.h"

namespace kiln {

struct Error {
    kiln_status status;
    std::string message;
};

// Throws Error{status, printf-style message}.
[[noreturn]] void fail(kiln_status status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

void set_last_error(const std::string& message);
void clear_last_error();
const char* last_error();

// Runs body(); returns KILN_OK, or the status of whatever it threw with the message recorded for this thread.
// `op` prefixes messages from non-Kiln exceptions (bad_alloc, logic errors) so the caller knows where it failed.
template <typename Body>
kiln_status guarded(const char* op, Body&& body) noexcept;

kiln_status record(const Error& e) noexcept;
kiln_status record_unknown(const char* op, const char* what, kiln_status status) noexcept;

// Shape-string helper for messages: "(2, 3, 4)".
std::string shape_str(const long long* dims, int rank);

}  // namespace kiln

#include <exception>
#include <new>
#include <stdexcept>

template <typename Body>
kiln_status kiln::guarded(const char* op, Body&& body) noexcept {
    begin_entry(op);  // for kiln_last_op: the profiler names the op and its kernel path
    try {
        body();
        return KILN_OK;
    } catch (const Error& e) {
        return record(e);
    } catch (const std::bad_alloc&) {
        return record_unknown(op, "host memory exhausted", KILN_ERR_OUT_OF_MEMORY);
    } catch (const std::length_error&) {
        // Host scratch sized by a dimension (a per-channel vector of c sums) larger than a vector can be: the shape
        // is valid by the ABI but needs more memory than exists, which is an out-of-memory, not a bug.
        return record_unknown(op, "host scratch for this shape is larger than memory can hold", KILN_ERR_OUT_OF_MEMORY);
    } catch (const std::exception& e) {
        return record_unknown(op, e.what(), KILN_ERR_INTERNAL);
    } catch (...) {
        return record_unknown(op, "unknown exception", KILN_ERR_INTERNAL);
    }
}
