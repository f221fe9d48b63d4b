#include "core/token_signature.hpp"

#include <cstdint>
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
#include <openssl/rsa.h>
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
constexpr std::size_t kMaxPemBytes = 64 * 1024;

// What each algorithm asks of its key and how its signature is checked.
// RSA keys sign with PKCS #1 v1.5 (RS*) or PSS (PS*).
enum class KeyFamily { secret, rsa, rsa_pss, ec, edwards };

struct AlgorithmTraits {
    SigningAlgorithm algorithm;
    const char* name;            // as JWS writes it
    KeyFamily family;
    const char* curve_group;     // ECDSA: OpenSSL's group name of the curve
    int edwards_type;            // EdDSA: the one curve taken (EVP_PKEY_*), or 0 for either
    const char* key_needed;      // what a key must be, for a message
    std::size_t coordinate_bytes;  // ECDSA: the size of R and of S
    const EVP_MD* (*digest)();   // nullptr for EdDSA (it hashes itself)
    SigningAlgorithm key_rows;   // the algorithm of the keys that verify it
};

const EVP_MD* no_digest() { return nullptr; }

constexpr const char* kSecret = "a secret, not a public key";
constexpr const char* kRsaKey = "an RSA key";

// In the order messages list them.
constexpr AlgorithmTraits kAlgorithms[] = {
    {SigningAlgorithm::hs256, "HS256", KeyFamily::secret, nullptr, 0, kSecret, 0, EVP_sha256,
     SigningAlgorithm::hs256},
    {SigningAlgorithm::hs384, "HS384", KeyFamily::secret, nullptr, 0, kSecret, 0, EVP_sha384,
     SigningAlgorithm::hs384},
    {SigningAlgorithm::hs512, "HS512", KeyFamily::secret, nullptr, 0, kSecret, 0, EVP_sha512,
     SigningAlgorithm::hs512},
    {SigningAlgorithm::rs256, "RS256", KeyFamily::rsa, nullptr, 0, kRsaKey, 0, EVP_sha256,
     SigningAlgorithm::rs256},
    {SigningAlgorithm::rs384, "RS384", KeyFamily::rsa, nullptr, 0, kRsaKey, 0, EVP_sha384,
     SigningAlgorithm::rs384},
    {SigningAlgorithm::rs512, "RS512", KeyFamily::rsa, nullptr, 0, kRsaKey, 0, EVP_sha512,
     SigningAlgorithm::rs512},
    {SigningAlgorithm::ps256, "PS256", KeyFamily::rsa_pss, nullptr, 0, kRsaKey, 0, EVP_sha256,
     SigningAlgorithm::ps256},
    {SigningAlgorithm::ps384, "PS384", KeyFamily::rsa_pss, nullptr, 0, kRsaKey, 0, EVP_sha384,
     SigningAlgorithm::ps384},
    {SigningAlgorithm::ps512, "PS512", KeyFamily::rsa_pss, nullptr, 0, kRsaKey, 0, EVP_sha512,
     SigningAlgorithm::ps512},
    {SigningAlgorithm::es256, "ES256", KeyFamily::ec, "prime256v1", 0,
     "an EC key on the curve P-256 (prime256v1)", 32, EVP_sha256, SigningAlgorithm::es256},
    {SigningAlgorithm::es384, "ES384", KeyFamily::ec, "secp384r1", 0,
     "an EC key on the curve P-384 (secp384r1)", 48, EVP_sha384, SigningAlgorithm::es384},
    // RFC 7518 §3.4: P-521's R and S are 66 bytes each (521 bits, rounded up).
    {SigningAlgorithm::es512, "ES512", KeyFamily::ec, "secp521r1", 0,
     "an EC key on the curve P-521 (secp521r1)", 66, EVP_sha512, SigningAlgorithm::es512},
    {SigningAlgorithm::eddsa, "EdDSA", KeyFamily::edwards, nullptr, 0, "an Ed25519 or Ed448 key", 0,
     no_digest, SigningAlgorithm::eddsa},
    {SigningAlgorithm::ed25519, "Ed25519", KeyFamily::edwards, nullptr, EVP_PKEY_ED25519,
     "an Ed25519 key", 0, no_digest, SigningAlgorithm::eddsa},
    {SigningAlgorithm::ed448, "Ed448", KeyFamily::edwards, nullptr, EVP_PKEY_ED448, "an Ed448 key", 0,
     no_digest, SigningAlgorithm::eddsa},
};

