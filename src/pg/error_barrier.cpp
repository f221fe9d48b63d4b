#include "pg/error_barrier.hpp"

#include <new>

namespace tenancy::pg {
namespace {

// What the barrier raises after the C++ frames are gone. Fixed-size buffers:
// allocating here could itself fail while an exception is being handled.
struct PendingError {
    ErrorData* postgres = nullptr;  // a PostgreSQL error to re-throw as is
    int sqlstate = 0;
    char message[1024] = {0};
    char detail[1024] = {0};
    char hint[512] = {0};
};

void copy_text(char* out, std::size_t size, const char* text) {
    strlcpy(out, text != nullptr ? text : "", size);
}

void take_exception(PendingError& pending) {
    try {
        throw;
    } catch (const PgError& e) {
        pending.postgres = e.data();
    } catch (const Error& e) {
        pending.sqlstate = e.sqlstate();
        copy_text(pending.message, sizeof pending.message, e.what());
        copy_text(pending.detail, sizeof pending.detail, e.detail().c_str());
        copy_text(pending.hint, sizeof pending.hint, e.hint().c_str());
    } catch (const std::bad_alloc&) {
        pending.sqlstate = ERRCODE_OUT_OF_MEMORY;
        copy_text(pending.message, sizeof pending.message, "out of memory in pg_tenancy");
    } catch (const std::exception& e) {
        pending.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_text(pending.message, sizeof pending.message, "internal error in pg_tenancy");
        copy_text(pending.detail, sizeof pending.detail, e.what());
    } catch (...) {
        pending.sqlstate = ERRCODE_INTERNAL_ERROR;
        copy_text(pending.message, sizeof pending.message,
                  "internal error in pg_tenancy: unknown C++ exception");
    }
}

// Called with no C++ object alive on the way up to PostgreSQL's handler.
[[noreturn]] void raise(const PendingError& pending) {
    if (pending.postgres != nullptr) ReThrowError(pending.postgres);
    ereport(ERROR, (errcode(pending.sqlstate), errmsg("%s", pending.message),
                    pending.detail[0] ? errdetail("%s", pending.detail) : 0,
                    pending.hint[0] ? errhint("%s", pending.hint) : 0));
    pg_unreachable();
}

}  // namespace

const char* PgError::what() const noexcept {
    return data_ != nullptr && data_->message != nullptr ? data_->message
                                                           : "PostgreSQL error";
}

namespace detail {
ErrorData* capture_error(MemoryContext caller_context) {
    // CopyErrorData copies into the current context, which must not be
    // ErrorContext (FlushErrorState resets it).
    // The (sub)transaction's own memory: a PL/pgSQL loop that catches errors
    // in subtransactions does not pile copies up until the top one ends, and
    // the barrier's ReThrowError copies it again before any abort.
    MemoryContext keep = CurTransactionContext != nullptr ? CurTransactionContext : caller_context;
    MemoryContextSwitchTo(keep);
    ErrorData* data = CopyErrorData();
    FlushErrorState();
    MemoryContextSwitchTo(caller_context);
    return data;
}

ErrorData* copy_error(ErrorData* data, MemoryContext into) {
    MemoryContext caller_context = CurrentMemoryContext;
    ErrorData* volatile copy = nullptr;
    PG_TRY();
    { ReThrowError(data); }
    PG_CATCH();
    {
        MemoryContextSwitchTo(into);
        copy = CopyErrorData();
        FlushErrorState();
        MemoryContextSwitchTo(caller_context);
    }
    PG_END_TRY();
    return copy;
}
}  // namespace detail

namespace {

// The one guard both entry points use: fn's C++ frames are gone before the
// error is raised as PostgreSQL's.
template <typename Fn>
auto guarded(Fn&& fn) -> decltype(fn()) {
    PendingError pending;
    try {
        return fn();
    } catch (...) {
        take_exception(pending);
    }
    raise(pending);
}

}  // namespace

Datum barrier(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo)) {
    return guarded([&] { return body(fcinfo); });
}

void hook_barrier(void (*body)(void*), void* argument) {
    guarded([&] { body(argument); });
}

}  // namespace tenancy::pg
