#include "core/distinct_sketch.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>

using tenancy::core::DistinctSketch;

namespace {
std::array<std::uint8_t, 16> id_of(std::uint64_t n) {
    std::array<std::uint8_t, 16> id{};
    for (int i = 0; i < 8; ++i) id[i] = static_cast<std::uint8_t>(n >> (8 * i));
    id[15] = 0x42;
    return id;
}
}  // namespace

TEST(DistinctSketch, ExactWhileSmall) {
    DistinctSketch s;
    for (int round = 0; round < 3; ++round) {
        for (std::uint64_t i = 0; i < DistinctSketch::kExactLimit; ++i) s.add(id_of(i));
    }
    EXPECT_TRUE(s.is_exact());
    EXPECT_EQ(s.estimate(), DistinctSketch::kExactLimit);
}

TEST(DistinctSketch, SwitchesToHyperLogLogPastTheLimit) {
    DistinctSketch s;
    for (std::uint64_t i = 0; i <= DistinctSketch::kExactLimit; ++i) s.add(id_of(i));
    EXPECT_FALSE(s.is_exact());
    EXPECT_NEAR(static_cast<double>(s.estimate()), DistinctSketch::kExactLimit + 1, 10.0);
}

// The stated bound: standard error 1.6%; we check 4 standard errors so the
// test cannot flake, over several cardinalities.
TEST(DistinctSketch, HyperLogLogErrorWithinBound) {
    for (std::uint64_t n : {1000ULL, 10000ULL, 100000ULL, 1000000ULL}) {
        DistinctSketch s;
        for (std::uint64_t i = 0; i < n; ++i) s.add(id_of(i * 7919 + n));
        double error = std::fabs(static_cast<double>(s.estimate()) - n) / n;
        EXPECT_LT(error, 4 * 1.04 / std::sqrt(4096.0)) << "n=" << n << " estimate=" << s.estimate();
    }
}

TEST(DistinctSketch, MergeIsUnionInAnyOrder) {
    std::mt19937_64 rng(11);
    DistinctSketch parts[5], whole;
    for (int i = 0; i < 3000; ++i) {
        auto id = id_of(rng() % 1200);  // repeated users across parts
        parts[i % 5].add(id);
        whole.add(id);
    }
    DistinctSketch forward, backward, nested;
    for (int i = 0; i < 5; ++i) forward.merge(parts[i]);
    for (int i = 4; i >= 0; --i) backward.merge(parts[i]);
    DistinctSketch left = parts[0], right = parts[3];
    left.merge(parts[1]);
    right.merge(parts[4]);
    right.merge(parts[2]);
    nested.merge(right);
    nested.merge(left);
    EXPECT_EQ(forward, whole);
    EXPECT_EQ(backward, whole);
    EXPECT_EQ(nested, whole);
}

TEST(DistinctSketch, SmallUnionsStayExact) {
    DistinctSketch a, b;
    for (std::uint64_t i = 0; i < 100; ++i) a.add(id_of(i));
    for (std::uint64_t i = 50; i < 150; ++i) b.add(id_of(i));
    a.merge(b);
    EXPECT_TRUE(a.is_exact());
    EXPECT_EQ(a.estimate(), 150u);
}

TEST(DistinctSketch, SerializationRoundTripsBothForms) {
    DistinctSketch exact, hll;
    for (std::uint64_t i = 0; i < 10; ++i) exact.add(id_of(i));
    for (std::uint64_t i = 0; i < 5000; ++i) hll.add(id_of(i));
    for (const DistinctSketch* s : {&exact, &hll}) {
        auto back = DistinctSketch::deserialize(s->serialize());
        ASSERT_TRUE(back);
        EXPECT_EQ(*back, *s);
        EXPECT_EQ(back->estimate(), s->estimate());
    }
}

TEST(DistinctSketch, RejectsMalformedBytes) {
    DistinctSketch s;
    s.add(id_of(1));
    s.add(id_of(2));
    std::string good = s.serialize();
    EXPECT_FALSE(DistinctSketch::deserialize(""));
    EXPECT_FALSE(DistinctSketch::deserialize(good.substr(0, good.size() - 3)));
    EXPECT_FALSE(DistinctSketch::deserialize(good + "z"));
    EXPECT_FALSE(DistinctSketch::deserialize(std::string("\x01\x07", 2)));
    std::string unsorted = good;
    std::swap_ranges(unsorted.begin() + 3, unsorted.begin() + 11, unsorted.begin() + 11);
    EXPECT_FALSE(DistinctSketch::deserialize(unsorted));
}

// A sketch whose registers are all at their highest (only a crafted one)
// estimates past 2^63: the estimate saturates at the largest bigint, which
// sketch_distinct_count() returns, instead of wrapping to a negative count.
TEST(DistinctSketch, EstimateSaturatesAtTheLargestBigint) {
    for (std::uint8_t r : {std::uint8_t{51}, std::uint8_t{52}, std::uint8_t{53}}) {
        std::string bytes("\x01\x01", 2);
        bytes.append(DistinctSketch::kRegisters, static_cast<char>(r));
        auto s = DistinctSketch::deserialize(bytes);
        ASSERT_TRUE(s) << "register " << int(r);
        EXPECT_LE(s->estimate(), static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
            << "register " << int(r);
        EXPECT_GT(s->estimate(), std::uint64_t{1} << 62) << "register " << int(r);
    }
}

// add_hashes (the rollups' bulk path) builds what add_hash() of each does,
// across the switch from the exact set to HyperLogLog, with repeats, and on
// top of a sketch in either form.
TEST(DistinctSketch, AddHashesBuildsWhatAddHashBuilds) {
    std::mt19937_64 random(20261202);
    for (std::size_t start : {std::size_t{0}, std::size_t{100}, DistinctSketch::kExactLimit,
                              std::size_t{5000}}) {
        for (std::size_t more : {std::size_t{0}, std::size_t{1}, std::size_t{155}, std::size_t{156},
                                 std::size_t{157}, std::size_t{300}, std::size_t{20000}}) {
            DistinctSketch one_by_one;
            DistinctSketch in_bulk;
            for (std::size_t i = 0; i < start; ++i) {
                std::uint64_t hash = random();
                one_by_one.add_hash(hash);
                in_bulk.add_hash(hash);
            }
            std::vector<std::uint64_t> hashes;
            for (std::size_t i = 0; i < more; ++i) {
                // Every fourth a repeat of an earlier one.
                std::uint64_t hash = (i % 4 == 3) ? hashes[random() % hashes.size()] : random();
                hashes.push_back(hash);
                one_by_one.add_hash(hash);
            }
            in_bulk.add_hashes(hashes);
            ASSERT_EQ(in_bulk, one_by_one) << "start " << start << ", more " << more;
            ASSERT_EQ(in_bulk.serialize(), one_by_one.serialize()) << "start " << start << ", more " << more;
            ASSERT_EQ(in_bulk.estimate(), one_by_one.estimate());
        }
    }
}
