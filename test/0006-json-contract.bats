#!/usr/bin/env bats
# 0006 JSON contract: every command's JSON output is valid against its
# schema in man/schema (mreg-json(7)), the model object is the same object
# wherever it appears, and the check itself can fail.
#
# A case is one line:
#     valid SCHEMA mreg-arguments...            (exit 0 expected)
#     valid --ndjson SCHEMA mreg-arguments...   (each line against SCHEMA)
#     valid_rc N SCHEMA mreg-arguments...       (exit N expected)

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	"$MREG" import-dir --source data -q "$MREG_SOURCE_ROOT/test/data/models" >/dev/null
	"$MREG" set-default -q openai/text-embedding-3-small
	"$MREG" set-default -q openai/gpt-4o
}
teardown_file() { db_drop; }

# valid_rc RC [--ndjson] SCHEMA ARGS...: run mreg ARGS..., expect exit RC,
# and check its standard output against man/schema/SCHEMA.schema.json
# (test/json-valid).  Says which case failed and why.
valid_rc() {
	local rc=$1 nd=()
	shift
	if [ "$1" = --ndjson ]; then
		nd=(--ndjson)
		shift
	fi
	local schema=$1
	shift
	run --separate-stderr "$MREG" "$@"
	if [ "$status" -ne "$rc" ]; then
		echo "mreg $*: exit $status, not $rc: $stderr" >&2
		return 1
	fi
	if ! "$MREG_SOURCE_ROOT/test/json-valid" "${nd[@]}" "$schema" <<<"$output"; then
		echo "mreg $*: not valid against $schema:" >&2
		echo "$output" | head -c 2000 >&2
		return 1
	fi
}

valid() {
	valid_rc 0 "$@"
}

# fresh_db: a second, empty database for this test (PGDATABASE set);
# dropped with the test's own by teardown (its name starts with ours).
fresh_db() {
	local db="${PGDATABASE}_fresh"
	psql -XAtq -d postgres -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$db\"" >/dev/null
	export PGDATABASE=$db
}

teardown() {
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"${PGDATABASE%_fresh}_fresh\" WITH (FORCE)" >/dev/null 2>&1 || true
}

@test "json-valid rejects what breaks the contract (the check can fail)" {
	local js="$MREG_SOURCE_ROOT/test/json-valid" doc
	doc=$("$MREG" show openai/gpt-4o -o json)
	"$js" show <<<"$doc"
	# an unknown key in the model object
	run "$js" model <<<"$(jq -c '{extra: 1} + (del(.artifacts, .source, .audit))' <<<"$doc")"
	assert_failure 1
	assert_output --partial "'extra' was unexpected"
	# ... in a listing row, and in show (the closed object seen through $ref)
	run "$js" list <<<"$("$MREG" list -o json | jq -c '.items[0].extra = 1')"
	assert_failure 1
	run "$js" show <<<"$(jq -c '.extra = 1' <<<"$doc")"
	assert_failure 1
	# a missing key, a timestamp of another style, a duration in ms
	run "$js" show <<<"$(jq -c 'del(.model)' <<<"$doc")"
	assert_failure 1
	run "$js" show <<<"$(jq -c '.updated_at = "2026-12-01T12:10:01Z"' <<<"$doc")"
	assert_failure 1
	assert_output --partial "does not match"
	run "$js" migrate-status <<<"$("$MREG" migrate status -o json | jq -c '.migrations[0].duration_ms = 1')"
	assert_failure 1
	# a listing without its count, a summary whose ok disagrees with exit_code
	run "$js" list <<<'{"items": [], "next": null}'
	assert_failure 1
	run "$js" summary <<<'{"command": "x", "ok": true, "exit_code": 3}'
	assert_failure 1
	run "$js" error <<<'{"command": "show", "ok": false, "exit_code": 3, "error": {"message": "m"}}'
	assert_failure 1
	run "$js" error <<<'{"command": "show", "ok": false, "exit_code": 3, "error": {"message": "m", "detail": null, "hint": null, "sqlstate": "42P01", "file": null, "line": null, "column": null}}'
	assert_success
	# not JSON at all
	run "$js" model <<<'{"model":'
	assert_failure 2
}

