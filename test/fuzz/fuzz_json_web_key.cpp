// libFuzzer target: a JSON Web Key's members (what tenancy.jwks_keys() reads
// out of an identity provider's JWK Set, so any text) must never crash the
// conversion to PEM or the RFC 7638 thumbprint, and what they produce must be
// consistent: a key is a PEM public key that public_key_problem() accepts for
// its algorithm, of exactly the JWK's numbers, with a key id the keys table
// takes (a kid, or the RFC 7638 thumbprint when there is none); anything else
// says why; OpenSSL's error queue is left empty either way.
//
// The input is split into the JWK's members. Byte 0 is flags (bit 0: a
// private member such as "d" is present; bit 1: a member is not a JSON
// string; bit 2: patch the canned "n", "x" and "y" with a chunk). Bytes 1 to 9
// choose each of kty, kid, use, alg, crv, n, e, x, y: 0 absent, 1 to 127 one
// of a few canned values (real keys' numbers, names providers use, and the
// near misses around them), 128 to 255 the next chunk of the rest of the
// input, which 0xFF bytes split. The canned values let the fuzzer reach the
// RSA and EC paths that random bytes alone hardly would (an RSA modulus of
// 2048 bits with no small factor, a point on P-256, P-384 or P-521, an Edwards curve key).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "core/context_token.hpp"
#include "core/json_web_key.hpp"
#include "core/tenant_context.hpp"
#include "core/token_signature.hpp"

namespace core = tenancy::core;

