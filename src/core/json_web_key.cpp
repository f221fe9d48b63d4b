#include "core/json_web_key.hpp"

#include <algorithm>
#include <memory>
#include <string_view>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include "core/context_token.hpp"
#include "core/tenant_context.hpp"

namespace tenancy::core {
namespace {

// The curves of the keys read here, by their JWK "crv" (RFC 7518 §6.2.1.1,
// RFC 8037 §2), with what OpenSSL calls them and the algorithm of a key
// that names none.
struct Curve {
    const char* crv;
    const char* kty;
    const char* openssl_name;  // EC: the group; OKP: the key type
    std::size_t bytes;         // EC: each coordinate's size; OKP: the key's
    SigningAlgorithm algorithm;
};

constexpr Curve kCurves[] = {
    {"P-256", "EC", "prime256v1", 32, SigningAlgorithm::es256},
    {"P-384", "EC", "secp384r1", 48, SigningAlgorithm::es384},
    {"P-521", "EC", "secp521r1", 66, SigningAlgorithm::es512},
    {"Ed25519", "OKP", "ED25519", 32, SigningAlgorithm::eddsa},
    {"Ed448", "OKP", "ED448", 57, SigningAlgorithm::eddsa},
};

const Curve* curve_of(const JsonWebKey& jwk) {
    for (const auto& curve : kCurves) {
        if (jwk.kty == curve.kty && jwk.crv == curve.crv) return &curve;
    }
    return nullptr;
}

using ParamBuilder = std::unique_ptr<OSSL_PARAM_BLD, decltype(&OSSL_PARAM_BLD_free)>;
using Params = std::unique_ptr<OSSL_PARAM, decltype(&OSSL_PARAM_free)>;
using Number = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

Number to_number(const std::string& big_endian) {
    return Number(BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                            static_cast<int>(big_endian.size()), nullptr),
                  BN_free);
}

// The public key the parameters describe, in PEM; "" when OpenSSL builds none.
std::string public_key_pem(const char* key_type, OSSL_PARAM* params) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, key_type, nullptr), EVP_PKEY_CTX_free);
    EVP_PKEY* built = nullptr;
    if (!context || EVP_PKEY_fromdata_init(context.get()) != 1 ||
        EVP_PKEY_fromdata(context.get(), &built, EVP_PKEY_PUBLIC_KEY, params) != 1) {
        return "";
    }
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(built, EVP_PKEY_free);
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    if (!bio || PEM_write_bio_PUBKEY(bio.get(), key.get()) != 1) return "";
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return length > 0 ? std::string(data, static_cast<std::size_t>(length)) : "";
}

// A member that must be base64url: its bytes, or a reason in `why`.
std::optional<std::string> decoded_member(const std::optional<std::string>& value, const char* name,
                                          std::string& why) {
    if (!value) {
        why = std::string("it has no \"") + name + "\"";
        return std::nullopt;
    }
    auto bytes = base64url_decode(*value);
    if (!bytes || bytes->empty()) {
        why = std::string("its \"") + name + "\" is not base64url without padding";
        return std::nullopt;
    }
    return bytes;
}

std::string rsa_pem(const JsonWebKey& jwk, std::string& why) {
    auto n = decoded_member(jwk.n, "n", why);
    if (!n) return "";
    auto e = decoded_member(jwk.e, "e", why);
    if (!e) return "";
    Number modulus = to_number(*n), exponent = to_number(*e);
    ParamBuilder builder(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    if (!modulus || !exponent || !builder ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, modulus.get()) != 1 ||
        OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, exponent.get()) != 1) {
        why = "OpenSSL could not hold its numbers";
        return "";
    }
    Params params(OSSL_PARAM_BLD_to_param(builder.get()), OSSL_PARAM_free);
    std::string pem = params ? public_key_pem("RSA", params.get()) : "";
    if (pem.empty()) why = "OpenSSL makes no RSA public key of its \"n\" and \"e\"";
    return pem;
}

std::string ec_pem(const JsonWebKey& jwk, const Curve& curve, std::string& why) {
    auto x = decoded_member(jwk.x, "x", why);
    if (!x) return "";
    auto y = decoded_member(jwk.y, "y", why);
    if (!y) return "";
    // RFC 7518 §6.2.1.2: each coordinate is the full size of the curve's
    // field. Some encoders drop leading zero bytes (about one P-256 key in
    // 128): the same number, padded back. Longer is no coordinate of it.
    if (x->size() > curve.bytes || y->size() > curve.bytes) {
        why = "its \"x\" and \"y\" are longer than " + std::to_string(curve.bytes) + " bytes, " +
              curve.crv + "'s size";
        return "";
    }
    x->insert(0, curve.bytes - x->size(), '\0');
    y->insert(0, curve.bytes - y->size(), '\0');
    std::string point = "\x04" + *x + *y;  // uncompressed (SEC 1 §2.3.3)
    std::string group = curve.openssl_name;
    ParamBuilder builder(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    if (!builder ||
        OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, group.data(), 0) != 1 ||
        OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                         point.size()) != 1) {
        why = "OpenSSL could not hold its point";
        return "";
    }
    Params params(OSSL_PARAM_BLD_to_param(builder.get()), OSSL_PARAM_free);
    std::string pem = params ? public_key_pem("EC", params.get()) : "";
    if (pem.empty()) why = std::string("its \"x\" and \"y\" are not a point on ") + curve.crv;
    return pem;
}

