#include "pg/hmac.hpp"

#include <string>

#include "pg/error_barrier.hpp"

extern "C" {
#include "common/hmac.h"
}

namespace tenancy::pg {

std::string hmac_sha2(std::size_t digest_bytes, std::string_view key, std::string_view message) {
    pg_cryptohash_type hash = PG_SHA256;
    switch (digest_bytes) {
        case 32: hash = PG_SHA256; break;
        case 48: hash = PG_SHA384; break;
        case 64: hash = PG_SHA512; break;
        default:
            throw Error(ERRCODE_INTERNAL_ERROR,
                        "no SHA-2 HMAC has a digest of " + std::to_string(digest_bytes) + " bytes");
    }
    std::string digest(digest_bytes, '\0');
    // C flow inside call(): the context is freed on every path, errors
    // (only out of memory) are reported after it is.
    const char* failure = call([&]() -> const char* {
        pg_hmac_ctx* context = pg_hmac_create(hash);
        if (context == nullptr) return "out of memory";
        const char* error = nullptr;
        if (pg_hmac_init(context, reinterpret_cast<const uint8*>(key.data()), key.size()) < 0 ||
            pg_hmac_update(context, reinterpret_cast<const uint8*>(message.data()),
                           message.size()) < 0 ||
            pg_hmac_final(context, reinterpret_cast<uint8*>(digest.data()), digest.size()) < 0) {
            error = pstrdup(pg_hmac_error(context));
        }
        pg_hmac_free(context);
        return error;
    });
    if (failure != nullptr) {
        throw Error(ERRCODE_INTERNAL_ERROR, std::string("could not compute an HMAC: ") + failure);
    }
    return digest;
}

}  // namespace tenancy::pg
