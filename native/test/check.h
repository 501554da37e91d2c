// Minimal assertion helpers for the native tests: count, print failures, never abort, summarize at the end.
#pragma once

#include <cstdio>

namespace kiln::test {

struct Tally {
    int passed = 0, failed = 0;
    ~Tally() = default;
};
inline Tally& tally() {
    static Tally t;
    return t;
}
inline void expect(bool ok, const char* what, const char* file, int line) {
    if (ok) {
        tally().passed++;
    } else {
        tally().failed++;
        std::printf("FAILED %s:%d: %s\n", file, line, what);
    }
}
inline int finish(const char* suite) {
    std::printf("%s: %d passed, %d failed\n", suite, tally().passed, tally().failed);
    return tally().failed == 0 ? 0 : 1;
}

}  // namespace kiln::test

#define EXPECT(cond) kiln::test::expect((cond), #cond, __FILE__, __LINE__)
