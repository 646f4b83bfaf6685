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

bats_require_minimum_version 1.5.0
bats_load_library bats-support
bats_load_library bats-assert

: "${MREG:?MREG must name the mreg binary (meson test sets it)}"
: "${MREG_SOURCE_ROOT:=$(cd "$BATS_TEST_DIRNAME/.." && pwd)}"
export MREG MREG_SOURCE_ROOT
export NO_COLOR=1
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

# bench_server_killed DELAY PREPARE BENCH-ARGS...: on a private cluster
# (killing it must not disturb other suites), migrate, eval PREPARE, start
# 'mreg bench BENCH-ARGS... --format json', kill the server after DELAY
# seconds and wait.  Leaves out, err and rc in $BATS_TEST_TMPDIR.
bench_server_killed() {
	local delay=$1 prepare=$2 envfile="$BATS_TEST_TMPDIR/sandbox.env"
	shift 2
	# the cluster lives where the postgres user can reach it
	TMPDIR=${ORIG_TMPDIR:-${TMPDIR:-/tmp}} "$MREG_SOURCE_ROOT/test/pg-sandbox" start >"$envfile"
	(
		set -e
		. "$envfile"
		trap '"$MREG_SOURCE_ROOT/test/pg-sandbox" stop' EXIT
		export PGDATABASE=postgres
		"$MREG" migrate --quiet
		eval "$prepare"
		"$MREG" bench "$@" --format json \
			>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
		pid=$!
		sleep "$delay"
		"$MREG_SOURCE_ROOT/test/pg-sandbox" kill
		rc=0
		wait "$pid" || rc=$?
		echo "$rc" >"$BATS_TEST_TMPDIR/rc"
	)
}
