#include "core/rollup_batch.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <tuple>

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

// Views are counted (1.24), without their bytes; an update, a deletion or a
// restore counts no view, and every action counts its user.
TEST(FileRollupBatch, CountsViews) {
    FileRollupBatch batch;
    batch.add(org(1), kDay9000, FileAction::view, 5, user(1));
    batch.add(org(1), kDay9000 + 1, FileAction::view, std::nullopt, user(1));
    batch.add(org(1), kDay9000 + 2, FileAction::view, std::nullopt, std::nullopt);
    batch.add(org(1), kDay9000 + 3, FileAction::update, 500, user(2));
    batch.add(org(1), kDay9000 + 4, FileAction::remove, std::nullopt, user(3));
    batch.add(org(1), kDay9000 + 5, FileAction::restore, std::nullopt, user(4));
    batch.add(org(1), kDay9000 + 6, FileAction::download, 7, user(5));
    batch.add(org(1), kDay9000 + kMicrosPerHour, FileAction::view, 1, user(6));
    const FileBucket& b = batch.buckets().at(FileBucketKey{org(1), kDay9000});
    EXPECT_EQ(b.views, 3);
    EXPECT_EQ(b.downloads, 1);
    EXPECT_EQ(b.uploads, 0);
    EXPECT_EQ(b.bytes_downloaded, 7);
    EXPECT_EQ(b.bytes_uploaded, 0);
    EXPECT_EQ(b.users.estimate(), 5u);
    EXPECT_EQ(batch.buckets().at(FileBucketKey{org(1), kDay9000 + kMicrosPerHour}).views, 1);
}

// Events are staged and applied in bucket order, in chunks of staged_limit:
// the chunking (and so the order buckets take their events in) must not
// change any figure, the floating-point sum included. Twelve buckets of
// about 400 events and over 256 users each: the distinct sketches pass from
// exact sets to HyperLogLog. Counts, sums, minima and maxima are also
// checked against a plain computation.
TEST(EventRollupBatch, StagingInChunksGivesTheSameBuckets) {
    struct Expected {
        std::int64_t events = 0, value_count = 0;
        double value_sum = 0, value_min = 1e300, value_max = -1e300;
    };
    std::map<std::tuple<int, std::int64_t, std::string>, Expected> expected;
    EventRollupBatch one_by_one(1);  // applied as each event arrives
    EventRollupBatch chunked(7);
    EventRollupBatch whole;
    const char* kinds[] = {"login", "quiz"};
    for (int i = 0; i < 5000; ++i) {
        int o = i % 3;
        std::int64_t hour = kDay9000 + (i / 7 % 2) * kMicrosPerHour;
        const char* kind = kinds[i / 3 % 2];
        std::optional<double> value;
        if (i % 4 != 0) value = (i * 7919 % 1000) / 10.0 + 0.1;
        std::optional<Uuid> who;
        if (i % 9 != 0) who = numbered_user(i * 31 % 1009);  // 238 to 476 per bucket
        for (EventRollupBatch* batch : {&one_by_one, &chunked, &whole}) {
            batch->add(org(o), hour + i, kind, value, who);
        }
        Expected& e = expected[{o, hour, kind}];
        ++e.events;
        if (value) {
            ++e.value_count;
            e.value_sum += *value;
            e.value_min = std::min(e.value_min, *value);
            e.value_max = std::max(e.value_max, *value);
        }
    }
    ASSERT_EQ(whole.buckets().size(), expected.size());
    ASSERT_EQ(chunked.buckets().size(), expected.size());
    bool some_hyperloglog = false;
    for (const auto& [key, want] : expected) {
        EventBucketKey bucket_key{org(std::get<0>(key)), std::get<1>(key), std::get<2>(key)};
        const EventBucket& reference = one_by_one.bucket(bucket_key);
        for (const EventRollupBatch* batch : {&chunked, &whole}) {
            const EventBucket& got = batch->bucket(bucket_key);
            EXPECT_EQ(got.events, want.events);
            EXPECT_EQ(got.value_count, want.value_count);
            EXPECT_EQ(got.value_sum, want.value_sum);  // same order, same sum
            EXPECT_EQ(got.value_min, want.value_min);
            EXPECT_EQ(got.value_max, want.value_max);
            EXPECT_TRUE(got.values == reference.values);
            EXPECT_TRUE(got.users == reference.users);
        }
        some_hyperloglog = some_hyperloglog || !reference.users.is_exact();
    }
    EXPECT_TRUE(some_hyperloglog);
    EXPECT_EQ(chunked.rows(), 5000u);
    EXPECT_THROW(chunked.bucket(EventBucketKey{org(50), kDay9000, "login"}), std::out_of_range);
}

