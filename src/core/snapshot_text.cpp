#include "core/snapshot_text.hpp"

#include <algorithm>
#include <charconv>
#include <vector>

namespace tenancy::core {
namespace {

std::optional<std::uint64_t> parse_xid(std::string_view text) {
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
    return value;
}

}  // namespace

std::optional<SnapshotParts> parse_snapshot(std::string_view snapshot) {
    std::size_t first = snapshot.find(':');
    if (first == std::string_view::npos) return std::nullopt;
    std::size_t second = snapshot.find(':', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    auto xmin = parse_xid(snapshot.substr(0, first));
    auto xmax = parse_xid(snapshot.substr(first + 1, second - first - 1));
    if (!xmin || !xmax || *xmin > *xmax) return std::nullopt;
    SnapshotParts parts{*xmin, *xmax, {}};
    std::string_view list = snapshot.substr(second + 1);
    while (!list.empty()) {
        std::size_t comma = list.find(',');
        auto item = parse_xid(list.substr(0, comma));
        if (!item || *item < *xmin || *item >= *xmax) return std::nullopt;
        parts.in_progress.push_back(*item);
        if (comma == std::string_view::npos) break;
        list.remove_prefix(comma + 1);
        if (list.empty()) return std::nullopt;  // trailing comma
    }
    std::sort(parts.in_progress.begin(), parts.in_progress.end());
    parts.in_progress.erase(std::unique(parts.in_progress.begin(), parts.in_progress.end()),
                            parts.in_progress.end());
    return parts;
}

std::optional<std::string> snapshot_with_in_progress(std::string_view snapshot, std::uint64_t xid) {
    auto parts = parse_snapshot(snapshot);
    if (!parts) return std::nullopt;
    if (xid >= parts->xmax || xid < parts->xmin) return std::string(snapshot);
    auto& in_progress = parts->in_progress;
    in_progress.insert(std::lower_bound(in_progress.begin(), in_progress.end(), xid), xid);
    in_progress.erase(std::unique(in_progress.begin(), in_progress.end()), in_progress.end());
    std::string out = std::to_string(parts->xmin) + ":" + std::to_string(parts->xmax) + ":";
    for (std::size_t i = 0; i < in_progress.size(); ++i) {
        if (i > 0) out.push_back(',');
        out += std::to_string(in_progress[i]);
    }
    return out;
}

}  // namespace tenancy::core
