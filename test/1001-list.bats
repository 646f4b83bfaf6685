#!/usr/bin/env bats
# mreg list: filters, formats, escaping, keyset pagination, errors

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	psql -XAtq -v ON_ERROR_STOP=1 -f "$MREG_SOURCE_ROOT/test/fixtures/registry.sql" >/dev/null
}
teardown_file() { db_drop; }

# the names of `mreg list ARGS -o ndjson`, one per line
names() {
	"$MREG" list "$@" -o ndjson 2>/dev/null | jq -r '.model'
}

@test "list: active models by default, sorted by name" {
	run -0 names
	expected=$(q "SELECT p.name || '/' || m.name FROM mreg.models m
	              JOIN mreg.providers p ON p.id = m.provider_id
	              WHERE m.active ORDER BY m.name, m.id")
	assert_output "$expected"
	refute_output --partial "acme/old-embed"
	assert_equal "$(echo "$output" | wc -l)" "$(q 'SELECT count(*) FROM mreg.models WHERE active')"
}

@test "list: --inactive and --all" {
	run -0 names --inactive
	assert_output "acme/old-embed"
	run -0 names --all
	assert_equal "$(echo "$output" | wc -l)" "$(q 'SELECT count(*) FROM mreg.models')"
	assert_line "acme/old-embed"
	# the last flag wins
	run -0 names --all --active
	refute_line "acme/old-embed"
}

@test "list: --type, --provider and repeated --tag combine" {
	run -0 names --type embedding
	assert_output "$(q "SELECT p.name || '/' || m.name FROM mreg.models m
	                   JOIN mreg.providers p ON p.id = m.provider_id
	                   WHERE m.active AND m.type = 'embedding' ORDER BY m.name, m.id")"
	assert_equal "${#lines[@]}" 3
	run -0 names --type embedding --provider openai
	assert_output "$(printf '%s\n' openai/text-embedding-3-large openai/text-embedding-3-small)"
	run -0 names --type embedding --provider openai --tag embed --tag fast
	assert_output "openai/text-embedding-3-small"
	run -0 names --tag chat --tag vision
	assert_output "openai/gpt-4o"
	run -0 names --all --type embedding --tag legacy
	assert_output "acme/old-embed"
	run -0 names --tag chat --provider openrouter
	assert_output "$(printf '%s\n' openrouter/meta-llama/llama-3-70b 'openrouter/mistralai/mistral:7b@q4.k_m')"
}

@test "list: names with / : @ split at the first slash" {
	run -0 "$MREG" list --provider openrouter -o json
	run -0 jq -r '.items[] | "\(.provider)|\(.name)"' <<<"$output"
	assert_line "openrouter|meta-llama/llama-3-70b"
	assert_line "openrouter|mistralai/mistral:7b@q4.k_m"
}

@test "list: JSON carries every field with its type" {
	run -0 "$MREG" list --type llm --provider openai -o json
	run -0 jq -c '.items[0] | [(.id|type), .active, .tags, .version, .display_name, (.updated_at|test("Z$"))]' <<<"$output"
	assert_output '["number",true,["chat","vision"],"2024-08-06","GPT-4o",true]'
	run -0 "$MREG" list --type llm --provider openrouter -o json
	run -0 jq -c '[.items[] | .version]' <<<"$output"
	assert_output '[null,"q4"]'
}

@test "list: commas, quotes, non-ASCII and newlines round-trip through JSON, NDJSON and CSV" {
	want=$(q "SELECT name || '|' || display_name FROM mreg.models WHERE name LIKE 'we,ird%'")
	run -0 "$MREG" list --provider acme -o json
	assert_equal "$(jq -r '.items[0] | .name + "|" + .display_name' <<<"$output")" "$want"
	run -0 "$MREG" list --provider acme -o ndjson
	assert_equal "$(jq -r '.name + "|" + .display_name' <<<"$output")" "$want"
	run -0 "$MREG" list --provider acme -o csv
	got=$(python3 -c '
import csv, sys
rows = list(csv.DictReader(sys.stdin))
print(rows[0]["name"] + "|" + rows[0]["display_name"])' <<<"$output")
	assert_equal "$got" "$want"
	run -0 "$MREG" list --provider local -o csv
	got=$(python3 -c '
import csv, sys
for r in csv.DictReader(sys.stdin): print(r["name"])' <<<"$output")
	assert_equal "$got" "$(q "SELECT m.name FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id WHERE p.name = 'local' ORDER BY m.name, m.id")"
	assert_output --partial "modèle-日本語"
}

@test "list: CSV is RFC 4180 (CRLF, header, quoted tags)" {
	run -0 "$MREG" list --type reranker -o csv
	# the keys of the model object (mreg-json(7)), in order
	assert_line --index 0 $'model,id,provider,name,type,version,active,display_name,description,tags,synonyms,default,config,metadata,created_at,updated_at\r'
	assert_line --index 1 --regexp $'^cohere/rerank-english-v3,[0-9]+,cohere,rerank-english-v3,reranker,v3,true,Rerank English v3,[^,]*,"\\[""rerank""\\]",\\[\\],false,\\{\\},\\{\\},[0-9T:.-]+Z,[0-9T:.-]+Z\r$'
}

@test "list: table has a header, aligned columns and no colour without a TTY" {
	run -0 "$MREG" list --type llm --provider openrouter
	assert_line --index 0 --regexp '^MODEL +TYPE +VERSION +ACTIVE +TAGS +UPDATED_AT$'
	refute_output --partial $'\e['
	# every row starts its TYPE column where the header does
	col=$(head -1 <<<"$output" | grep -bo TYPE | cut -d: -f1)
	while IFS= read -r line; do
		assert_equal "${line:$col:3}" "llm"
	done < <(tail -n +2 <<<"$output")
}

@test "list: on a terminal the table fits COLUMNS and marks what it cut" {
	run -0 script -qec "COLUMNS=50 '$MREG' --no-pager list --all" /dev/null
	output=${output//$'\r'/}
	while IFS= read -r line; do
		w=$(printf '%s' "$line" | wc -m)
		[ "$w" -le 50 ] || fail "line wider than 50: $line"
	done <<<"$output"
	# cut cells, or whole columns left out when even their header does
	# not fit (test/0010-terminal.bats shows which go first)
	assert_output --regexp '…|-- not shown: '
	run -0 script -qec "COLUMNS=300 '$MREG' --no-pager list --all" /dev/null
	refute_output --partial "…"
	# a pipe gets every character, whatever COLUMNS says
	COLUMNS=50 run -0 "$MREG" list --all
	refute_output --partial "…"
}

@test "list: escape sequences in data never reach the terminal raw" {
	q "UPDATE mreg.models SET version = E'v\\x1b[31mred' WHERE name = 'gpt-4o'"
	run -0 "$MREG" list --type llm --provider openai
	refute_output --partial $'\e'
	assert_output --partial 'v\x1b[31mred'
	q "UPDATE mreg.models SET version = '2024-08-06' WHERE name = 'gpt-4o'"
}

@test "list: colour only on a terminal, never with NO_COLOR" {
	run -0 script -qec "env -u NO_COLOR COLUMNS=200 '$MREG' list --no-pager --type reranker" /dev/null
	assert_output --partial $'\e[1mMODEL'
	run -0 script -qec "NO_COLOR=1 COLUMNS=200 '$MREG' list --no-pager --type reranker" /dev/null
	refute_output --partial $'\e['
	assert_output --partial "MODEL"
}

@test "list: pages walk every row exactly once; JSON carries next" {
	all=$(names --all)
	pages=()
	cursor=""
	seen=""
	for i in $(seq 1 20); do
		if [ -n "$cursor" ]; then
			run -0 "$MREG" list --all --limit 3 --after "$cursor" -o json
		else
			run -0 "$MREG" list --all --limit 3 -o json
		fi
		n=$(jq '.items | length' <<<"$output")
		[ "$n" -le 3 ] || fail "page of $n rows"
		seen+=$(jq -r '.items[].model' <<<"$output")$'\n'
		cursor=$(jq -r '.next // empty' <<<"$output")
		[ -n "$cursor" ] || break
	done
	assert_equal "$(sed '/^$/d' <<<"$seen")" "$all"
}

@test "list: the last page has next null and a full page ends where rows end" {
	total=$(q 'SELECT count(*) FROM mreg.models')
	run -0 "$MREG" list --all --limit "$total" -o json
	assert_equal "$(jq '.next' <<<"$output")" "null"
	run -0 "$MREG" list --all --limit "$((total - 1))" -o json
	refute [ "$(jq '.next' <<<"$output")" = "null" ]
}

@test "list: --count is the total matching, whatever the page" {
	run -0 "$MREG" list --all --limit 2 --count -o json
	assert_equal "$(jq '.count' <<<"$output")" "$(q 'SELECT count(*) FROM mreg.models')"
	assert_equal "$(jq '.items | length' <<<"$output")" 2
	run -0 "$MREG" list --type embedding --limit 1 --count -o json
	assert_equal "$(jq '.count' <<<"$output")" "$(q "SELECT count(*) FROM mreg.models WHERE type = 'embedding' AND active")"
	run -0 "$MREG" list --type embedding --count
	assert_line "-- 3 models in total"
	run --separate-stderr -0 "$MREG" list --type embedding --count -o ndjson
	assert_equal "$stderr" "mreg list: 3 models in total"
	# without --count, a page cut short by --limit does not know its total
	run -0 "$MREG" list --limit 1 -o json
	assert_equal "$(jq '.count' <<<"$output")" "null"
}

@test "list: table and NDJSON print the next cursor outside the rows" {
	run -0 "$MREG" list --limit 2
	assert_line --index 3 --regexp '^-- next page: --after [A-Za-z0-9_-]+$'
	run --separate-stderr -0 "$MREG" list --limit 2 -o ndjson
	assert_equal "$(wc -l <<<"$output")" 2
	[[ $stderr =~ ^"mreg list: next page: --after "([A-Za-z0-9_-]+)$ ]]
	cursor=${BASH_REMATCH[1]}
	run -0 names --limit 2 --after "$cursor"
	assert_equal "$output" "$(names | sed -n 3,4p)"
}

@test "list: pagination under concurrent inserts sees every old row once, none twice" {
	q "INSERT INTO mreg.providers (name) VALUES ('pg')"
	q "INSERT INTO mreg.models (provider_id, name, type)
	   SELECT p.id, 'p-' || lpad(i::text, 4, '0'), 'pagetest'
	     FROM generate_series(1, 300) i, mreg.providers p WHERE p.name = 'pg'"
	before=$(names --type pagetest)
	# insert rows before and after the cursor while we page
	( for i in $(seq 1 60); do
		psql -XAtq -c "INSERT INTO mreg.models (provider_id, name, type)
		  SELECT id, 'p-' || lpad((floor(random() * 400))::int::text, 4, '0') || '-new$i', 'pagetest'
		    FROM mreg.providers WHERE name = 'pg'" >/dev/null
	  done ) &
	writer=$!
	seen=""
	cursor=""
	pages=0
	while :; do
		if [ -n "$cursor" ]; then
			out=$("$MREG" list --type pagetest --limit 7 --after "$cursor" -o json)
		else
			out=$("$MREG" list --type pagetest --limit 7 -o json)
		fi
		seen+=$(jq -r '.items[].model' <<<"$out")$'\n'
		cursor=$(jq -r '.next // empty' <<<"$out")
		pages=$((pages + 1))
		[ -n "$cursor" ] || break
	done
	wait "$writer"
	seen=$(sed '/^$/d' <<<"$seen")
	# no row twice
	assert_equal "$(sort <<<"$seen" | uniq -d)" ""
	# every row that existed before is there
	assert_equal "$(comm -23 <(sort <<<"$before") <(sort <<<"$seen"))" ""
	[ "$pages" -ge 43 ]
}

@test "list: --sort updated is newest first and pages too" {
	q "UPDATE mreg.models SET updated_at = now() + interval '1 hour' WHERE name = 'rerank-english-v3'"
	run -0 names --sort updated --limit 1
	assert_output "cohere/rerank-english-v3"
	run -0 "$MREG" list --sort updated --limit 2 -o json
	cursor=$(jq -r .next <<<"$output")
	first=$(jq -r '.items[].model' <<<"$output")
	run -0 names --sort updated --limit 2 --after "$cursor"
	assert_equal "$(printf '%s\n%s' "$first" "$output")" "$(names --sort updated | head -4)"
	# a cursor of one sort order is refused by the other
	run -2 "$MREG" list --after "$cursor"
	assert_output --partial "belongs to another listing or sort order"
}

@test "list: a malformed cursor is a usage error" {
	run -2 "$MREG" list --after 'not a cursor!'
	assert_output --partial 'invalid cursor'
	run -2 "$MREG" list --after 'MXo'
	assert_output --partial 'invalid cursor'
}

@test "list: unknown type or provider exits 3 with close names" {
	run -3 "$MREG" list --type embeding
	assert_line 'mreg list: unknown type "embeding"'
	assert_line 'HINT: did you mean "embedding"?'
	run -3 "$MREG" list --provider opnai
	assert_line 'mreg list: unknown provider "opnai"'
	assert_output --partial '"openai"'
	# known, but nothing matches: an empty listing, not an error
	run -0 "$MREG" list --type reranker --inactive -o json
	assert_equal "$(jq -c .items <<<"$output")" "[]"
}

@test "list: SQL metacharacters in arguments are data" {
	run -3 "$MREG" list --type "x'; DROP TABLE mreg.models; --"
	assert_output --partial "unknown type \"x'; DROP TABLE mreg.models; --\""
	run -0 "$MREG" list --tag 'a"}' --tag "b'\\" -o json
	assert_equal "$(jq -c .items <<<"$output")" "[]"
	run -3 "$MREG" list --provider "' OR 1=1 --"
	run -0 names --provider local
	assert_line "local/x'; DROP TABLE mreg.models; --"
	q "UPDATE mreg.models SET tags = ARRAY['a\"}', 'b''\\'] WHERE name = 'gpt-4o'"
	run -0 names --tag 'a"}' --tag "b'\\"
	assert_output "openai/gpt-4o"
	q 'SELECT count(*) FROM mreg.models' >/dev/null
}

@test "list providers, defaults" {
	run -0 "$MREG" list providers -o json
	assert_equal "$(jq -r '[.items[].name] | join(",")' <<<"$output")" "$(q "SELECT string_agg(name, ',' ORDER BY name) FROM mreg.providers")"
	assert_equal "$(jq -r '.items[] | select(.name == "openai") | "\(.active_models) \(.models)"' <<<"$output")" "3 3"
	assert_equal "$(jq -r '.items[] | select(.name == "acme") | "\(.active_models) \(.models)"' <<<"$output")" "1 2"
	run -0 "$MREG" list providers --limit 2 -o json
	cursor=$(jq -r .next <<<"$output")
	run -0 "$MREG" list providers --after "$cursor" --count -o json
	assert_equal "$(jq -r '.items[0].name' <<<"$output")" "$(q 'SELECT name FROM mreg.providers ORDER BY name OFFSET 2 LIMIT 1')"
	assert_equal "$(jq .count <<<"$output")" "$(q 'SELECT count(*) FROM mreg.providers')"
	run -0 "$MREG" list defaults -o csv
	assert_line --index 0 $'type,model,model_id,updated_at\r'
	assert_line --index 1 --partial 'embedding,openai/text-embedding-3-small,'
	run -0 "$MREG" list defaults
	assert_line --index 0 --regexp '^TYPE +MODEL +UPDATED_AT$'
}

@test "list audit: filters by actor, action, model, time" {
	q "INSERT INTO mreg.audit_log (logged_at, actor, action, resource, details) VALUES
	   (now() - interval '3 days', 'carol', 'model.update', 'models/openai/gpt-4o', '{\"old\": 1, \"new\": 2}'),
	   (now() - interval '1 hour', 'dave', 'model.deactivate', 'models/acme/old-embed', '{}')"
	run -0 "$MREG" list audit --actor carol -o ndjson
	assert_equal "$(jq -r '.action + " " + .resource' <<<"$output")" "model.update models/openai/gpt-4o"
	run -0 "$MREG" list audit --action model.deactivate -o ndjson
	assert_equal "$(jq -r .actor <<<"$output")" "dave"
	run -0 "$MREG" list audit --model openai/gpt-4o -o ndjson
	# the fixture's create, carol's row, and the database's rows of this
	# suite's psql edits of the model (actor: the database role)
	assert_equal "$(jq -r .actor <<<"$output" | sort -u | grep -c -x -e carol -e fixture)" 2
	assert_equal "$(jq -r .resource <<<"$output" | sort -u)" "models/openai/gpt-4o"
	run -0 "$MREG" list audit --since 2h -o ndjson
	refute_output --partial carol
	assert_output --partial dave
	run -0 "$MREG" list audit --until 1d -o ndjson
	assert_equal "$(jq -r .actor <<<"$output")" "carol"
	run -0 "$MREG" list audit --since 2000-01-01 --until 2000-01-02 -o json
	assert_equal "$(jq -c .items <<<"$output")" "[]"
	# newest first, and details stay JSON
	run -0 "$MREG" list audit -o json
	assert_equal "$(jq -r '[.items[].logged_at] == ([.items[].logged_at] | sort | reverse)' <<<"$output")" "true"
	assert_equal "$(jq -r '.items[] | select(.actor == "carol") | .details.new' <<<"$output")" "2"
	# pages of audit entries
	total=$(q 'SELECT count(*) FROM mreg.audit_log')
	run -0 "$MREG" list audit --limit 2 --count -o json
	assert_equal "$(jq .count <<<"$output")" "$total"
	cursor=$(jq -r .next <<<"$output")
	run -0 "$MREG" list audit --after "$cursor" -o json
	assert_equal "$(jq '.items | length' <<<"$output")" "$((total - 2))"
}

@test "list audit: bad time and bad --model" {
	run -2 "$MREG" list audit --since yesterday-ish
	assert_output --partial 'mreg list: --since: invalid time "yesterday-ish"'
	run -2 "$MREG" list audit --model no-slash
	assert_output --partial "expected provider/name"
}

@test "list: options that do not go with the listing, bad values" {
	run -2 "$MREG" list providers --type llm
	assert_output --partial "go with 'list models'"
	run -2 "$MREG" list models --actor bob
	assert_output --partial "go with 'list audit'"
	run -2 "$MREG" list gizmos
	assert_output --partial "cannot list 'gizmos'"
	run -2 "$MREG" list --format yaml
	assert_output --partial "--format must be table, json, ndjson or csv"
	run -2 "$MREG" list --limit 0
	run -2 "$MREG" list --sort size
	run -2 "$MREG" list models extra
}

@test "list: a database that cannot be reached is exit 1, without the password" {
	run -1 "$MREG" list --dsn "host=/nonexistent user=u password=hunter2"
	assert_output --partial "mreg list:"
	refute_output --partial hunter2
}

@test "list: --explain shows the plan of the query it would run" {
	run -0 "$MREG" list --type llm --limit 5 --explain
	run -0 jq -r '.[0].Plan["Node Type"]' <<<"$output"
	assert_output "Limit"
}