// RFC 8037 §2: an Edwards-curve key is its "x", the encoded point, of
// exactly the curve's size (no leading zero is dropped: it is no number).
std::string okp_pem(const JsonWebKey& jwk, const Curve& curve, std::string& why) {
    auto x = decoded_member(jwk.x, "x", why);
    if (!x) return "";
    if (x->size() != curve.bytes) {
        why = "its \"x\" is not " + std::to_string(curve.bytes) + " bytes, an " + curve.crv + " key's size";
        return "";
    }
    ParamBuilder builder(OSSL_PARAM_BLD_new(), OSSL_PARAM_BLD_free);
    if (!builder || OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, x->data(),
                                                     x->size()) != 1) {
        why = "OpenSSL could not hold its key";
        return "";
    }
    Params params(OSSL_PARAM_BLD_to_param(builder.get()), OSSL_PARAM_free);
    std::string pem = params ? public_key_pem(curve.openssl_name, params.get()) : "";
    if (pem.empty()) why = std::string("OpenSSL makes no ") + curve.crv + " key of its \"x\"";
    return pem;
}

// A JWK not taken, and why.
JwkImport not_taken(JwkImport::Outcome outcome, std::string reason) {
    JwkImport result;
    result.outcome = outcome;
    result.reason = std::move(reason);
    return result;
}

JwkImport other(std::string reason) { return not_taken(JwkImport::Outcome::other, std::move(reason)); }
JwkImport secret(std::string reason) { return not_taken(JwkImport::Outcome::secret, std::move(reason)); }
JwkImport refused(std::string reason) { return not_taken(JwkImport::Outcome::refused, std::move(reason)); }

}  // namespace

std::string jwk_thumbprint(const JsonWebKey& jwk) {
    // RFC 7638 §3.2: the required members only, in lexical order, no white
    // space. The values are written as they came; they are base64url (and
    // the key type and curve names), so none needs escaping: anything else
    // gives no thumbprint.
    auto plain = [](const std::optional<std::string>& value) {
        return value && !value->empty() &&
               value->find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                        "0123456789-_") == std::string::npos;
    };
    // RSA's numbers as RFC 7518 §6.3.1 writes them, in the fewest octets:
    // a modulus with a leading zero byte (Java's BigInteger writes one) is
    // the same key, with the same thumbprint.
    auto minimal = [](const std::string& member) {
        auto bytes = base64url_decode(member);
        if (!bytes) return std::string();
        std::size_t first = bytes->find_first_not_of('\0');
        return first == std::string::npos ? std::string() : base64url_encode(bytes->substr(first));
    };
    // EC coordinates at the curve's full size (RFC 7518 §6.2.1.2), as
    // ec_pem() reads them: a coordinate whose leading zeros were dropped is
    // the same key, with the same thumbprint.
    auto full_size = [](const std::string& member, std::size_t bytes) {
        auto decoded = base64url_decode(member);
        if (!decoded || decoded->empty() || decoded->size() > bytes) return std::string();
        decoded->insert(0, bytes - decoded->size(), '\0');
        return base64url_encode(*decoded);
    };
    const Curve* curve = curve_of(jwk);
    std::string canonical;
    if (jwk.kty == "RSA" && plain(jwk.e) && plain(jwk.n)) {
        std::string e = minimal(*jwk.e), n = minimal(*jwk.n);
        if (e.empty() || n.empty()) return "";
        canonical = "{\"e\":\"" + e + "\",\"kty\":\"RSA\",\"n\":\"" + n + "\"}";
    } else if (curve && jwk.kty == "EC" && plain(jwk.x) && plain(jwk.y)) {
        std::string x = full_size(*jwk.x, curve->bytes), y = full_size(*jwk.y, curve->bytes);
        if (x.empty() || y.empty()) return "";
        canonical = std::string("{\"crv\":\"") + curve->crv + "\",\"kty\":\"EC\",\"x\":\"" + x +
                    "\",\"y\":\"" + y + "\"}";
    } else if (curve && jwk.kty == "OKP" && plain(jwk.x)) {
        // RFC 8037 §2: "crv", "kty", "x".
        canonical = std::string("{\"crv\":\"") + curve->crv + "\",\"kty\":\"OKP\",\"x\":\"" +
                    *jwk.x + "\"}";
    } else {
        return "";
    }
    OpenSslErrorQueueCleaner cleaner;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(canonical.data(), canonical.size(), digest, &length, EVP_sha256(), nullptr) != 1) {
        return "";
    }
    return base64url_encode(std::string_view(reinterpret_cast<const char*>(digest), length));
}

