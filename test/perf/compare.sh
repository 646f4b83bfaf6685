#!/usr/bin/env bash
# compare.sh - mreg side by side with its floor, in one run, as ratios
#
#   eval "$(test/pg-sandbox start)"     (or any PG* environment)
#   test/perf/compare.sh [BUILD_DIR]    (default: build)
#
# Creates a scratch database in the cluster the PG* variables name, migrates
# it, fills it with PERF_MODELS synthetic models (mreg bench --populate),
# then compares, each run repeated PERF_REPS times (medians are reported):
#   1. mreg bench --workload get-default vs pgbench -f with the same SQL
#      (taken from common/queries.h by the compiler, not copied) in the same
#      protocol mode, at 1, 16 and 64 clients and the same thread count,
#      PERF_TX requests per run;
#   2. 'mreg default T' and 'mreg list --type T --limit 50' as whole
#      processes vs 'psql -c' running the same query (hyperfine when
#      installed, else a timing loop);
#   3. pooled vs --connect-per-request at 16 clients (and pgbench -C),
#      PERF_SECONDS per run;
#   4. mreg bench --workload import (1 client, 1% of PERF_IMPORT_FILES
#      files rewritten per request) vs 'mreg import-dir' processes over a
#      tree of as many files (gen-models.sh) after the same 1% rewrite:
#      the median latency of one import against the median wall time of
#      one process (PERF_IMPORT_RUNS each; rewriting is outside both);
#   5. then the other side-by-side scripts of test/perf/ that are present
#      (registry-read.sh, import-dir.sh, import-peers.sh, bulk-update.sh: the comparisons
#      their issues define), each printing its own table; PERF_SIBLINGS=0
#      skips them, PERF_SIBLING_ARGS passes arguments (e.g. sizes) to all.
# pgbench -T includes its connection phase and reports tps "without initial
# connection time"; mreg bench opens its pool before the clock: the same
# measure.  With -C, pgbench's tps includes reconnections, like
# --connect-per-request.
# Ratios: throughput mreg/floor (>= 0.90 is the target), time mreg/floor
# (<= 1.00 is the target).  The scratch database is dropped at the end.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$here/build}
mreg=$build/mreg
: "${PERF_MODELS:=100000}"
: "${PERF_SECONDS:=3}"
: "${PERF_TX:=10000}"
: "${PERF_REPS:=3}"
: "${PERF_CLIENTS:=1 16 64}"
: "${PERF_TYPE:=embedding}"
: "${PERF_PROCESS_RUNS:=60}"
: "${PERF_SIBLINGS:=1}"
: "${PERF_SIBLING_ARGS:=}"
: "${PERF_IMPORT_FILES:=1000}"
: "${PERF_IMPORT_RUNS:=30}"

die() { echo "compare.sh: $*" >&2; exit 1; }
[ -x "$mreg" ] || die "no mreg binary at $mreg (build first, or pass BUILD_DIR)"
command -v pgbench >/dev/null || die "pgbench not found (apt-get install postgresql-client)"
command -v jq >/dev/null || die "jq not found"
psql -XAtq -d postgres -c 'select 1' >/dev/null 2>&1 ||
	die "no PostgreSQL reachable through the PG* environment (start test/pg-sandbox)"

