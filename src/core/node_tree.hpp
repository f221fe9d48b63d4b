// Reading PostgreSQL's stored expression trees (pg_node_tree text, as in
// pg_policy.polqual) without PostgreSQL: tenancy.check() looks at which
// functions a policy calls per row.
#pragma once

#include <string>
#include <string_view>

namespace tenancy::core {

// The tree without every node that starts with `open_tag` (e.g. "{SUBLINK"),
// braces balanced. Backslash escapes (how node text quotes '{' and '}') are
// honoured. Unbalanced input loses everything from the unclosed node on.
std::string strip_node_subtrees(std::string_view tree, std::string_view open_tag);

}  // namespace tenancy::core
