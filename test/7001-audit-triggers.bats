#!/usr/bin/env bats
# 7001 the database keeps the audit (sql/0002_audit.sql): every writer is
# audited, set-based; the log is append-only; audit prune; mreg's context

load helpers
load import-helpers
bats_require_minimum_version 1.5.0

setup() {
	db_create_migrated
	q "INSERT INTO mreg.providers (name) VALUES ('acme')"
	q "INSERT INTO mreg.models (provider_id, name, type, tags)
	   SELECT id, 'm' || g, 'llm', '{a}' FROM mreg.providers, generate_series(1, 5) g"
	start=$(q "SELECT max(id) FROM mreg.audit_log")
}

teardown() { db_drop; }

# the rows written since setup: action resource actor old new details
since() {
	q "SELECT action, resource, actor, coalesce(old::text, '-'), coalesce(new::text, '-'), details
	     FROM mreg.audit_log WHERE id > $start ORDER BY id"
}

@test "psql INSERT, UPDATE and DELETE of a model: one row each, the database role as actor" {
	q "INSERT INTO mreg.models (provider_id, name, type) SELECT id, 'solo', 'embedding' FROM mreg.providers"
	run -0 since
	assert_output 'model.create|models/acme/solo|postgres|-|{"name": "solo", "tags": [], "type": "embedding", "active": true, "config": {}, "version": null, "metadata": {}, "provider": "acme", "synonyms": [], "description": null, "display_name": null}|{}'
	start=$(q "SELECT max(id) FROM mreg.audit_log")
	q "UPDATE mreg.models SET description = 'x', updated_at = now() WHERE name = 'solo'"
	run -0 since
	assert_output 'model.update|models/acme/solo|postgres|{"description": null}|{"description": "x"}|{}'
	# a rename shows as name old -> new, under the new resource
	start=$(q "SELECT max(id) FROM mreg.audit_log")
	q "UPDATE mreg.models SET name = 'duo' WHERE name = 'solo'"
	run -0 since
	assert_output 'model.update|models/acme/duo|postgres|{"name": "solo"}|{"name": "duo"}|{}'
	# an update that changes no field writes nothing
	start=$(q "SELECT max(id) FROM mreg.audit_log")
	q "UPDATE mreg.models SET updated_at = now(), description = description"
	run -0 since
	assert_output ''
	q "DELETE FROM mreg.models WHERE name = 'duo'"
	run -0 since
	assert_output 'model.delete|models/acme/duo|postgres|{"name": "duo", "tags": [], "type": "embedding", "active": true, "config": {}, "version": null, "metadata": {}, "provider": "acme", "synonyms": [], "description": "x", "display_name": null}|-|{}'
	# db_role and the writing transaction are recorded too
	run -0 q "SELECT count(*) FROM mreg.audit_log WHERE id > $start AND db_role = current_user AND xid::text::bigint > 0"
	assert_output 1
}

# 0005's model.update trigger builds the shapes its own way: each row must
# be what mreg.jsonb_changes of mreg.model_fields before and after says
@test "model.update: every field at once, a provider move, nulls both ways, rows as jsonb_changes says" {
	q "INSERT INTO mreg.providers (name) VALUES ('beta')"
	q "UPDATE mreg.models SET version = '1', display_name = 'M2', synonyms = '{x}' WHERE name = 'm2'"
	q "CREATE TABLE public.before AS SELECT id, mreg.model_fields(m) AS f FROM mreg.models m"
	start=$(q "SELECT max(id) FROM mreg.audit_log")
	q "UPDATE mreg.models SET provider_id = (SELECT id FROM mreg.providers WHERE name = 'beta'),
	     name = name || 'x', type = 'embedding', version = CASE WHEN version IS NULL THEN '2' END,
	     display_name = CASE WHEN display_name IS NULL THEN 'D' END, description = 'd\"\\ é',
	     tags = '{}', synonyms = CASE WHEN synonyms = '{}' THEN '{s,t}'::text[] ELSE '{}' END,
	     active = false, config = '{\"a\": [1, null]}', metadata = '{\"k\": 1.50}'
	   WHERE name IN ('m1', 'm2')"
	q "UPDATE mreg.models SET config = '{\"b\": {}}' WHERE name = 'm3'"
	run -0 since
	assert_output - <<'OUT'
model.update|models/beta/m1x|postgres|{"name": "m1", "tags": ["a"], "type": "llm", "active": true, "config": {}, "version": null, "metadata": {}, "provider": "acme", "synonyms": [], "description": null, "display_name": null}|{"name": "m1x", "tags": [], "type": "embedding", "active": false, "config": {"a": [1, null]}, "version": "2", "metadata": {"k": 1.50}, "provider": "beta", "synonyms": ["s", "t"], "description": "d\"\\ é", "display_name": "D"}|{}
model.update|models/beta/m2x|postgres|{"name": "m2", "tags": ["a"], "type": "llm", "active": true, "config": {}, "version": "1", "metadata": {}, "provider": "acme", "synonyms": ["x"], "description": null, "display_name": "M2"}|{"name": "m2x", "tags": [], "type": "embedding", "active": false, "config": {"a": [1, null]}, "version": null, "metadata": {"k": 1.50}, "provider": "beta", "synonyms": [], "description": "d\"\\ é", "display_name": null}|{}
model.update|models/acme/m3|postgres|{"config": {}}|{"config": {"b": {}}}|{}
OUT
	run -0 q "SELECT count(*) FROM mreg.audit_log a JOIN public.before b ON b.id = a.model_id
	           JOIN mreg.models m ON m.id = a.model_id
	          WHERE a.id > $start AND jsonb_build_object('old', a.old, 'new', a.new)
	                = mreg.jsonb_changes(b.f, mreg.model_fields(m))"
	assert_output 3
}

