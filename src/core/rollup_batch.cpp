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

std::size_t EventRollupBatch::IndexKeyHash::operator()(const IndexKey& key) const {
    std::size_t h = hash_id(key.organization_id.bytes);
    h ^= std::hash<std::int64_t>{}(key.hour) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h ^= std::hash<std::uint32_t>{}(key.kind) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    return h;
}

std::size_t FileBucketKeyHash::operator()(const FileBucketKey& key) const {
    std::size_t h = hash_id(key.organization_id.bytes);
    return h ^ (std::hash<std::int64_t>{}(key.hour) + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2));
}

std::uint32_t EventRollupBatch::kind_number(std::string_view kind) {
    // A handful of kinds, usually: compared in turn before any hashing.
    if (kinds_.size() <= 8) {
        for (std::size_t i = 0; i < kinds_.size(); ++i) {
            if (kinds_[i] == kind) return static_cast<std::uint32_t>(i);
        }
    } else {
        auto found = kind_numbers_.find(kind);
        if (found != kind_numbers_.end()) return found->second;
    }
    auto number = static_cast<std::uint32_t>(kinds_.size());
    kinds_.emplace_back(kind);
    kind_numbers_.emplace(kinds_.back(), number);
    return number;
}

void EventRollupBatch::Counted::set_from(const EventBucket& bucket) {
    events = bucket.events;
    value_count = bucket.value_count;
    value_sum = bucket.value_sum;
    value_min = bucket.value_min;
    value_max = bucket.value_max;
}

void EventRollupBatch::Counted::copy_to(EventBucket& bucket) const {
    bucket.events = events;
    bucket.value_count = value_count;
    bucket.value_sum = value_sum;
    bucket.value_min = value_min;
    bucket.value_max = value_max;
}

EventRollupBatch::Counted& EventRollupBatch::counted(const Uuid& org, std::int64_t hour,
                                                     std::string_view kind) {
    IndexKey key{org, hour, kind_number(kind)};
    auto found = index_.find(key);
    if (found != index_.end()) return found->second;
    if (buckets_.size() > kBucketMask) {
        throw std::length_error("EventRollupBatch: too many buckets in one run");
    }
    auto number = static_cast<std::uint32_t>(buckets_.size());
    // The bucket first: if either throws, the index points at nothing new.
    buckets_.emplace_back(EventBucketKey{org, hour, std::string(kind)}, EventBucket{});
    return index_.emplace(key, Counted{number}).first->second;
}

void EventRollupBatch::add(const Uuid& org, std::int64_t at, std::string_view kind,
                           std::optional<double> value, const std::optional<Uuid>& user) {
    Counted& bucket = counted(org, hour_bucket(at), kind);
    // Counts and sums now, in the order the events come (the sum's order is
    // the events'); the sketches, which no order changes, when applied.
    ++bucket.events;
    Staged event{user ? hash_id(user->bytes) : 0, 0, bucket.number | (user ? kHasUser : 0)};
    if (value && std::isfinite(*value)) {
        ++bucket.value_count;
        bucket.value_sum += *value;
        bucket.value_min = std::min(bucket.value_min, *value);
        bucket.value_max = std::max(bucket.value_max, *value);
        QuantileSketch::Place place = QuantileSketch::place_of(*value);
        event.value_bucket = place.bucket;
        event.bucket_and_flags |= (static_cast<std::uint32_t>(place.side) + 1) << kSideShift;
    }
    // Room for a whole stage (of the default size at most) at once, not
    // copied as it grows; its pages are only touched as events come.
    if (staged_.capacity() == 0) staged_.reserve(std::min<std::size_t>(staged_limit_, std::size_t{1} << 20));
    staged_.push_back(event);
    ++rows_;
    if (staged_.size() >= staged_limit_) apply_staged();
}

void EventRollupBatch::merge_bucket(const EventBucketKey& key, const EventBucket& counted_before) {
    apply_staged();
    Counted& entry = counted(key.organization_id, key.hour, key.kind);
    EventBucket& bucket = buckets_[entry.number].second;
    bucket.merge(counted_before);
    entry.set_from(bucket);
}

const EventBucket& EventRollupBatch::bucket(const EventBucketKey& key) const {
    apply_staged();
    auto kind = std::find(kinds_.begin(), kinds_.end(), key.kind);
    if (kind != kinds_.end()) {
        auto found = index_.find(
            IndexKey{key.organization_id, key.hour, static_cast<std::uint32_t>(kind - kinds_.begin())});
        if (found != index_.end()) return buckets_[found->second.number].second;
    }
    throw std::out_of_range("EventRollupBatch: no such bucket");
}

void EventRollupBatch::apply_staged() const {
    if (staged_.empty()) return;
    auto bucket_of = [](const Staged& event) { return event.bucket_and_flags & kBucketMask; };
    // Counting sort by bucket: starts[b] is where bucket b's events go.
    std::vector<std::uint32_t> starts(buckets_.size() + 1, 0);
    for (const Staged& event : staged_) ++starts[bucket_of(event) + 1];
    for (std::size_t b = 1; b < starts.size(); ++b) starts[b] += starts[b - 1];
    // Out of place (the writes are independent; a swap chain in place waits
    // on each load), into a buffer not zeroed first.
    std::unique_ptr<Staged[]> sorted(new Staged[staged_.size()]);
    {
        std::vector<std::uint32_t> next(starts.begin(), starts.end() - 1);
        for (const Staged& event : staged_) sorted[next[bucket_of(event)]++] = event;
    }
    staged_.clear();
    std::vector<std::int32_t> positive, negative;
    std::vector<std::uint64_t> users;
    for (std::uint32_t b = 0; b + 1 < starts.size(); ++b) {
        if (starts[b] == starts[b + 1]) continue;
        positive.clear();
        negative.clear();
        users.clear();
        std::uint64_t zeros = 0;
        for (std::uint32_t i = starts[b]; i < starts[b + 1]; ++i) {
            const Staged& event = sorted[i];
            switch ((event.bucket_and_flags >> kSideShift) & 3) {
                case 1 + static_cast<int>(QuantileSketch::Side::zero): ++zeros; break;
                case 1 + static_cast<int>(QuantileSketch::Side::positive): positive.push_back(event.value_bucket); break;
                case 1 + static_cast<int>(QuantileSketch::Side::negative): negative.push_back(event.value_bucket); break;
                default: break;  // no value
            }
            if (event.bucket_and_flags & kHasUser) users.push_back(event.user_hash);
        }
        EventBucket& bucket = buckets_[b].second;
        bucket.values.add_placed(zeros, positive, negative);
        bucket.users.add_hashes(users);
    }
    for (const auto& [key, entry] : index_) entry.copy_to(buckets_[entry.number].second);
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
    add_saturating(views, other.views);
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
    } else if (action == FileAction::view) {
        ++bucket.views;
    }
    if (user) bucket.users.add(user->bytes);
    ++rows_;
}

}  // namespace tenancy::core
