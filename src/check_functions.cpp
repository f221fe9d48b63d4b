// SQL helpers of tenancy.check() (the rest of it is SQL).
#include "core/node_tree.hpp"
#include "pg/error_barrier.hpp"
#include "pg/varlena.hpp"

// tenancy.strip_sublinks(tree text) -> text: the tree without its subqueries.
TENANCY_SQL_FUNCTION(tenancy_strip_sublinks) {
    std::string tree = tenancy::pg::varlena_bytes(PG_GETARG_DATUM(0));
    return tenancy::pg::string_to_text(tenancy::core::strip_node_subtrees(tree, "{SUBLINK"));
}
