#include "core/time_bucket.hpp"

#include <gtest/gtest.h>

using namespace tenancy::core;

TEST(TimeBucket, HoursAndDaysFloor) {
    EXPECT_EQ(hour_bucket(0), 0);
    EXPECT_EQ(hour_bucket(kMicrosPerHour - 1), 0);
    EXPECT_EQ(hour_bucket(kMicrosPerHour), kMicrosPerHour);
    EXPECT_EQ(hour_bucket(5 * kMicrosPerHour + 17), 5 * kMicrosPerHour);
    EXPECT_EQ(day_bucket(kMicrosPerDay + 3 * kMicrosPerHour), kMicrosPerDay);
}

TEST(TimeBucket, TimesBefore2000FloorDownward) {
    EXPECT_EQ(hour_bucket(-1), -kMicrosPerHour);
    EXPECT_EQ(hour_bucket(-kMicrosPerHour), -kMicrosPerHour);
    EXPECT_EQ(hour_bucket(-kMicrosPerHour - 1), -2 * kMicrosPerHour);
    EXPECT_EQ(day_bucket(-1), -kMicrosPerDay);
}

TEST(TimeBucket, EveryHourOfADayIsInThatDay) {
    for (std::int64_t h = 0; h < 24; ++h) {
        std::int64_t t = 9000 * kMicrosPerDay + h * kMicrosPerHour + 12345;
        EXPECT_EQ(day_bucket(hour_bucket(t)), 9000 * kMicrosPerDay);
    }
}
