// tenancy.set_context_signed(org_id, token [, is_local]): a tenant context
// whose user is proven by a signed token, not taken on the login's word.
//
// tenancy.set_context() trusts the application's login: whatever runs SQL as
// it can take the context of any member whose two ids it knows (an SQL
// injection included). A token signed with a key the database holds, and the
// application's SQL cannot change, proves which user the request is for:
// the identity provider's JWT (signed with any algorithm of RFC 7518 §3 but
// "none", or EdDSA) passed through as it came, or one the backend mints for
// the request. With tenancy.require_signed_context on for the login,
// set_context() is refused and this is the only way in.
//
// The keys are rows of tenancy.context_signing_keys (superusers only: no
// grants, RLS forced with no policy), read here directly, past privileges, as
// set_context reads tenancy.members. A setting would not do: before the
// library loads in a session, a setting from postgresql.conf is a plain
// placeholder that any login can SHOW.
#include <algorithm>
#include <cmath>
#include <numeric>
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

// The keys of tenancy.context_signing_keys that serve one algorithm (HMAC
// secrets, or public keys in PEM), in its latest committed state
// (a key deleted is refused at once, as a member deactivated is), and how
// many keys there are of any algorithm.
struct SigningKeys {
    std::vector<std::optional<core::SigningKeyRef>> rows;
    std::vector<std::string> material;  // in step
    std::vector<core::ClaimExpectations> expectations;  // one per key, in step
    int64 all_keys = 0;
    // The secrets' copies are zeroed when they go.
    ~SigningKeys() {
        for (auto& key : material) explicit_bzero(key.data(), key.size());
    }
};

// C flow: a column of the keys, by name and type, or an error.
int key_column(TupleDesc desc, const char* name, Oid type) {
    int attnum = pg::attribute_number_if_any(desc, name);
    if (attnum == 0 || TupleDescAttr(desc, attnum - 1)->atttypid != type) {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_COLUMN),
                        errmsg("tenancy.%s has no column \"%s\" of type %s", kKeysTable, name,
                               format_type_be(type)),
                        errhint("Restore the column as the extension made it.")));
    }
    return attnum;
}

// One row of the keys that serves the algorithm wanted, copied out of the
// scan (C flow: palloc'd); issuer and audience NULL when the key asks for none.
struct KeyRow {
    char* key_id;
    TransactionId row_version;  // the row's xmin
    struct varlena* material;
    char* issuer;
    char* audience;
};

// C flow: the version of the row in the slot (its xmin, as written: freezing
// keeps it). An UPDATE, or a DELETE and INSERT of the same key_id, makes
// another.
TransactionId row_version_of(TupleTableSlot* slot) {
    bool is_null = true;
    Datum xmin = slot_getsysattr(slot, MinTransactionIdAttributeNumber, &is_null);
    return is_null ? InvalidTransactionId : DatumGetTransactionId(xmin);
}

// C flow: tenancy.context_signing_keys opened, or nullptr when it is gone
// (missing_ok) or an error saying so.
Relation open_signing_keys(bool missing_ok) {
    Oid schema = get_namespace_oid("tenancy", missing_ok);
    Oid keys_oid = OidIsValid(schema) ? get_relname_relid(kKeysTable, schema) : InvalidOid;
    Relation keys = OidIsValid(keys_oid) ? try_table_open(keys_oid, AccessShareLock) : nullptr;
    if (keys == nullptr && !missing_ok) {
        ereport(ERROR, (errcode(ERRCODE_UNDEFINED_TABLE),
                        errmsg("tenancy.%s is missing", kKeysTable),
                        errdetail("The extension made it; it was dropped or renamed.")));
    }
    return keys;
}

