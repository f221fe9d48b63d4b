#include "core/tenant_context.hpp"

#include <gtest/gtest.h>

using namespace tenancy::core;

namespace {
TenantContext sample(MemberRole role = MemberRole::teacher) {
    TenantContext context;
    context.org_id = *Uuid::parse("11111111-1111-1111-1111-111111111111");
    context.user_id = *Uuid::parse("22222222-2222-2222-2222-222222222222");
    context.role = role;
    return context;
}
}  // namespace

TEST(MemberRole, NamesMatchTheSqlEnumInOrder) {
    EXPECT_EQ(to_string(MemberRole::owner), "owner");
    EXPECT_EQ(to_string(MemberRole::admin), "admin");
    EXPECT_EQ(to_string(MemberRole::teacher), "teacher");
    EXPECT_EQ(to_string(MemberRole::student), "student");
    for (int i = 0; i < kMemberRoleCount; ++i) {
        auto role = static_cast<MemberRole>(i);
        EXPECT_EQ(parse_member_role(to_string(role)), role);
    }
    EXPECT_FALSE(parse_member_role("Owner"));
    EXPECT_FALSE(parse_member_role(""));
    EXPECT_FALSE(parse_member_role("superuser"));
}

TEST(TenantContext, RoundTripsThroughTheSettingText) {
    for (int i = 0; i < kMemberRoleCount; ++i) {
        TenantContext context = sample(static_cast<MemberRole>(i));
        std::string text = encode_context(context);
        DecodedContext decoded = decode_context(text);
        ASSERT_TRUE(decoded.valid) << text;
        ASSERT_TRUE(decoded.value) << text;
        EXPECT_EQ(*decoded.value, context);
    }
    EXPECT_EQ(encode_context(sample()),
              "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/teacher");
}

TEST(TenantContext, EmptyTextMeansNoContext) {
    DecodedContext decoded = decode_context("");
    EXPECT_TRUE(decoded.valid);
    EXPECT_FALSE(decoded.value);
}

TEST(TenantContext, RejectsAnythingButTheCanonicalForm) {
    const char* bad[] = {
        "11111111-1111-1111-1111-111111111111",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/root",
        "11111111111111111111111111111111/22222222-2222-2222-2222-222222222222/owner",
        "{11111111-1111-1111-1111-111111111111}/22222222-2222-2222-2222-222222222222/owner",
        "AAAAAAAA-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/owner",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/owner/x",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/owner/",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/owner/-1",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/owner/+5",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/owner/05",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/owner/5/6",
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/owner/99999999999999999999",
        "//",
        " ",
    };
    for (const char* text : bad) EXPECT_FALSE(decode_context(text).valid) << text;
}

TEST(TenantContext, CarriesATokensExpiry) {
    TenantContext context = sample(MemberRole::student);
    context.expires_at = 4102444800;
    std::string text = encode_context(context);
    EXPECT_EQ(text, "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/"
                    "student/4102444800");
    DecodedContext decoded = decode_context(text);
    ASSERT_TRUE(decoded.valid && decoded.value);
    EXPECT_EQ(decoded.value->expires_at, 4102444800);
    EXPECT_EQ(*decoded.value, sample(MemberRole::student)) << "the same member in the same role";
    context.expires_at = 0;
    EXPECT_EQ(decode_context(encode_context(context)).value->expires_at, 0);
}

TEST(TenantContext, CarriesTheKeyThatVerifiedItsToken) {
    TenantContext context = sample(MemberRole::teacher);
    context.expires_at = 4102444800;
    context.signed_with = SigningKeyRef::of(4294967295U, "us-east-1/ab+c=");
    ASSERT_TRUE(context.signed_with);
    EXPECT_FALSE(SigningKeyRef::of(1, std::string(65, 'k')));
    EXPECT_FALSE(SigningKeyRef::of(1, ""));
    std::string text = encode_context(context);
    EXPECT_EQ(text, "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/"
                    "teacher/4102444800/4294967295/us-east-1/ab+c=");
    DecodedContext decoded = decode_context(text);
    ASSERT_TRUE(decoded.valid && decoded.value);
    ASSERT_TRUE(decoded.value->signed_with);
    EXPECT_EQ(*decoded.value->signed_with, *context.signed_with);
    EXPECT_EQ(decoded.value->expires_at, 4102444800);
    const std::string prefix =
        "11111111-1111-1111-1111-111111111111/22222222-2222-2222-2222-222222222222/teacher/5/";
    // Canonical numbers, a row version within 32 bits, a key id as the table allows.
    for (const char* bad : {"7", "7/", "07/k", "-1/k", "4294967296/k", "7/with space",
                            "7/65-characters-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                            "7/k\xc3\xa9"}) {
        EXPECT_FALSE(decode_context(prefix + bad).valid) << bad;
    }
    EXPECT_TRUE(decode_context(prefix + "0/" + std::string(64, 'k')).valid);
}
