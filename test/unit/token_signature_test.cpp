#include "core/token_signature.hpp"

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
#include <string_view>

namespace core = tenancy::core;
using core::SigningAlgorithm;

namespace {

using test_keys::ec_key;
using test_keys::Key;
using test_keys::public_pem;
using test_keys::rsa_key;
using test_keys::sign;

}  // namespace

TEST(TokenSignature, NamesTheAlgorithmsAsJwsWritesThem) {
    EXPECT_EQ(core::parse_signing_algorithm("RS256"), SigningAlgorithm::rs256);
    EXPECT_EQ(core::parse_signing_algorithm("ES256"), SigningAlgorithm::es256);
    EXPECT_EQ(core::parse_signing_algorithm("HS256"), SigningAlgorithm::hs256);
    EXPECT_FALSE(core::parse_signing_algorithm("rs256"));
    EXPECT_FALSE(core::parse_signing_algorithm("none"));
    EXPECT_STREQ(core::to_string(SigningAlgorithm::es256), "ES256");
    for (const char* name : {"HS256", "HS384", "HS512", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512",
                             "ES256", "ES384", "ES512", "EdDSA", "Ed25519", "Ed448"}) {
        auto algorithm = core::parse_signing_algorithm(name);
        ASSERT_TRUE(algorithm) << name;
        EXPECT_STREQ(core::to_string(*algorithm), name);
        EXPECT_EQ(core::is_hmac(*algorithm), name[0] == 'H') << name;
    }
    EXPECT_EQ(core::signing_algorithm_list(),
              "HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, "
              "Ed25519 or Ed448");
    EXPECT_EQ(core::public_key_algorithm_list(),
              "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512, EdDSA, Ed25519 or Ed448");
    EXPECT_EQ(core::key_row_algorithm_list(),
              "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, ES512 or EdDSA");
    // RFC 7518 §3.2: an HMAC's digest, and the least its secret holds.
    EXPECT_EQ(core::hmac_bytes(SigningAlgorithm::hs256), 32U);
    EXPECT_EQ(core::hmac_bytes(SigningAlgorithm::hs384), 48U);
    EXPECT_EQ(core::hmac_bytes(SigningAlgorithm::hs512), 64U);
    EXPECT_EQ(core::hmac_bytes(SigningAlgorithm::rs512), 0U);
    // The keys table holds Ed25519 and Ed448 keys as EdDSA keys.
    EXPECT_EQ(core::key_algorithm(SigningAlgorithm::ed25519), SigningAlgorithm::eddsa);
    EXPECT_EQ(core::key_algorithm(SigningAlgorithm::ed448), SigningAlgorithm::eddsa);
    EXPECT_EQ(core::key_algorithm(SigningAlgorithm::ps256), SigningAlgorithm::ps256);
}

// RFC 9864: "Ed25519" and "Ed448" are EdDSA on that curve only.
TEST(TokenSignature, FullySpecifiedEdDsaNamesTakeTheirCurveOnly) {
    Key ed25519 = test_keys::ed_key("ED25519"), ed448 = test_keys::ed_key("ED448");
    std::string pem25519 = public_pem(ed25519.get()), pem448 = public_pem(ed448.get());
    std::string signature25519 = sign(ed25519.get(), "h.p"), signature448 = sign(ed448.get(), "h.p");
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::ed25519, pem25519, "h.p", signature25519));
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::ed448, pem448, "h.p", signature448));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::ed448, pem25519, "h.p", signature25519));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::ed25519, pem448, "h.p", signature448));
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::ed25519, pem448), "Ed25519 needs an Ed25519 key");
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::ed448, pem25519), "Ed448 needs an Ed448 key");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

