#!/usr/bin/env bats
# mreg set-default --previous TYPE: the rollback of a default, read from
# the audit log, audited as a rollback; refusals change nothing

load helpers
bats_require_minimum_version 1.5.0

A=openai/text-embedding-3-small
B=mistral/mistral-embed

setup_file() {
	db_create_migrated
	"$MREG" import-dir --source prev "$MREG_SOURCE_ROOT/test/data/models" >/dev/null
}
teardown_file() { db_drop; }

default_of() {
	q "SELECT p.name || '/' || m.name FROM mreg.model_defaults d
	     JOIN mreg.models m ON m.id = d.model_id
	     JOIN mreg.providers p ON p.id = m.provider_id WHERE d.type = '$1'"
}

# history ARGS... as CSV rows without header or CR
history_csv() {
	"$MREG" history "$@" -o csv --no-headers | tr -d '\r'
}

# everything a refusal must leave alone
state() {
	q "SELECT (SELECT count(*) FROM mreg.audit_log),
	          (SELECT string_agg(type || '=' || model_id || '@' || updated_at, ',' ORDER BY type)
	             FROM mreg.model_defaults)"
}

@test "set-default --previous: no default, then no previous default: refused, nothing changed" {
	before=$(state)
	run -3 "$MREG" set-default --previous embedding
	assert_line --index 0 'mreg set-default: could not make the previous default the default again: type "embedding" has no default'
	"$MREG" set-default "$A" >/dev/null
	before=$(state)
	run -3 "$MREG" set-default --previous embedding
	assert_line --index 0 "mreg set-default: could not make the previous default the default again: \"$A\" is the first default of type \"embedding\" (no previous default)"
	assert_line --index 1 --partial "mreg history --type embedding"
	assert_equal "$(state)" "$before"
	run -3 --separate-stderr "$MREG" set-default --previous embedding -o json
	assert_equal "$(jq -c '[.ok, .exit_code]' <<<"$output")" '[false,3]'
}

@test "set-default --previous: round trip, audited as a rollback; twice toggles" {
	"$MREG" set-default "$B" >/dev/null
	last=$(q 'SELECT max(id) FROM mreg.audit_log')
	run -0 "$MREG" set-default --actor rollie --previous embedding
	assert_output "default for type embedding: $B -> $A (rollback)"
	assert_equal "$(default_of embedding)" "$A"
	# one audit row, by the database's trigger, with the rollback context
	run -0 q "SELECT actor, action, resource, old->>'model', new->>'model', details::text
	            FROM mreg.audit_log WHERE id > $last"
	assert_output "rollie|default.set|defaults/embedding|$B|$A|{\"reason\": \"rollback\", \"command\": \"set-default\", \"rollback\": true}"
	# again: back to B; and again: A
	run -0 "$MREG" set-default --previous embedding
	assert_output "default for type embedding: $A -> $B (rollback)"
	run -0 "$MREG" set-default --previous embedding -o json
	"$MREG_SOURCE_ROOT/test/json-valid" set-default <<<"$output"
	assert_equal "$(jq -c '[.type, .changed, .previous, .rollback, .model.model, .model.default]' <<<"$output")" \
		"[\"embedding\",true,\"$B\",true,\"$A\",true]"
	assert_equal "$(default_of embedding)" "$A"
	# a plain set-default says rollback false
	run -0 "$MREG" set-default "$B" -o json
	assert_equal "$(jq -c .rollback <<<"$output")" false
	run -0 history_csv --type embedding --columns action,old,new,reason
	assert_line --index 0 "default.set,$A,$B,"
	assert_line --index 1 "default.set,$B,$A,rollback"
	assert_line --index 2 "default.set,$A,$B,rollback"
}

@test "set-default --previous: a renamed previous model is found by its id" {
	"$MREG" set-default google/text-embedding-004 >/dev/null
	"$MREG" set-default "$A" >/dev/null
	q "UPDATE mreg.models SET name = 'te-004-renamed' WHERE name = 'text-embedding-004'"
	run -0 "$MREG" set-default --previous embedding
	assert_output "default for type embedding: $A -> google/te-004-renamed (rollback)"
	q "UPDATE mreg.models SET name = 'text-embedding-004' WHERE name = 'te-004-renamed'"
}

@test "set-default --previous: refused when the previous model was deactivated, retyped or deleted (psql)" {
	"$MREG" set-default "$B" >/dev/null
	"$MREG" set-default cohere/embed-english-v3.0 >/dev/null
	q "UPDATE mreg.models SET active = false WHERE name = 'mistral-embed'"
	before=$(state)
	run -3 "$MREG" set-default --previous embedding
	assert_line --index 0 "mreg set-default: could not make the previous default the default again: the previous default \"$B\" is inactive"
	assert_equal "$(state)" "$before"
	assert_equal "$(default_of embedding)" cohere/embed-english-v3.0
	q "UPDATE mreg.models SET active = true, type = 'llm' WHERE name = 'mistral-embed'"
	before=$(state)
	run -3 "$MREG" set-default --previous embedding
	assert_line --index 0 "mreg set-default: could not make the previous default the default again: the previous default \"$B\" is no longer of type \"embedding\""
	assert_equal "$(state)" "$before"
	q "DELETE FROM mreg.models WHERE name = 'mistral-embed'"
	before=$(state)
	run -3 "$MREG" set-default --previous embedding
	assert_line --index 0 "mreg set-default: could not make the previous default the default again: the previous default \"$B\" was deleted"
	assert_equal "$(state)" "$before"
	assert_equal "$(default_of embedding)" cohere/embed-english-v3.0
}

@test "set-default --previous: usage errors (exit 2)" {
	run -2 "$MREG" set-default --previous embedding "$A"
	assert_line --index 0 'mreg set-default: --previous TYPE and a PROVIDER/NAME cannot go together'
	run -2 "$MREG" set-default --previous
	run -2 "$MREG" set-default
	assert_line --index 0 'mreg set-default: missing PROVIDER/NAME (or --previous TYPE)'
}
