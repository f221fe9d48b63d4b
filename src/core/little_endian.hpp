// Little-endian 64-bit words, whatever the machine's order: one load (and
// store) each, where a loop over the bytes compiled to one step per byte.
// The sketches' serialized hashes and SipHash's words are little-endian.
#pragma once

#include <cstdint>
#include <cstring>

namespace tenancy::core {

inline std::uint64_t load_le64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

inline void store_le64(char* p, std::uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    std::memcpy(p, &v, sizeof v);
}

}  // namespace tenancy::core