// PS256 and RS256 sign with the same RSA key but are not the same signature:
// each is taken under its own algorithm only.
TEST(TokenSignature, VerifiesPs256AndKeepsItApartFromRs256) {
    Key key = rsa_key(2048);
    std::string pem = public_pem(key.get());
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::ps256, pem), "");
    std::string pss = sign(key.get(), "header.payload", EVP_sha256(), true);
    std::string pkcs1 = sign(key.get(), "header.payload");
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::ps256, pem, "header.payload", pss));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::ps256, pem, "header.payloaD", pss));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, pem, "header.payload", pss));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::ps256, pem, "header.payload", pkcs1));
    // PSS with SHA-384 is PS384's, not PS256's.
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::ps256, pem, "header.payload",
                                                   sign(key.get(), "header.payload", EVP_sha384(), true)));
    Key small = rsa_key(1024);
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::ps256, public_pem(small.get())),
              "PS256 needs an RSA key of 2048 bits or more");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(TokenSignature, VerifiesEs384AndEdDsa) {
    Key p384 = ec_key("P-384"), p256 = ec_key("P-256");
    std::string pem = public_pem(p384.get());
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::es384, pem), "");
    std::string signature = sign(p384.get(), "header.payload", EVP_sha384());
    ASSERT_EQ(signature.size(), 96u);
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::es384, pem, "header.payload", signature));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es384, pem, "header.payloaD", signature));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es256, pem, "header.payload", signature));
    // SHA-256 over P-384 is no JWS algorithm.
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es384, pem, "header.payload",
                                                   sign(p384.get(), "header.payload", EVP_sha256())));
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::es384, public_pem(p256.get())),
              "ES384 needs an EC key on the curve P-384 (secp384r1)");
    for (const char* type : {"ED25519", "ED448"}) {
        Key ed = test_keys::ed_key(type);
        std::string ed_pem = public_pem(ed.get());
        EXPECT_EQ(core::public_key_problem(SigningAlgorithm::eddsa, ed_pem), "") << type;
        std::string ed_signature = sign(ed.get(), "header.payload");
        EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::eddsa, ed_pem, "header.payload",
                                                      ed_signature)) << type;
        EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::eddsa, ed_pem, "header.payloaD",
                                                       ed_signature)) << type;
        EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es256, ed_pem, "header.payload",
                                                       ed_signature)) << type;
        EXPECT_EQ(core::public_key_problem(SigningAlgorithm::rs256, ed_pem), "RS256 needs an RSA key");
    }
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::eddsa, public_pem(p256.get())),
              "EdDSA needs an Ed25519 or Ed448 key");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(TokenSignature, VerifiesRs256AndRefusesWhatItDidNotSign) {
    Key key = rsa_key(2048), other = rsa_key(2048);
    std::string pem = public_pem(key.get());
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::rs256, pem), "");
    std::string signature = sign(key.get(), "header.payload");
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::rs256, pem, "header.payload", signature));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, pem, "header.payloaD", signature));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, public_pem(other.get()),
                                                   "header.payload", signature));
    std::string changed = signature;
    changed.back() ^= 1;
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, pem, "header.payload", changed));
    // The key is RSA: never an ES256 key, whatever the header says.
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es256, pem, "header.payload", signature));
    EXPECT_EQ(ERR_peek_error(), 0u) << "the error queue is left empty";
}

TEST(TokenSignature, VerifiesEs256InItsRawForm) {
    Key key = ec_key("P-256");
    std::string pem = public_pem(key.get());
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::es256, pem), "");
    std::string signature = sign(key.get(), "header.payload");
    ASSERT_EQ(signature.size(), 64u);
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::es256, pem, "header.payload", signature));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es256, pem, "other", signature));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es256, pem, "header.payload",
                                                   signature.substr(0, 63)));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es256, pem, "header.payload",
                                                   std::string(64, '\0')));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, pem, "header.payload", signature));
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(TokenSignature, SaysWhyAKeyCannotServe) {
    Key small = rsa_key(1024), p384 = ec_key("P-384"), p256 = ec_key("P-256");
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, public_pem(small.get())).find("2048"),
              std::string::npos);
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::es256, public_pem(p384.get())).find("P-256"),
              std::string::npos);
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, public_pem(p256.get())), "");
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::hs256, public_pem(p256.get())), "");
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, "not a key").find("PEM"), std::string::npos);
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, ""), "");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(TokenSignature, TakesOnePemBlockAndNothingElse) {
    Key key = rsa_key(2048);
    std::string pem = public_pem(key.get());
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::rs256, "\n  " + pem + "\n\n"), "");
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, pem + "garbage"), "");
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, pem + pem), "");
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PrivateKey(bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    std::string private_pem(data, static_cast<std::size_t>(length));
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, private_pem), "");
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, private_pem + pem), "");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

