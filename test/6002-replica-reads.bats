#!/usr/bin/env bats
# 6002: reads on the streaming replica (--read-dsn, --max-lag), writes and
# their own reads on the primary

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	local envs
	envs=$("$MREG_SOURCE_ROOT/test/pg-cluster" start) || return 1
	echo "$envs" >"$BATS_FILE_TMPDIR/cluster.env"
	eval "$envs"
	"$MREG" migrate --quiet
	"$MREG" import-dir --quiet "$MREG_SOURCE_ROOT/test/data/models"
	"$MREG" set-default --quiet openai/text-embedding-3-small
}

teardown_file() {
	eval "$(cat "$BATS_FILE_TMPDIR/cluster.env")"
	"$MREG_SOURCE_ROOT/test/pg-cluster" stop
}

setup() {
	eval "$(cat "$BATS_FILE_TMPDIR/cluster.env")"
}

teardown() {
	# never leave the replica paused for the next test
	psql -XAtq "$MREG_TEST_REPLICA_DSN" -c "SELECT pg_wal_replay_resume()" >/dev/null 2>&1 || true
}

rq() {
	psql -XAtq "$MREG_TEST_REPLICA_DSN" -c "$1"
}

# The replica has received everything the primary had, and not replayed it.
replica_received_not_replayed() {
	local lsn
	lsn=$(primary_wal_end)
	wait_for "the replica to receive $lsn" \
		"[ \"\$(rq \"SELECT pg_last_wal_receive_lsn() >= '$lsn' AND pg_last_wal_receive_lsn() > pg_last_wal_replay_lsn()\")\" = t ]" 60
}

@test "the read commands read from --read-dsn (and MREG_READ_DSN) and give what the primary gives" {
	replica_caught_up
	for args in "list -o json" "show openai/text-embedding-3-small -o json" \
		"search embedding -o json" "default embedding -o json" "list defaults -o json"; do
		# shellcheck disable=SC2086
		want=$("$MREG" $args)
		# shellcheck disable=SC2086
		run --separate-stderr "$MREG" -v --read-dsn "$MREG_TEST_REPLICA_DSN" $args
		assert_success
		[ "$output" = "$want" ] || { echo "$args differs on the replica" >&2; return 1; }
		[[ $stderr == *"reading from "*"host=$MREG_CLUSTER/replica "* ]]
	done
	MREG_READ_DSN=$MREG_TEST_REPLICA_DSN run --separate-stderr "$MREG" -v default embedding
	assert_success
	assert_output openai/text-embedding-3-small
	[[ $stderr == *"reading from "*"host=$MREG_CLUSTER/replica "* ]]
}

@test "writes go to the primary with a read DSN set; set-default reads its own write" {
	export MREG_READ_DSN=$MREG_TEST_REPLICA_DSN
	run "$MREG" set-default -o json mistral/mistral-embed
	assert_success
	assert_equal "$(jq -r .model.model <<<"$output")" mistral/mistral-embed
	assert_equal "$(jq -r .previous <<<"$output")" openai/text-embedding-3-small
	# the option itself belongs to the read commands only
	run "$MREG" set-default --read-dsn "$MREG_TEST_REPLICA_DSN" mistral/mistral-embed
	assert_failure 2
	assert_output --partial "unknown option '--read-dsn'"
	"$MREG" set-default --quiet openai/text-embedding-3-small
}

@test "--max-lag: a paused replica is read until its lag passes the limit, then the primary is" {
	replica_caught_up
	rq "SELECT pg_wal_replay_pause()" >/dev/null
	# a change the replica receives and does not replay
	"$MREG" set-default --quiet mistral/mistral-embed
	replica_received_not_replayed
	# no limit: the replica's (stale) answer, as documented
	run "$MREG" --read-dsn "$MREG_TEST_REPLICA_DSN" default embedding
	assert_success
	assert_output openai/text-embedding-3-small
	# a limit the lag is under: still the replica
	run "$MREG" --read-dsn "$MREG_TEST_REPLICA_DSN" --max-lag 1h default embedding
	assert_output openai/text-embedding-3-small
	# a limit the lag is over (the last replayed commit is older than
	# 1 ms): the primary, and -v says why
	run --separate-stderr "$MREG" -v --read-dsn "$MREG_TEST_REPLICA_DSN" --max-lag 1ms default embedding
	assert_success
	assert_output mistral/mistral-embed
	[[ $stderr == *"the standby replays "*" s behind, over --max-lag 1ms: reading from the primary"* ]]
	# the same from the environment, and given after the command
	MREG_MAX_LAG=1ms run "$MREG" default --read-dsn "$MREG_TEST_REPLICA_DSN" embedding
	assert_output mistral/mistral-embed
	# replay resumed and caught up: the replica again, with the new value
	rq "SELECT pg_wal_replay_resume()" >/dev/null
	replica_caught_up
	run "$MREG" --read-dsn "$MREG_TEST_REPLICA_DSN" --max-lag 1h default embedding
	assert_output mistral/mistral-embed
	"$MREG" set-default --quiet openai/text-embedding-3-small
}

@test "bad --max-lag and MREG_MAX_LAG are usage errors; an unreachable read DSN is exit 1" {
	run "$MREG" --max-lag soon default embedding
	assert_failure 2
	assert_output --partial "--max-lag: invalid duration 'soon'"
	MREG_MAX_LAG=-3s run "$MREG" default embedding
	assert_failure 2
	assert_output --partial "MREG_MAX_LAG: invalid duration '-3s'"
	run "$MREG" --read-dsn "host=$BATS_TEST_TMPDIR/nothing-here dbname=mreg" default embedding
	assert_failure 1
	assert_output --partial "nothing-here"
}

@test "bench --read-dsn: the read workloads run on the replica, the writes on the primary" {
	psql -XAtq -c "CREATE DATABASE benchdb" >/dev/null
	local P=${MREG_TEST_PRIMARY_DSN/dbname=mreg/dbname=benchdb}
	local R=${MREG_TEST_REPLICA_DSN/dbname=mreg/dbname=benchdb}
	"$MREG" -d "$P" migrate --quiet
	"$MREG" -d "$P" bench --populate 100 --keep --transactions 1 >/dev/null
	replica_caught_up
	local before reads
	before=$(rq "SELECT xact_commit FROM pg_stat_database WHERE datname = 'benchdb'")
	run --separate-stderr "$MREG" -d "$P" bench -v --read-dsn "$R" --mix get-default=3,set-default=1 \
		--transactions 400 --clients 2 --format json
	assert_success
	[[ $stderr == *"read workloads on "*"host=$MREG_CLUSTER/replica "* ]]
	assert_equal "$(jq -r .failed <<<"$output")" 0
	# the writes succeeded: they ran on the primary (the replica refuses them)
	[ "$(jq -r '.workloads["set-default"].succeeded' <<<"$output")" -gt 0 ]
	reads=$(jq -r '.workloads["get-default"].succeeded' <<<"$output")
	[ "$reads" -gt 0 ]
	# and the replica committed at least one transaction per read
	wait_for "the replica's statistics to count the reads" \
		"[ \$(( \$(rq \"SELECT xact_commit FROM pg_stat_database WHERE datname = 'benchdb'\") - $before )) -ge $reads ]" 60
	run "$MREG" -d "$P" bench --read-dsn "$R" --connect-per-request --transactions 1
	assert_failure 2
	assert_output --partial "--read-dsn needs the pool"
}
