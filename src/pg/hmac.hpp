// HMAC-SHA256 through PostgreSQL's own implementation (common/hmac.h: OpenSSL
// in Debian's build), as SCRAM authentication uses it.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

namespace tenancy::pg {

using Sha256Digest = std::array<std::uint8_t, 32>;

// HMAC-SHA256 of message under key. Throws PgError or Error (XX000) if the
// implementation fails (out of memory).
Sha256Digest hmac_sha256(std::string_view key, std::string_view message);

}  // namespace tenancy::pg