// C flow: on_row(slot) for each row of the keys in their latest committed
// state (a key deleted or changed counts at once), until it returns false;
// then the table is closed.
template <typename OnRow>
void scan_signing_keys(Relation keys, OnRow&& on_row) {
    Snapshot snapshot = RegisterSnapshot(GetLatestSnapshot());
    TableScanDesc scan = table_beginscan(keys, snapshot, 0, nullptr);
    TupleTableSlot* slot = table_slot_create(keys, nullptr);
    while (table_scan_getnextslot(scan, ForwardScanDirection, slot) && on_row(slot)) {
    }
    ExecDropSingleTupleTableSlot(slot);
    table_endscan(scan);
    UnregisterSnapshot(snapshot);
    table_close(keys, AccessShareLock);
}

void read_signing_keys(core::SigningAlgorithm algorithm, SigningKeys& keys_out) {
    std::string_view wanted = core::to_string(core::key_algorithm(algorithm));
    bool secret_wanted = core::is_hmac(algorithm);
    List* rows = NIL;  // of KeyRow*
    int64 all_keys = 0;
    pg::call([&] {
        Relation keys = open_signing_keys(false);
        TupleDesc desc = RelationGetDescr(keys);
        int key_id_attnum = key_column(desc, "key_id", TEXTOID);
        int algorithm_attnum = key_column(desc, "algorithm", TEXTOID);
        int material_attnum = secret_wanted ? key_column(desc, "secret", BYTEAOID)
                                            : key_column(desc, "public_key", TEXTOID);
        int issuer_attnum = key_column(desc, "issuer", TEXTOID);
        int audience_attnum = key_column(desc, "audience", TEXTOID);
        auto text_or_null = [](TupleTableSlot* slot, int attnum) -> char* {
            bool is_null = true;
            Datum value = slot_getattr(slot, attnum, &is_null);
            return is_null ? nullptr : TextDatumGetCString(value);
        };
        scan_signing_keys(keys, [&](TupleTableSlot* slot) {
            ++all_keys;
            bool algorithm_null = true, material_null = true;
            Datum key_algorithm = slot_getattr(slot, algorithm_attnum, &algorithm_null);
            Datum material = slot_getattr(slot, material_attnum, &material_null);
            if (algorithm_null || material_null) return true;
            text* name = DatumGetTextPP(key_algorithm);  // short: no copy
            if (std::string_view(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) != wanted) return true;
            auto* row = static_cast<KeyRow*>(palloc(sizeof(KeyRow)));
            row->key_id = text_or_null(slot, key_id_attnum);
            row->row_version = row_version_of(slot);
            row->material = pg_detoast_datum_copy(reinterpret_cast<struct varlena*>(DatumGetPointer(material)));
            row->issuer = text_or_null(slot, issuer_attnum);
            row->audience = text_or_null(slot, audience_attnum);
            rows = lappend(rows, row);
            return true;
        });
    });
    keys_out.all_keys = all_keys;
    auto taken = [](char* text) {
        if (text == nullptr) return std::optional<std::string>();
        std::optional<std::string> copy(text);
        pfree(text);
        return copy;
    };
    ListCell* cell;
    foreach (cell, rows) {
        auto* row = static_cast<KeyRow*>(lfirst(cell));
        // A key id the table's CHECK let in is always one (a key whose id
        // got past a check set aside gives no context: refused below).
        std::optional<std::string> key_id = taken(row->key_id);
        keys_out.rows.push_back(core::SigningKeyRef::of(row->row_version, key_id.value_or("")));
        keys_out.material.emplace_back(VARDATA_ANY(row->material), VARSIZE_ANY_EXHDR(row->material));
        // Not left in freed memory for the rest of the transaction.
        explicit_bzero(VARDATA_ANY(row->material), VARSIZE_ANY_EXHDR(row->material));
        pfree(row->material);
        keys_out.expectations.push_back({taken(row->issuer), taken(row->audience)});
        pfree(row);
    }
    list_free(rows);
}

