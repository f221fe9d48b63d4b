# The one source list: read by the Makefile (PGXS) and by CMakeLists.txt.
# Pure C++ with no PostgreSQL header (unit-tested and fuzzed on their own):
TENANCY_CORE_SOURCES = \
	src/core/uuid.cpp \
	src/core/tenant_context.cpp \
	src/core/quantile_sketch.cpp \
	src/core/distinct_sketch.cpp \
	src/core/rollup_batch.cpp \
	src/core/node_tree.cpp \
	src/core/snapshot_text.cpp \
	src/core/context_token.cpp \
	src/core/json_web_key.cpp \
	src/core/token_signature.cpp

# The PostgreSQL boundary and the features built on it:
TENANCY_MODULE_SOURCES = \
	src/pg/array.cpp \
	src/pg/error_barrier.cpp \
	src/pg/guc.cpp \
	src/pg/hmac.cpp \
	src/pg/json_object.cpp \
	src/pg/spi.cpp \
	src/pg/subtransaction.cpp \
	src/pg/table_appender.cpp \
	src/pg/tuple.cpp \
	src/pg/uuid.cpp \
	src/pg/varlena.cpp \
	src/context.cpp \
	src/context_token.cpp \
	src/json_web_keys.cpp \
	src/open_tenant_queries.cpp \
	src/lock_guard.cpp \
	src/organization_lock.cpp \
	src/file_audit.cpp \
	src/log_partitions.cpp \
	src/rollups.cpp \
	src/sketch_functions.cpp \
	src/check_functions.cpp \
	src/tenancy_types.cpp \
	src/error_probe.cpp \
	src/module.cpp
