#!/usr/bin/env bash
# history.sh - the --at reads on a large audit log, next to the plain reads
#
#   test/pg-sandbox run test/perf/history.sh [MODELS] [UPDATES] [DEFAULTS] [RUNS]
#
# Builds an audit log of MODELS x (UPDATES + 1) + DEFAULTS rows (default
# 10000 x 101 + 1000: about 1M) from real changes, written by the
# database's audit triggers: MODELS generated models (one INSERT), UPDATES
# set-based psql UPDATEs of every model (each one statement: 10k audit
# rows), and DEFAULTS default changes (one statement each) over 20 types,
# half of them before the instant "mid" (taken half-way) and half after.
# Then times, RUNS times each, alternately, whole mreg processes:
#
#   mreg default T            vs  mreg default T --at mid
#   mreg default T -o json    vs  mreg default T -o json --at mid
#   mreg show P/N -o json     vs  mreg show P/N -o json --at mid
#   mreg list defaults        vs  mreg list defaults --at mid
#
# and prints the medians side by side with their ratio (the goal: within
# 2x), then the plans (EXPLAIN ANALYZE) of the --at statements, taken from
# common/queries-asof.h with the C preprocessor.  Compare ratios, not
# absolute numbers.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
mreg=${MREG:-$here/build/mreg}
n_models=${1:-10000}
n_updates=${2:-100}
n_defaults=${3:-1000}
runs=${4:-31}
[ -x "$mreg" ] || { echo "build mreg first (meson compile -C build)" >&2; exit 1; }
[ -n "${PGHOST:-}" ] || { echo "run inside the sandbox: test/pg-sandbox run $0" >&2; exit 1; }

