// A relative-error quantile sketch (the DDSketch idea): values fall into
// logarithmic buckets of ratio gamma = (1 + a) / (1 - a), a = 1%, so the
// value returned for a quantile is within 1% (relative) of the true value of
// the element of rank floor(q * (n - 1)). Buckets hold integer counts, so
// merging is addition: commutative, associative, exact, and independent of
// order. Negative values, zero and positive values are all supported.
//
// Size: one bucket per occupied 2% band of magnitude; values between 1e-9 and
// 1e9 need at most ~2,100 buckets per sign, typical data (scores, durations)
// a few dozen. Values of magnitude below 1e-9 count as zero.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tenancy::core {

// Counts per bucket index, stored densely from the lowest occupied index:
// adding is an array increment (the rollups add a value per raw row).
class BucketCounts {
public:
    void add(int bucket, std::uint64_t n = 1);
    bool empty() const { return counts_.empty(); }
    int lowest() const { return offset_; }
    int highest() const { return offset_ + static_cast<int>(counts_.size()) - 1; }
    std::uint64_t at(int bucket) const {
        if (bucket < offset_ || bucket > highest()) return 0;
        return counts_[static_cast<std::size_t>(bucket - offset_)];
    }
    std::size_t occupied() const;
    // Halves every count, rounding up (an occupied bucket stays occupied);
    // returns the new total.
    std::uint64_t halve();
    friend bool operator==(const BucketCounts& a, const BucketCounts& b) {
        return a.offset_ == b.offset_ && a.counts_ == b.counts_;
    }

private:
    int offset_ = 0;                      // bucket index of counts_[0]
    std::vector<std::uint64_t> counts_;   // first and last entries are non-zero
};

class QuantileSketch {
public:
    static constexpr double kRelativeAccuracy = 0.01;
    static constexpr double kMinMagnitude = 1e-9;

    // Returns false (and ignores the value) for NaN and infinities.
    bool add(double value);
    void merge(const QuantileSketch& other);

    std::uint64_t count() const { return count_; }
    bool empty() const { return count_ == 0; }

    // The q-quantile, q in [0, 1]; nullopt when empty or q is out of range.
    std::optional<double> quantile(double q) const;

    std::string serialize() const;
    // nullopt for anything that is not a sketch written by serialize().
    static std::optional<QuantileSketch> deserialize(std::string_view bytes);

    friend bool operator==(const QuantileSketch& a, const QuantileSketch& b) {
        return a.zero_ == b.zero_ && a.positive_ == b.positive_ && a.negative_ == b.negative_;
    }

private:
    static int bucket_of(double magnitude);
    static double value_of(int bucket);
    // Halves every count (see BucketCounts::halve): what keeps the total
    // within 64 bits, as deserialize requires, past 2^64 values.
    void halve();

    BucketCounts positive_;  // values > 0, by bucket
    BucketCounts negative_;  // values < 0, by bucket of |value|
    std::uint64_t zero_ = 0;
    std::uint64_t count_ = 0;
};

}  // namespace tenancy::core