TEST(TokenSignature, RefusesRsaExponentsOpenSslCallsUnsafe) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr), EVP_PKEY_CTX_free);
    ASSERT_EQ(EVP_PKEY_keygen_init(context.get()), 1);
    EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), 2048);
    BIGNUM* three = BN_new();
    BN_set_word(three, 3);
    EVP_PKEY_CTX_set1_rsa_keygen_pubexp(context.get(), three);
    BN_free(three);
    EVP_PKEY* generated = nullptr;
    ASSERT_EQ(EVP_PKEY_keygen(context.get(), &generated), 1);
    Key key(generated);
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::rs256, public_pem(key.get())), "");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

namespace {

std::string ed_pem(int type, std::string raw) {
    Key key(EVP_PKEY_new_raw_public_key(type, nullptr, reinterpret_cast<const unsigned char*>(raw.data()),
                                        raw.size()));
    return key ? public_pem(key.get()) : std::string();
}

std::string from_hex(const char* hex) {
    std::string bytes;
    for (std::size_t i = 0; hex[i] != '\0' && hex[i + 1] != '\0'; i += 2) {
        bytes.push_back(static_cast<char>(std::stoi(std::string(hex + i, 2), nullptr, 16)));
    }
    return bytes;
}

}  // namespace

// Small-order and non-canonical Edwards keys verify forged signatures (one
// fixed R = identity, S = 0 signs every message for the identity): refused,
// with or without the sign bit, as libsodium's blocklist.
TEST(TokenSignature, RefusesEdwardsKeysOfSmallOrder) {
    const char* ed25519_weak[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",   // y = 0, order 4
        "0100000000000000000000000000000000000000000000000000000000000000",   // the identity
        "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",   // order 8
        "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",   // order 8
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",   // p - 1, order 2
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",   // p: y = 0 again
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",   // p + 1: the identity again
    };
    for (const char* hex : ed25519_weak) {
        for (char sign : {'\0', '\x80'}) {
            std::string raw = from_hex(hex);
            raw[31] = static_cast<char>(raw[31] | sign);
            std::string pem = ed_pem(EVP_PKEY_ED25519, raw);
            ASSERT_FALSE(pem.empty()) << hex;
            std::string problem = core::public_key_problem(SigningAlgorithm::eddsa, pem);
            EXPECT_TRUE(problem == "an Ed25519 key of small order (a point that verifies forged signatures)" ||
                        problem == "an Ed25519 key not in its canonical encoding (y is the field's prime or more)")
                << hex << ": " << problem;
        }
    }
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::eddsa,
                                       ed_pem(EVP_PKEY_ED25519, from_hex(ed25519_weak[1]))).find("small order"),
              std::string::npos);
    // The identity key verifies R = identity, S = 0 for any message: the
    // forgery the check prevents (OpenSSL itself takes it).
    std::string forged = from_hex(ed25519_weak[1]) + std::string(32, '\0');
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::eddsa,
                                                   ed_pem(EVP_PKEY_ED25519, from_hex(ed25519_weak[1])),
                                                   "header.payload", forged));
    // RFC 8037's key is taken.
    EXPECT_EQ(core::public_key_problem(
                  SigningAlgorithm::eddsa,
                  ed_pem(EVP_PKEY_ED25519, from_hex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"))),
              "");
    // Ed448 (57 bytes): y = 0, 1, p - 1 (small order), y = p (non-canonical),
    // bits set in the last byte besides x's sign, and y = 2 (no point).
    auto ed448_y = [](const char* big_endian_hex, char last = '\0') {
        std::string bytes = from_hex(big_endian_hex);
        std::string raw(bytes.rbegin(), bytes.rend());
        raw.resize(56, '\0');
        return raw + last;
    };
    const char* ed448_p = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    const char* ed448_p_minus_1 = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffffffffffffffffffffffffffffffffffffffffffffffffffffe";
    struct {
        std::string raw;
        const char* problem;
    } ed448_cases[] = {
        {ed448_y("00"), "an Ed448 key of small order (a point that verifies forged signatures)"},
        {ed448_y("01"), "an Ed448 key of small order (a point that verifies forged signatures)"},
        {ed448_y("01", '\x80'), "an Ed448 key of small order (a point that verifies forged signatures)"},
        {ed448_y(ed448_p_minus_1), "an Ed448 key of small order (a point that verifies forged signatures)"},
        {ed448_y(ed448_p), "an Ed448 key not in its canonical encoding (y is the field's prime or more)"},
        {ed448_y("03", '\x01'), "an Ed448 key not in its canonical encoding (bits set in its last byte)"},
        {ed448_y("02"), "an Ed448 key that is no point on its curve"},
    };
    for (const auto& c : ed448_cases) {
        std::string pem = ed_pem(EVP_PKEY_ED448, c.raw);
        ASSERT_FALSE(pem.empty()) << c.problem;
        EXPECT_EQ(core::public_key_problem(SigningAlgorithm::eddsa, pem), c.problem);
    }
    // Ed25519's y = 2 is no point either; y = 3 is.
    std::string y2(32, '\0'), y3(32, '\0');
    y2[0] = 2;
    y3[0] = 3;
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::eddsa, ed_pem(EVP_PKEY_ED25519, y2)),
              "an Ed25519 key that is no point on its curve");
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::eddsa, ed_pem(EVP_PKEY_ED25519, y3)), "");
    Key ed448 = test_keys::ed_key("ED448");
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::eddsa, public_pem(ed448.get())), "");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

