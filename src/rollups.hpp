// What other parts of the library need to know about the rollups.
#pragma once

namespace tenancy {

// True once the schema has the deferred rollup tables (1.8:
// event_rollups_deferred, file_rollups_deferred). This library serves older
// schemas too, whose runs wait for a busy organization instead of deferring
// its buckets.
bool rollup_deferral_installed();

// Defines tenancy.rollup_lock_timeout; once, from _PG_init.
void define_rollup_settings();

}  // namespace tenancy
