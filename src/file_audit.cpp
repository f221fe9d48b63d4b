// Files, versions and the file-access audit (C++ triggers and functions).
//
//  files_before_update  BEFORE UPDATE ROW: version and timestamps, no SQL at all.
//  files_audit          AFTER STATEMENT with transition tables: one pass over
//                       the statement's rows, appending audit (and version)
//                       rows directly, so a 10,000-row statement costs one
//                       trigger call, not 10,000 SQL round trips.
//  file_access_log_guard         the log is append-only for every role.
//  organizations_audit_cleanup   log rows go with their organization.
//  organizations_record_deletion the organization's deletion is on record
//                                (tenancy.organization_deletions, 1.24).
//  record_file_access / purge_file_access_log.
#include <algorithm>
#include <array>
#include <exception>
#include <limits>
#include <optional>
#include <string>
#include <tuple>
#include <unordered_set>
#include <vector>

#include "context.hpp"
#include "core/distinct_sketch.hpp"  // core::UuidHash
#include "log_partitions.hpp"
#include "open_tenant_queries.hpp"
#include "organization_lock.hpp"
#include "rollups.hpp"
#include "pg/error_barrier.hpp"
#include "pg/spi.hpp"
#include "pg/table_appender.hpp"
#include "pg/tuple.hpp"
#include "pg/uuid.hpp"
#include "tenancy_types.hpp"

namespace tenancy {
namespace {

// Attribute numbers of tenancy.files' columns.
struct FileColumns {
    int organization_id, id, owner_id, path, name, mime_type, size_bytes, checksum,
        visibility, version, created_at, updated_at, deleted_at;
    // The same attribute numbers, as resolve() found them: every column above
    // is the extension's; any other a DBA added.
    std::array<int, 13> own{};

    static FileColumns resolve(Relation files) {
        TupleDesc desc = RelationGetDescr(files);
        const char* table = RelationGetRelationName(files);
        std::array<int, 13> found{};
        std::size_t count = 0;
        // The columns read as their type (not only compared) are checked to
        // be of it, and the two read as uuids by pointer to be NOT NULL.
        auto at = [&](const char* column, Oid type = InvalidOid, bool not_null = false) {
            return found.at(count++) =
                       type == InvalidOid
                           ? pg::attribute_number(desc, column, table)
                           : pg::typed_attribute_number(desc, column, type, not_null, table);
        };
        FileColumns columns{at("organization_id", UUIDOID, true),
                            at("id", UUIDOID, true),
                            at("owner_id"),
                            at("path", TEXTOID),
                            at("name"),
                            at("mime_type"),
                            at("size_bytes", INT8OID),
                            at("checksum", TEXTOID),
                            at("visibility"),
                            at("version", INT4OID),
                            at("created_at", TIMESTAMPTZOID),
                            at("updated_at", TIMESTAMPTZOID),
                            at("deleted_at", TIMESTAMPTZOID)};
        columns.own = found;
        return columns;
    }

    // What makes a new version: the stored object changed.
    template <typename Differs>
    bool content_changed(Differs&& differs) const {
        return differs(path) || differs(size_bytes) || differs(checksum);
    }
    // What is worth an `update` row without being a new version: the file's
    // own descriptive columns, and (1.14 library) any column a DBA added.
    // deleted_at is apart: setting or clearing it is a delete or a restore.
    template <typename Differs>
    bool metadata_changed(TupleDesc desc, Differs&& differs) const {
        if (differs(owner_id) || differs(name) || differs(mime_type) || differs(visibility)) {
            return true;
        }
        // A generated column follows the columns it is computed from: one
        // over deleted_at would make every soft delete an update as well.
        for (int attnum = 1; attnum <= desc->natts; ++attnum) {
            Form_pg_attribute attr = TupleDescAttr(desc, attnum - 1);
            if (!attr->attisdropped && attr->attgenerated == '\0' && !is_own(attnum) &&
                differs(attnum)) {
                return true;
            }
        }
        return false;
    }
    bool is_own(int attnum) const {
        return std::find(own.begin(), own.end(), attnum) != own.end();
    }
};

// Resolved once per backend and table: a statement-level trigger's fn_extra
// lasts one query only, and thirteen lookups by name were a visible part of a
// one-row statement. Dropped when the table's relcache entry is invalidated
// (ALTER TABLE, DROP/CREATE EXTENSION; see register_file_audit_callbacks).
Oid g_file_columns_of = InvalidOid;
FileColumns g_file_columns{};

void forget_file_columns(Datum, Oid relid) {
    if (!OidIsValid(relid) || relid == g_file_columns_of) g_file_columns_of = InvalidOid;
}

FileColumns file_columns(Relation files) {
    if (g_file_columns_of != RelationGetRelid(files)) {
        g_file_columns = FileColumns::resolve(files);
        g_file_columns_of = RelationGetRelid(files);
    }
    return g_file_columns;
}

TriggerData* trigger_data(FunctionCallInfo fcinfo, const char* name) {
    if (!CALLED_AS_TRIGGER(fcinfo)) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        std::string(name) + " must be called as a trigger");
    }
    return reinterpret_cast<TriggerData*>(fcinfo->context);
}

// One column of a heap tuple.
struct Value {
    Datum datum;
    bool is_null;
};

Value column_of(HeapTuple tuple, TupleDesc desc, int attnum) {
    Value v{};
    v.datum = heap_getattr(tuple, attnum, desc, &v.is_null);
    return v;
}

Value column_of(TupleTableSlot* slot, int attnum) {
    Value v{};
    v.datum = slot_getattr(slot, attnum, &v.is_null);
    return v;
}

bool changed(TupleDesc desc, int attnum, const Value& before, const Value& after) {
    return !pg::same_value(before.datum, before.is_null, after.datum, after.is_null,
                           TupleDescAttr(desc, attnum - 1));
}

Datum file_action_datum(const char* label) { return enum_label("file_action", label); }

// The user an audit row or a superseded version records: the tenant
// context's, never the statement's. A statement that began under a context
// and finds none by the time its rows are audited ended it itself
// (tenancy.clear_context() or RESET ALL in a RETURNING clause, or in the
// outer query of a writable CTE), after its rows passed the policies as that
// user: they would be logged as nobody's, and the statement is refused
// instead. Asked only once there is a row to audit: a statement that wrote
// nothing is not refused.
std::optional<core::Uuid> audit_actor() {
    const auto& context = current_context();
    if (context) return context->user_id;
    if (context_ended_under_executing_query()) {
        throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                        "the tenant context ended while a statement that writes files was running",
                        "The audit records the context's user for every row the statement wrote; "
                        "the statement itself cleared the context (tenancy.clear_context() or "
                        "RESET ALL in a RETURNING clause or in a query around it).",
                        "Clear the context after the statement, not inside it.");
    }
    return std::nullopt;
}

