#include "core/context_token.hpp"

#include <array>
#include <charconv>
#include <cmath>
#include <cstdint>

namespace tenancy::core {
namespace {

constexpr const char* kBase64urlAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// 0–63 for the base64url alphabet, -1 for anything else.
constexpr std::array<std::int8_t, 256> make_base64url_table() {
    std::array<std::int8_t, 256> table{};
    for (auto& entry : table) entry = -1;
    for (int i = 0; i < 64; ++i) {
        table[static_cast<unsigned char>(kBase64urlAlphabet[i])] = static_cast<std::int8_t>(i);
    }
    return table;
}
constexpr auto kBase64url = make_base64url_table();

}  // namespace

std::string base64url_encode(std::string_view bytes) {
    std::string out;
    out.reserve((bytes.size() * 4 + 2) / 3);
    unsigned bits = 0;
    int pending = 0;  // bits not yet written
    for (unsigned char byte : bytes) {
        bits = (bits << 8) | byte;
        pending += 8;
        while (pending >= 6) {
            out += kBase64urlAlphabet[(bits >> (pending - 6)) & 63];
            pending -= 6;
        }
    }
    if (pending > 0) out += kBase64urlAlphabet[(bits << (6 - pending)) & 63];
    return out;
}

std::optional<std::string> base64url_decode(std::string_view text) {
    if (text.size() % 4 == 1) return std::nullopt;  // no encoding ends with 6 bits
    std::string out;
    out.reserve(text.size() / 4 * 3 + 2);
    std::uint32_t bits = 0;
    int bit_count = 0;
    for (char c : text) {
        std::int8_t value = kBase64url[static_cast<unsigned char>(c)];
        if (value < 0) return std::nullopt;
        bits = (bits << 6) | static_cast<std::uint32_t>(value);
        bit_count += 6;
        if (bit_count >= 8) {
            bit_count -= 8;
            out.push_back(static_cast<char>((bits >> bit_count) & 0xFF));
        }
    }
    if ((bits & ((1u << bit_count) - 1)) != 0) return std::nullopt;  // not canonical
    return out;
}

std::string escape_non_ascii_escapes(std::string_view json) {
    auto is_hex = [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    std::string out;
    out.reserve(json.size());
    for (std::size_t i = 0; i < json.size(); ++i) {
        char c = json[i];
        if (c != '\\' || i + 1 >= json.size()) {
            out.push_back(c);
            continue;
        }
        char next = json[i + 1];
        bool non_ascii_escape = next == 'u' && i + 5 < json.size() && is_hex(json[i + 2]) &&
                                is_hex(json[i + 3]) && is_hex(json[i + 4]) && is_hex(json[i + 5]) &&
                                !(json[i + 2] == '0' && json[i + 3] == '0' &&
                                  json[i + 4] >= '0' && json[i + 4] <= '7');
        out.push_back('\\');
        if (non_ascii_escape) out.push_back('\\');  // the escape becomes text
        out.push_back(next);
        ++i;
    }
    return out;
}

std::optional<TokenSegments> split_context_token(std::string_view token, std::string& problem) {
    if (token.size() > kMaxContextTokenBytes) {
        problem = "The token is longer than " + std::to_string(kMaxContextTokenBytes) + " bytes.";
        return std::nullopt;
    }
    std::size_t first_dot = token.find('.');
    std::size_t second_dot = first_dot == std::string_view::npos ? first_dot : token.find('.', first_dot + 1);
    if (second_dot == std::string_view::npos || token.find('.', second_dot + 1) != std::string_view::npos) {
        problem = "A token has three base64url segments separated by dots.";
        return std::nullopt;
    }
    std::string_view parts[3] = {token.substr(0, first_dot),
                                 token.substr(first_dot + 1, second_dot - first_dot - 1),
                                 token.substr(second_dot + 1)};
    const char* names[3] = {"header", "payload", "signature"};
    std::string decoded[3];
    for (int i = 0; i < 3; ++i) {
        // An empty signature is an unsecured JWS's (RFC 7515 §A.5, "alg":
        // "none"): split, so that the header's algorithm is what is refused.
        auto bytes = base64url_decode(parts[i]);
        if (!bytes || (bytes->empty() && i < 2)) {
            problem = std::string("The token's ") + names[i] + " is not base64url (unpadded).";
            return std::nullopt;
        }
        decoded[i] = std::move(*bytes);
    }
    for (int i = 0; i < 2; ++i) {
        // The JSON parser takes C strings.
        if (decoded[i].find('\0') != std::string::npos) {
            problem = std::string("The token's ") + names[i] + " holds a zero byte.";
            return std::nullopt;
        }
    }
    return TokenSegments{token.substr(0, second_dot), std::move(decoded[0]), std::move(decoded[1]),
                         std::move(decoded[2])};
}

bool equal_in_constant_time(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    unsigned char difference = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
        difference |= static_cast<unsigned char>(a[i] ^ b[i]);
    }
    return difference == 0;
}

std::optional<double> parse_json_number(std::string_view text) {
    double value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
        return std::nullopt;
    }
    return value;
}

