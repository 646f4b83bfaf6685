# helpers.bash - shared set-up for the bats suites
#
# Every suite starts with:
#     load helpers
# and gets bats-support/bats-assert, $MREG (the binary under test), and,
# per test file, a fresh database in the sandbox cluster:
#     setup_file() { db_create; }          # empty database, PGDATABASE set
#     setup_file() { db_create_migrated; } # ... with the schema applied
#     teardown_file() { db_drop; }
# A database test fails (never skips) when no sandbox is running.
#
# A process a test leaves running in the background gets 3>&-: bats waits
# for whatever holds its fd 3, so a test that fails while such a process
# still runs would hang instead of failing.

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${MREG:?MREG must name the mreg binary (meson test sets it)}"
: "${MREG_SOURCE_ROOT:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
# the completions generated from the command table (completions/gen.py)
: "${MREG_COMPLETIONS:=$(dirname "$MREG")/completions}"
export MREG MREG_SOURCE_ROOT MREG_COMPLETIONS
export NO_COLOR=1
# stderr as people read it (auto would stamp every line off a terminal):
# test/0009-logging.bats checks the other forms
export MREG_LOG_FORMAT=plain
export PGOPTIONS='-c client_min_messages=warning'
unset MREG_DSN MREG_ACTOR

require_sandbox() {
	if [ -z "${PGHOST:-}" ] || ! psql -XAtq -d postgres -c 'select 1' >/dev/null 2>&1; then
		echo "no PostgreSQL sandbox: run the tests with 'test/pg-sandbox run meson test -C build'" >&2
		return 1
	fi
}

# A database named after the test file, created empty.
db_create() {
	require_sandbox || return 1
	local base
	base=$(basename "$BATS_TEST_FILENAME" .bats | tr -c 'a-zA-Z0-9\n' '_')
	export PGDATABASE="t_${base}_$$"
	psql -XAtq -d postgres -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS \"$PGDATABASE\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$PGDATABASE\"" >/dev/null
	if [ -n "${MREG_TEST_POOLED_HOST:-}" ]; then
		# test/pooled-subset: mreg through PgBouncer in transaction mode,
		# migrate through the direct DSN (as in production), psql direct
		# (no dbname: libpq takes PGDATABASE, which tests change)
		export MREG_DSN="host=$MREG_TEST_POOLED_HOST port=6432"
		export MREG_DIRECT_DSN="host=$PGHOST port=${PGPORT:-5432}"
	fi
}

db_create_migrated() {
	db_create || return 1
	"$MREG" migrate --quiet
}

db_drop() {
	[ -n "${PGDATABASE:-}" ] || return 0
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"$PGDATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
}

# q SQL [psql -v args...]: run SQL in the test database, print rows
# unaligned, '|' between columns.
q() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "$@"
}

# bench_server_killed PREPARE BENCH-ARGS...: on a private cluster (killing
# it must not disturb other suites), migrate, eval PREPARE, start 'mreg
# bench BENCH-ARGS... --progress 100ms --format json' (give a long
# --duration), kill the server once a progress line shows work done, wait
# for a progress line that shows errors, then stop the run with SIGINT and
# wait.  Events, not times.  Leaves out, err and rc in $BATS_TEST_TMPDIR.
bench_server_killed() {
	local prepare=$1 envfile="$BATS_TEST_TMPDIR/sandbox.env"
	shift
	# the cluster lives where the postgres user can reach it
	TMPDIR=${ORIG_TMPDIR:-${TMPDIR:-/tmp}} "$MREG_SOURCE_ROOT/test/pg-sandbox" start >"$envfile"
	(
		set -e
		. "$envfile"
		trap '"$MREG_SOURCE_ROOT/test/pg-sandbox" stop' EXIT
		export PGDATABASE=postgres
		# a private cluster, direct (test/pooled-subset's DSNs name another)
		unset MREG_DSN MREG_DIRECT_DSN
		"$MREG" migrate --quiet
		eval "$prepare"
		err="$BATS_TEST_TMPDIR/err"
		"$MREG" bench "$@" --progress 100ms --format json \
			>"$BATS_TEST_TMPDIR/out" 2>"$err" 3>&- &
		pid=$!
		wait_for "bench to report work done" \
			"grep -Eq '^progress: .*, [1-9][0-9]* transactions' '$err' || ! kill -0 $pid"
		"$MREG_SOURCE_ROOT/test/pg-sandbox" kill
		wait_for "bench to report errors" \
			"grep -Eq '^progress: .*, [1-9][0-9]* errors' '$err' || ! kill -0 $pid"
		kill -INT "$pid" 2>/dev/null || true
		rc=0
		wait "$pid" || rc=$?
		echo "$rc" >"$BATS_TEST_TMPDIR/rc"
	)
}

