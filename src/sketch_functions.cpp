// SQL access to the sketches stored in rollups: quantiles, distinct counts
// and merges (the aggregates of daily views use the merges).
#include "core/distinct_sketch.hpp"
#include "core/quantile_sketch.hpp"
#include "pg/varlena.hpp"
#include "pg/error_barrier.hpp"

namespace {

using tenancy::core::DistinctSketch;
using tenancy::core::QuantileSketch;

template <typename Sketch>
Sketch sketch_arg(FunctionCallInfo fcinfo, int index, const char* what) {
    auto sketch = Sketch::deserialize(tenancy::pg::varlena_view(PG_GETARG_DATUM(index)));
    if (!sketch) {
        throw tenancy::pg::Error(ERRCODE_INVALID_BINARY_REPRESENTATION,
                                 std::string("invalid ") + what);
    }
    return std::move(*sketch);
}

template <typename Sketch>
Datum merge_args(FunctionCallInfo fcinfo, const char* what) {
    Sketch merged = sketch_arg<Sketch>(fcinfo, 0, what);
    merged.merge(sketch_arg<Sketch>(fcinfo, 1, what));
    return tenancy::pg::bytes_to_bytea(merged.serialize());
}

}  // namespace

// tenancy.sketch_quantile(sketch bytea, q float8) -> float8 (NULL if empty)
TENANCY_SQL_FUNCTION(tenancy_sketch_quantile) {
    double q = PG_GETARG_FLOAT8(1);
    if (!(q >= 0.0 && q <= 1.0)) {
        throw tenancy::pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "q must be between 0 and 1");
    }
    auto value = sketch_arg<QuantileSketch>(fcinfo, 0, "quantile sketch").quantile(q);
    if (!value) PG_RETURN_NULL();
    PG_RETURN_FLOAT8(*value);
}

// tenancy.sketch_distinct_count(sketch bytea) -> bigint
TENANCY_SQL_FUNCTION(tenancy_sketch_distinct_count) {
    auto sketch = sketch_arg<DistinctSketch>(fcinfo, 0, "distinct sketch");
    PG_RETURN_INT64(static_cast<int64>(sketch.estimate()));
}

TENANCY_SQL_FUNCTION(tenancy_quantile_sketch_merge) {
    return merge_args<QuantileSketch>(fcinfo, "quantile sketch");
}

TENANCY_SQL_FUNCTION(tenancy_distinct_sketch_merge) {
    return merge_args<DistinctSketch>(fcinfo, "distinct sketch");
}
