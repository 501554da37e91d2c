# Kiln's CUDA emulator (native/emu): turns one kernels/ source (.cu or .cuh) into C++ for the emulator, leaving line
# numbers as they were. Usage: cmake -DIN=kernels/x.cu -DOUT=build/emu/kernels/x.cpp -P rewrite.cmake
#   kernel<<<grid, block, smem, stream>>>(args)  ->  kernel * ::kiln_emu::Launch(grid, block, smem, stream)(args)
#   extern __shared__ [__align__(N)] T name[];   ->  T* name = reinterpret_cast<T*>(::kiln_emu::dynamic_shared());
#   __shared__ [__align__(N)] T name[D]...;       ->  auto& name = ::kiln_emu::static_shared<T[D]...[, N]>([] {});
# Everything else is device.h's macros and functions. A __shared__ left over (two names in one declaration, a
# scalar) is not a macro there, so it stops the build rather than escape the block's own memory.
file(READ "${IN}" src)
string(REPLACE "<<<" " * ::kiln_emu::Launch(" src "${src}")
string(REPLACE ">>>" ")" src "${src}")
string(REGEX REPLACE
       "extern __shared__ (__align__\\([0-9]+\\) )?([A-Za-z0-9_:]+( [A-Za-z0-9_:]+)?) ([A-Za-z_][A-Za-z0-9_]*)\\[\\];"
       "\\2* \\4 = reinterpret_cast<\\2*>(::kiln_emu::dynamic_shared());" src "${src}")
# Static shared arrays: each declaration site (the lambda's type is one per site and per template instance) names one
# array per block, which device.h's static_shared finds or makes in the running block's shared memory.
string(REGEX REPLACE
       "__shared__ __align__\\(([0-9]+)\\) ([A-Za-z0-9_:]+( [A-Za-z0-9_:]+)?) ([A-Za-z_][A-Za-z0-9_]*)(\\[[^;]*\\]);"
       "auto& \\4 = ::kiln_emu::static_shared<\\2\\5, \\1>([] {});" src "${src}")
string(REGEX REPLACE "__shared__ ([A-Za-z0-9_:]+( [A-Za-z0-9_:]+)?) ([A-Za-z_][A-Za-z0-9_]*)(\\[[^;]*\\]);"
       "auto& \\3 = ::kiln_emu::static_shared<\\1\\4>([] {});" src "${src}")
file(WRITE "${OUT}.tmp" "#line 1 \"${IN}\"\n${src}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
