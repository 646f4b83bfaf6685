#!/usr/bin/env bats
# mreg set-default PROVIDER/NAME: atomic switch, audit chain, refusals

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	psql -XAtq -v ON_ERROR_STOP=1 -f "$MREG_SOURCE_ROOT/test/fixtures/registry.sql" >/dev/null
}
teardown_file() { db_drop; }

last_audit() {
	q "SELECT actor || ' ' || action || ' ' || resource || ' '
	          || coalesce(old->>'model', '(none)') || ' -> ' || (new->>'model') || ' ' || details::text
	     FROM mreg.audit_log ORDER BY id DESC LIMIT 1"
}

@test "set-default: switches the default and records previous and new" {
	run -0 "$MREG" set-default --actor alice openai/text-embedding-3-large
	assert_output "default for type embedding: openai/text-embedding-3-small -> openai/text-embedding-3-large"
	run -0 "$MREG" default embedding
	assert_output "openai/text-embedding-3-large"
	run -0 last_audit
	assert_output 'alice default.set defaults/embedding openai/text-embedding-3-small -> openai/text-embedding-3-large {"command": "set-default"}'
	# the audit row names the model and the database role, in one transaction
	assert_equal "$(q "SELECT model_id = (SELECT id FROM mreg.models WHERE name = 'text-embedding-3-large') AND db_role = current_user FROM mreg.audit_log ORDER BY id DESC LIMIT 1")" "t"
	assert_equal "$(q "SELECT (old->>'model_id')::bigint = (SELECT id FROM mreg.models WHERE name = 'text-embedding-3-small') FROM mreg.audit_log ORDER BY id DESC LIMIT 1")" "t"
}

@test "set-default: the first default of a type has no previous" {
	MREG_ACTOR=ci-bot run -0 "$MREG" set-default cohere/rerank-english-v3
	assert_output "default for type reranker: (none) -> cohere/rerank-english-v3"
	run -0 last_audit
	assert_output 'ci-bot default.set defaults/reranker (none) -> cohere/rerank-english-v3 {"command": "set-default"}'
}

@test "set-default: the actor defaults to the OS user; --actor beats MREG_ACTOR" {
	run -0 "$MREG" set-default openai/gpt-4o
	assert_equal "$(q 'SELECT actor FROM mreg.audit_log ORDER BY id DESC LIMIT 1')" "$(id -un)"
	MREG_ACTOR=env-actor run -0 "$MREG" set-default --actor flag-actor openrouter/meta-llama/llama-3-70b
	assert_equal "$(q 'SELECT actor FROM mreg.audit_log ORDER BY id DESC LIMIT 1')" "flag-actor"
	run -0 last_audit
	assert_output --partial ' openai/gpt-4o -> openrouter/meta-llama/llama-3-70b '
}

@test "set-default: setting the current default again is a no-op that says so" {
	before=$(q 'SELECT count(*) FROM mreg.audit_log')
	stamp=$(q "SELECT updated_at FROM mreg.model_defaults WHERE type = 'embedding'")
	run -0 "$MREG" set-default openai/text-embedding-3-large
	assert_output "openai/text-embedding-3-large is already the default for type embedding: nothing changed"
	assert_equal "$(q 'SELECT count(*) FROM mreg.audit_log')" "$before"
	assert_equal "$(q "SELECT updated_at FROM mreg.model_defaults WHERE type = 'embedding'")" "$stamp"
	run -0 "$MREG" set-default -q openai/text-embedding-3-large
	assert_output ""
}

@test "set-default: an inactive model is refused (exit 3), nothing changes" {
	before=$(q 'SELECT count(*) FROM mreg.audit_log')
	run -3 "$MREG" set-default acme/old-embed
	assert_line --index 0 'mreg set-default: could not make "acme/old-embed" the default: the model is inactive'
	assert_line --index 1 'HINT: Only an active model can be the default for its type.'
	run -0 "$MREG" default embedding
	assert_output "openai/text-embedding-3-large"
	assert_equal "$(q 'SELECT count(*) FROM mreg.audit_log')" "$before"
}

@test "set-default: an unknown model is refused (exit 3) with close names" {
	run -3 "$MREG" set-default openai/text-embedding-3-smal
	assert_line --index 0 'mreg set-default: unknown model "openai/text-embedding-3-smal"'
	assert_line --index 1 --partial '"openai/text-embedding-3-small"'
	run -3 "$MREG" set-default "local/x'; DELETE FROM mreg.model_defaults; --x"
	assert_equal "$(q 'SELECT count(*) FROM mreg.model_defaults')" 3
	run -2 "$MREG" set-default no-slash
	assert_output --partial "expected provider/name"
	run -2 "$MREG" set-default
	run -2 "$MREG" set-default a/b c/d
}

@test "set-default: names with / : @ and SQL metacharacters are data" {
	run -0 "$MREG" set-default 'openrouter/mistralai/mistral:7b@q4.k_m'
	run -0 "$MREG" default llm
	assert_output 'openrouter/mistralai/mistral:7b@q4.k_m'
	run -0 "$MREG" set-default "local/x'; DROP TABLE mreg.models; --"
	run -0 "$MREG" default llm
	assert_output "local/x'; DROP TABLE mreg.models; --"
	run -0 last_audit
	assert_output --partial " openrouter/mistralai/mistral:7b@q4.k_m -> local/x'; DROP TABLE mreg.models; -- "
}