// What a writer below keeps of a statement's rows before it sorts and writes
// them: PostgreSQL's work_mem, as for its own sorts (the statement's
// transition tables spill to disk past it too). A larger statement is
// written in sorted chunks of that size.
std::size_t buffer_budget() { return static_cast<std::size_t>(work_mem) * 1024; }

// Memory for what a chunk of buffered rows needs until it is written (copied
// values, the uuids handed to the appender), emptied after each chunk. A
// child of the trigger call's memory, which goes with it.
class ChunkMemory {
public:
    ChunkMemory()
        : memory_(pg::call([] {
              return AllocSetContextCreate(CurrentMemoryContext, "pg_tenancy audit chunk",
                                           ALLOCSET_DEFAULT_SIZES);
          })) {}
    MemoryContext get() const { return memory_; }
    void reset() {
        MemoryContext memory = memory_;
        pg::call([&] { MemoryContextReset(memory); });
    }

private:
    MemoryContext memory_;
};

// Runs fn with `memory` current.
template <typename Fn>
auto in_memory(MemoryContext memory, Fn&& fn) {
    MemoryContext old = MemoryContextSwitchTo(memory);
    struct Restore {
        MemoryContext old;
        ~Restore() { MemoryContextSwitchTo(old); }
    } restore{old};
    return fn();
}

// Appends rows to tenancy.file_access_log for one statement.
class AccessLogWriter {
public:
    AccessLogWriter()
        : log_("tenancy", "file_access_log"),
          col_org_(log_.column("organization_id")),
          col_id_(log_.column("id")),
          col_file_(log_.column("file_id")),
          col_user_(log_.column("user_id")),
          col_action_(log_.column("action")),
          col_bytes_(log_.column("bytes")),
          col_at_(log_.column("at")),
          col_txid_(log_.column("txid")),
          col_file_created_at_(log_.column_if_any("file_created_at", TIMESTAMPTZOID)),
          at_(TimestampTzGetDatum(GetCurrentTransactionStartTimestamp())) {
        // run_rollups finds new rows by the transaction that wrote them.
        txid_ = pg::call([] { return FullTransactionIdGetDatum(GetTopFullTransactionId()); });
    }

    // Buffers one audit row; finish() writes them all (or a chunk is
    // written once the buffer reaches buffer_budget()). file_created_at: the
    // file row's created_at, which tells this file from an earlier one of the
    // same id.
    void append(Datum org_id, Datum file_id, Datum action, std::optional<Datum> bytes,
                Datum file_created_at) {
        if (!actor_resolved_) {
            actor_ = audit_actor();
            actor_resolved_ = true;
        }
        if ((pending_.size() + 1) * sizeof(Pending) > buffer_budget()) write_pending();
        pending_.push_back(Pending{pg::uuid_from_datum(org_id), pg::uuid_from_datum(file_id),
                                   action, bytes.has_value(),
                                   bytes ? DatumGetInt64(*bytes) : 0,
                                   DatumGetTimestampTz(file_created_at)});
    }

    void finish() {
        write_pending();
        log_.finish();
    }

private:
    // Writes the buffered rows in the order of the log's btree (organization,
    // file): consecutive index inserts then land on the same leaf pages, which
    // is what makes a 10,000-row statement cheap. Ids follow that order.
    void write_pending() {
        std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
            return std::tie(a.org.bytes, a.file.bytes) < std::tie(b.org.bytes, b.file.bytes);
        });
        for (const Pending& row : pending_) {
            in_memory(chunk_.get(), [&] {
                log_.set(col_org_, pg::uuid_to_datum(row.org));
                log_.set(col_file_, pg::uuid_to_datum(row.file));
            });
            log_.set(col_id_, Int64GetDatum(log_.next_sequence_value(col_id_)));
            // NULL set, not left unset: a default a DBA gave the column does
            // not fill in an actor or a size the audit does not know.
            log_.set(col_user_, actor_ ? actor_datum() : Datum(0), !actor_);
            log_.set(col_action_, row.action);
            log_.set(col_bytes_, Int64GetDatum(row.bytes), !row.has_bytes);
            log_.set(col_at_, at_);
            log_.set(col_txid_, txid_);
            // (Schemas before 1.9 have no such column.)
            if (col_file_created_at_ != 0) {
                log_.set(col_file_created_at_, TimestampTzGetDatum(row.file_created_at));
            }
            log_.append_row();
        }
        pending_.clear();
        chunk_.reset();
    }

    Datum actor_datum() {
        if (actor_datum_ == Datum(0)) actor_datum_ = pg::uuid_to_datum(*actor_);
        return actor_datum_;
    }

    struct Pending {
        core::Uuid org;
        core::Uuid file;
        Datum action;  // an enum label OID: by value
        bool has_bytes;
        int64 bytes;
        TimestampTz file_created_at;
    };

    pg::TableAppender log_;
    std::vector<Pending> pending_;
    ChunkMemory chunk_;
    int col_org_, col_id_, col_file_, col_user_, col_action_, col_bytes_, col_at_, col_txid_,
        col_file_created_at_;
    Datum at_;
    Datum txid_ = Datum(0);
    bool actor_resolved_ = false;
    std::optional<core::Uuid> actor_;
    Datum actor_datum_ = Datum(0);
};

// Reads a transition table row by row with a read pointer of its own, so
// other triggers reading the same table are not disturbed.
class TransitionTableReader {
public:
    TransitionTableReader(Tuplestorestate* store, TupleDesc desc) : store_(store) {
        slot_ = pg::call([&] {
            TupleTableSlot* slot = MakeSingleTupleTableSlot(desc, &TTSOpsMinimalTuple);
            int pointer = tuplestore_alloc_read_pointer(store, EXEC_FLAG_REWIND);
            tuplestore_select_read_pointer(store, pointer);
            tuplestore_rescan(store);
            return slot;
        });
    }
    ~TransitionTableReader() {
        // On the error path the transaction abort releases the slot; a
        // PostgreSQL error raised here then would escape the unwinding.
        if (std::uncaught_exceptions() == 0) ExecDropSingleTupleTableSlot(slot_);
    }
    TransitionTableReader(const TransitionTableReader&) = delete;
    TransitionTableReader& operator=(const TransitionTableReader&) = delete;

    // Advances to the next row; false at the end.
    bool next() {
        pg::check_for_interrupts();
        Tuplestorestate* store = store_;
        TupleTableSlot* slot = slot_;
        return pg::call([&] { return tuplestore_gettupleslot(store, true, false, slot); });
    }
    TupleTableSlot* slot() const { return slot_; }

private:
    Tuplestorestate* store_;
    TupleTableSlot* slot_;
};

