// Reading a C ABI enum argument safely: its bits as an int, for validation before the value is used as the enum.
#pragma once

#include <cstring>

namespace kiln {

// A caller (JNI, C, another language) may pass any int where kiln.h takes an enum, and in C++ loading an enum object
// that holds a value outside the enum's range is undefined (UBSan reports it), so validation reads the bits without
// an enum load. Take the parameter by reference: passing it by value would already be a load.
template <typename Enum>
int enum_value(const Enum& e) {
    static_assert(sizeof(Enum) == sizeof(int), "C ABI enums are int-sized");
    int v;
    std::memcpy(&v, &e, sizeof v);
    return v;
}

}  // namespace kiln
