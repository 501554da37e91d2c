// Per-thread last-error storage and the fail()/record() helpers behind kiln::guarded().
#include "core/error.h"

#include <cstdio>
#include <vector>

namespace kiln {

namespace {
thread_local std::string t_last_error;
}

void fail(kiln_status status, const char* fmt, ...) {
    va_list args;
    va_start(args, fmt);
    va_list copy;
    va_copy(copy, args);
    const int n = std::vsnprintf(nullptr, 0, fmt, copy);
    va_end(copy);
    std::string msg(n > 0 ? (size_t)n : 0, '\0');
    if (n > 0) std::vsnprintf(&msg[0], (size_t)n + 1, fmt, args);
    va_end(args);
    throw Error{status, std::move(msg)};
}

void set_last_error(const std::string& message) { t_last_error = message; }
void clear_last_error() { t_last_error.clear(); }
const char* last_error() { return t_last_error.c_str(); }

kiln_status record(const Error& e) noexcept {
    try {
        t_last_error = e.message;
    } catch (...) {
        // Storing the message itself ran out of memory; the status still tells the story.
    }
    return e.status;
}

kiln_status record_unknown(const char* op, const char* what, kiln_status status) noexcept {
    try {
        t_last_error = std::string(op) + ": " + what;
    } catch (...) {
    }
    return status;
}

std::string shape_str(const long long* dims, int rank) {
    std::string s = "(";
    for (int i = 0; i < rank; ++i) {
        if (i) s += ", ";
        s += std::to_string(dims[i]);
    }
    return s + ")";
}

}  // namespace kiln
