// tenancy.jwks_keys(jwks jsonb): an identity provider's published keys (a
// JWK Set, RFC 7517, or one JWK) as rows for tenancy.context_signing_keys:
// (key_id, algorithm, public_key). The conversion is src/core/json_web_key.cpp;
// here the JWKs' members are read out of the jsonb.
#include <algorithm>
#include <limits>
#include <string>
#include <vector>

#include "core/json_web_key.hpp"
#include "pg/error_barrier.hpp"
#include "pg/spi.hpp"
#include "pg/varlena.hpp"

namespace tenancy {
namespace {

// One JWK as found: its members, and how the error names it.
struct FoundKey {
    core::JsonWebKey jwk;
    std::string name;  // "the JWK \"<kid>\"" or "the JWK number <n>"
};

[[noreturn]] void refuse_set(const std::string& message, const std::string& detail) {
    throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, message, detail,
                    "Pass the JSON document of the identity provider's \"jwks_uri\" as it is "
                    "published, or one of its \"keys\".");
}

// C flow: a member of a JWK object, as jsonb holds it, or nullptr.
JsonbValue* jwk_member(JsonbContainer* object, const char* name) {
    return getKeyJsonValueFromContainer(object, name, static_cast<int>(strlen(name)), nullptr);
}

// The members the conversion reads, copied out of one JWK object (C flow
// inside: the caller runs it in pg::call, and the strings are copied after).
void read_jwk(JsonbContainer* object, core::JsonWebKey& jwk) {
    struct Member {
        const char* name;
        std::optional<std::string>* into;
    };
    const Member members[] = {{"kty", &jwk.kty}, {"kid", &jwk.kid}, {"use", &jwk.use},
                              {"alg", &jwk.alg}, {"crv", &jwk.crv}, {"n", &jwk.n},
                              {"e", &jwk.e},     {"x", &jwk.x},     {"y", &jwk.y}};
    for (const Member& member : members) {
        JsonbValue* value = jwk_member(object, member.name);
        if (value == nullptr || value->type == jbvNull) continue;  // null: absent
        if (value->type != jbvString) {
            if (jwk.not_a_string.empty()) jwk.not_a_string = member.name;
            continue;
        }
        member.into->emplace(value->val.string.val, static_cast<std::size_t>(value->val.string.len));
    }
    // RFC 7517 §4.3: what the key may be used for, an array of strings.
    JsonbValue* key_ops = jwk_member(object, "key_ops");
    if (key_ops != nullptr && key_ops->type != jbvNull) {
        if (key_ops->type != jbvBinary || !JsonContainerIsArray(key_ops->val.binary.data)) {
            if (jwk.not_a_string.empty()) jwk.not_a_string = "key_ops";
        } else {
            JsonbContainer* array = key_ops->val.binary.data;
            jwk.key_ops.emplace();
            for (uint32 i = 0; i < JsonContainerSize(array); ++i) {
                JsonbValue* operation = getIthJsonbValueFromContainer(array, i);
                if (operation->type == jbvString) {
                    jwk.key_ops->emplace_back(operation->val.string.val,
                                              static_cast<std::size_t>(operation->val.string.len));
                }
            }
        }
    }
    // RFC 7518 §6.2.2, §6.3.2, §6.4: the members only a private or secret key has.
    for (const char* secret : {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}) {
        if (jwk_member(object, secret) != nullptr) jwk.private_part = true;
    }
}

constexpr const char* kUsableKeysHint =
    "Context tokens are verified with RSA keys of 2048 bits or more (RS256, RS384, RS512, PS256, "
    "PS384, PS512), EC keys on P-256 (ES256), P-384 (ES384) and P-521 (ES512), and Ed25519 and "
    "Ed448 keys (EdDSA), public keys only.";

// Whether a key goes into the rows, and under which key id (key ids are the
// table's primary key; a kid only says which key to try first): its kid (or
// thumbprint), else its RFC 7638 thumbprint (another key took the kid), else
// the thumbprint and its algorithm (the same key listed for two algorithms,
// RS256 and PS256: the thumbprint does not name the algorithm). The same key
// for the same algorithm, listed twice, is one row.
enum class Placement { taken, duplicate, no_key_id };

Placement place_key(const std::vector<core::JwkImport>& taken, core::JwkImport& key,
                    const core::JsonWebKey& jwk) {
    std::string thumbprint = core::jwk_thumbprint(jwk);
    for (const std::string& id :
         {key.key_id, thumbprint, thumbprint + "." + core::to_string(key.algorithm)}) {
        if (id.empty() || id.front() == '.') continue;  // no thumbprint (none is expected)
        auto holder = std::find_if(taken.begin(), taken.end(),
                                   [&](const core::JwkImport& other) { return other.key_id == id; });
        if (holder == taken.end()) {
            key.key_id = id;
            return Placement::taken;
        }
        if (holder->pem == key.pem && holder->algorithm == key.algorithm) return Placement::duplicate;
    }
    return Placement::no_key_id;
}

// The schema (1.N: N) whose keys table first takes keys of an algorithm:
// 1.15 RS256 and ES256, 1.17 PS256, ES384 and EdDSA, 1.18 the others. A
// newer library runs under an older schema between `make install` and ALTER
// EXTENSION UPDATE: rows of newer keys would fail the table's algorithm
// check, and with them a scheduled refresh's whole INSERT; they are passed
// over instead, saying why. (No default: a new algorithm must be placed.)
int first_schema_taking(core::SigningAlgorithm algorithm) {
    switch (algorithm) {
        case core::SigningAlgorithm::rs256:
        case core::SigningAlgorithm::es256:
            return 15;
        case core::SigningAlgorithm::ps256:
        case core::SigningAlgorithm::es384:
        case core::SigningAlgorithm::eddsa:
        case core::SigningAlgorithm::ed25519:  // held as EdDSA rows
        case core::SigningAlgorithm::ed448:
            return 17;
        case core::SigningAlgorithm::rs384:
        case core::SigningAlgorithm::rs512:
        case core::SigningAlgorithm::ps384:
        case core::SigningAlgorithm::ps512:
        case core::SigningAlgorithm::es512:
            return 18;
        case core::SigningAlgorithm::hs256:  // secrets: never a JWK's row
        case core::SigningAlgorithm::hs384:
        case core::SigningAlgorithm::hs512:
            break;
    }
    return std::numeric_limits<int>::max();
}

// N of the installed schema 1.N; INT_MAX when it is no 1.N (a later major
// version takes every key this library makes).
int installed_schema() {
    pg::SpiConnection spi;
    if (spi.execute("SELECT CASE WHEN extversion ~ '^1\\.[0-9]{1,4}$'"
                    " THEN split_part(extversion, '.', 2)::int END"
                    " FROM pg_catalog.pg_extension WHERE extname = 'pg_tenancy'",
                    true, 1) == 0) {
        return std::numeric_limits<int>::max();
    }
    bool is_null = true;
    Datum minor = spi.copied_value(0, 1, &is_null);
    return is_null ? std::numeric_limits<int>::max() : DatumGetInt32(minor);
}

bool is_object(const JsonbValue* value) {
    return value != nullptr && value->type == jbvBinary &&
           JsonContainerIsObject(value->val.binary.data);
}

// The JWKs of the document: the "keys" of a set, or the document itself when
// it is one JWK ("kty" at the top). Whether it was a set, in `is_set`.
std::vector<FoundKey> found_keys(Datum document, bool& is_set) {
    std::vector<FoundKey> found;
    bool not_an_object = false, keys_not_array = false, neither = false;
    int element_not_object = 0;
    pg::call([&] {
        Jsonb* jwks = DatumGetJsonbP(document);
        if (!JB_ROOT_IS_OBJECT(jwks)) {
            not_an_object = true;
            return;
        }
        JsonbValue* keys = jwk_member(&jwks->root, "keys");
        is_set = keys != nullptr;
        if (keys == nullptr) {
            if (jwk_member(&jwks->root, "kty") == nullptr) {
                neither = true;
                return;
            }
            found.emplace_back();
            read_jwk(&jwks->root, found.back().jwk);
            found.back().name = "the JWK";
            return;
        }
        if (keys->type != jbvBinary || !JsonContainerIsArray(keys->val.binary.data)) {
            keys_not_array = true;
            return;
        }
        JsonbContainer* array = keys->val.binary.data;
        uint32 count = JsonContainerSize(array);
        for (uint32 i = 0; i < count; ++i) {
            CHECK_FOR_INTERRUPTS();
            JsonbValue* element = getIthJsonbValueFromContainer(array, i);
            if (!is_object(element)) {
                element_not_object = static_cast<int>(i) + 1;
                return;
            }
            found.emplace_back();
            read_jwk(element->val.binary.data, found.back().jwk);
            found.back().name = "the JWK number " + std::to_string(i + 1);
        }
    });
    if (not_an_object || neither) {
        refuse_set("not a JWK Set",
                   "A JSON object with a \"keys\" array of JSON Web Keys (RFC 7517), or one JSON "
                   "Web Key (with a \"kty\"), is needed.");
    }
    if (keys_not_array) refuse_set("not a JWK Set", "Its \"keys\" member is not an array.");
    if (element_not_object != 0) {
        refuse_set("not a JWK Set", "Its key number " + std::to_string(element_not_object) +
                                        " is not a JSON object.");
    }
    for (FoundKey& key : found) {
        if (key.jwk.kid) key.name = "the JWK \"" + *key.jwk.kid + "\"";
    }
    return found;
}

}  // namespace
}  // namespace tenancy

