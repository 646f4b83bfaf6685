#!/usr/bin/env bats
# 3004: prune, the per-source lock, SIGKILL at any moment, server restarts

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	export D="$BATS_FILE_TMPDIR/models"
	copy_samples "$D"
	"$MREG" import-dir --quiet "$D"
	export BIG="$BATS_FILE_TMPDIR/big"
	"$GEN" "$BIG" 5000 11
}

teardown_file() {
	db_drop
}

@test "a file that disappeared is reported; its model stays active without --prune" {
	mv "$D/google/gemma-2-9b-it.json" "$BATS_FILE_TMPDIR/gemma.json"
	run --separate-stderr "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary missing)" 1
	assert_equal "$(summary pruned)" 0
	assert_equal "$stderr" "mreg import-dir: warning: $D/google/gemma-2-9b-it.json: file is gone; its model stays active (see --prune)"
	assert_equal "$(q "select active from mreg.models where name = 'gemma-2-9b-it'")" t
}

@test "--dry-run --prune lists the deactivation and changes nothing" {
	run "$MREG" import-dir --prune --dry-run "$D"
	assert_success
	assert_line "would deactivate models/google/gemma-2-9b-it ($D/google/gemma-2-9b-it.json gone)"
	assert_equal "$(q "select active from mreg.models where name = 'gemma-2-9b-it'")" t
}

@test "--prune deactivates (never deletes) and audits; the default is kept and reported" {
	q "insert into mreg.model_defaults (type, model_id) select 'embedding', id from mreg.models where name = 'bge-m3'"
	mv "$D/baai/bge-m3.json" "$BATS_FILE_TMPDIR/bge.json"
	run --separate-stderr "$MREG" import-dir --prune --actor pruner --format json "$D"
	assert_success
	assert_equal "$(summary pruned)" 1
	assert_equal "$(summary missing)" 2
	[[ $stderr == *"$D/baai/bge-m3.json: file is gone but model \"baai/bge-m3\" is the default for type \"embedding\": not deactivated"* ]]
	assert_equal "$(q "select active from mreg.models where name = 'gemma-2-9b-it'")" f
	assert_equal "$(q "select active from mreg.models where name = 'bge-m3'")" t
	assert_equal "$(q "select actor, resource, details->>'path', old, new from mreg.audit_log where action = 'model.update' and details->>'reason' = 'source file removed'")" \
		'pruner|models/google/gemma-2-9b-it|google/gemma-2-9b-it.json|{"active": true}|{"active": false}'
	assert_equal "$(q "select count(*) from mreg.source_files where path = 'google/gemma-2-9b-it.json'")" 0
	# pruned once: the next run does not report it again
	run --separate-stderr "$MREG" import-dir --prune --format json "$D"
	assert_equal "$(summary pruned)" 0
	assert_equal "$(summary missing)" 1
	q "delete from mreg.model_defaults where type = 'embedding'"
	mv "$BATS_FILE_TMPDIR/bge.json" "$D/baai/bge-m3.json"
}

@test "a file back after pruning reactivates its model" {
	mv "$BATS_FILE_TMPDIR/gemma.json" "$D/google/gemma-2-9b-it.json"
	run --separate-stderr "$MREG" import-dir --prune --format json "$D"
	assert_success
	assert_equal "$(summary updated)" 1
	assert_equal "$(q "select active from mreg.models where name = 'gemma-2-9b-it'")" t
}

@test "a model moved to another file is not deactivated by --prune" {
	mv "$D/cohere/rerank-v3.5.json" "$D/cohere/rerank-3.5-renamed.json"
	run --separate-stderr "$MREG" import-dir --prune --format json "$D"
	assert_success
	assert_equal "$(summary pruned)" 0
	assert_equal "$(q "select active from mreg.models where name = 'rerank-v3.5'")" t
	assert_equal "$(q "select path from mreg.source_files s join mreg.models m on m.id = s.model_id where m.name = 'rerank-v3.5'")" cohere/rerank-3.5-renamed.json
}

@test "nothing is pruned when the walk was incomplete" {
	mv "$D/mistral/mistral-embed.json" "$BATS_FILE_TMPDIR/me.json"
	ln -s . "$D/mistral/loop"
	run --separate-stderr "$MREG" import-dir --prune --format json "$D"
	assert_failure 3
	[[ $stderr == *"not pruning: the walk of \"$D\" was incomplete"* ]]
	assert_equal "$(q "select active from mreg.models where name = 'mistral-embed'")" t
	rm "$D/mistral/loop"
	mv "$BATS_FILE_TMPDIR/me.json" "$D/mistral/mistral-embed.json"
}

