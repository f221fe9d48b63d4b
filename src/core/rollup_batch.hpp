// The in-memory side of a rollup run: raw rows (events, file accesses) are
// added one at a time and land in hourly buckets per organization (and per
// event kind). A batch is what one run adds to the stored rollups; buckets
// are merged into stored rows by addition, min/max and sketch merges, all of
// which are order-independent.
#pragma once

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "core/distinct_sketch.hpp"
#include "core/quantile_sketch.hpp"
#include "core/uuid.hpp"

namespace tenancy::core {

struct UuidHash {
    std::size_t operator()(const Uuid& id) const { return hash_id(id.bytes); }
};

struct EventBucketKey {
    Uuid organization_id;
    std::int64_t hour = 0;  // timestamptz microseconds, hour-aligned
    std::string kind;
    friend bool operator==(const EventBucketKey& a, const EventBucketKey& b) {
        return a.hour == b.hour && a.organization_id == b.organization_id && a.kind == b.kind;
    }
};

// A bucket key as read from a raw row: the kind still points into the row,
// so finding an existing bucket copies no string.
struct EventBucketProbe {
    const Uuid& organization_id;
    std::int64_t hour;
    std::string_view kind;
};

// Hash and equality that also take a probe (heterogeneous lookup).
struct EventBucketKeyHash {
    using is_transparent = void;
    std::size_t operator()(const EventBucketKey& key) const {
        return hash(key.organization_id, key.hour, key.kind);
    }
    std::size_t operator()(const EventBucketProbe& probe) const {
        return hash(probe.organization_id, probe.hour, probe.kind);
    }
    static std::size_t hash(const Uuid& organization_id, std::int64_t hour, std::string_view kind);
};

struct EventBucketKeyEqual {
    using is_transparent = void;
    bool operator()(const EventBucketKey& a, const EventBucketKey& b) const { return a == b; }
    bool operator()(const EventBucketProbe& a, const EventBucketKey& b) const {
        return a.hour == b.hour && a.organization_id == b.organization_id && a.kind == b.kind;
    }
    bool operator()(const EventBucketKey& a, const EventBucketProbe& b) const { return (*this)(b, a); }
};

struct EventBucket {
    std::int64_t events = 0;
    std::int64_t value_count = 0;
    double value_sum = 0;
    double value_min = std::numeric_limits<double>::infinity();
    double value_max = -std::numeric_limits<double>::infinity();
    QuantileSketch values;
    DistinctSketch users;
};

class EventRollupBatch {
public:
    using Buckets =
        boost::unordered_flat_map<EventBucketKey, EventBucket, EventBucketKeyHash, EventBucketKeyEqual>;

    // at: timestamptz microseconds. A non-finite value counts as an event
    // without a value (the table forbids them; this is the second fence).
    void add(const Uuid& org, std::int64_t at, std::string_view kind,
             std::optional<double> value, const std::optional<Uuid>& user);

    // Every event added so far is in its bucket when this returns.
    const Buckets& buckets() const {
        apply_pending();
        return buckets_;
    }
    std::uint64_t rows() const { return rows_; }

private:
    // Events are applied in groups. A million events land on their buckets
    // at random, and each lookup and sketch update waits on memory; done a
    // group at a time, the group's lookups are independent of each other and
    // their cache misses overlap instead of queueing.
    static constexpr std::size_t kGroup = 64;
    struct Pending {
        Uuid organization_id;
        std::int64_t hour;
        std::string kind;
        bool has_value;
        double value;
        bool has_user;
        std::uint64_t user_hash;
    };
    void apply_pending() const;

    // mutable: buckets() applies what is pending; that changes no result.
    mutable Buckets buckets_;
    mutable std::vector<Pending> pending_;
    mutable std::vector<EventBucket*> targets_;
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
    DistinctSketch users;  // everyone who touched a file in the hour
};

class FileRollupBatch {
public:
    void add(const Uuid& org, std::int64_t at, FileAction action,
             std::optional<std::int64_t> bytes, const std::optional<Uuid>& user);

    const boost::unordered_flat_map<FileBucketKey, FileBucket, FileBucketKeyHash>& buckets() const {
        return buckets_;
    }
    std::uint64_t rows() const { return rows_; }

private:
    boost::unordered_flat_map<FileBucketKey, FileBucket, FileBucketKeyHash> buckets_;
    std::uint64_t rows_ = 0;
};

}  // namespace tenancy::core
