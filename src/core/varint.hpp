// Little helpers for the compact binary forms of the sketches: unsigned LEB128
// varints and zigzag signed integers. Reading never trusts its input.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace tenancy::core {

inline void put_varint(std::string& out, std::uint64_t value) {
    while (value >= 0x80) {
        out.push_back(static_cast<char>((value & 0x7f) | 0x80));
        value >>= 7;
    }
    out.push_back(static_cast<char>(value));
}

inline std::uint64_t zigzag(std::int64_t value) {
    return (static_cast<std::uint64_t>(value) << 1) ^ static_cast<std::uint64_t>(value >> 63);
}

inline std::int64_t unzigzag(std::uint64_t value) {
    return static_cast<std::int64_t>(value >> 1) ^ -static_cast<std::int64_t>(value & 1);
}

// Reads from the front of a byte string; every read reports failure instead
// of running past the end.
class ByteReader {
public:
    explicit ByteReader(std::string_view bytes) : bytes_(bytes) {}

    std::optional<std::uint64_t> varint() {
        std::uint64_t value = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (pos_ >= bytes_.size()) return std::nullopt;
            auto byte = static_cast<std::uint8_t>(bytes_[pos_++]);
            if (shift == 63 && byte > 1) return std::nullopt;  // overflows 64 bits
            if (shift > 0 && byte == 0) return std::nullopt;   // not minimal: one value, one form
            value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
            if ((byte & 0x80) == 0) return value;
        }
        return std::nullopt;
    }

    std::optional<std::uint8_t> byte() {
        if (pos_ >= bytes_.size()) return std::nullopt;
        return static_cast<std::uint8_t>(bytes_[pos_++]);
    }

    std::optional<std::string_view> take(std::size_t n) {
        if (bytes_.size() - pos_ < n) return std::nullopt;
        std::string_view out = bytes_.substr(pos_, n);
        pos_ += n;
        return out;
    }

    bool at_end() const { return pos_ == bytes_.size(); }
    std::size_t remaining() const { return bytes_.size() - pos_; }

private:
    std::string_view bytes_;
    std::size_t pos_ = 0;
};

}  // namespace tenancy::core
