// The core's narrow view of the CUDA runtime. gpu_cuda.cpp implements it when the build has CUDA; gpu_none.cpp
// otherwise, where every CUDA request fails cleanly with KILN_ERR_NO_DEVICE. Nothing here exposes CUDA types,
// so core code compiles the same either way.
#pragma once

#include <cstddef>

#include "kiln/kiln.h"

namespace kiln::gpu {

enum class CopyKind { ToDevice, ToHost, DeviceToDevice };

// Never throws: 0 devices plus a static reason when there is no driver, no device, or no CUDA in this build.
int device_count(const char** reason);
void properties(int device, kiln_device_props* out);
void set_device(int device);
void* create_stream(int device);
void destroy_stream(int device, void* stream) noexcept;
void* malloc_or_null(int device, size_t bytes);  // nullptr on out-of-memory; throws on other errors
void free(int device, void* ptr) noexcept;
void copy(void* stream, void* dst, const void* src, size_t bytes, CopyKind kind);  // host copies complete on return
// rows rows of width bytes between pitched device regions, queued on the stream.
void copy_2d(void* stream, void* dst, size_t dst_pitch, const void* src, size_t src_pitch, size_t width, size_t rows);
void synchronize(void* stream);
// Turns the result of a kernel launcher (a cudaError_t passed as int) into kiln::Error naming the op.
void check_launch(int cuda_error, const char* op);
const char* build_archs();  // e.g. "sm_80,sm_90,compute_90" or "none"

}  // namespace kiln::gpu
