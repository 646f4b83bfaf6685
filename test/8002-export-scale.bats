#!/usr/bin/env bats
# 8002: the export round trip on 10,000 models with awkward names and
# values (test/gen-awkward-models): / : @ % \ " and spaces, leading dots,
# "..", case pairs, NFC/NFD pairs, CJK, emoji, 200-character names, names
# ending in .d and .json, exact decimals, inactive models, artifacts.
# Kept cheap: the generated tree is imported once; its export is imported
# onto that registry and into an empty one, which is exported again.

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

N=10000

setup_file() {
	db_create_migrated
	"$MREG_SOURCE_ROOT/test/gen-awkward-models" "$BATS_FILE_TMPDIR/gen" "$N"
	"$MREG" import-dir --quiet "$BATS_FILE_TMPDIR/gen"
}

teardown_file() {
	db_drop_second
	db_drop
}

@test "10,000 awkward names: export, import into an empty registry, export again: the same bytes; onto the origin: 0 added, 0 updated" {
	e1="$BATS_TEST_TMPDIR/e1" e2="$BATS_TEST_TMPDIR/e2"
	[ "$(q 'SELECT count(*) FROM mreg.models')" = "$N" ]
	run -0 "$MREG" export --all -o json "$e1"
	[ "$(summary written)" = "$N" ]
	# one file per model, whatever the filesystem folds: no capital, no
	# non-ASCII byte, no hidden component, no component over 255 bytes
	[ "$(find "$e1" -type f -name '*.json' | wc -l)" = "$N" ]
	run -0 bash -c "cd '$e1' && find . -mindepth 1 ! -name .mreg-export | LC_ALL=C grep -v '^\./[a-z0-9._%/-]*$' || true"
	assert_output ''
	run -0 bash -c "cd '$e1' && find . -mindepth 1 -name '.*' ! -name .mreg-export"
	assert_output ''
	run -0 bash -c "cd '$e1' && find . | tr / '\n' | awk 'length > 255' | head -3"
	assert_output ''
	[ -n "$(find "$e1" -type d -name '*.d' | head -1)" ]   # long names were cut
	# onto the registry it came from: nothing to do
	run -0 "$MREG" import-dir -o json "$e1"
	[ "$(summary added)" = 0 ]
	[ "$(summary updated)" = 0 ]
	[ "$(summary failed)" = 0 ]
	# into an empty registry, and out again: byte for byte
	local b
	b=$(db_create_second)
	run -0 env PGDATABASE="$b" "$MREG" import-dir -o json "$e1"
	[ "$(summary added)" = "$N" ]
	[ "$(summary failed)" = 0 ]
	run -0 env PGDATABASE="$b" "$MREG" export --all "$e2"
	diff -r "$e1" "$e2"
}

@test "export -: NDJSON of every model; a reader that goes away is no error, a full disk is" {
	run -0 bash -c "'$MREG' export --all - | wc -l"
	[ "$output" = "$N" ]
	# megabytes for a pipe that holds 64 KiB: the write fails with EPIPE
	run -0 --separate-stderr bash -c "set -o pipefail; '$MREG' export --all - | head -c 100 >/dev/null"
	[ -z "$stderr" ]
	run -1 --separate-stderr bash -c "'$MREG' export --all - >/dev/full"
	[[ "$stderr" == *"mreg export: could not write to standard output: "* ]]
}
