#include "core/json_web_key.hpp"

#include "core/context_token.hpp"

#include <gtest/gtest.h>

#include "openssl_test_keys.hpp"
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

namespace core = tenancy::core;
using core::JsonWebKey;
using core::JwkImport;
using core::SigningAlgorithm;

namespace {

using test_keys::Key;
using test_keys::public_pem;
using test_keys::sign;

std::string bn_param(EVP_PKEY* key, const char* name) {
    BIGNUM* number = nullptr;
    EVP_PKEY_get_bn_param(key, name, &number);
    std::string bytes(static_cast<std::size_t>(BN_num_bytes(number)), '\0');
    BN_bn2bin(number, reinterpret_cast<unsigned char*>(bytes.data()));
    BN_free(number);
    return bytes;
}

JsonWebKey rsa_jwk(EVP_PKEY* key) {
    JsonWebKey jwk;
    jwk.kty = "RSA";
    jwk.n = core::base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_N));
    jwk.e = core::base64url_encode(bn_param(key, OSSL_PKEY_PARAM_RSA_E));
    return jwk;
}

JsonWebKey ec_jwk(EVP_PKEY* key) {
    unsigned char point[133];
    size_t length = 0;
    EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed");
    EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point, &length);
    std::string bytes(reinterpret_cast<const char*>(point), length);
    std::size_t half = (length - 1) / 2;
    JsonWebKey jwk;
    jwk.kty = "EC";
    jwk.crv = half == 32 ? "P-256" : half == 48 ? "P-384" : "P-521";
    jwk.x = core::base64url_encode(bytes.substr(1, half));
    jwk.y = core::base64url_encode(bytes.substr(1 + half, half));
    return jwk;
}

JsonWebKey okp_jwk(EVP_PKEY* key) {
    unsigned char raw[57];
    size_t length = sizeof raw;
    EVP_PKEY_get_raw_public_key(key, raw, &length);
    JsonWebKey jwk;
    jwk.kty = "OKP";
    jwk.crv = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? "Ed25519" : "Ed448";
    jwk.x = core::base64url_encode(std::string(reinterpret_cast<const char*>(raw), length));
    return jwk;
}


JwkImport::Outcome outcome_of(const JsonWebKey& jwk) { return core::import_json_web_key(jwk).outcome; }

}  // namespace

