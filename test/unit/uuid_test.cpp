#include "core/uuid.hpp"

#include <gtest/gtest.h>

using tenancy::core::Uuid;

TEST(Uuid, ParsesCanonicalFormAndPrintsItBack) {
    auto u = Uuid::parse("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    ASSERT_TRUE(u);
    EXPECT_EQ(u->to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11");
    EXPECT_EQ(u->bytes[0], 0xa0);
    EXPECT_EQ(u->bytes[15], 0x11);
}

TEST(Uuid, AcceptsTheFormsPostgresAccepts) {
    const char* forms[] = {
        "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "a0eebc999c0b4ef8bb6d6bb9bd380a11",
        "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
        "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
    };
    for (const char* form : forms) {
        auto u = Uuid::parse(form);
        ASSERT_TRUE(u) << form;
        EXPECT_EQ(u->to_string(), "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11") << form;
    }
}

TEST(Uuid, RejectsMalformedText) {
    const char* bad[] = {
        "",
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",     // 31 digits
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",   // 33 digits
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1g",    // not hex
        "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",   // leading hyphen
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",   // trailing hyphen
        "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",   // doubled hyphen
        "a0eeb-c99-9c0b-4ef8-bb6d-6bb9bd380a11",   // hyphen inside a group
        "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",   // unbalanced brace
        "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
        "{}",
        " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    };
    for (const char* text : bad) EXPECT_FALSE(Uuid::parse(text)) << text;
}