// A stored bucket merged with a run's: sums add, extremes widen, sketches
// merge, and counts saturate instead of overflowing.
TEST(EventBucket, MergeAddsFiguresAndSketches) {
    EventRollupBatch first, second;
    first.add(org(1), kDay9000, "quiz", 10.0, user(1));
    first.add(org(1), kDay9000, "quiz", std::nullopt, user(2));
    second.add(org(1), kDay9000, "quiz", 30.0, user(2));
    second.add(org(1), kDay9000, "quiz", 20.0, user(3));
    EventBucketKey key{org(1), kDay9000, "quiz"};
    EventBucket merged = first.bucket(key);
    merged.merge(second.bucket(key));
    EXPECT_EQ(merged.events, 4);
    EXPECT_EQ(merged.value_count, 3);
    EXPECT_DOUBLE_EQ(merged.value_sum, 60.0);
    EXPECT_DOUBLE_EQ(merged.value_min, 10.0);
    EXPECT_DOUBLE_EQ(merged.value_max, 30.0);
    EXPECT_EQ(merged.values.count(), 3u);
    EXPECT_EQ(merged.users.estimate(), 3u);

    EventBucket empty;  // no values: the extremes stay infinite
    empty.merge(EventBucket{});
    EXPECT_EQ(empty.value_min, std::numeric_limits<double>::infinity());

    EventBucket huge;
    huge.events = std::numeric_limits<std::int64_t>::max() - 1;
    huge.merge(merged);
    EXPECT_EQ(huge.events, std::numeric_limits<std::int64_t>::max());
}

