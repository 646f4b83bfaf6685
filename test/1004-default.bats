#!/usr/bin/env bats
# mreg default TYPE

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	psql -XAtq -v ON_ERROR_STOP=1 -f "$MREG_SOURCE_ROOT/test/fixtures/registry.sql" >/dev/null
}
teardown_file() { db_drop; }

@test "default: prints provider/name alone, for \$(mreg default TYPE)" {
	run --separate-stderr -0 "$MREG" default embedding
	assert_output "openai/text-embedding-3-small"
	assert_equal "$stderr" ""
	model=$("$MREG" default embedding)
	run -0 "$MREG" show "$model" -o json
	assert_equal "$(jq -r .default <<<"$output")" "true"
}

@test "default: follows the database" {
	q "UPDATE mreg.model_defaults SET model_id = (SELECT id FROM mreg.models WHERE name = 'meta-llama/llama-3-70b'), type = 'llm' WHERE type = 'embedding'"
	run -0 "$MREG" default llm
	assert_output "openrouter/meta-llama/llama-3-70b"
	run -3 "$MREG" default embedding
	q "UPDATE mreg.model_defaults SET model_id = (SELECT id FROM mreg.models WHERE name = 'text-embedding-3-small'), type = 'embedding'"
	run -0 "$MREG" default embedding
	assert_output "openai/text-embedding-3-small"
}

@test "default: a type without a default exits 3 and says so" {
	run --separate-stderr -3 "$MREG" default reranker
	assert_output ""
	assert_equal "${stderr_lines[0]}" 'mreg default: type "reranker" has no default model'
	assert_equal "${stderr_lines[1]}" "HINT: Choose one with 'mreg set-default PROVIDER/NAME' (see 'mreg list --type reranker')."
}

@test "default: an unknown type exits 3 with close names" {
	run -3 "$MREG" default embeding
	assert_line --index 0 'mreg default: unknown type "embeding"'
	assert_line --index 1 'HINT: did you mean "embedding"?'
	run -3 "$MREG" default "x'; DROP TABLE mreg.model_defaults; --"
	assert_output --partial "unknown type"
	assert_equal "$(q 'SELECT count(*) FROM mreg.model_defaults')" 1
}

@test "default: usage errors" {
	run -2 "$MREG" default
	assert_output --partial "missing TYPE"
	run -2 "$MREG" default a b
	run -2 "$MREG" default --bogus
}

@test "default: a database that cannot be reached is exit 1" {
	run -1 "$MREG" default embedding --dsn "host=/nonexistent password=hunter2"
	refute_output --partial hunter2
	MREG_DSN="postgresql:///nonexistent?host=/nonexistent&password=hunter2" run -1 "$MREG" default embedding
	refute_output --partial hunter2
}
