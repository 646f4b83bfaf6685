#!/usr/bin/env bats
# 7004 restore: mreg restore PROVIDER/NAME --at TIME puts every field back
# as it was (one audited UPDATE), --dry-run writes nothing, a deleted
# model comes back with its old id, and the refusals.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	"$MREG" import-dir -q --source data "$MREG_SOURCE_ROOT/test/data/models" >/dev/null
	"$MREG" set-default -q openai/text-embedding-3-small
	"$MREG" set-default -q openai/gpt-4o
}
teardown_file() { db_drop; }

now() { q "SELECT clock_timestamp()"; }
audit_rows() { q "SELECT count(*) FROM mreg.audit_log"; }
# show MODEL: the show document without what a restore moves on
show() { "$MREG" show "$1" -o json --audit 0 | jq -S "del(.updated_at${2:+, $2})"; }

@test "restore round trip: change, restore --at, show equals the earlier show" {
	before=$(show openai/o3-mini)
	t=$(now)
	q "UPDATE mreg.models SET description = 'oops', version = 'x', tags = '{a}',
	     config = config || '{\"temperature\": 0.35}', active = false,
	     display_name = NULL WHERE name = 'o3-mini'"
	[ "$(show openai/o3-mini)" != "$before" ]
	rows=$(audit_rows)
	run --separate-stderr "$MREG" restore openai/o3-mini --at "$t" --actor restorer
	assert_success
	assert_line --index 0 --regexp '^restored openai/o3-mini as at .* \(id [0-9]+\):$'
	assert_line '  description: "oops" -> "Reasoning model tuned for science, math and code."'
	assert_line '  active: false -> true'
	[ "$(show openai/o3-mini)" = "$before" ]
	# one audited update, with the restore's context and actor
	[ "$(audit_rows)" -eq $((rows + 1)) ]
	run q "SELECT action, actor, details->>'command', details->>'at' IS NOT NULL,
	              new ? 'description', new ? 'name'
	         FROM mreg.audit_log ORDER BY id DESC LIMIT 1"
	assert_output 'model.update|restorer|restore|t|t|f'
	# numbers come back exactly as they were (no float round trip)
	run q "SELECT config ? 'temperature' FROM mreg.models WHERE name = 'o3-mini'"
	assert_output f
}

@test "restore --dry-run prints the diff and writes nothing" {
	t=$(now)
	q "UPDATE mreg.models SET config = '{\"x\": 0.35}' WHERE name = 'gpt-4o-mini'"
	rows=$(audit_rows)
	state=$(q "SELECT md5(m::text) FROM mreg.models m WHERE name = 'gpt-4o-mini'")
	run --separate-stderr "$MREG" restore openai/gpt-4o-mini --at "$t" --dry-run -o json
	assert_success
	[ "$(jq -c '[.command, .ok, .dry_run, .changed, .recreated]' <<<"$output")" = '["restore",true,true,true,false]' ]
	[ "$(jq -c '.changes.old.config' <<<"$output")" = '{"x":0.35}' ]
	# the server's number text, not a double's
	[[ "$output" == *'"x": 0.35'* ]]
	[ "$(jq -r '.changes | keys | join(",")' <<<"$output")" = new,old ]
	"$MREG_SOURCE_ROOT/test/json-valid" restore <<<"$output"
	run --separate-stderr "$MREG" restore openai/gpt-4o-mini --at "$t" --dry-run
	assert_success
	assert_line --index 0 --regexp '^would restore openai/gpt-4o-mini as at '
	assert_line --partial '  config: {"x":0.35} -> {'
	[ "$(audit_rows)" -eq "$rows" ]
	[ "$(q "SELECT md5(m::text) FROM mreg.models m WHERE name = 'gpt-4o-mini'")" = "$state" ]
}

@test "restore of a model already as it was: nothing to do (exit 0)" {
	rows=$(audit_rows)
	run --separate-stderr "$MREG" restore openai/gpt-4o --at "$(now)"
	assert_success
	assert_output --regexp '^openai/gpt-4o is already as at .*: nothing changed$'
	run --separate-stderr "$MREG" restore openai/gpt-4o --at "$(now)" -o json
	assert_success
	[ "$(jq -c '[.changed, .changes]' <<<"$output")" = '[false,null]' ]
	"$MREG_SOURCE_ROOT/test/json-valid" restore <<<"$output"
	[ "$(audit_rows)" -eq "$rows" ]
}

