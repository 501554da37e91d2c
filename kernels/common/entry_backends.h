// Backends declared by their C ABI entry. Where a family's CPU twin and CUDA launcher take exactly the arguments of
// their entry in kiln.h after its context, their signatures follow from the entry's prototype, so the family writes no
// backend header: core declares them from kiln.h (KILN_ENTRY_BACKENDS), and each backend file holds its definitions
// to the same prototype (KILN_CPU_TWIN, KILN_CUDA_LAUNCHER), so a parameter that drifts from kiln.h fails to compile
// there, naming the entry. For kiln_NAME(kiln_context* ctx, args...):
//
//   CPU twin       void        kiln::cpu::NAME(args...)
//   CUDA launcher  cudaError_t kiln::cuda::NAME(cudaStream_t, kiln::Scratch&, args...)
//
// Every launcher takes the scratch (unnamed where it needs none), so one declaration fits all. Families whose
// backends take something else (a geometry struct in place of a descriptor, a workspace) keep a header of their own,
// kernels/<family>.h. Compiles without the CUDA toolkit (common/cuda_api.h), as the backend headers do.
#pragma once

#include <type_traits>

#include "common/cuda_api.h"
#include "common/scratch.h"
#include "kiln/kiln.h"

namespace kiln {

// The backend function types of a C ABI entry of type Entry; defined only for entries taking a context first.
template <class Entry>
struct EntryBackends;

template <class... Args>
struct EntryBackends<kiln_status(kiln_context*, Args...)> {
    using Cpu = void(Args...);
    using Cuda = cudaError_t(cudaStream_t, Scratch&, Args...);
};

}  // namespace kiln

// Declares kiln::cpu::NAME and kiln::cuda::NAME for the entry kiln_NAME; at namespace scope, where core calls them.
#define KILN_ENTRY_BACKENDS(name)                                               \
    namespace kiln::cpu {                                                       \
    ::kiln::EntryBackends<decltype(::kiln_##name)>::Cpu name;                   \
    }                                                                           \
    namespace kiln::cuda {                                                      \
    ::kiln::EntryBackends<decltype(::kiln_##name)>::Cuda name;                  \
    }                                                                           \
    static_assert(true, "")

// After the definitions in a backend file: the definition has the entry's arguments, or the file does not compile.
#define KILN_CPU_TWIN(name)                                                                                 \
    static_assert(std::is_same_v<decltype(::kiln::cpu::name), ::kiln::EntryBackends<decltype(::kiln_##name)>::Cpu>, \
                  "kiln::cpu::" #name " must take the arguments of kiln_" #name " after its context")
#define KILN_CUDA_LAUNCHER(name)                                                              \
    static_assert(std::is_same_v<decltype(::kiln::cuda::name),                                \
                                 ::kiln::EntryBackends<decltype(::kiln_##name)>::Cuda>,       \
                  "kiln::cuda::" #name " must take (cudaStream_t, kiln::Scratch&) and then the " \
                  "arguments of kiln_" #name " after its context")
