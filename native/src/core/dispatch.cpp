// ContextScratch (core/dispatch.h): per-call device scratch from the context's caching allocator.
#include "core/dispatch.h"

namespace kiln {

void* ContextScratch::get(size_t bytes) {
    if (bytes == 0) return nullptr;
    if (count_ == kMaxBlocks) fail(KILN_ERR_INTERNAL, "%s: a launcher asked for more than %d scratch blocks",
                                   c_.name.c_str(), kMaxBlocks);
    void* p = allocate(c_, bytes);
    blocks_[count_++] = p;
    return p;
}

ContextScratch::~ContextScratch() {
    for (int i = 0; i < count_; ++i) {
        try {
            c_.allocator->release(blocks_[i]);
        } catch (...) {
            // Cannot happen for a block this allocator just gave out; never let it escape a destructor.
        }
    }
}

}  // namespace kiln
