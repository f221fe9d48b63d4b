#include "pg/hmac.hpp"

#include <string>

#include "pg/error_barrier.hpp"

extern "C" {
#include "common/hmac.h"
}

namespace tenancy::pg {

Sha256Digest hmac_sha256(std::string_view key, std::string_view message) {
    Sha256Digest digest{};
    // C flow inside call(): the context is freed on every path, errors
    // (only out of memory) are reported after it is.
    const char* failure = call([&]() -> const char* {
        pg_hmac_ctx* context = pg_hmac_create(PG_SHA256);
        if (context == nullptr) return "out of memory";
        const char* error = nullptr;
        if (pg_hmac_init(context, reinterpret_cast<const uint8*>(key.data()), key.size()) < 0 ||
            pg_hmac_update(context, reinterpret_cast<const uint8*>(message.data()),
                           message.size()) < 0 ||
            pg_hmac_final(context, digest.data(), digest.size()) < 0) {
            error = pstrdup(pg_hmac_error(context));
        }
        pg_hmac_free(context);
        return error;
    });
    if (failure != nullptr) {
        throw Error(ERRCODE_INTERNAL_ERROR, std::string("could not compute HMAC-SHA256: ") + failure);
    }
    return digest;
}

}  // namespace tenancy::pg