@test "psql INSERT, UPDATE and DELETE of a default: default.set, default.set, default.clear" {
	q "INSERT INTO mreg.model_defaults (type, model_id) SELECT 'llm', id FROM mreg.models WHERE name = 'm1'"
	q "UPDATE mreg.model_defaults SET model_id = (SELECT id FROM mreg.models WHERE name = 'm2') WHERE type = 'llm'"
	q "UPDATE mreg.model_defaults SET updated_at = now()"  # no change: no row
	q "DELETE FROM mreg.model_defaults"
	m1=$(q "SELECT id FROM mreg.models WHERE name = 'm1'")
	m2=$(q "SELECT id FROM mreg.models WHERE name = 'm2'")
	run -0 since
	assert_output - <<OUT
default.set|defaults/llm|postgres|-|{"model": "acme/m1", "model_id": $m1}|{}
default.set|defaults/llm|postgres|{"model": "acme/m1", "model_id": $m1}|{"model": "acme/m2", "model_id": $m2}|{}
default.clear|defaults/llm|postgres|{"model": "acme/m2", "model_id": $m2}|-|{}
OUT
	run -0 q "SELECT string_agg(model_id::text, ',' ORDER BY id) FROM mreg.audit_log WHERE id > $start"
	assert_output "$m1,$m2,$m2"
}

@test "INSERT ... ON CONFLICT DO UPDATE: the inserted and the updated rows, once each" {
	q "INSERT INTO mreg.model_defaults (type, model_id) SELECT 'llm', id FROM mreg.models WHERE name = 'm1'"
	start=$(q "SELECT max(id) FROM mreg.audit_log")
	q "INSERT INTO mreg.models AS m (provider_id, name, type)
	   SELECT id, v, 'llm' FROM mreg.providers, (VALUES ('m1'), ('new')) x(v)
	   ON CONFLICT (provider_id, name) DO UPDATE SET version = '2'"
	run -0 q "SELECT action || ' ' || resource FROM mreg.audit_log WHERE id > $start ORDER BY action"
	assert_output $'model.create models/acme/new\nmodel.update models/acme/m1'
}

@test "a set-based UPDATE of N models writes N rows and one notification" {
	run -0 psql -XAt -v ON_ERROR_STOP=1 -c "LISTEN mreg_audit" -c "UPDATE mreg.models SET tags = tags || '{b}'"
	assert_equal "$(grep -c 'Asynchronous notification "mreg_audit"' <<<"$output")" 1
	# the payload is the highest id written
	top=$(q "SELECT max(id) FROM mreg.audit_log")
	assert_output --partial "with payload \"$top\""
	run -0 q "SELECT count(*), count(DISTINCT model_id), min(old::text), min(new::text) FROM mreg.audit_log WHERE id > $start"
	assert_output '5|5|{"tags": ["a"]}|{"tags": ["a", "b"]}'
}

