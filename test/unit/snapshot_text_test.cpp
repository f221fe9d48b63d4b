#include "core/snapshot_text.hpp"

#include <gtest/gtest.h>

using tenancy::core::snapshot_with_in_progress;

TEST(SnapshotText, AddsTheTransactionToTheInProgressList) {
    EXPECT_EQ(snapshot_with_in_progress("100:200:", 150), "100:200:150");
    EXPECT_EQ(snapshot_with_in_progress("100:200:120,180", 150), "100:200:120,150,180");
    EXPECT_EQ(snapshot_with_in_progress("100:200:150", 150), "100:200:150");
    EXPECT_EQ(snapshot_with_in_progress("100:200:", 100), "100:200:100");
}

TEST(SnapshotText, UnchangedWhenTheSnapshotDoesNotSeeIt) {
    EXPECT_EQ(snapshot_with_in_progress("100:200:", 200), "100:200:");
    EXPECT_EQ(snapshot_with_in_progress("100:200:120", 5000), "100:200:120");
}

TEST(SnapshotText, RejectsWhatIsNotASnapshot) {
    for (const char* bad : {"", "100", "100:200", "x:200:", "200:100:", "100:200:99",
                            "100:200:200", "100:200:120,", "100:200:1a0", "-1:2:"}) {
        EXPECT_FALSE(snapshot_with_in_progress(bad, 150)) << bad;
    }
}

TEST(SnapshotText, ParsesItsParts) {
    auto parts = tenancy::core::parse_snapshot("100:200:180,120,180");
    ASSERT_TRUE(parts);
    EXPECT_EQ(parts->xmin, 100u);
    EXPECT_EQ(parts->xmax, 200u);
    EXPECT_EQ(parts->in_progress, (std::vector<std::uint64_t>{120, 180}));
    auto empty = tenancy::core::parse_snapshot("7:7:");
    ASSERT_TRUE(empty);
    EXPECT_TRUE(empty->in_progress.empty());
    EXPECT_FALSE(tenancy::core::parse_snapshot("100:200:99"));
}