@test "a second import of the same source exits 4 and names the holder; --wait waits" {
	src=$(cd "$D" && pwd -P)
	# hold the lock from another session until this test terminates it
	hold_source_lock "$src"
	run "$MREG" import-dir "$D"
	assert_failure 4
	assert_line "mreg import-dir: another import of \"$src\" is running"
	assert_line --regexp "^DETAIL: Held by pid $holder \\(lock-holder-test\\) on $(hostname) as postgres since .*; last heartbeat [0-9]+ s ago, stale after 30 s without one\\.$"
	# another source is not blocked
	run "$MREG" import-dir --source other-source "$D"
	assert_success
	"$MREG" import-dir --wait --format json "$D" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	waiter=$!
	wait_for "import-dir --wait to say it waits" \
		"grep -q 'waiting for another import' '$BATS_TEST_TMPDIR/err'"
	# the order of events: still waiting while the lock is held ...
	kill -0 "$waiter"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	# ... and done only once the holder is gone
	assert_equal "$(q "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lock-holder-test'")" t
	rc=0
	wait "$waiter" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(jq -r .failed "$BATS_TEST_TMPDIR/out")" 0
	wait "$holder" || true
}


@test "a file edited while --wait waits for the lock is imported by that run (the tree is walked again)" {
	src=$(cd "$D" && pwd -P)
	f="$D/google/gemma-2-9b-it.json"
	hold_source_lock "$src"
	"$MREG" import-dir --wait --format json "$D" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	waiter=$!
	wait_for "import-dir --wait to say it waits" \
		"grep -q 'waiting for another import' '$BATS_TEST_TMPDIR/err'"
	# the walk began with the run; the file changes while it waits
	jq '.description = "Edited while the import waited for the lock."' "$f" >"$f.new"
	mv "$f.new" "$f"
	assert_equal "$(q "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lock-holder-test'")" t
	rc=0
	wait "$waiter" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(jq -r .updated "$BATS_TEST_TMPDIR/out")" 1
	assert_equal "$(q "select description from mreg.models where name = 'gemma-2-9b-it'")" "Edited while the import waited for the lock."
	wait "$holder" || true
}

@test "--wait=DURATION gives up with exit 4 naming the holder and the limit; the lock stays with the holder" {
	src=$(cd "$D" && pwd -P)
	hold_source_lock "$src"
	pid=$holder
	token=$(q "select token from mreg.source_locks where source = '$src'")
	run --separate-stderr "$MREG" import-dir --wait=1s --metrics-file "$BATS_TEST_TMPDIR/m.prom" "$D"
	assert_failure 4
	# the order of events: it said it waits, then gave up
	assert_equal "$(grep -n 'waiting for another import' <<<"$stderr" | cut -d: -f1)" 1
	assert_equal "$(sed -n 2p <<<"$stderr")" \
		"mreg import-dir: another import of \"$src\" is running (pid $pid on $(hostname), \"lock-holder-test\"): gave up after waiting 1 s"
	[[ $stderr == *"DETAIL: Held by pid $pid (lock-holder-test) on $(hostname) as"* ]]
	[[ $stderr == *"HINT: Wait longer (--wait=DURATION), or with no limit (--wait)."* ]]
	[ -z "$output" ]
	# the holder was never disturbed
	assert_equal "$(q "select count(*) from mreg.source_locks where token = '$token' and pid = $pid")" 1
	# the metrics file says it too
	assert_equal "$("$MREG_SOURCE_ROOT/test/metrics-check" "$BATS_TEST_TMPDIR/m.prom" mreg_last_exit_code)" 4
	# --wait=60s: waits, and takes the lock once the holder is gone
	"$MREG" import-dir --wait=60s --format json "$D" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	waiter=$!
	wait_for "import-dir --wait=60s to say it waits" \
		"grep -q 'waiting for another import of' '$BATS_TEST_TMPDIR/err'"
	kill -0 "$waiter"
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	end_session lock-holder-test "$holder"
	rc=0
	wait "$waiter" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(jq -r .failed "$BATS_TEST_TMPDIR/out")" 0
}

@test "--wait=0 tries once; a bad --wait duration is a usage error" {
	src=$(cd "$D" && pwd -P)
	hold_source_lock "$src"
	run --separate-stderr "$MREG" import-dir --wait=0 "$D"
	end_session lock-holder-test "$holder"
	assert_failure 4
	assert_equal "$(head -1 <<<"$stderr")" "mreg import-dir: another import of \"$src\" is running"
	[[ $stderr != *waiting* ]]
	run "$MREG" import-dir --wait=0 "$D"
	assert_success
	for bad in soon -1s 10x ""; do
		run --separate-stderr "$MREG" import-dir "--wait=$bad" "$D"
		assert_failure 2
		[[ $stderr == *"--wait: invalid duration '$bad'"* ]]
	done
	# a bare --wait takes no value from the next word: DIR stays DIR
	run "$MREG" import-dir --wait "$D"
	assert_success
}

