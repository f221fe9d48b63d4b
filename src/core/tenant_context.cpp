#include "core/tenant_context.hpp"

#include <array>
#include <charconv>

namespace tenancy::core {
namespace {

constexpr std::array<std::string_view, kMemberRoleCount> kRoleNames = {
    "owner", "admin", "teacher", "student"};

constexpr char kSeparator = '/';

// A number as std::to_string writes it (no sign, no leading zero), or nullopt.
template <typename Number>
std::optional<Number> canonical_number(std::string_view digits) {
    Number value = 0;
    if (digits.empty() || digits.front() == '-') return std::nullopt;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    if (error != std::errc() || end != digits.data() + digits.size() ||
        std::to_string(value) != digits) {
        return std::nullopt;
    }
    return value;
}


}  // namespace

bool is_signing_key_id(std::string_view key_id) {
    constexpr std::string_view allowed =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._+/=-";
    return !key_id.empty() && key_id.size() <= SigningKeyRef::kMaxKeyIdBytes &&
           key_id.find_first_not_of(allowed) == std::string_view::npos;
}

std::optional<SigningKeyRef> SigningKeyRef::of(std::uint32_t row_version, std::string_view key_id) {
    if (!is_signing_key_id(key_id)) return std::nullopt;
    SigningKeyRef ref;
    ref.row_version_ = row_version;
    ref.key_id_length_ = key_id.size();
    key_id.copy(ref.key_id_.data(), key_id.size());
    return ref;
}

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
        if (context.signed_with) {
            out.push_back(kSeparator);
            out += std::to_string(context.signed_with->row_version());
            out.push_back(kSeparator);
            out += context.signed_with->key_id();
        }
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
    std::optional<SigningKeyRef> signed_with;
    if (third != std::string_view::npos) {
        std::size_t fourth = text.find(kSeparator, third + 1);
        expires_at = canonical_number<std::int64_t>(text.substr(
            third + 1, fourth == std::string_view::npos ? std::string_view::npos : fourth - third - 1));
        if (!expires_at) return result;
        if (fourth != std::string_view::npos) {
            std::size_t fifth = text.find(kSeparator, fourth + 1);
            if (fifth == std::string_view::npos) return result;
            auto row_version = canonical_number<std::uint32_t>(text.substr(fourth + 1, fifth - fourth - 1));
            if (!row_version) return result;
            signed_with = SigningKeyRef::of(*row_version, text.substr(fifth + 1));
            if (!signed_with) return result;
        }
    }

    result.valid = true;
    result.value = TenantContext{*org, *user, *role, expires_at, signed_with};
    return result;
}

}  // namespace tenancy::core
