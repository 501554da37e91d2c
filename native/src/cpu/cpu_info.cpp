// Host CPU facts: vector ISA via cpuid, model name and memory from /proc.
#include "cpu/cpu_info.h"

#include <unistd.h>

#include <fstream>

#include "cpu/simd.h"

namespace kiln::cpu {

namespace {

Isa detect_isa() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    // __builtin_cpu_supports also checks that the OS saves the wide registers (XCR0), not just CPUID.
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq"))
        return Isa::Avx512;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return Isa::Avx2;
#endif
    return Isa::Baseline;
}

}  // namespace

Isa isa() {
    static const Isa detected = detect_isa();
    return detected;
}

const char* vector_isa() {
#if defined(__x86_64__)
    switch (isa()) {
        case Isa::Avx512: return "avx512";
        case Isa::Avx2: return "avx2";
        default: return "sse2";
    }
#else
    return "generic";
#endif
}

std::string model_name() {
    std::ifstream in("/proc/cpuinfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("model name", 0) == 0) {
            const auto colon = line.find(':');
            if (colon != std::string::npos && colon + 2 <= line.size()) return line.substr(colon + 2);
        }
    }
    return "cpu";
}

uint64_t total_memory_bytes() {
    const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
    return pages > 0 && page > 0 ? (uint64_t)pages * (uint64_t)page : 0;
}

uint64_t available_memory_bytes() {
    std::ifstream in("/proc/meminfo");
    std::string key, unit;
    uint64_t kb = 0;
    while (in >> key >> kb >> unit) {
        if (key == "MemAvailable:") return kb * 1024;
    }
    return 0;
}

}  // namespace kiln::cpu
