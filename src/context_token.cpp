// tenancy.set_context_signed(org_id, token [, is_local]): a tenant context
// whose user is proven by a signed token, not taken on the login's word.
//
// tenancy.set_context() trusts the application's login: whatever runs SQL as
// it can take the context of any member whose two ids it knows (an SQL
// injection included). A token signed with a key the database holds, and the
// application's SQL cannot read, proves which user the request is for: the
// identity provider's JWT (HS256) passed through as it came, or one the
// backend mints for the request. With tenancy.require_signed_context on for
// the login, set_context() is refused and this is the only way in.
//
// The keys are rows of tenancy.context_signing_keys (superusers only: no
// grants, RLS forced with no policy), read here directly, past privileges, as
// set_context reads tenancy.members. A setting would not do: before the
// library loads in a session, a setting from postgresql.conf is a plain
// placeholder that any login can SHOW.
#include <string>
#include <vector>

#include "set_context.hpp"
#include "core/context_token.hpp"
#include "pg/error_barrier.hpp"
#include "pg/hmac.hpp"
#include "pg/json_object.hpp"
#include "pg/tuple.hpp"
#include "pg/uuid.hpp"

namespace tenancy {
namespace {

constexpr const char* kKeysTable = "context_signing_keys";

constexpr const char* kAsIssuedHint =
    "Pass the token as it was issued, unchanged, as a bound parameter.";

// Every way a token fails to prove a user is 28000; the message says which.
[[noreturn]] void refuse_token(const std::string& message, const std::string& detail,
                               const char* hint = kAsIssuedHint) {
    throw pg::Error(ERRCODE_INVALID_AUTHORIZATION_SPECIFICATION, message, detail, hint);
}

// The secrets of tenancy.context_signing_keys, in its latest committed state
// (a key deleted is refused at once, as a member deactivated is), copied
// into the current memory context.
std::vector<std::string> read_signing_keys() {
    List* secrets = pg::call([] {
        Oid schema = get_namespace_oid("tenancy", false);
        Oid keys_oid = get_relname_relid(kKeysTable, schema);
        Relation keys = OidIsValid(keys_oid) ? try_table_open(keys_oid, AccessShareLock) : nullptr;
        if (keys == nullptr) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                            errmsg("tenancy.%s is missing", kKeysTable),
                            errdetail("The extension made it; it was dropped or renamed.")));
        }
        TupleDesc desc = RelationGetDescr(keys);
        int secret_attnum = pg::attribute_number_if_any(desc, "secret");
        if (secret_attnum == 0 || TupleDescAttr(desc, secret_attnum - 1)->atttypid != BYTEAOID) {
            ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                            errmsg("tenancy.%s has no bytea column \"secret\"", kKeysTable),
                            errhint("Restore the column as the extension made it.")));
        }
        List* found = NIL;
        Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
        TableScanDesc scan = table_beginscan(keys, snapshot, 0, nullptr);
        TupleTableSlot* slot = table_slot_create(keys, nullptr);
        while (table_scan_getnextslot(scan, ForwardScanDirection, slot)) {
            bool is_null = true;
            Datum secret = slot_getattr(slot, secret_attnum, &is_null);
            if (!is_null) {
                found = lappend(found, pg_detoast_datum_copy(
                                           reinterpret_cast<struct varlena*>(DatumGetPointer(secret))));
            }
        }
        ExecDropSingleTupleTableSlot(slot);
        table_endscan(scan);
        UnregisterSnapshot(snapshot);
        table_close(keys, AccessShareLock);
        return found;
    });
    std::vector<std::string> out;
    ListCell* cell;
    foreach (cell, secrets) {
        auto* secret = static_cast<struct varlena*>(lfirst(cell));
        out.emplace_back(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
        // Not left in freed memory for the rest of the transaction.
        explicit_bzero(VARDATA_ANY(secret), VARSIZE_ANY_EXHDR(secret));
        pfree(secret);
    }
    list_free(secrets);
    return out;
}

// Zeroes the copies of the secrets when they go.
struct SecretsWiper {
    std::vector<std::string>& secrets;
    ~SecretsWiper() {
        for (auto& secret : secrets) explicit_bzero(secret.data(), secret.size());
    }
};

bool signed_by_a_key(const core::TokenSegments& segments) {
    std::vector<std::string> secrets = read_signing_keys();
    SecretsWiper wiper{secrets};
    if (secrets.empty()) {
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "no context signing key is set",
                        "tenancy.context_signing_keys is empty.",
                        "As a superuser: INSERT INTO tenancy.context_signing_keys (key_id, secret) "
                        "VALUES ('…', convert_to('the identity provider''s HS256 secret', "
                        "'UTF8')).");
    }
    if (segments.signature.size() != std::tuple_size_v<pg::Sha256Digest>) return false;
    bool matched = false;
    // Every key is tried, matched or not: the time taken does not say which.
    for (const auto& secret : secrets) {
        pg::Sha256Digest digest = pg::hmac_sha256(secret, segments.signing_input);
        std::string_view expected(reinterpret_cast<const char*>(digest.data()), digest.size());
        matched |= core::equal_in_constant_time(expected, segments.signature);
    }
    return matched;
}