const AlgorithmTraits& traits_of(SigningAlgorithm algorithm) {
    for (const auto& traits : kAlgorithms) {
        if (traits.algorithm == algorithm) return traits;
    }
    return kAlgorithms[0];  // every enumerator is in the table
}

enum class Listed { every, public_key, key_rows };

std::string algorithm_list(Listed listed) {
    std::vector<const char*> names;
    for (const auto& traits : kAlgorithms) {
        bool secret = traits.family == KeyFamily::secret;
        bool key_row = traits.key_rows == traits.algorithm;
        if (listed == Listed::every || (!secret && (listed == Listed::public_key || key_row))) {
            names.push_back(traits.name);
        }
    }
    std::string list;
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) list += i + 1 == names.size() ? " or " : ", ";
        list += names[i];
    }
    return list;
}

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
        // OpenSSL refuses RSA moduli under 512 bits (and with small factors):
        // too small is the reason to give, as for one it takes.
        if (EVP_PKEY_get_base_id(key.get()) == EVP_PKEY_RSA && EVP_PKEY_get_bits(key.get()) < kMinRsaBits) {
            return {nullptr, "an RSA key of " + std::to_string(EVP_PKEY_get_bits(key.get())) +
                                 " bits: 2048 bits or more are needed"};
        }
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

using Number = std::unique_ptr<BIGNUM, decltype(&BN_free)>;

Number little_endian_number(const unsigned char* bytes, std::size_t length) {
    return Number(BN_lebin2bn(bytes, static_cast<int>(length), nullptr), BN_free);
}

// An Edwards curve of RFC 8032: its field's prime, its d, and whether its
// equation is -x^2 + y^2 = 1 + d x^2 y^2 (Ed25519, twisted) or x^2 + y^2 = 1 +
// d x^2 y^2 (Ed448), in hex.
struct EdwardsCurve {
    const char* name;
    std::size_t key_bytes;
    const char* prime;
    const char* d;
    bool twisted;
};

constexpr EdwardsCurve kEd25519{"an Ed25519 key", 32,
                                "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed",
                                "52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3", true};
constexpr EdwardsCurve kEd448{
    "an Ed448 key", 57,
    "fffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "fffffffffffffffffffffffffffffffffffffffffffffffffffffffeffffffffffffffffffffffffffffffffffffffffffffffffffff6756",
    false};

// The y (little-endian) of each Ed25519 point of order 8; the other small
// orders are y = 0, 1 and p - 1 on both curves.
constexpr unsigned char kEd25519Order8[2][32] = {
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
};

Number hex_number(const char* hex) {
    BIGNUM* number = nullptr;
    return Number(BN_hex2bn(&number, hex) > 0 ? number : nullptr, BN_free);
}