namespace {

// Real keys (openssl genpkey), as base64url without padding.
constexpr const char* kN2048 =
    "grX5cNFzJ7VAxvZNfFMqCg2tpGia5MYgQlRnGmgVWu1022Z-NGIex7n7BE3HylPbd4YI16iPjUJ3XllIoWYcbLOW9XoXDe"
    "oK3d9y0Af9oa_Z6GEWgY3_L2g_p9QwOTZ-JPRpY2j3Zo99QbNBmWLh5fQDlY1FYX30bk2jszOFrSCjuk-qtzoqyGnydn-7"
    "qCyM4ycJjuX5r3NjpBGqBesIAZVCLfio_Oyp49WgF2YOHli6OqvWcXnvamvwK3emv4fAj3GgcBhHfRG7ULBCg2plkeo4Ee"
    "B_iwmz2cItQn9CP5vdmcE-D7aQhfCDn7NKj6kix1dm-58xnldGYUGneBc65Q";
constexpr const char* kN1024 =
    "q5hvsWU0b-lPg_uXaBxlmg8bFwKo4UVYduQHwpkF7qwriUGGLe8qoaFmIgnYlUKp_M7oOpy8kKWThQ_On5Yy2jHUH-dZlr"
    "WNePIgtF8aFKE2jGyrBmen4m2-3llUdjpvlYFKydxdzX05Pl2Zy8LizxL_gUq6bYonh6YDeu0_6Oc";
constexpr const char* kN4096 =
    "wBIK1o_4q9-2Xrt5BOeocmI91zC1DDuZ_7kg11GZX1sxaCo6-pmK-iJobl58acD94hvQxrFT6Qj4rOYwOQvt5XW1ZoZJ6W"
    "xs70zP5I41eB8KhFe4KbQhFpv06svFHVjTS_esJTeEhfiuCOdCOMCR4q9bFakx1zE_vQT61ZlRpZU1n94B0wOp0j7mdDQ_"
    "KespfDQW39fLl9Nz45nBko-0OqC1nxBvI2lHHCR_UmypaiaoWWvtDYgRTgr9szldGZHej2MWUXpf62lkzohlTr-zE66OL1"
    "BI7PhUzJmk7SrDkNoJ-_p0_kxlLU1lMovEfkt_f5M1J52gC_n0Er60ywHFGkoKMwEjEHx4NgofRPBT1jcLUYeks5-3Gh3b"
    "b8UHOYH1eaCQN8yO4LKWPrqv5YQ_QVvKONIMww6lxshQCeEkzIoCCdW5J-sfzIBOdX1XNnu0bEaQPvefH0JLD_03heaiPd"
    "q3T5hVoz4n5SsCM1o6jZsQecv9qHrrX1Y_6G_uYoRPEE1WNQTNQxkC4jQHKSWILFzJDLKj5TMOOEzvCbp_hxdvcsuor_-Q"
    "MwcUBv-tpqgakL_pdvm_xu9dYvd-8K0FXXKdt1LwdmL6J4sOOlL0oi94UCzqOY-2BhPzp6fCJGgPMbsHqZqXDG5QwcNOU7"
    "dJVhgOAkuBuVOZlvyxb2Uz7SE";
constexpr const char* kX = "WGbDEikhTtqpddeX-v2HFgbMfWjI1OUdnlQuzVYoKmY";
constexpr const char* kY = "wjtgY-0fNJD-VDfQMHfUMQoGIjFOKidhRePxYdgE1mQ";
constexpr const char* kX384 = "KD_VSkEo3wmwOodX05i_egBvnLsTYo4HO3BTDNREso6I4MZ5IbM0kXGl1jOan-mY";
constexpr const char* kY384 = "b2H1TjbfFwdhQSqeYRQqPTz_evAzLJ1_g8t5ihmtwcMoVwF1Mi_WYDOIz33hjL8N";
// A point on P-521 (66-byte coordinates, the first byte 0 or 1).
constexpr const char* kX521 = "AKWH1Tx8eKnyWoZ9963MimdNOpGNq75tY9Xk06giS69LORfh3pgVFrWFyOz7r2MNPOVB1RMuj4xWxm12fj2F2D-H";
constexpr const char* kY521 = "AFw1d5eWP3SbpUetskCL0cThNTTeHZFqWoO1XJxa-H1tOio2W-Xb-8yz1hSW-ACdL7uItHWicG2j8rGYPB8gnrCd";
constexpr const char* kEd25519 = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";  // RFC 8037 A.2
constexpr const char* kEd448 =
    "YiERuxz46bbT-dXIbMALc7amIUJlZyXippFpjLIKeSZXKHcLH4GqE_eP0WOOxOvSmQOcyB8QirQA";

std::string decode(const char* text) { return *core::base64url_decode(text); }

// The canned values of each member, near misses included.
struct Canned {
    std::vector<std::string> kty, kid, use, alg, crv, n, e, x, y;
};

const Canned& canned() {
    static const Canned values = [] {
        Canned c;
        c.kty = {"RSA", "EC", "RSA", "EC", "oct", "OKP", "rsa", "OKP", ""};
        c.kid = {"k1", "abc+/def=", "", "a b\"\\", "\xc3\xa9t\xc3\xa9"};
        c.use = {"sig", "sig", "enc", "Sig", ""};
        c.alg = {"RS256", "ES256", "RS256", "ES256", "HS256", "RSA-OAEP", "PS256", "ES384", "EdDSA", "none", "rs256", "Ed25519", "Ed448",
                 "RS384", "RS512", "PS384", "PS512", "ES512", "HS512", "ES256K"};
        c.crv = {"P-256", "P-256", "P-384", "secp256k1", "Ed25519", "p-256", "Ed448", "X25519", "P-521"};
        std::string n2048 = decode(kN2048);
        std::string odd_off = n2048;
        odd_off.back() = static_cast<char>(odd_off.back() ^ 1);  // an even modulus
        c.n = {kN2048, kN2048, kN4096, kN1024,
               core::base64url_encode(std::string(1, '\0') + n2048),   // a leading zero byte (RFC 7518 says none)
               std::string(kN2048) + "==",               // padded
               core::base64url_encode(odd_off),
               core::base64url_encode(n2048.substr(1)),                  // 2040 bits
               "AQAB"};
        c.e = {"AQAB", "AQAB", "AAEAAQ", "Aw", "AQAC", "AQABAQ", "AQAAAAE", "AAAAAAAAAQAB", "AQAB="};
        std::string x = decode(kX), y = decode(kY);
        c.x = {kX, kX, core::base64url_encode(std::string(1, '\0') + x), core::base64url_encode(x.substr(1)), core::base64url_encode(std::string(32, '\0')), kY,
               kX384, kX521, kEd25519, kEd448, core::base64url_encode(decode(kEd25519).substr(1)),
               // Ed25519 keys of small order: the identity, and y = p - 1 (order 2)
               "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "7P_______________________________________38"};
        c.y = {kY, kY, core::base64url_encode(std::string(1, '\0') + y), core::base64url_encode(y.substr(1)), core::base64url_encode(std::string(32, '\0')), kX,
               kY384, kY521};
        return c;
    }();
    return values;
}

[[noreturn]] void fail(const char* what) {
    fprintf(stderr, "invariant broken: %s\n", what);
    std::abort();
}

void check_error_queue(const char* after) {
    if (ERR_peek_error() != 0) {
        fprintf(stderr, "OpenSSL error queue not empty after %s\n", after);
        std::abort();
    }
}

bool is_base64url(std::string_view text) {
    return text.find_first_not_of(
               "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") ==
           std::string_view::npos;
}

using Key = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;

Key read_pem(const std::string& pem) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
    return Key(bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr,
               EVP_PKEY_free);
}

bool same_number(EVP_PKEY* key, const char* name, const std::string& big_endian) {
    BIGNUM* from_key = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &from_key) != 1) return false;
    BIGNUM* from_jwk = BN_bin2bn(reinterpret_cast<const unsigned char*>(big_endian.data()),
                                 static_cast<int>(big_endian.size()), nullptr);
    bool same = from_jwk != nullptr && BN_cmp(from_key, from_jwk) == 0;
    BN_free(from_key);
    BN_free(from_jwk);
    return same;
}

