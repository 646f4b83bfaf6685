# bulk-helpers.bash - shared set-up of the bulk-update suites (21xx)
#
#   setup_file() { db_create_migrated; }
#   setup() { bulk_reset; }
# bulk_reset empties the registry and loads test/fixtures/bulk-models.sql:
#   acme/chat-1 (llm, default), acme/chat-2 (llm), acme/embed-1
#   (embedding, default), zeta/chat-z (llm), zeta/embed-z (embedding),
#   old-co/legacy-1 (llm), old-co/legacy-2 (embedding); all active.

FIXTURES="$MREG_SOURCE_ROOT/test/fixtures"

# The audit log is append-only (sql/0002_audit.sql): only a superuser's
# session_replication_role = replica (triggers off) lets a test empty it.
bulk_reset() {
	psql -XAtq -v ON_ERROR_STOP=1 \
		-c "BEGIN; SET LOCAL session_replication_role = replica;
		    TRUNCATE mreg.audit_log, mreg.model_defaults, mreg.source_files,
		    mreg.artifacts, mreg.models, mreg.providers RESTART IDENTITY CASCADE;
		    COMMIT" \
		-f "$FIXTURES/bulk-models.sql" >/dev/null
}

# Everything bulk-update may write, as one line per table, to compare
# before and after a run that must change nothing.
db_state() {
	q "SELECT md5(coalesce(string_agg(m::text, '|' ORDER BY m.id), ''))
	     FROM mreg.models m"
	q "SELECT count(*) FROM mreg.audit_log"
	q "SELECT coalesce(string_agg(type || '=' || model_id, ',' ORDER BY type), '')
	     FROM mreg.model_defaults"
}

# field MODEL COLUMN: one column of one model ("provider/name") as text
field() {
	q "SELECT m.$2 FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
	    WHERE p.name || '/' || m.name = \$\$$1\$\$"
}

# field_json MODEL COLUMN: the column as JSON (to_jsonb), for exact checks
field_json() {
	q "SELECT to_jsonb(m.$2) FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
	    WHERE p.name || '/' || m.name = \$\$$1\$\$"
}

default_of() {
	q "SELECT p.name || '/' || m.name FROM mreg.model_defaults d
	     JOIN mreg.models m ON m.id = d.model_id
	     JOIN mreg.providers p ON p.id = m.provider_id WHERE d.type = '$1'"
}

# Write stdin to a batch file in the test's temp dir; prints its path.
batch() {
	local f="$BATS_TEST_TMPDIR/batch-${1:-1}.json"
	cat >"$f"
	echo "$f"
}