// Why an Ed25519 or Ed448 public key must not verify tokens, or "". OpenSSL
// takes any 32 or 57 bytes as a key. A point of small order (the identity,
// the order-2 point, those of order 4 and 8) makes one fixed signature (R the
// identity, S = 0) verify messages nobody signed; y at or above the field's
// prime is another spelling of a small y; bytes that are no point verify
// nothing (a corrupted key, taken silently). Refused, as libsodium refuses
// them (RFC 8032 §5.1.3 and §5.2.3 decode only canonical points). A key of
// mixed order (a prime-order point plus a torsion point) lets only its
// holder's signatures through, and is taken, as libsodium takes it.
std::string edwards_key_problem(EVP_PKEY* key) {
    const EdwardsCurve& curve = EVP_PKEY_get_base_id(key) == EVP_PKEY_ED25519 ? kEd25519 : kEd448;
    std::string name = curve.name;
    unsigned char raw[57];
    std::size_t length = sizeof raw;
    if (EVP_PKEY_get_raw_public_key(key, raw, &length) != 1 || length != curve.key_bytes) {
        return name + " OpenSSL cannot read";
    }
    // The encoding is y, little-endian, and the sign of x in the top bit
    // (Ed25519: bit 255; Ed448: bit 455, the other bits of the last byte 0).
    bool x_sign = (raw[length - 1] & 0x80) != 0;
    raw[length - 1] &= 0x7f;
    if (&curve == &kEd448) {
        if (raw[56] != 0) return name + " not in its canonical encoding (bits set in its last byte)";
        length = 56;
    }
    std::unique_ptr<BN_CTX, decltype(&BN_CTX_free)> context(BN_CTX_new(), BN_CTX_free);
    Number y = little_endian_number(raw, length), prime = hex_number(curve.prime), d = hex_number(curve.d);
    Number y2(BN_new(), BN_free), u(BN_new(), BN_free), v(BN_new(), BN_free), x2(BN_new(), BN_free);
    if (!context || !y || !prime || !d || !y2 || !u || !v || !x2) return "out of memory";
    if (BN_cmp(y.get(), prime.get()) >= 0) {
        return name + " not in its canonical encoding (y is the field's prime or more)";
    }
    Number minus_one(BN_dup(prime.get()), BN_free);
    bool small_order = !minus_one || BN_sub_word(minus_one.get(), 1) != 1 || BN_is_zero(y.get()) ||
                       BN_is_one(y.get()) || BN_cmp(y.get(), minus_one.get()) == 0;
    for (const auto& order8 : kEd25519Order8) {
        if (&curve != &kEd25519 || small_order) break;
        Number torsion = little_endian_number(order8, sizeof order8);
        small_order = !torsion || BN_cmp(y.get(), torsion.get()) == 0;
    }
    if (small_order) return name + " of small order (a point that verifies forged signatures)";
    // x^2 = (y^2 - 1) / (d y^2 + 1) on Ed25519, (y^2 - 1) / (d y^2 - 1) on
    // Ed448: y is a point's when that is a square (RFC 8032 §5.1.3 step 2).
    bool computed = BN_mod_sqr(y2.get(), y.get(), prime.get(), context.get()) == 1 &&
                    BN_copy(u.get(), y2.get()) != nullptr && BN_sub_word(u.get(), 1) == 1 &&
                    BN_mod_mul(v.get(), d.get(), y2.get(), prime.get(), context.get()) == 1 &&
                    (curve.twisted ? BN_add_word(v.get(), 1) : BN_sub_word(v.get(), 1)) == 1 &&
                    BN_nnmod(v.get(), v.get(), prime.get(), context.get()) == 1 &&
                    BN_mod_inverse(v.get(), v.get(), prime.get(), context.get()) != nullptr &&
                    BN_mod_mul(x2.get(), u.get(), v.get(), prime.get(), context.get()) == 1;
    if (!computed) return name + " whose y OpenSSL cannot check";
    if (BN_kronecker(x2.get(), prime.get(), context.get()) == -1) {
        return name + " that is no point on its curve";
    }
    // x = 0 has no sign: the sign bit set is another spelling (§5.1.3 step 4).
    if (BN_is_zero(x2.get()) && x_sign) return name + " not in its canonical encoding (x = 0 with a sign)";
    return "";
}

// Why a decoded key cannot verify tokens of an algorithm, or "".
std::string algorithm_problem(SigningAlgorithm algorithm, EVP_PKEY* key) {
    const AlgorithmTraits& traits = traits_of(algorithm);
    std::string needs = std::string(traits.name) + " needs " + traits.key_needed;
    int type = EVP_PKEY_get_base_id(key);
    switch (traits.family) {
        case KeyFamily::secret:
            return std::string(traits.name) + " keys are secrets, not public keys";
        case KeyFamily::rsa:
        case KeyFamily::rsa_pss:
            if (type == EVP_PKEY_RSA_PSS) {
                return needs + " (rsaEncryption): a key restricted to RSASSA-PSS (id-RSASSA-PSS) is "
                               "not taken; give the same key as a plain RSA public key";
            }
            if (type != EVP_PKEY_RSA) return needs;
            if (EVP_PKEY_get_bits(key) < kMinRsaBits) return needs + " of 2048 bits or more";
            return "";
        case KeyFamily::ec: {
            char group[64] = {0};
            size_t length = 0;
            if (type != EVP_PKEY_EC ||
                EVP_PKEY_get_group_name(key, group, sizeof group, &length) != 1 ||
                std::string_view(group, length) != traits.curve_group) {
                return needs;
            }
            return "";
        }
        case KeyFamily::edwards: {
            bool curve_taken = traits.edwards_type != 0 ? type == traits.edwards_type
                                                        : type == EVP_PKEY_ED25519 || type == EVP_PKEY_ED448;
            return curve_taken ? edwards_key_problem(key) : needs;
        }
    }
    return "unknown algorithm";
}

