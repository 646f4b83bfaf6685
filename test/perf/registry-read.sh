#!/usr/bin/env bash
# registry-read.sh - the registry read commands next to their floor
#
#   test/pg-sandbox run test/perf/registry-read.sh [N_MODELS]
#
# Creates a scratch database in the sandbox, loads N_MODELS generated
# models (default 100000), then times each mreg command against psql
# running the very same SQL (taken from common/queries.h with the C
# preprocessor, as PREPARE + EXECUTE with the same values).  Both are whole
# processes with one connection, run alternately in one session, so load
# on the machine hits both alike.  Prints mean wall time per call and the
# ratio mreg/psql; compare ratios, not absolute numbers.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
mreg=${MREG:-$here/build/mreg}
n_models=${1:-100000}
[ -x "$mreg" ] || { echo "build mreg first (ninja -C build)" >&2; exit 1; }
[ -n "${PGHOST:-}" ] || { echo "run inside the sandbox: test/pg-sandbox run $0" >&2; exit 1; }

export PGDATABASE="perf_registry_$$"
unset PGAPPNAME
cleanup() { psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"$PGDATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true; }
trap cleanup EXIT
psql -XAtq -d postgres -c "CREATE DATABASE \"$PGDATABASE\"" >/dev/null
"$mreg" migrate --quiet
psql -XAtq -v ON_ERROR_STOP=1 -f "$here/test/fixtures/registry.sql" >/dev/null
psql -XAtq -v ON_ERROR_STOP=1 -v n="$n_models" -f "$here/test/fixtures/registry-gen.sql" >/dev/null

# sql MACRO: the statement a macro of queries.h expands to
joiner=$(mktemp)
trap 'rm -f "$joiner"; cleanup' EXIT
cat >"$joiner" <<'EOF'
import ast, re, sys
parts = re.findall(r'"(?:[^"\\]|\\.)*"', sys.stdin.read())
print("".join(ast.literal_eval(p) for p in parts))
EOF
sql() {
	printf '#include "queries.h"\n%s\n' "$1" |
		gcc -E -P -I "$here/common" - | python3 "$joiner"
}

now_ns() { date +%s%N; }

# bench LABEL N MREG-ARGS... -- PSQL-COMMAND
bench() {
	local label=$1 n=$2 i t0 t_mreg=0 t_psql=0
	shift 2
	local -a margs=() pcmd=()
	while [ "$1" != "--" ]; do margs+=("$1"); shift; done
	shift
	pcmd=("$@")
	"$mreg" "${margs[@]}" >/dev/null 2>&1 # warm up
	"${pcmd[@]}" >/dev/null
	for ((i = 0; i < n; i++)); do
		t0=$(now_ns); "$mreg" "${margs[@]}" >/dev/null 2>&1; t_mreg=$((t_mreg + $(now_ns) - t0))
		t0=$(now_ns); "${pcmd[@]}" >/dev/null; t_psql=$((t_psql + $(now_ns) - t0))
	done
	awk -v l="$label" -v n="$n" -v a="$t_mreg" -v b="$t_psql" 'BEGIN {
		printf "%-34s %5d  %9.2f ms  %9.2f ms  %6.2f\n", l, n, a / n / 1e6, b / n / 1e6, a / b }'
}

# the statements, expanded once (outside the timed loops)
declare -A SQL
for m in MREG_SQL_GET_DEFAULT MREG_SQL_LIST_MODELS_BY_NAME MREG_SQL_COUNT_MODELS \
	MREG_SQL_SEARCH MREG_SQL_SHOW; do
	SQL[$m]=$(sql "$m")
done

# psql_exec MACRO TYPES VALUES: PREPARE + EXECUTE of the macro's SQL
psql_exec() {
	psql -XAtq -v ON_ERROR_STOP=1 -c "PREPARE q($2) AS ${SQL[$1]}; EXECUTE q($3)"
}

echo "registry of $(psql -XAtc 'SELECT count(*) FROM mreg.models') models"
printf '%-34s %5s  %12s  %12s  %6s\n' command calls mreg psql ratio
bench "default embedding" 100 default embedding -- \
	psql_exec MREG_SQL_GET_DEFAULT text "'embedding'"
bench "list --type llm --limit 50" 50 list --type llm --limit 50 -o ndjson -- \
	psql_exec MREG_SQL_LIST_MODELS_BY_NAME "text,text,text[],boolean,text,bigint,bigint" \
	"'llm', NULL, NULL, true, NULL, NULL, 51"
cursor=$("$mreg" list --all --limit "$((n_models * 9 / 10))" -o json | jq -r .next)
key=$(psql -XAtc "SELECT name || '|' || id FROM (SELECT name, id FROM mreg.models ORDER BY name, id OFFSET $((n_models * 9 / 10 - 1)) LIMIT 1) x")
bench "list --all --limit 50 (page 90%)" 50 list --all --limit 50 --after "$cursor" -o ndjson -- \
	psql_exec MREG_SQL_LIST_MODELS_BY_NAME "text,text,text[],boolean,text,bigint,bigint" \
	"NULL, NULL, NULL, NULL, '${key%|*}', ${key#*|}, 51"
bench "list --limit 50 --count" 50 list --limit 50 --count -o ndjson -- \
	psql -XAtq -c "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY" \
	-c "PREPARE c(text,text,text[],boolean) AS ${SQL[MREG_SQL_COUNT_MODELS]}" \
	-c "EXECUTE c(NULL, NULL, NULL, true)" \
	-c "PREPARE q(text,text,text[],boolean,text,bigint,bigint) AS ${SQL[MREG_SQL_LIST_MODELS_BY_NAME]}" \
	-c "EXECUTE q(NULL, NULL, NULL, true, NULL, NULL, 51)" -c "COMMIT"
bench "search text-embeding" 30 search text-embeding -o ndjson -- \
	psql_exec MREG_SQL_SEARCH "text,text,text,bigint" "'text-embeding', NULL, NULL, 20"
bench "show openai/text-embedding-3-small" 50 show openai/text-embedding-3-small -o json -- \
	psql_exec MREG_SQL_SHOW "text,text,int" "'openai', 'text-embedding-3-small', 10"
bench "list --all -o ndjson (every row)" 3 list --all -o ndjson -- \
	psql_exec MREG_SQL_LIST_MODELS_BY_NAME "text,text,text[],boolean,text,bigint,bigint" \
	"NULL, NULL, NULL, NULL, NULL, NULL, NULL"
/usr/bin/time -f "max RSS of mreg list --all -o ndjson: %M KB" \
	"$mreg" list --all -o ndjson >/dev/null
/usr/bin/time -f "max RSS of psql, same query: %M KB" \
	psql -XAtq -c "PREPARE q(text,text,text[],boolean,text,bigint,bigint) AS ${SQL[MREG_SQL_LIST_MODELS_BY_NAME]}; EXECUTE q(NULL, NULL, NULL, NULL, NULL, NULL, NULL)" >/dev/null
