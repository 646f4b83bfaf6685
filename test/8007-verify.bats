#!/usr/bin/env bats
# 8007: mreg verify hashes the recorded model files and artifacts again and
# reports each one that changed or vanished (issue 14)

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
}

teardown_file() {
	db_drop
}

# A tree of two models, one listing two artifacts, imported under its real
# path (the default source); that path in $S.
setup() {
	B="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$B/p/m/sub"
	echo '{"name": "m", "provider": "p", "type": "llm", "artifacts": ["w.bin", "sub/v.txt"]}' >"$B/p/m/m.json"
	echo weights >"$B/p/m/w.bin"
	echo vocab >"$B/p/m/sub/v.txt"
	echo '{"name": "n", "provider": "p", "type": "embedding"}' >"$B/p/n.json"
	"$MREG" import-dir --quiet "$B"
	S=$(realpath "$B")
}

sha() {
	sha256sum "$1" | cut -d' ' -f1
}

# verify_json [OPTION...]: the report of this test's source in $output,
# checked against its schema, messages in $stderr.
verify_json() {
	run --separate-stderr "$MREG" verify --source "$S" --format json "$@"
	"$MREG_SOURCE_ROOT/test/json-valid" verify <<<"$output"
}

@test "a clean tree: exit 0, every file and artifact counted" {
	verify_json
	assert_success
	assert_equal "$(jq -c '[.ok, .checked.files, .checked.artifacts, .drift]' <<<"$output")" '[true,2,2,[]]'
	run "$MREG" verify --source "$S"
	assert_success
	assert_output "2 files and 2 artifacts as recorded"
}

@test "a modified model file: exit 3, its path, recorded and found" {
	rec=$(sha "$B/p/n.json")
	recsize=$(stat -c %s "$B/p/n.json")
	echo '{"name": "n", "provider": "p", "type": "embedding", "version": "2"}' >"$B/p/n.json"
	verify_json
	assert_failure 3
	assert_equal "$(jq -r '.drift | length' <<<"$output")" 1
	assert_equal "$(jq -r '.drift[0] | [.status, .kind, .path, .relative, .model] | @tsv' <<<"$output")" \
		"$(printf 'changed\tfile\t%s\tp/n.json\tp/n' "$S/p/n.json")"
	assert_equal "$(jq -r '.drift[0].recorded | "\(.size) \(.sha256)"' <<<"$output")" "$recsize $rec"
	assert_equal "$(jq -r '.drift[0].found | "\(.size) \(.sha256)"' <<<"$output")" "$(stat -c %s "$B/p/n.json") $(sha "$B/p/n.json")"
	run "$MREG" verify --source "$S"
	assert_failure 3
	assert_line "changed: $S/p/n.json (model file of p/n)"
	assert_line "  recorded: $recsize bytes, sha256 $rec"
}

@test "a modified artifact, same size and mtime: changed, recorded vs found" {
	a="$B/p/m/sub/v.txt"
	rec=$(sha "$a")
	mtime=$(stat -c %.9Y "$a")
	echo vocaX >"$a"
	touch -d "@$mtime" "$a"
	verify_json
	assert_failure 3
	assert_equal "$(jq -r '.drift[] | [.status, .kind, .path, .file, .artifact, .model] | @tsv' <<<"$output")" \
		"$(printf 'changed\tartifact\t%s\tp/m/m.json\tsub/v.txt\tp/m' "$S/p/m/sub/v.txt")"
	assert_equal "$(jq -r '.drift[0] | "\(.recorded.size) \(.recorded.sha256) \(.found.size) \(.found.sha256)"' <<<"$output")" \
		"6 $rec 6 $(sha "$a")"
}

@test "a deleted artifact and a deleted model file: vanished, nothing found" {
	rm "$B/p/m/w.bin" "$B/p/n.json"
	verify_json
	assert_failure 3
	assert_equal "$(jq -r '.drift[] | [.status, .kind, .relative, (.found | tostring)] | @tsv' <<<"$output")" \
		"$(printf 'vanished\tartifact\tp/m/w.bin\tnull\nvanished\tfile\tp/n.json\tnull')"
	assert_equal "$(jq -c '[.changed, .vanished, .unreadable]' <<<"$output")" '[0,2,0]'
	run "$MREG" verify --source "$S"
	assert_failure 3
	assert_line "vanished: $S/p/m/w.bin (artifact \"w.bin\" of p/m, listed in p/m/m.json)"
	assert_line "vanished: $S/p/n.json (model file of p/n)"
	assert_line "2 files and 2 artifacts checked: 0 changed, 2 vanished, 0 unreadable"
}

@test "--jobs 1 and --jobs 4 give the same report" {
	for i in 1 2 3 4 5 6 7 8; do
		echo "{\"name\": \"x$i\", \"provider\": \"q\", \"type\": \"llm\", \"artifacts\": [\"x$i.bin\"]}" >"$B/x$i.json"
		echo "$i" >"$B/x$i.bin"
	done
	"$MREG" import-dir --quiet "$B"
	for i in 1 3 5 7; do echo changed >>"$B/x$i.bin"; done
	rm "$B/x2.bin" "$B/x4.json"
	echo '{}' >"$B/p/n.json"
	verify_json --jobs 1
	assert_failure 3
	one=$output
	verify_json --jobs 4
	assert_failure 3
	assert_equal "$output" "$one"
	assert_equal "$(jq -c '[.checked.files, .checked.artifacts, .changed, .vanished]' <<<"$one")" '[10,10,5,2]'
	run "$MREG" verify --source "$S" -j 1
	text=$output
	run "$MREG" verify --source "$S" -j 4
	assert_equal "$output" "$text"
}

