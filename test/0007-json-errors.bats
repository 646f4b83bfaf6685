#!/usr/bin/env bats
# 0007: errors as data.  With -o/--format json (or ndjson) a failing
# command prints exactly one JSON object on stdout, the error object of
# man/schema/error.schema.json, besides its message on stderr, and exits
# with its status; import-dir's summary lists its rejected files instead;
# the dry runs of import-dir and bulk-update list their changes.

load helpers
load import-helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	"$MREG" import-dir --quiet --source samples "$SAMPLES"
}
teardown_file() { db_drop; }

VALID="$MREG_SOURCE_ROOT/test/json-valid"
DEAD="host=/nonexistent/mreg-no-server"

# one_error STATUS COMMAND TEXT...: the last run printed, on stdout, one
# line holding one JSON object, valid against error.schema.json, naming
# COMMAND and STATUS, its message containing each TEXT; the status is
# STATUS and stderr says the same.
one_error() {
	local status=$1 command=$2 msg text
	shift 2
	assert_equal "$status" "$status"
	[ -n "$output" ] || fail "nothing on stdout (stderr: $stderr)"
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 1
	assert_equal "$(jq -s length <<<"$output")" 1
	"$VALID" error <<<"$output"
	assert_equal "$(jq -r .command <<<"$output")" "$command"
	assert_equal "$(jq -r .exit_code <<<"$output")" "$status"
	msg=$(jq -r .error.message <<<"$output")
	for text in "$@"; do
		[[ $msg == *"$text"* ]] || fail "message \"$msg\" does not name \"$text\""
	done
	[[ $stderr == *"mreg $command: "*"${1:-}"* ]] || fail "stderr: $stderr"
}

@test "list: a dead database, -o json and -o ndjson: one error object each" {
	run --separate-stderr "$MREG" list -d "$DEAD" -o json
	one_error 1 list "could not connect"
	assert_equal "$(jq -r .error.sqlstate <<<"$output")" 08006
	run --separate-stderr "$MREG" list -d "$DEAD" -o ndjson
	one_error 1 list "could not connect"
	# a table stays a table: stdout stays empty
	run --separate-stderr "$MREG" list -d "$DEAD" -o table
	assert_failure 1
	assert_output ""
}

@test "list: a usage error is an object when -o json is anywhere on the line" {
	run --separate-stderr "$MREG" list -o json --bogus
	one_error 2 list "unknown option '--bogus'"
	assert_equal "$(jq -r .error.hint <<<"$output")" "Try 'mreg list --help' for more information."
	# after the bad option too, in every spelling getopt_long accepts
	for fmt in "-o json" "-ojson" "--format json" "--format=json" "--form=ndjson"; do
		# shellcheck disable=SC2086
		run --separate-stderr "$MREG" list --bogus $fmt
		one_error 2 list "unknown option '--bogus'"
	done
	# the last format wins; the value of another option is not a format
	run --separate-stderr "$MREG" list -o json -o table --bogus
	assert_failure 2
	assert_output ""
	run --separate-stderr "$MREG" list --type -o json --bogus
	assert_failure 2
	assert_output ""
	run --separate-stderr "$MREG" list --bogus -- -o json
	assert_failure 2
	assert_output ""
}

@test "list: an unknown type is exit 3, with its hint" {
	run --separate-stderr "$MREG" list --type embeding -o json
	one_error 3 list 'unknown type "embeding"'
	assert_equal "$(jq -r .error.hint <<<"$output")" 'did you mean "embedding"?'
}

@test "search: an empty query (usage) and a dead database" {
	run --separate-stderr "$MREG" search -o json ""
	one_error 2 search "empty QUERY"
	run --separate-stderr "$MREG" search -d "$DEAD" -o ndjson embed
	one_error 1 search "could not connect"
}

@test "show: an unknown model is exit 3, named, with the suggestion as hint" {
	run --separate-stderr "$MREG" show -o json openai/gpt-4o-mni
	one_error 3 show 'unknown model "openai/gpt-4o-mni"'
	assert_equal "$(jq -r .error.hint <<<"$output")" 'did you mean "openai/gpt-4o-mini", "openai/gpt-4o"?'
	run --separate-stderr "$MREG" show -o json not-a-model-name
	one_error 2 show
}

@test "default: an unknown type under -o json" {
	run --separate-stderr "$MREG" default -o json no-such-type
	one_error 3 default "no-such-type"
}