std::optional<SigningAlgorithm> header_algorithm(const ContextTokenClaims& header) {
    if (!header.alg || header.alg->kind != JsonClaim::Kind::string || header.crit) return std::nullopt;
    return parse_signing_algorithm(header.alg->text);
}

namespace {

bool names_audience(const JsonClaim& aud, const std::string& audience) {
    if (aud.kind == JsonClaim::Kind::string) return aud.text == audience;
    // RFC 7519 §4.1.3: an array of strings (one of anything else is refused).
    if (aud.kind != JsonClaim::Kind::array || !aud.strings_only) return false;
    for (const auto& element : aud.elements) {
        if (element == audience) return true;
    }
    return false;
}

}  // namespace

ClaimsCheck check_context_claims(const ContextTokenClaims& payload, double now,
                                 const ClaimExpectations& expected) {
    ClaimsCheck check;
    auto time_of = [](const std::optional<JsonClaim>& claim) -> std::optional<double> {
        if (!claim || claim->kind != JsonClaim::Kind::number) return std::nullopt;
        return parse_json_number(claim->text);
    };
    if (!payload.sub || payload.sub->kind != JsonClaim::Kind::string) {
        check.verdict = TokenVerdict::bad_subject;
        return check;
    }
    auto user_id = Uuid::parse(payload.sub->text);
    if (!user_id) {
        check.verdict = TokenVerdict::bad_subject;
        return check;
    }
    check.user_id = *user_id;
    // A token the key's issuer made for another application (an identity
    // provider signs for all of them with one key) is not one for this.
    if (expected.issuer && !(payload.iss && payload.iss->kind == JsonClaim::Kind::string &&
                             payload.iss->text == *expected.issuer)) {
        check.verdict = TokenVerdict::wrong_issuer;
        return check;
    }
    if (expected.audience && !(payload.aud && names_audience(*payload.aud, *expected.audience))) {
        check.verdict = TokenVerdict::wrong_audience;
        return check;
    }
    if (!payload.exp) {
        check.verdict = TokenVerdict::no_expiry;
        return check;
    }
    auto expires_at = time_of(payload.exp);
    auto not_before = payload.nbf ? time_of(payload.nbf) : std::optional<double>(now);
    if (!expires_at || !not_before) {
        check.verdict = TokenVerdict::bad_time;
        return check;
    }
    check.expires_at = *expires_at;
    check.not_before = *not_before;
    // RFC 7519 §4.1.4: valid while now is before exp; §4.1.5: from nbf on.
    if (now >= *expires_at) {
        check.verdict = TokenVerdict::expired;
    } else if (now < *not_before) {
        check.verdict = TokenVerdict::not_yet_valid;
    } else {
        check.verdict = TokenVerdict::valid;
    }
    return check;
}

}  // namespace tenancy::core
