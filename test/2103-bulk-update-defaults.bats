#!/usr/bin/env bats
# mreg bulk-update: --dry-run, the default-model rule, set_default, and a
# concurrent set-default.

load helpers
load bulk-helpers
bats_require_minimum_version 1.5.0

setup_file() { db_create_migrated; }
teardown_file() { db_drop; }
setup() { bulk_reset; }

@test "--dry-run lists field, old and new per model and writes nothing" {
	f=$(batch <<'J'
{"where": {"provider": "old-co"}, "set": {"active": false}}
{"model": "acme/chat-2", "set": {"description": "x", "config_merge": {"t": 0.1}}}
{"model": "zeta/chat-z", "set": {"tags": ["beta", "chat"]}}
{"model": "zeta/chat-z", "set_default": true}
J
)
	before=$(db_state)
	run --separate-stderr "$MREG" bulk-update --dry-run "$f"
	assert_success
	assert_output - <<'OUT'
MODEL            FIELD        OLD               NEW
acme/chat-2      config       {}                {"t": 0.1}
acme/chat-2      description  null              "x"
old-co/legacy-1  active       true              false
old-co/legacy-2  active       true              false
zeta/chat-z      tags         ["chat", "beta"]  ["beta", "chat"]
default for type "llm": acme/chat-1 -> zeta/chat-z
dry run: 4 items: matched 4, changed 4, unchanged 0, defaults set 1 (nothing was written)
OUT
	[ "$(db_state)" = "$before" ]

	run --separate-stderr "$MREG" bulk-update --dry-run --format json "$f"
	assert_success
	[ "$(db_state)" = "$before" ]
	[ "$(jq -c '[.dry_run, .matched, .changed, .unchanged, .defaults_set]' <<<"$output")" = '[true,4,4,0,1]' ]
	[ "$(jq -c '[.changes[] | select(.model == "acme/chat-2") | del(.model)]' <<<"$output")" = '[{"field":"config","old":{},"new":{"t":0.1}},{"field":"description","old":null,"new":"x"}]' ]
	[ "$(jq -c '.defaults' <<<"$output")" = '[{"type":"llm","previous":"acme/chat-1","new":"zeta/chat-z"}]' ]
}

@test "--dry-run reports the errors a real run would hit" {
	f=$(batch <<<'{"model": "acme/chat-1", "set": {"active": false}}')
	before=$(db_state)
	run --separate-stderr "$MREG" bulk-update --dry-run "$f"
	assert_failure 3
	[[ $stderr == *"cannot deactivate \"acme/chat-1\""* ]]
	[ "$(db_state)" = "$before" ]
}

@test "deactivating a type's default fails the whole batch with a clear error" {
	f=$(batch <<'J'
{"model": "acme/chat-2", "set": {"description": "would change"}}
{"where": {"provider": "acme", "type": "embedding"}, "set": {"active": false}}
J
)
	before=$(db_state)
	run --separate-stderr "$MREG" bulk-update "$f"
	assert_failure 3
	assert_output ""
	[[ $stderr == "mreg bulk-update: $f:2: cannot deactivate \"acme/embed-1\": it is the default model for type \"embedding\""* ]]
	[[ $stderr == *'HINT: Make another model of type "embedding" the default in the same batch: {"model": "<provider>/<name>", "set_default": true}'* ]]
	[ "$(db_state)" = "$before" ]
}

@test "the same batch may move the default and deactivate the old one" {
	f=$(batch <<'J'
{"where": {"provider": "acme"}, "set": {"active": false}}
{"model": "zeta/embed-z", "set_default": true}
{"model": "zeta/chat-z", "set_default": true}
J
)
	run --separate-stderr "$MREG" bulk-update --actor ops "$f"
	assert_success
	assert_output "3 items: matched 5, changed 3, unchanged 2, defaults set 2"
	[ "$(default_of llm)" = zeta/chat-z ]
	[ "$(default_of embedding)" = zeta/embed-z ]
	[ "$(q "SELECT count(*) FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id WHERE p.name = 'acme' AND m.active")" = 0 ]
	run q "SELECT actor, resource, old->>'model', new->>'model', details->>'command',
	              model_id = (SELECT id FROM mreg.models WHERE name = 'chat-z')
	         FROM mreg.audit_log WHERE action = 'default.set' AND actor = 'ops' ORDER BY resource"
	assert_output - <<'OUT'
ops|defaults/embedding|acme/embed-1|zeta/embed-z|bulk-update|f
ops|defaults/llm|acme/chat-1|zeta/chat-z|bulk-update|t
OUT
	[ "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update'")" = 3 ]
}