// RFC 7518 §3.5: the salt is the digest's size. A larger one is refused.
TEST(TokenSignature, Ps256SaltIsTheDigestsSize) {
    Key key = rsa_key(2048);
    std::string pem = public_pem(key.get());
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    ASSERT_EQ(EVP_DigestSignInit(context.get(), &key_context, EVP_sha256(), nullptr, key.get()), 1);
    EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_MAX);
    std::string message = "header.payload", signature(256, '\0');
    size_t length = signature.size();
    ASSERT_EQ(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()),
              1);
    signature.resize(length);
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::ps256, pem, message, signature));
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::ps256, pem, message,
                                                  sign(key.get(), message, EVP_sha256(), true)));
    EXPECT_EQ(ERR_peek_error(), 0u);
}

// A key whose type is RSASSA-PSS (not rsaEncryption) is told apart.
TEST(TokenSignature, SaysWhyAnRsaPssKeyIsNotTaken) {
    std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> context(
        EVP_PKEY_CTX_new_from_name(nullptr, "RSA-PSS", nullptr), EVP_PKEY_CTX_free);
    ASSERT_TRUE(context);
    EVP_PKEY* generated = nullptr;
    ASSERT_EQ(EVP_PKEY_keygen_init(context.get()), 1);
    ASSERT_EQ(EVP_PKEY_CTX_set_rsa_keygen_bits(context.get(), 2048), 1);
    ASSERT_EQ(EVP_PKEY_generate(context.get(), &generated), 1);
    Key key(generated);
    EXPECT_NE(core::public_key_problem(SigningAlgorithm::ps256, public_pem(key.get())).find("id-RSASSA-PSS"),
              std::string::npos);
    EXPECT_EQ(ERR_peek_error(), 0u);
}