// RFC 7638 §3.1's example (the key of RFC 7517 Appendix A.1).
TEST(JsonWebKey, ThumbprintIsRfc7638s) {
    JsonWebKey jwk;
    jwk.kty = "RSA";
    jwk.e = "AQAB";
    jwk.n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP"
            "ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qv"
            "zqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6"
            "WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
    EXPECT_EQ(core::jwk_thumbprint(jwk), "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    // With no "kid", the thumbprint is the key id.
    JwkImport imported = core::import_json_web_key(jwk);
    ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << imported.reason;
    EXPECT_EQ(imported.key_id, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
    jwk.kty = "OKP";
    EXPECT_EQ(core::jwk_thumbprint(jwk), "");
}

TEST(JsonWebKey, RsaKeyBecomesTheSamePemAndVerifiesItsSignatures) {
    Key key(EVP_RSA_gen(2048));
    JsonWebKey jwk = rsa_jwk(key.get());
    jwk.kid = "rsa-2026";
    jwk.use = "sig";
    JwkImport imported = core::import_json_web_key(jwk);
    ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << imported.reason;
    EXPECT_EQ(imported.key_id, "rsa-2026");
    EXPECT_EQ(imported.algorithm, SigningAlgorithm::rs256);
    EXPECT_EQ(imported.pem, public_pem(key.get()));
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::rs256, imported.pem, "h.p",
                                                  sign(key.get(), "h.p")));
    EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(JsonWebKey, EcKeyBecomesTheSamePem) {
    Key key(EVP_EC_gen("P-256"));
    JsonWebKey jwk = ec_jwk(key.get());
    jwk.alg = "ES256";
    JwkImport imported = core::import_json_web_key(jwk);
    ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << imported.reason;
    EXPECT_EQ(imported.algorithm, SigningAlgorithm::es256);
    EXPECT_EQ(imported.pem, public_pem(key.get()));
    EXPECT_EQ(imported.key_id, core::jwk_thumbprint(jwk));
    EXPECT_EQ(imported.key_id.size(), 43U);
}

TEST(JsonWebKey, KeysForSomethingElseArePassedOver) {
    Key rsa(EVP_RSA_gen(2048)), ec(EVP_EC_gen("P-256"));
    // Each key once changed by one member: taken for nothing.
    auto passed_over = [](JsonWebKey jwk, std::optional<std::string> JsonWebKey::*member,
                          const char* value) {
        jwk.*member = value;
        return outcome_of(jwk) == JwkImport::Outcome::other;
    };
    EXPECT_TRUE(passed_over(rsa_jwk(rsa.get()), &JsonWebKey::use, "enc"));
    EXPECT_TRUE(passed_over(rsa_jwk(rsa.get()), &JsonWebKey::alg, "RSA-OAEP-256"));
    EXPECT_TRUE(passed_over(rsa_jwk(rsa.get()), &JsonWebKey::alg, "HS256"));
    EXPECT_TRUE(passed_over(rsa_jwk(rsa.get()), &JsonWebKey::alg, "HS512"));
    EXPECT_TRUE(passed_over(rsa_jwk(rsa.get()), &JsonWebKey::alg, "RS1"));
    EXPECT_TRUE(passed_over(ec_jwk(ec.get()), &JsonWebKey::crv, "secp256k1"));
    EXPECT_TRUE(passed_over(ec_jwk(ec.get()), &JsonWebKey::alg, "ES256K"));
    JsonWebKey x25519;  // a key agreement curve (RFC 8037 §3.2)
    x25519.kty = "OKP";
    x25519.x = "hSDwCYkwp1R0i33ctD73Wg2_Og0mOBr066SpjqqbTmo";
    EXPECT_TRUE(passed_over(x25519, &JsonWebKey::crv, "X25519"));
}

// RFC 8037 Appendix A: the Ed25519 key, its thumbprint (A.3) and the JWS of
// A.4 verified by the PEM the JWK becomes.
TEST(JsonWebKey, Ed25519KeyOfRfc8037) {
    JsonWebKey jwk;
    jwk.kty = "OKP";
    jwk.crv = "Ed25519";
    jwk.x = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
    EXPECT_EQ(core::jwk_thumbprint(jwk), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    JwkImport imported = core::import_json_web_key(jwk);
    ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << imported.reason;
    EXPECT_EQ(imported.algorithm, SigningAlgorithm::eddsa);
    EXPECT_EQ(imported.key_id, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
    std::string signature = *core::base64url_decode(
        "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg");
    EXPECT_TRUE(core::verify_public_key_signature(
        SigningAlgorithm::eddsa, imported.pem, "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc",
        signature));
    EXPECT_FALSE(core::verify_public_key_signature(
        SigningAlgorithm::eddsa, imported.pem, "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmd",
        signature));
    JsonWebKey short_x = jwk;
    short_x.x = core::base64url_encode(core::base64url_decode(*jwk.x)->substr(1));
    EXPECT_EQ(core::import_json_web_key(short_x).reason, "its \"x\" is not 32 bytes, an Ed25519 key's size");
    EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(JsonWebKey, EveryKindOfKeyBecomesTheSamePemAndVerifies) {
    Key rsa(EVP_RSA_gen(2048)), p384(EVP_EC_gen("P-384")), ed25519(test_keys::ed_key("ED25519")),
        ed448(test_keys::ed_key("ED448"));
    JsonWebKey pss = rsa_jwk(rsa.get());
    pss.alg = "PS256";
    struct {
        EVP_PKEY* key;
        JsonWebKey jwk;
        SigningAlgorithm algorithm;
        const EVP_MD* digest;
        bool pss;
    } cases[] = {
        {rsa.get(), pss, SigningAlgorithm::ps256, EVP_sha256(), true},
        {p384.get(), ec_jwk(p384.get()), SigningAlgorithm::es384, EVP_sha384(), false},
        {ed25519.get(), okp_jwk(ed25519.get()), SigningAlgorithm::eddsa, nullptr, false},
        {ed448.get(), okp_jwk(ed448.get()), SigningAlgorithm::eddsa, nullptr, false},
    };
    for (auto& c : cases) {
        JwkImport imported = core::import_json_web_key(c.jwk);
        ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << imported.reason;
        EXPECT_EQ(imported.algorithm, c.algorithm);
        EXPECT_EQ(imported.pem, public_pem(c.key));
        EXPECT_EQ(imported.key_id, core::jwk_thumbprint(c.jwk));
        EXPECT_EQ(imported.key_id.size(), 43U);
        EXPECT_TRUE(core::verify_public_key_signature(c.algorithm, imported.pem, "h.p",
                                                      sign(c.key, "h.p", c.digest, c.pss)))
            << core::to_string(c.algorithm);
    }
    // RFC 9864's names: an EdDSA key of that curve.
    JsonWebKey named = okp_jwk(ed25519.get());
    named.alg = "Ed25519";
    JwkImport imported_named = core::import_json_web_key(named);
    ASSERT_EQ(imported_named.outcome, JwkImport::Outcome::key) << imported_named.reason;
    EXPECT_EQ(imported_named.algorithm, SigningAlgorithm::eddsa);
    named.alg = "Ed448";
    EXPECT_EQ(core::import_json_web_key(named).reason,
              "its \"alg\" is Ed448 but it is not an Ed448 key (\"kty\": \"OKP\", \"crv\": \"Ed448\")");
    // The same key's JWK without "alg" for PS256: RS256, as RSA keys usually are.
    EXPECT_EQ(core::import_json_web_key(rsa_jwk(rsa.get())).algorithm, SigningAlgorithm::rs256);
    EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(JsonWebKey, KeysThatCannotServeAreRefusedSayingWhy) {
    Key rsa(EVP_RSA_gen(2048)), small(EVP_RSA_gen(1024)), ec(EVP_EC_gen("P-256"));
    auto reason_of = [](const JsonWebKey& jwk) {
        JwkImport imported = core::import_json_web_key(jwk);
        EXPECT_EQ(imported.outcome, JwkImport::Outcome::refused);
        return imported.reason;
    };
    EXPECT_EQ(reason_of(rsa_jwk(small.get())), "RS256 needs an RSA key of 2048 bits or more");
    // A modulus OpenSSL's checks refuse outright (3233 = 61 x 53): too small
    // is the reason, not the checks'.
    JsonWebKey tiny = rsa_jwk(rsa.get());
    tiny.n = core::base64url_encode("\x0c\xa1");
    EXPECT_EQ(reason_of(tiny), "an RSA key of 12 bits: 2048 bits or more are needed");
    JsonWebKey no_type = rsa_jwk(rsa.get());
    no_type.kty.reset();
    EXPECT_EQ(reason_of(no_type), "it has no \"kty\"");
    JsonWebKey not_string = rsa_jwk(rsa.get());
    not_string.not_a_string = "n";
    EXPECT_EQ(reason_of(not_string), "its \"n\" is not a JSON string");
    JsonWebKey mismatched = rsa_jwk(rsa.get());
    mismatched.alg = "ES256";
    EXPECT_NE(reason_of(mismatched).find("not an EC key on P-256"), std::string::npos);
    JsonWebKey wrong_curve = ec_jwk(ec.get());
    wrong_curve.alg = "ES384";
    EXPECT_EQ(reason_of(wrong_curve),
              "its \"alg\" is ES384 but it is not an EC key on P-384 (\"kty\": \"EC\", \"crv\": \"P-384\")");
    JsonWebKey rsa_as_eddsa = rsa_jwk(rsa.get());
    rsa_as_eddsa.alg = "EdDSA";
    EXPECT_EQ(reason_of(rsa_as_eddsa), "its \"alg\" is EdDSA but it is not an Ed25519 or Ed448 key (\"kty\": \"OKP\")");
    JsonWebKey ec_as_pss = ec_jwk(ec.get());
    ec_as_pss.alg = "PS256";
    EXPECT_EQ(reason_of(ec_as_pss), "its \"alg\" is PS256 but its \"kty\" is not \"RSA\"");
    JsonWebKey no_modulus = rsa_jwk(rsa.get());
    no_modulus.n.reset();
    EXPECT_EQ(reason_of(no_modulus), "it has no \"n\"");
    JsonWebKey padded = rsa_jwk(rsa.get());
    *padded.e += "=";
    EXPECT_EQ(reason_of(padded), "its \"e\" is not base64url without padding");
    JsonWebKey long_x = ec_jwk(ec.get());
    long_x.x = core::base64url_encode(std::string(1, '\0') + *core::base64url_decode(*long_x.x));
    EXPECT_NE(reason_of(long_x).find("longer than 32 bytes"), std::string::npos);
    JsonWebKey off_curve = ec_jwk(ec.get());
    (*off_curve.y)[5] = (*off_curve.y)[5] == 'A' ? 'B' : 'A';
    EXPECT_EQ(reason_of(off_curve), "its \"x\" and \"y\" are not a point on P-256");
    EXPECT_EQ(ERR_peek_error(), 0UL);
}

TEST(JsonWebKey, PrivateAndSecretKeysAreToldApart) {
    Key rsa(EVP_RSA_gen(2048));
    JsonWebKey with_private = rsa_jwk(rsa.get());
    with_private.private_part = true;
    JwkImport imported = core::import_json_web_key(with_private);
    EXPECT_EQ(imported.outcome, JwkImport::Outcome::secret);
    EXPECT_EQ(imported.reason, "it is a private key: give the public key only");
    JsonWebKey secret;
    secret.kty = "oct";
    secret.private_part = true;
    imported = core::import_json_web_key(secret);
    EXPECT_EQ(imported.outcome, JwkImport::Outcome::secret);
    EXPECT_NE(imported.reason.find("secret key"), std::string::npos);
}

TEST(JsonWebKey, AKidTheTableRefusesGivesWayToTheThumbprint) {
    Key rsa(EVP_RSA_gen(2048));
    for (const char* kid : {"", "public:hydra.openid.id-token", "with space", "k\xc3\xa9"}) {
        JsonWebKey odd_kid = rsa_jwk(rsa.get());
        odd_kid.kid = kid;
        JwkImport imported = core::import_json_web_key(odd_kid);
        ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << kid;
        EXPECT_EQ(imported.key_id, core::jwk_thumbprint(odd_kid)) << kid;
    }
    JsonWebKey long_kid = rsa_jwk(rsa.get());
    long_kid.kid = std::string(65, 'k');
    EXPECT_EQ(core::import_json_web_key(long_kid).key_id, core::jwk_thumbprint(long_kid));
    long_kid.kid = std::string(64, 'k');
    EXPECT_EQ(core::import_json_web_key(long_kid).key_id, std::string(64, 'k'));
}

TEST(JsonWebKey, KeyOpsWithoutVerifyArePassedOver) {
    Key rsa(EVP_RSA_gen(2048));
    JsonWebKey jwk = rsa_jwk(rsa.get());
    jwk.key_ops = std::vector<std::string>{"encrypt", "wrapKey"};
    EXPECT_EQ(outcome_of(jwk), JwkImport::Outcome::other);
    jwk.key_ops = std::vector<std::string>{"verify"};
    EXPECT_EQ(outcome_of(jwk), JwkImport::Outcome::key);
}

// RFC 7518 §6.3.1 writes RSA's numbers in their fewest octets; a key written
// with leading zero bytes is the same key, with the same thumbprint.
TEST(JsonWebKey, ThumbprintOfRsaNumbersWithLeadingZeros) {
    Key rsa(EVP_RSA_gen(2048));
    JsonWebKey minimal = rsa_jwk(rsa.get());
    JsonWebKey padded = minimal;
    padded.n = core::base64url_encode(std::string(1, '\0') + *core::base64url_decode(*minimal.n));
    padded.e = "AAEAAQ";
    EXPECT_NE(*padded.n, *minimal.n);
    EXPECT_EQ(core::jwk_thumbprint(padded), core::jwk_thumbprint(minimal));
    JsonWebKey zero = minimal;
    zero.e = "AAAA";
    EXPECT_EQ(core::jwk_thumbprint(zero), "");
}

// A coordinate whose leading zero bytes an encoder dropped is the same
// number: padded back, it is the same key.
TEST(JsonWebKey, EcCoordinatesWithoutLeadingZerosArePadded) {
    for (int attempt = 0; attempt < 8000; ++attempt) {
        Key key(EVP_EC_gen("P-256"));
        JsonWebKey jwk = ec_jwk(key.get());
        std::string x = *core::base64url_decode(*jwk.x);
        if (x[0] != '\0') continue;
        jwk.x = core::base64url_encode(x.substr(x.find_first_not_of('\0')));
        JwkImport imported = core::import_json_web_key(jwk);
        ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << imported.reason;
        EXPECT_EQ(imported.pem, public_pem(key.get()));
        EXPECT_EQ(core::jwk_thumbprint(jwk), core::jwk_thumbprint(ec_jwk(key.get())));
        return;
    }
    FAIL() << "no key with a leading zero byte in x in 8000 tries";
}

// 1.18: RSA keys for RS384, RS512, PS384 and PS512 (by their "alg"), EC keys
// on P-521 for ES512; each verifies its algorithm's signatures only.
TEST(JsonWebKey, KeysOfEveryRfc7518AlgorithmBecomeRows) {
    Key rsa(EVP_RSA_gen(2048)), p521(EVP_EC_gen("P-521")), p256(EVP_EC_gen("P-256"));
    struct Case {
        const char* alg;
        SigningAlgorithm algorithm;
        const EVP_MD* digest;
        bool pss;
    };
    for (const Case& c : {Case{"RS384", SigningAlgorithm::rs384, EVP_sha384(), false},
                          Case{"RS512", SigningAlgorithm::rs512, EVP_sha512(), false},
                          Case{"PS384", SigningAlgorithm::ps384, EVP_sha384(), true},
                          Case{"PS512", SigningAlgorithm::ps512, EVP_sha512(), true}}) {
        JsonWebKey jwk = rsa_jwk(rsa.get());
        jwk.alg = c.alg;
        JwkImport imported = core::import_json_web_key(jwk);
        ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << c.alg << ": " << imported.reason;
        EXPECT_EQ(imported.algorithm, c.algorithm) << c.alg;
        EXPECT_EQ(imported.pem, public_pem(rsa.get()));
        std::string signature = sign(rsa.get(), "h.p", c.digest, c.pss);
        EXPECT_TRUE(core::verify_public_key_signature(c.algorithm, imported.pem, "h.p", signature)) << c.alg;
        EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, imported.pem, "h.p", signature))
            << c.alg;
    }
    // P-521 without "alg" is ES512; its coordinates are 66 bytes.
    JsonWebKey jwk = ec_jwk(p521.get());
    EXPECT_EQ(*jwk.crv, "P-521");
    EXPECT_EQ(core::base64url_decode(*jwk.x)->size(), 66U);
    JwkImport imported = core::import_json_web_key(jwk);
    ASSERT_EQ(imported.outcome, JwkImport::Outcome::key) << imported.reason;
    EXPECT_EQ(imported.algorithm, SigningAlgorithm::es512);
    EXPECT_EQ(imported.pem, public_pem(p521.get()));
    EXPECT_EQ(imported.key_id, core::jwk_thumbprint(jwk));
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::es512, imported.pem, "h.p",
                                                  sign(p521.get(), "h.p", EVP_sha512())));
    // A P-521 coordinate an encoder shortened is padded back: the same key
    // and thumbprint.
    JsonWebKey short_x = jwk;
    std::string x = *core::base64url_decode(*jwk.x);
    x[0] = '\0';  // no longer the key, but a point's size test
    short_x.x = core::base64url_encode(x.substr(1));
    jwk.x = core::base64url_encode(x);
    EXPECT_EQ(core::jwk_thumbprint(short_x), core::jwk_thumbprint(jwk));
    // The algorithm and the curve must agree.
    JsonWebKey p256_as_es512 = ec_jwk(p256.get());
    p256_as_es512.alg = "ES512";
    EXPECT_EQ(core::import_json_web_key(p256_as_es512).reason,
              "its \"alg\" is ES512 but it is not an EC key on P-521 (\"kty\": \"EC\", \"crv\": \"P-521\")");
    JsonWebKey p521_as_es384 = ec_jwk(p521.get());
    p521_as_es384.alg = "ES384";
    EXPECT_EQ(core::import_json_web_key(p521_as_es384).reason,
              "its \"alg\" is ES384 but it is not an EC key on P-384 (\"kty\": \"EC\", \"crv\": \"P-384\")");
    JsonWebKey rsa_as_ps512 = rsa_jwk(rsa.get());
    rsa_as_ps512.kty = "EC";
    rsa_as_ps512.alg = "PS512";
    EXPECT_EQ(core::import_json_web_key(rsa_as_ps512).reason, "its \"alg\" is PS512 but its \"kty\" is not \"RSA\"");
    EXPECT_EQ(ERR_peek_error(), 0UL);
}
