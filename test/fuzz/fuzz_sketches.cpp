// libFuzzer target: sketch deserializers must reject garbage without crashing,
// and whatever they accept must serialize back to the same bytes and merge.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <limits>
#include <string_view>

#include "core/distinct_sketch.hpp"
#include "core/quantile_sketch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view bytes(reinterpret_cast<const char*>(data), size);
    if (auto q = tenancy::core::QuantileSketch::deserialize(bytes)) {
        if (q->serialize() != bytes) std::abort();
        (void)q->quantile(0.5);
        auto copy = *q;
        copy.merge(*q);
        if (q->count() <= std::numeric_limits<std::uint64_t>::max() / 2) {
            if (copy.count() != 2 * q->count()) std::abort();
        } else {
            // Past 2^64 values the counts are halved, never wrapped: the
            // merge stays a sketch deserialize accepts, at least as large.
            if (copy.count() < q->count() / 2) std::abort();
            if (!tenancy::core::QuantileSketch::deserialize(copy.serialize())) std::abort();
        }
    }
    if (auto d = tenancy::core::DistinctSketch::deserialize(bytes)) {
        if (d->serialize() != bytes) std::abort();
        auto copy = *d;
        copy.merge(*d);
        if (!(copy == *d)) std::abort();
        (void)d->estimate();
    }
    return 0;
}
