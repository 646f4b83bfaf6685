#!/usr/bin/env bats
# mreg bulk-update: the item forms, every settable field, merges, tags,
# input order, audit rows and output formats.

load helpers
load bulk-helpers
bats_require_minimum_version 1.5.0

setup_file() { db_create_migrated; }
teardown_file() { db_drop; }
setup() { bulk_reset; }

@test "model item sets plain fields; one audit row with old and new" {
	f=$(batch <<'J'
{"model": "acme/chat-2", "set": {"display_name": "Chat 2", "description": "second", "version": "2.1", "synonyms": ["c2", "chat two"]}}
J
)
	run --separate-stderr "$MREG" bulk-update --actor tester "$f"
	assert_success
	assert_output "1 item: matched 1, changed 1, unchanged 0, defaults set 0"
	[ -z "$stderr" ]
	[ "$(field acme/chat-2 display_name)" = "Chat 2" ]
	[ "$(field acme/chat-2 description)" = "second" ]
	[ "$(field acme/chat-2 version)" = "2.1" ]
	[ "$(field_json acme/chat-2 synonyms)" = '["c2", "chat two"]' ]
	run q "SELECT actor, action, resource, model_id = (SELECT id FROM mreg.models WHERE name = 'chat-2'),
	              old, new, details->>'command' FROM mreg.audit_log WHERE action = 'model.update'"
	assert_output 'tester|model.update|models/acme/chat-2|t|{"version": "2.0", "synonyms": [], "description": null, "display_name": "Chat Two"}|{"version": "2.1", "synonyms": ["c2", "chat two"], "description": "second", "display_name": "Chat 2"}|bulk-update'
	# the row's updated_at moved, the others' did not
	run q "SELECT count(*) FROM mreg.models WHERE updated_at > created_at"
	assert_output 1
}

