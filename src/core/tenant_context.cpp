#include "core/tenant_context.hpp"

#include <array>
#include <charconv>

namespace tenancy::core {
namespace {

constexpr std::array<std::string_view, kMemberRoleCount> kRoleNames = {
    "owner", "admin", "teacher", "student"};

constexpr char kSeparator = '/';

}  // namespace

std::string_view to_string(MemberRole role) {
    return kRoleNames[static_cast<std::size_t>(role)];
}

std::optional<MemberRole> parse_member_role(std::string_view text) {
    for (std::size_t i = 0; i < kRoleNames.size(); ++i) {
        if (kRoleNames[i] == text) return static_cast<MemberRole>(i);
    }
    return std::nullopt;
}

std::string encode_context(const TenantContext& context) {
    std::string out = context.org_id.to_string();
    out.push_back(kSeparator);
    out += context.user_id.to_string();
    out.push_back(kSeparator);
    out += to_string(context.role);
    if (context.expires_at) {
        out.push_back(kSeparator);
        out += std::to_string(*context.expires_at);
    }
    return out;
}

DecodedContext decode_context(std::string_view text) {
    DecodedContext result;
    if (text.empty()) {
        result.valid = true;
        return result;
    }
    std::size_t first = text.find(kSeparator);
    if (first == std::string_view::npos) return result;
    std::size_t second = text.find(kSeparator, first + 1);
    if (second == std::string_view::npos) return result;

    // Only the canonical form written by encode_context is accepted: the
    // setting is never typed by hand, so anything else is a forgery or a bug.
    std::string_view org_text = text.substr(0, first);
    std::string_view user_text = text.substr(first + 1, second - first - 1);
    auto org = Uuid::parse(org_text);
    auto user = Uuid::parse(user_text);
    std::size_t third = text.find(kSeparator, second + 1);
    auto role = parse_member_role(text.substr(second + 1, third == std::string_view::npos
                                                              ? std::string_view::npos
                                                              : third - second - 1));
    if (!org || !user || !role) return result;
    if (org->to_string() != org_text || user->to_string() != user_text) return result;
    std::optional<std::int64_t> expires_at;
    if (third != std::string_view::npos) {
        std::string_view digits = text.substr(third + 1);
        std::int64_t value = 0;
        auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
        if (error != std::errc() || end != digits.data() + digits.size() || value < 0 ||
            std::to_string(value) != digits) {
            return result;
        }
        expires_at = value;
    }

    result.valid = true;
    result.value = TenantContext{*org, *user, *role, expires_at};
    return result;
}

}  // namespace tenancy::core
