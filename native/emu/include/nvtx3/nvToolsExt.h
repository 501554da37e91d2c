// Kiln's CUDA emulator (native/emu): NVTX ranges go nowhere, as with the real header when no tool listens.
#pragma once

inline int nvtxRangePushA(const char*) { return 0; }
inline int nvtxRangePop() { return 0; }