# PROGRESS_WORK: a bench progress line of an interval with work done and
# no errors (the line's format is in mreg-bench(1))
PROGRESS_WORK='^progress: [0-9.]+ s, [1-9][0-9]* transactions, [0-9.]+ tps, p99 [0-9.]+ ms, 0 errors$'

# bench_interrupted BENCH-ARGS...: run 'mreg bench BENCH-ARGS... --progress
# 100ms' in the background (give a long --duration), wait for a progress
# line with work done, send SIGINT (Ctrl-C) and wait.  Leaves out and err
# in $BATS_TEST_TMPDIR and the exit status in $status.
bench_interrupted() {
	local pid
	"$MREG" bench "$@" --progress 100ms >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	pid=$!
	wait_for "a progress line with work done" \
		"grep -Eq '$PROGRESS_WORK' '$BATS_TEST_TMPDIR/err'"
	kill -INT "$pid"
	status=0
	wait "$pid" || status=$?
}

# wait_for WHAT CONDITION [SECONDS]: evaluate CONDITION (a shell command
# line) until it succeeds; fail loudly naming WHAT after SECONDS (default
# 120: a deadline for a hang, never a measure of speed).
wait_for() {
	local what=$1 cond=$2 limit=${3:-120} deadline
	deadline=$((SECONDS + limit))
	until eval "$cond"; do
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_for: gave up after ${limit} s waiting for $what" >&2
			return 1
		fi
		sleep 0.05 # polling: the loop ends on the condition
	done
}

# primary_wal_end: a WAL position on the primary, flushed (walsender ships
# only flushed WAL), that every transaction committed so far lies before.
# Not plain pg_current_wal_lsn(): the sandbox runs synchronous_commit = off,
# so a commit that has returned can still sit in the WAL buffers, behind
# the write position.  A transaction that writes WAL (a transactional
# logical message: no table, no lock) and commits under synchronous_commit
# = on flushes everything before it.  (One that only takes an xid writes no
# WAL and commits asynchronously whatever the setting: tried, it misses.)
primary_wal_end() {
	psql -XAtq -c "SET synchronous_commit = on" \
		-c "SELECT pg_logical_emit_message(true, 'mreg-test', '') IS NULL" \
		-c "SELECT pg_current_wal_flush_lsn()" | tail -n 1
}

# replica_caught_up: the replica (MREG_TEST_REPLICA_DSN) has replayed every
# transaction the primary had committed when this was called.
replica_caught_up() {
	local lsn
	lsn=$(primary_wal_end)
	wait_for "the replica to replay $lsn" \
		"[ \"\$(psql -XAtq \"\$MREG_TEST_REPLICA_DSN\" -c \"SELECT pg_last_wal_replay_lsn() >= '$lsn'\")\" = t ]" 60
}

# end_session APPNAME [PID]: terminate the server sessions of a helper psql
# started in the background with that application_name (killing psql
# alone leaves its backend sleeping), then reap the psql process PID.
end_session() {
	q "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = '$1'" >/dev/null
	[ -z "${2:-}" ] || wait "$2" 2>/dev/null || true
}