@test "concurrent imports of the same tree: no duplicates, registry equals the tree" {
	pids=()
	for i in 1 2 3; do
		"$MREG" import-dir --quiet --source big "$BIG" 2>"$BATS_TEST_TMPDIR/err$i" &
		pids+=($!)
	done
	ok=0
	for i in 0 1 2; do
		rc=0
		wait "${pids[$i]}" || rc=$?
		[ "$rc" = 0 ] && ok=$((ok + 1))
		[ "$rc" = 0 ] || [ "$rc" = 4 ]
	done
	[ "$ok" -ge 1 ]
	assert_equal "$(q "select count(*) from mreg.source_files where source = 'big'")" 5000
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'model.create' and details->>'source' = 'big'")" 5000
	assert_equal "$(db_digest big)" "$(dir_digest "$BIG")"
}

@test "SIGKILL at several moments, then a rerun: the registry equals the tree" {
	# change every file so that each run has real work to do
	find "$BIG" -name '*.json' -exec sed -i 's/"version": "\([0-9]\)\./"version": "1\1./' {} +
	# kill each run once the registry shows a given amount of its work
	# committed (0: as soon as it runs), so that the kills land at several
	# points of the import however fast the machine is
	for done_updates in 0 200 1000 2200 3400 4600; do
		"$MREG" import-dir --quiet --source big --batch-size 200 "$BIG" 2>/dev/null &
		pid=$!
		wait_for "the import to commit $done_updates updates (or to end)" \
			"! kill -0 $pid 2>/dev/null || [ \"\$(q \"select count(*) from mreg.audit_log where action = 'model.update' and details->>'source' = 'big'\")\" -ge $done_updates ]"
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" || true
	done
	wait_past_racy "$BIG"
	run "$MREG" import-dir --source big --format json "$BIG"
	assert_success
	assert_equal "$(q "select count(*) from mreg.source_files where source = 'big'")" 5000
	assert_equal "$(q "select count(*) from mreg.models m join mreg.source_files s on s.model_id = m.id where s.source = 'big'")" 5000
	assert_equal "$(db_digest big)" "$(dir_digest "$BIG")"
	# exactly one create and one update per model, whatever was killed
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'model.update' and details->>'source' = 'big'")" 5000
	assert_equal "$(q "select count(*) from (select resource from mreg.audit_log where details->>'source' = 'big' group by resource, action having count(*) > 1) d")" 0
	run "$MREG" import-dir --source big --format json "$BIG"
	assert_equal "$(summary hashed)" 0
	assert_equal "$(summary unchanged)" 5000
}

@test "a server restart during an import: clean failure or success, then the rerun completes" {
	# a private cluster: restarting the shared one would disturb other suites
	env_file="$BATS_TEST_TMPDIR/sandbox.env"
	"$MREG_SOURCE_ROOT/test/pg-sandbox" start >"$env_file"
	(
		eval "$(cat "$env_file")"
		trap '"$MREG_SOURCE_ROOT/test/pg-sandbox" stop' EXIT
		export PGDATABASE=postgres
		"$MREG" migrate --quiet
		"$MREG" import-dir --quiet --source big --batch-size 100 "$BIG" \
			>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
		pid=$!
		# restart once the first batch has committed (or the run ended)
		wait_for "the first batch to commit" \
			"! kill -0 $pid 2>/dev/null || [ \"\$(q \"select count(*) from mreg.source_files where source = 'big'\")\" -gt 0 ]"
		"$MREG_SOURCE_ROOT/test/pg-sandbox" restart
		rc=0
		wait "$pid" || rc=$?
		echo "rc=$rc" >"$BATS_TEST_TMPDIR/rc"
		"$MREG" import-dir --source big --format json "$BIG" >"$BATS_TEST_TMPDIR/rerun"
		q "select count(*) from mreg.source_files where source = 'big'" >"$BATS_TEST_TMPDIR/count"
		db_digest big >"$BATS_TEST_TMPDIR/digest"
		q "select count(*) from (select resource from mreg.audit_log group by resource, action having count(*) > 1) d" >"$BATS_TEST_TMPDIR/dups"
	)
	rc=$(cat "$BATS_TEST_TMPDIR/rc")
	[ "$rc" = rc=0 ] || [ "$rc" = rc=1 ]
	if [ "$rc" = rc=1 ]; then
		run cat "$BATS_TEST_TMPDIR/err"
		assert_output --regexp '^mreg import-dir: .*(terminat|connection|server closed)'
	fi
	assert_equal "$(cat "$BATS_TEST_TMPDIR/count")" 5000
	assert_equal "$(cat "$BATS_TEST_TMPDIR/digest")" "$(dir_digest "$BIG")"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/dups")" 0
	assert_equal "$(jq -r .failed "$BATS_TEST_TMPDIR/rerun")" 0
}
