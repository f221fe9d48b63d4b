// Running a piece of work that may fail without failing the caller: the
// work runs in an internal subtransaction, as a PL/pgSQL block with an
// EXCEPTION clause does, and an error rolls back only what it did (its
// rows, its locks, its SPI connections).
#pragma once

#include <optional>
#include <string>
#include <utility>

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
// is kept). When it fails with an SQL error whose SQLSTATE `handles` accepts,
// rolls back its work and returns the error; any other error is rolled back
// and raised again unchanged (a C++ failure that is not an SQL error, a bug
// or std::bad_alloc, is rethrown).
template <typename Fn, typename Handles>
std::optional<CaughtError> try_in_subtransaction(Fn&& fn, Handles&& handles) {
    detail::Subtransaction subtransaction;
    std::optional<CaughtError> caught;
    try {
        fn();
    } catch (const PgError& e) {
        if (e.data() == nullptr || !handles(e.data()->sqlerrcode)) {
            // Raised again as it is (its CONTEXT lines say where it struck),
            // from memory that the rollback does not free.
            if (e.data() == nullptr) {
                subtransaction.roll_back();
                throw;
            }
            PgError kept(detail::copy_error(e.data(), TopTransactionContext));
            subtransaction.roll_back();
            throw kept;
        }
        caught = detail::describe(e);
    } catch (const Error& e) {
        if (!handles(e.sqlstate())) {
            subtransaction.roll_back();
            throw;
        }
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
    return caught;
}

// The same for every SQL error (PostgreSQL's out of memory included) except
// a cancel or a statement timeout (57014), raised again as PL/pgSQL does.
template <typename Fn>
std::optional<CaughtError> try_in_subtransaction(Fn&& fn) {
    return try_in_subtransaction(std::forward<Fn>(fn),
                                 [](int sqlstate) { return sqlstate != ERRCODE_QUERY_CANCELED; });
}

// Lock waits that may give up: fn runs in a subtransaction with a setting
// level of its own (a lock_timeout fn sets, by LockDeadline::before_wait
// say, ends with it), and a lock timeout (55P03) or a deadlock (40P01)
// rolls fn back and is returned; any other error is raised again.
template <typename Fn>
std::optional<CaughtError> try_lock_waits(Fn&& fn) {
    return try_in_subtransaction(
        [&] {
            int level = call([] { return NewGUCNestLevel(); });
            fn();
            call([&] { AtEOXact_GUC(true, level); });
        },
        [](int sqlstate) {
            return sqlstate == ERRCODE_LOCK_NOT_AVAILABLE ||
                   sqlstate == ERRCODE_T_R_DEADLOCK_DETECTED;
        });
}

}  // namespace tenancy::pg