core::ContextTokenClaims claims_of(const std::string& json, const char* part) {
    auto members = pg::json_object_members(core::escape_non_ascii_escapes(json));
    if (!members) {
        refuse_token("the context token is malformed",
                     std::string("The token's ") + part +
                         " is not a JSON object with each member named once.");
    }
    core::ContextTokenClaims claims;
    auto take = [&](const char* name, std::optional<core::JsonClaim>& into) {
        auto found = members->find(name);
        if (found != members->end()) into = found->second;
    };
    take("alg", claims.alg);
    take("crit", claims.crit);
    take("sub", claims.sub);
    take("exp", claims.exp);
    take("nbf", claims.nbf);
    return claims;
}

double seconds_since_1970() {
    TimestampTz now = GetCurrentTimestamp();
    return static_cast<double>(now) / USECS_PER_SEC +
           static_cast<double>(POSTGRES_EPOCH_JDATE - UNIX_EPOCH_JDATE) * SECS_PER_DAY;
}

std::string as_timestamp(double seconds) {
    // Beyond what timestamptz holds (4713 BC to 294276 AD), the number itself.
    if (!(seconds > -210866803200.0 && seconds < 9224318016000.0)) {
        char number[64];
        snprintf(number, sizeof number, "%g", seconds);
        return std::string(number) + " seconds after 1970";
    }
    char* text = pg::call([&] {
        return DatumGetCString(DirectFunctionCall1(
            timestamptz_out,
            DirectFunctionCall1(float8_timestamptz, Float8GetDatum(seconds))));
    });
    return text;
}

// The user a token (a text datum) proves, or an error (28000) saying why
// it proves none.
core::Uuid verified_user(Datum token_text) {
    // Measured before it is detoasted and copied: a token of megabytes is
    // refused without either.
    if (pg::call([&] { return toast_raw_datum_size(token_text); }) - VARHDRSZ >
        core::kMaxContextTokenBytes) {
        refuse_token("the context token is malformed",
                     "The token is longer than " + std::to_string(core::kMaxContextTokenBytes) +
                         " bytes.");
    }
    std::string token = pg::call([&] { return text_to_cstring(DatumGetTextPP(token_text)); });
    std::string problem;
    auto segments = core::split_context_token(token, problem);
    if (!segments) refuse_token("the context token is malformed", problem);
    if (!core::names_hs256(claims_of(segments->header_json, "header"))) {
        refuse_token("the context token is not signed with HS256",
                     "Its header's \"alg\" is not \"HS256\", the one algorithm accepted, or "
                     "it names extensions that must be understood (\"crit\").",
                     "Have the identity provider sign with HS256 and a key in "
                     "tenancy.context_signing_keys.");
    }
    if (!signed_by_a_key(*segments)) {
        refuse_token("the context token's signature does not match a context signing key",
                     "No key in tenancy.context_signing_keys signed it, or it was changed "
                     "since.",
                     "Check that tenancy.context_signing_keys holds the identity provider's "
                     "current key.");
    }
    core::ClaimsCheck check =
        core::check_context_claims(claims_of(segments->payload_json, "payload"), seconds_since_1970());
    switch (check.verdict) {
        case core::TokenVerdict::valid:
            return check.user_id;
        case core::TokenVerdict::bad_subject:
            refuse_token("the context token names no user",
                         "Its \"sub\" claim is missing or not a user id (a UUID in a string).",
                         "The token's subject must be the user's id in tenancy.members.");
        case core::TokenVerdict::no_expiry:
            refuse_token("the context token has no expiry",
                         "It has no \"exp\" claim; a token without one would be good for ever.",
                         "Issue tokens with an expiry.");
        case core::TokenVerdict::bad_time:
            refuse_token("the context token is malformed",
                         "Its \"exp\" or \"nbf\" claim is not a number of seconds since 1970.",
                         "The token's issuer must write times as numbers (RFC 7519 NumericDate).");
        case core::TokenVerdict::expired:
            refuse_token("the context token has expired",
                         "It expired at " + as_timestamp(check.expires_at) + ".",
                         "Get a fresh token (the user signs in again, or the token is "
                         "refreshed).");
        case core::TokenVerdict::not_yet_valid:
            refuse_token("the context token is not valid yet",
                         "It is valid from " + as_timestamp(check.not_before) + ".",
                         "Check the clocks of the token's issuer and of the database server.");
    }
    refuse_token("the context token is malformed", "");
}

}  // namespace
}  // namespace tenancy

using namespace tenancy;

// tenancy.set_context_signed(org_id uuid, token text, is_local boolean DEFAULT true)
//   -> member_role
TENANCY_SQL_FUNCTION(tenancy_set_context_signed) {
    Datum org_id = required_arg(fcinfo, 0, "org_id");
    Datum token = required_arg(fcinfo, 1, "token");
    bool is_local = DatumGetBool(required_arg(fcinfo, 2, "is_local"));
    Datum user_id = pg::uuid_to_datum(verified_user(token));
    // No C++ object lives in this frame from here on (set_member_context
    // may warn).
    return role_to_datum(fcinfo, set_member_context(org_id, user_id, is_local));
}
