// Public-key signatures of context tokens (JWS RS256 and ES256, RFC 7518
// §3.3 and §3.4), verified with OpenSSL's libcrypto, which PostgreSQL itself
// links. HS256 is PostgreSQL's own HMAC (src/pg/hmac.cpp).
//
// No PostgreSQL header (src/core rule). Every function leaves OpenSSL's
// per-thread error queue empty: PostgreSQL's SSL code reads that queue after
// its own calls, and an error left in it would be taken for theirs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tenancy::core {

enum class SigningAlgorithm { hs256, rs256, es256 };

// "HS256", "RS256", "ES256" (exactly, as JWS writes them), or nullopt.
std::optional<SigningAlgorithm> parse_signing_algorithm(std::string_view name);
const char* to_string(SigningAlgorithm algorithm);

// Why `pem` cannot verify tokens of `algorithm`, or "" when it can: one PEM
// block and nothing else, a public key ("BEGIN PUBLIC KEY", or PKCS #1 "BEGIN
// RSA PUBLIC KEY") or a certificate's ("BEGIN CERTIFICATE"), that passes
// OpenSSL's public key checks; for RS256 an RSA key of 2048 to 16384 bits
// with an exponent from 65537 to 32 bits, for ES256 an EC key on P-256. HS256
// has no public key.
std::string public_key_problem(SigningAlgorithm algorithm, std::string_view pem);

// Whether `signature` (as JWS writes it: PKCS #1 v1.5 for RS256, the 64
// bytes R || S for ES256) signs `signing_input` under the public key `pem`.
// False for a key that public_key_problem() refuses.
bool verify_public_key_signature(SigningAlgorithm algorithm, std::string_view pem,
                                 std::string_view signing_input, std::string_view signature);

}  // namespace tenancy::core
