// The one place that includes PostgreSQL's headers into C++. Everything else in
// pg_tenancy includes this file instead of postgres.h, so the extern "C" block
// and the macros that clash with C++ are handled once.
#pragma once

extern "C" {
#include "postgres.h"

#include "access/xact.h"
#include "access/table.h"
#include "access/tableam.h"
#include "catalog/dependency.h"
#include "catalog/namespace.h"
#include "catalog/pg_enum.h"
#include "catalog/pg_type.h"
#include "commands/sequence.h"
#include "commands/trigger.h"
#include "executor/executor.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "nodes/pg_list.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/guc.h"
#include "utils/guc_tables.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/resowner.h"
#include "utils/timestamp.h"
#include "utils/tuplestore.h"
#include "utils/rls.h"
#include "utils/syscache.h"
#include "utils/uuid.h"
#include "utils/xid8.h"
#include "utils/array.h"
#include "utils/snapmgr.h"
#include "access/parallel.h"
#include "access/xlog.h"
#include "catalog/pg_db_role_setting.h"
#include "utils/fmgroids.h"
#include "utils/inval.h"
#include "utils/portal.h"
#include "tcop/pquery.h"
#include "access/genam.h"
#include "access/htup_details.h"
#include "access/detoast.h"
#include "catalog/indexing.h"
#include "rewrite/rowsecurity.h"
#include "mb/pg_wchar.h"
#include "nodes/nodeFuncs.h"
#include "optimizer/optimizer.h"
#include "access/transam.h"
#include "access/tupconvert.h"
#include "catalog/partition.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "nodes/makefuncs.h"
#include "storage/lmgr.h"
#include "common/hashfn.h"
#include "replication/logicalworker.h"
#include "catalog/pg_class.h"
#include "utils/acl.h"
#include "partitioning/partbounds.h"
#include "partitioning/partdesc.h"
#include "utils/partcache.h"
#include "tcop/utility.h"
#include "rewrite/rewriteHandler.h"
#include "catalog/pg_depend.h"
#include "catalog/pg_extension.h"
#include "storage/bufmgr.h"
#include "storage/procarray.h"
#include "access/multixact.h"
#include "access/subtrans.h"
#include "parser/parse_func.h"
#include "parser/parse_type.h"
#include "catalog/index.h"
#include "catalog/pg_constraint.h"
#include "catalog/pg_index.h"
#include "catalog/objectaddress.h"
#include "catalog/pg_proc.h"
#include "utils/regproc.h"
#include "utils/jsonb.h"
}

// PostgreSQL 15 declares a node tree walker as bool (*)(); void (*)() is the
// blessed intermediate for a function pointer cast.
inline bool (*as_tree_walker(bool (*walker)(Node*, void*)))() {
    return reinterpret_cast<bool (*)()>(reinterpret_cast<void (*)()>(walker));
}

// c.h defines these as macros; they break <algorithm> and friends.
#ifdef min
#undef min
#endif
#ifdef max
#undef max
#endif