TEST(FileBucket, MergeSaturates) {
    FileBucket stored;
    stored.uploads = 2;
    stored.bytes_uploaded = std::numeric_limits<std::int64_t>::max() - 5;
    stored.users.add(user(1).bytes);
    FileBucket run;
    run.uploads = 3;
    run.downloads = 1;
    run.bytes_uploaded = 100;
    run.users.add(user(2).bytes);
    stored.views = std::numeric_limits<std::int64_t>::max() - 1;
    run.views = 4;
    stored.merge(run);
    EXPECT_EQ(stored.uploads, 5);
    EXPECT_EQ(stored.downloads, 1);
    EXPECT_EQ(stored.views, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(stored.bytes_uploaded, std::numeric_limits<std::int64_t>::max());
    EXPECT_EQ(stored.users.estimate(), 2u);
}

// A run's buckets deferred to the next run: merged into that run's batch,
// they give what one run over all the rows would have, and add no row.
TEST(EventRollupBatch, MergedBucketsEqualOneRunOverAllRows) {
    EventRollupBatch earlier, later, whole;
    auto event = [](EventRollupBatch& batch, int n) {
        batch.add(org(n % 3), kDay9000 + (n % 5) * kMicrosPerHour, n % 2 ? "quiz" : "login",
                  n % 7 ? std::optional<double>(n * 1.5) : std::nullopt, user(n % 4));
    };
    for (int n = 0; n < 40; ++n) event(n < 25 ? earlier : later, n);
    for (int n = 0; n < 40; ++n) event(whole, n);
    for (const auto& [key, bucket] : earlier.buckets()) later.merge_bucket(key, bucket);
    EXPECT_EQ(later.rows(), 15u);
    ASSERT_EQ(later.buckets().size(), whole.buckets().size());
    for (const auto& [key, expected] : whole.buckets()) {
        const EventBucket& merged = later.bucket(key);
        EXPECT_EQ(merged.events, expected.events);
        EXPECT_EQ(merged.value_count, expected.value_count);
        EXPECT_DOUBLE_EQ(merged.value_sum, expected.value_sum);
        EXPECT_EQ(merged.value_min, expected.value_min);
        EXPECT_EQ(merged.value_max, expected.value_max);
        EXPECT_EQ(merged.values.count(), expected.values.count());
        EXPECT_EQ(merged.users.estimate(), expected.users.estimate());
    }
}

// A run's stage applied in chunks, and buckets of an earlier run merged in
// between (deferred buckets join a run after its events came): the same
// buckets, sketches and all, as one run over every row; twelve kinds (kinds
// are numbered as they come). value_sum only to within rounding: the
// additions come in another order.
TEST(EventRollupBatch, MergedAmidStagedEventsEqualOneRunWithManyKinds) {
    EventRollupBatch earlier, later(7), whole;
    auto event = [](EventRollupBatch& batch, int n) {
        batch.add(org(n % 3), kDay9000 + (n % 4) * kMicrosPerHour, "kind-" + std::to_string(n % 12),
                  n % 5 ? std::optional<double>(n * 0.1 - 3.0) : std::nullopt,
                  n % 6 ? std::optional<Uuid>(numbered_user(n % 40)) : std::nullopt);
    };
    for (int n = 0; n < 600; ++n) event(n % 3 == 0 ? earlier : later, n);
    for (int n = 0; n < 600; ++n) event(whole, n);
    for (const auto& [key, bucket] : earlier.buckets()) later.merge_bucket(key, bucket);
    ASSERT_EQ(later.buckets().size(), whole.buckets().size());
    for (const auto& [key, expected] : whole.buckets()) {
        const EventBucket& merged = later.bucket(key);
        EXPECT_EQ(merged.events, expected.events);
        EXPECT_EQ(merged.value_count, expected.value_count);
        EXPECT_NEAR(merged.value_sum, expected.value_sum, 1e-9);
        EXPECT_EQ(merged.value_min, expected.value_min);
        EXPECT_EQ(merged.value_max, expected.value_max);
        EXPECT_EQ(merged.values, expected.values);
        EXPECT_EQ(merged.users, expected.users);
    }
}

TEST(FileRollupBatch, MergedBucketsEqualOneRunOverAllRows) {
    FileRollupBatch earlier, later, whole;
    auto access = [](FileRollupBatch& batch, int n) {
        batch.add(org(n % 2), kDay9000 + (n % 3) * kMicrosPerHour,
                  (n / 3) % 3 == 0   ? FileAction::upload
                  : (n / 3) % 3 == 1 ? FileAction::download
                                     : FileAction::view,
                  n * 10, user(n % 5));
    };
    for (int n = 0; n < 30; ++n) access(n % 4 ? earlier : later, n);
    for (int n = 0; n < 30; ++n) access(whole, n);
    for (const auto& [key, bucket] : earlier.buckets()) later.merge_bucket(key, bucket);
    ASSERT_EQ(later.buckets().size(), whole.buckets().size());
    for (const auto& [key, expected] : whole.buckets()) {
        const FileBucket& merged = later.buckets().at(key);
        EXPECT_EQ(merged.uploads, expected.uploads);
        EXPECT_EQ(merged.downloads, expected.downloads);
        EXPECT_EQ(merged.bytes_uploaded, expected.bytes_uploaded);
        EXPECT_EQ(merged.bytes_downloaded, expected.bytes_downloaded);
        EXPECT_EQ(merged.views, expected.views);
        EXPECT_EQ(merged.users.estimate(), expected.users.estimate());
    }
}
