// Raw rows without a foreign key (events, the file-access log) still go with
// their organization: their writers lock the organization row as a foreign
// key check would, so a deletion waits for them and its cleanup then sees
// what they wrote.
#pragma once

#include <functional>

#include "core/uuid.hpp"
#include "pg/error_barrier.hpp"

namespace tenancy {

// Locks the organization's row FOR KEY SHARE, once per transaction (again
// after a rollback to a savepoint that released it). A missing or deleted
// organization is an error, 23503.
void lock_organization(const core::Uuid& organization_id);

// The transaction deleted organizations (their cleanup calls this): forgets
// every lock taken, so that an insert for one of them looks again and fails,
// and remembers until the transaction ends that organizations went.
void note_organizations_deleted();

// Runs fn as a foreign key's check runs its query (ri_triggers.c): as the
// owner of tenancy.organizations with its FORCE ROW LEVEL SECURITY set aside,
// so that what the caller's policies let it see (nothing, without a context)
// does not decide. The caller's user is back afterwards; if fn fails, the
// (sub)transaction's abort restores it, as for RI checks.
void as_organizations_owner(const std::function<void()>& fn);

// Whether the organization exists, in a fresh snapshot (this transaction's
// deletions included), whatever the caller's policies let it see.
bool organization_exists(const core::Uuid& organization_id);

// Whether this transaction has deleted organizations (or truncated them):
// only then may a statement's audit rows name an organization that is gone.
bool organizations_deleted_in_transaction();

// Raises 25006 naming the function in a read-only transaction (and on a
// standby), before the first write would fail on some internal step such as
// nextval(). `what` says what it writes, for the hint.
void refuse_read_only(const char* function, const char* what = "a row");

// Registers the transaction callbacks behind lock_organization; once, from
// _PG_init.
void register_organization_lock_callbacks();

// True while a superuser's COPY … FROM fires the trigger: how pg_restore
// brings rows back, before the organizations they belong to in some cases.
bool restoring_by_copy(const TriggerData* trigger);

}  // namespace tenancy
