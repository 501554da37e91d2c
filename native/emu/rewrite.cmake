# Kiln's CUDA emulator (native/emu): turns one kernels/ source (.cu or .cuh) into C++ for the emulator, leaving line
# numbers as they were. Usage: cmake -DIN=kernels/x.cu -DOUT=build/emu/kernels/x.cpp -P rewrite.cmake
#   kernel<<<grid, block, smem, stream>>>(args)  ->  kernel * ::kiln_emu::Launch(grid, block, smem, stream)(args)
#   extern __shared__ [__align__(N)] T name[];   ->  T* name = reinterpret_cast<T*>(::kiln_emu::dynamic_shared());
# Everything else is device.h's macros and functions.
file(READ "${IN}" src)
string(REPLACE "<<<" " * ::kiln_emu::Launch(" src "${src}")
string(REPLACE ">>>" ")" src "${src}")
string(REGEX REPLACE
       "extern __shared__ (__align__\\([0-9]+\\) )?([A-Za-z0-9_:]+( [A-Za-z0-9_:]+)?) ([A-Za-z_][A-Za-z0-9_]*)\\[\\];"
       "\\2* \\4 = reinterpret_cast<\\2*>(::kiln_emu::dynamic_shared());" src "${src}")
file(WRITE "${OUT}.tmp" "#line 1 \"${IN}\"\n${src}")
file(COPY_FILE "${OUT}.tmp" "${OUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUT}.tmp")
