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