// Offers `accepts` what each key of the algorithm that signed the token
// expects of its claims, in turn, until it takes one; whether any key signed
// it. One row of a key is one grant: a token is taken when some key that
// verifies it also takes its claims, whatever the order of the rows (the same
// secret in two rows with two audiences serves both).
// The key the token's header names ("kid", when it is a key_id of the
// algorithm) is tried first: a provider's set holds two or three keys, and
// a public key's verification costs tens of microseconds. The others are
// tried after it, as before 1.16 (a kid that names no key, or another key of
// the same secret, still works).
template <typename Accepts>
bool any_signing_key(core::SigningAlgorithm algorithm, const core::TokenSegments& segments,
                     const std::optional<std::string>& kid, Accepts&& accepts,
                     std::optional<core::SigningKeyRef>& accepted_by) {
    SigningKeys keys;
    read_signing_keys(algorithm, keys);
    if (keys.all_keys == 0) {
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "no context signing key is set",
                        "tenancy.context_signing_keys is empty.",
                        "As a superuser, add the token issuer's key: INSERT INTO "
                        "tenancy.context_signing_keys (key_id, secret) VALUES ('…', "
                        "convert_to('the HS256 secret', 'UTF8')), or (key_id, algorithm, "
                        "public_key) VALUES ('…', 'RS256', '-----BEGIN PUBLIC KEY-----…').");
    }
    bool hmac = core::is_hmac(algorithm);
    // HS256, HS384, HS512: every secret is tried, matched or not, before any
    // is used: the time taken does not say which matched. A public key is
    // tried only when reached (a verification costs tens of microseconds).
    std::vector<bool> hmac_matched(keys.material.size(), false);
    std::size_t digest_bytes = core::hmac_bytes(algorithm);
    if (hmac && segments.signature.size() == digest_bytes) {
        for (std::size_t i = 0; i < keys.material.size(); ++i) {
            std::string expected = pg::hmac_sha2(digest_bytes, keys.material[i], segments.signing_input);
            hmac_matched[i] = core::equal_in_constant_time(expected, segments.signature);
            explicit_bzero(expected.data(), expected.size());  // a valid signature of this token
        }
    }
    std::vector<std::size_t> order(keys.material.size());
    std::iota(order.begin(), order.end(), 0);
    if (kid) {
        std::stable_partition(order.begin(), order.end(),
                              [&](std::size_t i) { return keys.rows[i] && keys.rows[i]->key_id() == *kid; });
    }
    bool signed_by_any = false;
    for (std::size_t i : order) {
        bool verifies = hmac ? hmac_matched[i]
                             : core::verify_public_key_signature(algorithm, keys.material[i],
                                                                 segments.signing_input,
                                                                 segments.signature);
        if (!verifies) continue;
        signed_by_any = true;
        if (accepts(keys.expectations[i])) {
            accepted_by = keys.rows[i];
            break;
        }
    }
    return signed_by_any;
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
    take("kid", claims.kid);
    take("sub", claims.sub);
    take("exp", claims.exp);
    take("nbf", claims.nbf);
    take("iss", claims.iss);
    take("aud", claims.aud);
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

// The user a token proves, until when (its "exp", whole seconds), and the
// key that verified it.
struct ProvenUser {
    core::Uuid user_id;
    std::int64_t expires_at;
    core::SigningKeyRef signed_with;
};