@test "a file that is no longer a regular file is unreadable: exit 1" {
	rm "$B/p/m/w.bin"
	mkfifo "$B/p/m/w.bin"
	verify_json
	assert_failure 1
	assert_equal "$(jq -r '.drift[0] | [.status, .relative, .error] | @tsv' <<<"$output")" \
		"$(printf 'unreadable\tp/m/w.bin\tnot a regular file (a FIFO)')"
}

@test "an artifact behind a link out of the tree: unreadable, unless --follow-external-links" {
	out="$BATS_TEST_TMPDIR/outside"
	mkdir -p "$out"
	echo far >"$out/far.bin"
	echo '{"name": "far", "provider": "p", "type": "llm", "artifacts": ["far.bin"]}' >"$B/far.json"
	ln -s "$out/far.bin" "$B/far.bin"
	"$MREG" import-dir --quiet --follow-external-links "$B"
	verify_json
	assert_failure 1
	assert_equal "$(jq -r '.drift[] | [.status, .relative] | @tsv' <<<"$output")" "$(printf 'unreadable\tfar.bin')"
	[[ $(jq -r '.drift[0].error' <<<"$output") == *"symbolic link leads outside the tree"* ]]
	verify_json --follow-external-links
	assert_success
	echo farther >"$out/far.bin"
	verify_json --follow-external-links
	assert_failure 3
	assert_equal "$(jq -r '.drift[] | [.status, .relative] | @tsv' <<<"$output")" "$(printf 'changed\tfar.bin')"
}

@test "verify writes nothing" {
	echo changed >>"$B/p/m/w.bin"
	before=$(q "select md5(string_agg(t::text, ',' order by t::text)) from (select s::text from mreg.source_files s union all select a::text from mreg.artifacts a union all select l::text from mreg.audit_log l) t")
	run "$MREG" verify --source "$S"
	assert_failure 3
	assert_equal "$(q "select md5(string_agg(t::text, ',' order by t::text)) from (select s::text from mreg.source_files s union all select a::text from mreg.artifacts a union all select l::text from mreg.audit_log l) t")" "$before"
	# and the tree: no clock file, nothing touched
	assert_equal "$(find "$B" -newer "$B/p/m/w.bin" | wc -l)" 0
}

@test "a source named at import: skipped with a note, or verified under --root" {
	"$MREG" import-dir --quiet --source team "$B"
	# every source: the earlier tests' trees are left out
	q "delete from mreg.source_files where source not in ('team', \$\$$S\$\$)"
	run --separate-stderr "$MREG" verify --format json
	assert_success
	assert_equal "$(jq -c '[.sources[] | select(.source == "team") | .skipped, .named, .root]' <<<"$output")" '[true,true,null]'
	[[ $stderr == *'source "team" skipped: it was named at import'*"--source 'team' --root DIR"* ]]
	run --separate-stderr "$MREG" verify --source team
	assert_failure 2
	assert_equal "$stderr" "$(printf '%s\n%s' 'mreg verify: source "team" was named at import: it has no tree on record' 'HINT: Say where it is with --root DIR.')"
	echo changed >>"$B/p/m/w.bin"
	run --separate-stderr "$MREG" verify --source team --root "$B" --format json
	assert_failure 3
	"$MREG_SOURCE_ROOT/test/json-valid" verify <<<"$output"
	assert_equal "$(jq -r '.drift[] | [.source, .status, .path] | @tsv' <<<"$output")" \
		"$(printf 'team\tchanged\t%s' "$B/p/m/w.bin")"
}

@test "a recorded tree removed whole: each of its files vanished" {
	mv "$B" "$B.moved"
	verify_json
	assert_failure 3
	assert_equal "$(jq -c '[.sources[0].gone, .vanished, ([.drift[].status] | unique)]' <<<"$output")" '[true,4,["vanished"]]'
	[[ $stderr == *"the tree of source \"$S\" no longer exists: each of its files vanished"* ]]
	# where it went: --root
	verify_json --root "$B.moved"
	assert_success
}

@test "usage and lookup errors: --root without --source, an unknown source, no database" {
	run --separate-stderr "$MREG" verify --root "$B"
	assert_failure 2
	[[ $stderr == "mreg verify: --root needs --source"* ]]
	run --separate-stderr "$MREG" verify --jobs 0
	assert_failure 2
	run --separate-stderr "$MREG" verify --source nosuch --format json
	assert_failure 3
	assert_equal "$(jq -r .error.message <<<"$output")" 'no files recorded for source "nosuch"'
	"$MREG_SOURCE_ROOT/test/json-valid" error <<<"$output"
	run --separate-stderr "$MREG" verify --source "$S" --root "$B/nosuch"
	assert_failure 1
	[[ $stderr == *"could not open the tree of source \"$S\", \"$B/nosuch\": No such file or directory"* ]]
	PGDATABASE=nosuchdb run --separate-stderr "$MREG" verify --format json
	assert_failure 1
	assert_equal "$(jq -r '[.command, .ok] | @tsv' <<<"$output")" "$(printf 'verify\tfalse')"
}
