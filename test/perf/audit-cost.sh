#!/usr/bin/env bash
# audit-cost.sh - what the database-kept audit (sql/0002_audit.sql) costs:
# import-dir of PERF_FILES generated files and bulk-update of PERF_ITEMS
# items with the mreg built from main before the triggers (the baseline:
# its own audit INSERTs, no triggers) and with this tree's mreg, in one
# run, each on fresh databases, medians of PERF_REPS with a CHECKPOINT
# before each timed run.  Prints both times and the ratio (goal: <= 1.10),
# and bulk-update's server CPU time (steadier on a shared machine).
#
#   test/pg-sandbox run test/perf/audit-cost.sh
#
# MREG (default build/mreg) is the new binary; MREG_BASELINE a baseline
# binary, else one is built from the branch PERF_BASE (default main) of
# this repository (git archive into a temporary directory, meson).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MREG=${MREG:-$ROOT/build/mreg}
: "${PERF_FILES:=10000}"
: "${PERF_ITEMS:=100000}"
: "${PERF_REPS:=3}"
: "${PERF_BASE:=main}"

die() { echo "audit-cost.sh: $*" >&2; exit 1; }
[ -x "$MREG" ] || die "no mreg binary at $MREG"
[ -n "${PGHOST:-}" ] || die "no sandbox (run under test/pg-sandbox run)"

WORK=$(mktemp -d)
drop_db() {
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"$1\" WITH (FORCE)" >/dev/null 2>&1 || true
}
cleanup() {
	local d
	for d in $(psql -XAtq -d postgres -c "SELECT datname FROM pg_database WHERE datname LIKE 'perf_audit_$$_%'" 2>/dev/null); do
		drop_db "$d"
	done
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ -z "${MREG_BASELINE:-}" ]; then
	echo "building the baseline from $PERF_BASE ..." >&2
	mkdir -p "$WORK/base-src"
	git -C "$ROOT" archive "$PERF_BASE" | tar -x -C "$WORK/base-src"
	meson setup "$WORK/base-build" "$WORK/base-src" -Dman-pages=disabled >/dev/null ||
		meson setup "$WORK/base-build" "$WORK/base-src" >/dev/null
	meson compile -C "$WORK/base-build" mreg >/dev/null
	MREG_BASELINE=$WORK/base-build/mreg
fi
[ -x "$MREG_BASELINE" ] || die "no baseline binary at $MREG_BASELINE"

# fresh_db BINARY: a new migrated database, its name in $PGDATABASE
n_db=0
fresh_db() {
	n_db=$((n_db + 1))
	export PGDATABASE="perf_audit_$$_$n_db"
	psql -XAtq -d postgres -c "CREATE DATABASE \"$PGDATABASE\"" >/dev/null
	"$1" migrate --quiet
}

# timed CMD...: the wall time of CMD in seconds into $secs (CMD's stdout
# discarded, its stderr in $WORK/stderr; CMD failing ends the script)
timed() {
	secs=$(python3 - "$@" 2>"$WORK/stderr" <<'PY'
import subprocess, sys, time
t0 = time.monotonic()
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print("%.3f" % (time.monotonic() - t0))
PY
) || { cat "$WORK/stderr" >&2; die "failed: $*"; }
}

median() { printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

TREE=$WORK/tree
sh "$ROOT/test/perf/gen-models.sh" "$TREE" "$PERF_FILES"

BATCH=$WORK/batch.ndjson
python3 - "$PERF_ITEMS" >"$BATCH" <<'PY'
import sys
n = int(sys.argv[1])
for i in range(1, n + 1):
    sys.stdout.write('{"model": "perf/m%06d", "set": {"description": "batch %d", '
                     '"tags_add": ["bulk"], "config_merge": {"batch": 0.1, "n": null}}}\n'
                     % (i, i))
PY

import_once() { # BINARY -> $secs
	local n
	fresh_db "$1"
	psql -XAtq -c "CHECKPOINT" >/dev/null
	timed "$1" import-dir --quiet "$TREE"
	n=$(psql -XAtq -c "SELECT count(*) FROM mreg.models")
	[ "$n" -eq "$PERF_FILES" ] ||
		{ cat "$WORK/stderr" >&2; die "import-dir imported $n models, not $PERF_FILES"; }
	drop_db "$PGDATABASE"
}

# backend_cpu LINE: the CPU seconds (user + system) of the last session
# that logged statement statistics in the server log from LINE on
backend_cpu() {
	tail -n +"$1" "$SERVER_LOG" | python3 -c '
import re, sys
tot = None
for line in sys.stdin:
    m = re.search(r"\[([0-9.]+) s user, ([0-9.]+) s system total\]", line)
    if m:
        tot = float(m.group(1)) + float(m.group(2))
print("%.3f" % tot if tot is not None else "nan")'
}

bulk_once() { # BINARY -> $secs, $cpu (the server backend's CPU seconds)
	local from=1
	fresh_db "$1"
	psql -XAtq -v ON_ERROR_STOP=1 -v n="$PERF_ITEMS" >/dev/null <<'SQL'
INSERT INTO mreg.providers (name) VALUES ('perf');
INSERT INTO mreg.models (provider_id, name, type, tags, config)
SELECT p.id, 'm' || lpad(g::text, 6, '0'), 'llm', '{perf}',
       jsonb_build_object('n', g)
  FROM mreg.providers p, generate_series(1, :n) g WHERE p.name = 'perf';
VACUUM ANALYZE;
CHECKPOINT;
SQL
	[ -n "$SERVER_LOG" ] && from=$(($(wc -l <"$SERVER_LOG") + 1))
	PGOPTIONS="${SERVER_LOG:+-c log_statement_stats=on}" timed "$1" bulk-update "$BATCH"
	cpu=nan
	[ -z "$SERVER_LOG" ] || cpu=$(backend_cpu "$from")
	[ "$(psql -XAtq -c "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update'")" -eq "$PERF_ITEMS" ] ||
		die "bulk-update did not audit $PERF_ITEMS updates"
	drop_db "$PGDATABASE"
}

# The machine may be shared: wall times then vary with the load.  The
# server backend's CPU time of bulk-update (getrusage, through
# log_statement_stats: needs the sandbox's superuser and its log) varies
# much less; it leaves out mreg's own CPU (the same code on both sides).
SERVER_LOG=
if [ -r "${MREG_SANDBOX:-}/server.log" ] &&
	[ "$(psql -XAtq -d postgres -c "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")" = t ]; then
	SERVER_LOG=$MREG_SANDBOX/server.log
fi

declare -A times
for what in import bulk bulkcpu; do
	for bin in base new; do
		times[$what.$bin]=""
	done
done
# interleaved, so that a change in the machine's load hits both sides
for rep in $(seq 1 "$PERF_REPS"); do
	for bin in base new; do
		b=$MREG_BASELINE
		[ "$bin" = new ] && b=$MREG
		import_once "$b"
		times[import.$bin]+=" $secs"
		bulk_once "$b"
		times[bulk.$bin]+=" $secs"
		times[bulkcpu.$bin]+=" $cpu"
		echo "rep $rep $bin: import-dir ${times[import.$bin]##* } s, bulk-update ${times[bulk.$bin]##* } s (server CPU $cpu s)" >&2
	done
done

printf '%-40s %10s %10s %7s\n' "median of $PERF_REPS (seconds)" "before" "triggers" "ratio"
for what in import bulk bulkcpu; do
	[ "$what" = bulkcpu ] && [ -z "$SERVER_LOG" ] && continue
	# shellcheck disable=SC2086
	b=$(median ${times[$what.base]})
	# shellcheck disable=SC2086
	n=$(median ${times[$what.new]})
	label="import-dir, $PERF_FILES files"
	[ "$what" = bulk ] && label="bulk-update, $PERF_ITEMS items"
	[ "$what" = bulkcpu ] && label="  its server CPU"
	python3 -c 'import sys; l, b, n = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]); print("%-40s %10.3f %10.3f %6.2fx" % (l, b, n, n / b))' "$label" "$b" "$n"
done