@test "set-default: an unknown model under -o json" {
	run --separate-stderr "$MREG" set-default -o json openai/no-such-model
	one_error 3 set-default 'unknown model "openai/no-such-model"'
}

@test "migrate and migrate status: usage error, dead database" {
	run --separate-stderr "$MREG" migrate --bogus --format json
	one_error 2 migrate "unknown option '--bogus'"
	run --separate-stderr "$MREG" migrate status -d "$DEAD" --format json
	one_error 1 migrate "could not connect"
	# pending migrations are a result, not an error: its own JSON only
	run --separate-stderr "$MREG" migrate status --format json --exit-code
	assert_success
	assert_equal "$(jq -s length <<<"$output")" 1
}

@test "bench: a dead database and a bad option value" {
	run --separate-stderr "$MREG" bench -d "$DEAD" --transactions 1 --format json
	one_error 1 bench "could not connect"
	run --separate-stderr "$MREG" bench --clients 0 --format json
	one_error 2 bench "invalid number '0'"
}

@test "import-dir: no such database, no such directory, bad option value" {
	run --separate-stderr env PGDATABASE=nosuchdb "$MREG" import-dir --format json "$SAMPLES"
	one_error 1 import-dir 'database "nosuchdb" does not exist'
	run --separate-stderr "$MREG" import-dir --format json "$BATS_TEST_TMPDIR/none"
	one_error 3 import-dir "could not open directory \"$BATS_TEST_TMPDIR/none\""
	run --separate-stderr "$MREG" import-dir --jobs 0 --format json "$SAMPLES"
	one_error 2 import-dir "--jobs"
}

@test "import-dir: the lock held is exit 4 with the holder as detail and --wait as hint" {
	src=$(cd "$SAMPLES" && pwd -P)
	hold_source_lock "$src" lock-holder-0007
	run --separate-stderr "$MREG" import-dir --format json "$SAMPLES"
	q "select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'lock-holder-0007'" >/dev/null
	wait "$holder" || true
	one_error 4 import-dir "another import of \"$src\" is running"
	[[ $(jq -r .error.detail <<<"$output") == "Held by pid "*"(lock-holder-0007)"* ]]
	assert_equal "$(jq -r .error.hint <<<"$output")" "Use --wait to wait for it to finish."
}

@test "import-dir: two bad files are both in the summary's failures, with line and column" {
	d=$BATS_TEST_TMPDIR/tree
	mkdir -p "$d/x"
	printf '{"provider": "x", "name": "a", "type": "llm"}\n' >"$d/x/good.json"
	printf '{\n  "provider": "x",\n  "name": \n' >"$d/x/bad1.json"
	printf '{"provider": "x", "name": "b", "type": "llm",, }\n' >"$d/x/bad2.json"
	run --separate-stderr "$MREG" import-dir --source t0007-bad --format json "$d"
	assert_failure 3
	# one object: the summary, not a second error object after it
	assert_equal "$(printf '%s\n' "$output" | wc -l)" 1
	"$VALID" import-dir <<<"$output"
	assert_equal "$(jq -c '[.command, .ok, .exit_code, .added, .failed]' <<<"$output")" '["import-dir",false,3,1,2]'
	assert_equal "$(jq -c '[.failures[] | [.file, .line, .column]] | sort' <<<"$output")" \
		"[[\"$d/x/bad1.json\",4,1],[\"$d/x/bad2.json\",1,46]]"
	assert_equal "$(jq -r '.failures[] | select(.file | endswith("bad2.json")) | .message' <<<"$output")" \
		"string or '}' expected near ','"
	assert_equal "$(jq 'has("changes")' <<<"$output")" false
	# and stderr names them as before
	[[ $stderr == *"mreg import-dir: $d/x/bad1.json:4:1: "* ]]
	[[ $stderr == *"mreg import-dir: $d/x/bad2.json:1:46: "* ]]
	# a clean run: ok, exit 0, no failures
	rm "$d"/x/bad*.json
	run --separate-stderr "$MREG" import-dir --source t0007-bad --format json "$d"
	assert_success
	"$VALID" import-dir <<<"$output"
	assert_equal "$(jq -c '[.ok, .exit_code, .failures]' <<<"$output")" '[true,0,[]]'
	[[ $(jq '.duration_s | type' <<<"$output") == '"number"' ]]
}

