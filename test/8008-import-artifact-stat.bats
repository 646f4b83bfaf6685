#!/usr/bin/env bats
# 8008: import-dir records each artifact's stat in the content-hash cache,
# so an artifact changed or deleted behind the import's back is noticed by
# the next plain import, without --rehash (issue 14)

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
}

teardown_file() {
	db_drop
}

# A model listing two artifacts and one listing none, all older than the
# racy window, imported once (trusted from then on): source t<N>.
setup() {
	B="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$B/m/sub"
	echo '{"name": "m", "provider": "p", "type": "llm", "artifacts": ["w.bin", "sub/v.txt"]}' >"$B/m/m.json"
	echo weights >"$B/m/w.bin"
	echo vocab >"$B/m/sub/v.txt"
	echo '{"name": "n", "provider": "p", "type": "embedding"}' >"$B/n.json"
	touch -d '2 minutes ago' "$B/m/m.json" "$B/m/w.bin" "$B/m/sub/v.txt" "$B/n.json"
	wait_past_racy "$B"
	import_tree
	assert_success
}

art() { # the recorded size and sha256 of artifact $1 of p/m
	q "select a.size || ' ' || a.sha256 from mreg.artifacts a join mreg.models m on m.id = a.model_id where m.name = 'm' and a.path = '$1'"
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

@test "each artifact's stat is recorded with its model file, not racy once old" {
	run q "select jsonb_array_length(artifacts), artifacts->1->>'path', artifacts->1->>'size', artifacts->1->>'inode', artifacts->1->>'mtime_ns', artifacts->1->>'ctime_ns', artifacts->1->>'racy' from mreg.source_files where source = 't$BATS_TEST_NUMBER' and path = 'm/m.json'"
	a="$B/m/sub/v.txt"
	assert_output "2|sub/v.txt|6|$(stat -c %i "$a")|$(stat -c %.9Y "$a" | tr -d .)|$(stat -c %.9Z "$a" | tr -d .)|false"
	assert_equal "$(q "select artifacts from mreg.source_files where source = 't$BATS_TEST_NUMBER' and path = 'n.json'")" '[]'
	# nothing changed: nothing read, the artifacts' stat taken only
	import_tree
	assert_success
	assert_equal "$(summary hashed) $(summary unchanged)" "0 2"
}

@test "an artifact rewritten behind the import's back, same size, mtime set back: re-hashed by the next plain import" {
	a="$B/m/sub/v.txt"
	mtime=$(stat -c %.9Y "$a")
	echo vocaX >"$a"
	touch -d "@$mtime" "$a"
	assert_equal "$(stat -c '%.9Y %s' "$a")" "$mtime 6"
	import_tree
	assert_success
	assert_equal "$(summary hashed) $(summary updated)" "1 1"
	assert_equal "$(art sub/v.txt)" "6 $(sha "$a")"
	assert_equal "$(art w.bin)" "8 $(sha "$B/m/w.bin")"
	assert_equal "$(q "select artifacts->1->>'sha256' from mreg.source_files where source = 't$BATS_TEST_NUMBER' and path = 'm/m.json'")" "$(sha "$a")"
}

@test "racy window: an artifact changed just now is hashed again until it is old" {
	a="$B/m/w.bin"
	echo weightZ >"$a"
	# an mtime in the future is inside the window for sure
	touch -d '+1 hour' "$a"
	import_tree
	assert_success
	assert_equal "$(summary hashed) $(summary updated)" "1 1"
	assert_equal "$(q "select artifacts->0->>'racy' from mreg.source_files where source = 't$BATS_TEST_NUMBER' and path = 'm/m.json'")" true
	# recorded racy: read again although its stat did not move
	import_tree
	assert_success
	assert_equal "$(summary hashed) $(summary updated)" "1 0"
	touch -d '2 minutes ago' "$a"
	wait_past_racy "$B"
	import_tree
	assert_equal "$(summary hashed) $(summary updated)" "1 0"
	assert_equal "$(q "select artifacts->0->>'racy' from mreg.source_files where source = 't$BATS_TEST_NUMBER' and path = 'm/m.json'")" false
	import_tree
	assert_success
	assert_equal "$(summary hashed)" 0
}

@test "an artifact touched, same bytes: read again, nothing updated, nothing audited" {
	audit=$(q 'select count(*) from mreg.audit_log')
	touch -d '1 minute ago' "$B/m/w.bin"
	wait_past_racy "$B"
	import_tree
	assert_success
	assert_equal "$(summary hashed) $(summary updated)" "1 0"
	assert_equal "$(q 'select count(*) from mreg.audit_log')" "$audit"
	import_tree
	assert_equal "$(summary hashed)" 0
}

@test "a deleted artifact is a bad file; the model keeps its last recorded artifacts" {
	rec=$(art w.bin)
	rm "$B/m/w.bin"
	import_tree --prune
	assert_failure 3
	assert_equal "$(summary failed) $(summary pruned)" "1 0"
	[[ $stderr == *"$B/m/m.json: key 'artifacts': \"w.bin\": could not open: No such file or directory"* ]]
	assert_equal "$(art w.bin)" "$rec"
	assert_equal "$(q "select active from mreg.models where name = 'm'")" t
	# reported again by every run until it is back
	import_tree
	assert_failure 3
	echo weights >"$B/m/w.bin"
	import_tree
	assert_success
	assert_equal "$(summary updated)" 0
}

@test "a cache row recorded before the artifact column: read once, then trusted" {
	q "update mreg.source_files set artifacts = null where source = 't$BATS_TEST_NUMBER'"
	import_tree
	assert_success
	# the model with artifacts is read to learn them; the one without too
	assert_equal "$(summary hashed) $(summary updated)" "2 0"
	assert_equal "$(q "select count(*) from mreg.source_files where source = 't$BATS_TEST_NUMBER' and artifacts is null")" 0
	import_tree
	assert_equal "$(summary hashed)" 0
}

@test "--dry-run: the model of a changed artifact is listed, nothing written" {
	echo weightZ >"$B/m/w.bin"
	rec=$(art w.bin)
	import_tree --dry-run
	assert_success
	assert_equal "$(jq -c '.changes' <<<"$output")" '[{"file":"'"$B"'/m/m.json","model":"p/m","action":"update"}]'
	assert_equal "$(art w.bin)" "$rec"
}
