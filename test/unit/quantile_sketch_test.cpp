#include "core/quantile_sketch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

using tenancy::core::QuantileSketch;

namespace {

// The element of rank floor(q * (n - 1)) of the sorted data: what the sketch
// approximates.
double true_quantile(std::vector<double> data, double q) {
    std::sort(data.begin(), data.end());
    return data[static_cast<std::size_t>(std::floor(q * (data.size() - 1)))];
}

void expect_within_relative_accuracy(const QuantileSketch& sketch, const std::vector<double>& data) {
    for (double q : {0.0, 0.01, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0}) {
        double expected = true_quantile(data, q);
        double got = *sketch.quantile(q);
        EXPECT_LE(std::fabs(got - expected),
                  QuantileSketch::kRelativeAccuracy * std::fabs(expected) + 1e-12)
            << "q=" << q << " expected=" << expected << " got=" << got;
    }
}

}  // namespace

TEST(QuantileSketch, EmptyHasNoQuantiles) {
    QuantileSketch s;
    EXPECT_TRUE(s.empty());
    EXPECT_FALSE(s.quantile(0.5));
}

TEST(QuantileSketch, RejectsNonFiniteValuesAndBadQ) {
    QuantileSketch s;
    EXPECT_FALSE(s.add(std::numeric_limits<double>::quiet_NaN()));
    EXPECT_FALSE(s.add(std::numeric_limits<double>::infinity()));
    EXPECT_TRUE(s.add(1.0));
    EXPECT_EQ(s.count(), 1u);
    EXPECT_FALSE(s.quantile(-0.1));
    EXPECT_FALSE(s.quantile(1.1));
    EXPECT_FALSE(s.quantile(std::numeric_limits<double>::quiet_NaN()));
}

TEST(QuantileSketch, WithinOnePercentOnSkewedData) {
    std::mt19937_64 rng(42);
    std::lognormal_distribution<double> durations(3.0, 1.5);  // lesson seconds
    std::vector<double> data;
    QuantileSketch s;
    for (int i = 0; i < 100000; ++i) {
        double v = durations(rng);
        data.push_back(v);
        s.add(v);
    }
    expect_within_relative_accuracy(s, data);
}

TEST(QuantileSketch, HandlesScoresWithZerosAndNegatives) {
    std::mt19937_64 rng(7);
    std::uniform_int_distribution<int> scores(-20, 100);
    std::vector<double> data;
    QuantileSketch s;
    for (int i = 0; i < 20000; ++i) {
        double v = scores(rng);
        data.push_back(v);
        s.add(v);
    }
    expect_within_relative_accuracy(s, data);
}

TEST(QuantileSketch, MergeEqualsSketchOfUnionInAnyOrder) {
    std::mt19937_64 rng(3);
    std::exponential_distribution<double> dist(0.1);
    QuantileSketch parts[4], whole;
    for (int i = 0; i < 4000; ++i) {
        double v = dist(rng) - 2.0;
        parts[i % 4].add(v);
        whole.add(v);
    }
    QuantileSketch forward, backward;
    for (int i = 0; i < 4; ++i) forward.merge(parts[i]);
    for (int i = 3; i >= 0; --i) backward.merge(parts[i]);
    QuantileSketch pairs = parts[0];
    QuantileSketch right = parts[2];
    right.merge(parts[3]);
    pairs.merge(parts[1]);
    pairs.merge(right);
    EXPECT_EQ(forward, whole);
    EXPECT_EQ(backward, whole);
    EXPECT_EQ(pairs, whole);
    EXPECT_EQ(*forward.quantile(0.95), *whole.quantile(0.95));
}

TEST(QuantileSketch, SerializationRoundTrips) {
    QuantileSketch s;
    for (double v : {-5.0, 0.0, 1e-12, 0.5, 3.0, 3.0, 1e6, 1e300}) s.add(v);
    auto back = QuantileSketch::deserialize(s.serialize());
    ASSERT_TRUE(back);
    EXPECT_EQ(*back, s);
    EXPECT_EQ(back->count(), s.count());
    EXPECT_EQ(*back->quantile(0.5), *s.quantile(0.5));
}

TEST(QuantileSketch, RejectsMalformedBytes) {
    QuantileSketch s;
    s.add(1.0);
    s.add(2.0);
    std::string good = s.serialize();
    EXPECT_FALSE(QuantileSketch::deserialize(""));
    EXPECT_FALSE(QuantileSketch::deserialize(std::string(1, '\x02') + good.substr(1)));
    EXPECT_FALSE(QuantileSketch::deserialize(good.substr(0, good.size() - 1)));
    EXPECT_FALSE(QuantileSketch::deserialize(good + "x"));
    // Varints have one form only: a padded zero count is not a sketch.
    EXPECT_FALSE(QuantileSketch::deserialize(std::string("\x01\xff\xff\xff\xff\x00\x00\x00", 8)));
    // A bucket with a zero count is not something serialize() writes.
    EXPECT_FALSE(QuantileSketch::deserialize(std::string("\x01\x00\x01\x02\x00\x00", 6)));
}

