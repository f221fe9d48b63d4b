// A 128-bit UUID as a value type: parsed from and formatted to PostgreSQL's
// canonical text form. Pure C++17, no PostgreSQL header (src/core rule).
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tenancy::core {

struct Uuid {
    std::array<std::uint8_t, 16> bytes{};

    // Accepts the forms PostgreSQL's uuid_in accepts: 32 hex digits, optionally
    // in braces, optionally with a hyphen after any group of four digits.
    static std::optional<Uuid> parse(std::string_view text);

    // Canonical lowercase 8-4-4-4-12 form, as uuid_out prints it.
    std::string to_string() const;

    friend bool operator==(const Uuid& a, const Uuid& b) { return a.bytes == b.bytes; }
    friend bool operator!=(const Uuid& a, const Uuid& b) { return !(a == b); }
};

}  // namespace tenancy::core
