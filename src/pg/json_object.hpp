// The top-level members of a JSON object, read with PostgreSQL's own JSON
// parser (common/jsonapi.h), for small documents such as a token's claims.
#pragma once

#include <map>
#include <optional>
#include <string>

#include "core/context_token.hpp"

namespace tenancy::pg {

// Member name -> value for a JSON object's own members (an array as
// Kind::array with its string elements; a nested object, and
// true/false/null, as Kind::other with no text); nullopt when
// the text is not a single JSON object or names a member twice (which JSON
// allows and RFC 7519 refuses: two readers could take different values).
std::optional<std::map<std::string, core::JsonClaim>> json_object_members(const std::string& json);

}  // namespace tenancy::pg
