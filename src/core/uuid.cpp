#include "core/uuid.hpp"

namespace tenancy::core {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

}  // namespace

std::optional<Uuid> Uuid::parse(std::string_view text) {
    bool braces = !text.empty() && text.front() == '{';
    if (braces) {
        if (text.size() < 2 || text.back() != '}') return std::nullopt;
        text = text.substr(1, text.size() - 2);
    }
    Uuid out;
    std::size_t digit = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        // uuid_in allows a hyphen only after a complete group of four digits,
        // never first, last or doubled.
        if (c == '-') {
            bool after_group = digit > 0 && digit % 4 == 0 && digit < 32;
            bool next_is_digit = i + 1 < text.size() && text[i + 1] != '-';
            if (!after_group || !next_is_digit) return std::nullopt;
            continue;
        }
        int v = hex_value(c);
        if (v < 0 || digit >= 32) return std::nullopt;
        if (digit % 2 == 0) {
            out.bytes[digit / 2] = static_cast<std::uint8_t>(v << 4);
        } else {
            out.bytes[digit / 2] |= static_cast<std::uint8_t>(v);
        }
        ++digit;
    }
    if (digit != 32) return std::nullopt;
    return out;
}

std::string Uuid::to_string() const {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string s;
    s.reserve(36);
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) s.push_back('-');
        s.push_back(kHex[bytes[i] >> 4]);
        s.push_back(kHex[bytes[i] & 0x0f]);
    }
    return s;
}

}  // namespace tenancy::core
