// libFuzzer target: hmac_secret_problem() (the check
// context_signing_keys_secret_not_public_key, 1.26) reads any bytes a DBA
// gives as an HMAC secret, decodes them as base64 and hex and parses them as
// DER. It must never crash, must leave OpenSSL's error queue empty, must say
// the same of the same bytes twice, and must refuse a real public key in
// each form it names, whatever follows it.
//
// Byte 0 is flags: bit 0, the candidate starts with a real public key's DER
// (P-256, made once) and the rest of the input follows it; otherwise the
// candidate is the rest of the input. Bits 1 and 2 choose its form: raw,
// base64, hex, or a PEM block's lines.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "core/token_signature.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

std::string p256_public_key_der() {
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), EVP_PKEY_free);
    if (!key) fail("could not make a P-256 key");
    unsigned char* der = nullptr;
    int length = i2d_PUBKEY(key.get(), &der);
    if (length <= 0) fail("could not write the key's DER");
    std::string out(reinterpret_cast<char*>(der), static_cast<std::size_t>(length));
    OPENSSL_free(der);
    return out;
}

std::string base64(std::string_view bytes) {
    std::string out(4 * ((bytes.size() + 2) / 3) + 1, '\0');
    int length = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                                 reinterpret_cast<const unsigned char*>(bytes.data()),
                                 static_cast<int>(bytes.size()));
    out.resize(static_cast<std::size_t>(length));
    return out;
}

std::string hex(std::string_view bytes) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : bytes) {
        out.push_back(digits[c >> 4]);
        out.push_back(digits[c & 15]);
    }
    return out;
}

// A PEM block's body without its BEGIN line, as a console shows it.
std::string pem_lines(std::string_view bytes) {
    std::string encoded = base64(bytes), out;
    for (std::size_t i = 0; i < encoded.size(); i += 64) out += encoded.substr(i, 64) + "\n";
    return out + "-----END PUBLIC KEY-----\n";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string key_der = p256_public_key_der();
    if (size == 0) return 0;
    const unsigned flags = data[0];
    std::string candidate(reinterpret_cast<const char*>(data + 1), size - 1);
    const bool starts_with_key = (flags & 1) != 0;
    if (starts_with_key) candidate = key_der + candidate;
    switch ((flags >> 1) & 3) {
        case 0: break;
        case 1: candidate = base64(candidate); break;
        case 2: candidate = hex(candidate); break;
        default: candidate = pem_lines(candidate); break;
    }
    using Kind = tenancy::core::HmacSecretProblem::Kind;
    const tenancy::core::HmacSecretProblem problem = tenancy::core::hmac_secret_problem(candidate);
    if (ERR_peek_error() != 0) fail("OpenSSL error queue not empty");
    if ((problem.kind == Kind::none) != problem.reason.empty()) fail("a kind without a reason, or the reverse");
    const tenancy::core::HmacSecretProblem again = tenancy::core::hmac_secret_problem(candidate);
    if (again.kind != problem.kind || again.reason != problem.reason) fail("two answers for the same bytes");
    if (starts_with_key && problem.kind != Kind::public_key) fail("a public key taken as an HMAC secret");
    return 0;
}
