// The Pool2dDesc record's layout for the pooling entries: the field table below is the one place it meets
// kiln_pool2d_desc. The entries themselves are bound to dev.kiln.internal.PoolNative from kiln.h (jni_abi.cpp), which
// reads the record through this table.
#include <cstdint>

#include "jni/jni_record.h"
#include "jni/jni_support.h"

namespace kiln::jni {

namespace {

constexpr RecordField kPool2dFields[] = {
    KILN_RECORD_FIELD(kiln_pool2d_desc, n, "n"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, c, "c"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, h, "h"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, w, "w"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, kernel_h, "kernelH"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, kernel_w, "kernelW"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, stride_h, "strideH"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, stride_w, "strideW"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, pad_h, "padH"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, pad_w, "padW"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, p, "p"),
    KILN_RECORD_FIELD(kiln_pool2d_desc, q, "q"),
};
KILN_JNI_DESCRIPTOR(kPool2dDesc, "dev/kiln/internal/Pool2dDesc", kiln_pool2d_desc, kPool2dFields);

}  // namespace

}  // namespace kiln::jni
