// Large CPU blocks sit on huge pages (core/host_memory.cpp): a kiln_alloc block of 2 MiB or more is a mapping of its
// own that starts on a 2 MiB boundary, spans exactly the block and carries the huge-page advice (VmFlags "hg" in
// /proc/self/smaps), and kiln_empty_cache unmaps all of it; smaller blocks come from the C heap; KILN_HUGE_PAGES=0
// keeps every block on the heap. Every block is usable to its last byte through the ops.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "check.h"
#include "kiln/kiln.h"

namespace {

constexpr size_t kMiB = size_t(1) << 20;
constexpr uintptr_t kHuge = 2 * kMiB;

// The mapping of /proc/self/smaps that holds address p: its bounds, VmFlags and AnonHugePages (kB).
struct Mapping {
    bool found = false;
    uintptr_t start = 0, end = 0;
    std::string flags;
    long anon_huge_kb = 0;
};

Mapping mapping_of(const void* p) {
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    std::ifstream smaps("/proc/self/smaps");
    Mapping m;
    std::string line;
    bool inside = false;
    while (std::getline(smaps, line)) {
        const std::string first = line.substr(0, line.find(' '));
        if (first.find('-') != std::string::npos && first.back() != ':') {  // "lo-hi perms ...": a new mapping
            if (inside) break;                                               // the one after ours
            const unsigned long lo = std::stoul(first, nullptr, 16);
            const unsigned long hi = std::stoul(first.substr(first.find('-') + 1), nullptr, 16);
            inside = a >= lo && a < hi;
            if (inside) m = Mapping{true, lo, hi, "", 0};
            continue;
        }
        if (!inside) continue;
        if (line.rfind("VmFlags:", 0) == 0) m.flags = line.substr(8);
        if (line.rfind("AnonHugePages:", 0) == 0) m.anon_huge_kb = std::atol(line.c_str() + 14);
    }
    return m;
}

bool has_flag(const Mapping& m, const char* flag) {
    return (" " + m.flags + " ").find(std::string(" ") + flag + " ") != std::string::npos;
}

bool kernel_has_thp() { return std::ifstream("/sys/kernel/mm/transparent_hugepage/enabled").good(); }

// Fills the block through an op and reads every element back.
bool usable_to_the_end(kiln_context* ctx, void* block, size_t bytes, float value) {
    const size_t n = bytes / sizeof(float);
    if (kiln_fill_f32(ctx, static_cast<float*>(block), n, value) != KILN_OK) return false;
    std::vector<float> back(n, 0.0f);
    if (kiln_copy_to_host(ctx, back.data(), block, bytes) != KILN_OK) return false;
    for (float v : back)
        if (v != value) return false;
    return true;
}

void large_blocks_are_huge_page_mappings_of_their_own() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    const size_t bytes = 5 * kMiB;  // not a multiple of 2 MiB: the tail must not be rounded up
    void* block = nullptr;
    EXPECT(kiln_alloc(ctx, bytes, &block) == KILN_OK && block != nullptr);
    EXPECT(reinterpret_cast<uintptr_t>(block) % kHuge == 0);
    EXPECT(usable_to_the_end(ctx, block, bytes, 1.5f));
    const Mapping m = mapping_of(block);
    EXPECT(m.found && m.start == reinterpret_cast<uintptr_t>(block) && m.end == m.start + bytes);
    if (kernel_has_thp()) {
        EXPECT(has_flag(m, "hg"));
        std::printf("  5 MiB block: VmFlags%s, AnonHugePages %ld kB (up to 4096 where the kernel had huge pages)\n",
                    m.flags.c_str(), m.anon_huge_kb);
    } else {
        std::printf("  this kernel has no transparent huge pages: the advice is not checked\n");
    }
    // Freed, it stays cached (same block back); emptied, the whole mapping is gone.
    EXPECT(kiln_free(ctx, block) == KILN_OK);
    void* again = nullptr;
    EXPECT(kiln_alloc(ctx, bytes, &again) == KILN_OK && again == block);
    EXPECT(kiln_free(ctx, again) == KILN_OK);
    EXPECT(kiln_empty_cache(ctx) == KILN_OK);
    const Mapping gone = mapping_of(block);
    EXPECT(!gone.found || gone.start >= reinterpret_cast<uintptr_t>(block) + bytes ||
           gone.end <= reinterpret_cast<uintptr_t>(block));
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
}

void small_blocks_stay_on_the_heap() {
    kiln_context* ctx = nullptr;
    EXPECT(kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) == KILN_OK);
    const size_t bytes = kMiB;  // the largest request that kiln_alloc rounds to less than 2 MiB
    void* block = nullptr;
    EXPECT(kiln_alloc(ctx, bytes, &block) == KILN_OK && block != nullptr);
    EXPECT(usable_to_the_end(ctx, block, bytes, -2.0f));
    const Mapping m = mapping_of(block);
    EXPECT(m.found && !has_flag(m, "hg"));
    EXPECT(kiln_free(ctx, block) == KILN_OK);
    EXPECT(kiln_context_destroy(ctx) == KILN_OK);
}

// KILN_HUGE_PAGES is read once per process, at the first large block, so the opt-out runs in a child that sets it
// before allocating anything. Returns the child's failure count.
int opt_out_keeps_large_blocks_on_the_heap() {
    std::fflush(stdout);
    const pid_t child = fork();
    if (child == 0) {
        setenv("KILN_HUGE_PAGES", "0", 1);
        kiln_context* ctx = nullptr;
        int failures = kiln_context_create(KILN_DEVICE_CPU, 0, &ctx) != KILN_OK;
        void* block = nullptr;
        const size_t bytes = 5 * kMiB;
        failures += kiln_alloc(ctx, bytes, &block) != KILN_OK;
        failures += !usable_to_the_end(ctx, block, bytes, 3.0f);
        const Mapping m = mapping_of(block);
        failures += !m.found || has_flag(m, "hg");
        failures += kiln_free(ctx, block) != KILN_OK;
        failures += kiln_context_destroy(ctx) != KILN_OK;
        std::fflush(stdout);
        _exit(failures);
    }
    int status = 0;
    if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status)) return 1;
    return WEXITSTATUS(status);
}

}  // namespace

int main() {
    unsetenv("KILN_HUGE_PAGES");  // the default, whatever the caller's environment says
    // First, before this process maps any large block.
    const int child_failures = opt_out_keeps_large_blocks_on_the_heap();
    if (child_failures) std::printf("  KILN_HUGE_PAGES=0: %d failed checks in the child\n", child_failures);
    EXPECT(child_failures == 0);
    large_blocks_are_huge_page_mappings_of_their_own();
    small_blocks_stay_on_the_heap();
    return kiln::test::finish("test_host_memory");
}