// Whether the organizations of a statement's audit rows still exist, each
// looked up once, in a fresh snapshot that sees this transaction's
// deletions, whatever the caller may see. Log rows go with their
// organization: its deletion's cleanup removes those written before it, and
// those of a statement audited after it (a deletion earlier in the same
// statement: a writable CTE) are left out here. `always`: look even when
// this transaction has deleted no organization (deletes, which the cascade
// from an organization's deletion audits before its cleanup); otherwise
// nothing is looked up unless it has.
class LiveOrganizations {
public:
    explicit LiveOrganizations(bool always)
        : look_(always || organizations_deleted_in_transaction()) {}

    bool contains(Datum org) {
        if (!look_) return true;
        core::Uuid id = pg::uuid_from_datum(org);
        if (live_.count(id) != 0) return true;
        if (gone_.count(id) != 0) return false;
        // Not as the caller: a statement that cleared its context sees no
        // organization, and its rows would go unlogged.
        bool exists = organization_exists(id);
        (exists ? live_ : gone_).insert(id);
        return exists;
    }

private:
    bool look_;
    std::unordered_set<core::Uuid, core::UuidHash> live_, gone_;
};

void audit_inserts(TriggerData* trigger, const FileColumns& cols) {
    Datum upload = file_action_datum("upload");
    AccessLogWriter log;
    LiveOrganizations live(false);
    TransitionTableReader rows(trigger->tg_newtable, RelationGetDescr(trigger->tg_relation));
    while (rows.next()) {
        Value org = column_of(rows.slot(), cols.organization_id);
        if (!live.contains(org.datum)) continue;
        Value id = column_of(rows.slot(), cols.id);
        Value size = column_of(rows.slot(), cols.size_bytes);
        log.append(org.datum, id.datum, upload,
                   size.is_null ? std::nullopt : std::optional<Datum>(size.datum),
                   column_of(rows.slot(), cols.created_at).datum);
    }
    log.finish();
}

// Appends the superseded versions of one statement to tenancy.file_versions,
// sorted by its primary key like the audit rows (see AccessLogWriter).
class VersionWriter {
public:
    VersionWriter()
        : versions_("tenancy", "file_versions"),
          col_org_(versions_.column("organization_id")),
          col_file_(versions_.column("file_id")),
          col_version_(versions_.column("version")),
          col_path_(versions_.column("path")),
          col_size_(versions_.column("size_bytes")),
          col_checksum_(versions_.column("checksum")),
          col_created_at_(versions_.column("created_at")),
          col_created_by_(versions_.column("created_by")),
          superseded_at_(TimestampTzGetDatum(GetCurrentTransactionStartTimestamp())) {}

    // Buffers the old content of a file (from the old transition row, whose
    // slot moves on: variable-length values are copied).
    void append(TupleTableSlot* before, const FileColumns& cols) {
        if (!superseded_by_resolved_) {
            // Who superseded it: the tenant context's user, as for the audit row.
            std::optional<core::Uuid> actor = audit_actor();
            if (actor) superseded_by_ = pg::uuid_to_datum(*actor);
            superseded_by_resolved_ = true;
        }
        Value path = column_of(before, cols.path);
        Value checksum = column_of(before, cols.checksum);
        std::size_t copied = (path.is_null ? 0 : VARSIZE_ANY(DatumGetPointer(path.datum))) +
                             (checksum.is_null ? 0 : VARSIZE_ANY(DatumGetPointer(checksum.datum)));
        if ((pending_.size() + 1) * sizeof(Pending) + buffered_bytes_ + copied > buffer_budget()) {
            write_pending();
        }
        in_memory(chunk_.get(), [&] {
            pg::call([&] {
                if (!path.is_null) path.datum = datumCopy(path.datum, false, -1);
                if (!checksum.is_null) checksum.datum = datumCopy(checksum.datum, false, -1);
            });
        });
        buffered_bytes_ += copied;
        pending_.push_back(Pending{pg::uuid_from_datum(column_of(before, cols.organization_id).datum),
                                   pg::uuid_from_datum(column_of(before, cols.id).datum),
                                   DatumGetInt32(column_of(before, cols.version).datum), path,
                                   column_of(before, cols.size_bytes), checksum});
    }

    void finish() {
        write_pending();
        versions_.finish();
    }

private:
    void write_pending() {
        std::sort(pending_.begin(), pending_.end(), [](const Pending& a, const Pending& b) {
            return std::tie(a.org.bytes, a.file.bytes, a.version) <
                   std::tie(b.org.bytes, b.file.bytes, b.version);
        });
        for (const Pending& row : pending_) {
            in_memory(chunk_.get(), [&] {
                set(col_org_, {pg::uuid_to_datum(row.org), false});
                set(col_file_, {pg::uuid_to_datum(row.file), false});
            });
            set(col_version_, {Int32GetDatum(row.version), false});
            set(col_path_, row.path);
            set(col_size_, row.size);
            set(col_checksum_, row.checksum);
            set(col_created_at_, {superseded_at_, false});
            set(col_created_by_, {superseded_by_, superseded_by_ == Datum(0)});
            versions_.append_row();
        }
        pending_.clear();
        buffered_bytes_ = 0;
        chunk_.reset();
    }

    void set(int attnum, const Value& v) { versions_.set(attnum, v.datum, v.is_null); }

    struct Pending {
        core::Uuid org;
        core::Uuid file;
        int32 version;
        Value path;
        Value size;  // bigint: by value
        Value checksum;
    };

    pg::TableAppender versions_;
    int col_org_, col_file_, col_version_, col_path_, col_size_, col_checksum_, col_created_at_,
        col_created_by_;
    std::vector<Pending> pending_;
    std::size_t buffered_bytes_ = 0;  // the copied paths and checksums
    ChunkMemory chunk_;
    Datum superseded_at_;
    bool superseded_by_resolved_ = false;
    Datum superseded_by_ = Datum(0);
};

// files_before_update set version from the content it saw changing, and
// refused a change of organization or id. A DBA's BEFORE UPDATE trigger that
// fires after it (triggers fire in name order) could still change them, and
// the audit would then miss a new content or log one that is not there: such
// a statement is refused (1.14 library; before, the audit trusted version).
template <typename Differs>
void check_rows_as_before_update_left_them(TupleTableSlot* before, TupleTableSlot* after,
                                           const FileColumns& cols, bool content_changed,
                                           Differs&& differs) {
    bool moved = differs(cols.organization_id) || differs(cols.id);
    int32 old_version = DatumGetInt32(column_of(before, cols.version).datum);
    int32 new_version = DatumGetInt32(column_of(after, cols.version).datum);
    bool version_right = new_version == (content_changed ? old_version + 1 : old_version);
    if (moved || !version_right) {
        std::string file = pg::uuid_from_datum(column_of(before, cols.id).datum).to_string();
        throw pg::Error(
            ERRCODE_TRIGGERED_DATA_CHANGE_VIOLATION,
            moved ? "file " + file + " changed its organization or id after files_before_update"
                  : "the version of file " + file + " does not follow its content",
            "files_before_update sets version from path, size_bytes and checksum, and keeps "
            "organization_id and id; a BEFORE UPDATE trigger that fires after it changed them, "
            "or it is disabled.",
            "BEFORE UPDATE triggers on tenancy.files fire in name order: one that changes these "
            "columns must sort before files_before_update.");
    }
}