@test "set_default: the last item of a type wins; a no-op is not audited" {
	f=$(batch <<'J'
{"model": "acme/chat-2", "set_default": true}
{"model": "old-co/legacy-1", "set_default": true}
{"model": "acme/embed-1", "set_default": true}
J
)
	run "$MREG" bulk-update "$f"
	assert_success
	assert_output "3 items: matched 3, changed 0, unchanged 3, defaults set 1"
	[ "$(default_of llm)" = old-co/legacy-1 ]
	[ "$(default_of embedding)" = acme/embed-1 ]
	[ "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'default.set' AND details->>'command' = 'bulk-update'")" = 1 ]
}

@test "set_default for a type without a default records no previous one" {
	q "INSERT INTO mreg.models (provider_id, name, type) SELECT id, 'rr', 'reranker' FROM mreg.providers WHERE name = 'zeta'"
	run "$MREG" bulk-update - <<<'{"model": "zeta/rr", "set_default": true}'
	assert_success
	[ "$(default_of reranker)" = zeta/rr ]
	run q "SELECT coalesce(old::text, 'none'), new->>'model', details FROM mreg.audit_log WHERE resource = 'defaults/reranker'"
	assert_output 'none|zeta/rr|{"input": "<stdin>", "command": "bulk-update"}'
}

@test "a model deactivated by the batch cannot become the default" {
	f=$(batch <<'J'
{"model": "zeta/chat-z", "set_default": true}
{"where": {"provider": "zeta"}, "set": {"active": false}}
J
)
	before=$(db_state)
	run --separate-stderr "$MREG" bulk-update "$f"
	assert_failure 3
	[[ $stderr == "mreg bulk-update: $f:1: cannot make \"zeta/chat-z\" the default for type \"llm\": the model is not active"* ]]
	[ "$(db_state)" = "$before" ]
}

@test "a concurrent set-default during bulk updates leaves the invariants intact" {
	down=$(batch 1 <<'J'
{"model": "acme/chat-2", "set": {"active": false}}
{"model": "zeta/chat-z", "set": {"active": false, "tags_add": ["off"]}}
J
)
	up=$(batch 2 <<'J'
{"where": {"type": "llm", "active": false}, "set": {"active": true, "tags_remove": ["off"]}}
J
)
	move=$(batch 3 <<'J'
{"where": {"type": "llm", "provider": "acme"}, "set": {"active": false}}
{"where": {"type": "llm", "provider": "old-co"}, "set": {"active": false}}
{"model": "zeta/chat-z", "set_default": true}
J
)
	back=$(batch 4 <<'J'
{"where": {"type": "llm"}, "set": {"active": true}}
{"model": "acme/chat-1", "set_default": true}
J
)
	log="$BATS_TEST_TMPDIR/codes"
	(
		for i in $(seq 1 15); do
			for b in "$down" "$up" "$move" "$back"; do
				rc=0
				"$MREG" bulk-update "$b" >/dev/null 2>>"$log.bulk-stderr" || rc=$?
				echo "bulk $rc" >>"$log"
			done
		done
	) &
	bulk_pid=$!
	(
		for i in $(seq 1 20); do
			for m in acme/chat-2 zeta/chat-z acme/chat-1 old-co/legacy-1; do
				rc=0
				"$MREG" set-default --actor race "$m" >/dev/null 2>>"$log.sd-stderr" || rc=$?
				echo "set-default $rc" >>"$log"
			done
		done
	) &
	sql_pid=$!
	wait "$bulk_pid"
	wait "$sql_pid"

	# bulk-update either applied (0) or refused the batch as invalid for
	# the registry it saw (3): never a deadlock or another failure
	sort "$log" | uniq -c | sed "s/^/# /" >&3
	run sort -u "$log"
	refute_line "bulk 1"
	refute_line "bulk 2"
	refute_line "set-default 1"
	refute_line "set-default 2"
	assert_line "bulk 0"
	assert_line "set-default 0"
	[ "$(grep -c '^bulk ' "$log")" = 60 ]
	run cat "$log.bulk-stderr"
	refute_output --partial deadlock
	# set-default failed only because the model was (being) deactivated
	touch "$log.sd-stderr"
	run grep -v -e 'the model is inactive' -e 'is not active' -e '^HINT' "$log.sd-stderr"
	assert_output ""
	run cat "$log.sd-stderr"
	refute_output --partial deadlock
	# the invariants: every default is active and has its type
	[ "$(q "SELECT count(*) FROM mreg.model_defaults d JOIN mreg.models m ON m.id = d.model_id WHERE NOT m.active OR m.type <> d.type")" = 0 ]
	[ "$(q "SELECT count(*) FROM mreg.model_defaults WHERE type = 'llm'")" = 1 ]
	# every successful bulk-update wrote its audit rows in its transaction
	[ "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update' AND actor <> 'race'")" -gt 0 ]
}
