#!/usr/bin/env bats
# 3002: the content-hash cache and the racy-timestamp rule

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	export D="$BATS_FILE_TMPDIR/models"
	copy_samples "$D"
	# files older than the racy window, so the first run can trust them
	touch -d '2 minutes ago' "$D"/*/*.json "$D"/local/*/*.json
	wait_past_racy "$D"
	"$MREG" import-dir --quiet "$D"
}

teardown_file() {
	db_drop
}

F=openai/gpt-4o.json

@test "old files are recorded as trustworthy; a rerun hashes nothing" {
	assert_equal "$(q 'select count(*) from mreg.source_files where racy')" 0
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary hashed)" 0
	assert_equal "$(summary unchanged)" 30
}

@test "same size, same second, mtime set back with touch -d: re-imported" {
	f="$D/$F"
	mtime=$(stat -c '%.9Y' "$f")
	size=$(stat -c %s "$f")
	# same length: 2024-08-06 -> 2024-08-07
	sed -i 's/"version": "2024-08-06"/"version": "2024-08-07"/' "$f"
	touch -d "@$mtime" "$f"
	assert_equal "$(stat -c '%.9Y %s' "$f")" "$mtime $size"
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary hashed)" 1
	assert_equal "$(summary updated)" 1
	assert_equal "$(q "select version from mreg.models where name = 'gpt-4o'")" 2024-08-07
}

@test "a file written during the racy window is stored flagged and hashed again" {
	f="$D/$F"
	# an mtime in the future is inside the window for sure
	sed -i 's/"version": "2024-08-07"/"version": "2024-08-08"/' "$f"
	touch -d '+1 hour' "$f"
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary updated)" 1
	assert_equal "$(q "select racy from mreg.source_files where path = '$F'")" t
	# stat unchanged, but the entry is racy: hashed again, not imported
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary hashed)" 1
	assert_equal "$(summary updated)" 0
	# once the file is old, the entry becomes trustworthy
	touch -d '2 minutes ago' "$f"
	wait_past_racy "$D"
	run "$MREG" import-dir --format json "$D"
	assert_equal "$(summary hashed)" 1
	assert_equal "$(q "select racy from mreg.source_files where path = '$F'")" f
	run "$MREG" import-dir --format json "$D"
	assert_equal "$(summary hashed)" 0
}

@test "a racy entry whose file was rewritten in the same tick is re-imported" {
	f="$D/$F"
	sed -i 's/"version": "2024-08-08"/"version": "2024-08-09"/' "$f"
	touch -d '+1 hour' "$f"
	"$MREG" import-dir --quiet "$D"
	assert_equal "$(q "select racy from mreg.source_files where path = '$F'")" t
	mtime=$(stat -c '%.9Y' "$f")
	sed -i 's/"version": "2024-08-09"/"version": "2024-08-10"/' "$f"
	touch -d "@$mtime" "$f"
	run "$MREG" import-dir --format json "$D"
	assert_equal "$(summary updated)" 1
	assert_equal "$(q "select version from mreg.models where name = 'gpt-4o'")" 2024-08-10
	touch -d '2 minutes ago' "$f"
	wait_past_racy "$D"
	"$MREG" import-dir --quiet "$D"
}

@test "touched, or copied back with cp -p: hashed, not re-imported, stat refreshed" {
	f="$D/$F"
	audit=$(q 'select count(*) from mreg.audit_log')
	touch "$f"
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary hashed)" 1
	assert_equal "$(summary updated)" 0
	assert_equal "$(q "select mtime_ns, inode from mreg.source_files where path = '$F'")" \
		"$(stat -c '%.9Y|%i' "$f" | tr -d .)"
	# replaced by a copy with the old times: new inode and ctime
	cp -p "$f" "$BATS_TEST_TMPDIR/keep.json"
	rm "$f"
	cp -p "$BATS_TEST_TMPDIR/keep.json" "$f"
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary hashed)" 1
	assert_equal "$(summary updated)" 0
	assert_equal "$(q "select inode from mreg.source_files where path = '$F'")" "$(stat -c %i "$f")"
	assert_equal "$(q 'select count(*) from mreg.audit_log')" "$audit"
}

@test "replaced by rename with identical stat but other bytes: the inode catches it" {
	f="$D/$F"
	mtime=$(stat -c '%.9Y' "$f")
	sed 's/"version": "2024-08-10"/"version": "2024-08-11"/' "$f" >"$D/openai/.tmp"
	touch -d "@$mtime" "$D/openai/.tmp"
	mv "$D/openai/.tmp" "$f"
	run "$MREG" import-dir --format json "$D"
	assert_equal "$(summary updated)" 1
	assert_equal "$(q "select version from mreg.models where name = 'gpt-4o'")" 2024-08-11
}

@test "--rehash reads every file and changes nothing that did not change" {
	touch -d '2 minutes ago' "$D/$F"
	wait_past_racy "$D"
	"$MREG" import-dir --quiet "$D"
	audit=$(q 'select count(*) from mreg.audit_log')
	run "$MREG" import-dir --rehash --format json "$D"
	assert_success
	assert_equal "$(summary hashed)" 30
	assert_equal "$(summary updated)" 0
	assert_equal "$(q 'select count(*) from mreg.audit_log')" "$audit"
}

@test "a changed artifact is seen with --rehash" {
	a="$D/local/mini-reranker-team.example/vocab.txt"
	echo "escalation" >>"$a"
	run "$MREG" import-dir --rehash --format json "$D"
	assert_success
	assert_equal "$(summary updated)" 1
	assert_equal "$(q "select sha256 from mreg.artifacts where path = 'vocab.txt'")" "$(sha256sum "$a" | cut -d' ' -f1)"
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'artifact.update' and old->>'path' = 'vocab.txt' and old->>'sha256' <> new->>'sha256'")" 1
}

@test "the clock file used for the boundary is not left behind" {
	mkdir -p "$BATS_TEST_TMPDIR/one"
	cp "$D/openai/gpt-4o-mini.json" "$BATS_TEST_TMPDIR/one/"
	run "$MREG" import-dir --source one --format json "$BATS_TEST_TMPDIR/one"
	assert_success
	assert_equal "$(summary scanned)" 1
	run ls -A "$BATS_TEST_TMPDIR/one"
	assert_output gpt-4o-mini.json
}
