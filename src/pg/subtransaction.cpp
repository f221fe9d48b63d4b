#include "pg/subtransaction.hpp"

namespace tenancy::pg::detail {

Subtransaction::Subtransaction()
    : caller_context_(CurrentMemoryContext), caller_owner_(CurrentResourceOwner) {
    call([] { BeginInternalSubTransaction(nullptr); });
    MemoryContextSwitchTo(caller_context_);
}

void Subtransaction::commit() {
    call([] { ReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(caller_context_);
    CurrentResourceOwner = caller_owner_;
}

void Subtransaction::roll_back() {
    call([] { RollbackAndReleaseCurrentSubTransaction(); });
    MemoryContextSwitchTo(caller_context_);
    CurrentResourceOwner = caller_owner_;
}

CaughtError describe(const PgError& error) {
    const ErrorData* data = error.data();
    CaughtError caught;
    caught.sqlstate = data != nullptr ? data->sqlerrcode : ERRCODE_INTERNAL_ERROR;
    caught.message = error.what();
    if (data != nullptr && data->detail != nullptr) caught.detail = data->detail;
    return caught;
}

}  // namespace tenancy::pg::detail
