#include "core/rollup_batch.hpp"

#include <gtest/gtest.h>

#include "core/time_bucket.hpp"

using namespace tenancy::core;

namespace {
Uuid org(int n) { return *Uuid::parse("00000000-0000-4000-8000-0000000000" + std::to_string(10 + n)); }
Uuid user(int n) { return *Uuid::parse("11111111-0000-4000-8000-0000000000" + std::to_string(10 + n)); }
Uuid numbered_user(int n) {
    Uuid id{};
    id.bytes[0] = 0x22;
    id.bytes[14] = static_cast<std::uint8_t>(n >> 8);
    id.bytes[15] = static_cast<std::uint8_t>(n);
    return id;
}
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

    const EventBucket& first = batch.bucket(EventBucketKey{org(1), kDay9000, "quiz"});
    EXPECT_EQ(first.events, 2);
    EXPECT_EQ(first.value_count, 2);
    EXPECT_DOUBLE_EQ(first.value_sum, 170.0);
    EXPECT_DOUBLE_EQ(first.value_min, 80.0);
    EXPECT_DOUBLE_EQ(first.value_max, 90.0);
    EXPECT_EQ(first.users.estimate(), 2u);

    const EventBucket& login = batch.bucket(EventBucketKey{org(1), kDay9000, "login"});
    EXPECT_EQ(login.events, 1);
    EXPECT_EQ(login.value_count, 0);
    EXPECT_TRUE(login.values.empty());

    const EventBucket& anonymous = batch.bucket(EventBucketKey{org(2), kDay9000, "quiz"});
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

// Events are staged and applied in bucket order, in chunks of staged_limit:
// the chunking (and so the order buckets take their events in) must not
// change any figure, the floating-point sum included.
TEST(EventRollupBatch, StagingInChunksGivesTheSameBuckets) {
    EventRollupBatch whole;       // everything applied at once
    EventRollupBatch chunked(7);  // applied every 7 events
    const char* kinds[] = {"login", "quiz", "video"};
    for (int i = 0; i < 5000; ++i) {
        std::int64_t at = kDay9000 + (i % 5) * kMicrosPerHour + i;
        std::optional<double> value;
        if (i % 4 != 0) value = (i * 7919 % 1000) / 10.0 + 0.1;
        std::optional<Uuid> who;
        if (i % 9 != 0) who = numbered_user(i % 700);  // past the exact limit (256)
        whole.add(org(i % 11), at, kinds[i % 3], value, who);
        chunked.add(org(i % 11), at, kinds[i % 3], value, who);
    }
    ASSERT_EQ(whole.buckets().size(), chunked.buckets().size());
    std::int64_t events = 0;
    for (const auto& [key, expected] : whole.buckets()) {
        const EventBucket& got = chunked.bucket(key);
        events += got.events;
        EXPECT_EQ(got.events, expected.events);
        EXPECT_EQ(got.value_count, expected.value_count);
        EXPECT_EQ(got.value_sum, expected.value_sum);  // same order, same sum
        EXPECT_EQ(got.value_min, expected.value_min);
        EXPECT_EQ(got.value_max, expected.value_max);
        EXPECT_TRUE(got.values == expected.values);
        EXPECT_TRUE(got.users == expected.users);
    }
    EXPECT_EQ(events, 5000);
    EXPECT_EQ(chunked.rows(), 5000u);
    EXPECT_THROW(chunked.bucket(EventBucketKey{org(99), kDay9000, "login"}), std::out_of_range);
}
