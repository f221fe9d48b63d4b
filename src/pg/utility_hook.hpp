// Chaining a ProcessUtility hook: each module that installs one keeps the
// hook it found and passes every statement on through this.
#pragma once

#include "pg/postgres.hpp"

namespace tenancy::pg {

// Runs the ProcessUtility hook installed before ours, or PostgreSQL's own.
inline void run_next_process_utility(ProcessUtility_hook_type previous, PlannedStmt* statement,
                                     const char* query, bool read_only_tree,
                                     ProcessUtilityContext context, ParamListInfo params,
                                     QueryEnvironment* environment, DestReceiver* destination,
                                     QueryCompletion* completion) {
    if (previous != nullptr) {
        previous(statement, query, read_only_tree, context, params, environment, destination,
                 completion);
    } else {
        standard_ProcessUtility(statement, query, read_only_tree, context, params, environment,
                                destination, completion);
    }
}

}  // namespace tenancy::pg