// The user a token (a text datum) proves, or an error (28000) saying why
// it proves none.
ProvenUser verified_user(Datum token_text) {
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
    core::ContextTokenClaims header = claims_of(segments->header_json, "header");
    auto algorithm = core::header_algorithm(header);
    if (!algorithm) {
        refuse_token("the context token is not signed with " + core::signing_algorithm_list(),
                     "Its header's \"alg\" is none of the algorithms accepted, or it names "
                     "extensions that must be understood (\"crit\").",
                     "Have the token's issuer sign with one of them, and a key of it in "
                     "tenancy.context_signing_keys.");
    }
    // The payload is read once a key has verified it; its claims are judged
    // against each verifying key's expectations until one takes them.
    double now = seconds_since_1970();
    std::optional<core::ContextTokenClaims> payload;
    std::optional<core::ClaimsCheck> verdict;       // the acceptance, or the first refusal
    core::ClaimExpectations refused_by;
    std::optional<std::string> kid;
    if (header.kid && header.kid->kind == core::JsonClaim::Kind::string) kid = header.kid->text;
    std::optional<core::SigningKeyRef> accepted_by;
    bool signed_by_any = any_signing_key(*algorithm, *segments, kid, [&](const core::ClaimExpectations& expected) {
        if (!payload) payload = claims_of(segments->payload_json, "payload");
        core::ClaimsCheck check = core::check_context_claims(*payload, now, expected);
        bool valid = check.verdict == core::TokenVerdict::valid;
        if (!verdict || valid) {
            verdict = check;
            refused_by = expected;
        }
        return valid;
    }, accepted_by);
    if (!signed_by_any) {
        refuse_token("the context token's signature does not match a context signing key",
                     "No key in tenancy.context_signing_keys of the algorithm its header "
                     "names signed it, or it was changed since.",
                     "Check that tenancy.context_signing_keys holds the identity provider's "
                     "current key.");
    }
    const core::ClaimsCheck& check = *verdict;
    switch (check.verdict) {
        case core::TokenVerdict::valid: {
            // Rounded down (an end a fraction of a second early), and kept
            // within int64 for an "exp" of the far future.
            constexpr double kFarFuture = 9.0e15;
            std::int64_t expires_at = check.expires_at >= kFarFuture
                                          ? static_cast<std::int64_t>(kFarFuture)
                                          : static_cast<std::int64_t>(std::floor(check.expires_at));
            if (!accepted_by) {
                // Only with the table's CHECK on key_id set aside.
                throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                                "the context signing key that verified the token has a key_id "
                                "the extension does not allow",
                                "", "Give the key a key_id of 1 to 64 of A-Z a-z 0-9 . _ + / = -.");
            }
            return {check.user_id, expires_at, *accepted_by};
        }
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
        case core::TokenVerdict::wrong_issuer:
            refuse_token("the context token is not for this database",
                         "Its \"iss\" claim is not the issuer its key names (\"" +
                             refused_by.issuer.value_or("") + "\").",
                         "Check the issuer of the key in tenancy.context_signing_keys.");
        case core::TokenVerdict::wrong_audience:
            refuse_token("the context token is not for this database",
                         "Its \"aud\" claim does not name the audience its key names (\"" +
                             refused_by.audience.value_or("") + "\").",
                         "Have the client ask its identity provider for a token of that "
                         "audience.");
        case core::TokenVerdict::not_yet_valid:
            refuse_token("the context token is not valid yet",
                         "It is valid from " + as_timestamp(check.not_before) + ".",
                         "Check the clocks of the token's issuer and of the database server.");
    }
    refuse_token("the context token is malformed", "");
}

}  // namespace

bool signing_key_unchanged(const core::SigningKeyRef& key) {
    bool unchanged = false;
    pg::call([&] {
        Relation keys = open_signing_keys(true);
        if (keys == nullptr) return;
        TupleDesc desc = RelationGetDescr(keys);
        int key_id_attnum = pg::attribute_number_if_any(desc, "key_id");
        if (key_id_attnum == 0 || TupleDescAttr(desc, key_id_attnum - 1)->atttypid != TEXTOID) {
            table_close(keys, AccessShareLock);
            return;  // fails closed
        }
        // A scan of the few rows, as for a token: no collation to choose.
        scan_signing_keys(keys, [&](TupleTableSlot* slot) {
            bool is_null = true;
            Datum key_id = slot_getattr(slot, key_id_attnum, &is_null);
            if (is_null) return true;
            text* name = DatumGetTextPP(key_id);
            unchanged = std::string_view(VARDATA_ANY(name), VARSIZE_ANY_EXHDR(name)) == key.key_id() &&
                        row_version_of(slot) == key.row_version();
            return !unchanged;
        });
    });
    return unchanged;
}

}  // namespace tenancy

using namespace tenancy;