// Old content becomes a file_versions row; the log gets update, delete
// (soft delete) or restore. The old and new transition tables hold the
// statement's row pairs in the same order.
void audit_updates(TriggerData* trigger, const FileColumns& cols) {
    Datum update = file_action_datum("update");
    Datum soft_delete = file_action_datum("delete");
    Datum restore = file_action_datum("restore");
    TupleDesc desc = RelationGetDescr(trigger->tg_relation);

    AccessLogWriter log;
    VersionWriter versions;
    LiveOrganizations live(false);
    TransitionTableReader old_rows(trigger->tg_oldtable, desc);
    TransitionTableReader new_rows(trigger->tg_newtable, desc);
    while (old_rows.next()) {
        if (!new_rows.next()) {
            throw pg::Error(ERRCODE_INTERNAL_ERROR,
                            "files_audit: transition tables of an UPDATE differ in length");
        }
        TupleTableSlot* before = old_rows.slot();
        TupleTableSlot* after = new_rows.slot();
        auto differs = [&](int attnum) {
            return changed(desc, attnum, column_of(before, attnum), column_of(after, attnum));
        };
        bool content_changed = cols.content_changed(differs);
        check_rows_as_before_update_left_them(before, after, cols, content_changed, differs);
        bool was_deleted = !column_of(before, cols.deleted_at).is_null;
        bool is_deleted = !column_of(after, cols.deleted_at).is_null;
        // A new deleted_at on a file that stays deleted is an update.
        bool updated = content_changed || cols.metadata_changed(desc, differs) ||
                       (was_deleted && is_deleted && differs(cols.deleted_at));
        if (!updated && was_deleted == is_deleted) {
            continue;  // UPDATE … SET x = x: nothing to audit
        }
        Datum org = column_of(after, cols.organization_id).datum;
        if (!live.contains(org)) continue;
        if (content_changed) versions.append(before, cols);

        // One row per thing the statement did to the file (1.14 library;
        // before, a soft delete or restore that also changed the content
        // logged the delete or restore alone, with the new size): a restore
        // comes before the changes made to the restored file, a soft delete
        // after those made to the file it deletes.
        Datum file = column_of(after, cols.id).datum;
        Datum created = column_of(after, cols.created_at).datum;
        if (was_deleted && !is_deleted) log.append(org, file, restore, std::nullopt, created);
        if (updated) {
            std::optional<Datum> bytes;
            Value size = column_of(after, cols.size_bytes);
            if (content_changed && !size.is_null) bytes = size.datum;
            log.append(org, file, update, bytes, created);
        }
        if (!was_deleted && is_deleted) log.append(org, file, soft_delete, std::nullopt, created);
    }
    versions.finish();
    log.finish();
}

// Lets the statements of an open SPI connection read the trigger's
// transition tables by name (old_rows, new_rows).
void register_transition_tables(TriggerData* trigger) {
    int rc = pg::call([&] { return SPI_register_trigger_data(trigger); });
    if (rc < 0) throw pg::Error(ERRCODE_INTERNAL_ERROR, "SPI_register_trigger_data failed");
}

// Hard deletes are logged unless the organization itself is going (cascade
// from organizations): its log goes with it. The file's versions go in any
// case: file_versions has no foreign key to files (these triggers are its
// only writer, and an RI check per version row was most of what a content
// update cost), so the cascade is done here.
void audit_deletes(TriggerData* trigger, const FileColumns& cols) {
    // Planned per statement, not kept: the plan depends on how many rows
    // old_rows holds (an index probe per file, or a hash join for an
    // organization's thousands).
    const char* delete_versions =
        "DELETE FROM tenancy.file_versions v USING old_rows o"
        " WHERE v.organization_id = o.organization_id AND v.file_id = o.id";
    Datum hard_delete = file_action_datum("delete");
    AccessLogWriter log;
    {
        pg::SpiConnection spi;
        register_transition_tables(trigger);
        spi.execute(delete_versions, false);
    }
    LiveOrganizations live(true);
    TransitionTableReader rows(trigger->tg_oldtable, RelationGetDescr(trigger->tg_relation));
    while (rows.next()) {
        Value org = column_of(rows.slot(), cols.organization_id);
        if (!live.contains(org.datum)) continue;
        Value id = column_of(rows.slot(), cols.id);
        log.append(org.datum, id.datum, hard_delete, std::nullopt,
                   column_of(rows.slot(), cols.created_at).datum);
    }
    log.finish();
}

// Empties tenancy.<table> from a TRUNCATE trigger. When the statement itself
// holds the table open (TRUNCATE tenancy.files, tenancy.file_versions), a
// nested TRUNCATE would be refused as "in use": a DELETE removes what is left
// instead.
void remove_all_rows(pg::SpiConnection& spi, const std::string& table) {
    bool in_use = pg::call([&] {
        Oid relid = get_relname_relid(table.c_str(), get_namespace_oid("tenancy", false));
        if (!OidIsValid(relid)) return false;
        Relation relation = RelationIdGetRelation(relid);
        bool open_elsewhere = relation != nullptr && relation->rd_refcnt > 1;
        if (relation != nullptr) RelationClose(relation);
        return open_elsewhere;
    });
    spi.execute(((in_use ? "DELETE FROM tenancy." : "TRUNCATE tenancy.") + table).c_str(), false);
}

// The deletion records (tenancy.organization_deletions) this transaction's
// organizations_record_deletion wrote, by organization: the statement's
// organizations_audit_cleanup adds the log rows and events it deletes to
// them. An entry of a statement that failed in between names a record that
// was rolled back (its id is never handed out again), and is dropped with
// the transaction's.
struct PendingDeletionRecord {
    core::Uuid organization_id;
    int64 record_id;
};
LocalTransactionId g_pending_records_in = InvalidLocalTransactionId;
std::vector<PendingDeletionRecord> g_pending_records;

std::vector<PendingDeletionRecord>& pending_records() {
    if (g_pending_records_in != MyProc->lxid) {
        g_pending_records.clear();
        g_pending_records_in = MyProc->lxid;
    }
    return g_pending_records;
}

