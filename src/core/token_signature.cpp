#include "core/token_signature.hpp"

#include <memory>
#include <unordered_map>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace tenancy::core {
namespace {

constexpr int kMinRsaBits = 2048;
constexpr std::size_t kEs256SignatureBytes = 64;

struct ErrorQueueCleaner {
    ~ErrorQueueCleaner() { ERR_clear_error(); }
};

struct KeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;

Key read_public_key(std::string_view pem) {
    if (pem.size() > 64 * 1024) return nullptr;
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    if (!bio) return nullptr;
    return Key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
}

// Keys parsed before, by their PEM text, for the life of the process:
// OpenSSL 3 takes about 0.3 ms to decode a PEM key, ten times what verifying
// a signature takes. A key changed in the table is other text, so a new
// entry; the map is emptied when it holds kCachedKeys (keys are few).
constexpr std::size_t kCachedKeys = 64;

EVP_PKEY* cached_public_key(std::string_view pem) {
    static std::unordered_map<std::string, Key> parsed;
    auto found = parsed.find(std::string(pem));
    if (found != parsed.end()) return found->second.get();
    Key key = read_public_key(pem);
    if (!key) return nullptr;
    if (parsed.size() >= kCachedKeys) parsed.clear();
    return parsed.emplace(std::string(pem), std::move(key)).first->second.get();
}

std::string key_problem(SigningAlgorithm algorithm, EVP_PKEY* key) {
    if (key == nullptr) return "not a public key in PEM (-----BEGIN PUBLIC KEY-----)";
    switch (algorithm) {
        case SigningAlgorithm::hs256:
            return "HS256 keys are secrets, not public keys";
        case SigningAlgorithm::rs256:
            if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) return "RS256 needs an RSA key";
            if (EVP_PKEY_get_bits(key) < kMinRsaBits) return "RS256 needs an RSA key of 2048 bits or more";
            return "";
        case SigningAlgorithm::es256: {
            if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return "ES256 needs an EC key";
            char group[64] = {0};
            size_t length = 0;
            if (EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1 ||
                std::string_view(group, length) != "prime256v1") {
                return "ES256 needs an EC key on the curve P-256 (prime256v1)";
            }
            return "";
        }
    }
    return "unknown algorithm";
}

// ES256's R || S as the DER ECDSA-Sig-Value OpenSSL verifies.
std::optional<std::vector<unsigned char>> es256_der(std::string_view signature) {
    if (signature.size() != kEs256SignatureBytes) return std::nullopt;
    const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
    if (!sig) return std::nullopt;
    BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
    BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
    if (r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
        BN_free(r);
        BN_free(s);
        return std::nullopt;
    }
    unsigned char* der = nullptr;
    int length = i2d_ECDSA_SIG(sig.get(), &der);
    if (length <= 0) return std::nullopt;
    std::vector<unsigned char> out(der, der + length);
    OPENSSL_free(der);
    return out;
}

}  // namespace

std::optional<SigningAlgorithm> parse_signing_algorithm(std::string_view name) {
    if (name == "HS256") return SigningAlgorithm::hs256;
    if (name == "RS256") return SigningAlgorithm::rs256;
    if (name == "ES256") return SigningAlgorithm::es256;
    return std::nullopt;
}

const char* to_string(SigningAlgorithm algorithm) {
    switch (algorithm) {
        case SigningAlgorithm::hs256: return "HS256";
        case SigningAlgorithm::rs256: return "RS256";
        case SigningAlgorithm::es256: return "ES256";
    }
    return "?";
}

std::string public_key_problem(SigningAlgorithm algorithm, std::string_view pem) {
    ErrorQueueCleaner cleaner;
    Key key = read_public_key(pem);
    return key_problem(algorithm, key.get());
}

bool verify_public_key_signature(SigningAlgorithm algorithm, std::string_view pem,
                                 std::string_view signing_input, std::string_view signature) {
    ErrorQueueCleaner cleaner;
    EVP_PKEY* key = cached_public_key(pem);
    if (!key_problem(algorithm, key).empty()) return false;
    std::vector<unsigned char> der;
    std::string_view to_verify = signature;
    if (algorithm == SigningAlgorithm::es256) {
        auto converted = es256_der(signature);
        if (!converted) return false;
        der = std::move(*converted);
        to_verify = std::string_view(reinterpret_cast<const char*>(der.data()), der.size());
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
    if (!context ||
        EVP_DigestVerifyInit(context.get(), nullptr, EVP_sha256(), nullptr, key) != 1) {
        return false;
    }
    return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(to_verify.data()),
                            to_verify.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()),
                            signing_input.size()) == 1;
}

}  // namespace tenancy::core
