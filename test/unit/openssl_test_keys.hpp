// OpenSSL keys and JWS signatures for the unit tests of src/core's token
// code (test/unit/*_test.cpp): generated per test, never stored.
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <memory>
#include <string>

namespace test_keys {

struct KeyDeleter {
    void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Key = std::unique_ptr<EVP_PKEY, KeyDeleter>;

inline Key rsa_key(int bits) { return Key(EVP_RSA_gen(static_cast<unsigned>(bits))); }
inline Key ec_key(const char* curve) { return Key(EVP_EC_gen(curve)); }

inline std::string public_pem(EVP_PKEY* key) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key);
    char* data = nullptr;
    long length = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(length));
}

inline Key ed_key(const char* type) { return Key(EVP_PKEY_Q_keygen(nullptr, nullptr, type)); }

// A JWS signature of message: PKCS #1 v1.5 for RSA (PSS with `pss`: PS256),
// R || S of the curve's size for EC (with `digest`: SHA-256 for ES256,
// SHA-384 for ES384), RFC 8032's for Ed25519 and Ed448.
inline std::string sign(EVP_PKEY* key, const std::string& message, const EVP_MD* digest = EVP_sha256(),
                        bool pss = false) {
    int type = EVP_PKEY_get_base_id(key);
    if (type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448) digest = nullptr;
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;
    EVP_DigestSignInit(context.get(), &key_context, digest, nullptr, key);
    if (pss) {
        EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING);
        EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST);
    }
    size_t length = 0;
    EVP_DigestSign(context.get(), nullptr, &length,
                   reinterpret_cast<const unsigned char*>(message.data()), message.size());
    std::string signature(length, '\0');
    EVP_DigestSign(context.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(message.data()), message.size());
    signature.resize(length);
    if (type != EVP_PKEY_EC) return signature;
    const auto* der = reinterpret_cast<const unsigned char*>(signature.data());
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(
        d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(signature.size())), ECDSA_SIG_free);
    int half = (EVP_PKEY_get_bits(key) + 7) / 8;
    std::string raw(2 * static_cast<std::size_t>(half), '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(sig.get()), reinterpret_cast<unsigned char*>(raw.data()), half);
    BN_bn2binpad(ECDSA_SIG_get0_s(sig.get()), reinterpret_cast<unsigned char*>(raw.data()) + half, half);
    return raw;
}

}  // namespace test_keys
