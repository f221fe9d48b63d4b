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

// Counts per bucket index, of the occupied buckets only, in ascending order
// of index. A sketch of a few dozen values holds a few dozen entries, where
// counts stored densely from the lowest to the highest index held hundreds
// (a bucket per 2% band from the least value to the greatest). The rollups
// count a bucket's values at once (add_each), not one at a time.
class BucketCounts {
public:
    struct Entry {
        std::int32_t bucket;
        std::uint64_t count;  // non-zero
        friend bool operator==(const Entry& a, const Entry& b) {
            return a.bucket == b.bucket && a.count == b.count;
        }
    };

    void add(int bucket, std::uint64_t n = 1);
    // Adds one to the bucket of each index given (sorted on return).
    void add_each(std::vector<std::int32_t>& buckets);
    // Adds every count of another.
    void add_all(const BucketCounts& other);
    bool empty() const { return entries_.empty(); }
    void reserve(std::size_t occupied) { entries_.reserve(occupied); }
    const std::vector<Entry>& entries() const { return entries_; }
    std::size_t occupied() const { return entries_.size(); }
    // Halves every count, rounding up (an occupied bucket stays occupied);
    // returns the new total.
    std::uint64_t halve();
    friend bool operator==(const BucketCounts& a, const BucketCounts& b) {
        return a.entries_ == b.entries_;
    }

private:
    // Merges sorted (bucket, count) entries into entries_.
    void add_sorted(const Entry* more, std::size_t count);

    std::vector<Entry> entries_;  // ascending by bucket, counts non-zero
};

class QuantileSketch {
public:
    static constexpr double kRelativeAccuracy = 0.01;
    static constexpr double kMinMagnitude = 1e-9;

    // Returns false (and ignores the value) for NaN and infinities.
    bool add(double value);

    // Where add() counts a finite value: zero (magnitudes below
    // kMinMagnitude), or a side and the bucket of the magnitude there. For a
    // caller that counts many values at once (add_placed): the logarithm is
    // taken as a value comes, the counts are written per sketch.
    enum class Side : std::uint8_t { zero, positive, negative };
    struct Place {
        Side side;
        std::int32_t bucket;  // 0 for zero
    };
    static Place place_of(double value);
    // Counts `zeros` values of magnitude below kMinMagnitude and a value in
    // each bucket of `positive` and of `negative` (places of that side), as
    // add() of each of those values would.
    // Sorts `positive` and `negative`.
    void add_placed(std::uint64_t zeros, std::vector<std::int32_t>& positive,
                    std::vector<std::int32_t>& negative);
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
