#include "core/distinct_sketch.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>
#include <limits>

#include "core/varint.hpp"

namespace tenancy::core {
namespace {

constexpr std::uint8_t kFormatVersion = 1;
constexpr std::uint8_t kExact = 0;
constexpr std::uint8_t kHyperLogLog = 1;

std::uint64_t mix64(std::uint64_t x) {  // the splitmix64 finalizer
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

// Little-endian 64-bit words, whatever the machine's order: one load (and
// store) each, where a loop over the bytes compiled to one step per byte.
std::uint64_t load64(const std::uint8_t* p) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, sizeof v);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    return v;
}

void store64(char* p, std::uint64_t v) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    v = __builtin_bswap64(v);
#endif
    std::memcpy(p, &v, sizeof v);
}

}  // namespace

std::uint64_t hash_id(const std::array<std::uint8_t, 16>& id) {
    return mix64(load64(id.data()) ^ mix64(load64(id.data() + 8) + 0x9e3779b97f4a7c15ULL));
}

void DistinctSketch::add_hash(std::uint64_t hash) {
    if (!registers_.empty()) {
        add_to_registers(hash);
        return;
    }
    auto at = std::lower_bound(hashes_.begin(), hashes_.end(), hash);
    if (at != hashes_.end() && *at == hash) return;
    hashes_.insert(at, hash);
    if (hashes_.size() > kExactLimit) switch_to_registers();
}

void DistinctSketch::add_hashes(std::vector<std::uint64_t>& hashes) {
    if (hashes.empty()) return;
    if (!registers_.empty()) {
        for (std::uint64_t hash : hashes) add_to_registers(hash);
        return;
    }
    std::sort(hashes.begin(), hashes.end());
    hashes.erase(std::unique(hashes.begin(), hashes.end()), hashes.end());
    add_sorted(hashes.data(), hashes.size());
}

// The registers of a union equal those of its members added one by one, and
// an exact set holds every member: adding a set at once ends where adding
// its members in any order would.
void DistinctSketch::add_sorted(const std::uint64_t* more, std::size_t count) {
    if (count == 0) return;
    if (hashes_.empty()) {
        hashes_.assign(more, more + count);
    } else {
        std::vector<std::uint64_t> merged;
        merged.reserve(hashes_.size() + count);
        std::set_union(hashes_.begin(), hashes_.end(), more, more + count,
                       std::back_inserter(merged));
        hashes_ = std::move(merged);
    }
    if (hashes_.size() > kExactLimit) switch_to_registers();
}

void DistinctSketch::add_to_registers(std::uint64_t hash) {
    std::size_t index = hash >> (64 - kPrecision);
    std::uint64_t rest = hash << kPrecision;
    // Rank: position of the first 1 bit in the remaining 52 bits, 1-based.
    int rank = rest == 0 ? (64 - kPrecision + 1) : __builtin_clzll(rest) + 1;
    if (rank > 64 - kPrecision + 1) rank = 64 - kPrecision + 1;
    registers_[index] = std::max<std::uint8_t>(registers_[index], static_cast<std::uint8_t>(rank));
}

void DistinctSketch::switch_to_registers() {
    registers_.assign(kRegisters, 0);
    for (std::uint64_t hash : hashes_) add_to_registers(hash);
    hashes_ = std::vector<std::uint64_t>();
}

void DistinctSketch::merge(const DistinctSketch& other) {
    if (other.registers_.empty()) {
        if (!registers_.empty()) {
            for (std::uint64_t hash : other.hashes_) add_to_registers(hash);
        } else {
            add_sorted(other.hashes_.data(), other.hashes_.size());
        }
        return;
    }
    if (registers_.empty()) switch_to_registers();
    for (std::size_t i = 0; i < kRegisters; ++i) {
        registers_[i] = std::max(registers_[i], other.registers_[i]);
    }
}

std::uint64_t DistinctSketch::estimate() const {
    if (registers_.empty()) return hashes_.size();
    const double m = static_cast<double>(kRegisters);
    double sum = 0;
    std::size_t zeros = 0;
    for (std::uint8_t r : registers_) {
        sum += std::ldexp(1.0, -r);
        if (r == 0) ++zeros;
    }
    const double alpha = 0.7213 / (1.0 + 1.079 / m);
    double estimate = alpha * m * m / sum;
    if (estimate <= 2.5 * m && zeros != 0) {
        estimate = m * std::log(m / static_cast<double>(zeros));  // linear counting
    }
    // Past the largest bigint (registers of 52 and more nearly everywhere,
    // which only a crafted sketch holds) the largest bigint, as the rollups'
    // sums saturate: std::llround of a larger double is undefined, and gave
    // sketch_distinct_count() -9223372036854775808.
    constexpr double kBigintEnd = 9223372036854775808.0;  // 2^63
    if (!(estimate < kBigintEnd)) return static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    return static_cast<std::uint64_t>(std::llround(estimate));
}

std::string DistinctSketch::serialize() const {
    std::string out;
    out.reserve(registers_.empty() ? 12 + 8 * hashes_.size() : 2 + registers_.size());
    out.push_back(static_cast<char>(kFormatVersion));
    if (registers_.empty()) {
        out.push_back(static_cast<char>(kExact));
        put_varint(out, hashes_.size());
        // Sorted (as kept): one set, one byte string, whatever the insertion order.
        std::size_t at = out.size();
        out.resize(at + 8 * hashes_.size());
        for (std::uint64_t hash : hashes_) {
            store64(&out[at], hash);
            at += 8;
        }
    } else {
        out.push_back(static_cast<char>(kHyperLogLog));
        out.append(reinterpret_cast<const char*>(registers_.data()), registers_.size());
    }
    return out;
}

std::optional<DistinctSketch> DistinctSketch::deserialize(std::string_view bytes) {
    ByteReader in(bytes);
    auto version = in.byte();
    auto kind = in.byte();
    if (!version || *version != kFormatVersion || !kind) return std::nullopt;
    DistinctSketch sketch;
    if (*kind == kExact) {
        auto size = in.varint();
        if (!size || *size > kExactLimit) return std::nullopt;
        auto raw = in.take(*size * 8);
        if (!raw || !in.at_end()) return std::nullopt;
        sketch.hashes_.reserve(*size);
        std::uint64_t previous = 0;
        for (std::uint64_t i = 0; i < *size; ++i) {
            std::uint64_t hash = load64(reinterpret_cast<const std::uint8_t*>(raw->data()) + 8 * i);
            if (i > 0 && hash <= previous) return std::nullopt;  // sorted, unique
            sketch.hashes_.push_back(hash);
            previous = hash;
        }
        return sketch;
    }
    if (*kind == kHyperLogLog) {
        auto raw = in.take(kRegisters);
        if (!raw || !in.at_end()) return std::nullopt;
        sketch.registers_.assign(raw->begin(), raw->end());
        for (std::uint8_t r : sketch.registers_) {
            if (r > 64 - kPrecision + 1) return std::nullopt;
        }
        return sketch;
    }
    return std::nullopt;
}

}  // namespace tenancy::core
