#include "core/token_signature.hpp"

#include <gtest/gtest.h>
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

struct KeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;

Key rsa_key(int bits) { return Key(EVP_RSA_gen(static_cast<unsigned>(bits))); }
Key ec_key(const char* curve) { return Key(EVP_EC_gen(curve)); }

std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key);
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

// A JWS signature of message: PKCS #1 v1.5 for RSA, R || S for EC.
std::string sign(EVP_PKEY* key, const std::string& message) {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_DigestSignInit(context.get(), nullptr, EVP_sha256(), nullptr, key);
    size_t length = 0;
    EVP_DigestSign(context.get(), nullptr, &length,
                   reinterpret_cast<const unsigned char*>(message.data()), message.size());
    std::string signature(length, '\0');
    EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(message.data()), message.size());
    signature.resize(length);
    if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return signature;
    const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())), ECDSA_SIG_free);
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    return raw;
}

}  // namespace

TEST(TokenSignature, NamesTheAlgorithmsAsJwsWritesThem) {
    EXPECT_EQ(core::parse_signing_algorithm("RS256"), SigningAlgorithm::rs256);
    EXPECT_EQ(core::parse_signing_algorithm("ES256"), SigningAlgorithm::es256);
    EXPECT_EQ(core::parse_signing_algorithm("HS256"), SigningAlgorithm::hs256);
    EXPECT_FALSE(core::parse_signing_algorithm("rs256"));
    EXPECT_FALSE(core::parse_signing_algorithm("none"));
    EXPECT_STREQ(core::to_string(SigningAlgorithm::es256), "ES256");
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
