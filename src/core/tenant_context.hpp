// The tenant context of a transaction or session: organization, user and the
// member role derived from tenancy.members. It travels inside PostgreSQL as the
// text of one superuser-only setting (so parallel workers inherit it), and this
// file owns that text format. Pure C++17.
#pragma once

#include <cstdint>
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
    // Seconds since 1970 from which a context a token gave (its "exp",
    // rounded down) is over; nullopt for one set_context gave.
    std::optional<std::int64_t> expires_at;

    // The same member in the same role: what the rows read depend on (the
    // expiry is not compared).
    friend bool operator==(const TenantContext& a, const TenantContext& b) {
        return a.org_id == b.org_id && a.user_id == b.user_id && a.role == b.role;
    }
};

// Setting text: "<org uuid>/<user uuid>/<role>" and, for a context a token
// gave, "/<expires_at>" (decimal, no sign, no leading zero); or "" for no
// context.
std::string encode_context(const TenantContext& context);

// What a setting's text holds: no context (""), a context, or garbage.
struct DecodedContext {
    bool valid = false;                  // false: the text is malformed
    std::optional<TenantContext> value;  // empty when valid and "" (no context)
};
DecodedContext decode_context(std::string_view text);

}  // namespace tenancy::core