@test "set-default: the database itself refuses to deactivate or delete a default" {
	run psql -XAtq -v ON_ERROR_STOP=1 -c "UPDATE mreg.models SET active = false WHERE name = 'text-embedding-3-large'"
	assert_failure
	assert_output --partial 'cannot deactivate "openai/text-embedding-3-large": it is the default model for type "embedding"'
	run psql -XAtq -v ON_ERROR_STOP=1 -c "DELETE FROM mreg.models WHERE name = 'text-embedding-3-large'"
	assert_failure
	assert_output --partial 'model_defaults_model_fkey'
	run psql -XAtq -v ON_ERROR_STOP=1 -c "UPDATE mreg.model_defaults SET model_id = (SELECT id FROM mreg.models WHERE name = 'old-embed') WHERE type = 'embedding'"
	assert_failure
	assert_output --partial 'model "acme/old-embed" is not active'
	# after moving the default away, the old one can be deactivated
	run -0 "$MREG" set-default openai/text-embedding-3-small
	q "UPDATE mreg.models SET active = false WHERE name = 'text-embedding-3-large'"
	run -3 "$MREG" set-default openai/text-embedding-3-large
	assert_output --partial "the model is inactive"
	q "UPDATE mreg.models SET active = true WHERE name = 'text-embedding-3-large'"
}

@test "set-default: 50 concurrent calls leave one default and an unbroken audit chain" {
	q "INSERT INTO mreg.providers (name) VALUES ('conc')"
	q "INSERT INTO mreg.models (provider_id, name, type)
	   SELECT p.id, 'c' || lpad(i::text, 2, '0'), 'conctype'
	     FROM generate_series(1, 50) i, mreg.providers p WHERE p.name = 'conc'"
	start=$(q 'SELECT coalesce(max(id), 0) FROM mreg.audit_log')
	pids=()
	for i in $(seq -w 1 50); do
		"$MREG" set-default -q --actor "w$i" "conc/c$i" >"$BATS_TEST_TMPDIR/out.$i" 2>&1 &
		pids+=($!)
	done
	failed=0
	for p in "${pids[@]}"; do wait "$p" || failed=$((failed + 1)); done
	[ "$failed" -eq 0 ] || { cat "$BATS_TEST_TMPDIR"/out.*; fail "$failed calls failed"; }
	# exactly one default for the type
	assert_equal "$(q "SELECT count(*) FROM mreg.model_defaults WHERE type = 'conctype'")" 1
	# every call changed the default once (all models differ): 50 entries
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log WHERE id > $start AND resource = 'defaults/conctype'")" 50
	# chain: the first has no previous, each previous is the prior new
	run -0 q "SELECT count(*) FROM (
	            SELECT old->>'model' AS prev,
	                   lag(new->>'model') OVER (ORDER BY id) AS prior_new,
	                   row_number() OVER (ORDER BY id) AS n
	              FROM mreg.audit_log
	             WHERE id > $start AND resource = 'defaults/conctype') c
	           WHERE (n = 1 AND prev IS NOT NULL)
	              OR (n > 1 AND prev IS DISTINCT FROM prior_new)"
	assert_output 0
	# ordering by time tells the same story as ordering by id
	assert_equal "$(q "SELECT string_agg(id::text, ',' ORDER BY logged_at, id) FROM mreg.audit_log WHERE id > $start AND resource = 'defaults/conctype'")" \
		"$(q "SELECT string_agg(id::text, ',' ORDER BY id) FROM mreg.audit_log WHERE id > $start AND resource = 'defaults/conctype'")"
	# the surviving default is the last entry's new
	assert_equal "conc/$(q "SELECT m.name FROM mreg.model_defaults d JOIN mreg.models m ON m.id = d.model_id WHERE d.type = 'conctype'")" \
		"$(q "SELECT new->>'model' FROM mreg.audit_log WHERE resource = 'defaults/conctype' ORDER BY id DESC LIMIT 1")"
	# each actor's entry is its own model
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log WHERE id > $start AND resource = 'defaults/conctype' AND new->>'model' <> 'conc/c' || substr(actor, 2)")" 0
}

@test "set-default: concurrent calls with repeats: no-ops write nothing, chain holds" {
	start=$(q 'SELECT coalesce(max(id), 0) FROM mreg.audit_log')
	pids=()
	for i in $(seq 1 40); do
		n=$(printf '%02d' $(( (i % 4) + 1 )))
		"$MREG" set-default -q "conc/c$n" >/dev/null 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	run -0 q "SELECT count(*) FROM (
	            SELECT old->>'model' AS prev, new->>'model' AS new,
	                   lag(new->>'model') OVER (ORDER BY id) AS prior_new,
	                   row_number() OVER (ORDER BY id) AS n
	              FROM mreg.audit_log
	             WHERE id > $start AND resource = 'defaults/conctype') c
	           WHERE (n > 1 AND prev IS DISTINCT FROM prior_new) OR prev = new"
	assert_output 0
	assert_equal "$(q "SELECT count(*) FROM mreg.model_defaults WHERE type = 'conctype'")" 1
}

@test "set-default: a database that cannot be reached is exit 1" {
	run -1 "$MREG" set-default openai/gpt-4o --dsn "host=/nonexistent password=hunter2"
	refute_output --partial hunter2
}
