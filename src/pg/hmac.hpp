// HMAC-SHA256, -SHA384 and -SHA512 through PostgreSQL's own implementation
// (common/hmac.h: OpenSSL in Debian's build), as SCRAM authentication uses it.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace tenancy::pg {

// HMAC of message under key with the SHA-2 hash whose digest has
// digest_bytes (32: SHA-256, 48: SHA-384, 64: SHA-512). Throws PgError or
// Error (XX000) for another size or if the implementation fails (out of
// memory).
std::string hmac_sha2(std::size_t digest_bytes, std::string_view key, std::string_view message);

}  // namespace tenancy::pg
