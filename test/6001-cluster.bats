#!/usr/bin/env bats
# 6001: the scale-out test cluster (test/pg-cluster): a primary, a streaming
# replica and PgBouncer in transaction mode, and what mreg does there today

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	local envs
	envs=$("$MREG_SOURCE_ROOT/test/pg-cluster" start) || return 1
	echo "$envs" >"$BATS_FILE_TMPDIR/cluster.env"
	eval "$envs"
	"$MREG" migrate --quiet
}

teardown_file() {
	eval "$(cat "$BATS_FILE_TMPDIR/cluster.env")"
	"$MREG_SOURCE_ROOT/test/pg-cluster" stop
}

setup() {
	eval "$(cat "$BATS_FILE_TMPDIR/cluster.env")"
}

@test "the cluster: a streaming replica in recovery, PgBouncer in transaction mode" {
	run psql -XAtq "$MREG_TEST_REPLICA_DSN" -c "SELECT pg_is_in_recovery()"
	assert_success
	assert_output t
	run psql -XAtq -c "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming'"
	assert_output 1
	run psql -XAtq "${MREG_TEST_POOLED_DSN/dbname=mreg/dbname=pgbouncer}" -c "SHOW CONFIG"
	assert_success
	assert_line --regexp '^pool_mode\|transaction\|'
	assert_line --regexp '^default_pool_size\|4\|'
}

@test "an import on the primary reads back on the replica and through PgBouncer" {
	run "$MREG" import-dir --quiet "$MREG_SOURCE_ROOT/test/data/models"
	assert_success
	run "$MREG" list -o json
	assert_success
	local want=$output
	replica_caught_up
	run "$MREG" -d "$MREG_TEST_REPLICA_DSN" list -o json
	assert_success
	assert_equal "$output" "$want"
	run "$MREG" -d "$MREG_TEST_POOLED_DSN" list -o json
	assert_success
	assert_equal "$output" "$want"
}

@test "a write on the replica is refused with the server's reason" {
	run "$MREG" -d "$MREG_TEST_REPLICA_DSN" set-default anthropic/claude-3-5-haiku-20241022
	assert_failure 1
	assert_output --partial "read-only transaction"
}

@test "8 concurrent imports of 8 sources through PgBouncer (pool 4): all succeed, no lock leaks, each reruns" {
	local i pids=() rc
	for i in 1 2 3 4 5 6 7 8; do
		"$MREG" -d "$MREG_TEST_POOLED_DSN" import-dir --quiet --source "pooled-$i" \
			"$MREG_SOURCE_ROOT/test/data/models" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 3>&- &
		pids+=($!)
	done
	for i in "${!pids[@]}"; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		[ "$rc" = 0 ] || { cat "$BATS_TEST_TMPDIR/out.$((i + 1))"; false; }
	done
	assert_equal "$(psql -XAtq -c "SELECT count(*) FROM mreg.source_locks")" 0
	assert_equal "$(psql -XAtq -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" 0
	assert_equal "$(psql -XAtq -c "SELECT count(DISTINCT source) FROM mreg.source_files WHERE source LIKE 'pooled-%'")" 8
	# what a leaked session lock broke: the same sources import again at once
	for i in 1 2 3 4 5 6 7 8; do
		run "$MREG" -d "$MREG_TEST_POOLED_DSN" import-dir --quiet --source "pooled-$i" "$MREG_SOURCE_ROOT/test/data/models"
		assert_success
	done
}

@test "migrate through PgBouncer is refused, asking for a direct DSN; --direct-dsn and MREG_DIRECT_DSN apply; status works pooled" {
	run "$MREG" -d "$MREG_TEST_POOLED_DSN" migrate
	assert_failure 1
	assert_line "mreg migrate: cannot apply migrations through a pooler: connected to port 6432, the server listens on port 5432"
	assert_output --partial "HINT: Give a direct connection to the primary: --direct-dsn CONNINFO or MREG_DIRECT_DSN"
	run "$MREG" -d "$MREG_TEST_POOLED_DSN" migrate --direct-dsn "$MREG_TEST_PRIMARY_DSN"
	assert_success
	MREG_DIRECT_DSN=$MREG_TEST_PRIMARY_DSN run "$MREG" -d "$MREG_TEST_POOLED_DSN" migrate -o json
	assert_success
	assert_equal "$(jq -r .ok <<<"$output")" true
	run "$MREG" -d "$MREG_TEST_POOLED_DSN" migrate status --exit-code
	assert_success
	# MREG_POOLED overrides the guess both ways
	MREG_POOLED=yes run "$MREG" -d "$MREG_TEST_PRIMARY_DSN" migrate
	assert_failure 1
	assert_output --partial "MREG_POOLED says the connection is pooled"
	MREG_POOLED=maybe run "$MREG" -d "$MREG_TEST_PRIMARY_DSN" migrate
	assert_failure 2
	assert_equal "$(psql -XAtq -c "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")" 0
}

@test "bench through PgBouncer goes unnamed by itself (--protocol auto) and serves every request" {
	psql -XAtq -c "CREATE DATABASE benchpool" >/dev/null
	local P=${MREG_TEST_POOLED_DSN/dbname=mreg/dbname=benchpool}
	"$MREG" -d "${MREG_TEST_PRIMARY_DSN/dbname=mreg/dbname=benchpool}" migrate --quiet
	run --separate-stderr "$MREG" -d "$P" bench -v --populate 100 -w get-default --clients 6 --transactions 300 -o json
	assert_success
	[[ $stderr == *"a transaction-mode pooler (port 6432, the server's 5432): unnamed statements, as --protocol extended"* ]]
	assert_equal "$(jq -r .protocol <<<"$output")" extended
	assert_equal "$(jq -r .requests <<<"$output")" 300
	assert_equal "$(jq -r .failed <<<"$output")" 0
	# directly it prepares, as before
	run "$MREG" -d "${MREG_TEST_PRIMARY_DSN/dbname=mreg/dbname=benchpool}" bench --populate 100 -w get-default --transactions 10 -o json
	assert_success
	assert_equal "$(jq -r .protocol <<<"$output")" prepared
}
