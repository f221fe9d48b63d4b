// The tenant context of a transaction or session: organization, user and the
// member role derived from tenancy.members. It travels inside PostgreSQL as the
// text of one superuser-only setting (so parallel workers inherit it), and this
// file owns that text format. Pure C++17.
#pragma once

#include <array>
#include <cstddef>
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

// Whether a text is a key id tenancy.context_signing_keys takes (its CHECK
// key_id_format): 1 to 64 of A-Z a-z 0-9 . _ + / = -.
bool is_signing_key_id(std::string_view key_id);

// The row of tenancy.context_signing_keys whose key verified a context's
// token: its key_id and the row's version (its xmin), so that a session
// context ends once the key is deleted or changed. Plain data, as the whole
// context is: PostgreSQL frees a setting's parsed form with free(), without
// a destructor.
class SigningKeyRef {
public:
    static constexpr std::size_t kMaxKeyIdBytes = 64;

    // nullopt for a key id the table's CHECK refuses (is_signing_key_id).
    static std::optional<SigningKeyRef> of(std::uint32_t row_version, std::string_view key_id);

    std::uint32_t row_version() const { return row_version_; }
    std::string_view key_id() const { return {key_id_.data(), key_id_length_}; }

    friend bool operator==(const SigningKeyRef& a, const SigningKeyRef& b) {
        return a.row_version_ == b.row_version_ && a.key_id() == b.key_id();
    }

private:
    std::uint32_t row_version_ = 0;
    std::size_t key_id_length_ = 0;
    std::array<char, kMaxKeyIdBytes> key_id_{};
};

struct TenantContext {
    Uuid org_id;
    Uuid user_id;
    MemberRole role = MemberRole::student;
    // Seconds since 1970 from which a context a token gave (its "exp",
    // rounded down) is over; nullopt for one set_context gave.
    std::optional<std::int64_t> expires_at;
    // The key that verified the token (with expires_at only).
    std::optional<SigningKeyRef> signed_with;

    // The same member in the same role: what the rows read depend on (the
    // expiry is not compared).
    friend bool operator==(const TenantContext& a, const TenantContext& b) {
        return a.org_id == b.org_id && a.user_id == b.user_id && a.role == b.role;
    }
};

// Setting text: "<org uuid>/<user uuid>/<role>" and, for a context a token
// gave, "/<expires_at>" (decimal, no sign, no leading zero) and, since the
// 1.16 library, "/<row_version>/<key_id>" (the key id last: it may hold a
// "/"); or "" for no context.
std::string encode_context(const TenantContext& context);

// What a setting's text holds: no context (""), a context, or garbage.
struct DecodedContext {
    bool valid = false;                  // false: the text is malformed
    std::optional<TenantContext> value;  // empty when valid and "" (no context)
};
DecodedContext decode_context(std::string_view text);

}  // namespace tenancy::core
