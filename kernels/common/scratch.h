// Device scratch a launcher asks for during one call. The caller decides where it comes from: core hands out
// blocks of the context's caching allocator, a benchmark its own preallocated buffer.
#pragma once

#include <cstddef>

namespace kiln {

class Scratch {
  public:
    // At least `bytes` bytes of device memory (NULL for 0), usable by the kernels the current call queues on its
    // stream; every block a call got stays valid until that call returns. May throw (core: out of memory).
    virtual void* get(size_t bytes) = 0;

  protected:
    ~Scratch() = default;
};

// One buffer allocated ahead (a benchmark's, so that timed calls allocate nothing): get() hands it out when it is
// large enough and returns NULL otherwise, which the launchers report as cudaErrorInvalidValue.
class BufferScratch final : public Scratch {
  public:
    BufferScratch(void* buffer, size_t bytes) : buffer_(buffer), bytes_(bytes) {}
    void* get(size_t bytes) override { return bytes == 0 ? nullptr : bytes <= bytes_ ? buffer_ : nullptr; }

  private:
    void* buffer_;
    size_t bytes_;
};

}  // namespace kiln
