// libFuzzer target: a context token from the network (any bytes) must never
// crash the splitter or the base64url decoder, and what they accept must be
// consistent: a token splits into exactly what its three segments decode to.
// A public key's PEM text (what a DBA inserts) must never crash its check.
// The signature of a token that splits, checked under every algorithm with a
// key of its kind, never verifies (the fuzzer signs nothing) and leaves
// OpenSSL's error queue empty: ES512's 132 bytes and the others' sizes, any
// bytes, reach the conversions and OpenSSL.
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/context_token.hpp"
#include "core/token_signature.hpp"

namespace core = tenancy::core;
using core::SigningAlgorithm;

namespace {

std::string pem_of(EVP_PKEY* key) {
    std::string pem;
    BIO* bio = BIO_new(BIO_s_mem());
    if (bio != nullptr && PEM_write_bio_PUBKEY(bio, key) == 1) {
        char* data = nullptr;
        long length = BIO_get_mem_data(bio, &data);
        pem.assign(data, static_cast<std::size_t>(length));
    }
    BIO_free(bio);
    EVP_PKEY_free(key);
    return pem;
}

// One public key per algorithm, made once: a key of the kind each verifies with.
struct Keys {
    std::string rsa = pem_of(EVP_RSA_gen(2048));
    std::string p256 = pem_of(EVP_EC_gen("P-256"));
    std::string p384 = pem_of(EVP_EC_gen("P-384"));
    std::string p521 = pem_of(EVP_EC_gen("P-521"));
    std::string ed25519 = pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
    std::string ed448 = pem_of(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED448"));
    const std::string& for_algorithm(SigningAlgorithm algorithm) const {
        switch (algorithm) {
            case SigningAlgorithm::es256: return p256;
            case SigningAlgorithm::es384: return p384;
            case SigningAlgorithm::es512: return p521;
            case SigningAlgorithm::eddsa:
            case SigningAlgorithm::ed25519: return ed25519;
            case SigningAlgorithm::ed448: return ed448;
            default: return rsa;  // RS*, PS*, and the HMAC ones (never verified by a PEM)
        }
    }
};

constexpr SigningAlgorithm kEveryAlgorithm[] = {
    SigningAlgorithm::hs256, SigningAlgorithm::hs384, SigningAlgorithm::hs512, SigningAlgorithm::rs256,
    SigningAlgorithm::rs384, SigningAlgorithm::rs512, SigningAlgorithm::ps256, SigningAlgorithm::ps384,
    SigningAlgorithm::ps512, SigningAlgorithm::es256, SigningAlgorithm::es384, SigningAlgorithm::es512,
    SigningAlgorithm::eddsa, SigningAlgorithm::ed25519, SigningAlgorithm::ed448};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);

    if (auto decoded = core::base64url_decode(text)) {
        if (decoded->size() > text.size()) std::abort();
    }
    // A public key's text (the keys table's check): never a crash, and a
    // problem or a key whichever algorithm.
    (void)core::public_key_problem(core::SigningAlgorithm::rs256, text);
    (void)core::public_key_problem(core::SigningAlgorithm::es256, text);

    // Escapes beyond ASCII become text: only backslashes are added.
    std::string escaped = core::escape_non_ascii_escapes(text);
    if (escaped.size() < text.size()) std::abort();

    std::string problem;
    auto segments = core::split_context_token(text, problem);
    if (segments) {
        if (!problem.empty() || text.size() > core::kMaxContextTokenBytes) std::abort();
        std::size_t dot = segments->signing_input.find('.');
        if (dot == std::string_view::npos) std::abort();
        if (core::base64url_decode(segments->signing_input.substr(0, dot)) != segments->header_json)
            std::abort();
        if (!core::equal_in_constant_time(segments->signature, segments->signature)) std::abort();
        static const Keys keys;
        ERR_clear_error();
        for (SigningAlgorithm algorithm : kEveryAlgorithm) {
            if (core::verify_public_key_signature(algorithm, keys.for_algorithm(algorithm),
                                                  segments->signing_input, segments->signature)) {
                std::abort();  // a signature nobody made
            }
            if (ERR_peek_error() != 0) std::abort();
        }
    } else if (problem.empty()) {
        std::abort();
    }
    return 0;
}
