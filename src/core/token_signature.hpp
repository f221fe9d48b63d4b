// Signatures of context tokens: every JWS algorithm of RFC 7518 §3 (HS256,
// HS384, HS512; RS256, RS384, RS512; PS256, PS384, PS512; ES256, ES384,
// ES512) and EdDSA (RFC 8037). Public-key ones are verified here with
// OpenSSL's libcrypto, which PostgreSQL itself links; the HMAC ones by
// PostgreSQL's own HMAC (src/pg/hmac.cpp), with what this file says of them.
//
// No PostgreSQL header (src/core rule). Every function leaves OpenSSL's
// per-thread error queue empty: PostgreSQL's SSL code reads that queue after
// its own calls, and an error left in it would be taken for theirs.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace tenancy::core {

// Ed25519 and Ed448 are RFC 9864's fully specified names of EdDSA on one
// curve: a token may name them, and EdDSA's keys (of that curve) verify it.
enum class SigningAlgorithm {
    hs256, hs384, hs512, rs256, rs384, rs512, ps256, ps384, ps512, es256, es384, es512,
    eddsa, ed25519, ed448
};

// "HS256", …, "ES512", "EdDSA", "Ed25519", "Ed448" (exactly, as JWS writes
// them), or nullopt.
std::optional<SigningAlgorithm> parse_signing_algorithm(std::string_view name);
const char* to_string(SigningAlgorithm algorithm);

// The algorithm of the keys that verify it: itself, or EdDSA for Ed25519
// and Ed448 (tenancy.context_signing_keys holds their keys as EdDSA keys).
SigningAlgorithm key_algorithm(SigningAlgorithm algorithm);

// HS256, HS384 and HS512: a shared secret, not a public key, verifies them.
bool is_hmac(SigningAlgorithm algorithm);
// The size of an HMAC algorithm's digest (32, 48 or 64 bytes): its
// signature's size, and the least its secret may hold (RFC 7518 §3.2).
// 0 for a public-key algorithm.
std::size_t hmac_bytes(SigningAlgorithm algorithm);

// The names above as a message lists them: "HS256, HS384, … or Ed448"; the
// public-key ones only: "RS256, RS384, … or Ed448".
std::string signing_algorithm_list();
std::string public_key_algorithm_list();
// The public-key algorithms tenancy.context_signing_keys holds keys of:
// "RS256, RS384, …, ES512 or EdDSA".
std::string key_row_algorithm_list();

// Empties OpenSSL's per-thread error queue when it goes out of scope (on
// every path out of a function that calls OpenSSL).
struct OpenSslErrorQueueCleaner {
    OpenSslErrorQueueCleaner() = default;
    OpenSslErrorQueueCleaner(const OpenSslErrorQueueCleaner&) = delete;
    OpenSslErrorQueueCleaner& operator=(const OpenSslErrorQueueCleaner&) = delete;
    ~OpenSslErrorQueueCleaner();
};

// Why `pem` cannot verify tokens of `algorithm`, or "" when it can: one PEM
// block and nothing else, a public key ("BEGIN PUBLIC KEY", or PKCS #1 "BEGIN
// RSA PUBLIC KEY") or a certificate's ("BEGIN CERTIFICATE"), that passes
// OpenSSL's public key checks; for RS* and PS* an RSA key of 2048 to 16384
// bits with an exponent from 65537 to 32 bits, for ES256 an EC key on P-256,
// for ES384 one on P-384, for ES512 one on P-521, for EdDSA an Ed25519 or
// Ed448 key (for Ed25519 and Ed448 one of that curve): a point of its curve,
// not of small order, in its canonical encoding. HS* have no public key.
std::string public_key_problem(SigningAlgorithm algorithm, std::string_view pem);

// Why `secret` must not be an HMAC secret (HS256, HS384, HS512), if it must
// not: it is a public key or a certificate, in another form than PEM (a
// "-----BEGIN" the table's CHECK context_signing_keys_secret_not_pem
// refuses): its DER bytes, that DER in base64 (a PEM block's body without its
// lines, as Keycloak's console shows a realm's public key) or in hex, the
// whole PEM text in base64 (as a Kubernetes secret holds it), or a JSON Web
// Key. Everyone may hold a public key: with it as the secret, anyone signs
// HS256 tokens the key takes, for any user (the "alg" confusion, by a key
// row's mistake: found by the JWT review of 1.25). An HMAC key's own JWK
// ("kty": "oct") is no public key, but its text is not its secret either.
// Raw key bytes (a JWK's "n", "x" or "y" alone, an Ed25519 key's 32 bytes)
// look like any random secret and are taken.
struct HmacSecretProblem {
    enum class Kind { none, public_key, symmetric_jwk };
    Kind kind = Kind::none;
    std::string reason;  // "it is …", empty for none
};
HmacSecretProblem hmac_secret_problem(std::string_view secret);

// Whether `signature` (as JWS writes it: PKCS #1 v1.5 for RS*, PSS with MGF1
// over the same digest and a salt of the digest's size for PS*, R || S of
// the curve's size for ES*, RFC 8032's signature for EdDSA) signs
// `signing_input` under the public key `pem`. False for a key that
// public_key_problem() refuses, and for an HMAC algorithm.
bool verify_public_key_signature(SigningAlgorithm algorithm, std::string_view pem,
                                 std::string_view signing_input, std::string_view signature);

}  // namespace tenancy::core
