#include "core/context_token.hpp"

#include <gtest/gtest.h>

namespace core = tenancy::core;
using core::JsonClaim;
using core::TokenVerdict;

TEST(Base64url, DecodesRfc4648VectorsWithoutPadding) {
    // RFC 4648 §10, with the padding JWS leaves out.
    EXPECT_EQ(core::base64url_decode(""), "");
    EXPECT_EQ(core::base64url_decode("Zg"), "f");
    EXPECT_EQ(core::base64url_decode("Zm8"), "fo");
    EXPECT_EQ(core::base64url_decode("Zm9v"), "foo");
    EXPECT_EQ(core::base64url_decode("Zm9vYg"), "foob");
    EXPECT_EQ(core::base64url_decode("Zm9vYmE"), "fooba");
    EXPECT_EQ(core::base64url_decode("Zm9vYmFy"), "foobar");
    // The URL-safe alphabet: '-' and '_' where base64 has '+' and '/'.
    EXPECT_EQ(core::base64url_decode("-_8"), std::string("\xfb\xff", 2));
}

TEST(Base64url, RefusesPaddingOtherAlphabetsAndImpossibleLengths) {
    EXPECT_FALSE(core::base64url_decode("Zg=="));
    EXPECT_FALSE(core::base64url_decode("+/8"));
    EXPECT_FALSE(core::base64url_decode("Zm9vY"));  // 4n+1 characters
    EXPECT_FALSE(core::base64url_decode("Zm 9v"));
    EXPECT_FALSE(core::base64url_decode(std::string("Zm\0v", 4)));
}

TEST(ContextToken, SplitsAndDecodesItsThreeSegments) {
    // {"alg":"HS256","typ":"JWT"} . {"sub":"x"} . "sig"
    std::string token = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0.c2ln";
    std::string problem;
    auto segments = core::split_context_token(token, problem);
    ASSERT_TRUE(segments) << problem;
    EXPECT_EQ(segments->header_json, R"({"alg":"HS256","typ":"JWT"})");
    EXPECT_EQ(segments->payload_json, R"({"sub":"x"})");
    EXPECT_EQ(segments->signature, "sig");
    EXPECT_EQ(segments->signing_input, "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJ4In0");
}

// RFC 7515 §A.5: an unsecured JWS ("alg": "none") has an empty signature.
// It is split (its header's algorithm is what gets it refused), with no
// signature bytes.
TEST(ContextToken, SplitsAnUnsecuredTokenWithItsEmptySignature) {
    std::string problem;
    auto segments = core::split_context_token("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.", problem);
    ASSERT_TRUE(segments) << problem;
    EXPECT_EQ(segments->header_json, R"({"alg":"none"})");
    EXPECT_EQ(segments->signature, "");
    core::ContextTokenClaims header;
    header.alg = JsonClaim{};
    header.alg->kind = JsonClaim::Kind::string;
    header.alg->text = "none";
    EXPECT_FALSE(core::header_algorithm(header));
}

TEST(ContextToken, RefusesWhatIsNotThreeSegments) {
    std::string problem;
    for (const char* token : {"", "abc", "a.b", "a.b.c.d", "..", "Zm9v..c2ln", ".Zm9v.",
                              "Zm9v.Zm9v.c2ln=", "Zm9v.Zm9v.c2l*"}) {
        problem.clear();
        EXPECT_FALSE(core::split_context_token(token, problem)) << token;
        EXPECT_FALSE(problem.empty()) << token;
    }
    // A zero byte in the JSON: the parser takes C strings.
    EXPECT_FALSE(core::split_context_token("AA.Zm9v.c2ln", problem));
    EXPECT_NE(problem.find("zero byte"), std::string::npos);
    std::string too_long(core::kMaxContextTokenBytes + 1, 'a');
    EXPECT_FALSE(core::split_context_token(too_long, problem));
    EXPECT_NE(problem.find("longer than"), std::string::npos);
}

TEST(ContextToken, ComparesSignaturesOverTheirWholeLength) {
    EXPECT_TRUE(core::equal_in_constant_time("abc", "abc"));
    EXPECT_TRUE(core::equal_in_constant_time("", ""));
    EXPECT_FALSE(core::equal_in_constant_time("abc", "abd"));
    EXPECT_FALSE(core::equal_in_constant_time("xbc", "abc"));
    EXPECT_FALSE(core::equal_in_constant_time("abc", "abcd"));
}

