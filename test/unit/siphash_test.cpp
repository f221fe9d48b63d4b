#include "core/siphash.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdint>
#include <set>

#include "core/distinct_sketch.hpp"
#include "core/rollup_batch.hpp"

using tenancy::core::SipKey;
using tenancy::core::siphash24;
using tenancy::core::siphash24_16;
using tenancy::core::UserHash;

namespace {

// The reference implementation's vectors (SipHash paper, Appendix A, and
// vectors_sip64 of github.com/veorq/SipHash): key 00 01 … 0f, message
// 00 01 … (n-1) for n = 0 … 63; expected[15] is the paper's worked example.
constexpr std::uint64_t kExpected[64] = {
    0x726fdb47dd0e0e31, 0x74f839c593dc67fd, 0x0d6c8009d9a94f5a, 0x85676696d7fb7e2d,
    0xcf2794e0277187b7, 0x18765564cd99a68d, 0xcbc9466e58fee3ce, 0xab0200f58b01d137,
    0x93f5f5799a932462, 0x9e0082df0ba9e4b0, 0x7a5dbbc594ddb9f3, 0xf4b32f46226bada7,
    0x751e8fbc860ee5fb, 0x14ea5627c0843d90, 0xf723ca908e7af2ee, 0xa129ca6149be45e5,
    0x3f2acc7f57c29bdb, 0x699ae9f52cbe4794, 0x4bc1b3f0968dd39c, 0xbb6dc91da77961bd,
    0xbed65cf21aa2ee98, 0xd0f2cbb02e3b67c7, 0x93536795e3a33e88, 0xa80c038ccd5ccec8,
    0xb8ad50c6f649af94, 0xbce192de8a85b8ea, 0x17d835b85bbb15f3, 0x2f2e6163076bcfad,
    0xde4daaaca71dc9a5, 0xa6a2506687956571, 0xad87a3535c49ef28, 0x32d892fad841c342,
    0x7127512f72f27cce, 0xa7f32346f95978e3, 0x12e0b01abb051238, 0x15e034d40fa197ae,
    0x314dffbe0815a3b4, 0x027990f029623981, 0xcadcd4e59ef40c4d, 0x9abfd8766a33735c,
    0x0e3ea96b5304a7d0, 0xad0c42d6fc585992, 0x187306c89bc215a9, 0xd4a60abcf3792b95,
    0xf935451de4f21df2, 0xa9538f0419755787, 0xdb9acddff56ca510, 0xd06c98cd5c0975eb,
    0xe612a3cb9ecba951, 0xc766e62cfcadaf96, 0xee64435a9752fe72, 0xa192d576b245165a,
    0x0a8787bf8ecb74b2, 0x81b3e73d20b49b6f, 0x7fa8220ba3b2ecea, 0x245731c13ca42499,
    0xb78dbfaf3a8d83bd, 0xea1ad565322a1a0b, 0x60e61c23a3795013, 0x6606d7e446282b93,
    0x6ca4ecb15c5f91e1, 0x9f626da15c9625f3, 0xe51b38608ef25f57, 0x958a324ceb064572,
};

SipKey reference_key() {
    std::uint8_t bytes[16];
    for (int i = 0; i < 16; ++i) bytes[i] = static_cast<std::uint8_t>(i);
    return SipKey::from_bytes(bytes);
}

std::array<std::uint8_t, 16> id_of(std::uint64_t n) {
    std::array<std::uint8_t, 16> id{};
    for (int i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(n >> (8 * i));
    id[15] = 0x42;
    return id;
}

}  // namespace

TEST(SipHash, ReferenceKeyIsReadLittleEndian) {
    SipKey key = reference_key();
    EXPECT_EQ(key.k0, 0x0706050403020100ULL);
    EXPECT_EQ(key.k1, 0x0f0e0d0c0b0a0908ULL);
}

TEST(SipHash, ReferenceVectors) {
    const SipKey key = reference_key();
    std::uint8_t message[64];
    for (int i = 0; i < 64; ++i) message[i] = static_cast<std::uint8_t>(i);
    for (std::size_t n = 0; n < 64; ++n) {
        EXPECT_EQ(siphash24(key, message, n), kExpected[n]) << "message length " << n;
    }
}

TEST(SipHash, PaperAppendixExample) {
    std::uint8_t message[15];
    for (int i = 0; i < 15; ++i) message[i] = static_cast<std::uint8_t>(i);
    EXPECT_EQ(siphash24(reference_key(), message, sizeof message), 0xa129ca6149be45e5ULL);
}

// The unrolled 16-byte form is the general one (vector 16, and any id).
TEST(SipHash, SixteenBytesAsTheGeneralForm) {
    std::array<std::uint8_t, 16> sixteen{};
    for (int i = 0; i < 16; ++i) sixteen[i] = static_cast<std::uint8_t>(i);
    EXPECT_EQ(siphash24_16(reference_key(), sixteen), kExpected[16]);
    SipKey key{0x0123456789abcdefULL, 0xfedcba9876543210ULL};
    for (std::uint64_t n = 0; n < 1000; ++n) {
        auto id = id_of(n * 0x9e3779b97f4a7c15ULL);
        EXPECT_EQ(siphash24_16(key, id), siphash24(key, id.data(), id.size()));
    }
}

TEST(SipHash, EveryKeyBitChangesTheHash) {
    auto id = id_of(12345);
    const SipKey base{0x1111111111111111ULL, 0x2222222222222222ULL};
    const std::uint64_t h = siphash24_16(base, id);
    for (int bit = 0; bit < 128; ++bit) {
        SipKey flipped = base;
        (bit < 64 ? flipped.k0 : flipped.k1) ^= std::uint64_t{1} << (bit % 64);
        EXPECT_NE(siphash24_16(flipped, id), h) << "key bit " << bit;
    }
}

// UserHash: keyed, it is SipHash of the id under the key, and no longer the
// unkeyed hash_id anyone can compute; unkeyed, it is hash_id (the sketches
// of a schema before 1.25).
TEST(UserHash, KeyedIsSipHashUnkeyedIsHashId) {
    const SipKey key{0x0706050403020100ULL, 0x0f0e0d0c0b0a0908ULL};
    const UserHash keyed(key), unkeyed;
    EXPECT_TRUE(keyed.keyed());
    EXPECT_FALSE(unkeyed.keyed());
    for (std::uint64_t n = 0; n < 300; ++n) {
        auto id = id_of(n);
        EXPECT_EQ(keyed(id), siphash24_16(key, id));
        EXPECT_EQ(unkeyed(id), tenancy::core::hash_id(id));
        EXPECT_NE(keyed(id), tenancy::core::hash_id(id));
    }
}

// Two keys give unrelated sets: a sketch under one key names nobody to a
// reader holding hashes under another (or the unkeyed ones).
TEST(UserHash, DifferentKeysShareNoHashes) {
    const UserHash a(SipKey{1, 2}), b(SipKey{1, 3}), unkeyed;
    std::set<std::uint64_t> in_a;
    for (std::uint64_t n = 0; n < 10000; ++n) in_a.insert(a(id_of(n)));
    EXPECT_EQ(in_a.size(), 10000u);
    for (std::uint64_t n = 0; n < 10000; ++n) {
        EXPECT_EQ(in_a.count(b(id_of(n))), 0u);
        EXPECT_EQ(in_a.count(unkeyed(id_of(n))), 0u);
    }
}

// The batches hash users with the UserHash they were given: an exact
// bucket's sketch holds exactly the keyed hashes of its users.
TEST(UserHash, BatchesHashUsersWithTheirKey) {
    using namespace tenancy::core;
    const UserHash keyed(SipKey{0xdeadbeefULL, 0xfeedfaceULL});
    Uuid org{};
    org.bytes[0] = 1;
    Uuid u1{}, u2{};
    u1.bytes = id_of(1);
    u2.bytes = id_of(2);
    const std::int64_t hour = 9000LL * 24 * 3600 * 1000000;

    EventRollupBatch events(std::size_t{1} << 20, keyed);
    events.add(org, hour, "quiz", 1.0, u1);
    events.add(org, hour + 1, "quiz", 2.0, u2);
    events.add(org, hour + 2, "quiz", 3.0, u1);
    DistinctSketch want;
    want.add_hash(keyed(u1.bytes));
    want.add_hash(keyed(u2.bytes));
    const EventBucket& bucket = events.bucket(EventBucketKey{org, hour, "quiz"});
    EXPECT_EQ(bucket.users, want);
    EXPECT_EQ(bucket.users.estimate(), 2u);

    FileRollupBatch files(keyed);
    files.add(org, hour, FileAction::view, std::nullopt, u1);
    files.add(org, hour + 5, FileAction::upload, 10, u2);
    files.add(org, hour + 6, FileAction::download, 10, u2);
    ASSERT_EQ(files.buckets().size(), 1u);
    EXPECT_EQ(files.buckets().begin()->second.users, want);

    // Unkeyed (the default), as before 1.25.
    FileRollupBatch old_files;
    old_files.add(org, hour, FileAction::view, std::nullopt, u1);
    DistinctSketch old_want;
    old_want.add(u1.bytes);
    EXPECT_EQ(old_files.buckets().begin()->second.users, old_want);
}
