#!/usr/bin/env bats
# 3009: the source lock is a row (mreg.source_locks), not a session advisory
# lock: foreign and stale holders, a holder killed on this machine, the
# fence that keeps a taken-over run from writing

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	export D="$BATS_FILE_TMPDIR/models"
	copy_samples "$D"
}

teardown_file() {
	db_drop
}

teardown() {
	# the psql sessions a test left behind
	end_session blocker-3009
	end_session taker-3009
	end_session lock-holder-test "${holder:-}"
}

# A row as an import on another machine writes it; $1 source, $2 how long
# ago its last heartbeat was.
foreign_holder() {
	q "insert into mreg.source_locks (source, host, host_id, pid, application, ttl_s, heartbeat_at)
	   values ('$1', 'build-7', 'build-7|boot|pid:[1]', 4242, 'mreg', 30, clock_timestamp() - interval '$2')"
}

# An import's backend waiting for a lock, N of them.
import_waits() {
	[ "$(q "select count(*) from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and application_name not like '%3009%'")" = "${1:-1}" ]
}

@test "a holder on another machine with a fresh heartbeat: exit 4 naming its host; once stale it is taken over" {
	foreign_holder fresh '1 second'
	run --separate-stderr "$MREG" import-dir --source fresh "$D"
	assert_failure 4
	assert_equal "$(head -1 <<<"$stderr")" 'mreg import-dir: another import of "fresh" is running'
	[[ $stderr == *"DETAIL: Held by pid 4242 (mreg) on build-7 as "*"; last heartbeat "*" s ago, stale after 30 s without one."* ]]
	assert_equal "$(q "select host from mreg.source_locks where source = 'fresh'")" build-7
	# the same row with no heartbeat for longer than its ttl is stale
	q "update mreg.source_locks set heartbeat_at = clock_timestamp() - interval '31 seconds' where source = 'fresh'"
	run "$MREG" import-dir --quiet --source fresh "$D"
	assert_success
	# and the lock is released when the run ends
	assert_equal "$(q "select count(*) from mreg.source_locks")" 0
}

@test "a holder of this machine killed with SIGKILL: the next import takes its lock at once" {
	hold_source_lock killed
	run "$MREG" import-dir --quiet --source killed "$D"
	assert_failure 4
	kill -KILL "$holder"
	wait "$holder" || true
	# its row stays (nobody released it) ...
	assert_equal "$(q "select count(*) from mreg.source_locks where source = 'killed' and pid = $holder")" 1
	# ... and names a process of this machine that is gone: no --wait needed
	run "$MREG" import-dir --quiet --source killed "$D"
	assert_success
	assert_equal "$(q "select count(*) from mreg.source_locks")" 0
}

@test "a lock the run cannot release (its connection gone) is a warning, and the next import takes it over at once" {
	blocker blocker-3009 "LOCK TABLE mreg.source_files IN EXCLUSIVE MODE"
	"$MREG" import-dir --source unreleased --format json "$D" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	importer=$!
	wait_for "the import's batch to wait for the blocker" import_waits
	# a run that lasts beats the heartbeat on a connection of its own,
	# which then releases the lock too: that connection goes away
	local beater="datname = current_database() and application_name not like '%3009%' and query like 'UPDATE mreg.source_locks SET heartbeat_at%'"
	wait_for "the lock's heartbeat" "[ \"\$(q \"select count(*) from pg_stat_activity where $beater\")\" = 1 ]"
	assert_equal "$(q "select count(pg_terminate_backend(pid)) from pg_stat_activity where $beater")" 1
	end_session blocker-3009
	rc=0
	wait "$importer" || rc=$?
	# everything is written: the run succeeds and says what it left behind
	assert_equal "$rc" 0
	assert_equal "$(jq -r .failed "$BATS_TEST_TMPDIR/out")" 0
	assert_equal "$(q "select count(*) from mreg.source_files where source = 'unreleased'")" 30
	grep -qF 'mreg import-dir: warning: the lock on "unreleased" was not released (' "$BATS_TEST_TMPDIR/err"
	grep -qF '): the next import takes it over, at once on this machine, elsewhere once stale (30 s)' "$BATS_TEST_TMPDIR/err"
	assert_equal "$(q "select count(*) from mreg.source_locks where source = 'unreleased'")" 1
	run "$MREG" import-dir --quiet --source unreleased "$D"
	assert_success
	assert_equal "$(q "select count(*) from mreg.source_locks")" 0
}

@test "a batch in flight holds the fence: its heartbeat beats, a takeover waits for its commit; no advisory lock anywhere" {
	blocker blocker-3009 "LOCK TABLE mreg.models IN SHARE MODE"
	"$MREG" import-dir --source fence-1 --format json "$D" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	importer=$!
	wait_for "the import's batch to wait for the blocker" import_waits
	assert_equal "$(q "select count(*) from pg_locks where locktype = 'advisory'")" 0
	# the heartbeat beats while the batch holds the fence ...
	wait_for "a heartbeat during the batch" \
		"[ \"\$(q \"select heartbeat_at > acquired_at from mreg.source_locks where source = 'fence-1'\")\" = t ]"
	# ... but a takeover (the DELETE a stale-lock takeover runs) waits for it
	psql -XAtq -c "SET application_name = 'taker-3009'" \
		-c "DELETE FROM mreg.source_locks WHERE source = 'fence-1'" >/dev/null 2>&1 3>&- &
	taker=$!
	wait_for "the takeover to wait for the batch's fence" \
		"[ \"\$(q \"select count(*) from pg_stat_activity a where application_name = 'taker-3009' and wait_event_type = 'Lock' and exists (select 1 from pg_stat_activity i where i.pid = any (pg_blocking_pids(a.pid)) and i.application_name not like '%3009%')\")\" = 1 ]"
	end_session blocker-3009
	rc=0
	wait "$importer" || rc=$?
	assert_equal "$rc" 0
	wait "$taker"
	assert_equal "$(jq -r .failed "$BATS_TEST_TMPDIR/out")" 0
	assert_equal "$(q "select count(*) from mreg.source_files where source = 'fence-1'")" 30
	q "delete from mreg.source_locks"
}

@test "a run whose lock was taken over while it stalled writes nothing and exits 4" {
	blocker blocker-3009 "LOCK TABLE mreg.source_files IN ACCESS EXCLUSIVE MODE"
	"$MREG" import-dir --source fence-2 "$D" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	importer=$!
	# it holds the lock and waits to load its cache
	wait_for "the import to wait for its cache" import_waits
	assert_equal "$(q "select count(*) from mreg.source_locks where source = 'fence-2'")" 1
	# another import takes the lock over (as it would once this one's
	# heartbeat is older than the ttl)
	q "update mreg.source_locks set token = gen_random_uuid(), host = 'build-7', host_id = 'build-7|boot|pid:[1]', pid = 4242 where source = 'fence-2'"
	end_session blocker-3009
	rc=0
	wait "$importer" || rc=$?
	assert_equal "$rc" 4
	assert_equal "$(head -1 "$BATS_TEST_TMPDIR/err")" 'mreg import-dir: lost the lock on "fence-2": another import took it over'
	assert_equal "$(q "select count(*) from mreg.source_files where source = 'fence-2'")" 0
	# the new holder's row is untouched
	assert_equal "$(q "select host from mreg.source_locks where source = 'fence-2'")" build-7
	q "delete from mreg.source_locks"
}