namespace {
JsonClaim claim(JsonClaim::Kind kind, const char* value) {
    JsonClaim claim;
    claim.kind = kind;
    claim.text = value;
    return claim;
}
JsonClaim text(const char* value) { return claim(JsonClaim::Kind::string, value); }
JsonClaim number(const char* value) { return claim(JsonClaim::Kind::number, value); }
constexpr const char* kUser = "00000000-0000-4000-b000-0000000000c1";
}  // namespace

TEST(ContextToken, AcceptsTheListedAlgorithmsOnly) {
    core::ContextTokenClaims header;
    EXPECT_FALSE(core::header_algorithm(header));
    for (const char* refused : {"none", "hs256", "HS1", "RS1", "RS1024", "PS", "ES256K", "ES521", "eddsa",
                                "ed25519", "X25519", "RSA-OAEP", "dir", ""}) {
        header.alg = text(refused);
        EXPECT_FALSE(core::header_algorithm(header)) << refused;
    }
    header.alg = claim(JsonClaim::Kind::other, "");
    EXPECT_FALSE(core::header_algorithm(header));
    header.alg = text("HS256");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::hs256);
    header.alg = text("RS256");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::rs256);
    header.alg = text("ES256");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::es256);
    header.alg = text("PS256");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::ps256);
    header.alg = text("ES384");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::es384);
    header.alg = text("EdDSA");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::eddsa);
    // 1.18: the rest of RFC 7518 §3.1.
    header.alg = text("HS384");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::hs384);
    header.alg = text("HS512");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::hs512);
    header.alg = text("RS384");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::rs384);
    header.alg = text("RS512");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::rs512);
    header.alg = text("PS384");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::ps384);
    header.alg = text("PS512");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::ps512);
    header.alg = text("ES512");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::es512);
    // RFC 9864's names of EdDSA on one curve.
    header.alg = text("Ed25519");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::ed25519);
    header.alg = text("Ed448");
    EXPECT_EQ(core::header_algorithm(header), core::SigningAlgorithm::ed448);
}

TEST(ContextToken, JudgesTheClaimsAtAGivenTime) {
    core::ContextTokenClaims claims;
    claims.sub = text(kUser);
    claims.exp = number("1000");
    auto check = core::check_context_claims(claims, 999.5);
    EXPECT_EQ(check.verdict, TokenVerdict::valid);
    EXPECT_EQ(check.user_id.to_string(), kUser);
    // RFC 7519: invalid from exp on, valid from nbf on.
    EXPECT_EQ(core::check_context_claims(claims, 1000).verdict, TokenVerdict::expired);
    claims.nbf = number("999");
    EXPECT_EQ(core::check_context_claims(claims, 998.9).verdict, TokenVerdict::not_yet_valid);
    EXPECT_EQ(core::check_context_claims(claims, 999).verdict, TokenVerdict::valid);
    // Fractions and exponents are JSON numbers too.
    claims.nbf.reset();
    claims.exp = number("1.5e3");
    EXPECT_EQ(core::check_context_claims(claims, 1499).verdict, TokenVerdict::valid);
}

TEST(ContextToken, RefusesClaimsThatProveNothing) {
    core::ContextTokenClaims claims;
    claims.exp = number("1000");
    EXPECT_EQ(core::check_context_claims(claims, 0).verdict, TokenVerdict::bad_subject);
    claims.sub = text("auth0|123");
    EXPECT_EQ(core::check_context_claims(claims, 0).verdict, TokenVerdict::bad_subject);
    claims.sub = number("7");
    EXPECT_EQ(core::check_context_claims(claims, 0).verdict, TokenVerdict::bad_subject);
    claims.sub = text(kUser);
    claims.exp.reset();
    EXPECT_EQ(core::check_context_claims(claims, 0).verdict, TokenVerdict::no_expiry);
    claims.exp = text("1000");
    EXPECT_EQ(core::check_context_claims(claims, 0).verdict, TokenVerdict::bad_time);
    claims.exp = number("1e999");
    EXPECT_EQ(core::check_context_claims(claims, 0).verdict, TokenVerdict::bad_time);
    claims.exp = number("1000");
    claims.nbf = text("0");
    EXPECT_EQ(core::check_context_claims(claims, 0).verdict, TokenVerdict::bad_time);
}

