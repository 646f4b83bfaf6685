#!/usr/bin/env bats
# 7008: mreg watch across a server restart under concurrent writers (every
# audit id exactly once, in order), and behind PgBouncer in transaction
# mode (refused: LISTEN needs a session).  On a private cluster
# (test/pg-cluster: a primary, a replica, PgBouncer), since the server is
# restarted.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	local envs
	envs=$(TMPDIR=${ORIG_TMPDIR:-${TMPDIR:-/tmp}} "$MREG_SOURCE_ROOT/test/pg-cluster" start) || return 1
	echo "$envs" >"$BATS_FILE_TMPDIR/cluster.env"
	eval "$envs"
	"$MREG" migrate --quiet
	"$MREG" import-dir --quiet "$MREG_SOURCE_ROOT/test/data/models"
}

teardown_file() {
	eval "$(cat "$BATS_FILE_TMPDIR/cluster.env")"
	"$MREG_SOURCE_ROOT/test/pg-cluster" stop
}

setup() {
	eval "$(cat "$BATS_FILE_TMPDIR/cluster.env")"
}

teardown() {
	touch "$BATS_TEST_TMPDIR/stop"
	local p
	for p in ${PIDS:-}; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
}

# writer N: update model descriptions until $BATS_TEST_TMPDIR/stop exists;
# every third transaction rolls back (an id taken, never committed).  A
# failed connection (the server restarting) is retried; each committed
# write is counted in writer-N.count.
writer() {
	local n=$1 i=0 models=(o3-mini gpt-4o gpt-4o-mini)
	while [ ! -e "$BATS_TEST_TMPDIR/stop" ]; do
		i=$((i + 1))
		local m=${models[$((i % 3))]} end=COMMIT
		[ $((i % 3)) -ne 0 ] || end=ROLLBACK
		if psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" \
			-c "UPDATE mreg.models SET description = 'writer $n write $i' WHERE name = '$m'" \
			-c "$end" >/dev/null 2>&1 && [ $end = COMMIT ]; then
			echo "$i" >>"$BATS_TEST_TMPDIR/writer-$n.count"
		fi
	done
}

count() { cat "$BATS_TEST_TMPDIR"/writer-*.count 2>/dev/null | wc -l; }
lines() { wc -l <"$BATS_TEST_TMPDIR/out"; }

@test "watch: a server restart mid-stream under writers: every id once, in order" {
	local n0 w before
	n0=$(psql -XAtq -c "SELECT coalesce(max(id), 0) FROM mreg.audit_log")
	"$MREG" watch --after-id "$n0" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	w=$!
	PIDS="$w"
	writer 1 3>&- &
	local w1=$!
	writer 2 3>&- &
	local w2=$!
	PIDS="$w $w1 $w2"
	# before: lines arrive
	wait_for "lines before the restart" "[ \$(lines) -ge 10 ] || ! kill -0 $w"
	"$MREG_SOURCE_ROOT/test/pg-sandbox" restart
	before=$(count)
	# after: the writers got through again, and the watch came back
	wait_for "writes after the restart" "[ \$(count) -ge $((before + 10)) ]"
	wait_for "the watch to reconnect" "grep -q 'reconnected; catching up' '$BATS_TEST_TMPDIR/err' || ! kill -0 $w"
	touch "$BATS_TEST_TMPDIR/stop"
	wait "$w1" "$w2"
	local want
	want=$(psql -XAtq -c "SELECT id FROM mreg.audit_log WHERE id > $n0 ORDER BY id")
	wait_for "the watch to print the last id" "[ \"\$(tail -n 1 '$BATS_TEST_TMPDIR/out' | jq -r .id)\" = '$(tail -n 1 <<<"$want")' ] || ! kill -0 $w"
	kill -TERM "$w"
	local rc=0
	wait "$w" || rc=$?
	[ "$rc" -eq 0 ] || { cat "$BATS_TEST_TMPDIR/err" >&2; return 1; }
	run -0 jq -r .id "$BATS_TEST_TMPDIR/out"
	[ "$output" = "$want" ] || { diff <(echo "$want") <(echo "$output") >&2; return 1; }
	# the rollbacks left gaps that were skipped, the restart was seen
	[ "$(wc -l <<<"$want")" -lt "$(($(tail -n 1 <<<"$want") - n0))" ]
	grep -q 'lost the connection' "$BATS_TEST_TMPDIR/err"
	grep -q 'reconnecting in 100 ms (attempt 1)' "$BATS_TEST_TMPDIR/err"
	! grep -qi 'password\|secret' "$BATS_TEST_TMPDIR/err" || false
}

@test "watch: through PgBouncer in transaction mode it refuses, exit 1, with a hint" {
	run -1 --separate-stderr "$MREG" watch -d "$MREG_TEST_POOLED_DSN"
	assert_output ""
	[[ $stderr == "mreg watch: cannot LISTEN through a transaction-mode pooler: connected to port 6432, the server runs on port 5432"* ]]
	[[ $stderr == *"HINT: Connect mreg watch to the server directly"*"MREG_POOLED=no"* ]]
	# the primary itself is fine
	run -0 bash -c "'$MREG' watch -d '$MREG_TEST_PRIMARY_DSN' --after-id 0 --action provider.create | head -n 1"
	[ "$(jq -r .action <<<"$output")" = provider.create ]
}
