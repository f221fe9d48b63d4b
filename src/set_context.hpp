// What tenancy.set_context() and tenancy.set_context_signed() share
// (src/context.cpp). Apart from context.hpp, which files that include Boost
// use: this one brings PostgreSQL's headers.
#pragma once

#include "core/tenant_context.hpp"
#include "pg/postgres.hpp"

namespace tenancy {

// Sets the context of org_id/user_id (datums of uuid) for the transaction or
// the session after checking in tenancy.members that the user is an active
// member (42501 otherwise), as tenancy.set_context() does; returns the role.
// The caller has proven the user (or trusts the login to have); a token's
// proof ends a session context at its expiry (seconds since 1970), or
// once its key is deleted or changed.
struct TokenProof {
    std::int64_t expires_at;
    core::SigningKeyRef signed_with;
};
core::MemberRole set_member_context(Datum org_id, Datum user_id, bool is_local,
                                    std::optional<TokenProof> proof = std::nullopt);

// Whether the key of tenancy.context_signing_keys that verified a token is
// still there as it was (src/context_token.cpp), in the latest committed state.
bool signing_key_unchanged(const core::SigningKeyRef& key);

// Argument index of an SQL function, refused with 22004 when NULL.
Datum required_arg(FunctionCallInfo fcinfo, int index, const char* name);
// A role as a datum of tenancy.member_role, the function's declared result.
Datum role_to_datum(FunctionCallInfo fcinfo, core::MemberRole role);

}  // namespace tenancy
