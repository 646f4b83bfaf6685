#!/usr/bin/env bats
# 7003 point in time: default --at, list defaults --at and show --at give
# exactly the state of every step of a scripted sequence (an import, a
# bulk-update, two set-defaults, a psql UPDATE, a psql DELETE), read from
# the audit log the database writes; restore puts a model back; bad --at.

load helpers
bats_require_minimum_version 1.5.0

# the models each step's state is taken of
MODELS="openai/gpt-4o openai/o3-mini openai/text-embedding-3-small cohere/embed-english-v3.0"
STATE="$BATS_FILE_TMPDIR/states"

# snap STEP: the instant just after the step (clock_timestamp(), after
# its commit) and what the commands print now, one file per output
snap() {
	local d="$STATE/$1" m
	mkdir -p "$d"
	q "SELECT clock_timestamp()" >"$d/at"
	for t in embedding llm; do
		"$MREG" default "$t" -o json >"$d/default-$t" 2>/dev/null || echo "exit $?" >"$d/default-$t"
		"$MREG" default "$t" >"$d/default-$t.text" 2>/dev/null || echo "exit $?" >"$d/default-$t.text"
	done
	"$MREG" list defaults -o json >"$d/defaults"
	for m in $MODELS; do
		"$MREG" show "$m" -o json >"$d/show-${m//\//_}" 2>/dev/null || echo "exit $?" >"$d/show-${m//\//_}"
	done
	echo "$1" >>"$STATE/steps"
}

