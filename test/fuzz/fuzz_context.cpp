// libFuzzer target: the setting text and UUID parsers must never crash, and
// whatever they accept must round-trip to the same value.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

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
    return 0;
}