@test "artifacts, providers and cascades are audited" {
	q "INSERT INTO mreg.artifacts SELECT id, 'w.bin', 3, repeat('a', 64) FROM mreg.models WHERE name = 'm1'"
	q "UPDATE mreg.artifacts SET size = 4"
	q "UPDATE mreg.providers SET name = 'acme2'"
	q "DELETE FROM mreg.models WHERE name = 'm1'"
	run -0 q "SELECT action || ' ' || resource || ' ' || coalesce(old::text, '-') || ' ' || coalesce(new::text, '-')
	            FROM mreg.audit_log WHERE id > $start AND action NOT IN ('model.delete') ORDER BY id"
	assert_output - <<'OUT'
artifact.create models/acme/m1 - {"path": "w.bin", "size": 3, "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"}
artifact.update models/acme/m1 {"path": "w.bin", "size": 3} {"path": "w.bin", "size": 4}
provider.update providers/acme2 {"name": "acme"} {"name": "acme2"}
artifact.delete models/acme2/m1 {"path": "w.bin", "size": 4, "sha256": "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"} -
OUT
	run -0 q "SELECT count(*) FROM mreg.audit_log WHERE id > $start AND action = 'model.delete' AND resource = 'models/acme2/m1'"
	assert_output 1
}

@test "UPDATE, DELETE and TRUNCATE of mreg.audit_log fail for the owner and the superuser" {
	for sql in "UPDATE mreg.audit_log SET actor = 'x'" \
	           "DELETE FROM mreg.audit_log" \
	           "TRUNCATE mreg.audit_log"; do
		run psql -XAtq -v ON_ERROR_STOP=1 -c "$sql"
		assert_failure
		assert_output --partial 'mreg.audit_log is append-only'
		assert_output --partial 'HINT:  Old entries are trimmed with mreg audit prune --before TIME.'
	done
	# a role that owns the table, not a superuser
	q "DROP ROLE IF EXISTS t7001_owner"
	q "CREATE ROLE t7001_owner; GRANT USAGE ON SCHEMA mreg TO t7001_owner;
	   ALTER TABLE mreg.audit_log OWNER TO t7001_owner"
	for sql in "UPDATE mreg.audit_log SET actor = 'x'" \
	           "DELETE FROM mreg.audit_log WHERE id > 0"; do
		run psql -XAtq -v ON_ERROR_STOP=1 -v VERBOSITY=verbose -c "SET ROLE t7001_owner" -c "$sql"
		assert_failure
		assert_output --partial '42501'
		assert_output --partial 'mreg.audit_log is append-only'
	done
	q "ALTER TABLE mreg.audit_log OWNER TO postgres; DROP OWNED BY t7001_owner; DROP ROLE t7001_owner"
	run -0 q "SELECT count(*) > 0 FROM mreg.audit_log WHERE actor = 'x'"
	assert_output f
}

@test "audit prune: --dry-run counts, prune trims and is audited; a DELETE with the switch is audited too" {
	q "INSERT INTO mreg.audit_log (logged_at, actor, action, resource) VALUES
	   (now() - interval '10 days', 'old', 'model.update', 'models/acme/m1'),
	   (now() - interval '9 days', 'old', 'model.update', 'models/acme/m2'),
	   (now() - interval '8 days', 'old', 'model.update', 'models/acme/m3')"
	total=$(q "SELECT count(*) FROM mreg.audit_log")
	run -0 "$MREG" audit prune --before 5d --dry-run
	assert_output --regexp '^would remove 3 audit entries logged before [0-9-]{10}T[0-9:.]{15}Z$'
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log")" "$total"
	run -0 "$MREG" audit prune --before 5d --actor janitor -o json
	echo "$output" | "$MREG_SOURCE_ROOT/test/json-valid" audit-prune
	assert_equal "$(jq -c '[.command, .action, .ok, .dry_run, .deleted]' <<<"$output")" '["audit","prune",true,false,3]'
	run -0 q "SELECT actor, details->>'command', details->'deleted', details ? 'before',
	                 (details->>'last_id')::bigint - (details->>'first_id')::bigint
	            FROM mreg.audit_log WHERE action = 'audit.prune'"
	assert_output 'janitor|audit prune|3|t|2'
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log WHERE actor = 'old'")" 0
	# nothing left that old: 0, and a prune row that says so
	run -0 "$MREG" audit prune --before 5d
	assert_output --regexp '^removed 0 audit entries logged before '
	# by hand, with the switch: allowed, and audited the same way
	id=$(q "SELECT min(id) FROM mreg.audit_log")
	psql -XAtq -v ON_ERROR_STOP=1 -c "BEGIN" -c "SELECT set_config('mreg.audit_pruning', 'on', true)" \
		-c "DELETE FROM mreg.audit_log WHERE id = $id" -c "COMMIT" >/dev/null
	run -0 q "SELECT details FROM mreg.audit_log WHERE action = 'audit.prune' ORDER BY id DESC LIMIT 1"
	assert_output "{\"deleted\": 1, \"last_id\": $id, \"first_id\": $id}"
	# the switch is transaction-local: the next DELETE is refused again
	run q "DELETE FROM mreg.audit_log WHERE id = $((id + 1))"
	assert_failure
}

