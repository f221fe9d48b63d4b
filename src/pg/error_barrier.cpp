#include "pg/error_barrier.hpp"

#include <algorithm>
#include <climits>
#include <cstring>
#include <new>

namespace tenancy::pg {
namespace {

// One text of the error (message, detail or hint): a copy of the whole text
// in the caller's memory context when it can be had, else the fixed buffer,
// cut at a character boundary. The copy is made with MCXT_ALLOC_NO_OOM, which
// returns NULL instead of raising: nothing here may longjmp while an
// exception is being handled. Until the 1.26 library only the buffers were
// used, which cut a longer text at a byte count: a detail naming a long
// issuer lost its end, and a multibyte character cut in two made the text
// invalid in the database's encoding (a JWK's "kid" of accented letters).
template <std::size_t N>
struct PendingText {
    char buffer[N] = {0};
    const char* text = buffer;

    void take(const char* from) {
        if (from == nullptr) from = "";
        std::size_t length = strlen(from);
        if (length < MaxAllocSize) {
            auto* copy = static_cast<char*>(
                MemoryContextAllocExtended(CurrentMemoryContext, length + 1, MCXT_ALLOC_NO_OOM));
            if (copy != nullptr) {
                memcpy(copy, from, length + 1);
                text = copy;
                return;
            }
        }
        int kept = pg_mbcliplen(from, static_cast<int>(std::min<std::size_t>(length, INT_MAX)),
                                static_cast<int>(N - 1));
        memcpy(buffer, from, static_cast<std::size_t>(kept));
        buffer[kept] = '\0';
        text = buffer;
    }
};

// What the barrier raises after the C++ frames are gone.
struct PendingError {
    ErrorData* postgres = nullptr;  // a PostgreSQL error to re-throw as is
    int sqlstate = 0;
    PendingText<1024> message;
    PendingText<1024> detail;
    PendingText<512> hint;
};

void take_exception(PendingError& pending) {
    try {
        throw;
    } catch (const PgError& e) {
        pending.postgres = e.data();
    } catch (const Error& e) {
        pending.sqlstate = e.sqlstate();
        pending.message.take(e.what());
        pending.detail.take(e.detail().c_str());
        pending.hint.take(e.hint().c_str());
    } catch (const std::bad_alloc&) {
        pending.sqlstate = ERRCODE_OUT_OF_MEMORY;
        pending.message.take("out of memory in pg_tenancy");
    } catch (const std::exception& e) {
        pending.sqlstate = ERRCODE_INTERNAL_ERROR;
        pending.message.take("internal error in pg_tenancy");
        pending.detail.take(e.what());
    } catch (...) {
        pending.sqlstate = ERRCODE_INTERNAL_ERROR;
        pending.message.take("internal error in pg_tenancy: unknown C++ exception");
    }
}

// Called with no C++ object alive on the way up to PostgreSQL's handler.
[[noreturn]] void raise(const PendingError& pending) {
    if (pending.postgres != nullptr) ReThrowError(pending.postgres);
    ereport(ERROR, (errcode(pending.sqlstate), errmsg("%s", pending.message.text),
                    pending.detail.text[0] ? errdetail("%s", pending.detail.text) : 0,
                    pending.hint.text[0] ? errhint("%s", pending.hint.text) : 0));
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
