#!/usr/bin/env bats
# mreg search QUERY

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	psql -XAtq -v ON_ERROR_STOP=1 -f "$MREG_SOURCE_ROOT/test/fixtures/registry.sql" >/dev/null
}
teardown_file() { db_drop; }

models() {
	"$MREG" search "$@" -o ndjson | jq -r .model
}

@test "search: a misspelt name still finds the model (trigram)" {
	run -0 models text-embeding
	assert_line "openai/text-embedding-3-small"
	assert_line "openai/text-embedding-3-large"
	run -0 models 'lama-3-70b'
	assert_line --index 0 "openrouter/meta-llama/llama-3-70b"
	run -0 models 'rerank-englsh'
	assert_line --index 0 "cohere/rerank-english-v3"
}

@test "search: description, tags and synonyms are searched, names rank first" {
	run -0 models retrieval
	assert_output "$(printf '%s\n' openai/text-embedding-3-large openai/text-embedding-3-small)"
	# English stemming on descriptions: "reranks" -> "rerank"
	run -0 models 'reranking'
	assert_line "cohere/rerank-english-v3"
	run -0 models te3s
	assert_output "openai/text-embedding-3-small"
	run -0 models legacy
	assert_output "acme/old-embed"
	# a name match outranks a description-only match
	q "INSERT INTO mreg.models (provider_id, name, type, description)
	   SELECT id, 'notes-model', 'llm', 'mentions quantised once' FROM mreg.providers WHERE name = 'local'"
	run -0 models quantised
	assert_line --index 0 "openrouter/mistralai/mistral:7b@q4.k_m"
}

@test "search: scores are in descending order" {
	run -0 "$MREG" search embedding -o json
	run -0 jq -r '[.items[].score] == ([.items[].score] | sort | reverse)' <<<"$output"
	assert_output "true"
}

@test "search: --type, --provider and --limit" {
	run -0 models embed --type embedding --provider openai
	assert_output "$(printf '%s\n' openai/text-embedding-3-large openai/text-embedding-3-small)"
	run -0 models embed --type llm
	assert_output ""
	run -0 models embed --limit 1
	assert_equal "${#lines[@]}" 1
	run -2 "$MREG" search embed --limit 0
}

@test "search: every format parses back" {
	run -0 "$MREG" search 'weird quoted' -o json
	assert_equal "$(jq -r '.items[0].name' <<<"$output")" 'we,ird "quoted" name'
	assert_equal "$(jq '.next' <<<"$output")" "null"
	run -0 "$MREG" search 'weird quoted' -o csv
	got=$(python3 -c '
import csv, sys
for r in csv.DictReader(sys.stdin): print(r["name"] + "|" + r["display_name"])' <<<"$output")
	assert_equal "$got" "$(q "SELECT name || '|' || display_name FROM mreg.models WHERE name LIKE 'we,ird%'")"
	run -0 "$MREG" search 'modèle'
	assert_line --index 0 --regexp '^MODEL +TYPE +ACTIVE +DISPLAY_NAME +TAGS +SCORE$'
	assert_output --partial "local/modèle-日本語"
}

@test "search: unknown type or provider exits 3" {
	run -3 "$MREG" search embed --type embeding
	assert_output --partial 'unknown type "embeding"'
	assert_output --partial '"embedding"'
	run -3 "$MREG" search embed --provider openaj
	assert_output --partial 'unknown provider "openaj"'
}

@test "search: query syntax and SQL metacharacters are data" {
	run -0 models "x'; DROP TABLE mreg.models; --"
	assert_line "local/x'; DROP TABLE mreg.models; --"
	run -0 models '"unbalanced'
	run -0 models '!!! & | :* <->'
	assert_output ""
	run -0 models 'embedding or rerank'
	assert_line "cohere/rerank-english-v3"
	assert_line "openai/text-embedding-3-large"
	q 'SELECT count(*) FROM mreg.models' >/dev/null
}

@test "search: usage errors" {
	run -2 "$MREG" search
	assert_output --partial "missing QUERY"
	run -2 "$MREG" search ''
	run -2 "$MREG" search two words
	assert_output --partial "quote a query"
}
