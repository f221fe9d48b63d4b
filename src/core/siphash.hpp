// SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF",
// 2012): a keyed 64-bit hash, a pseudorandom function of its 128-bit key.
// Without the key, its outputs cannot be computed or predicted, so a set of
// SipHash values of user ids (a distinct sketch) cannot be tested for a
// given id by someone who knows the ids but not the key.
//
// The reference conventions: k0 and k1 are the key's bytes 0-7 and 8-15 read
// as little-endian words, the message is read in little-endian 8-byte words,
// and the result is v0 ^ v1 ^ v2 ^ v3 after finalization (test/unit/
// siphash_test.cpp checks the reference implementation's 64 vectors).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace tenancy::core {

struct SipKey {
    std::uint64_t k0 = 0;
    std::uint64_t k1 = 0;
    static SipKey from_bytes(const std::uint8_t* bytes16);
    friend bool operator==(const SipKey& a, const SipKey& b) { return a.k0 == b.k0 && a.k1 == b.k1; }
};

std::uint64_t siphash24(const SipKey& key, const void* data, std::size_t size);

// The 16 bytes of a uuid: two message words and the length block, as
// siphash24(key, id.data(), 16) computes, unrolled (the rollups hash one per
// row read).
std::uint64_t siphash24_16(const SipKey& key, const std::array<std::uint8_t, 16>& id);

}  // namespace tenancy::core
