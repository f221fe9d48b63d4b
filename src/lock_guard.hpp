// LOCK TABLE on the extension's tables: a mode stronger than ROW EXCLUSIVE
// (SHARE and up: what blocks writers, or readers too) is their owner's
// only. PostgreSQL lets whoever may UPDATE or DELETE a table take any lock
// on it, and the application role may write members, files and
// organizations: one application session holding such a lock would stall
// every tenant, which no policy can see.
#pragma once

namespace tenancy {

// Installs the ProcessUtility hook; once, from _PG_init.
void install_lock_guard();

}  // namespace tenancy
