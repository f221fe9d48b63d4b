// Module entry: settings, hooks and the reserved "tenancy." prefix.
#include "context.hpp"
#include "pg/postgres.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);

void _PG_init(void) {
    tenancy::define_context_settings();
    // After this, SET tenancy.<anything unknown> is an error instead of a
    // placeholder that could shadow a setting defined later.
    MarkGUCPrefixReserved("tenancy");
    tenancy::install_context_hooks();
    tenancy::register_file_audit_callbacks();
}
}