@test "audit prune: usage errors are exit 2" {
	run -2 "$MREG" audit prune
	assert_output --partial 'prune needs --before TIME'
	run -2 "$MREG" audit prune --before yesterday
	assert_output --partial 'invalid time "yesterday"'
	run -2 "$MREG" audit trim --before 1d
	assert_output --partial "unknown action 'trim'"
	run -2 "$MREG" audit
	run -1 "$MREG" audit prune --before 1d --dsn "host=/nonexistent"
}

@test "import-dir: exactly its rows, with command, source, batch, path and sha256" {
	D="$BATS_TEST_TMPDIR/models"
	copy_samples "$D"
	run -0 "$MREG" import-dir --actor imp "$D"
	src=$(cd "$D" && pwd -P)
	run -0 q "SELECT action || '=' || count(*) FROM mreg.audit_log WHERE id > $start GROUP BY action ORDER BY action"
	assert_output $'artifact.create=3\nmodel.create=30\nprovider.create=8'
	run -0 q "SELECT count(*) FROM mreg.audit_log WHERE id > $start AND (actor <> 'imp'
	            OR details->>'command' <> 'import-dir' OR details->>'source' <> \$\$$src\$\$
	            OR NOT details ? 'batch')"
	assert_output 0
	want=$(sha256sum "$D/openai/gpt-4o.json" | cut -d' ' -f1)
	run -0 q "SELECT details->>'path', details->>'sha256' FROM mreg.audit_log
	            WHERE id > $start AND action = 'model.create' AND resource = 'models/openai/gpt-4o'"
	assert_output "openai/gpt-4o.json|$want"
	# every model row has its own file
	run -0 q "SELECT count(DISTINCT details->>'path') FROM mreg.audit_log WHERE id > $start AND action = 'model.create'"
	assert_output 30
	# an unchanged rerun writes nothing
	before=$(q "SELECT count(*) FROM mreg.audit_log")
	run -0 "$MREG" import-dir --rehash "$D"
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log")" "$before"
}

@test "bulk-update and set-default: their command and input in details, no double rows" {
	f="$BATS_TEST_TMPDIR/batch.ndjson"
	printf '%s\n' '{"where": {"type": "llm"}, "set": {"version": "9"}}' '{"model": "acme/m2", "set_default": true}' >"$f"
	run -0 "$MREG" bulk-update --actor bulker "$f"
	run -0 q "SELECT action, count(*), min(actor), min(details->>'command'), min(details->>'input') = max(details->>'input')
	            FROM mreg.audit_log WHERE id > $start GROUP BY action ORDER BY action"
	assert_output $'default.set|1|bulker|bulk-update|t\nmodel.update|5|bulker|bulk-update|t'
	assert_equal "$(q "SELECT details->>'input' FROM mreg.audit_log WHERE id > $start LIMIT 1")" "$f"
	start=$(q "SELECT max(id) FROM mreg.audit_log")
	run -0 "$MREG" set-default --actor sd acme/m3
	assert_output "default for type llm: acme/m2 -> acme/m3"
	run -0 since
	m2=$(q "SELECT id FROM mreg.models WHERE name = 'm2'")
	m3=$(q "SELECT id FROM mreg.models WHERE name = 'm3'")
	assert_output "default.set|defaults/llm|sd|{\"model\": \"acme/m2\", \"model_id\": $m2}|{\"model\": \"acme/m3\", \"model_id\": $m3}|{\"command\": \"set-default\"}"
	# the settings were transaction-local: a later psql edit is the role's
	start=$(q "SELECT max(id) FROM mreg.audit_log")
	q "UPDATE mreg.models SET version = '10' WHERE name = 'm4'"
	run -0 q "SELECT actor, details FROM mreg.audit_log WHERE id > $start"
	assert_output 'postgres|{}'
}