export PGDATABASE="perf_history_$$"
unset PGAPPNAME
joiner=$(mktemp)
cleanup() {
	rm -f "$joiner"
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"$PGDATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT
psql -XAtq -d postgres -c "CREATE DATABASE \"$PGDATABASE\"" >/dev/null
"$mreg" migrate --quiet

now_ns() { date +%s%N; }
t_start=$(now_ns)
psql -XAtq -v ON_ERROR_STOP=1 -v n="$n_models" <<'SQL'
INSERT INTO mreg.providers (name)
SELECT 'prov' || lpad(i::text, 2, '0') FROM generate_series(0, 9) i;
INSERT INTO mreg.models (provider_id, name, type, version, description, tags, config)
SELECT p.id, 'model-' || i, 't' || lpad((i % 20)::text, 2, '0'), '0',
       'generated model ' || i, ARRAY['gen', 'g' || (i % 7)],
       jsonb_build_object('dim', 256 + i % 4, 'temperature', 0.35)
  FROM generate_series(0, :n - 1) i
  JOIN mreg.providers p ON p.name = 'prov' || lpad((i % 10)::text, 2, '0');
SQL

# update N FROM: UPDATEs FROM..N-1 of every model, one statement each
updates() {
	local from=$1 to=$2 i
	for ((i = from; i < to; i++)); do
		printf "UPDATE mreg.models SET version = '%d', config = config || jsonb_build_object('rev', %d);\n" "$i" "$i"
	done | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
}

# defaults FROM TO: default changes FROM..TO-1, each its own statement:
# type t(k % 20) gets a model of that type (its index is k % 20 modulo
# 20), its (k / 20)-th default a different model each time
defaults() {
	local from=$1 to=$2 k
	for ((k = from; k < to; k++)); do
		printf "INSERT INTO mreg.model_defaults (type, model_id) SELECT m.type, m.id FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id WHERE m.name = 'model-%d' ON CONFLICT (type) DO UPDATE SET model_id = excluded.model_id, previous_model_id = model_defaults.model_id, updated_at = now();\n" \
			$((20 * (((k / 20) * 7919) % (n_models / 20)) + k % 20))
	done | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
}

half_u=$((n_updates / 2))
half_d=$((n_defaults / 2))
updates 1 "$half_u"
defaults 0 "$half_d"
mid=$(psql -XAtc "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
defaults "$half_d" "$n_defaults"
updates "$half_u" "$((n_updates + 1))"
psql -XAtq -c "VACUUM ANALYZE mreg.audit_log" -c "ANALYZE"
t_load=$(( ($(now_ns) - t_start) / 1000000 ))

rows=$(psql -XAtc "SELECT count(*) FROM mreg.audit_log")
echo "audit log: $rows rows ($n_models models x $n_updates updates, $n_defaults default changes), built in $((t_load / 1000)) s"
echo "mid: $mid"
type=t07
model=$(psql -XAtc "SELECT p.name || '/' || m.name FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id WHERE m.name = 'model-$((n_models * 42 / 100 + 7))'")
echo "default $type now: $("$mreg" default "$type"); at mid: $("$mreg" default "$type" --at "$mid")"
echo

# median of the runs of one command, in ms, in the file $2
median() { sort -n "$1" | awk '{ a[NR] = $1 } END { printf "%.2f", a[int((NR + 1) / 2)] / 1e6 }'; }

# pair LABEL PLAIN-ARGS... -- AT-ARGS...: both, alternately, RUNS times
pair() {
	local label=$1 i t0 fa fb
	shift
	local -a a=() b=()
	while [ "$1" != "--" ]; do a+=("$1"); shift; done
	shift
	b=("$@")
	fa=$(mktemp)
	fb=$(mktemp)
	"$mreg" "${a[@]}" >/dev/null
	"$mreg" "${b[@]}" >/dev/null
	for ((i = 0; i < runs; i++)); do
		t0=$(now_ns); "$mreg" "${a[@]}" >/dev/null; echo $(($(now_ns) - t0)) >>"$fa"
		t0=$(now_ns); "$mreg" "${b[@]}" >/dev/null; echo $(($(now_ns) - t0)) >>"$fb"
	done
	awk -v l="$label" -v n="$runs" -v a="$(median "$fa")" -v b="$(median "$fb")" 'BEGIN {
		printf "%-28s %5d  %9.2f ms  %9.2f ms  %6.2f\n", l, n, a, b, b / a }'
	rm -f "$fa" "$fb"
}

printf '%-28s %5s  %12s  %12s  %6s\n' command runs "now" "--at mid" ratio
pair "default $type" default "$type" -- default "$type" --at "$mid"
pair "default $type -o json" default "$type" -o json -- default "$type" -o json --at "$mid"
pair "show $model -o json" show "$model" -o json -- show "$model" -o json --at "$mid"
pair "list defaults" list defaults -o json -- list defaults -o json --at "$mid"
echo

# the plans of the --at statements (the values as the commands pass them)
cat >"$joiner" <<'EOF'
import ast, re, sys
parts = re.findall(r'"(?:[^"\\]|\\.)*"', sys.stdin.read())
print("".join(ast.literal_eval(p) for p in parts))
EOF
sql() {
	printf '#include "queries-asof.h"\n%s\n' "$1" |
		gcc -E -P -I "$here/common" - | python3 "$joiner"
}
explain() {
	echo "== EXPLAIN ANALYZE $1"
	psql -XAtq -v ON_ERROR_STOP=1 \
		-c "PREPARE q($2) AS $(sql "$1")" \
		-c "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) EXECUTE q($3)"
	echo
}
prov=${model%%/*}
name=${model#*/}
explain MREG_SQL_DEFAULT_ASOF "text,timestamptz" "'$type', '$mid'"
explain MREG_SQL_DEFAULT_MODEL_ASOF "text,timestamptz" "'$type', '$mid'"
explain MREG_SQL_SHOW_ASOF "text,text,int,timestamptz" "'$prov', '$name', 10, '$mid'"
explain MREG_SQL_LIST_DEFAULTS_ASOF "timestamptz,text,bigint" "'$mid', NULL, NULL"