@test "import-dir --dry-run lists what it would add, update and prune" {
	d=$BATS_TEST_TMPDIR/dry
	mkdir -p "$d"
	printf '{"provider": "dry", "name": "keep", "type": "llm"}\n' >"$d/keep.json"
	printf '{"provider": "dry", "name": "gone", "type": "llm"}\n' >"$d/gone.json"
	"$MREG" import-dir --quiet --source t0007-dry "$d"
	printf '{"provider": "dry", "name": "keep", "type": "llm", "version": "2"}\n' >"$d/keep.json"
	printf '{"provider": "dry", "name": "new", "type": "llm"}\n' >"$d/new.json"
	rm "$d/gone.json"
	run --separate-stderr "$MREG" import-dir --source t0007-dry --prune --dry-run --format json "$d"
	assert_success
	"$VALID" import-dir <<<"$output"
	assert_equal "$(jq -c '[.dry_run, .added, .updated, .pruned]' <<<"$output")" '[true,1,1,1]'
	assert_equal "$(jq -c '[.changes[] | [.action, .model, .file]] | sort' <<<"$output")" \
		"[[\"add\",\"dry/new\",\"$d/new.json\"],[\"prune\",\"dry/gone\",\"$d/gone.json\"],[\"update\",\"dry/keep\",\"$d/keep.json\"]]"
	# the text form lists the same three
	run --separate-stderr "$MREG" import-dir --source t0007-dry --prune --dry-run "$d"
	assert_success
	assert_line "would add models/dry/new ($d/new.json)"
	assert_line "would update models/dry/keep ($d/keep.json)"
	assert_line "would deactivate models/dry/gone ($d/gone.json gone)"
	# nothing was written
	assert_equal "$(q "select count(*) from mreg.models m join mreg.providers p on p.id = m.provider_id where p.name = 'dry' and m.active")" 2
}

@test "bulk-update: malformed input names file, line and column; an unknown model is exit 3" {
	f=$BATS_TEST_TMPDIR/bad.ndjson
	printf '{"model": "openai/gpt-4o", "set": {"active": true}}\n{"model": "openai/gpt-4o",\n' >"$f"
	run --separate-stderr "$MREG" bulk-update --format json "$f"
	one_error 3 bulk-update "malformed JSON"
	assert_equal "$(jq -c '.error | [.file, .line, .column]' <<<"$output")" "[\"$f\",2,26]"
	[[ $(jq -r .error.hint <<<"$output") == *NDJSON* ]]
	printf '{"model": "openai/no-such-model", "set": {"active": true}}\n' >"$f"
	run --separate-stderr "$MREG" bulk-update --format json "$f"
	one_error 3 bulk-update "openai/no-such-model"
	run --separate-stderr "$MREG" bulk-update -d "$DEAD" --format json "$f"
	one_error 1 bulk-update "could not connect"
	run --separate-stderr "$MREG" bulk-update --format json "$BATS_TEST_TMPDIR/none.ndjson"
	one_error 1 bulk-update "could not open \"$BATS_TEST_TMPDIR/none.ndjson\""
}

@test "bulk-update: the summary and the dry run's changes follow the schema" {
	f=$BATS_TEST_TMPDIR/ok.ndjson
	printf '{"model": "openai/gpt-4o", "set": {"description": "d0007", "config_merge": {"t": 0.35}}}\n' >"$f"
	run --separate-stderr "$MREG" bulk-update --dry-run --format json "$f"
	assert_success
	"$VALID" bulk-update <<<"$output"
	assert_equal "$(jq -c '[.command, .ok, .exit_code, .dry_run, .items_read, .changed]' <<<"$output")" '["bulk-update",true,0,true,1,1]'
	assert_equal "$(jq -c '[.changes[] | [.model, .field, .new]]' <<<"$output")" \
		"[[\"openai/gpt-4o\",\"config\",$(q "select (config || '{\"t\": 0.35}')::text from mreg.models where name = 'gpt-4o'" | jq -c .)],[\"openai/gpt-4o\",\"description\",\"d0007\"]]"
	run --separate-stderr "$MREG" bulk-update --format json "$f"
	assert_success
	"$VALID" bulk-update <<<"$output"
	assert_equal "$(jq -c '[.dry_run, has("changes"), .changed]' <<<"$output")" '[false,false,1]'
}
