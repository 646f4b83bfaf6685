#!/usr/bin/env bats
# mreg show PROVIDER/NAME

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	psql -XAtq -v ON_ERROR_STOP=1 -f "$MREG_SOURCE_ROOT/test/fixtures/registry.sql" >/dev/null
}
teardown_file() { db_drop; }

@test "show: JSON has every field, artifacts, default status, source and audit" {
	run -0 "$MREG" show openai/text-embedding-3-small -o json
	json=$output
	run -0 jq -r '[.provider, .name, .type, .version, (.active|tostring), (.default|tostring), (.tags|join(",")), (.synonyms|join(",")), (.config.dimensions|tostring)] | join(" ")' <<<"$json"
	assert_output "openai text-embedding-3-small embedding 3 true true embed,fast te3s 1536"
	run -0 jq -c '.artifacts' <<<"$json"
	assert_output '[{"path":"weights/model.bin","size":123456789,"sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}]'
	run -0 jq -r '.source.source + "/" + .source.path' <<<"$json"
	assert_output "/srv/models/openai/text-embedding-3-small.json"
	run -0 jq -r '.audit[-1].actor + " " + .audit[-1].action' <<<"$json"
	assert_output "fixture model.create"
	run -0 jq -r '.created_at' <<<"$json"
	assert_output --regexp '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$'
	assert_equal "$(jq -r .id <<<"$json")" "$(q "SELECT id FROM mreg.models WHERE name = 'text-embedding-3-small'")"
}

@test "show: a model that is not the default, with no artifacts or source" {
	run -0 "$MREG" show openai/text-embedding-3-large -o json
	run -0 jq -c '[.default, .artifacts, .source]' <<<"$output"
	assert_output '[false,[],null]'
}

@test "show: names with / : @, quotes, commas, newlines and non-ASCII" {
	run -0 "$MREG" show 'openrouter/mistralai/mistral:7b@q4.k_m' -o json
	assert_equal "$(jq -r .name <<<"$output")" "mistralai/mistral:7b@q4.k_m"
	run -0 "$MREG" show 'acme/we,ird "quoted" name' -o ndjson
	assert_equal "${#lines[@]}" 1
	assert_equal "$(jq -r .display_name <<<"$output")" "$(q "SELECT display_name FROM mreg.models WHERE name LIKE 'we,ird%'")"
	assert_equal "$(jq -r .config.k <<<"$output")" 'v,"x"'
	run -0 "$MREG" show 'local/modèle-日本語' -o json
	assert_equal "$(jq -r .display_name <<<"$output")" "Modèle 日本語"
	run -0 "$MREG" show "local/x'; DROP TABLE mreg.models; --" -o json
	assert_equal "$(jq -r .description <<<"$output")" "SQL metacharacters in a name."
}

@test "show: table view" {
	run -0 "$MREG" show openai/text-embedding-3-small
	assert_line --index 0 "model:        openai/text-embedding-3-small"
	assert_line "default:      yes (for type embedding)"
	assert_line "tags:         embed, fast"
	assert_line --partial "source:       /srv/models/openai/text-embedding-3-small.json (412 bytes"
	assert_line "artifacts: 1"
	assert_line --regexp '^weights/model.bin +123456789  9f86d0'
	assert_line "recent audit entries:"
	# each entry's old and new values, then its context
	assert_line --regexp '^ID +LOGGED_AT +ACTOR +ACTION +OLD +NEW +DETAILS'
	# a newline in a value is shown escaped, on one line
	run -0 "$MREG" show 'acme/we,ird "quoted" name'
	assert_line 'display_name: two\nlines, "quotes"'
}

@test "show: CSV is field,value" {
	run -0 "$MREG" show cohere/rerank-english-v3 -o csv
	assert_line --index 0 $'field,value\r'
	assert_line $'type,reranker\r'
	assert_line $'tags,"[""rerank""]"\r'
	assert_line $'version,v3\r'
}

@test "show: --audit limits the entries" {
	for i in 1 2 3 4 5; do
		q "INSERT INTO mreg.audit_log (actor, action, resource, model_id)
		   SELECT 'bot$i', 'model.update', 'models/openai/gpt-4o', id FROM mreg.models WHERE name = 'gpt-4o'"
	done
	run -0 "$MREG" show openai/gpt-4o --audit 3 -o json
	assert_equal "$(jq -r '[.audit[].actor] | join(",")' <<<"$output")" "bot5,bot4,bot3"
	run -0 "$MREG" show openai/gpt-4o --audit 0 -o json
	assert_equal "$(jq -c .audit <<<"$output")" "[]"
	# entries found by resource only (no model_id) are there too
	q "INSERT INTO mreg.audit_log (actor, action, resource) VALUES ('byname', 'model.update', 'models/openai/gpt-4o')"
	run -0 "$MREG" show openai/gpt-4o --audit 1 -o json
	assert_equal "$(jq -r '.audit[0].actor' <<<"$output")" "byname"
	run -2 "$MREG" show openai/gpt-4o --audit many
}

@test "show: unknown model exits 3 and suggests close names" {
	run -3 "$MREG" show openai/text-embeding-3-small
	assert_line --index 0 'mreg show: unknown model "openai/text-embeding-3-small"'
	assert_line --index 1 --partial 'HINT: did you mean "openai/text-embedding-3-small"'
	# the right name under the wrong provider
	run -3 "$MREG" show cohere/gpt-4o
	assert_output --partial '"openai/gpt-4o"'
	# nothing close: no hint
	run -3 "$MREG" show openai/zzzzzzzzzzzz
	refute_output --partial HINT
}

@test "show: usage errors" {
	run -2 "$MREG" show
	assert_output --partial "missing PROVIDER/NAME"
	run -2 "$MREG" show gpt-4o
	assert_output --partial 'invalid model "gpt-4o": expected provider/name'
	run -2 "$MREG" show openai/
	run -2 "$MREG" show /gpt-4o
	run -2 "$MREG" show openai/gpt-4o extra
	run -2 "$MREG" show openai/gpt-4o --format xml
}

@test "show: a database that cannot be reached is exit 1" {
	run -1 "$MREG" show openai/gpt-4o --dsn "host=/nonexistent password=hunter2"
	refute_output --partial hunter2
}
