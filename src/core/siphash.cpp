#include "core/siphash.hpp"

#include "core/little_endian.hpp"

#include <cstring>

namespace tenancy::core {
namespace {

inline std::uint64_t rotl(std::uint64_t x, int b) { return (x << b) | (x >> (64 - b)); }

struct State {
    std::uint64_t v0, v1, v2, v3;
    explicit State(const SipKey& key)
        : v0(key.k0 ^ 0x736f6d6570736575ULL), v1(key.k1 ^ 0x646f72616e646f6dULL),
          v2(key.k0 ^ 0x6c7967656e657261ULL), v3(key.k1 ^ 0x7465646279746573ULL) {}
    void round() {
        v0 += v1; v1 = rotl(v1, 13); v1 ^= v0; v0 = rotl(v0, 32);
        v2 += v3; v3 = rotl(v3, 16); v3 ^= v2;
        v0 += v3; v3 = rotl(v3, 21); v3 ^= v0;
        v2 += v1; v1 = rotl(v1, 17); v1 ^= v2; v2 = rotl(v2, 32);
    }
    void compress(std::uint64_t m) {  // c = 2
        v3 ^= m;
        round();
        round();
        v0 ^= m;
    }
    std::uint64_t finish() {  // d = 4
        v2 ^= 0xff;
        round();
        round();
        round();
        round();
        return v0 ^ v1 ^ v2 ^ v3;
    }
};

}  // namespace

SipKey SipKey::from_bytes(const std::uint8_t* bytes16) {
    return SipKey{load_le64(bytes16), load_le64(bytes16 + 8)};
}

std::uint64_t siphash24(const SipKey& key, const void* data, std::size_t size) {
    const auto* in = static_cast<const std::uint8_t*>(data);
    State s(key);
    const std::size_t whole = size - size % 8;
    for (std::size_t i = 0; i < whole; i += 8) s.compress(load_le64(in + i));
    // The last block: the remaining bytes, little-endian, and the length's
    // low byte in the top byte.
    std::uint64_t last = static_cast<std::uint64_t>(size & 0xff) << 56;
    for (std::size_t i = 0; i < size % 8; ++i) {
        last |= static_cast<std::uint64_t>(in[whole + i]) << (8 * i);
    }
    s.compress(last);
    return s.finish();
}

std::uint64_t siphash24_16(const SipKey& key, const std::array<std::uint8_t, 16>& id) {
    State s(key);
    s.compress(load_le64(id.data()));
    s.compress(load_le64(id.data() + 8));
    s.compress(std::uint64_t{16} << 56);
    return s.finish();
}

}  // namespace tenancy::core
