#include "core/token_signature.hpp"

#include <gtest/gtest.h>

#include "openssl_test_keys.hpp"
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <memory>
#include <string>

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
    for (const char* name : {"HS256", "RS256", "PS256", "ES256", "ES384", "EdDSA"}) {
        auto algorithm = core::parse_signing_algorithm(name);
        ASSERT_TRUE(algorithm) << name;
        EXPECT_STREQ(core::to_string(*algorithm), name);
    }
    EXPECT_EQ(core::signing_algorithm_list(), "HS256, RS256, PS256, ES256, ES384 or EdDSA");
    EXPECT_EQ(core::public_key_algorithm_list(), "RS256, PS256, ES256, ES384 or EdDSA");
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