JwkImport import_json_web_key(const JsonWebKey& jwk) {
    OpenSslErrorQueueCleaner cleaner;
    if (!jwk.not_a_string.empty()) return refused("its \"" + jwk.not_a_string + "\" is not a JSON string");
    if (!jwk.kty) return refused("it has no \"kty\"");
    // A private or secret key is never published: someone pasted the wrong
    // set, and its secret is now in this statement.
    if (jwk.private_part) {
        return secret(*jwk.kty == "oct" ? "it is a secret key (\"k\"): HMAC secrets (HS256, "
                                           "HS384, HS512) go into \"secret\" as bytes"
                                         : "it is a private key: give the public key only");
    }
    if (jwk.use && *jwk.use != "sig") return other("its \"use\" is \"" + *jwk.use + "\", not \"sig\"");
    if (jwk.key_ops && std::find(jwk.key_ops->begin(), jwk.key_ops->end(), "verify") == jwk.key_ops->end()) {
        return other("its \"key_ops\" do not include \"verify\"");
    }
    const Curve* curve = curve_of(jwk);
    std::optional<SigningAlgorithm> algorithm;
    if (jwk.alg) {
        algorithm = parse_signing_algorithm(*jwk.alg);
        if (!algorithm || is_hmac(*algorithm)) {
            return other("its \"alg\" is \"" + *jwk.alg + "\", not " + public_key_algorithm_list());
        }
    } else if (*jwk.kty == "RSA") {
        algorithm = SigningAlgorithm::rs256;  // RSA keys name no padding: PKCS #1 v1.5, the usual
    } else if (curve) {
        algorithm = curve->algorithm;
    } else {
        return other("it is a key of type \"" + *jwk.kty + "\"" +
                     (jwk.crv ? " on the curve \"" + *jwk.crv + "\"" : std::string()) +
                     ", not an RSA key, an EC key on P-256, P-384 or P-521, or an Ed25519 or Ed448 key");
    }
    std::string why;
    std::string pem;
    std::string alg_is = std::string("its \"alg\" is ") + to_string(*algorithm) + " but ";
    switch (*algorithm) {
        case SigningAlgorithm::rs256:
        case SigningAlgorithm::rs384:
        case SigningAlgorithm::rs512:
        case SigningAlgorithm::ps256:
        case SigningAlgorithm::ps384:
        case SigningAlgorithm::ps512:
            if (*jwk.kty != "RSA") return refused(alg_is + "its \"kty\" is not \"RSA\"");
            pem = rsa_pem(jwk, why);
            break;
        case SigningAlgorithm::es256:
        case SigningAlgorithm::es384:
        case SigningAlgorithm::es512:
            if (!curve || *jwk.kty != "EC" || curve->algorithm != *algorithm) {
                auto wanted = std::find_if(std::begin(kCurves), std::end(kCurves),
                                           [&](const Curve& known) { return known.algorithm == *algorithm; });
                return refused(alg_is + "it is not an EC key on " + wanted->crv + " (\"kty\": \"EC\", \"crv\": \"" +
                               wanted->crv + "\")");
            }
            pem = ec_pem(jwk, *curve, why);
            break;
        case SigningAlgorithm::eddsa:
        case SigningAlgorithm::ed25519:
        case SigningAlgorithm::ed448: {
            // Ed25519 and Ed448 (RFC 9864) name the curve too.
            std::string crv = *algorithm == SigningAlgorithm::eddsa ? "" : to_string(*algorithm);
            if (!curve || *jwk.kty != "OKP" || (!crv.empty() && jwk.crv != crv)) {
                return refused(alg_is + "it is not " +
                               (crv.empty() ? "an Ed25519 or Ed448 key (\"kty\": \"OKP\")"
                                            : "an " + crv + " key (\"kty\": \"OKP\", \"crv\": \"" + crv + "\")"));
            }
            pem = okp_pem(jwk, *curve, why);
            break;
        }
        case SigningAlgorithm::hs256:
        case SigningAlgorithm::hs384:
        case SigningAlgorithm::hs512:
            break;  // passed over above
    }
    if (pem.empty()) return refused(why);
    // The rules every public key of the table meets (its CHECK), here too:
    // a refusal now names the JWK.
    std::string problem = public_key_problem(*algorithm, pem);
    if (!problem.empty()) return refused(problem);
    JwkImport result;
    result.outcome = JwkImport::Outcome::key;
    result.algorithm = key_algorithm(*algorithm);  // the table's name for it
    result.pem = std::move(pem);
    // A kid the table would refuse as a key_id (a ":" in it, more than 64
    // characters) gives way to the thumbprint: the kid only orders the keys
    // tried.
    result.key_id = jwk.kid && is_signing_key_id(*jwk.kid) ? *jwk.kid : jwk_thumbprint(jwk);
    return result;
}

}  // namespace tenancy::core
