// Running a piece of work that may fail without failing the caller: the
// work runs in an internal subtransaction, as a PL/pgSQL block with an
// EXCEPTION clause does, and an error rolls back only what it did (its
// rows, its locks, its SPI connections).
#pragma once

#include <optional>
#include <string>

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

// An error that a subtransaction ended with, copied out of it before the
// rollback freed its memory.
struct CaughtError {
    int sqlstate = 0;
    std::string message;
    std::string detail;
};

namespace detail {
// BeginInternalSubTransaction, with the caller's memory context kept
// current; what runs in it belongs to its resource owner (its locks, buffer
// pins and relation references go with it) until commit() or roll_back()
// restores the caller's.
class Subtransaction {
public:
    Subtransaction();
    Subtransaction(const Subtransaction&) = delete;
    Subtransaction& operator=(const Subtransaction&) = delete;
    void commit();
    void roll_back();

private:
    MemoryContext caller_context_;
    ResourceOwner caller_owner_;
};

CaughtError describe(const PgError& error);
}  // namespace detail

// Runs fn in a subtransaction. Returns nothing when fn succeeded (its work
// is kept); otherwise rolls back its work and returns the error (any SQL
// error, PostgreSQL's out of memory included), except a cancel or a
// statement timeout (57014), raised again unchanged as PL/pgSQL does, and a C++
// failure that is not an SQL error (a bug, std::bad_alloc), rethrown.
template <typename Fn>
std::optional<CaughtError> try_in_subtransaction(Fn&& fn) {
    detail::Subtransaction subtransaction;
    std::optional<CaughtError> caught;
    try {
        fn();
    } catch (const PgError& e) {
        if (e.data() != nullptr && e.data()->sqlerrcode == ERRCODE_QUERY_CANCELED) {
            // Raised again as it is (its CONTEXT lines say where it struck),
            // from memory that the rollback does not free.
            PgError cancel(detail::copy_error(e.data(), TopTransactionContext));
            subtransaction.roll_back();
            throw cancel;
        }
        caught = detail::describe(e);
    } catch (const Error& e) {
        caught = CaughtError{e.sqlstate(), e.what(), e.detail()};
    } catch (...) {
        subtransaction.roll_back();
        throw;
    }
    if (!caught) {
        subtransaction.commit();
        return std::nullopt;
    }
    subtransaction.roll_back();
    if (caught->sqlstate == ERRCODE_QUERY_CANCELED) {
        throw Error(caught->sqlstate, caught->message, caught->detail);
    }
    return caught;
}

}  // namespace tenancy::pg
