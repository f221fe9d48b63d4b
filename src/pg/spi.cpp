#include "pg/spi.hpp"

#include <algorithm>
#include <exception>

namespace tenancy::pg {
namespace {

void check_spi_result(int rc, const char* what) {
    if (rc < 0) {
        throw Error(ERRCODE_INTERNAL_ERROR,
                    std::string("pg_tenancy: ") + what + " failed: " +
                        SPI_result_code_string(rc));
    }
}

// Statements here name tables by schema, but operators and functions such
// as = or count() are looked up on the search_path, and a function that runs
// as its caller (record_file_access, the triggers) would otherwise resolve
// them in a schema the caller put first. So every statement is parsed,
// planned (and replanned) and run with search_path = pg_catalog, pg_temp, as
// under a function's SET search_path, and the caller's comes back after it:
// pin, then unpin with AtEOXact_GUC(true, level), which keeps what user code
// run meanwhile SET for the session, as a function's SET clause does. Called
// inside pg::call; on an error the (sub)transaction abort restores it.
int pin_search_path() {
    int level = NewGUCNestLevel();
    (void) set_config_option("search_path", "pg_catalog, pg_temp", PGC_USERSET, PGC_S_SESSION,
                             GUC_ACTION_SAVE, true, 0, false);
    return level;
}

void unpin_search_path(int level) { AtEOXact_GUC(true, level); }

// Only the last statement's rows are read (copied_value); the ones before
// would otherwise stay until the connection closes, which for a statement
// run once per organization of a bulk DELETE was a leak per organization.
void release_previous_result() {
    SPI_freetuptable(SPI_tuptable);
    SPI_tuptable = nullptr;
}

}  // namespace

CachedPlan::CachedPlan(const char* sql, std::initializer_list<Oid> arg_types)
    : sql_(sql), arg_types_{}, arg_count_(static_cast<int>(arg_types.size())) {
    if (arg_count_ > kMaxSpiArgs) throw std::logic_error("CachedPlan: too many arguments");
    std::copy(arg_types.begin(), arg_types.end(), arg_types_);
}

SPIPlanPtr CachedPlan::get() {
    if (plan_ != nullptr) return plan_;
    const char* sql = sql_;
    Oid* types = arg_types_;
    int nargs = arg_count_;
    SPIPlanPtr plan = call([&] {
        int pinned = pin_search_path();
        SPIPlanPtr prepared = SPI_prepare(sql, nargs, types);
        unpin_search_path(pinned);
        return prepared;
    });
    if (plan == nullptr) check_spi_result(SPI_result, "SPI_prepare");
    check_spi_result(call([&] { return SPI_keepplan(plan); }), "SPI_keepplan");
    plan_ = plan;
    return plan_;
}

SpiConnection::SpiConnection() : caller_context_(CurrentMemoryContext) {
    check_spi_result(call([] { return SPI_connect(); }), "SPI_connect");
    connected_ = true;
}

SpiConnection::~SpiConnection() {
    if (!connected_) return;
    // Unwinding: the error is on its way to PostgreSQL, whose (sub)transaction
    // abort closes the connection. SPI_finish here could pop a connection of
    // a nested SPI user that failed, and would delete the memory the error
    // was raised in.
    if (std::uncaught_exceptions() > 0) return;
    SPI_finish();  // reports failures by return code, never by ereport
    MemoryContextSwitchTo(caller_context_);
}

namespace {

// A kept plan's arguments in the form SPI takes them.
struct PlanArguments {
    Datum values[kMaxSpiArgs];
    char nulls[kMaxSpiArgs];