// The record of this organization's deletion in this statement, taken off
// the list; none when organizations_record_deletion did not fire (disabled
// by a DBA).
std::optional<int64> take_pending_record(const core::Uuid& organization_id) {
    auto& pending = pending_records();
    std::optional<int64> found;
    // The latest: one deleted, restored and deleted again in a transaction.
    for (const auto& record : pending) {
        if (record.organization_id == organization_id) found = record.record_id;
    }
    pending.erase(std::remove_if(pending.begin(), pending.end(),
                                 [&](const PendingDeletionRecord& record) {
                                     return record.organization_id == organization_id;
                                 }),
                  pending.end());
    return found;
}

}  // namespace

void register_file_audit_callbacks() {
    register_log_maintenance_callbacks();
    // At load, not lazily: a backend has only ten relcache callback slots,
    // and running out mid-query is FATAL.
    CacheRegisterRelcacheCallback(forget_file_columns, PointerGetDatum(nullptr));
}

}  // namespace tenancy

using namespace tenancy;

TENANCY_SQL_FUNCTION(tenancy_files_before_update) {
    TriggerData* trigger = trigger_data(fcinfo, "files_before_update");
    if (!TRIGGER_FIRED_BEFORE(trigger->tg_event) || !TRIGGER_FIRED_FOR_ROW(trigger->tg_event) ||
        !TRIGGER_FIRED_BY_UPDATE(trigger->tg_event)) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "files_before_update must fire BEFORE UPDATE, FOR EACH ROW");
    }
    Relation files = trigger->tg_relation;
    TupleDesc desc = RelationGetDescr(files);
    const FileColumns cols = file_columns(files);
    HeapTuple old_tuple = trigger->tg_trigtuple;
    HeapTuple tuple = trigger->tg_newtuple;
    auto before = [&](int attnum) { return column_of(old_tuple, desc, attnum); };
    auto after = [&](int attnum) { return column_of(tuple, desc, attnum); };
    auto differs = [&](int attnum) { return changed(desc, attnum, before(attnum), after(attnum)); };
    if (differs(cols.organization_id)) {
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "a file cannot move to another organization");
    }
    if (differs(cols.id)) {
        throw pg::Error(ERRCODE_FEATURE_NOT_SUPPORTED, "the id of a file cannot change");
    }
    bool content_changed = cols.content_changed(differs);
    bool anything_changed = content_changed || differs(cols.deleted_at) ||
                            cols.metadata_changed(desc, differs);
    // Version and timestamps belong to the trigger, whatever the statement set.
    int32 old_version = DatumGetInt32(before(cols.version).datum);
    if (content_changed && old_version == std::numeric_limits<int32>::max()) {
        throw pg::Error(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE,
                        "file " + pg::uuid_from_datum(before(cols.id).datum).to_string() +
                            " has reached the highest version number",
                        "A file has at most 2147483647 versions.",
                        "Store the new content as a new file.");
    }
    int replace_columns[3] = {cols.version, cols.created_at, cols.updated_at};
    Datum replace_values[3] = {
        Int32GetDatum(content_changed ? old_version + 1 : old_version),
        before(cols.created_at).datum,
        anything_changed ? TimestampTzGetDatum(GetCurrentTransactionStartTimestamp())
                         : before(cols.updated_at).datum};
    bool replace_nulls[3] = {false, false, false};
    HeapTuple result = pg::call([&] {
        return heap_modify_tuple_by_cols(tuple, desc, 3, replace_columns, replace_values,
                                         replace_nulls);
    });
    return PointerGetDatum(result);
}

TENANCY_SQL_FUNCTION(tenancy_files_audit) {
    TriggerData* trigger = trigger_data(fcinfo, "files_audit");
    if (!TRIGGER_FIRED_AFTER(trigger->tg_event) || TRIGGER_FIRED_FOR_ROW(trigger->tg_event)) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "files_audit must fire AFTER, FOR EACH STATEMENT");
    }
    if (TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event)) {
        // TRUNCATE tenancy.files (owner or superuser): versions go with the
        // files, as they do for a DELETE; the log stays.
        pg::SpiConnection spi;
        remove_all_rows(spi, "file_versions");
        return PointerGetDatum(nullptr);
    }
    // COPY tenancy.files FROM … by a superuser: how pg_restore brings files
    // back together with their own audit rows, which must not be logged a
    // second time. (RLS refuses COPY FROM to everyone else; COPY (UPDATE …)
    // TO is audited.)
    if (restoring_by_copy(trigger)) return PointerGetDatum(nullptr);
    const FileColumns cols = file_columns(trigger->tg_relation);
    if (TRIGGER_FIRED_BY_INSERT(trigger->tg_event) && trigger->tg_newtable != nullptr) {
        audit_inserts(trigger, cols);
    } else if (TRIGGER_FIRED_BY_UPDATE(trigger->tg_event) && trigger->tg_oldtable != nullptr &&
               trigger->tg_newtable != nullptr) {
        audit_updates(trigger, cols);
    } else if (TRIGGER_FIRED_BY_DELETE(trigger->tg_event) && trigger->tg_oldtable != nullptr) {
        audit_deletes(trigger, cols);
    } else {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "files_audit needs its transition tables (REFERENCING ... AS ...)");
    }
    return PointerGetDatum(nullptr);
}

TENANCY_SQL_FUNCTION(tenancy_file_access_log_guard) {
    TriggerData* trigger = trigger_data(fcinfo, "file_access_log_guard");
    bool removing = TRIGGER_FIRED_BY_DELETE(trigger->tg_event) ||
                    TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event);
    // A logical replication subscriber applies the rows its publisher's
    // purges and organization deletions removed (the guard fires there too,
    // ENABLE ALWAYS): refused, they stopped the subscription for good, and
    // the publisher kept its WAL (crash hunt of 1.24). Only a superuser makes
    // a subscription (PostgreSQL 15), and the publisher's guard decided.
    if (removing && (removing_log_rows() || IsLogicalWorker())) {
        return TRIGGER_FIRED_FOR_ROW(trigger->tg_event) ? PointerGetDatum(trigger->tg_trigtuple)
                                                        : PointerGetDatum(nullptr);
    }
    throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE, "tenancy.file_access_log is append-only",
                    "Audit rows cannot be updated, deleted or truncated, by any role.",
                    "Old rows are removed with tenancy.purge_file_access_log(older_than).");
}