TEST(ContextToken, ParsesJsonNumbersOnlyWhenFinite) {
    EXPECT_EQ(core::parse_json_number("4102444800"), 4102444800.0);
    EXPECT_EQ(core::parse_json_number("-1.25"), -1.25);
    EXPECT_FALSE(core::parse_json_number("1e400"));
    EXPECT_FALSE(core::parse_json_number("nan"));
    EXPECT_FALSE(core::parse_json_number("12abc"));
    EXPECT_FALSE(core::parse_json_number(""));
}

TEST(Base64url, RefusesUnusedBitsThatAreNotZero) {
    // "Zg" is 'f'; "Zh", "Zi", "Zj" carry the same byte with other unused bits.
    EXPECT_EQ(core::base64url_decode("Zg"), "f");
    EXPECT_FALSE(core::base64url_decode("Zh"));
    EXPECT_FALSE(core::base64url_decode("Zj"));
    EXPECT_EQ(core::base64url_decode("Zm8"), "fo");
    EXPECT_FALSE(core::base64url_decode("Zm9"));
}

TEST(ContextToken, WritesNonAsciiEscapesAsText) {
    EXPECT_EQ(core::escape_non_ascii_escapes(R"({"name":"Jos\u00e9"})"), R"({"name":"Jos\\u00e9"})");
    EXPECT_EQ(core::escape_non_ascii_escapes(R"({"\ud83d\ude00":1})"), R"({"\\ud83d\\ude00":1})");
    // ASCII escapes, other escapes and an escaped backslash stay as they are.
    EXPECT_EQ(core::escape_non_ascii_escapes(R"({"s\u0075b":"a\"b\\u00e9\n"})"),
              R"({"s\u0075b":"a\"b\\u00e9\n"})");
    EXPECT_EQ(core::escape_non_ascii_escapes(R"(\u007F\u0080\u00)"), R"(\u007F\\u0080\u00)");
    EXPECT_EQ(core::escape_non_ascii_escapes("\\"), "\\");
}

TEST(ContextToken, RefusesHeadersThatAskForExtensions) {
    core::ContextTokenClaims header;
    header.alg = text("HS256");
    header.crit = claim(JsonClaim::Kind::other, "");
    EXPECT_FALSE(core::header_algorithm(header));
}

TEST(ContextToken, HoldsTokensToTheirKeysIssuerAndAudience) {
    core::ContextTokenClaims claims;
    claims.sub = text(kUser);
    claims.exp = number("1000");
    core::ClaimExpectations expected{std::string("https://idp.example/"), std::string("school-app")};
    EXPECT_EQ(core::check_context_claims(claims, 0, expected).verdict, TokenVerdict::wrong_issuer);
    claims.iss = text("https://idp.example/");
    EXPECT_EQ(core::check_context_claims(claims, 0, expected).verdict, TokenVerdict::wrong_audience);
    claims.aud = text("other-app");
    EXPECT_EQ(core::check_context_claims(claims, 0, expected).verdict, TokenVerdict::wrong_audience);
    claims.aud = text("school-app");
    EXPECT_EQ(core::check_context_claims(claims, 0, expected).verdict, TokenVerdict::valid);
    JsonClaim audiences{JsonClaim::Kind::array, "", {"other-app", "school-app"}, true};
    claims.aud = audiences;
    EXPECT_EQ(core::check_context_claims(claims, 0, expected).verdict, TokenVerdict::valid);
    audiences.strings_only = false;  // ["other-app", "school-app", 1]: not an array of strings
    claims.aud = audiences;
    EXPECT_EQ(core::check_context_claims(claims, 0, expected).verdict, TokenVerdict::wrong_audience);
    audiences.strings_only = true;
    audiences.elements = {"other-app"};
    claims.aud = audiences;
    EXPECT_EQ(core::check_context_claims(claims, 0, expected).verdict, TokenVerdict::wrong_audience);
    claims.iss = text("https://idp.example");  // no trailing slash: another issuer
    claims.aud = text("school-app");
    EXPECT_EQ(core::check_context_claims(claims, 0, expected).verdict, TokenVerdict::wrong_issuer);
    // A key that asks for nothing takes any issuer and audience.
    EXPECT_EQ(core::check_context_claims(claims, 0).verdict, TokenVerdict::valid);
}
