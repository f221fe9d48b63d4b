// Module entry: settings, hooks and the reserved "tenancy." prefix.
#include "context.hpp"
#include "lock_guard.hpp"
#include "log_partitions.hpp"
#include "organization_lock.hpp"
#include "rollups.hpp"
#include "pg/table_appender.hpp"
#include "pg/postgres.hpp"

extern "C" {
PG_MODULE_MAGIC;

void _PG_init(void);
}

namespace {

// Applies the tenancy.* entries of one pg_db_role_setting row.
void apply_tenancy_settings(Relation settings, Snapshot snapshot, Oid database, Oid role,
                            GucSource source) {
    ScanKeyData keys[2];
    ScanKeyInit(&keys[0], Anum_pg_db_role_setting_setdatabase, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(database));
    ScanKeyInit(&keys[1], Anum_pg_db_role_setting_setrole, BTEqualStrategyNumber, F_OIDEQ,
                ObjectIdGetDatum(role));
    SysScanDesc scan =
        systable_beginscan(settings, DbRoleSettingDatidRolidIndexId, true, snapshot, 2, keys);
    HeapTuple tuple;
    while (HeapTupleIsValid(tuple = systable_getnext(scan))) {
        bool is_null;
        Datum config = heap_getattr(tuple, Anum_pg_db_role_setting_setconfig,
                                    RelationGetDescr(settings), &is_null);
        if (is_null) continue;
        ArrayType* array = DatumGetArrayTypeP(config);
        Datum* items;
        bool* item_nulls;
        int count;
        deconstruct_array(array, TEXTOID, -1, false, TYPALIGN_INT, &items, &item_nulls, &count);
        for (int i = 0; i < count; ++i) {
            if (item_nulls[i]) continue;
            char* entry = TextDatumGetCString(items[i]);
            char* name;
            char* value;
            ParseLongOption(entry, &name, &value);
            if (value != nullptr && strncmp(name, "tenancy.", 8) == 0) {
                // Stored by a role allowed to (checked at ALTER ROLE/DATABASE).
                (void)set_config_option(name, value, PGC_SUSET, source, GUC_ACTION_SET, true,
                                        WARNING, false);
            }
            // ParseLongOption's copies, freed as PostgreSQL's ProcessGUCArray
            // frees them: malloc'd up to 15, palloc'd since 16.
#if PG_VERSION_NUM < 160000
            free(name);
            free(value);
#else
            pfree(name);
            if (value != nullptr) pfree(value);
#endif
            pfree(entry);
        }
    }
    systable_endscan(scan);
}

// The same for a DBA's tenancy.* lines in postgresql.conf (and the files it
// includes) or postgresql.auto.conf (ALTER SYSTEM): a client's -c replaced
// them too (diff review of 1.22: "-c tenancy.require_context=off" turned an
// ALTER SYSTEM's on into the default, off). The files are read again, as
// the postmaster read them at its last start or reload (a change not yet
// reloaded is taken early), and their values applied with the files' rank:
// a client's value of a setting anyone may set, and the stored values
// applied after, still win. A file that does not parse is left to the
// postmaster's own report.
void reapply_file_settings() {
    if (!IsUnderPostmaster || IsParallelWorker() || ConfigFileName == nullptr) return;
    ConfigVariable* head = nullptr;
    ConfigVariable* tail = nullptr;
    bool parsed = ParseConfigFile(ConfigFileName, true, nullptr, 0, 0, DEBUG1, &head, &tail) &&
                  ParseConfigFile(PG_AUTOCONF_FILENAME, false, nullptr, 0, 0, DEBUG1, &head, &tail);
    // In the files' order: a later line of the same name wins, as it does
    // for the postmaster.
    for (ConfigVariable* item = head; parsed && item != nullptr; item = item->next) {
        if (item->ignore || item->name == nullptr || item->value == nullptr ||
            strncmp(item->name, "tenancy.", 8) != 0) {
            continue;
        }
        // Not a name this library does not define (PostgreSQL has warned of
        // it already), nor what a file may not set (the context itself).
        if (GetConfigOption(item->name, true, false) == nullptr ||
            (GetConfigOptionFlags(item->name, true) & GUC_DISALLOW_IN_FILE) != 0) {
            continue;
        }
        (void)set_config_option(item->name, item->value, PGC_SIGHUP, PGC_S_FILE, GUC_ACTION_SET,
                                true, WARNING, false);
    }
    FreeConfigVariables(head);
}

// When the library is loaded on demand, its settings were placeholders at
// connection time, and a client's "-c tenancy.x=…" outranked a DBA's
// ALTER ROLE/DATABASE … SET. PostgreSQL refuses the client's value once the
// setting turns out superuser-only, but the DBA's value is gone with it, so
// the setting would fall back to its default. Re-apply the stored values
// (an application must not switch strict mode off by connecting with -c).
void reapply_stored_settings() {
    if (!IsUnderPostmaster || IsParallelWorker() || !IsTransactionState() ||
        !OidIsValid(MyDatabaseId)) {
        return;
    }
    Relation settings = table_open(DbRoleSettingRelationId, AccessShareLock);
    Snapshot snapshot = RegisterSnapshot(GetCatalogSnapshot(DbRoleSettingRelationId));
    Oid role = GetSessionUserId();
    apply_tenancy_settings(settings, snapshot, InvalidOid, InvalidOid, PGC_S_GLOBAL);
    apply_tenancy_settings(settings, snapshot, MyDatabaseId, InvalidOid, PGC_S_DATABASE);
    apply_tenancy_settings(settings, snapshot, InvalidOid, role, PGC_S_USER);
    apply_tenancy_settings(settings, snapshot, MyDatabaseId, role, PGC_S_DATABASE_USER);
    UnregisterSnapshot(snapshot);
    table_close(settings, AccessShareLock);
}

}  // namespace

// Plain C flow: nothing here owns a C++ object, so an ereport may pass.
void _PG_init(void) {
    tenancy::define_context_settings();
    tenancy::define_log_settings();
    tenancy::define_rollup_settings();
    // After this, SET tenancy.<anything unknown> is an error instead of a
    // placeholder that could shadow a setting defined later.
    MarkGUCPrefixReserved("tenancy");
    // Hooks before anything that may fail: a failed load cannot be retried in
    // this session (the settings exist already), so it must not leave the
    // strict-mode hook or the transaction callback out.
    tenancy::install_context_hooks();
    tenancy::install_lock_guard();
    tenancy::register_file_audit_callbacks();
    tenancy::register_organization_lock_callbacks();
    tenancy::pg::TableAppender::register_invalidation();
    reapply_file_settings();
    reapply_stored_settings();
}
