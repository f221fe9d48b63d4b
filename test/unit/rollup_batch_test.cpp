#include "core/rollup_batch.hpp"

#include <gtest/gtest.h>

#include "core/time_bucket.hpp"

using namespace tenancy::core;

namespace {
Uuid org(int n) { return *Uuid::parse("00000000-0000-4000-8000-0000000000" + std::to_string(10 + n)); }
Uuid user(int n) { return *Uuid::parse("11111111-0000-4000-8000-0000000000" + std::to_string(10 + n)); }
constexpr std::int64_t kDay9000 = 9000 * kMicrosPerDay;
}  // namespace

TEST(EventRollupBatch, BucketsByOrgHourAndKind) {
    EventRollupBatch batch;
    batch.add(org(1), kDay9000 + 10, "quiz", 80.0, user(1));
    batch.add(org(1), kDay9000 + kMicrosPerHour - 1, "quiz", 90.0, user(2));
    batch.add(org(1), kDay9000 + kMicrosPerHour, "quiz", 70.0, user(1));  // next hour
    batch.add(org(1), kDay9000 + 20, "login", std::nullopt, user(1));
    batch.add(org(2), kDay9000 + 30, "quiz", 10.0, std::nullopt);
    EXPECT_EQ(batch.rows(), 5u);
    ASSERT_EQ(batch.buckets().size(), 4u);

    const EventBucket& first = batch.buckets().at(EventBucketKey{org(1), kDay9000, "quiz"});
    EXPECT_EQ(first.events, 2);
    EXPECT_EQ(first.value_count, 2);
    EXPECT_DOUBLE_EQ(first.value_sum, 170.0);
    EXPECT_DOUBLE_EQ(first.value_min, 80.0);
    EXPECT_DOUBLE_EQ(first.value_max, 90.0);
    EXPECT_EQ(first.users.estimate(), 2u);

    const EventBucket& login = batch.buckets().at(EventBucketKey{org(1), kDay9000, "login"});
    EXPECT_EQ(login.events, 1);
    EXPECT_EQ(login.value_count, 0);
    EXPECT_TRUE(login.values.empty());

    const EventBucket& anonymous = batch.buckets().at(EventBucketKey{org(2), kDay9000, "quiz"});
    EXPECT_EQ(anonymous.users.estimate(), 0u);
}

TEST(FileRollupBatch, CountsUploadsDownloadsAndBytes) {
    FileRollupBatch batch;
    batch.add(org(1), kDay9000, FileAction::upload, 100, user(1));
    batch.add(org(1), kDay9000 + 5, FileAction::download, 40, user(2));
    batch.add(org(1), kDay9000 + 6, FileAction::download, std::nullopt, user(2));
    batch.add(org(1), kDay9000 + 7, FileAction::view, 5, user(3));
    batch.add(org(1), kDay9000 + 8, FileAction::update, 500, user(1));
    const FileBucket& b = batch.buckets().at(FileBucketKey{org(1), kDay9000});
    EXPECT_EQ(b.uploads, 1);
    EXPECT_EQ(b.downloads, 2);
    EXPECT_EQ(b.bytes_uploaded, 100);
    EXPECT_EQ(b.bytes_downloaded, 40);
    EXPECT_EQ(b.users.estimate(), 3u);
    EXPECT_EQ(batch.rows(), 5u);
}
