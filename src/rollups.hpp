// What other parts of the library need to know about the rollups.
#pragma once

#include <vector>

#include "core/uuid.hpp"
#include "pg/spi.hpp"

namespace tenancy {

// True once the schema has the deferred rollup tables (1.8:
// event_rollups_deferred, file_rollups_deferred). This library serves older
// schemas too, whose runs wait for a busy organization instead of deferring
// its buckets.
bool rollup_deferral_installed();

// For a purge, which holds rollup_state while it deletes: locks every
// organization as a rollup run does (FOR KEY SHARE: a deletion, a slug
// change or a FOR UPDATE waits for the purge; rows being written are found
// from their headers; waits at most tenancy.rollup_lock_timeout) and returns
// those another transaction holds, whose rows the purge leaves (an
// uncommitted deletion is removing them). Under REPEATABLE READ it locks
// nothing and returns the rows being written only.
std::vector<core::Uuid> lock_organizations_for_purge(pg::SpiConnection& spi);

// Refuses (55000) a rollup state taken in another cluster (a restore from a
// dump of it), whose snapshot and raw rows' txid belong to that cluster's
// ids: the hint says how to adopt it. Runs and purges call it with the state
// row locked.
void refuse_foreign_rollup_state(pg::SpiConnection& spi);

// The ids as a uuid[], in the current memory context.
Datum uuid_array_datum(const std::vector<core::Uuid>& ids);

// Defines tenancy.rollup_lock_timeout; once, from _PG_init.
void define_rollup_settings();

}  // namespace tenancy
