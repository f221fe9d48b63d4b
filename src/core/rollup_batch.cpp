#include "core/rollup_batch.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>

#include "core/time_bucket.hpp"

namespace tenancy::core {
namespace {

// Byte totals saturate instead of wrapping: one absurd row must not poison a
// bucket (or, through a failed run, every organization's rollups).
void add_saturating(std::int64_t& total, std::int64_t n) {
    if (__builtin_add_overflow(total, n, &total)) {
        total = n < 0 ? std::numeric_limits<std::int64_t>::min()
                      : std::numeric_limits<std::int64_t>::max();
    }
}

}  // namespace

std::size_t EventBucketKeyHash::hash(const Uuid& organization_id, std::int64_t hour,
                                     std::string_view kind) {
    std::size_t h = hash_id(organization_id.bytes);
    h ^= std::hash<std::int64_t>{}(hour) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= std::hash<std::string_view>{}(kind) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

std::size_t FileBucketKeyHash::operator()(const FileBucketKey& key) const {
    std::size_t h = hash_id(key.organization_id.bytes);
    return h ^ (std::hash<std::int64_t>{}(key.hour) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

std::uint32_t EventRollupBatch::bucket_number(const Uuid& org, std::int64_t hour,
                                              std::string_view kind) {
    auto found = index_.find(EventBucketProbe{org, hour, kind});
    if (found != index_.end()) return found->second;
    if (buckets_.size() >= std::numeric_limits<std::uint32_t>::max()) {
        throw std::length_error("EventRollupBatch: too many buckets in one run");
    }
    auto number = static_cast<std::uint32_t>(buckets_.size());
    // The bucket first: if either throws, the index points at nothing new.
    buckets_.emplace_back(EventBucketKey{org, hour, std::string(kind)}, EventBucket{});
    index_.emplace(buckets_.back().first, number);
    return number;
}

void EventRollupBatch::add(const Uuid& org, std::int64_t at, std::string_view kind,
                           std::optional<double> value, const std::optional<Uuid>& user) {
    std::uint32_t number = bucket_number(org, hour_bucket(at), kind);
    bool has_value = value && std::isfinite(*value);
    staged_.push_back(Staged{number, has_value, user.has_value(), has_value ? *value : 0.0,
                             user ? hash_id(user->bytes) : 0});
    ++rows_;
    if (staged_.size() >= staged_limit_) apply_staged();
}

void EventRollupBatch::merge_bucket(const EventBucketKey& key, const EventBucket& counted) {
    std::uint32_t number = bucket_number(key.organization_id, key.hour, key.kind);
    // Staged events keep their bucket numbers; merging is order-independent.
    buckets_[number].second.merge(counted);
}

const EventBucket& EventRollupBatch::bucket(const EventBucketKey& key) const {
    apply_staged();
    auto found = index_.find(key);
    if (found == index_.end()) throw std::out_of_range("EventRollupBatch: no such bucket");
    return buckets_[found->second].second;
}

void EventRollupBatch::apply_staged() const {
    if (staged_.empty()) return;
    // Counting sort by bucket: starts_[b] is where bucket b's events begin.
    starts_.assign(buckets_.size() + 1, 0);
    for (const Staged& event : staged_) ++starts_[event.bucket + 1];
    for (std::size_t b = 1; b < starts_.size(); ++b) starts_[b] += starts_[b - 1];
    sorted_.resize(staged_.size());
    {
        std::vector<std::uint32_t> next(starts_.begin(), starts_.end() - 1);
        for (const Staged& event : staged_) sorted_[next[event.bucket]++] = event;
    }
    for (std::size_t b = 0; b + 1 < starts_.size(); ++b) {
        if (starts_[b] == starts_[b + 1]) continue;
        EventBucket& bucket = buckets_[b].second;
        for (std::uint32_t i = starts_[b]; i < starts_[b + 1]; ++i) {
            const Staged& event = sorted_[i];
            ++bucket.events;
            if (event.has_value) {
                ++bucket.value_count;
                bucket.value_sum += event.value;
                bucket.value_min = std::min(bucket.value_min, event.value);
                bucket.value_max = std::max(bucket.value_max, event.value);
                bucket.values.add(event.value);
            }
            if (event.has_user) bucket.users.add_hash(event.user_hash);
        }
    }
    staged_.clear();
}

void EventBucket::merge(const EventBucket& other) {
    add_saturating(events, other.events);
    add_saturating(value_count, other.value_count);
    value_sum += other.value_sum;
    value_min = std::min(value_min, other.value_min);
    value_max = std::max(value_max, other.value_max);
    values.merge(other.values);
    users.merge(other.users);
}

void FileBucket::merge(const FileBucket& other) {
    add_saturating(uploads, other.uploads);
    add_saturating(downloads, other.downloads);
    add_saturating(bytes_uploaded, other.bytes_uploaded);
    add_saturating(bytes_downloaded, other.bytes_downloaded);
    users.merge(other.users);
}

void FileRollupBatch::add(const Uuid& org, std::int64_t at, FileAction action,
                          std::optional<std::int64_t> bytes, const std::optional<Uuid>& user) {
    FileBucket& bucket = buckets_[FileBucketKey{org, hour_bucket(at)}];
    if (action == FileAction::upload) {
        ++bucket.uploads;
        add_saturating(bucket.bytes_uploaded, bytes.value_or(0));
    } else if (action == FileAction::download) {
        ++bucket.downloads;
        add_saturating(bucket.bytes_downloaded, bytes.value_or(0));
    }
    if (user) bucket.users.add(user->bytes);
    ++rows_;
}

}  // namespace tenancy::core