TENANCY_SQL_FUNCTION(tenancy_organizations_audit_cleanup) {
    TriggerData* trigger = trigger_data(fcinfo, "organizations_audit_cleanup");
    if (TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event)) {
        // TRUNCATE tenancy.organizations (organizations_truncate_cleanup, as
        // the caller): the rollups go, as the foreign keys they had until 1.3
        // took them. The raw events and the append-only log are left alone,
        // as before.
        pg::SpiConnection spi;
        remove_all_rows(spi, "event_rollups");
        remove_all_rows(spi, "file_rollups");
        if (rollup_deferral_installed()) {
            // DELETE, not TRUNCATE: a run that has read these tables waits
            // for this transaction's lock on organizations, and a TRUNCATE
            // here would wait for that run.
            spi.execute("DELETE FROM tenancy.event_rollups_deferred", false);
            spi.execute("DELETE FROM tenancy.file_rollups_deferred", false);
        }
        note_organizations_deleted();
        return PointerGetDatum(nullptr);
    }
    if (trigger->tg_oldtable == nullptr) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "organizations_audit_cleanup needs REFERENCING OLD TABLE AS old_rows");
    }
    // Neither raw table has a foreign key (appends stay cheap): their rows go here.
    static pg::CachedPlan delete_log(
        "DELETE FROM tenancy.file_access_log WHERE organization_id = $1", {UUIDOID});
    static pg::CachedPlan delete_events(
        "DELETE FROM tenancy.events WHERE organization_id = $1", {UUIDOID});
    static pg::CachedPlan record_counts(
        "UPDATE tenancy.organization_deletions SET file_access_log_rows = $2, event_rows = $3"
        " WHERE id = $1",
        {INT8OID, INT8OID, INT8OID});
    // Nor, since 1.3, the rollups (a foreign-key check per bucket was a fifth
    // of a run). run_rollups locks the organizations it writes for (KEY
    // SHARE), so a delete waits for its commit; the rows it committed are
    // then seen here as a cascade would see them.
    static pg::CachedPlan delete_event_rollups(
        "DELETE FROM tenancy.event_rollups r USING old_rows o WHERE r.organization_id = o.id", {});
    static pg::CachedPlan delete_file_rollups(
        "DELETE FROM tenancy.file_rollups r USING old_rows o WHERE r.organization_id = o.id", {});
    // Writers of events and log rows lock their organization (1.4): this
    // deletion has waited for them, and sees what they committed as a
    // cascade would (a serialization failure under REPEATABLE READ).
    pg::SpiConnection spi;
    register_transition_tables(trigger);
    hold_log_partitions_steady(spi);
    LogMaintenanceScope maintenance;
    // One organization at a time, so that each one's deletion record gets
    // the number of rows its deletes removed (SPI's count: no second pass
    // over the rows). A DELETE of one organization, as delete_organization()
    // does, runs the same two deletes as before.
    std::vector<core::Uuid> organizations;
    {
        TupleDesc desc = RelationGetDescr(trigger->tg_relation);
        int id = pg::typed_attribute_number(desc, "id", UUIDOID, true,
                                            RelationGetRelationName(trigger->tg_relation));
        TransitionTableReader rows(trigger->tg_oldtable, desc);
        while (rows.next()) {
            organizations.push_back(pg::uuid_from_datum(column_of(rows.slot(), id).datum));
        }
    }
    for (const core::Uuid& organization_id : organizations) {
        Datum organization = pg::uuid_to_datum(organization_id);
        std::uint64_t log_rows = spi.execute_seeing_concurrent(delete_log, {{UUIDOID, organization}});
        std::uint64_t event_rows =
            spi.execute_seeing_concurrent(delete_events, {{UUIDOID, organization}});
        std::optional<int64> record = take_pending_record(organization_id);
        if (record && (log_rows > 0 || event_rows > 0)) {
            spi.execute(record_counts,
                        {{INT8OID, Int64GetDatum(*record)},
                         {INT8OID, Int64GetDatum(static_cast<int64>(log_rows))},
                         {INT8OID, Int64GetDatum(static_cast<int64>(event_rows))}},
                        false);
        }
    }
    // A later insert in this transaction for a deleted organization must
    // look again, and fail.
    note_organizations_deleted();
    spi.execute_seeing_concurrent(delete_event_rollups, {});
    spi.execute_seeing_concurrent(delete_file_rollups, {});
    // Buckets a run deferred because the organization's row was locked (by
    // this deletion, say) are left to the next run, which drops them: the
    // organization is gone by then. Deleting them here could make a run wait
    // on this transaction (for its deleted rows), which deferring avoids.
    return PointerGetDatum(nullptr);
}

