// Small helpers for settings (GUCs) that C++ code reads or sets.
#pragma once

#include <string>

#include "pg/error_barrier.hpp"

namespace tenancy::pg {

enum class SettingScope { transaction, session };

// Sets a superuser-only setting on behalf of the extension, whatever the
// calling role: the privilege check is PostgreSQL's for the SQL paths (SET,
// set_config, PGOPTIONS, ALTER ROLE), and this path is reached only through
// functions that did their own checks.
void set_internal_setting(const char* name, const std::string& value, SettingScope scope);

// Whether the value of a setting in effect was set in this transaction by a
// SET of some kind (SET, SET LOCAL, set_config, a function's SET clause,
// set_internal_setting) and not undone since. False when it is the value the
// session had when the transaction began (the setting's stack of prior
// values, which PostgreSQL empties at every transaction's end, is empty), and
// when RESET or RESET ALL brought back a default (a role's or database's
// setting, the configuration file's: not a SET).
bool setting_set_in_transaction(const char* name);

// One deadline for a series of lock waits, each allowed what is left of it.
class LockDeadline {
public:
    // wait_ms: what all the waits may take together; 0: no limit of its own.
    // The session's lock_timeout, if shorter, wins.
    explicit LockDeadline(int wait_ms);
    int wait_ms() const { return wait_ms_; }

    // Before each wait: sets lock_timeout to what is left, at least 1 ms (a
    // lock free at once is still taken once the time is up). The caller
    // restores lock_timeout (pg::try_lock_waits does).
    void before_wait() const;

private:
    int wait_ms_;
    TimestampTz deadline_;
};

}  // namespace tenancy::pg
