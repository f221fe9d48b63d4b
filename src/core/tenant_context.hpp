// The tenant context of a transaction or session: organization, user and the
// member role derived from tenancy.members. It travels inside PostgreSQL as the
// text of one superuser-only setting (so parallel workers inherit it), and this
// file owns that text format. Pure C++17.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/uuid.hpp"

namespace tenancy::core {

// Order and spelling match the SQL enum tenancy.member_role.
enum class MemberRole { owner = 0, admin = 1, teacher = 2, student = 3 };
inline constexpr int kMemberRoleCount = 4;

std::string_view to_string(MemberRole role);
std::optional<MemberRole> parse_member_role(std::string_view text);

struct TenantContext {
    Uuid org_id;
    Uuid user_id;
    MemberRole role = MemberRole::student;

    friend bool operator==(const TenantContext& a, const TenantContext& b) {
        return a.org_id == b.org_id && a.user_id == b.user_id && a.role == b.role;
    }
};

// Setting text: "<org uuid>/<user uuid>/<role>", or "" for no context.
std::string encode_context(const TenantContext& context);

// What a setting's text holds: no context (""), a context, or garbage.
struct DecodedContext {
    bool valid = false;                  // false: the text is malformed
    std::optional<TenantContext> value;  // empty when valid and "" (no context)
};
DecodedContext decode_context(std::string_view text);

}  // namespace tenancy::core