# norm FILE [JQ-PATHS]: JSON without what is allowed to differ
# (updated_at, at, and JQ-PATHS), keys sorted; "exit N" lines as they are
norm() {
	if grep -q '^exit ' "$1"; then cat "$1"; return; fi
	jq -S -c "del(.at) | del(.updated_at${2:+, $2}) |
		if has(\"items\") then .items |= map(del(.updated_at)) else . end" "$1"
}

setup_file() {
	db_create_migrated
	local tree="$BATS_FILE_TMPDIR/tree"
	mkdir -p "$tree" "$STATE"
	cp -r "$MREG_SOURCE_ROOT/test/data/models/openai" "$MREG_SOURCE_ROOT/test/data/models/cohere" "$tree/"
	snap 0-empty
	"$MREG" import-dir -q --source pit "$tree" >/dev/null
	snap 1-import
	printf '%s\n' '{"model": "openai/gpt-4o", "set": {"description": "bulk", "tags": ["chat", "bulk"]}}' \
		'{"model": "openai/o3-mini", "set": {"version": "9"}}' >"$BATS_FILE_TMPDIR/batch.ndjson"
	"$MREG" bulk-update "$BATS_FILE_TMPDIR/batch.ndjson" >/dev/null
	snap 2-bulk
	"$MREG" set-default -q openai/text-embedding-3-small
	"$MREG" set-default -q openai/gpt-4o
	snap 3-set-default
	"$MREG" set-default -q cohere/embed-english-v3.0
	snap 4-set-default-again
	q "UPDATE mreg.models SET description = 'psql edit', config = '{\"x\": 0.35}',
	     tags = '{}' WHERE name = 'gpt-4o'"
	snap 5-psql-update
	q "DELETE FROM mreg.models WHERE name = 'o3-mini'"
	snap 6-psql-delete
}
teardown_file() { db_drop; }

# check STEP NAME ARGS...: mreg ARGS... --at (the step's instant) prints
# what the step's snapshot NAME holds ($SKIP: more jq paths to leave out)
check() {
	local d="$STATE/$1" name=$2 at got
	shift 2
	at=$(cat "$d/at")
	got="$BATS_TEST_TMPDIR/got"
	"$MREG" "$@" --at "$at" >"$got" 2>"$BATS_TEST_TMPDIR/err" || echo "exit $?" >"$got"
	if [ "$(norm "$got" "${SKIP:-}")" != "$(norm "$d/$name" "${SKIP:-}")" ]; then
		echo "step $1: mreg $* --at $at differs from what it printed then:" >&2
		diff <(norm "$d/$name" | jq . 2>/dev/null || norm "$d/$name") \
			<(norm "$got" | jq . 2>/dev/null || norm "$got") >&2 || true
		cat "$BATS_TEST_TMPDIR/err" >&2
		return 1
	fi
}

@test "the sequence's steps changed what they should (the checks below compare something)" {
	# the steps differ from one another, so a command that ignores --at fails
	[ "$(cat "$STATE/0-empty/default-embedding")" = "exit 3" ]
	[ "$(jq -r .model "$STATE/3-set-default/default-embedding")" = openai/text-embedding-3-small ]
	[ "$(jq -r .model "$STATE/4-set-default-again/default-embedding")" = cohere/embed-english-v3.0 ]
	[ "$(jq -r .description "$STATE/2-bulk/show-openai_gpt-4o")" = bulk ]
	[ "$(jq -r .description "$STATE/5-psql-update/show-openai_gpt-4o")" = "psql edit" ]
	[ "$(cat "$STATE/6-psql-delete/show-openai_o3-mini")" = "exit 3" ]
	[ "$(wc -l <"$STATE/steps")" -eq 7 ]
}

@test "default --at gives every step's default (json and text)" {
	while read -r step; do
		check "$step" default-embedding default embedding -o json
		check "$step" default-llm default llm -o json
		check "$step" default-embedding.text default embedding
		check "$step" default-llm.text default llm
	done <"$STATE/steps"
}

@test "list defaults --at gives every step's defaults" {
	while read -r step; do
		check "$step" defaults list defaults -o json
	done <"$STATE/steps"
}

@test "list defaults --at pages by type like list defaults, with a count" {
	at=$(cat "$STATE/4-set-default-again/at")
	run --separate-stderr "$MREG" list defaults -o json --at "$at" --limit 1 --count
	assert_success
	[ "$(jq -c '[.items[].type, .count]' <<<"$output")" = '["embedding",2]' ]
	next=$(jq -r .next <<<"$output")
	run --separate-stderr "$MREG" list defaults -o json --at "$at" --after "$next"
	assert_success
	[ "$(jq -c '[.items[].type, .next]' <<<"$output")" = '["llm",null]' ]
}

@test "show --at gives every step's model: fields, artifacts, default, audit" {
	local m
	while read -r step; do
		for m in $MODELS; do
			# a model deleted since has no row to say when it was
			# created: its first audit row's time stands in (the
			# audit keeps no created_at), a moment after
			SKIP=
			[ "$m" != openai/o3-mini ] || SKIP=.created_at
			SKIP=$SKIP check "$step" "show-${m//\//_}" show "$m" -o json
		done
	done <"$STATE/steps"
}

@test "--at JSON says the instant answered; a time in the future is now" {
	at=$(cat "$STATE/3-set-default/at")
	run --separate-stderr "$MREG" default embedding -o json --at "$at"
	assert_success
	want=$(q "SELECT to_char('$at'::timestamptz AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
	[ "$(jq -r .at <<<"$output")" = "$want" ]
	run --separate-stderr "$MREG" list defaults -o json --at "$at"
	[ "$(jq -r .at <<<"$output")" = "$want" ]
	run --separate-stderr "$MREG" show openai/gpt-4o -o json --at "$at"
	[ "$(jq -r .at <<<"$output")" = "$want" ]
	before=$(q "SELECT clock_timestamp()")
	run --separate-stderr "$MREG" default embedding -o json --at 9999-01-01T00:00:00Z
	assert_success
	[ "$(jq -r .model <<<"$output")" = cohere/embed-english-v3.0 ]
	got=$(jq -r .at <<<"$output")
	[ "$(q "SELECT '$got'::timestamptz >= '$before'::timestamptz AND '$got'::timestamptz <= clock_timestamp()")" = t ]
}

@test "show --at TIME prints the table view too, with an at line" {
	run --separate-stderr "$MREG" show openai/gpt-4o --at "$(cat "$STATE/2-bulk/at")"
	assert_success
	assert_line --regexp '^description: +bulk$'
	assert_line --regexp '^at: +[0-9]{4}-'
}

@test "--at before the first audit row: no history before it (exit 3)" {
	oldest=$(q "SELECT to_char(min(logged_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"') FROM mreg.audit_log")
	for cmd in "default embedding" "list defaults" "show openai/gpt-4o" "restore openai/gpt-4o"; do
		run --separate-stderr "$MREG" $cmd --at 2001-01-01
		[ "$status" -eq 3 ]
		[ "$stderr" = "mreg ${cmd%% *}: no history before $oldest" ]
		[ -z "$output" ]
	done
	run --separate-stderr "$MREG" default embedding --at 2001-01-01 -o json
	[ "$status" -eq 3 ]
	[ "$(jq -r .error.message <<<"$output")" = "no history before $oldest" ]
}

@test "an invalid --at is a usage error with timeparse's message (exit 2)" {
	for cmd in "default embedding" "list defaults" "show openai/gpt-4o" "restore openai/gpt-4o"; do
		run --separate-stderr "$MREG" $cmd --at yesterday
		[ "$status" -eq 2 ]
		assert_equal "${stderr%%$'\n'*}" "mreg ${cmd%% *}: --at: invalid time \"yesterday\": expected a duration such as 2h or an ISO-8601 timestamp"
		run --separate-stderr "$MREG" $cmd --at 2026-13-01
		[ "$status" -eq 2 ]
		[[ "${stderr%%$'\n'*}" == "mreg ${cmd%% *}: --at: invalid time \"2026-13-01\": month 13 is out of range (01-12)" ]]
	done
	run --separate-stderr "$MREG" list models --at 2h
	[ "$status" -eq 2 ]
	[[ "$stderr" == *"--at goes with 'list defaults'"* ]]
}

@test "--at names the model as it was: unknown then is exit 3" {
	run --separate-stderr "$MREG" show openai/o3-mini --at "$(cat "$STATE/0-empty/at")"
	[ "$status" -eq 3 ]
	[[ "$stderr" == "mreg show: no model \"openai/o3-mini\" at "* ]]
	# deleted now, but there then
	run --separate-stderr "$MREG" show openai/o3-mini -o json --at "$(cat "$STATE/5-psql-update/at")"
	assert_success
	[ "$(jq -r .version <<<"$output")" = 9 ]
	run --separate-stderr "$MREG" default llm --at "$(cat "$STATE/2-bulk/at")"
	[ "$status" -eq 3 ]
	[[ "$stderr" == "mreg default: type \"llm\" had no default model at "* ]]
}

@test "the --at reads are index probes, never a scan of the log" {
	at=$(cat "$STATE/4-set-default-again/at")
	# the planner would scan a log this small: forbid it, so a plan
	# without an index path would still show "Seq Scan"
	PGOPTIONS="$PGOPTIONS -c enable_seqscan=off" \
		run --separate-stderr "$MREG" list defaults --explain --at "$at"
	assert_success
	[[ "$output" != *'"Seq Scan"'* ]] || { echo "$output" >&2; false; }
	[[ "$output" == *'audit_log_resource_idx'* ]]
}

@test "the --at JSON is valid against its schemas (mreg-json(7))" {
	at=$(cat "$STATE/4-set-default-again/at")
	valid() {
		local schema=$1
		shift
		run --separate-stderr "$MREG" "$@"
		assert_success
		"$MREG_SOURCE_ROOT/test/json-valid" "$schema" <<<"$output"
	}
	valid default-at default embedding -o json --at "$at"
	valid list-defaults list defaults -o json --at "$at"
	valid show show openai/gpt-4o -o json --at "$at"
	valid show show openai/o3-mini -o json --at "$at"
	# and the check can fail: a plain default has no "at"
	run --separate-stderr "$MREG" default embedding -o json
	run "$MREG_SOURCE_ROOT/test/json-valid" default-at <<<"$output"
	assert_failure
}