work=$(mktemp -d)
db="mreg_perf_$$"
cleanup() {
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
psql -XAtq -d postgres -c "CREATE DATABASE \"$db\"" >/dev/null
export PGDATABASE=$db
unset MREG_DSN

cpus=$(nproc)
load0=$(cut -d' ' -f1-3 /proc/loadavg)
threads_for() { local c=$1; echo $((c < cpus ? c : cpus)); }

# The statements, expanded from common/queries.h by the C compiler.
cat >"$work/sql.c" <<'EOF'
#include <stdio.h>
#include "queries.h"
int main(int argc, char **argv)
{
	(void)argc;
	if (argv[1][0] == 'd')
		fputs(MREG_SQL_GET_DEFAULT, stdout);
	else
		fputs(MREG_SQL_LIST_MODELS_BY_NAME, stdout);
	return 0;
}
EOF
cc -I"$here/common" -o "$work/sql" "$work/sql.c"
sql_default=$("$work/sql" d)
sql_list=$("$work/sql" l)

echo "preparing: migrate, populate $PERF_MODELS models ..." >&2
"$mreg" migrate --quiet
t0=$(date +%s.%N)
"$mreg" bench --populate "$PERF_MODELS" --keep --transactions 1 --format json >/dev/null
t1=$(date +%s.%N)
populate_s=$(echo "$t1 - $t0" | bc -l)
psql -XAtq -c "VACUUM ANALYZE" >/dev/null

median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

rows=()
row() { rows+=("$(printf '%-40s %10s %10s %6s %8s %8s' "$1" "$2" "$3" "$4" "${5:-}" "${6:-}" | sed 's/ *$//')"); }
ratio() { echo "$1 $2" | awk '{ if ($2 > 0) printf "%.2f", $1 / $2; else print "-" }'; }

# pgbench script: the same SQL, the type as a variable (sent as $1)
sed 's/\$1/:type/g' <<<"$sql_default" >"$work/get-default.sql"
echo ";" >>"$work/get-default.sql"

# Either side runs PERF_TX requests in all (pgbench: PERF_TX / clients per
# client), or, with "-T", PERF_SECONDS.  A fixed count keeps pgbench's
# connection phase (slow with 64 clients on a busy machine) out of its
# measured window, as mreg's pool is opened before its clock starts.
# Each prints "TPS CPU": CPU is the client process's user+system seconds
# per request, in microseconds (a measure that a busy machine disturbs far
# less than throughput).
timed() { # command... -> stdout of the command in $work/out, CPU seconds
	local TIMEFORMAT='%U %S'
	{ time "$@" >"$work/out" 2>/dev/null; } 2>"$work/time"
	awk '{ print $1 + $2 }' "$work/time"
}

mreg_tps() { # clients protocol -t|-T [extra args]
	local c=$1 mode=$2 how=$3 cpu tx; shift 3
	local amount=(--transactions "$(((PERF_TX / c) * c))")
	[ "$how" = -T ] && amount=(--duration "${PERF_SECONDS}s")
	cpu=$(timed "$mreg" bench --workload get-default --type "$PERF_TYPE" \
		--clients "$c" --threads "$(threads_for "$c")" --protocol "$mode" \
		"${amount[@]}" --format json "$@")
	tx=$(jq -r '.requests' "$work/out")
	echo "$(jq -r .tps "$work/out") $(awk -v c="$cpu" -v n="$tx" 'BEGIN { printf "%.1f", n ? c / n * 1e6 : 0 }')"
}

pgbench_tps() { # clients mode -t|-T [extra args]
	local c=$1 mode=$2 how=$3 cpu tx; shift 3
	local amount=(-t "$((PERF_TX / c))")
	[ "$how" = -T ] && amount=(-T "$PERF_SECONDS")
	cpu=$(timed pgbench -n -c "$c" -j "$(threads_for "$c")" -M "$mode" \
		"${amount[@]}" -D type="$PERF_TYPE" -f "$work/get-default.sql" "$@")
	tx=$(sed -n 's/^number of transactions actually processed: \([0-9]*\).*/\1/p' "$work/out")
	echo "$(sed -n 's/^tps = \([0-9.]*\) .*/\1/p' "$work/out" | tail -1) $(awk -v c="$cpu" -v n="${tx:-0}" 'BEGIN { printf "%.1f", n ? c / n * 1e6 : 0 }')"
}

echo "1. get-default throughput vs pgbench ..." >&2
for mode in prepared extended; do
	for c in $PERF_CLIENTS; do
		m=() p=() mc=() pc=()
		for ((i = 0; i < PERF_REPS; i++)); do
			read -r t u < <(mreg_tps "$c" "$mode" -t)
			m+=("$t") mc+=("$u")
			read -r t u < <(pgbench_tps "$c" "$mode" -t)
			p+=("$t") pc+=("$u")
		done
		mm=$(printf '%s\n' "${m[@]}" | median)
		pm=$(printf '%s\n' "${p[@]}" | median)
		row "get-default tps, $mode, $c clients" "$(printf %.0f "$mm")" \
			"$(printf %.0f "$pm")" "$(ratio "$mm" "$pm")" \
			"$(printf '%s\n' "${mc[@]}" | median)" "$(printf '%s\n' "${pc[@]}" | median)"
	done
done

echo "2. whole processes vs psql -c ..." >&2
q_default=$(sed "s/\\\$1/'$PERF_TYPE'/g" <<<"$sql_default")
q_list=$(sed -e "s/\\\$1/'$PERF_TYPE'/g" -e 's/\$2/NULL/g' -e 's/\$3/NULL/g' \
	-e 's/\$4/true/g' -e 's/\$5/NULL/g' -e 's/\$6/NULL/g' -e 's/\$7/51/g' <<<"$sql_list")
# sanity: both sides print the same rows
[ "$("$mreg" default "$PERF_TYPE")" = "$(psql -XAtq -c "$q_default")" ] ||
	die "mreg default and psql disagree"

process_ms() { # command...: median wall time of one run, in ms
	if command -v hyperfine >/dev/null; then
		hyperfine -N --warmup 5 --runs "$PERF_PROCESS_RUNS" \
			--export-json "$work/h.json" -- "$(printf '%q ' "$@")" >/dev/null 2>&1
		jq -r '.results[0].median * 1000' "$work/h.json"
	else
		local i t0 t1
		for ((i = 0; i < PERF_PROCESS_RUNS + 5; i++)); do
			t0=$(date +%s%N)
			"$@" >/dev/null 2>&1
			t1=$(date +%s%N)
			((i < 5)) || echo $(((t1 - t0) / 1000))
		done | median | awk '{ printf "%.3f", $1 / 1000 }'
	fi
}
tool=$(command -v hyperfine >/dev/null && echo hyperfine || echo "shell loop")

a=$(process_ms "$mreg" default "$PERF_TYPE")
b=$(process_ms psql -X -c "$q_default")
row "mreg default $PERF_TYPE (ms/process)" "$(printf %.2f "$a")" "$(printf %.2f "$b")" "$(ratio "$a" "$b")"
a=$(process_ms "$mreg" list --type "$PERF_TYPE" --limit 50)
b=$(process_ms psql -X -c "$q_list")
row "mreg list --type $PERF_TYPE --limit 50 (ms)" "$(printf %.2f "$a")" "$(printf %.2f "$b")" "$(ratio "$a" "$b")"

echo "3. pooled vs a connection per request, 16 clients ..." >&2
m=() p=() cp=()
for ((i = 0; i < PERF_REPS; i++)); do
	read -r t _ < <(mreg_tps 16 extended -T)
	m+=("$t")
	read -r t _ < <(mreg_tps 16 extended -T --connect-per-request)
	cp+=("$t")
	read -r t _ < <(pgbench_tps 16 extended -T -C)
	p+=("$t")
done
mm=$(printf '%s\n' "${m[@]}" | median)
cm=$(printf '%s\n' "${cp[@]}" | median)
pm=$(printf '%s\n' "${p[@]}" | median)
row "pooled vs --connect-per-request (tps)" "$(printf %.0f "$mm")" "$(printf %.0f "$cm")" "$(ratio "$mm" "$cm")"
row "--connect-per-request vs pgbench -C (tps)" "$(printf %.0f "$cm")" "$(printf %.0f "$pm")" "$(ratio "$cm" "$pm")"

echo "4. one import per request vs mreg import-dir processes ..." >&2
# bench first: its clean-up removes the populated bench models (not needed
# any more); the import-dir side writes models bench did not create.
change=$(((PERF_IMPORT_FILES + 50) / 100))
((change >= 1)) || change=1
"$mreg" bench --workload import --import-files "$PERF_IMPORT_FILES" --import-change 1 \
	--clients 1 --threads "$cpus" --transactions "$PERF_IMPORT_RUNS" --format json \
	>"$work/import.json" 2>/dev/null || die "mreg bench --workload import failed"
a=$(jq -r '.latency_s.p50 * 1000' "$work/import.json")
"$here/test/perf/gen-models.sh" "$work/tree" "$PERF_IMPORT_FILES" 7 >/dev/null
"$mreg" import-dir --quiet --jobs "$cpus" --source perf-import "$work/tree" ||
	die "the first import-dir of the tree failed"
mapfile -t files < <(find "$work/tree" -name '*.json' | sort)
next=0
b=$(for ((i = 0; i < PERF_IMPORT_RUNS; i++)); do
	for ((k = 0; k < change; k++)); do
		sed -i -E "s/\"version\": \"[^\"]*\"/\"version\": \"r$i\"/" "${files[next]}"
		next=$(((next + 1) % ${#files[@]}))
	done
	t0=$(date +%s%N)
	"$mreg" import-dir --quiet --jobs "$cpus" --source perf-import "$work/tree" >/dev/null 2>&1 ||
		echo "import-dir run $i failed" >&2
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000))
done | median | awk '{ printf "%.3f", $1 / 1000 }')
row "import, $change of $PERF_IMPORT_FILES files changed (ms)" "$(printf %.2f "$a")" \
	"$(printf %.2f "$b")" "$(ratio "$a" "$b")"

pgver=$(psql -XAtq -c 'show server_version')
echo
echo "mreg performance, side by side ($(date -u +%Y-%m-%dT%H:%MZ))"
echo "machine: $(nproc) CPU ($(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)), $(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
echo "PostgreSQL $pgver over a Unix socket; $PERF_MODELS models (populated in $(printf %.1f "$populate_s") s); type '$PERF_TYPE'"
echo "medians of $PERF_REPS runs ($PERF_TX requests each; per-request connections: ${PERF_SECONDS}s each)"
echo "processes: $tool, $PERF_PROCESS_RUNS runs each; load average before: $load0"
echo
printf '%-40s %10s %10s %6s %8s %8s\n' "comparison" "mreg" "floor" "ratio" "mreg cpu" "flr cpu"
printf '%s\n' "${rows[@]}"
echo
echo "floors: pgbench -f (same SQL, same -M mode, same -j), psql -c (same query),"
echo "        mreg bench --connect-per-request for the pooled row, and for the"
echo "        import row whole 'mreg import-dir' processes (the same pipeline,"
echo "        plus process start, connection and lock; below 1.00 is the"
echo "        process overhead an in-process import saves)."
echo "cpu: the client process's user+system CPU per request, in microseconds."

if [ "$PERF_SIBLINGS" != 0 ]; then
	for script in registry-read.sh import-dir.sh import-peers.sh bulk-update.sh; do
		[ -x "$here/test/perf/$script" ] || continue
		echo
		echo "== test/perf/$script $PERF_SIBLING_ARGS"
		# shellcheck disable=SC2086 # word splitting of the arguments is wanted
		MREG=$mreg PGDATABASE=postgres "$here/test/perf/$script" $PERF_SIBLING_ARGS ||
			echo "test/perf/$script failed (exit $?)"
	done
fi