// The size of each coordinate of the JWK's EC curve, or of its OKP key; 0
// for another curve.
std::size_t curve_bytes(const core::JsonWebKey& jwk) {
    if (jwk.kty == "EC") return jwk.crv == "P-256" ? 32 : jwk.crv == "P-384" ? 48 : jwk.crv == "P-521" ? 66 : 0;
    if (jwk.kty == "OKP") return jwk.crv == "Ed25519" ? 32 : jwk.crv == "Ed448" ? 57 : 0;
    return 0;
}

// The PEM of a key holds exactly the JWK's numbers.
void check_round_trip(const core::JsonWebKey& jwk, const core::JwkImport& imported) {
    Key key = read_pem(imported.pem);
    if (!key) fail("the PEM of a key does not read back");
    const int type = EVP_PKEY_get_base_id(key.get());
    unsigned char point[133];
    std::size_t length = 0;
    switch (imported.algorithm) {
        case core::SigningAlgorithm::rs256:
        case core::SigningAlgorithm::rs384:
        case core::SigningAlgorithm::rs512:
        case core::SigningAlgorithm::ps256:
        case core::SigningAlgorithm::ps384:
        case core::SigningAlgorithm::ps512:
            if (type != EVP_PKEY_RSA) fail("an RSA algorithm's PEM is no RSA key");
            if (!same_number(key.get(), OSSL_PKEY_PARAM_RSA_N, *core::base64url_decode(*jwk.n)) ||
                !same_number(key.get(), OSSL_PKEY_PARAM_RSA_E, *core::base64url_decode(*jwk.e))) {
                fail("an RSA key's PEM holds other numbers than its \"n\" and \"e\"");
            }
            break;
        case core::SigningAlgorithm::es256:
        case core::SigningAlgorithm::es384:
        case core::SigningAlgorithm::es512: {
            if (type != EVP_PKEY_EC) fail("an ECDSA key's PEM is no EC key");
            if (EVP_PKEY_get_octet_string_param(key.get(), OSSL_PKEY_PARAM_PUB_KEY, point, sizeof point,
                                                &length) != 1) {
                fail("an ECDSA key's PEM has no point");
            }
            // Coordinates shorter than the curve's size are taken padded.
            std::size_t bytes = curve_bytes(jwk);
            auto padded = [bytes](const std::string& member) {
                std::string decoded = *core::base64url_decode(member);
                return std::string(bytes - std::min(bytes, decoded.size()), '\0') + decoded;
            };
            std::string expected = "\x04" + padded(*jwk.x) + padded(*jwk.y);
            if (std::string_view(reinterpret_cast<const char*>(point), length) != expected) {
                fail("an ECDSA key's PEM holds another point than its \"x\" and \"y\"");
            }
            break;
        }
        case core::SigningAlgorithm::eddsa:
            if (type != (jwk.crv == "Ed25519" ? EVP_PKEY_ED25519 : EVP_PKEY_ED448)) {
                fail("an EdDSA key's PEM is no key of its curve");
            }
            length = sizeof point;
            if (EVP_PKEY_get_raw_public_key(key.get(), point, &length) != 1 ||
                std::string_view(reinterpret_cast<const char*>(point), length) != *core::base64url_decode(*jwk.x)) {
                fail("an EdDSA key's PEM holds another key than its \"x\"");
            }
            break;
        case core::SigningAlgorithm::hs256:
        case core::SigningAlgorithm::hs384:
        case core::SigningAlgorithm::hs512:
        case core::SigningAlgorithm::ed25519:
        case core::SigningAlgorithm::ed448:
            fail("a key taken for an HMAC algorithm, or under a name the keys table does not hold");
    }
    ERR_clear_error();  // ours, not the code under test's
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t kHeader = 10;
    auto header = [&](std::size_t i) -> std::uint8_t { return i < size ? data[i] : 0; };
    std::string_view rest;
    if (size > kHeader) rest = std::string_view(reinterpret_cast<const char*>(data) + kHeader, size - kHeader);
    std::vector<std::string_view> chunks;
    for (std::size_t start = 0; start <= rest.size() && !rest.empty();) {
        std::size_t end = rest.find('\xff', start);
        if (end == std::string_view::npos) end = rest.size();
        chunks.push_back(rest.substr(start, end - start));
        start = end + 1;
    }
    std::size_t next_chunk = 0;
    auto take_chunk = [&]() -> std::string {
        return next_chunk < chunks.size() ? std::string(chunks[next_chunk++]) : std::string();
    };

    const Canned& c = canned();
    const std::uint8_t flags = header(0);
    auto choose = [&](std::size_t i, const std::vector<std::string>& values) -> std::optional<std::string> {
        std::uint8_t selector = header(i);
        if (selector == 0) return std::nullopt;
        if (selector < 0x80) return values[(selector - 1) % values.size()];
        return take_chunk();
    };

    core::JsonWebKey jwk;
    jwk.kty = choose(1, c.kty);
    jwk.kid = choose(2, c.kid);
    jwk.use = choose(3, c.use);
    jwk.alg = choose(4, c.alg);
    jwk.crv = choose(5, c.crv);
    jwk.n = choose(6, c.n);
    jwk.e = choose(7, c.e);
    jwk.x = choose(8, c.x);
    jwk.y = choose(9, c.y);
    jwk.private_part = (flags & 1) != 0;
    if (flags & 2) jwk.not_a_string = "kid";
    if (flags & 4) {
        // Overwrite part of the canned numbers: the fuzzer's way to explore
        // the values around a real key.
        std::string patch = take_chunk();
        for (std::optional<std::string>* member : {&jwk.n, &jwk.x, &jwk.y}) {
            if (!*member || (*member)->empty() || patch.empty()) continue;
            std::size_t at = static_cast<unsigned char>(patch[0]) % (*member)->size();
            (*member)->replace(at, std::min(patch.size() - 1, (*member)->size() - at), patch.substr(1));
        }
    }

    ERR_clear_error();
    const std::string thumbprint = core::jwk_thumbprint(jwk);
    check_error_queue("jwk_thumbprint");
    if (!thumbprint.empty() && (thumbprint.size() != 43 || !is_base64url(thumbprint))) {
        fail("a thumbprint is not 43 base64url characters (a SHA-256)");
    }
    if (core::jwk_thumbprint(jwk) != thumbprint) fail("the thumbprint changes");
    // RSA's numbers are hashed in their fewest octets: they must decode, and not to zero.
    auto nonzero_number = [](const std::optional<std::string>& member) {
        auto bytes = member ? core::base64url_decode(*member) : std::nullopt;
        return bytes && bytes->find_first_not_of('\0') != std::string::npos;
    };
    // EC coordinates are hashed at the curve's full size: they must decode, and fit.
    auto coordinate = [&](const std::optional<std::string>& member) {
        auto bytes = member && !member->empty() && is_base64url(*member) ? core::base64url_decode(*member)
                                                                         : std::nullopt;
        return bytes && !bytes->empty() && bytes->size() <= curve_bytes(jwk);
    };
    bool thumbprintable = (jwk.kty == "RSA" && jwk.n && jwk.e && is_base64url(*jwk.n) &&
                           is_base64url(*jwk.e) && nonzero_number(jwk.n) && nonzero_number(jwk.e)) ||
                          (jwk.kty == "EC" && curve_bytes(jwk) > 0 && coordinate(jwk.x) && coordinate(jwk.y)) ||
                          (jwk.kty == "OKP" && curve_bytes(jwk) > 0 && jwk.x && !jwk.x->empty() &&
                           is_base64url(*jwk.x));
    if (thumbprintable == thumbprint.empty()) fail("a thumbprint where none is due, or none where one is");

    const core::JwkImport imported = core::import_json_web_key(jwk);
    check_error_queue("import_json_web_key");

    if (jwk.private_part != (imported.outcome == core::JwkImport::Outcome::secret) &&
        jwk.not_a_string.empty() && jwk.kty) {
        fail("a private key not told apart, or a public one taken for private");
    }
    if (imported.outcome != core::JwkImport::Outcome::key) {
        if (imported.reason.empty()) fail("a key passed over or refused without a reason");
        if (!imported.pem.empty() || !imported.key_id.empty()) fail("a key not taken has a PEM or key id");
        return 0;
    }
    if (!imported.reason.empty()) fail("a key taken has a reason");
    if (imported.algorithm == core::SigningAlgorithm::eddsa && jwk.crv == "Ed25519") {
        std::string y = *core::base64url_decode(*jwk.x);
        y[31] = static_cast<char>(y[31] & 0x7f);
        if (y == decode("AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA") ||
            y == decode("7P_______________________________________38")) {
            fail("an Ed25519 key of small order is taken");
        }
    }
    if (imported.key_id.empty()) fail("a key taken has no key id");
    if (!core::is_signing_key_id(imported.key_id)) fail("a key's id is one tenancy.context_signing_keys refuses");
    bool kid_taken = jwk.kid && core::is_signing_key_id(*jwk.kid);
    if (imported.key_id != (kid_taken ? *jwk.kid : thumbprint)) {
        fail("a key's id is neither its kid (one the table takes) nor its thumbprint");
    }
    if (jwk.private_part || !jwk.not_a_string.empty()) fail("a private key or a malformed member is taken");
    if (jwk.use && *jwk.use != "sig") fail("a key for another use is taken");
    auto named = jwk.alg ? core::parse_signing_algorithm(*jwk.alg) : std::nullopt;
    if (jwk.alg && (!named || core::key_algorithm(*named) != imported.algorithm)) {
        fail("a key is taken for another algorithm than its alg");
    }
    if (named && (*named == core::SigningAlgorithm::ed25519 || *named == core::SigningAlgorithm::ed448) &&
        jwk.crv != core::to_string(*named)) {
        fail("a key is taken for RFC 9864's Ed25519 or Ed448 on another curve");
    }
    if (imported.algorithm != core::key_algorithm(imported.algorithm)) fail("a key's algorithm is no key row's");
    bool served = false;
    switch (imported.algorithm) {
        case core::SigningAlgorithm::rs256:
        case core::SigningAlgorithm::rs384:
        case core::SigningAlgorithm::rs512:
        case core::SigningAlgorithm::ps256:
        case core::SigningAlgorithm::ps384:
        case core::SigningAlgorithm::ps512: served = jwk.kty == "RSA"; break;
        case core::SigningAlgorithm::es256: served = jwk.kty == "EC" && jwk.crv == "P-256"; break;
        case core::SigningAlgorithm::es384: served = jwk.kty == "EC" && jwk.crv == "P-384"; break;
        case core::SigningAlgorithm::es512: served = jwk.kty == "EC" && jwk.crv == "P-521"; break;
        case core::SigningAlgorithm::eddsa:
            served = jwk.kty == "OKP" && (jwk.crv == "Ed25519" || jwk.crv == "Ed448");
            break;
        case core::SigningAlgorithm::hs256:
        case core::SigningAlgorithm::hs384:
        case core::SigningAlgorithm::hs512:
        case core::SigningAlgorithm::ed25519:
        case core::SigningAlgorithm::ed448: break;
    }
    if (!served) fail("a key is taken for an algorithm its kty (and crv) do not serve");
    if (core::is_hmac(imported.algorithm)) fail("a public key taken for an HMAC algorithm");
    if (imported.pem.rfind("-----BEGIN PUBLIC KEY-----\n", 0) != 0) fail("a key's PEM is not SubjectPublicKeyInfo");
    const std::string problem = core::public_key_problem(imported.algorithm, imported.pem);
    check_error_queue("public_key_problem");
    // OpenSSL checks an RSA modulus with Miller-Rabin rounds of random bases
    // (SP 800-56B): a junk modulus the fuzzer patched together can pass one
    // check and, a base revealing a factor, fail the next. A real key (two
    // large primes) passes every time.
    bool rsa_check_by_chance = jwk.kty == "RSA";
    if (!problem.empty() && !(rsa_check_by_chance && problem.find("OpenSSL's checks") != std::string::npos)) {
        fprintf(stderr, "public_key_problem: %s\n", problem.c_str());
        fail("a key taken is one public_key_problem() refuses");
    }
    check_round_trip(jwk, imported);
    return 0;
}
