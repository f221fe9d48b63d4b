// libFuzzer target: the setting text, UUID and snapshot parsers must never
// crash, and whatever they accept must round-trip to the same value (a
// snapshot: keep its invariants, and take a transaction in).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/snapshot_text.hpp"
#include "core/tenant_context.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto uuid = tenancy::core::Uuid::parse(text)) {
        auto again = tenancy::core::Uuid::parse(uuid->to_string());
        if (!again || *again != *uuid) std::abort();
    }

    auto decoded = tenancy::core::decode_context(text);
    if (decoded.valid && decoded.value) {
        if (tenancy::core::encode_context(*decoded.value) != text) std::abort();
    }
    if (auto parts = tenancy::core::parse_snapshot(text)) {
        if (parts->xmin > parts->xmax) std::abort();
        for (std::size_t i = 0; i < parts->in_progress.size(); ++i) {
            std::uint64_t xid = parts->in_progress[i];
            if (xid < parts->xmin || xid >= parts->xmax) std::abort();
            if (i > 0 && parts->in_progress[i - 1] >= xid) std::abort();
        }
        if (parts->xmin < parts->xmax) {
            std::uint64_t own = parts->xmin + size % (parts->xmax - parts->xmin);
            auto with_own = tenancy::core::snapshot_with_in_progress(text, own);
            auto reparsed = with_own ? tenancy::core::parse_snapshot(*with_own) : std::nullopt;
            if (!reparsed || reparsed->xmin != parts->xmin || reparsed->xmax != parts->xmax ||
                !std::binary_search(reparsed->in_progress.begin(), reparsed->in_progress.end(), own)) {
                std::abort();
            }
        }
    }
    return 0;
}
