#include "core/rollup_batch.hpp"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

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

void EventRollupBatch::add(const Uuid& org, std::int64_t at, std::string_view kind,
                           std::optional<double> value, const std::optional<Uuid>& user) {
    bool has_value = value && std::isfinite(*value);
    pending_.push_back(Pending{org, hour_bucket(at), std::string(kind), has_value,
                               has_value ? *value : 0.0, user.has_value(),
                               user ? hash_id(user->bytes) : 0});
    ++rows_;
    if (pending_.size() == kGroup) apply_pending();
}

void EventRollupBatch::apply_pending() const {
    if (pending_.empty()) return;
    // 1. Find every event's bucket; a new bucket may move the others.
    targets_.resize(pending_.size());
    bool moved = false;
    for (std::size_t i = 0; i < pending_.size(); ++i) {
        const Pending& event = pending_[i];
        EventBucketProbe probe{event.organization_id, event.hour, event.kind};
        auto found = buckets_.find(probe);
        if (found == buckets_.end()) {
            buckets_.emplace(EventBucketKey{event.organization_id, event.hour, event.kind},
                             EventBucket{});
            moved = true;
        } else {
            targets_[i] = &found->second;
        }
    }
    if (moved) {
        for (std::size_t i = 0; i < pending_.size(); ++i) {
            const Pending& event = pending_[i];
            targets_[i] =
                &buckets_.find(EventBucketProbe{event.organization_id, event.hour, event.kind})->second;
        }
    }
    // 2. Count them in.
    for (std::size_t i = 0; i < pending_.size(); ++i) {
        const Pending& event = pending_[i];
        EventBucket& bucket = *targets_[i];
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
    pending_.clear();
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