// organizations_record_deletion: BEFORE DELETE FOR EACH ROW, and BEFORE
// TRUNCATE, on tenancy.organizations (1.24). Writes the organization's row in
// tenancy.organization_deletions: what it was, who deletes it, and its
// members, files and versions, counted here before the foreign keys' cascade
// removes them (organizations_audit_cleanup adds the log rows and events).
// Runs as the caller, whose role (current_user) it records, and writes as
// the table's owner: the application's roles have no access to the table.
// Before the row goes, so a deletion rolled back takes its record along.
TENANCY_SQL_FUNCTION(tenancy_organizations_record_deletion) {
    TriggerData* trigger = trigger_data(fcinfo, "organizations_record_deletion");
    bool truncate = TRIGGER_FIRED_BY_TRUNCATE(trigger->tg_event);
    if (!TRIGGER_FIRED_BEFORE(trigger->tg_event) ||
        !(truncate || (TRIGGER_FIRED_BY_DELETE(trigger->tg_event) &&
                       TRIGGER_FIRED_FOR_ROW(trigger->tg_event)))) {
        throw pg::Error(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED,
                        "organizations_record_deletion must fire BEFORE DELETE FOR EACH ROW, "
                        "or BEFORE TRUNCATE");
    }
    // session_user is the same for the table's owner: the SQL reads it.
    Datum current_user = pg::call([] {
        return CStringGetTextDatum(GetUserNameFromId(GetUserId(), false));
    });
    const std::optional<core::TenantContext>& context = current_context();
    pg::SpiArg user{UUIDOID, Datum(0), true};
    if (context) user = {UUIDOID, pg::uuid_to_datum(context->user_id)};

// The record's insert up to its values, and the rows an organization takes
// along of the tables the foreign keys' cascade empties.
#define TENANCY_INSERT_DELETION_RECORD                                                          \
    "INSERT INTO tenancy.organization_deletions (organization_id, slug, name, created_at,"      \
    " deleted_by_user_id, deleted_by_session_user, deleted_by_current_user,"                   \
    " deleted_by_statement, member_rows, file_rows, file_version_rows)"
#define TENANCY_CASCADED_ROWS_OF(org)                                                    \
    " (SELECT count(*) FROM tenancy.members m WHERE m.organization_id = " org "),"      \
    " (SELECT count(*) FROM tenancy.files f WHERE f.organization_id = " org "),"        \
    " (SELECT count(*) FROM tenancy.file_versions v WHERE v.organization_id = " org ")"

    if (truncate) {
        // Every organization, as the TRUNCATE empties the table. The log
        // and the events stay (their counts are 0).
        static pg::CachedPlan record_all(
            TENANCY_INSERT_DELETION_RECORD
            " SELECT o.id, o.slug, o.name, o.created_at, $1, session_user, $2, 'truncate',"
            TENANCY_CASCADED_ROWS_OF("o.id")
            " FROM tenancy.organizations o ORDER BY o.created_at, o.id",
            {UUIDOID, TEXTOID});
        as_organizations_owner([&] {
            pg::SpiConnection spi;
            spi.execute(record_all, {user, {TEXTOID, current_user}}, false);
        });
        return PointerGetDatum(nullptr);
    }

    static pg::CachedPlan record_one(
        TENANCY_INSERT_DELETION_RECORD
        " SELECT $1, $2, $3, $4, $5, session_user, $6, 'delete',"
        TENANCY_CASCADED_ROWS_OF("$1")
        " RETURNING id",
        {UUIDOID, TEXTOID, TEXTOID, TIMESTAMPTZOID, UUIDOID, TEXTOID});
#undef TENANCY_CASCADED_ROWS_OF
#undef TENANCY_INSERT_DELETION_RECORD
    Relation organizations = trigger->tg_relation;
    TupleDesc desc = RelationGetDescr(organizations);
    const char* table = RelationGetRelationName(organizations);
    HeapTuple row = trigger->tg_trigtuple;
    // Passed to SPI as their type: checked to be of it (and the id, read
    // as a uuid by pointer, NOT NULL).
    auto column = [&](const char* name, Oid type, bool not_null = false) {
        Value value = column_of(row, desc, pg::typed_attribute_number(desc, name, type, not_null, table));
        return pg::SpiArg{type, value.datum, value.is_null};
    };
    pg::SpiArg id = column("id", UUIDOID, true);
    core::Uuid organization_id = pg::uuid_from_datum(id.value);
    std::optional<int64> record_id;
    as_organizations_owner([&] {
        pg::SpiConnection spi;
        std::uint64_t inserted =
            spi.execute(record_one,
                        {id, column("slug", TEXTOID), column("name", TEXTOID),
                         column("created_at", TIMESTAMPTZOID), user, {TEXTOID, current_user}},
                        false);
        // None when a DBA's BEFORE INSERT trigger on the table
        // skipped the record: nothing to add the log and event counts to.
        if (inserted == 0) return;
        bool is_null = false;
        Datum value = spi.copied_value(0, 1, &is_null);
        if (!is_null) record_id = DatumGetInt64(value);
    });
    if (record_id) pending_records().push_back({organization_id, *record_id});
    return PointerGetDatum(row);
}

// tenancy.record_file_access(file_id uuid, action file_action, bytes bigint)
TENANCY_SQL_FUNCTION(tenancy_record_file_access) {
    if (PG_ARGISNULL(0)) {
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "file_id must not be NULL");
    }
    if (PG_ARGISNULL(1)) {
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "action must not be NULL");
    }
    Datum file_id = PG_GETARG_DATUM(0);
    Oid action = PG_GETARG_OID(1);
    std::optional<int64> bytes;
    if (!PG_ARGISNULL(2)) bytes = PG_GETARG_INT64(2);

    Datum download = file_action_datum("download");
    Datum view = file_action_datum("view");
    if (ObjectIdGetDatum(action) != download && ObjectIdGetDatum(action) != view) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "record_file_access records reads only: 'download' or 'view'",
                        {}, "Uploads, updates and deletes are logged by the files triggers.");
    }
    if (bytes && (*bytes < 0 || *bytes > 1000000000000000LL)) {
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "bytes must be between 0 and 1e15");
    }
    refuse_read_only("tenancy.record_file_access");
    // Here, not from inside the lookup below (whose SQL the client would see
    // as the error's CONTEXT). Without a context, whether or not
    // tenancy.require_context is on: the lookup would say the file does not
    // exist, which a superuser doing maintenance took at its word (operations
    // review of 1.22), as track() says it (1.23 library).
    if (!current_context()) refuse_without_context("tenancy.record_file_access()");

    // Runs as the caller, under the files policies: a file the caller cannot
    // see is not found, exactly like a file that does not exist.
    static pg::CachedPlan find_file(
        "SELECT organization_id, deleted_at IS NOT NULL, size_bytes, created_at FROM tenancy.files"
        " WHERE organization_id = tenancy.current_org_id() AND id = $1",
        {UUIDOID});
    std::string file_text = pg::uuid_from_datum(file_id).to_string();
    Datum org_id;
    Datum size;
    Datum file_created_at;
    bool size_null = true;
    {
        pg::SpiConnection spi;
        // Not read-only: in a fresh snapshot, which sees what the calling
        // statement itself did (a file it deleted, or made a moment ago) and,
        // under READ COMMITTED, what others committed since it began.
        if (spi.execute(find_file, {{UUIDOID, file_id}}, false, 1) == 0) {
            throw pg::Error(ERRCODE_NO_DATA_FOUND, "file " + file_text + " does not exist");
        }
        bool null = false;
        org_id = spi.copied_value(0, 1, &null);
        bool deleted = DatumGetBool(spi.copied_value(0, 2, &null));
        size = spi.copied_value(0, 3, &size_null);
        file_created_at = spi.copied_value(0, 4, &null);
        if (deleted) {
            throw pg::Error(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                            "file " + file_text + " is deleted", {},
                            "Restore it (set deleted_at to NULL) before reading it.");
        }
    }
    // A download without a byte count read the whole file.
    std::optional<Datum> logged_bytes;
    if (bytes) {
        logged_bytes = Int64GetDatum(*bytes);
    } else if (ObjectIdGetDatum(action) == download && !size_null) {
        logged_bytes = size;
    }
    // The log has no foreign key: the organization is locked as one would
    // lock it, so that a deletion of it waits for this row and takes it along.
    lock_organization(pg::uuid_from_datum(org_id));
    AccessLogWriter log;
    log.append(org_id, file_id, ObjectIdGetDatum(action), logged_bytes, file_created_at);
    log.finish();
    PG_RETURN_VOID();
}