// ECDSA's R || S (each the curve's size, as JWS writes them) as the DER
// ECDSA-Sig-Value OpenSSL verifies.
std::optional<std::vector<unsigned char>> ecdsa_der(std::string_view signature,
                                                    std::size_t coordinate_bytes) {
    if (signature.size() != 2 * coordinate_bytes) return std::nullopt;
    const auto* bytes = reinterpret_cast<const unsigned char*>(signature.data());
    int half = static_cast<int>(coordinate_bytes);
    std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
    if (!sig) return std::nullopt;
    BIGNUM* r = BN_bin2bn(bytes, half, nullptr);
    BIGNUM* s = BN_bin2bn(bytes + half, half, nullptr);
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

// What a DER text starts with, if it is a public key ("a public key", "a
// certificate"), or nullptr. A prefix counts: an unknown tail after the key
// is as guessable as a newline.
const char* der_public_key(std::string_view der) {
    const auto* start = reinterpret_cast<const unsigned char*>(der.data());
    long length = static_cast<long>(der.size());
    const unsigned char* next = start;
    if (Key(d2i_PUBKEY(nullptr, &next, length))) return "a public key (SubjectPublicKeyInfo)";
    next = start;
    std::unique_ptr<X509, decltype(&X509_free)> certificate(d2i_X509(nullptr, &next, length), X509_free);
    if (certificate) return "a certificate";
    next = start;
    // (Eight bytes of DER make a PKCS #1 key of a tiny modulus: a random
    // binary secret is not taken for one.)
    Key rsa(d2i_PublicKey(EVP_PKEY_RSA, nullptr, &next, length));
    if (rsa && EVP_PKEY_get_bits(rsa.get()) >= 512) return "an RSA public key (PKCS #1)";
    return nullptr;
}

// Base64 (standard or base64url, padded or not, white space anywhere), or
// hex (white space and ':' anywhere) decoded; nullopt for other text.
std::optional<std::string> lenient_decode(std::string_view text, bool hex) {
    std::string out;
    std::uint32_t bits = 0;
    int bit_count = 0;
    bool padding = false;
    for (char c : text) {
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n' || (hex && c == ':')) continue;
        int value = -1;
        if (hex) {
            if (c >= '0' && c <= '9') value = c - '0';
            else if (c >= 'a' && c <= 'f') value = c - 'a' + 10;
            else if (c >= 'A' && c <= 'F') value = c - 'A' + 10;
        } else if (c == '=') {
            padding = true;
            continue;
        } else if (!padding) {
            if (c >= 'A' && c <= 'Z') value = c - 'A';
            else if (c >= 'a' && c <= 'z') value = c - 'a' + 26;
            else if (c >= '0' && c <= '9') value = c - '0' + 52;
            else if (c == '+' || c == '-') value = 62;
            else if (c == '/' || c == '_') value = 63;
        }
        if (value < 0) return std::nullopt;
        int width = hex ? 4 : 6;
        bits = (bits << width) | static_cast<std::uint32_t>(value);
        bit_count += width;
        if (bit_count >= 8) {
            bit_count -= 8;
            out.push_back(static_cast<char>((bits >> bit_count) & 0xFF));
        }
    }
    return out;
}

// The key of the first PEM block in `text` (the base64 between its BEGIN
// line and the next "-----"), if it is a public key, or nullptr.
const char* pem_public_key(std::string_view text) {
    std::size_t begin = text.find("-----BEGIN");
    if (begin == std::string_view::npos) return nullptr;
    std::size_t label_end = text.find("-----", begin + 10);
    if (label_end == std::string_view::npos) return nullptr;
    std::string_view body = text.substr(label_end + 5);
    auto bytes = lenient_decode(body.substr(0, body.find("-----")), false);
    return bytes ? der_public_key(*bytes) : nullptr;
}

}  // namespace

HmacSecretProblem hmac_secret_problem(std::string_view secret) {
    using Kind = HmacSecretProblem::Kind;
    OpenSslErrorQueueCleaner cleaner;
    auto public_key = [](const char* key, const char* form) {
        return HmacSecretProblem{Kind::public_key, std::string("it is ") + key + " " + form};
    };
    if (const char* key = der_public_key(secret)) return public_key(key, "in DER");
    // A PEM block's body: its BEGIN line cut off (the table refuses that
    // one), its END line left on, or neither.
    std::string_view body = secret.substr(0, secret.find("-----"));
    for (bool hex : {false, true}) {
        auto bytes = lenient_decode(body, hex);
        if (!bytes) continue;
        if (const char* key = der_public_key(*bytes)) return public_key(key, hex ? "in hex" : "in base64");
        // The whole PEM text in base64, as a Kubernetes secret or an
        // environment variable holds it.
        if (const char* key = hex ? nullptr : pem_public_key(*bytes)) {
            return public_key(key, "in PEM, in base64");
        }
    }
    if (secret.find("\"kty\"") != std::string_view::npos) {
        if (secret.find("\"oct\"") != std::string_view::npos) {
            return {Kind::symmetric_jwk,
                    "it is an HMAC key's JSON Web Key (\"kty\": \"oct\"), not its secret: the secret is "
                    "its \"k\", base64url-decoded"};
        }
        return {Kind::public_key, "it is a JSON Web Key (a \"kty\" member): an HMAC key's secret is its "
                                  "\"k\", base64url-decoded"};
    }
    return {};
}

