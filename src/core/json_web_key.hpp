// Public keys published as JSON Web Keys (RFC 7517, a JWK Set: the
// "jwks_uri" of an identity provider's discovery document), converted to the
// PEM text tenancy.context_signing_keys holds. Identity providers (Auth0,
// Okta, Keycloak, Microsoft Entra, Cognito, Supabase) publish their token
// keys this way only; PEM is what OpenSSL reads and what a DBA can inspect.
//
// Pure C++17 with OpenSSL's libcrypto, no PostgreSQL header (src/core rule):
// the pg layer reads the JWK's members out of jsonb and hands them over.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/token_signature.hpp"

namespace tenancy::core {

// The members of a JWK read here, each present only when it is a JSON string.
struct JsonWebKey {
    std::optional<std::string> kty, kid, use, alg, crv, n, e, x, y;
    std::optional<std::vector<std::string>> key_ops;  // its string elements
    bool private_part = false;   // "d", "p", "q", "dp", "dq", "qi", "oth" or "k"
    std::string not_a_string;    // a member above that is present but no string
};

// What becomes of one JWK.
struct JwkImport {
    enum class Outcome {
        key,      // a key that verifies context tokens: key_id, algorithm, pem
        other,    // a key for something else (encryption, another algorithm or key
                  // type): not one for context tokens, reason says what it is for
        refused,  // a key that claims to serve but cannot: reason says why
        secret,   // a private or secret key, never to be published
    };
    Outcome outcome = Outcome::refused;
    std::string key_id;   // "kid", or the RFC 7638 thumbprint when there is none (or
                          // the kid is no key_id the table takes)
    SigningAlgorithm algorithm = SigningAlgorithm::rs256;
    std::string pem;      // SubjectPublicKeyInfo, "-----BEGIN PUBLIC KEY-----"
    std::string reason;
};

// The algorithm comes from "alg", or else from the key type and curve (RSA:
// RS256; EC on P-256: ES256, on P-384: ES384, on P-521: ES512; OKP on
// Ed25519 or Ed448: EdDSA). "use" other than "sig", "key_ops" without "verify", an "alg" of no
// public-key algorithm accepted, other key types and curves give
// Outcome::other; malformed or missing members, and keys public_key_problem()
// refuses (RSA under 2048 bits, a point not on the curve) are refused; a
// private or secret key is Outcome::secret.
JwkImport import_json_web_key(const JsonWebKey& jwk);

// RFC 7638: the base64url SHA-256 of the key's required members in
// canonical JSON (RFC 8037 §2 for OKP keys); "" for another key type or
// curve, or a member missing.
std::string jwk_thumbprint(const JsonWebKey& jwk);

}  // namespace tenancy::core
