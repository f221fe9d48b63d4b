// A signed tenant context token: a JSON Web Token (RFC 7519) in compact form
// ("header.payload.signature", base64url without padding), signed (JWS,
// RFC 7515) with HMAC ("HS256", "HS384", "HS512"), RSA ("RS256", …, "PS512"),
// ECDSA ("ES256", "ES384", "ES512") or EdDSA. What identity providers issue,
// or a backend mints for itself.
//
// Pure C++17, no PostgreSQL header (src/core rule): this part splits and
// decodes the token and judges its claims. The pg layer computes the HMAC and
// parses the JSON with PostgreSQL's own parser, and hands over what it found.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/token_signature.hpp"
#include "core/uuid.hpp"

namespace tenancy::core {

// Longer tokens are refused before any work: an identity provider's token
// with its usual claims is well under 2 kB.
constexpr std::size_t kMaxContextTokenBytes = 8192;

// Decodes base64url (RFC 4648 §5) without padding, as JWS writes it; nullopt
// for any other character, for '=', for a length no encoding produces, and
// for unused low bits that are not zero (so each byte string has one
// encoding: a signature cannot be written four ways).
std::optional<std::string> base64url_decode(std::string_view text);

// Encodes as base64url without padding, the one encoding base64url_decode takes.
std::string base64url_encode(std::string_view bytes);

// The JSON text with each \u escape of a character beyond ASCII written as
// the escape's own six characters (a backslash escaped, so the parser reads
// "\\u00e9" back as the text \u00e9): PostgreSQL's parser converts such
// escapes to the database's encoding, and fails in one that lacks the
// character (LATIN1, SQL_ASCII) although the claims read here are ASCII.
// Only ASCII names and values keep their meaning: the ones read here, and
// "s\u0075b" is still "sub". A non-ASCII name may then equal a written-out
// one ("a\u00e9" and "a\\u00e9": refused as a claim named twice) or differ
// from its raw UTF-8 spelling, and a lone surrogate becomes text; none of
// them is a claim read here. Backslashes appear only in strings in JSON, so
// pairs are read in order: "\\u00e9" is left as it is.
std::string escape_non_ascii_escapes(std::string_view json);

// A token cut at its two dots, its segments decoded.
struct TokenSegments {
    std::string_view signing_input;  // "header.payload", what the signature covers
    std::string header_json;
    std::string payload_json;
    std::string signature;  // raw bytes
};

// The segments, or nullopt with `problem` saying what is wrong (for the
// error's detail: never the token itself).
std::optional<TokenSegments> split_context_token(std::string_view token, std::string& problem);

// Compares in time that depends on the lengths only, not on where the bytes
// first differ: the signature check must not tell how much of a forged
// signature was right.
bool equal_in_constant_time(std::string_view a, std::string_view b);

// A top-level member of a token's JSON object, as the JSON parser found it.
struct JsonClaim {
    enum class Kind { string, number, array, other };
    Kind kind = Kind::other;
    std::string text;  // the string's value (unescaped), or the number as written
    // An array's string elements, in order; strings_only: it has no other.
    std::vector<std::string> elements;
    bool strings_only = true;
};

// The claims pg_tenancy reads; the others are ignored.
struct ContextTokenClaims {
    std::optional<JsonClaim> alg;   // header
    std::optional<JsonClaim> crit;  // header: extensions the reader must understand
    std::optional<JsonClaim> kid;   // header: the key's id, which key to try first
    std::optional<JsonClaim> sub;  // payload: the user id
    std::optional<JsonClaim> exp;  // payload: expiry, seconds since 1970 (required)
    std::optional<JsonClaim> nbf;  // payload: not before (optional)
    std::optional<JsonClaim> iss;  // payload: issuer
    std::optional<JsonClaim> aud;  // payload: audience, a string or an array of them
};

// What a key asks of the tokens it verifies, beyond its signature: the
// issuer ("iss") and an audience ("aud", one of them when it is an array).
struct ClaimExpectations {
    std::optional<std::string> issuer;
    std::optional<std::string> audience;
};

enum class TokenVerdict {
    valid,
    bad_subject,    // sub missing or not a UUID in a JSON string
    no_expiry,      // exp missing
    bad_time,       // exp or nbf not a finite JSON number
    expired,        // now >= exp
    not_yet_valid,  // now < nbf
    wrong_issuer,   // iss is not the key's issuer
    wrong_audience, // aud does not name the key's audience
};

struct ClaimsCheck {
    TokenVerdict verdict = TokenVerdict::bad_subject;
    Uuid user_id;          // when valid
    double expires_at = 0;  // exp, when it was a number
    double not_before = 0;  // nbf, when it was a number
};

// The algorithm the header names, if it is one accepted (those of
// token_signature.hpp: "none" and any other name are refused before the
// signature is looked at) and the header asks for no extension ("crit", RFC
// 7515 §4.1.11: none is understood here); nullopt otherwise.
std::optional<SigningAlgorithm> header_algorithm(const ContextTokenClaims& header);

// Judges the payload's claims at `now` (seconds since 1970, UTC), against
// what the key that verified it expects.
ClaimsCheck check_context_claims(const ContextTokenClaims& payload, double now,
                                 const ClaimExpectations& expected = {});

// A JSON number's value if it is finite; nullopt otherwise.
std::optional<double> parse_json_number(std::string_view text);

}  // namespace tenancy::core