    PlanArguments(const CachedPlan& plan, std::initializer_list<SpiArg> args) {
        if (static_cast<int>(args.size()) != plan.arg_count()) {
            throw std::logic_error("SpiConnection::execute: wrong number of arguments");
        }
        int i = 0;
        for (const SpiArg& arg : args) {
            values[i] = arg.value;
            nulls[i] = arg.is_null ? 'n' : ' ';
            ++i;
        }
    }
};

}  // namespace

std::uint64_t SpiConnection::execute(CachedPlan& plan, std::initializer_list<SpiArg> args,
                                     bool read_only, long row_limit) {
    PlanArguments arguments(plan, args);
    SPIPlanPtr prepared = plan.get();
    int rc = call([&] {
        release_previous_result();
        int pinned = pin_search_path();
        int result = SPI_execute_plan(prepared, arguments.values, arguments.nulls, read_only, row_limit);
        unpin_search_path(pinned);
        return result;
    });
    check_spi_result(rc, "SPI_execute_plan");
    return SPI_processed;
}

std::uint64_t SpiConnection::execute_on_snapshots(CachedPlan& plan, std::initializer_list<SpiArg> args,
                                                  bool writes) {
    PlanArguments arguments(plan, args);
    SPIPlanPtr prepared = plan.get();
    int rc = call([&] {
        release_previous_result();
        // What ri_triggers.c does for a foreign key's ON DELETE action.
        if (writes) CommandCounterIncrement();
        int pinned = pin_search_path();
        int result = SPI_execute_snapshot(prepared, arguments.values, arguments.nulls,
                                          GetLatestSnapshot(),
                                          writes ? GetTransactionSnapshot() : InvalidSnapshot,
                                          !writes, writes, 0);
        unpin_search_path(pinned);
        return result;
    });
    check_spi_result(rc, "SPI_execute_snapshot");
    return SPI_processed;
}

std::uint64_t SpiConnection::execute_seeing_concurrent(CachedPlan& plan,
                                                       std::initializer_list<SpiArg> args) {
    // Under READ COMMITTED each statement has a fresh snapshot already.
    if (!IsolationUsesXactSnapshot()) return execute(plan, args, false);
    return execute_on_snapshots(plan, args, true);
}

std::uint64_t SpiConnection::execute_on_latest_snapshot(CachedPlan& plan,
                                                        std::initializer_list<SpiArg> args) {
    if (!IsolationUsesXactSnapshot()) return execute(plan, args, false);
    return execute_on_snapshots(plan, args, false);
}

std::uint64_t SpiConnection::execute(const char* sql, bool read_only, long row_limit) {
    int rc = call([&] {
        release_previous_result();
        int pinned = pin_search_path();
        int result = SPI_execute(sql, read_only, row_limit);
        unpin_search_path(pinned);
        return result;
    });
    check_spi_result(rc, "SPI_execute");
    return SPI_processed;
}

std::uint64_t SpiConnection::row_count() const { return SPI_processed; }

namespace {

// A DestReceiver that hands each row to a C++ callback. The callback runs
// inside the executor, so no C++ exception may unwind through it. A C++
// exception is caught here, stops the statement (receiveSlot returns false)
// and is rethrown by stream_rows once the executor has returned. A
// PostgreSQL error the callback met (PgError) is raised again as the ERROR it
// was, once the C++ frames are gone, so the executor unwinds as for any other.
struct RowReceiver {
    DestReceiver base;  // first: the executor sees a DestReceiver*
    void* target;
    void (*callback)(void* target, TupleTableSlot* slot);
    MemoryContext row_memory;
    std::uint64_t rows;
    std::exception_ptr error;
};

bool receive_row(TupleTableSlot* slot, DestReceiver* self) {
    auto* receiver = reinterpret_cast<RowReceiver*>(self);
    MemoryContext old = MemoryContextSwitchTo(receiver->row_memory);
    // The row is deformed here, before any C++ frame with a destructor is
    // live: an error it raises unwinds as from any C function, and the
    // callback reads tts_values/tts_isnull without a pg::call (a setjmp) per
    // row, which was a visible part of a million-row scan.
    slot_getallattrs(slot);
    bool go_on = true;
    ErrorData* postgres_error = nullptr;
    try {
        receiver->callback(receiver->target, slot);
        ++receiver->rows;
    } catch (const PgError& error) {
        postgres_error = error.data();  // kept in the transaction's memory
    } catch (...) {
        receiver->error = std::current_exception();
        go_on = false;
    }
    MemoryContextSwitchTo(old);
    if (postgres_error != nullptr) ReThrowError(postgres_error);
    MemoryContextReset(receiver->row_memory);
    return go_on;
}

void receiver_startup(DestReceiver*, int, TupleDesc) {}
void receiver_shutdown(DestReceiver*) {}
void receiver_destroy(DestReceiver*) {}

}  // namespace

std::uint64_t SpiConnection::stream_rows(const char* sql, std::initializer_list<SpiArg> args,
                                         bool read_only, RowSink sink) {
    if (args.size() > kMaxSpiArgs) throw std::logic_error("SpiConnection: too many arguments");
    Oid types[kMaxSpiArgs];
    int n = 0;
    for (const SpiArg& arg : args) types[n++] = arg.type;

    RowReceiver receiver{};
    receiver.base.receiveSlot = receive_row;
    receiver.base.rStartup = receiver_startup;
    receiver.base.rShutdown = receiver_shutdown;
    receiver.base.rDestroy = receiver_destroy;
    receiver.base.mydest = DestNone;
    receiver.target = sink.target;
    receiver.callback = sink.call;
    call([&] {
        receiver.row_memory = AllocSetContextCreate(CurrentMemoryContext, "pg_tenancy row stream",
                                                    ALLOCSET_DEFAULT_SIZES);
        int pinned = pin_search_path();
        // Prepared unsaved and run once: its first (and only) execution gets
        // a custom plan for these argument values.
        SPIPlanPtr plan = SPI_prepare(sql, n, types);
        if (plan == nullptr) {
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                            errmsg("SPI_prepare failed: %s", SPI_result_code_string(SPI_result))));
        }
        ParamListInfo params = makeParamList(n);
        int i = 0;
        for (const SpiArg& arg : args) {
            ParamExternData& param = params->params[i++];
            param.value = arg.value;
            param.isnull = arg.is_null;
            param.pflags = PARAM_FLAG_CONST;
            param.ptype = arg.type;
        }
        SPIExecuteOptions options{};
        options.params = params;
        options.read_only = read_only;
        options.dest = &receiver.base;
        int rc = SPI_execute_plan_extended(plan, &options);
        if (rc < 0 && !receiver.error) {
            ereport(ERROR, (errcode(ERRCODE_INTERNAL_ERROR),
                            errmsg("SPI_execute_plan_extended failed: %s", SPI_result_code_string(rc))));
        }
        SPI_freeplan(plan);
        unpin_search_path(pinned);
        MemoryContextDelete(receiver.row_memory);
    });
    if (receiver.error) std::rethrow_exception(receiver.error);
    return receiver.rows;
}

Datum SpiConnection::copied_value(std::uint64_t row, int column, bool* is_null) const {
    if (SPI_tuptable == nullptr || row >= SPI_processed) {
        throw std::out_of_range("SpiConnection::copied_value: no such row");
    }
    HeapTuple tuple = SPI_tuptable->vals[row];
    TupleDesc desc = SPI_tuptable->tupdesc;
    MemoryContext target = caller_context_;
    return call([&] {
        bool null = false;
        Datum value = SPI_getbinval(tuple, desc, column, &null);
        *is_null = null;
        if (null) return static_cast<Datum>(0);
        Form_pg_attribute attr = TupleDescAttr(desc, column - 1);
        MemoryContext old = MemoryContextSwitchTo(target);
        Datum copy = datumCopy(value, attr->attbyval, attr->attlen);
        MemoryContextSwitchTo(old);
        return copy;
    });
}

}  // namespace tenancy::pg