@test "list: models, providers, defaults and audit, json and ndjson" {
	valid list list -o json
	valid list list models --all --sort updated -o json
	valid list list --type embedding --limit 2 -o json
	valid list list --type embedding --limit 2 --count -o json
	valid list list --inactive -o json
	valid --ndjson model list -o ndjson
	valid list-providers list providers -o json
	valid list-providers list providers --limit 1 --count -o json
	valid --ndjson provider list providers -o ndjson
	valid list-defaults list defaults -o json
	valid --ndjson type-default list defaults -o ndjson
	valid list-audit list audit -o json
	valid list-audit list audit --limit 3 -o json
	valid --ndjson audit-entry list audit -o ndjson
}

@test "list: count is the total, or null when a limit cut the page short" {
	local total
	total=$(q 'SELECT count(*) FROM mreg.models WHERE active')
	run -0 "$MREG" list -o json
	assert_equal "$(jq .count <<<"$output")" "$total"
	run -0 "$MREG" list --limit 2 -o json
	assert_equal "$(jq .count <<<"$output")" null
	run -0 "$MREG" list --limit 2 --count -o json
	assert_equal "$(jq .count <<<"$output")" "$total"
	run -0 "$MREG" list --limit "$total" -o json
	assert_equal "$(jq '[.count, .next]' -c <<<"$output")" "[$total,null]"
	run -0 "$MREG" search embedding --limit 1 -o json
	assert_equal "$(jq .count <<<"$output")" null
	run -0 "$MREG" search embedding --limit 1000 -o json
	assert_equal "$(jq '.count == (.items | length) and .count > 0' <<<"$output")" true
}

@test "search, show, default, set-default" {
	valid search search embedding -o json
	valid search search nothing-matches-this-query -o json
	valid --ndjson search-result search embedding -o ndjson
	valid show show openai/gpt-4o -o json
	valid show show openai/gpt-4o --audit 0 -o json
	valid show show openai/gpt-4o -o ndjson
	valid show show local/mini-reranker@team.example -o json
	valid default default llm -o json
	valid default default embedding --format json
	valid set-default set-default openai/gpt-4o -o json
	valid set-default set-default openai/gpt-4o-mini -o json
	valid set-default set-default -q openai/gpt-4o --format json
}

@test "set-default: the summary says what changed" {
	run -0 "$MREG" set-default google/text-embedding-004 -o json
	assert_equal "$(jq -c '[.command, .ok, .exit_code, .type, .changed, .previous, .model.model, .model.default]' <<<"$output")" \
		'["set-default",true,0,"embedding",true,"openai/text-embedding-3-small","google/text-embedding-004",true]'
	run -0 "$MREG" set-default google/text-embedding-004 -o json
	assert_equal "$(jq -c '[.changed, .previous]' <<<"$output")" '[false,"google/text-embedding-004"]'
	run -0 "$MREG" set-default -q openai/text-embedding-3-small
	assert_output ""
}

@test "the same model is the same object in list, search, show, default and set-default" {
	local m=openai/gpt-4o want
	want=$("$MREG" default llm -o json | jq -S .)
	assert_equal "$(jq -r .model <<<"$want")" "$m"
	run -0 "$MREG" list --provider openai -o json
	assert_equal "$(jq -S --arg m "$m" '.items[] | select(.model == $m)' <<<"$output")" "$want"
	run -0 "$MREG" list --provider openai -o ndjson
	assert_equal "$(jq -S --arg m "$m" 'select(.model == $m)' <<<"$output")" "$want"
	run -0 "$MREG" search gpt-4o -o json
	assert_equal "$(jq -S --arg m "$m" '.items[] | select(.model == $m) | del(.score)' <<<"$output")" "$want"
	run -0 "$MREG" show "$m" -o json
	assert_equal "$(jq -S 'del(.artifacts, .source, .audit)' <<<"$output")" "$want"
	run -0 "$MREG" set-default "$m" -o json
	assert_equal "$(jq -S .model <<<"$output")" "$want"
	# every key of the model object, and nothing else, in each of them
	assert_equal "$(jq -c 'keys_unsorted' <<<"$("$MREG" default llm -o json)")" \
		'["model","id","provider","name","type","version","active","display_name","description","tags","synonyms","default","config","metadata","created_at","updated_at"]'
}

