// Bucket arithmetic for rollups. Timestamps are PostgreSQL's timestamptz:
// microseconds since 2000-01-01 00:00 UTC, which is hour- and day-aligned, so
// buckets are UTC hours (the daily views merge hours in SQL). Floor division: times before 2000 land in
// the bucket that contains them, not the one after.
#pragma once

#include <cstdint>

namespace tenancy::core {

inline constexpr std::int64_t kMicrosPerHour = 3600LL * 1000 * 1000;
inline constexpr std::int64_t kMicrosPerDay = 24 * kMicrosPerHour;

constexpr std::int64_t floor_to(std::int64_t micros, std::int64_t width) {
    std::int64_t q = micros / width;
    if (micros % width != 0 && micros < 0) --q;
    return q * width;
}

constexpr std::int64_t hour_bucket(std::int64_t micros) { return floor_to(micros, kMicrosPerHour); }

}  // namespace tenancy::core
