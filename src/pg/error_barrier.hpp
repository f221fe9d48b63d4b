// The error barrier between C++ and PostgreSQL (DESIGN.md, "the one rule").
//
// PostgreSQL reports errors by longjmp (ereport(ERROR)); C++ by exceptions.
// Neither may cross the other's frames:
//  - an SQL-callable function's C++ body runs inside barrier(), which catches
//    every exception and raises it as ereport only after the body's frames
//    (and their destructors) are gone;
//  - a call from C++ into PostgreSQL that may ereport goes through call(),
//    which catches the longjmp with PG_TRY and throws it on as PgError, so
//    destructors run and the original error (SQLSTATE, message, detail,
//    context) reaches the client unchanged.
#pragma once

#include <exception>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

#include "pg/postgres.hpp"

namespace tenancy::pg {

// A failure detected by C++ code, with the SQLSTATE the client should see
// (one of PostgreSQL's ERRCODE_* values).
class Error : public std::runtime_error {
public:
    Error(int sqlstate, const std::string& message, std::string detail = {},
          std::string hint = {})
        : std::runtime_error(message),
          sqlstate_(sqlstate),
          detail_(std::move(detail)),
          hint_(std::move(hint)) {}

    int sqlstate() const { return sqlstate_; }
    const std::string& detail() const { return detail_; }
    const std::string& hint() const { return hint_; }

private:
    int sqlstate_;
    std::string detail_;
    std::string hint_;
};

// A reason ("an RSA key of 1024 bits") as the sentence an error's detail is,
// capitalized and ended with a period (PostgreSQL's message style).
inline std::string as_sentence(std::string reason) {
    if (!reason.empty() && reason[0] >= 'a' && reason[0] <= 'z') reason[0] = static_cast<char>(reason[0] - 'a' + 'A');
    return reason + ".";
}

// A PostgreSQL error caught under C++ code, carried to the barrier. The
// ErrorData is palloc'd in the memory context that was current at call().
class PgError : public std::exception {
public:
    explicit PgError(ErrorData* data) : data_(data) {}
    ErrorData* data() const { return data_; }
    const char* what() const noexcept override;

private:
    ErrorData* data_;
};

namespace detail {
// Copies the pending PostgreSQL error out of the error state, which it
// clears. Only for use inside PG_CATCH. The copy lives in the current
// (sub)transaction's memory (CurTransactionContext): the context current at
// the call may be one that unwinding deletes (an SPI connection's) before the
// barrier re-throws. An error that must outlive a subtransaction's rollback
// is copied again (copy_error).
ErrorData* capture_error(MemoryContext caller_context);

// A copy of a caught error in `into`, made by PostgreSQL's own CopyErrorData
// (raised again and caught at once), for an error that must outlive the
// (sub)transaction memory it was captured in.
ErrorData* copy_error(ErrorData* data, MemoryContext into);

// Runs fn inside PG_TRY, keeping a C++ exception it throws from leaving
// PG_TRY's scope (which would leave PostgreSQL's error stack pointing into a
// dead frame); returns it to rethrow after PG_END_TRY.
template <typename Fn>
std::exception_ptr run_guarded(Fn& fn) noexcept {
    try {
        fn();
    } catch (...) {
        return std::current_exception();
    }
    return nullptr;
}
}  // namespace detail

// Runs fn, which calls PostgreSQL functions that may ereport(ERROR), and turns
// such an error into PgError. fn itself must not own objects with destructors:
// the longjmp skips them. A C++ exception from fn (a nested call) passes on.
template <typename Fn>
auto call(Fn&& fn) -> decltype(fn()) {
    using Result = decltype(fn());
    MemoryContext caller_context = CurrentMemoryContext;
    // volatile: assigned between setjmp and a possible longjmp.
    ErrorData* volatile error = nullptr;
    std::exception_ptr thrown;
    if constexpr (std::is_void_v<Result>) {
        auto body = [&] { fn(); };
        PG_TRY();
        { thrown = detail::run_guarded(body); }
        PG_CATCH();
        { error = detail::capture_error(caller_context); }
        PG_END_TRY();
        if (error != nullptr) throw PgError(error);
        if (thrown) std::rethrow_exception(thrown);
    } else {
        static_assert(std::is_trivially_copyable_v<Result>,
                      "pg::call returns plain values only (Datum, pointers, ints)");
        volatile Result result{};
        auto body = [&] { result = fn(); };
        PG_TRY();
        { thrown = detail::run_guarded(body); }
        PG_CATCH();
        { error = detail::capture_error(caller_context); }
        PG_END_TRY();
        if (error != nullptr) throw PgError(error);
        if (thrown) std::rethrow_exception(thrown);
        return result;
    }
}

// CHECK_FOR_INTERRUPTS for loops in C++ over rows or buckets: a cancel or a
// statement_timeout stops them between two rows, as it stops the executor.
// The common case (nothing pending) is one read of a flag.
inline void check_for_interrupts() {
    if (unlikely(INTERRUPTS_PENDING_CONDITION())) call([] { ProcessInterrupts(); });
}

// Runs an SQL-callable function's body; see the file comment. Never returns
// normally when the body throws.
Datum barrier(FunctionCallInfo fcinfo, Datum (*body)(FunctionCallInfo));

// The same for C++ code that a hook (C flow) runs: body(argument) inside the
// barrier. Prefer in_hook().
void hook_barrier(void (*body)(void*), void* argument);

// Runs fn (a callable with a trivial destructor: a raised error longjmps
// over the hook's frame) from a hook, through hook_barrier.
template <typename Fn>
void in_hook(Fn&& fn) {
    using Callable = std::remove_reference_t<Fn>;
    static_assert(std::is_trivially_destructible_v<Callable>,
                  "in_hook needs a trivially destructible callable");
    hook_barrier([](void* callable) { (*static_cast<Callable*>(callable))(); }, &fn);
}

}  // namespace tenancy::pg

// Defines an SQL-callable C function `name` whose body is C++ run inside the
// barrier. Usage:  TENANCY_SQL_FUNCTION(tenancy_foo) { ...; return Datum; }
#define TENANCY_SQL_FUNCTION(name)                                         \
    static Datum name##_body(FunctionCallInfo fcinfo);                     \
    extern "C" {                                                           \
    PG_FUNCTION_INFO_V1(name);                                             \
    Datum name(PG_FUNCTION_ARGS) {                                         \
        return ::tenancy::pg::barrier(fcinfo, name##_body);                \
    }                                                                      \
    }                                                                      \
    static Datum name##_body([[maybe_unused]] FunctionCallInfo fcinfo)
