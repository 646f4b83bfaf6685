#!/usr/bin/env bats
# 6003: the failover drill: an import running on the primary, the primary
# stopped, the replica promoted, the DSN pointed at it; the rerun completes,
# the registry equals the tree and nothing reported as committed is lost

load helpers
load import-helpers
bats_require_minimum_version 1.5.0

setup_file() {
	local envs
	envs=$("$MREG_SOURCE_ROOT/test/pg-cluster" start) || return 1
	echo "$envs" >"$BATS_FILE_TMPDIR/cluster.env"
	eval "$envs"
	"$MREG" migrate --quiet
	export TREE="$BATS_FILE_TMPDIR/tree"
	"$GEN" "$TREE" 2000 7
}

teardown_file() {
	eval "$(cat "$BATS_FILE_TMPDIR/cluster.env")"
	"$MREG_SOURCE_ROOT/test/pg-cluster" stop
}

setup() {
	eval "$(cat "$BATS_FILE_TMPDIR/cluster.env")"
}

teardown() {
	# (the primary may be gone: then so is the blocker)
	end_session blocker-6003 2>/dev/null || true
}

rq() {
	psql -XAtq "$MREG_TEST_REPLICA_DSN" -c "$1"
}

@test "failover during an import: promote the replica, rerun there, nothing committed is lost" {
	# synchronous replication: a commit is reported once the replica has
	# it (what makes "reported as committed" survive losing the primary);
	# the sandbox runs with synchronous_commit = off, which skips that wait
	q "ALTER SYSTEM SET synchronous_standby_names = '*'" >/dev/null
	q "ALTER SYSTEM SET synchronous_commit = on" >/dev/null
	q "SELECT pg_reload_conf()" >/dev/null
	wait_for "the replica to be synchronous" \
		"[ \"\$(q \"SELECT sync_state FROM pg_stat_replication\")\" = sync ] && [ \"\$(q \"SHOW synchronous_commit\")\" = on ]" 60
	# changes reported as committed before the failover
	"$MREG" import-dir --quiet --source samples "$MREG_SOURCE_ROOT/test/data/models"
	local m reported=()
	for m in openai/text-embedding-3-small mistral/mistral-embed openai/text-embedding-3-large; do
		"$MREG" set-default --quiet "$m" && reported+=("$m")
	done
	# the import, held after some of its files are in: those of a first
	# run over part of the tree are committed; the second run, over the
	# whole tree, finds a session holding source_files in EXCLUSIVE mode
	# and waits at its first batch (deterministic: a run started before
	# the blocker could finish first on a fast machine)
	local later="$BATS_TEST_TMPDIR/later"
	mkdir "$later"
	find "$TREE" -type f -name '*.json' | sort | tail -n +301 | while read -r f; do
		mkdir -p "$later/$(dirname "${f#"$TREE"/}")"
		mv "$f" "$later/${f#"$TREE"/}"
	done
	"$MREG" import-dir --quiet --batch-size 100 --source drill "$TREE"
	cp -a "$later/." "$TREE/"
	assert_equal "$(q "SELECT count(*) FROM mreg.source_files WHERE source = 'drill'")" 300
	blocker blocker-6003 "LOCK TABLE mreg.source_files IN EXCLUSIVE MODE"
	"$MREG" import-dir --batch-size 100 --source drill "$TREE" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	importer=$!
	# (one writer or more: import-dir --writers)
	wait_for "the import to wait behind the blocker" \
		"[ \"\$(q \"SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND application_name LIKE 'mreg%'\")\" -ge 1 ]"
	# nothing of the import commits from here on
	committed=$(q "SELECT count(*) FROM mreg.source_files WHERE source = 'drill'")
	assert_equal "$committed" 300
	kill -0 "$importer"
	# the primary goes away; the replica is promoted
	"$MREG_SOURCE_ROOT/test/pg-sandbox" kill
	rc=0
	wait "$importer" || rc=$?
	[ "$rc" -ne 0 ]
	assert_equal "$(rq "SELECT pg_promote()")" t
	assert_equal "$(rq "SELECT pg_is_in_recovery()")" f
	# point the DSN at the new primary
	export MREG_DSN=$MREG_TEST_REPLICA_DSN
	unset PGHOST PGPORT
	# nothing reported as committed is lost
	assert_equal "$("$MREG" default embedding)" "${reported[-1]}"
	after=$(psql -XAtq "$MREG_DSN" -c "SELECT count(*) FROM mreg.source_files WHERE source = 'drill'")
	echo "committed before: $committed, on the new primary: $after" >&2
	assert_equal "$after" "$committed"
	# the rerun takes over the dead run's lock at once and completes
	run --separate-stderr "$MREG" import-dir --format json --source drill "$TREE"
	assert_success
	assert_equal "$(jq -r .failed <<<"$output")" 0
	want=$(dir_digest "$TREE")
	got=$(PGHOST=$MREG_CLUSTER/replica PGPORT=5432 PGDATABASE=mreg db_digest drill)
	assert_equal "$got" "$want"
	assert_equal "$(psql -XAtq "$MREG_DSN" -c "SELECT count(*) FROM mreg.source_locks")" 0
}
