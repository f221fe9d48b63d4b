#include "core/token_signature.hpp"

#include <memory>
#include <unordered_map>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

namespace tenancy::core {
namespace {

constexpr int kMinRsaBits = 2048;
// OpenSSL verifies with moduli up to 16384 bits; a larger key verifies nothing.
constexpr int kMaxRsaBits = 16384;
// Public exponents are 65537 in practice (and at least that for NIST, SP
// 800-56B); a small one invites sloppy-verifier forgeries elsewhere, a huge
// one makes each check slow.
constexpr int kMinRsaExponentBits = 17;
constexpr int kMaxRsaExponentBits = 32;
constexpr std::size_t kEs256SignatureBytes = 64;
constexpr std::size_t kMaxPemBytes = 64 * 1024;

struct ErrorQueueCleaner {
    ~ErrorQueueCleaner() { ERR_clear_error(); }
};

struct KeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;

// A decoded key, or why the text gives none.
struct Decoded {
    Key key;
    std::string problem;
};

std::string_view trimmed(std::string_view text) {
    const char* space = " \t\r\n";
    std::size_t first = text.find_first_not_of(space);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

// The label of the one PEM block the text is ("PUBLIC KEY" of
// "-----BEGIN PUBLIC KEY-----"), or "" when it is not exactly one block with
// only white space around it (OpenSSL would take the first usable block and
// ignore the rest: a private key before it, garbage after it).
std::string single_pem_label(std::string_view text) {
    constexpr std::string_view begin = "-----BEGIN ", end = "-----END ", dashes = "-----";
    std::string_view pem = trimmed(text);
    if (pem.substr(0, begin.size()) != begin) return "";
    std::size_t label_end = pem.find(dashes, begin.size());
    if (label_end == std::string_view::npos) return "";
    std::string label(pem.substr(begin.size(), label_end - begin.size()));
    std::string closing = std::string(end) + label + std::string(dashes);
    if (pem.size() < closing.size() || pem.substr(pem.size() - closing.size()) != closing) return "";
    if (pem.find(begin, 1) != std::string_view::npos ||
        pem.find(end) != pem.size() - closing.size()) {
        return "";
    }
    return label;
}

// A public key from PEM: SubjectPublicKeyInfo ("PUBLIC KEY"), PKCS #1
// ("RSA PUBLIC KEY"), or the key of a certificate ("CERTIFICATE", as Auth0
// and Firebase publish theirs: only its key is used, not its dates or
// issuer), checked by OpenSSL (a point on the curve, a sound RSA modulus and
// exponent).
Decoded decode_public_key(std::string_view pem) {
    if (pem.size() > kMaxPemBytes) return {nullptr, "longer than 64 kB"};
    std::string label = single_pem_label(pem);
    bool certificate = label == "CERTIFICATE";
    if (label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" && !certificate) {
        return {nullptr, "not one public key or certificate in PEM, with nothing else"};
    }
    std::string_view block = trimmed(pem);  // PEM's BEGIN line starts its line
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(block.data(), static_cast<int>(block.size())), BIO_free);
    if (!bio) return {nullptr, "out of memory"};
    Key key;
    if (certificate) {
        std::unique_ptr<X509, decltype(&X509_free)> x509(
            PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), X509_free);
        if (x509) key.reset(X509_get_pubkey(x509.get()));
    } else {
        key.reset(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
    }
    if (!key) return {nullptr, "not a public key OpenSSL can read"};
    if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA) {
        if (EVP_PKEY_get_bits(key.get()) > kMaxRsaBits) return {nullptr, "an RSA key of more than 16384 bits"};
        BIGNUM* exponent = nullptr;
        bool exponent_unsound =
            EVP_PKEY_get_bn_param(key.get(), OSSL_PKEY_PARAM_RSA_E, &exponent) != 1 ||
            BN_num_bits(exponent) < kMinRsaExponentBits || BN_num_bits(exponent) > kMaxRsaExponentBits;
        BN_free(exponent);
        if (exponent_unsound) {
            return {nullptr, "an RSA public exponent below 65537 or of more than 32 bits"};
        }
    }
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> check(
        EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr), EVP_PKEY_CTX_free);
    if (!check || EVP_PKEY_public_check(check.get()) != 1) {
        return {nullptr, "a public key that fails OpenSSL's checks (an EC point not on the curve "
                         "or at infinity, an even RSA exponent)"};
    }
    return {std::move(key), ""};
}

// Keys decoded before, by their PEM text, for the life of the process:
// OpenSSL 3 takes about 0.3 ms to decode (and check) a PEM key, ten times
// what verifying a signature takes. A key changed in the table is other
// text, so a new entry; past kCachedKeys entries one goes for each new one.
constexpr std::size_t kCachedKeys = 256;

EVP_PKEY* cached_public_key(std::string_view pem) {
    static std::unordered_map<std::string, Key> decoded_keys;
    auto found = decoded_keys.find(std::string(pem));
    if (found != decoded_keys.end()) return found->second.get();
    Decoded decoded = decode_public_key(pem);
    if (!decoded.key) return nullptr;
    if (decoded_keys.size() >= kCachedKeys) decoded_keys.erase(decoded_keys.begin());
    return decoded_keys.emplace(std::string(pem), std::move(decoded.key)).first->second.get();
}

// Why a decoded key cannot verify tokens of an algorithm, or "".
std::string algorithm_problem(SigningAlgorithm algorithm, EVP_PKEY* key) {
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
    Decoded decoded = decode_public_key(pem);
    if (!decoded.key) return decoded.problem;
    return algorithm_problem(algorithm, decoded.key.get());
}

bool verify_public_key_signature(SigningAlgorithm algorithm, std::string_view pem,
                                 std::string_view signing_input, std::string_view signature) {
    ErrorQueueCleaner cleaner;
    EVP_PKEY* key = cached_public_key(pem);
    if (key == nullptr || !algorithm_problem(algorithm, key).empty()) return false;
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