TEST(QuantileSketch, MergePastTwoToTheSixtyFourKeepsTheShape) {
    // Version 1, 2^64 - 1 zeros, no buckets: the most a stored sketch holds.
    const std::string all_zeros("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00", 13);
    auto full = QuantileSketch::deserialize(all_zeros);
    ASSERT_TRUE(full.has_value());
    QuantileSketch positives;
    for (int i = 0; i < 3; ++i) positives.add(10.0);
    QuantileSketch merged = *full;
    merged.merge(positives);
    // Halved, not wrapped: still almost all zeros, the positives kept.
    EXPECT_GT(merged.count(), std::numeric_limits<std::uint64_t>::max() / 4);
    EXPECT_EQ(merged.quantile(0.5), 0.0);
    EXPECT_NEAR(*merged.quantile(1.0), 10.0, 10.0 * QuantileSketch::kRelativeAccuracy);
    // And it is still a sketch deserialize accepts.
    auto again = QuantileSketch::deserialize(merged.serialize());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, merged);
    // A value added at the limit halves first, too.
    QuantileSketch at_limit = *full;
    EXPECT_TRUE(at_limit.add(-1.0));
    EXPECT_TRUE(QuantileSketch::deserialize(at_limit.serialize()).has_value());
}

// The rollups count a bucket's values at once (place_of, then add_placed);
// the sketch must be the one add() of each value builds, byte for byte,
// whatever was in it before and in whatever order the values come.
TEST(QuantileSketch, AddPlacedBuildsWhatAddBuilds) {
    std::mt19937_64 random(20261202);
    std::uniform_real_distribution<double> exponent(-12.0, 12.0);
    for (int round = 0; round < 200; ++round) {
        QuantileSketch one_by_one;
        QuantileSketch in_bulk;
        // Some rounds start from a sketch with values already in it.
        if (round % 3 == 0) {
            for (double v : {5.0, -5.0, 0.0, 1e-12, 123456.0}) {
                one_by_one.add(v);
                in_bulk.add(v);
            }
        }
        std::uint64_t zeros = 0;
        std::vector<std::int32_t> positive, negative;
        int n = static_cast<int>(random() % 400);
        for (int i = 0; i < n; ++i) {
            double magnitude = std::pow(10.0, exponent(random));
            double value = (random() % 5 == 0) ? 0.0 : (random() % 2 ? magnitude : -magnitude);
            one_by_one.add(value);
            auto place = QuantileSketch::place_of(value);
            switch (place.side) {
                case QuantileSketch::Side::zero: ++zeros; break;
                case QuantileSketch::Side::positive: positive.push_back(place.bucket); break;
                case QuantileSketch::Side::negative: negative.push_back(place.bucket); break;
            }
        }
        in_bulk.add_placed(zeros, positive, negative);
        ASSERT_EQ(in_bulk.count(), one_by_one.count()) << "round " << round;
        ASSERT_EQ(in_bulk, one_by_one) << "round " << round;
        ASSERT_EQ(in_bulk.serialize(), one_by_one.serialize()) << "round " << round;
    }
}

// add_placed at the limit: the sketch halves as add() would at each value,
// never wraps, and stays a sketch deserialize accepts (the bulk path's
// one-at-a-time branch near 2^64 values).
TEST(QuantileSketch, AddPlacedPastTwoToTheSixtyFourHalves) {
    const std::string all_zeros("\x01\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x00\x00", 13);
    auto full = QuantileSketch::deserialize(all_zeros);
    ASSERT_TRUE(full.has_value());
    std::vector<std::int32_t> positive, negative;
    for (double v : {10.0, 20.0, 20.0}) positive.push_back(QuantileSketch::place_of(v).bucket);
    negative.push_back(QuantileSketch::place_of(-5.0).bucket);
    QuantileSketch bulk = *full;
    bulk.add_placed(2, positive, negative);
    EXPECT_GT(bulk.count(), std::numeric_limits<std::uint64_t>::max() / 4);
    EXPECT_EQ(bulk.quantile(0.5), 0.0);
    EXPECT_NEAR(*bulk.quantile(1.0), 20.0, 20.0 * QuantileSketch::kRelativeAccuracy);
    EXPECT_NEAR(*bulk.quantile(0.0), -5.0, 5.0 * QuantileSketch::kRelativeAccuracy);
    auto again = QuantileSketch::deserialize(bulk.serialize());
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(*again, bulk);
    // The same values one by one through add(), in the order the bulk path
    // takes them (zeros, positives, negatives), give the same sketch.
    QuantileSketch one_by_one = *full;
    for (double v : {0.0, 0.0, 10.0, 20.0, 20.0, -5.0}) one_by_one.add(v);
    EXPECT_EQ(bulk.count(), one_by_one.count());
    EXPECT_EQ(bulk, one_by_one);
}
