// The watermark of the rollups is a pg_snapshot ("xmin:xmax:xip,…" text):
// a raw row is counted once the stored snapshot sees its writing transaction.
// This file owns the one adjustment the C++ makes to it. Pure C++17.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tenancy::core {

// A snapshot's parts: every transaction below xmin had ended, those from
// xmax on had not begun, and in_progress (sorted, each in [xmin, xmax)) were
// running.
struct SnapshotParts {
    std::uint64_t xmin = 0;
    std::uint64_t xmax = 0;
    std::vector<std::uint64_t> in_progress;
};

// nullopt for text that is not a snapshot.
std::optional<SnapshotParts> parse_snapshot(std::string_view snapshot);

// The snapshot with `xid` added to its in-progress list, so that the
// transaction counts as not yet seen. A run never counts its own
// transaction's rows (they may still change, or roll back with it), so it
// records itself as in progress and the next run counts them. Unchanged when
// the snapshot does not see xid anyway (xid >= xmax). nullopt for text that is
// not a snapshot.
std::optional<std::string> snapshot_with_in_progress(std::string_view snapshot, std::uint64_t xid);

}  // namespace tenancy::core
