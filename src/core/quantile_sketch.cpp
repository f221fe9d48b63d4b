#include "core/quantile_sketch.hpp"

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
    if (buckets.empty()) return;
    int previous = 0;
    for (int bucket = buckets.lowest(); bucket <= buckets.highest(); ++bucket) {
        std::uint64_t n = buckets.at(bucket);
        if (n == 0) continue;
        put_varint(out, zigzag(static_cast<std::int64_t>(bucket) - previous));
        put_varint(out, n);
        previous = bucket;
    }
}

bool read_buckets(ByteReader& in, BucketCounts& buckets, std::uint64_t& total) {
    auto size = in.varint();
    if (!size || *size > kMaxBucketsPerSign) return false;
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
    if (counts_.empty()) {
        offset_ = bucket;
        counts_.assign(1, n);
        return;
    }
    if (bucket < offset_) {
        counts_.insert(counts_.begin(), static_cast<std::size_t>(offset_ - bucket), 0);
        offset_ = bucket;
    } else if (bucket > highest()) {
        counts_.resize(static_cast<std::size_t>(bucket - offset_) + 1, 0);
    }
    counts_[static_cast<std::size_t>(bucket - offset_)] += n;
}

std::size_t BucketCounts::occupied() const {
    std::size_t n = 0;
    for (std::uint64_t c : counts_) n += c != 0;
    return n;
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
    for (std::uint64_t& n : counts_) {
        n -= n / 2;
        total += n;
    }
    return total;
}

void QuantileSketch::halve() {
    zero_ -= zero_ / 2;
    count_ = zero_ + positive_.halve() + negative_.halve();
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
    for (const BucketCounts* side : {&other.positive_, &other.negative_}) {
        if (side->empty()) continue;
        BucketCounts& mine = side == &other.positive_ ? positive_ : negative_;
        for (int bucket = side->lowest(); bucket <= side->highest(); ++bucket) {
            if (std::uint64_t n = side->at(bucket)) mine.add(bucket, n);
        }
    }
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
    if (!negative_.empty()) {
        for (int bucket = negative_.highest(); bucket >= negative_.lowest(); --bucket) {
            seen += negative_.at(bucket);
            if (seen > rank) return -value_of(bucket);
        }
    }
    seen += zero_;
    if (seen > rank) return 0.0;
    if (!positive_.empty()) {
        for (int bucket = positive_.lowest(); bucket <= positive_.highest(); ++bucket) {
            seen += positive_.at(bucket);
            if (seen > rank) return value_of(bucket);
        }
    }
    return std::nullopt;  // unreachable while count_ is the sum of the buckets
}

std::string QuantileSketch::serialize() const {
    std::string out;
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
