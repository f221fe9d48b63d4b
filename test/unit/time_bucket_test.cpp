#include "core/time_bucket.hpp"

#include <gtest/gtest.h>

using namespace tenancy::core;

TEST(TimeBucket, HoursFloor) {
    EXPECT_EQ(hour_bucket(0), 0);
    EXPECT_EQ(hour_bucket(kMicrosPerHour - 1), 0);
    EXPECT_EQ(hour_bucket(kMicrosPerHour), kMicrosPerHour);
    EXPECT_EQ(hour_bucket(5 * kMicrosPerHour + 17), 5 * kMicrosPerHour);
}

TEST(TimeBucket, TimesBefore2000FloorDownward) {
    EXPECT_EQ(hour_bucket(-1), -kMicrosPerHour);
    EXPECT_EQ(hour_bucket(-kMicrosPerHour), -kMicrosPerHour);
    EXPECT_EQ(hour_bucket(-kMicrosPerHour - 1), -2 * kMicrosPerHour);
}