@test "timestamps: one style, six fraction digits, in every JSON output" {
	# a time with a zero microsecond part still prints six digits
	q "UPDATE mreg.models SET updated_at = '2026-01-02 03:04:05+00' WHERE name = 'gpt-4o-mini'" >/dev/null
	run -0 "$MREG" show openai/gpt-4o-mini -o json
	assert_equal "$(jq -r .updated_at <<<"$output")" 2026-01-02T03:04:05.000000Z
	run -0 "$MREG" migrate status -o json
	[[ $(jq -r '.migrations[0].applied_at' <<<"$output") =~ ^[0-9-]{10}T[0-9:]{8}\.[0-9]{6}Z$ ]]
	# every value that looks like a time, anywhere in the outputs
	local out bad
	out=$("$MREG" list --all -o json; "$MREG" list audit -o json; "$MREG" list providers -o json
	      "$MREG" list defaults -o json; "$MREG" show openai/gpt-4o -o json; "$MREG" migrate status -o json)
	bad=$(jq -r '.. | strings | select(test("^[0-9]{4}-[0-9]{2}-[0-9]{2}[T ][0-9]{2}:")) |
	      select(test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}[.][0-9]{6}Z$") | not)' <<<"$out")
	assert_equal "$bad" ""
}

@test "migrate and migrate status" {
	valid migrate migrate -o json
	valid migrate migrate --dry-run -o json
	valid migrate migrate -q --format json
	valid migrate-status migrate status -o json
	valid migrate-status migrate status --exit-code -o json
	fresh_db
	# n: the migrations this build ships (sql/NNNN_name.sql)
	n=$(cd "$MREG_SOURCE_ROOT/sql" && ls [0-9][0-9][0-9][0-9]_*.sql | wc -l)
	valid_rc 5 migrate-status migrate status --exit-code -o json
	assert_equal "$(jq -c '[.ok, .exit_code, .pending]' <<<"$output")" "[false,5,$n]"
	valid migrate migrate --dry-run -o json
	assert_equal "$(jq -c '[.dry_run, .applied, .pending, (.changes | length), (.changes[0].sql | length > 100)]' <<<"$output")" "[true,0,$n,$n,true]"
	valid migrate migrate -o json
	assert_equal "$(jq -c '[.applied, .pending, .migrations[0].name, (.migrations[0].duration_s > 0)]' <<<"$output")" "[$n,0,\"0001_initial.sql\",true]"
}

@test "migrate status --format table is the text table, not JSON" {
	run -0 "$MREG" migrate status --format table
	assert_line --index 0 --regexp '^VERSION +NAME +STATE'
	run -0 "$MREG" migrate status -o text
	assert_line --regexp '^0001 +0001_initial\.sql +applied +[0-9a-f]{12}  [0-9-]{10}T[0-9:]{8}Z '
}

@test "import-dir, bulk-update and bench: -o json is one object" {
	local d="$BATS_TEST_TMPDIR/models"
	mkdir -p "$d/acme"
	printf '{"provider": "acme", "name": "m1", "type": "llm"}\n' >"$d/acme/m1.json"
	valid import-dir import-dir --source t6 -o json "$d"
	valid import-dir import-dir --source t6 -o json --dry-run "$d"
	printf '{"model": "acme/m1", "set": {"description": "x"}}\n' >"$BATS_TEST_TMPDIR/b.ndjson"
	valid bulk-update bulk-update -o json "$BATS_TEST_TMPDIR/b.ndjson"
	valid bulk-update bulk-update -n -o json "$BATS_TEST_TMPDIR/b.ndjson"
	fresh_db
	"$MREG" migrate -q
	valid bench bench -o json --workload get-default --populate 50 --transactions 20
}

@test "-o and --format: one vocabulary (text and the old table for summaries)" {
	for f in text table; do
		run -0 "$MREG" default llm -o "$f"
		assert_output openai/gpt-4o
		run -0 "$MREG" show openai/gpt-4o -o "$f"
		assert_line --index 0 "model:        openai/gpt-4o"
		run -0 "$MREG" migrate status -o "$f"
		assert_line --index 0 --regexp '^VERSION'
	done
	run -2 "$MREG" default llm -o yaml
	assert_output --partial "--format must be text or json, not 'yaml'"
	run -2 "$MREG" set-default openai/gpt-4o -o csv
	assert_output --partial "--format must be text or json, not 'csv'"
	run -2 "$MREG" migrate -o csv
	run -2 "$MREG" show openai/gpt-4o -o yaml
	assert_output --partial "--format must be text, json, ndjson or csv"
	run -2 "$MREG" bench -o yaml
	assert_output --partial "--format must be text or json, not 'yaml'"
	# every command that prints a result takes -o
	for cmd in list search show default set-default migrate import-dir bulk-update bench; do
		"$MREG" "$cmd" --help | grep -qE '^ +-o, --format FORMAT' || { echo "$cmd: no -o" >&2; return 1; }
	done
}
