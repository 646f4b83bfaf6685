#!/usr/bin/env bash
# scale-out.sh - get-default throughput direct, through PgBouncer, and on a
# streaming replica, next to pgbench running the same statement
#
#   test/perf/scale-out.sh [SECONDS] [CLIENTS]
#
# Starts its own test/pg-cluster (primary, streaming replica, PgBouncer in
# transaction mode with a pool of 4), populates bench data, then runs, one
# after the other in one run: mreg bench -w get-default against the
# primary directly, through PgBouncer (unnamed statements: --protocol
# auto), and with --read-dsn on the replica; and pgbench -f with the
# statement mreg bench sends, direct and through PgBouncer (-M extended).
# Prints requests per second and ratios.  On one machine every server
# shares the same cores: the numbers show the shape (what the pooler
# costs, that reads move to the replica), not what separate hosts give.
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
mreg=${MREG:-$here/build/mreg}
secs=${1:-10}
clients=${2:-8}
[ -x "$mreg" ] || { echo "build mreg first (ninja -C build)" >&2; exit 1; }
command -v pgbench >/dev/null || PATH=$PATH:$(ls -d /usr/lib/postgresql/*/bin | tail -1)

eval "$("$here/test/pg-cluster" start)"
trap '"$here/test/pg-cluster" stop' EXIT
"$mreg" migrate --quiet
"$mreg" bench --populate 1000 --keep --transactions 1 >/dev/null
# a flushed position past every commit (the sandbox commits asynchronously;
# see primary_wal_end in test/helpers.bash)
lsn=$(psql -XAtq -c "SET synchronous_commit = on" \
	-c "SELECT pg_logical_emit_message(true, 'mreg-test', '') IS NULL" \
	-c "SELECT pg_current_wal_flush_lsn()" | tail -n 1)
# poll for the replica's replay (an event), giving up after 60 s
deadline=$((SECONDS + 60))
until [ "$(psql -XAtq "$MREG_TEST_REPLICA_DSN" -c "SELECT pg_last_wal_replay_lsn() >= '$lsn'")" = t ]; do
	[ "$SECONDS" -lt "$deadline" ] || { echo "scale-out.sh: the replica did not replay $lsn in 60 s" >&2; exit 1; }
	sleep 0.1
done

tps() { # mreg bench ARGS...: its requests per second
	"$mreg" bench -w get-default -c "$clients" -T "${secs}s" --warmup 1s -o json "$@" |
		python3 -c 'import json,sys; print(round(json.load(sys.stdin)["tps"]))'
}
script=$(mktemp)
trap 'rm -f "$script"; "$here/test/pg-cluster" stop' EXIT
type=$(psql -XAtq -c "SELECT type FROM mreg.model_defaults ORDER BY type LIMIT 1")
cat >"$script" <<SQL
SELECT m.id, p.name, m.name FROM mreg.model_defaults d JOIN mreg.models m ON m.id = d.model_id JOIN mreg.providers p ON p.id = m.provider_id WHERE d.type = '$type';
SQL
pgb() { # pgbench CONNINFO MODE: its transactions per second
	pgbench -n -f "$script" -c "$clients" -j 2 -T "$secs" -M "$2" "$1" 2>/dev/null |
		awk '/^tps/ { printf "%d\n", $3 }'
}

direct=$(tps -d "$MREG_TEST_PRIMARY_DSN")
pooled=$(tps -d "$MREG_TEST_POOLED_DSN")
replica=$(tps -d "$MREG_TEST_PRIMARY_DSN" --read-dsn "$MREG_TEST_REPLICA_DSN")
f_direct=$(pgb "$MREG_TEST_PRIMARY_DSN" prepared)
f_pooled=$(pgb "$MREG_TEST_POOLED_DSN" extended)

echo "get-default, $clients clients, $secs s each, $(nproc) cores, $(uname -m)"
printf '%-44s %10s %10s\n' "setup" "req/s" "vs direct"
row() { awk -v l="$1" -v v="$2" -v d="$direct" 'BEGIN { printf "%-44s %10d %9.2fx\n", l, v, v / d }'; }
row "mreg bench, primary direct (prepared)" "$direct"
row "mreg bench, through PgBouncer (unnamed)" "$pooled"
row "mreg bench, reads on the replica" "$replica"
row "pgbench floor, primary direct (-M prepared)" "$f_direct"
row "pgbench floor, through PgBouncer (-M extended)" "$f_pooled"
awk -v a="$direct" -v b="$f_direct" -v c="$pooled" -v d="$f_pooled" 'BEGIN {
	printf "mreg / pgbench: direct %.2f, through PgBouncer %.2f\n", a / b, c / d }'
