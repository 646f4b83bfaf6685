#!/usr/bin/env bats
# 7002 upgrading a 0001 database: migrate applies 0002, the old audit rows
# are converted to the old/new layout, and the triggers take over
#
# The engine has no target version, so the 0001-only database is built the
# way an older mreg left it: the bookkeeping table of mreg_migrate_bootstrap
# (common/migrate.c), sql/0001_initial.sql and its row, then rows of the
# layouts the old mreg wrote (import-dir, --prune, bulk-update,
# set-default, bench).

load helpers
bats_require_minimum_version 1.5.0

setup() {
	db_create
	sum=$(sha256sum "$MREG_SOURCE_ROOT/sql/0001_initial.sql" | cut -d' ' -f1)
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null \
		-c "CREATE SCHEMA mreg" \
		-c "CREATE TABLE mreg.schema_migrations (version integer PRIMARY KEY,
		      name text NOT NULL, checksum text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}\$'),
		      applied_at timestamptz NOT NULL DEFAULT now(),
		      duration_ms double precision NOT NULL,
		      applied_by text NOT NULL DEFAULT current_user)" \
		-f "$MREG_SOURCE_ROOT/sql/0001_initial.sql" \
		-c "INSERT INTO mreg.schema_migrations (version, name, checksum, duration_ms)
		    VALUES (1, '0001_initial.sql', '$sum', 1)"
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<'SQL'
INSERT INTO mreg.providers (name) VALUES ('acme');
INSERT INTO mreg.models (provider_id, name, type)
SELECT id, 'm' || g, 'llm' FROM mreg.providers, generate_series(1, 2) g;
INSERT INTO mreg.audit_log (actor, action, resource, model_id, details) VALUES
 ('mig', 'migration.apply', 'migrations/1', NULL, '{"version": 1, "name": "0001_initial.sql"}'),
 ('imp', 'model.create', 'models/acme/m1', 1,
  '{"source": "/src", "path": "acme/m1.json", "sha256": "ab", "old": null,
    "new": {"type": "llm", "version": "1", "active": true, "artifacts": []}}'),
 ('imp', 'model.update', 'models/acme/m1', 1,
  '{"source": "/src", "path": "acme/m1.json", "sha256": "cd",
    "old": {"type": "llm", "version": "1", "active": true, "artifacts": []},
    "new": {"type": "llm", "version": "2", "active": true, "artifacts": []}}'),
 ('bulk', 'model.update', 'models/acme/m2', 2,
  '{"changes": {"description": {"old": null, "new": "x"}, "tags": {"old": [], "new": ["t"]}}}'),
 ('sd', 'default.set', 'defaults/llm', 1,
  '{"type": "llm", "previous": null, "new": "acme/m1", "previous_model_id": null, "model_id": 1}'),
 ('bulk', 'default.set', 'defaults/llm', 2,
  '{"type": "llm", "previous": "acme/m1", "new": "acme/m2"}'),
 ('pruner', 'model.deactivate', 'models/acme/m1', 1,
  '{"source": "/src", "path": "acme/m1.json", "reason": "source file removed",
    "old": {"active": true}, "new": {"active": false}}'),
 ('bench', 'default.unset', 'defaults/llm', 2,
  '{"type": "llm", "previous": "acme/m2", "new": null, "previous_model_id": 2,
    "model_id": null, "source": "mreg bench cleanup"}');
SQL
}

teardown() { db_drop; }

@test "migrate on a 0001 database applies 0002 only and converts the old rows" {
	run -0 "$MREG" migrate
	refute_line --partial '0001_initial.sql'
	assert_line --regexp '^applied 0002_audit\.sql \([0-9.]+ ms\)$'
	run -0 q "SELECT actor, action, coalesce(old::text, '-'), coalesce(new::text, '-'), details
	            FROM mreg.audit_log WHERE id <= 8 ORDER BY id"
	assert_output - <<'OUT'
mig|migration.apply|-|-|{"name": "0001_initial.sql", "version": 1}
imp|model.create|-|{"type": "llm", "active": true, "version": "1", "artifacts": []}|{"path": "acme/m1.json", "sha256": "ab", "source": "/src"}
imp|model.update|{"version": "1"}|{"version": "2"}|{"path": "acme/m1.json", "sha256": "cd", "source": "/src"}
bulk|model.update|{"tags": [], "description": null}|{"tags": ["t"], "description": "x"}|{}
sd|default.set|-|{"model": "acme/m1", "model_id": 1}|{}
bulk|default.set|{"model": "acme/m1", "model_id": 1}|{"model": "acme/m2", "model_id": 2}|{}
pruner|model.update|{"active": true}|{"active": false}|{"path": "acme/m1.json", "reason": "source file removed", "source": "/src"}
bench|default.clear|{"model": "acme/m2", "model_id": 2}|-|{"source": "mreg bench cleanup"}
OUT
	# rows written before 0002 have no known transaction
	run -0 q "SELECT count(*) FROM mreg.audit_log WHERE xid = '0'"
	assert_output 8
	# no old layout is left anywhere
	run -0 q "SELECT count(*) FROM mreg.audit_log
	           WHERE details ?| ARRAY['old', 'new', 'changes', 'previous', 'previous_model_id']
	              OR action IN ('model.deactivate', 'default.unset')"
	assert_output 0
	run -0 "$MREG" migrate status --exit-code
}

@test "after the upgrade the triggers audit, and the converted rows are append-only" {
	"$MREG" migrate --quiet
	q "UPDATE mreg.models SET version = '3' WHERE name = 'm2'"
	run -0 q "SELECT actor, action, old, new, xid <> '0' FROM mreg.audit_log ORDER BY id DESC LIMIT 1"
	assert_output 'postgres|model.update|{"version": null}|{"version": "3"}|t'
	run q "UPDATE mreg.audit_log SET actor = 'x' WHERE actor = 'imp'"
	assert_failure
	assert_output --partial 'append-only'
}
