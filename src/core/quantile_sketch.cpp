#include "core/quantile_sketch.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/varint.hpp"

namespace tenancy::core {
namespace {

constexpr std::uint8_t kFormatVersion = 1;
const double kGamma = (1 + QuantileSketch::kRelativeAccuracy) /
                      (1 - QuantileSketch::kRelativeAccuracy);
const double kLogGamma = std::log(kGamma);
// Buckets of magnitudes from 1e-9 to DBL_MAX lie well inside this range.
constexpr int kMaxBucket = 40000;
constexpr std::size_t kMaxBucketsPerSign = 2 * kMaxBucket;

bool add_count(std::uint64_t& total, std::uint64_t n) {
    if (total > std::numeric_limits<std::uint64_t>::max() - n) return false;
    total += n;
    return true;
}

// Occupied buckets only, as (delta of index, count) pairs.
void write_buckets(std::string& out, const BucketCounts& buckets) {
    put_varint(out, buckets.occupied());
    int previous = 0;
    for (const BucketCounts::Entry& entry : buckets.entries()) {
        put_varint(out, zigzag(static_cast<std::int64_t>(entry.bucket) - previous));
        put_varint(out, entry.count);
        previous = entry.bucket;
    }
}

bool read_buckets(ByteReader& in, BucketCounts& buckets, std::uint64_t& total) {
    auto size = in.varint();
    if (!size || *size > kMaxBucketsPerSign) return false;
    // Each bucket takes two bytes at least: a size the bytes cannot hold
    // reserves no more than they could.
    buckets.reserve(std::min<std::uint64_t>(*size, in.remaining() / 2));
    std::int64_t bucket = 0;
    for (std::uint64_t i = 0; i < *size; ++i) {
        auto delta = in.varint();
        auto n = in.varint();
        if (!delta || !n || *n == 0) return false;
        std::int64_t step = unzigzag(*delta);
        if (i > 0 && step <= 0) return false;  // strictly increasing, no duplicates
        if (step > 2 * kMaxBucket || step < -2 * kMaxBucket) return false;
        bucket += step;
        if (bucket > kMaxBucket || bucket < -kMaxBucket) return false;
        if (!add_count(total, *n)) return false;
        buckets.add(static_cast<int>(bucket), *n);
    }
    return true;
}

}  // namespace

void BucketCounts::add(int bucket, std::uint64_t n) {
    if (n == 0) return;
    // In ascending order (deserializing) each one goes at the end.
    if (entries_.empty() || bucket > entries_.back().bucket) {
        entries_.push_back({bucket, n});
        return;
    }
    auto at = std::lower_bound(entries_.begin(), entries_.end(), bucket,
                               [](const Entry& entry, int b) { return entry.bucket < b; });
    if (at != entries_.end() && at->bucket == bucket) {
        at->count += n;
    } else {
        entries_.insert(at, Entry{bucket, n});
    }
}

void BucketCounts::add_each(std::vector<std::int32_t>& buckets) {
    if (buckets.empty()) return;
    std::sort(buckets.begin(), buckets.end());
    std::size_t distinct = 1;
    for (std::size_t i = 1; i < buckets.size(); ++i) distinct += buckets[i] != buckets[i - 1];
    std::vector<Entry> more;
    more.reserve(distinct);
    for (std::size_t i = 0; i < buckets.size();) {
        std::size_t j = i + 1;
        while (j < buckets.size() && buckets[j] == buckets[i]) ++j;
        more.push_back({buckets[i], j - i});
        i = j;
    }
    if (entries_.empty()) {
        entries_ = std::move(more);
        return;
    }
    add_sorted(more.data(), more.size());
}

void BucketCounts::add_all(const BucketCounts& other) {
    if (&other == this) {
        for (Entry& entry : entries_) entry.count *= 2;
        return;
    }
    add_sorted(other.entries_.data(), other.entries_.size());
}

void BucketCounts::add_sorted(const Entry* more, std::size_t count) {
    if (count == 0) return;
    if (entries_.empty()) {
        entries_.assign(more, more + count);
        return;
    }
    std::vector<Entry> merged;
    merged.reserve(entries_.size() + count);
    std::size_t i = 0, j = 0;
    while (i < entries_.size() && j < count) {
        if (entries_[i].bucket < more[j].bucket) {
            merged.push_back(entries_[i++]);
        } else if (more[j].bucket < entries_[i].bucket) {
            merged.push_back(more[j++]);
        } else {
            merged.push_back({entries_[i].bucket, entries_[i].count + more[j].count});
            ++i;
            ++j;
        }
    }
    merged.insert(merged.end(), entries_.begin() + static_cast<std::ptrdiff_t>(i), entries_.end());
    merged.insert(merged.end(), more + j, more + count);
    entries_ = std::move(merged);
}

int QuantileSketch::bucket_of(double magnitude) {
    return static_cast<int>(std::ceil(std::log(magnitude) / kLogGamma));
}

// The middle of bucket i, (gamma^(i-1), gamma^i], in the relative sense: every
// value of the bucket is within kRelativeAccuracy of it.
double QuantileSketch::value_of(int bucket) {
    return 2.0 * std::pow(kGamma, bucket) / (kGamma + 1.0);
}

std::uint64_t BucketCounts::halve() {
    std::uint64_t total = 0;
    for (Entry& entry : entries_) {
        entry.count -= entry.count / 2;
        total += entry.count;
    }
    return total;
}

void QuantileSketch::halve() {
    zero_ -= zero_ / 2;
    count_ = zero_ + positive_.halve() + negative_.halve();
}

QuantileSketch::Place QuantileSketch::place_of(double value) {
    double magnitude = std::fabs(value);
    if (magnitude < kMinMagnitude) return {Side::zero, 0};
    return {value > 0 ? Side::positive : Side::negative, bucket_of(magnitude)};
}

void QuantileSketch::add_placed(std::uint64_t zeros, std::vector<std::int32_t>& positive,
                                std::vector<std::int32_t>& negative) {
    std::uint64_t n = zeros + positive.size() + negative.size();
    if (count_ > std::numeric_limits<std::uint64_t>::max() - n) {
        // Near 2^64 values: one at a time, halving where add() would.
        auto add_one = [this](BucketCounts* side, int bucket) {
            if (count_ == std::numeric_limits<std::uint64_t>::max()) halve();
            if (side == nullptr) {
                ++zero_;
            } else {
                side->add(bucket);
            }
            ++count_;
        };
        for (std::uint64_t i = 0; i < zeros; ++i) add_one(nullptr, 0);
        for (std::int32_t bucket : positive) add_one(&positive_, bucket);
        for (std::int32_t bucket : negative) add_one(&negative_, bucket);
        return;
    }
    zero_ += zeros;
    positive_.add_each(positive);
    negative_.add_each(negative);
    count_ += n;
}

bool QuantileSketch::add(double value) {
    if (!std::isfinite(value)) return false;
    if (count_ == std::numeric_limits<std::uint64_t>::max()) halve();
    double magnitude = std::fabs(value);
    if (magnitude < kMinMagnitude) {
        ++zero_;
    } else if (value > 0) {
        positive_.add(bucket_of(magnitude));
    } else {
        negative_.add(bucket_of(magnitude));
    }
    ++count_;
    return true;
}

void QuantileSketch::merge(const QuantileSketch& other) {
    if (count_ > std::numeric_limits<std::uint64_t>::max() - other.count_) {
        // Past 2^64 values in all (only crafted sketches get here): both
        // sides are halved until the sum fits, which keeps the shape of the
        // distribution and so every quantile; wrapping counts did not.
        QuantileSketch incoming = other;
        while (count_ > std::numeric_limits<std::uint64_t>::max() - incoming.count_) {
            halve();
            incoming.halve();
        }
        merge(incoming);
        return;
    }
    positive_.add_all(other.positive_);
    negative_.add_all(other.negative_);
    zero_ += other.zero_;
    count_ += other.count_;
}

std::optional<double> QuantileSketch::quantile(double q) const {
    if (count_ == 0 || !(q >= 0.0 && q <= 1.0)) return std::nullopt;
    // Clamped: for counts near 2^64 the double product can round past the end.
    double position = std::floor(q * static_cast<double>(count_ - 1));
    std::uint64_t rank = position >= static_cast<double>(count_ - 1)
                             ? count_ - 1
                             : static_cast<std::uint64_t>(position);
    std::uint64_t seen = 0;
    // Ascending values: the most negative first (largest magnitude).
    const auto& negative = negative_.entries();
    for (auto entry = negative.rbegin(); entry != negative.rend(); ++entry) {
        seen += entry->count;
        if (seen > rank) return -value_of(entry->bucket);
    }
    seen += zero_;
    if (seen > rank) return 0.0;
    for (const BucketCounts::Entry& entry : positive_.entries()) {
        seen += entry.count;
        if (seen > rank) return value_of(entry.bucket);
    }
    return std::nullopt;  // unreachable while count_ is the sum of the buckets
}

std::string QuantileSketch::serialize() const {
    std::string out;
    // Room for every varint at its longest (10 bytes; 3 for an index step):
    // the string is not grown as it is written.
    out.reserve(1 + 3 * 10 + 13 * (positive_.occupied() + negative_.occupied()));
    out.push_back(static_cast<char>(kFormatVersion));
    put_varint(out, zero_);
    write_buckets(out, positive_);
    write_buckets(out, negative_);
    return out;
}

std::optional<QuantileSketch> QuantileSketch::deserialize(std::string_view bytes) {
    ByteReader in(bytes);
    auto version = in.byte();
    if (!version || *version != kFormatVersion) return std::nullopt;
    QuantileSketch sketch;
    auto zero = in.varint();
    if (!zero) return std::nullopt;
    sketch.zero_ = *zero;
    std::uint64_t total = sketch.zero_;
    if (!read_buckets(in, sketch.positive_, total)) return std::nullopt;
    if (!read_buckets(in, sketch.negative_, total)) return std::nullopt;
    if (!in.at_end()) return std::nullopt;
    sketch.count_ = total;
    return sketch;
}

}  // namespace tenancy::core