using namespace tenancy;

// tenancy.jwks_keys(jwks jsonb) -> SETOF (key_id text, algorithm text, public_key text)
TENANCY_SQL_FUNCTION(tenancy_jwks_keys) {
    bool is_set = false;
    std::vector<FoundKey> found = found_keys(PG_GETARG_DATUM(0), is_set);
    const int schema = installed_schema();
    const char* cannot = " cannot verify context tokens";
    std::vector<core::JwkImport> imports;
    imports.reserve(found.size());
    for (const FoundKey& key : found) {
        pg::check_for_interrupts();  // about 3 ms per RSA key (OpenSSL's checks)
        core::JwkImport imported = core::import_json_web_key(key.jwk);
        if (imported.outcome == core::JwkImport::Outcome::key &&
            first_schema_taking(imported.algorithm) > schema) {
            imported.outcome = core::JwkImport::Outcome::refused;
            imported.reason = std::string("its algorithm, ") + core::to_string(imported.algorithm) +
                              ", is one the keys table takes from pg_tenancy 1." +
                              std::to_string(first_schema_taking(imported.algorithm)) +
                              " on: run ALTER EXTENSION pg_tenancy UPDATE";
        }
        if (imported.outcome == core::JwkImport::Outcome::secret) {
            // Never passed over: the set is the wrong one, and the
            // statement (and perhaps the log) now holds a secret.
            throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, key.name + cannot,
                            pg::as_sentence(imported.reason),
                            "Pass the identity provider's published keys (its \"jwks_uri\"), "
                            "and replace the key given here: it is no longer secret.");
        }
        imports.push_back(std::move(imported));
    }
    // Key ids are handed out to the keys of the oldest algorithms first (the
    // schema version that takes them; then the set's order): a key listed
    // for two algorithms keeps the id it had under an older schema, which
    // passed over the newer algorithm's entry, when the update lets that one
    // in (a refresh would otherwise delete the row and insert it again under
    // another id, ending the session contexts it verified).
    std::vector<std::size_t> placing;
    for (std::size_t i = 0; i < imports.size(); ++i) {
        if (imports[i].outcome == core::JwkImport::Outcome::key) placing.push_back(i);
    }
    std::stable_sort(placing.begin(), placing.end(), [&](std::size_t a, std::size_t b) {
        return first_schema_taking(imports[a].algorithm) < first_schema_taking(imports[b].algorithm);
    });
    enum class Kept { no, taken, duplicate };
    std::vector<Kept> kept(imports.size(), Kept::no);
    std::vector<core::JwkImport> placed;
    for (std::size_t i : placing) {
        switch (place_key(placed, imports[i], found[i].jwk)) {
            case Placement::taken:
                kept[i] = Kept::taken;
                placed.push_back(imports[i]);
                break;
            case Placement::duplicate:
                kept[i] = Kept::duplicate;
                break;
            case Placement::no_key_id:  // passed over with a WARNING, below
                imports[i].outcome = core::JwkImport::Outcome::refused;
                imports[i].reason = "its kid, its thumbprint and its thumbprint with its algorithm are "
                                    "all other keys' key ids in this set";
                break;
        }
    }
    std::vector<core::JwkImport> usable;
    std::string first_passed_over;
    for (std::size_t i = 0; i < imports.size(); ++i) {
        const FoundKey& key = found[i];
        core::JwkImport& imported = imports[i];
        if (kept[i] == Kept::taken) usable.push_back(std::move(imported));
        if (kept[i] != Kept::no) continue;
        // One JWK given alone was meant to serve.
        if (!is_set) {
            throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, key.name + cannot,
                            pg::as_sentence(imported.reason), kUsableKeysHint);
        }
        // In a set, a key for something else is passed over (a provider
        // publishes its encryption keys beside its signing keys), and so,
        // with a WARNING, is one that cannot serve (a legacy 1024-bit key
        // beside the current one): a scheduled refresh keeps the others.
        if (first_passed_over.empty()) first_passed_over = key.name + ": " + imported.reason;
        if (imported.outcome == core::JwkImport::Outcome::refused) {
            std::string message = key.name + " is passed over: it" + cannot;
            std::string detail = pg::as_sentence(imported.reason);
            pg::call([&] {
                ereport(WARNING, (errcode(ERRCODE_INVALID_PARAMETER_VALUE),
                                  errmsg("%s", message.c_str()), errdetail("%s", detail.c_str()),
                                  errhint("%s", kUsableKeysHint)));
            });
        }
    }
    if (usable.empty()) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "the JWK Set has no key that verifies " + core::public_key_algorithm_list() +
                            " tokens",
                        found.empty() ? std::string("Its \"keys\" array is empty.")
                                      : "The first key passed over was " + first_passed_over + ".",
                        "Check that this is the identity provider's signing key set.");
    }
    pg::call([&] { InitMaterializedSRF(fcinfo, 0); });
    auto* result = reinterpret_cast<ReturnSetInfo*>(fcinfo->resultinfo);
    for (const core::JwkImport& key : usable) {
        Datum values[3] = {pg::string_to_text(key.key_id),
                           pg::string_to_text(core::to_string(key.algorithm)),
                           pg::string_to_text(key.pem)};
        bool nulls[3] = {false, false, false};
        pg::call([&] { tuplestore_putvalues(result->setResult, result->setDesc, values, nulls); });
    }
    PG_RETURN_NULL();
}