// tenancy.stored_bytes(org uuid, latest boolean) -> numeric[]: the bytes of
// the organization's files (soft-deleted ones too) and of their superseded
// versions, as {files, versions}. latest: as committed now, also under
// REPEATABLE READ or SERIALIZABLE, whose snapshot may be older: there
// storage_use(lock => true) compares the two, since a check from an old
// snapshot can miss an upload that committed while it waited for the lock
// (isolation review of 1.22: a SERIALIZABLE uploader after a READ COMMITTED
// one stored past the quota). Internal: the extension owner's, as whom
// storage_use runs (it reads every row of the organization).
TENANCY_SQL_FUNCTION(tenancy_stored_bytes) {
    if (PG_ARGISNULL(0) || PG_ARGISNULL(1)) {
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "org and latest must not be NULL");
    }
    Datum org_id = PG_GETARG_DATUM(0);
    bool latest = PG_GETARG_BOOL(1);
    static pg::CachedPlan sums(
        "SELECT (SELECT coalesce(sum(size_bytes), 0) FROM tenancy.files"
        "        WHERE organization_id = $1),"
        "       (SELECT coalesce(sum(size_bytes), 0) FROM tenancy.file_versions"
        "        WHERE organization_id = $1)",
        {UUIDOID});
    std::array<Datum, 2> bytes{};
    {
        pg::SpiConnection spi;
        if (latest) {
            spi.execute_on_latest_snapshot(sums, {{UUIDOID, org_id}});
        } else {
            spi.execute(sums, {{UUIDOID, org_id}}, true);
        }
        bool null = false;
        bytes[0] = spi.copied_value(0, 1, &null);
        bytes[1] = spi.copied_value(0, 2, &null);
    }
    return pg::call([&] {
        return PointerGetDatum(
            construct_array(bytes.data(), 2, NUMERICOID, -1, false, TYPALIGN_INT));
    });
}

// tenancy.lock_context_storage() (1.25): storage_use(lock => true)'s turn
// for the context's organization, to the end of the transaction. An object
// lock whose class is tenancy.organizations' pg_class entry and whose object
// is a 32-bit hash of the organization's id: PostgreSQL takes object locks
// for catalog entries only, so no SQL statement names this one. Until 1.25 it
// was an advisory lock on a key the README gave, which any session could take
// for any organization and so hold up its uploads, or watch (red-team review
// of 1.24). Only the context's organization: whoever is granted this can make
// no other organization wait. pg_locks still shows it to every role. Two
// organizations whose ids hash alike take turns with each other, as with the
// advisory key.
TENANCY_SQL_FUNCTION(tenancy_lock_context_storage) {
    const std::optional<core::TenantContext>& context = current_context();
    if (!context) {
        throw pg::Error(ERRCODE_INSUFFICIENT_PRIVILEGE,
                        "no tenant context is set for tenancy.storage_use()");
    }
    const core::Uuid organization = context->org_id;
    pg::call([&] {
        Oid organizations = get_relname_relid("organizations", get_namespace_oid("tenancy", false));
        uint32 key = hash_bytes(organization.bytes.data(), static_cast<int>(organization.bytes.size()));
        LockDatabaseObject(organizations, key, 0, ExclusiveLock);
    });
    PG_RETURN_VOID();
}

// tenancy.purge_file_access_log(older_than interval) -> rows removed
TENANCY_SQL_FUNCTION(tenancy_purge_file_access_log) {
    if (PG_ARGISNULL(0)) {
        throw pg::Error(ERRCODE_NULL_VALUE_NOT_ALLOWED, "older_than must not be NULL");
    }
    Datum older_than = PG_GETARG_DATUM(0);
    // Positive is what the cutoff (now() - older_than) says, not each field:
    // '1 month -1 day' reaches back (before the 1.17 library it was
    // refused), '1 month -29 days' does not in March (a month back from March
    // 1st is 28 days), and would purge up to tomorrow.
    TimestampTz now = GetCurrentTransactionStartTimestamp();
    TimestampTz cutoff = 0;
    try {
        cutoff = DatumGetTimestampTz(pg::call([&] {
            return DirectFunctionCall2(timestamptz_mi_interval, TimestampTzGetDatum(now), older_than);
        }));
    } catch (const pg::PgError& error) {
        if (error.data()->sqlerrcode != ERRCODE_DATETIME_VALUE_OUT_OF_RANGE) throw;
        // Past the range of timestamptz: before 4714 BC, or (a negative
        // interval) after 294276 AD. Before, the purge's first query failed
        // with a bare 22008 that named no argument.
        Interval zero{};
        bool reaches_forward = DatumGetInt32(pg::call([&] {
                                   return DirectFunctionCall2(interval_cmp, older_than, IntervalPGetDatum(&zero));
                               })) < 0;
        if (reaches_forward) {
            throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "older_than must be a positive interval");
        }
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE,
                        "older_than reaches back beyond the range of timestamptz",
                        "now() - older_than is not a timestamp.");
    }
    if (cutoff >= now) {
        std::string cutoff_text = pg::call([&] { return timestamptz_to_str(cutoff); });  // a static buffer
        throw pg::Error(ERRCODE_INVALID_PARAMETER_VALUE, "older_than must be a positive interval",
                        "now() - older_than is " + cutoff_text + ", not before now().");
    }
    refuse_unless_rollup_state_visible("tenancy.purge_file_access_log");
    // Only rows the rollups have counted go (as for purge_events), and the
    // rollups learn from when the raw log is no longer complete.
    static pg::CachedPlan record(
        "INSERT INTO tenancy.file_access_log_purges (older_than, rows_purged) VALUES ($1, $2)",
        {INTERVALOID, INT8OID});
    static pg::CachedPlan mark_incomplete(
        "UPDATE tenancy.rollup_state SET file_log_complete_since ="
        " greatest(file_log_complete_since, now() - $1)",
        {INTERVALOID});
    pg::SpiConnection spi;
    bool no_state = true;
    Datum counted = Datum(0);
    // The state row first: purges and rollup runs (which make months) take
    // their turns on it before any lock on the log.
    if (spi.execute(rollup_state_lock_statement("last_snapshot::text").c_str(), false, 1) > 0) {
        counted = spi.copied_value(0, 1, &no_state);
        // Rows that snapshot shows counted were counted in that cluster, not
        // rows written here with ids below its (review of 1.18).
        refuse_foreign_rollup_state(spi);
    }
    uint64 removed = 0;
    if (no_state) {
        // No run yet: no row is counted, and a purge now would leave the
        // rollups short without a trace (there is no state to mark).
        pg::call([] {
            ereport(NOTICE, (errmsg("no file access log row has been counted by the rollups yet;"
                                    " nothing is purged"),
                             errhint("Run tenancy.run_rollups() first.")));
        });
    } else {
        removed = purge_counted_log_rows(spi, older_than, counted);
    }
    if (removed > 0) spi.execute(mark_incomplete, {{INTERVALOID, older_than}}, false);
    spi.execute(record, {{INTERVALOID, older_than}, {INT8OID, Int64GetDatum(removed)}}, false);
    pg::call([&] {
        ereport(LOG, (errmsg("pg_tenancy: purged %llu file access log rows",
                             static_cast<unsigned long long>(removed))));
    });
    PG_RETURN_INT64(static_cast<int64>(removed));
}