// tenancy.set_context_signed(org_id uuid, token text, is_local boolean DEFAULT true)
//   -> member_role
TENANCY_SQL_FUNCTION(tenancy_set_context_signed) {
    Datum org_id = required_arg(fcinfo, 0, "org_id");
    Datum token = required_arg(fcinfo, 1, "token");
    bool is_local = DatumGetBool(required_arg(fcinfo, 2, "is_local"));
    ProvenUser proven = verified_user(token);
    Datum user_id = pg::uuid_to_datum(proven.user_id);
    // No C++ object lives in this frame from here on (set_member_context
    // may warn).
    return role_to_datum(fcinfo, set_member_context(org_id, user_id, is_local,
                                                    TokenProof{proven.expires_at, proven.signed_with}));
}

// tenancy.verified_token_user(token text) -> uuid: the user a context token
// proves (28000 saying why when it proves none), checked as
// set_context_signed checks it, without setting a context. Internal: for
// tenancy.member_organizations_signed, which runs as the extension's owner.
TENANCY_SQL_FUNCTION(tenancy_verified_token_user) {
    Datum token = required_arg(fcinfo, 0, "token");
    ProvenUser proven = verified_user(token);
    return pg::uuid_to_datum(proven.user_id);
}

// tenancy.context_public_key_usable(algorithm text, public_key text) -> true,
// or 22023 saying why the key cannot verify tokens of the algorithm (STRICT:
// an HS256 row, with no public key, is not checked). The keys' CHECK.
TENANCY_SQL_FUNCTION(tenancy_context_public_key_usable) {
    std::string name = pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(0)); });
    std::string pem = pg::call([&] { return text_to_cstring(PG_GETARG_TEXT_PP(1)); });
    auto algorithm = core::parse_signing_algorithm(name);
    std::string problem = !algorithm ? "an algorithm of " + core::key_row_algorithm_list() + " is needed"
                                     : core::public_key_problem(*algorithm, pem);
    if (!problem.empty()) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        // An unknown name is quoted: an empty one read as a double space.
                        algorithm ? "the public key cannot verify " + name + " tokens"
                                  : "the public key cannot verify tokens of algorithm \"" + name + "\"",
                        pg::as_sentence(problem),
                        "Give the issuer's public key or certificate in PEM (-----BEGIN PUBLIC "
                        "KEY----- or -----BEGIN CERTIFICATE-----); tenancy.jwks_keys() gives a "
                        "JWK Set's keys in PEM.");
    }
    PG_RETURN_BOOL(true);
}

// tenancy.context_secret_usable(secret bytea) -> true, or 22023 saying why
// the secret is a public key and not one (STRICT: a public key's row, with no
// secret, is not checked). The keys' CHECK
// context_signing_keys_secret_not_public_key (1.26): with the public key as
// the secret, anyone signs tokens the row takes.
TENANCY_SQL_FUNCTION(tenancy_context_secret_usable) {
    bytea* value = pg::call([&] { return PG_GETARG_BYTEA_PP(0); });
    std::string secret(VARDATA_ANY(value), VARSIZE_ANY_EXHDR(value));
    const core::HmacSecretProblem problem = core::hmac_secret_problem(secret);
    explicit_bzero(secret.data(), secret.size());
    using Kind = core::HmacSecretProblem::Kind;
    if (problem.kind == Kind::symmetric_jwk) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "the secret is a JSON Web Key, not an HMAC secret", pg::as_sentence(problem.reason),
                        "Give its \"k\" as the secret: decode(translate(k, '-_', '+/') || the "
                        "'=' padding, 'base64').");
    }
    if (problem.kind == Kind::public_key) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "the secret is a public key, not an HMAC secret",
                        pg::as_sentence(problem.reason) +
                            " Whoever has the public key could sign tokens the key takes, for any user.",
                        "Give a public key as public_key, in PEM, with its algorithm (RS256, ES256, "
                        "…) and no secret; tenancy.jwks_keys() gives a JWK Set's keys in PEM.");
    }
    PG_RETURN_BOOL(true);
}