// 1.18: RS384, RS512, PS384 and PS512 with one RSA key: each algorithm
// verifies its own signatures and none of the other five's (the digest and
// the padding both count).
TEST(TokenSignature, EveryRsaAlgorithmTakesItsOwnSignaturesOnly) {
    Key key = rsa_key(2048);
    std::string pem = public_pem(key.get());
    struct Case {
        SigningAlgorithm algorithm;
        const EVP_MD* digest;
        bool pss;
    };
    const Case cases[] = {{SigningAlgorithm::rs256, EVP_sha256(), false}, {SigningAlgorithm::rs384, EVP_sha384(), false},
                          {SigningAlgorithm::rs512, EVP_sha512(), false}, {SigningAlgorithm::ps256, EVP_sha256(), true},
                          {SigningAlgorithm::ps384, EVP_sha384(), true},  {SigningAlgorithm::ps512, EVP_sha512(), true}};
    for (const Case& signer : cases) {
        std::string signature = sign(key.get(), "h.p", signer.digest, signer.pss);
        for (const Case& verifier : cases) {
            EXPECT_EQ(core::verify_public_key_signature(verifier.algorithm, pem, "h.p", signature),
                      &verifier == &signer)
                << core::to_string(signer.algorithm) << " verified as " << core::to_string(verifier.algorithm);
        }
        EXPECT_EQ(core::public_key_problem(signer.algorithm, pem), "");
    }
    // PS512's salt is 64 bytes, the digest's: a 32-byte salt is refused.
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    ASSERT_EQ(EVP_DigestSignInit(context.get(), &key_context, EVP_sha512(), nullptr, key.get()), 1);
    EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, 32);
    std::string message = "h.p", signature(256, '\0');
    size_t length = signature.size();
    ASSERT_EQ(EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                             reinterpret_cast<const unsigned char*>(message.data()), message.size()),
              1);
    signature.resize(length);
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::ps512, pem, message, signature));
    Key small = rsa_key(1024);
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::rs512, public_pem(small.get())),
              "RS512 needs an RSA key of 2048 bits or more");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

// ES512: ECDSA on P-521 over SHA-512, R || S of 66 bytes each.
TEST(TokenSignature, VerifiesEs512) {
    Key p521 = ec_key("P-521"), p384 = ec_key("P-384");
    std::string pem = public_pem(p521.get());
    std::string signature = sign(p521.get(), "h.p", EVP_sha512());
    ASSERT_EQ(signature.size(), 132U);
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::es512, pem, "h.p", signature));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es512, pem, "h.q", signature));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es512, pem, "h.p", signature.substr(1)));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es512, pem, "h.p", signature + '\0'));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es512, pem, "h.p",
                                                   sign(p521.get(), "h.p", EVP_sha384())));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es384, pem, "h.p", signature));
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::es512, pem), "");
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::es512, public_pem(p384.get())),
              "ES512 needs an EC key on the curve P-521 (secp521r1)");
    EXPECT_EQ(core::public_key_problem(SigningAlgorithm::es384, pem),
              "ES384 needs an EC key on the curve P-384 (secp384r1)");
    EXPECT_EQ(ERR_peek_error(), 0u);
}

// HMAC algorithms have no public key: a PEM never verifies them.
TEST(TokenSignature, HmacAlgorithmsTakeNoPublicKey) {
    Key key = rsa_key(2048);
    std::string pem = public_pem(key.get());
    for (SigningAlgorithm hmac : {SigningAlgorithm::hs256, SigningAlgorithm::hs384, SigningAlgorithm::hs512}) {
        EXPECT_FALSE(core::verify_public_key_signature(hmac, pem, "h.p", sign(key.get(), "h.p")));
        EXPECT_EQ(core::public_key_problem(hmac, pem),
                  std::string(core::to_string(hmac)) + " keys are secrets, not public keys");
    }
    EXPECT_EQ(ERR_peek_error(), 0u);
}

namespace {

using Number = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

Number hex_number(const char* hex) {
    BIGNUM* number = nullptr;
    BN_hex2bn(&number, hex);
    return Number(number, BN_free);
}

// `bytes` bytes of `number`, big-endian (or little-endian): "" when it does
// not fit.
std::string number_bytes(const BIGNUM* number, std::size_t bytes, bool little_endian = false) {
    std::string out(bytes, '\0');
    auto* data = reinterpret_cast<unsigned char*>(out.data());
    int written = little_endian ? BN_bn2lebinpad(number, data, static_cast<int>(bytes))
                                : BN_bn2binpad(number, data, static_cast<int>(bytes));
    return written < 0 ? std::string() : out;
}

Number bytes_number(std::string_view bytes, bool little_endian = false) {
    const auto* data = reinterpret_cast<const unsigned char*>(bytes.data());
    int length = static_cast<int>(bytes.size());
    return Number(little_endian ? BN_lebin2bn(data, length, nullptr) : BN_bin2bn(data, length, nullptr),
                  BN_free);
}

// a + b, or b - a with `subtract`.
Number sum(const BIGNUM* a, const BIGNUM* b, bool subtract = false) {
    Number result(BN_new(), BN_free);
    if (subtract) {
        BN_sub(result.get(), b, a);
    } else {
        BN_add(result.get(), a, b);
    }
    return result;
}

}  // namespace

