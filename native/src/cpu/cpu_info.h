// Facts about the host CPU that the device query and the build info report.
#pragma once

#include <cstdint>
#include <string>

namespace kiln::cpu {

const char* vector_isa();        // widest usable: "avx512", "avx2" or "sse2"
std::string model_name();        // from /proc/cpuinfo, or "cpu"
uint64_t total_memory_bytes();
uint64_t available_memory_bytes();

}  // namespace kiln::cpu