@test "restore of a deleted model re-creates it with its old id and artifacts" {
	id=$(q "SELECT id FROM mreg.models WHERE name = 'mistral-embed'")
	q "INSERT INTO mreg.artifacts (model_id, path, size, sha256)
	   VALUES ($id, 'weights.bin', 123, repeat('b', 64))"
	# created again, its created_at is its first audit row's time (the
	# audit keeps no other): within the transaction that created it
	before=$(show mistral/mistral-embed .created_at)
	t=$(now)
	q "DELETE FROM mreg.models WHERE id = $id"
	run --separate-stderr "$MREG" show mistral/mistral-embed
	[ "$status" -eq 3 ]
	run --separate-stderr "$MREG" restore mistral/mistral-embed --at "$t" -o json
	assert_success
	[ "$(jq -c '[.id, .recreated, .changed]' <<<"$output")" = "[$id,true,true]" ]
	[ "$(show mistral/mistral-embed .created_at)" = "$before" ]
	[ "$(jq -c .artifacts <<<"$before")" != '[]' ]
	# its history goes on under the same id: create, delete, create
	run q "SELECT string_agg(action, ',' ORDER BY id) FROM mreg.audit_log
	        WHERE model_id = $id AND action LIKE 'model.%'"
	assert_output model.create,model.delete,model.create
	# and show --at reads through the gap
	run --separate-stderr "$MREG" show mistral/mistral-embed -o json --at "$t"
	assert_success
}

@test "restore refuses to deactivate or retype the current default (exit 3)" {
	# then: text-embedding-3-large inactive, command-r-08-2024 a chat
	q "UPDATE mreg.models SET active = false WHERE name = 'text-embedding-3-large'"
	q "UPDATE mreg.models SET type = 'chat' WHERE name = 'command-r-08-2024'"
	t=$(now)
	q "UPDATE mreg.models SET active = true WHERE name = 'text-embedding-3-large'"
	"$MREG" set-default -q openai/text-embedding-3-large
	q "UPDATE mreg.models SET type = 'llm' WHERE name = 'command-r-08-2024'"
	"$MREG" set-default -q cohere/command-r-08-2024
	rows=$(audit_rows)
	run --separate-stderr "$MREG" restore openai/text-embedding-3-large --at "$t"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *'could not restore "openai/text-embedding-3-large": cannot deactivate "openai/text-embedding-3-large": it is the default model for type "embedding"'* ]]
	run --separate-stderr "$MREG" restore cohere/command-r-08-2024 --at "$t"
	[ "$status" -eq 3 ]
	[[ "$stderr" == *'could not restore "cohere/command-r-08-2024": '*'model_defaults'* ]]
	[ "$(audit_rows)" -eq "$rows" ]
	[ "$(q "SELECT active FROM mreg.models WHERE name = 'text-embedding-3-large'")" = t ]
}

@test "restore of a model that did not exist then: exit 3; usage errors: exit 2" {
	run --separate-stderr "$MREG" restore openai/no-such-model --at "$(now)"
	[ "$status" -eq 3 ]
	[[ "$stderr" == 'mreg restore: could not restore "openai/no-such-model": no model "openai/no-such-model" at '* ]]
	run --separate-stderr "$MREG" restore openai/no-such-model --at "$(now)" -o json
	[ "$status" -eq 3 ]
	[ "$(jq -r .exit_code <<<"$output")" = 3 ]
	run --separate-stderr "$MREG" restore openai/gpt-4o
	[ "$status" -eq 2 ]
	[[ "$stderr" == "mreg restore: missing --at TIME"* ]]
	run --separate-stderr "$MREG" restore --at 2h
	[ "$status" -eq 2 ]
	run --separate-stderr "$MREG" restore gpt-4o --at 2h
	[ "$status" -eq 2 ]
}
