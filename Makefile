# pg_tenancy - PGXS build (the DBA's `make && make install`) and the project's
# commands: `make test`, `make demo`, `make bench`.
include src/sources.mk

EXTENSION   = pg_tenancy
MODULE_big  = pg_tenancy
OBJS        = $(patsubst %.cpp,%.o,$(TENANCY_CORE_SOURCES) $(TENANCY_MODULE_SOURCES))
PGFILEDESC  = "pg_tenancy - tenant isolation, file audit and analytics"

# Install scripts are assembled from readable pieces, one folder per version.
TENANCY_VERSIONS = $(patsubst src/sql/%/,%,$(sort $(dir $(wildcard src/sql/*/*.sql))))
DATA_built  = $(foreach v,$(TENANCY_VERSIONS),pg_tenancy--$(v).sql)
EXTRA_CLEAN = $(DATA_built) build $(OBJS:.o=.d)

# pg_regress: one file per behaviour in sql/, expected output in expected/.
REGRESS      = install error_barrier error_messages context signed_context signing_algorithms organizations organization_deletions file_audit analytics log_partitions migration trigger_misuse
REGRESS_OPTS = --inputdir=.

PG_CONFIG ?= $(firstword $(wildcard /usr/lib/postgresql/15/bin/pg_config) pg_config)
PGXS := $(shell $(PG_CONFIG) --pgxs 2>/dev/null)
PG_INCLUDEDIR_SERVER := $(shell $(PG_CONFIG) --includedir-server 2>/dev/null)

# C++17 with warnings on; PostgreSQL's headers are system headers to us, so
# their own warnings do not drown ours. The same flags suit g++ (objects) and
# clang (LLVM bitcode for JIT).
PG_CPPFLAGS = -Isrc -isystem $(PG_INCLUDEDIR_SERVER)
PG_CXXFLAGS = -std=c++17 -Wall -Wextra -MMD -MP
# libcrypto (OpenSSL) verifies RS256/ES256 context tokens; PostgreSQL links it too.
SHLIB_LINK  = -lstdc++ -lcrypto

ifneq ($(wildcard $(PGXS)),)
include $(PGXS)
override BITCODE_CXXFLAGS += -std=c++17 -Wall -Wextra
# pg_regress database; sql/context.sql refers to it by name.
override CONTRIB_TESTDB = tenancy_regression
else
all:
	@echo "PostgreSQL's server headers (PGXS) are missing: run 'make deps' first." >&2
	@exit 1
endif

# Header dependencies (PGXS tracks none by default): objects from -MMD, and
# the JIT bitcode is rebuilt whenever its object is.
-include $(OBJS:.o=.d)
$(OBJS:.o=.bc): %.bc: %.o

# The directory too: removing a file from it changes its time, not the others'.
.SECONDEXPANSION:
pg_tenancy--%.sql: $$(sort $$(wildcard src/sql/$$*/*.sql)) src/sql/$$*
	cat $(filter %.sql,$^) > $@

.PHONY: deps test demo bench unit
deps:
	scripts/install-deps.sh

test:
	scripts/run-tests.sh

demo:
	scripts/demo.sh

bench:
	scripts/bench.sh

unit:
	scripts/unit-tests.sh