// A token's signature has one encoding a key takes (review of 1.25, h_jwt):
// another spelling of the same numbers, whose signing input is the same, is
// refused, so that a verifier never takes a signature its signer did not
// write. ECDSA's own malleability is the exception, as in every JWS library:
// (R, n - S) verifies as (R, S) does (RFC 7518 asks nothing of S's size).
TEST(TokenSignature, ASignatureIsTakenInItsOneEncodingOnly) {
    const std::string message = "header.payload";
    // ECDSA: R and S of the curve's size (P-521: 66 bytes, room for R + n and
    // S + n), never DER, never a number at or above the group's order.
    Key p521 = ec_key("P-521");
    std::string pem = public_pem(p521.get());
    std::string signature = sign(p521.get(), message, EVP_sha512());
    ASSERT_EQ(signature.size(), 132U);
    ASSERT_TRUE(core::verify_public_key_signature(SigningAlgorithm::es512, pem, message, signature));
    Number order = hex_number(
        "01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC"
        "0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409");
    Number r = bytes_number(std::string_view(signature).substr(0, 66));
    Number s = bytes_number(std::string_view(signature).substr(66));
    std::string r_plus_n = number_bytes(sum(r.get(), order.get()).get(), 66);
    std::string s_plus_n = number_bytes(sum(s.get(), order.get()).get(), 66);
    ASSERT_FALSE(r_plus_n.empty());
    ASSERT_FALSE(s_plus_n.empty());
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es512, pem, message,
                                                   r_plus_n + signature.substr(66)));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es512, pem, message,
                                                   signature.substr(0, 66) + s_plus_n));
    EXPECT_TRUE(core::verify_public_key_signature(
        SigningAlgorithm::es512, pem, message,
        signature.substr(0, 66) + number_bytes(sum(s.get(), order.get(), true).get(), 66)))
        << "(R, n - S) is the same signature to ECDSA";
    // The DER form OpenSSL writes (and some JWT libraries wrongly send).
    Key p256 = ec_key("P-256");
    std::string p256_pem = public_pem(p256.get());
    std::string raw = sign(p256.get(), message);
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
    ECDSA_SIG_set0(sig.get(), bytes_number(std::string_view(raw).substr(0, 32)).release(),
                   bytes_number(std::string_view(raw).substr(32)).release());
    unsigned char* der = nullptr;
    int der_length = i2d_ECDSA_SIG(sig.get(), &der);
    ASSERT_GT(der_length, 0);
    std::string der_signature(reinterpret_cast<char*>(der), static_cast<std::size_t>(der_length));
    OPENSSL_free(der);
    EXPECT_TRUE(core::verify_public_key_signature(SigningAlgorithm::es256, p256_pem, message, raw));
    EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::es256, p256_pem, message, der_signature));

    // EdDSA: S below the group's order L (RFC 8032 §5.1.7, §5.2.7); S + L,
    // which fits in S's bytes on both curves, is refused.
    struct Edwards {
        const char* type;
        std::size_t point_bytes;
        const char* order;
    };
    for (const Edwards& curve :
         {Edwards{"ED25519", 32, "1000000000000000000000000000000014DEF9DEA2F79CD65812631A5CF5D3ED"},
          Edwards{"ED448", 57,
                  "3FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF7CCA23E9C44EDB49AED63690216C"
                  "C2728DC58F552378C292AB5844F3"}}) {
        Key ed = test_keys::ed_key(curve.type);
        std::string ed_pem = public_pem(ed.get());
        std::string ed_signature = sign(ed.get(), message);
        ASSERT_EQ(ed_signature.size(), 2 * curve.point_bytes) << curve.type;
        ASSERT_TRUE(core::verify_public_key_signature(SigningAlgorithm::eddsa, ed_pem, message, ed_signature));
        Number ed_s = bytes_number(std::string_view(ed_signature).substr(curve.point_bytes), true);
        std::string s_plus_l =
            number_bytes(sum(ed_s.get(), hex_number(curve.order).get()).get(), curve.point_bytes, true);
        ASSERT_FALSE(s_plus_l.empty()) << curve.type;
        EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::eddsa, ed_pem, message,
                                                       ed_signature.substr(0, curve.point_bytes) + s_plus_l))
            << curve.type;
    }

    // RSA: the modulus's size exactly (no leading zero added or dropped), and
    // a number below the modulus (signature + n, when it fits, is refused).
    Key rsa = rsa_key(2048);
    std::string rsa_pem = public_pem(rsa.get());
    BIGNUM* modulus_out = nullptr;
    ASSERT_EQ(EVP_PKEY_get_bn_param(rsa.get(), OSSL_PKEY_PARAM_RSA_N, &modulus_out), 1);
    Number modulus(modulus_out, BN_free);
    // (signature + n fits in 256 bytes for some signatures only: a modulus
    // near 2^2048 leaves little room; the others are refused by their size.)
    for (int attempt = 0; attempt < 64; ++attempt) {
        std::string attempt_message = message + std::to_string(attempt);
        std::string rsa_signature = sign(rsa.get(), attempt_message);
        ASSERT_EQ(rsa_signature.size(), 256U);
        ASSERT_TRUE(core::verify_public_key_signature(SigningAlgorithm::rs256, rsa_pem, attempt_message,
                                                      rsa_signature));
        EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, rsa_pem, attempt_message,
                                                       std::string(1, '\0') + rsa_signature));
        if (rsa_signature[0] == '\0') {
            EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, rsa_pem, attempt_message,
                                                           rsa_signature.substr(1)));
        }
        std::string plus_n = number_bytes(sum(bytes_number(rsa_signature).get(), modulus.get()).get(), 256);
        if (plus_n.empty()) continue;  // 2049 bits: refused by its size alone
        EXPECT_FALSE(core::verify_public_key_signature(SigningAlgorithm::rs256, rsa_pem, attempt_message, plus_n));
        break;
    }
    EXPECT_EQ(ERR_peek_error(), 0u);
}

