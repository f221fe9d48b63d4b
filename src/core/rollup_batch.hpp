// The in-memory side of a rollup run: raw rows (events, file accesses) are
// added one at a time and land in hourly buckets per organization (and per
// event kind). A batch is what one run adds to the stored rollups; buckets
// are merged into stored rows by addition, min/max and sketch merges, all of
// which are order-independent.
#pragma once

#include <algorithm>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "core/distinct_sketch.hpp"
#include "core/quantile_sketch.hpp"
#include "core/uuid.hpp"

namespace tenancy::core {

struct EventBucketKey {
    Uuid organization_id;
    std::int64_t hour = 0;  // timestamptz microseconds, hour-aligned
    std::string kind;
    friend bool operator==(const EventBucketKey& a, const EventBucketKey& b) {
        return a.hour == b.hour && a.organization_id == b.organization_id && a.kind == b.kind;
    }
};

struct EventBucket {
    std::int64_t events = 0;
    std::int64_t value_count = 0;
    double value_sum = 0;
    double value_min = std::numeric_limits<double>::infinity();
    double value_max = -std::numeric_limits<double>::infinity();
    QuantileSketch values;
    DistinctSketch users;

    // Adds another batch's figures for the same hour (a stored row and a
    // run's new events). Counts saturate rather than overflow, as byte totals
    // do: one absurd figure must not stop every later run.
    void merge(const EventBucket& other);
};

class EventRollupBatch {
public:
    using Bucket = std::pair<EventBucketKey, EventBucket>;

    // staged_limit: events held before they are applied, so that a run over
    // any number of rows holds a bounded amount of memory: 16 bytes per
    // event, twice (staged and sorted), 32 MB by default, in the C++ heap.
    explicit EventRollupBatch(std::size_t staged_limit = std::size_t{1} << 20)
        : staged_limit_(std::clamp<std::size_t>(staged_limit, 1, std::size_t{1} << 30)) {}

    // at: timestamptz microseconds. A non-finite value counts as an event
    // without a value (the table forbids them; this is the second fence).
    void add(const Uuid& org, std::int64_t at, std::string_view kind,
             std::optional<double> value, const std::optional<Uuid>& user);

    // Every bucket with every event added so far, in the order the buckets
    // first appeared.
    const std::vector<Bucket>& buckets() const {
        apply_staged();
        return buckets_;
    }
    // Adds a bucket counted earlier (a run's buckets deferred to this one):
    // merged into this batch's bucket of the same key, or a new bucket. Adds
    // no row: its rows were read by the run that counted them.
    void merge_bucket(const EventBucketKey& key, const EventBucket& counted);
    // One bucket; std::out_of_range if no event fell into it.
    const EventBucket& bucket(const EventBucketKey& key) const;
    std::uint64_t rows() const { return rows_; }

private:
    // A bucket's key as the index holds it: the kind by its number in
    // kinds_, so that finding a bucket compares and hashes no string.
    struct IndexKey {
        Uuid organization_id;
        std::int64_t hour;
        std::uint32_t kind;
        friend bool operator==(const IndexKey& a, const IndexKey& b) {
            return a.hour == b.hour && a.kind == b.kind && a.organization_id == b.organization_id;
        }
    };
    struct IndexKeyHash {
        std::size_t operator()(const IndexKey& key) const;
    };
    struct KindHash {
        using is_transparent = void;
        std::size_t operator()(std::string_view kind) const {
            return std::hash<std::string_view>{}(kind);
        }
    };
    struct KindEqual {
        using is_transparent = void;
        bool operator()(std::string_view a, std::string_view b) const { return a == b; }
    };

    // What an event brings to its bucket's sketches (its counts and sum are
    // counted as it comes): which bucket, its value's place in the
    // quantile sketch (the logarithm taken once, here) and its user's hash.
    struct Staged {
        std::uint64_t user_hash;
        std::int32_t value_bucket;
        std::uint32_t bucket_and_flags;  // bucket number | kHasUser | value side << kSideShift
    };
    static constexpr std::uint32_t kHasUser = std::uint32_t{1} << 31;
    static constexpr int kSideShift = 29;  // 2 bits: none, zero, positive, negative
    static constexpr std::uint32_t kBucketMask = (std::uint32_t{1} << kSideShift) - 1;

    // Events are not applied to the sketches as they arrive. A million
    // events land on tens of thousands of buckets at random, and every
    // sketch update would wait on memory. They are staged, put in bucket
    // order (a counting sort), and each bucket then takes all its events at
    // once: its values' counts and its users' set are built in one go.
    void apply_staged() const;
    // The kind's number, made if it is new.
    std::uint32_t kind_number(std::string_view kind);
    // A bucket's counts and sums as its events come, kept where the index
    // holds its number (the lookup has brought them into cache); copied into
    // the bucket when the stage is applied.
    struct Counted {
        std::uint32_t number;  // in buckets_
        std::int64_t events = 0;
        std::int64_t value_count = 0;
        double value_sum = 0;
        double value_min = std::numeric_limits<double>::infinity();
        double value_max = -std::numeric_limits<double>::infinity();
        void set_from(const EventBucket& bucket);
        void copy_to(EventBucket& bucket) const;
    };
    // The bucket's entry in the index, made (empty) if it is new.
    Counted& counted(const Uuid& org, std::int64_t hour, std::string_view kind);

    std::vector<std::string> kinds_;  // by number
    boost::unordered_flat_map<std::string, std::uint32_t, KindHash, KindEqual> kind_numbers_;
    boost::unordered_flat_map<IndexKey, Counted, IndexKeyHash> index_;
    std::size_t staged_limit_;
    // mutable: buckets() applies what is staged; that changes no result.
    mutable std::vector<Bucket> buckets_;
    mutable std::vector<Staged> staged_;
    std::uint64_t rows_ = 0;
};

enum class FileAction { upload, download, view, update, remove, restore };

struct FileBucketKey {
    Uuid organization_id;
    std::int64_t hour = 0;
    friend bool operator==(const FileBucketKey& a, const FileBucketKey& b) {
        return a.hour == b.hour && a.organization_id == b.organization_id;
    }
};

struct FileBucketKeyHash {
    std::size_t operator()(const FileBucketKey& key) const;
};

struct FileBucket {
    std::int64_t uploads = 0;
    std::int64_t downloads = 0;
    std::int64_t bytes_uploaded = 0;
    std::int64_t bytes_downloaded = 0;
    std::int64_t views = 0;  // `view` rows (1.24); their bytes are not summed
    // Everyone who touched a file in the hour, whatever the action (an
    // upload, a download, a view, an update, a deletion or a restore).
    DistinctSketch users;

    // As EventBucket::merge.
    void merge(const FileBucket& other);
};

class FileRollupBatch {
public:
    void add(const Uuid& org, std::int64_t at, FileAction action,
             std::optional<std::int64_t> bytes, const std::optional<Uuid>& user);

    // As EventRollupBatch::merge_bucket.
    void merge_bucket(const FileBucketKey& key, const FileBucket& counted) {
        buckets_[key].merge(counted);
    }
    const boost::unordered_flat_map<FileBucketKey, FileBucket, FileBucketKeyHash>& buckets() const {
        return buckets_;
    }
    std::uint64_t rows() const { return rows_; }

private:
    boost::unordered_flat_map<FileBucketKey, FileBucket, FileBucketKeyHash> buckets_;
    std::uint64_t rows_ = 0;
};

}  // namespace tenancy::core