OpenSslErrorQueueCleaner::~OpenSslErrorQueueCleaner() { ERR_clear_error(); }

std::optional<SigningAlgorithm> parse_signing_algorithm(std::string_view name) {
    for (const auto& traits : kAlgorithms) {
        if (name == traits.name) return traits.algorithm;
    }
    return std::nullopt;
}

const char* to_string(SigningAlgorithm algorithm) { return traits_of(algorithm).name; }

SigningAlgorithm key_algorithm(SigningAlgorithm algorithm) { return traits_of(algorithm).key_rows; }

bool is_hmac(SigningAlgorithm algorithm) { return traits_of(algorithm).family == KeyFamily::secret; }

std::size_t hmac_bytes(SigningAlgorithm algorithm) {
    const AlgorithmTraits& traits = traits_of(algorithm);
    return traits.family == KeyFamily::secret ? static_cast<std::size_t>(EVP_MD_get_size(traits.digest()))
                                              : 0;
}

std::string signing_algorithm_list() { return algorithm_list(Listed::every); }
std::string public_key_algorithm_list() { return algorithm_list(Listed::public_key); }
std::string key_row_algorithm_list() { return algorithm_list(Listed::key_rows); }

std::string public_key_problem(SigningAlgorithm algorithm, std::string_view pem) {
    OpenSslErrorQueueCleaner cleaner;
    Decoded decoded = decode_public_key(pem);
    if (!decoded.key) return decoded.problem;
    return algorithm_problem(algorithm, decoded.key.get());
}

bool verify_public_key_signature(SigningAlgorithm algorithm, std::string_view pem,
                                 std::string_view signing_input, std::string_view signature) {
    OpenSslErrorQueueCleaner cleaner;
    const AlgorithmTraits& traits = traits_of(algorithm);
    if (traits.family == KeyFamily::secret) return false;
    EVP_PKEY* key = cached_public_key(pem);
    if (key == nullptr || !algorithm_problem(algorithm, key).empty()) return false;
    std::vector<unsigned char> der;
    std::string_view to_verify = signature;
    if (traits.family == KeyFamily::ec) {
        auto converted = ecdsa_der(signature, traits.coordinate_bytes);
        if (!converted) return false;
        der = std::move(*converted);
        to_verify = std::string_view(reinterpret_cast<const char*>(der.data()), der.size());
    }
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    EVP_MD_CTX_free);
    EVP_PKEY_CTX* key_context = nullptr;  // owned by `context`
    if (!context ||
        EVP_DigestVerifyInit(context.get(), &key_context, traits.digest(), nullptr, key) != 1) {
        return false;
    }
    // PS256, PS384, PS512 (RFC 7518 §3.5): PSS with MGF1 over the same
    // digest and a salt of the digest's size (32, 48, 64 bytes), as the RFC
    // asks and as PyJWT, Nimbus and jose verify it (golang-jwt also takes
    // other salt lengths).
    if (traits.family == KeyFamily::rsa_pss &&
        (EVP_PKEY_CTX_set_rsa_padding(key_context, RSA_PKCS1_PSS_PADDING) != 1 ||
         EVP_PKEY_CTX_set_rsa_mgf1_md(key_context, traits.digest()) != 1 ||
         EVP_PKEY_CTX_set_rsa_pss_saltlen(key_context, RSA_PSS_SALTLEN_DIGEST) != 1)) {
        return false;
    }
    return EVP_DigestVerify(context.get(), reinterpret_cast<const unsigned char*>(to_verify.data()),
                            to_verify.size(),
                            reinterpret_cast<const unsigned char*>(signing_input.data()),
                            signing_input.size()) == 1;
}

}  // namespace tenancy::core