namespace {

std::string public_der(EVP_PKEY* key) {
    unsigned char* der = nullptr;
    int length = i2d_PUBKEY(key, &der);
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return out;
}

// The PEM block's body: its base64 lines without the BEGIN and END lines.
std::string pem_body(const std::string& pem) {
    std::string body;
    std::size_t start = pem.find('\n') + 1;
    std::size_t end = pem.find("-----END");
    return pem.substr(start, end - start);
}

}  // namespace

// A public key in any form but PEM was taken as an HMAC secret (a key row
// with algorithm HS256, the column's default, and the public key in
// "secret"): whoever has the public key, anyone, then signed HS256 tokens
// for any user (the "alg" confusion by a key row's mistake; JWT review of
// 1.25). Keycloak's console shows a realm's public key as the PEM's body
// alone.
namespace {
// The reason hmac_secret_problem() gives, its kind checked to agree with it:
// none exactly when there is no reason.
std::string hmac_secret_problem_text(std::string_view secret) {
    core::HmacSecretProblem problem = core::hmac_secret_problem(secret);
    EXPECT_EQ(problem.kind == core::HmacSecretProblem::Kind::none, problem.reason.empty()) << problem.reason;
    return problem.reason;
}
}  // namespace

TEST(TokenSignature, APublicKeyIsNoHmacSecretInAnyForm) {
    Key rsa = rsa_key(2048), p256 = ec_key("P-256"), ed = test_keys::ed_key("ED25519");
    for (EVP_PKEY* key : {rsa.get(), p256.get(), ed.get()}) {
        std::string der = public_der(key), pem = public_pem(key), body = pem_body(pem);
        EXPECT_EQ(hmac_secret_problem_text(der), "it is a public key (SubjectPublicKeyInfo) in DER");
        EXPECT_EQ(hmac_secret_problem_text(body), "it is a public key (SubjectPublicKeyInfo) in base64");
        std::string one_line;
        for (char c : body) if (c != '\n') one_line += c;
        EXPECT_EQ(hmac_secret_problem_text(one_line), "it is a public key (SubjectPublicKeyInfo) in base64");
        // base64url without padding, as a JWK's members are written
        std::string url = one_line;
        for (char& c : url) c = c == '+' ? '-' : c == '/' ? '_' : c;
        while (!url.empty() && url.back() == '=') url.pop_back();
        EXPECT_EQ(hmac_secret_problem_text(url), "it is a public key (SubjectPublicKeyInfo) in base64");
        // the END line left on
        EXPECT_EQ(hmac_secret_problem_text(pem.substr(pem.find('\n') + 1)),
                  "it is a public key (SubjectPublicKeyInfo) in base64");
        std::string hex;
        for (unsigned char c : der) {
            hex += "0123456789abcdef"[c >> 4];
            hex += "0123456789abcdef"[c & 15];
        }
        EXPECT_EQ(hmac_secret_problem_text(hex), "it is a public key (SubjectPublicKeyInfo) in hex");
        // the whole PEM text in base64 (a Kubernetes secret's data, an
        // environment variable): taken before the review of 1.26
        std::unique_ptr<BIO, decltype(&BIO_free_all)> b64(BIO_new(BIO_f_base64()), BIO_free_all);
        BIO* sink = BIO_new(BIO_s_mem());
        BIO_push(b64.get(), sink);
        ASSERT_EQ(BIO_write(b64.get(), pem.data(), static_cast<int>(pem.size())), static_cast<int>(pem.size()));
        ASSERT_EQ(BIO_flush(b64.get()), 1);
        char* encoded = nullptr;
        long encoded_length = BIO_get_mem_data(sink, &encoded);
        EXPECT_EQ(hmac_secret_problem_text(std::string(encoded, static_cast<std::size_t>(encoded_length))),
                  "it is a public key (SubjectPublicKeyInfo) in PEM, in base64");
    }
    // PKCS #1 (BEGIN RSA PUBLIC KEY)
    unsigned char* pkcs1 = nullptr;
    int pkcs1_length = i2d_PublicKey(rsa.get(), &pkcs1);
    ASSERT_GT(pkcs1_length, 0);
    std::string pkcs1_der(reinterpret_cast<char*>(pkcs1), static_cast<std::size_t>(pkcs1_length));
    OPENSSL_free(pkcs1);
    EXPECT_EQ(hmac_secret_problem_text(pkcs1_der), "it is an RSA public key (PKCS #1) in DER");
    EXPECT_EQ(hmac_secret_problem_text(R"({"kty":"RSA","n":"0vx7","e":"AQAB"})"),
              "it is a JSON Web Key (a \"kty\" member): an HMAC key's secret is its \"k\", base64url-decoded");
    EXPECT_EQ(hmac_secret_problem_text(R"({"kty": "oct", "k": "c2VjcmV0"})"),
              "it is an HMAC key's JSON Web Key (\"kty\": \"oct\"), not its secret: the secret is its "
              "\"k\", base64url-decoded");
    // Only the symmetric JWK is told apart: its own message and hint.
    EXPECT_EQ(core::hmac_secret_problem(R"({"kty": "oct", "k": "c2VjcmV0"})").kind,
              core::HmacSecretProblem::Kind::symmetric_jwk);
    EXPECT_EQ(core::hmac_secret_problem(R"({"kty":"RSA","n":"0vx7","e":"AQAB"})").kind,
              core::HmacSecretProblem::Kind::public_key);
    // Secrets as identity providers and backends make them are taken.
    for (const char* secret :
         {"super-secret-jwt-token-with-at-least-32-characters-long",
          "the identity provider's secret, 32 bytes or more",
          "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
          "c2VjcmV0IGJ5dGVzIGluIGJhc2U2NCwgYXMgU3VwYWJhc2Ugd3JpdGVzIHRoZW0=",
          "0\x06\x02\x01\x03\x02\x01\x03 a tiny PKCS #1 key, then more"}) {
        EXPECT_EQ(hmac_secret_problem_text(secret), "") << secret;
    }
    std::string random(64, '\0');
    for (int round = 0; round < 1000; ++round) {
        for (std::size_t i = 0; i < random.size(); ++i) {
            random[i] = static_cast<char>((round * 131 + static_cast<int>(i) * 29 + (round ^ static_cast<int>(i)) * 7) & 0xFF);
        }
        EXPECT_EQ(hmac_secret_problem_text(random), "");
    }
    EXPECT_EQ(ERR_peek_error(), 0u);
}