@test "null clears a nullable text field" {
	f=$(batch <<'J'
{"model": "acme/chat-1", "set": {"display_name": null, "version": null}}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	[ "$(q "SELECT display_name IS NULL AND version IS NULL FROM mreg.models WHERE name = 'chat-1'")" = t ]
}

@test "where selects by provider, type, tag and active, combined with AND" {
	q "UPDATE mreg.models SET active = false WHERE name = 'chat-z'"
	f=$(batch <<'J'
{"where": {"provider": "acme", "type": "llm"}, "set": {"description": "acme llm"}}
{"where": {"tag": "legacy"}, "set": {"version": "9"}}
{"where": {"active": false}, "set": {"metadata": {"state": "off"}}}
{"where": {"provider": "zeta", "tag": "nope"}, "set": {"version": "never"}}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	assert_output "4 items: matched 5, changed 5, unchanged 0, defaults set 0"
	run q "SELECT p.name || '/' || m.name FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
	        WHERE description = 'acme llm' ORDER BY 1"
	assert_output $'acme/chat-1\nacme/chat-2'
	run q "SELECT m.name FROM mreg.models m WHERE version = '9' ORDER BY 1"
	assert_output $'legacy-1\nlegacy-2'
	run q "SELECT m.name FROM mreg.models m WHERE metadata = '{\"state\": \"off\"}' ORDER BY 1"
	assert_output chat-z
	[ "$(q "SELECT count(*) FROM mreg.models WHERE version = 'never'")" = 0 ]
}

@test "where with all four conditions, and selectors of different shapes in one batch" {
	q "UPDATE mreg.models SET active = false WHERE name = 'chat-z'"
	f=$(batch <<'J'
{"where": {"provider": "acme", "type": "llm", "tag": "chat", "active": true}, "set": {"tags_add": ["four"]}}
{"where": {"type": "llm", "active": false}, "set": {"tags_add": ["off"]}}
{"where": {"tag": "prod"}, "set": {"tags_add": ["p"]}}
{"where": {"provider": "zeta", "type": "embedding"}, "set": {"tags_add": ["ze"]}}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	assert_output "4 items: matched 5, changed 5, unchanged 0, defaults set 0"
	run q "SELECT p.name || '/' || m.name || ' ' || array_to_string(m.tags, ',')
	         FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id ORDER BY 1"
	assert_output - <<'OUT'
acme/chat-1 chat,prod,four,p
acme/chat-2 chat,four
acme/embed-1 prod,p
old-co/legacy-1 legacy
old-co/legacy-2 legacy
zeta/chat-z chat,beta,off
zeta/embed-z ze
OUT
}

@test "config_merge and metadata_merge merge keys; JSON null removes a key" {
	f=$(batch <<'J'
{"model": "acme/chat-1", "set": {"config_merge": {"temperature": null, "top_p": 0.95, "stop": ["\n"], "max_tokens": 2048}, "metadata_merge": {"owner": null, "team": {"name": "ml", "oncall": null}}}}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	[ "$(field_json acme/chat-1 config)" = '{"stop": ["\n"], "top_p": 0.95, "max_tokens": 2048}' ]
	# a null nested inside a merged value is data, not a removal
	[ "$(field_json acme/chat-1 metadata)" = '{"team": {"name": "ml", "oncall": null}}' ]
}

@test "config and metadata replace the whole object; numbers keep their text" {
	f=$(batch <<'J'
{"model": "acme/embed-1", "set": {"config": {"dim": 1024, "scale": 0.1, "big": 12345678901234567890.5}, "metadata": {}}}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	[ "$(field_json acme/embed-1 config)" = '{"big": 12345678901234567890.5, "dim": 1024, "scale": 0.1}' ]
	[ "$(field_json acme/embed-1 metadata)" = '{}' ]
}

@test "tags_add appends missing tags, tags_remove drops them, tags replaces" {
	f=$(batch <<'J'
{"model": "acme/chat-1", "set": {"tags_add": ["new", "chat"], "tags_remove": ["prod", "absent"]}}
{"model": "zeta/chat-z", "set": {"tags": ["z", "a"]}}
{"where": {"tag": "legacy"}, "set": {"tags_remove": ["legacy"]}}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	[ "$(field_json acme/chat-1 tags)" = '["chat", "new"]' ]
	[ "$(field_json zeta/chat-z tags)" = '["z", "a"]' ]
	[ "$(field_json old-co/legacy-1 tags)" = '[]' ]
	[ "$(field_json old-co/legacy-2 tags)" = '[]' ]
}

@test "items touching the same model apply in input order; one audit row" {
	f=$(batch <<'J'
{"where": {"provider": "old-co"}, "set": {"description": "retired", "config_merge": {"a": 1, "b": 2}, "tags_add": ["x"]}}
{"model": "old-co/legacy-1", "set": {"description": "kept", "config_merge": {"b": null, "c": 3}}}
{"model": "old-co/legacy-1", "set": {"tags_remove": ["x"], "tags_add": ["y"]}}
{"where": {"tag": "x"}, "set": {"active": false}}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	assert_output "4 items: matched 2, changed 2, unchanged 0, defaults set 0"
	[ "$(field old-co/legacy-1 description)" = kept ]
	[ "$(field old-co/legacy-2 description)" = retired ]
	[ "$(field_json old-co/legacy-1 config)" = '{"a": 1, "c": 3}' ]
	[ "$(field_json old-co/legacy-2 config)" = '{"a": 1, "b": 2}' ]
	[ "$(field_json old-co/legacy-1 tags)" = '["legacy", "y"]' ]
	[ "$(field_json old-co/legacy-2 tags)" = '["legacy", "x"]' ]
	# "where" is resolved against the registry before the batch: the
	# tag "x" added by item 1 does not make item 4 select anything
	[ "$(q "SELECT count(*) FROM mreg.models WHERE NOT active")" = 0 ]
	[ "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update'")" = 2 ]
	run q "SELECT jsonb_build_object('old', old->'config', 'new', new->'config') FROM mreg.audit_log WHERE resource = 'models/old-co/legacy-1' AND action = 'model.update'"
	assert_output '{"new": {"a": 1, "c": 3}, "old": {}}'
}

@test "items that change nothing count as unchanged and are not audited" {
	f=$(batch <<'J'
{"model": "acme/chat-1", "set": {"active": true, "tags_add": ["chat"], "config_merge": {"temperature": 0.7}}}
{"where": {"provider": "zeta"}, "set": {"version": null}}
{"model": "acme/chat-2", "set": {"version": "2.0", "tags_remove": ["gone"]}}
J
)
	before=$(q "SELECT string_agg(updated_at::text, ',' ORDER BY id) FROM mreg.models")
	run "$MREG" bulk-update "$f"
	assert_success
	assert_output "3 items: matched 4, changed 0, unchanged 4, defaults set 0"
	[ "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update'")" = 0 ]
	[ "$(q "SELECT string_agg(updated_at::text, ',' ORDER BY id) FROM mreg.models")" = "$before" ]
}

@test "a JSON array works like NDJSON, from standard input too" {
	run "$MREG" bulk-update - <<'J'
[
  {"model": "acme/chat-2", "set": {"description": "from an array"}},
  {"where": {"provider": "zeta"},
   "set": {"tags_add": ["z"]}}
]
J
	assert_success
	assert_output "2 items: matched 3, changed 3, unchanged 0, defaults set 0"
	[ "$(field acme/chat-2 description)" = "from an array" ]
	[ "$(field_json zeta/embed-z tags)" = '["z"]' ]
}

@test "an empty batch is a no-op" {
	f=$(batch </dev/null)
	run "$MREG" bulk-update "$f"
	assert_success
	assert_output "0 items: matched 0, changed 0, unchanged 0, defaults set 0"
	run "$MREG" bulk-update - <<<'[]'
	assert_success
}

@test "--format json prints one summary object" {
	f=$(batch <<'J'
{"where": {"provider": "old-co"}, "set": {"active": false}}
{"model": "acme/chat-1", "set": {"active": true}}
J
)
	run --separate-stderr "$MREG" bulk-update --format json "$f"
	assert_success
	[ "$(jq -c 'del(.duration_s)' <<<"$output")" = '{"command":"bulk-update","ok":true,"exit_code":0,"dry_run":false,"items_read":2,"matched":3,"changed":2,"unchanged":1,"defaults_set":0}' ]
	[ "$(jq '.duration_s | type == "number" and . >= 0' <<<"$output")" = true ]
	run -0 "$MREG_SOURCE_ROOT/test/json-valid" bulk-update <<<"$output"
}

@test "SQL and COPY metacharacters in values are data" {
	q "INSERT INTO mreg.models (provider_id, name, type)
	   SELECT id, \$\$it's \"x\"; DROP TABLE mreg.models; --\$\$, 'llm'
	     FROM mreg.providers WHERE name = 'zeta'"
	f=$(batch <<'J'
{"model": "zeta/it's \"x\"; DROP TABLE mreg.models; --", "set": {"description": "'); DROP TABLE mreg.audit_log; --\ttab\\back\nline \\N", "tags_add": ["a,b", "{c}", "\"q\"", "NULL", "$1"], "config_merge": {"k'); --": "v\u00e9\\"}}}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	assert_output "1 item: matched 1, changed 1, unchanged 0, defaults set 0"
	m="zeta/it's \"x\"; DROP TABLE mreg.models; --"
	[ "$(field_json "$m" description)" = '"'"'"'); DROP TABLE mreg.audit_log; --\ttab\\back\nline \\N"' ]
	[ "$(field_json "$m" tags)" = '["a,b", "{c}", "\"q\"", "NULL", "$1"]' ]
	[ "$(field_json "$m" config)" = '{"k'"'"'); --": "vé\\"}' ]
	[ "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update' AND resource = 'models/zeta/' || \$\$it's \"x\"; DROP TABLE mreg.models; --\$\$")" = 1 ]
}
