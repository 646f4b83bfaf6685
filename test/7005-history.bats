#!/usr/bin/env bats
# mreg history PROVIDER/NAME | --type TYPE: field-level changes from the
# audit log the database writes (whoever the writer), formats, time
# ranges and keyset pages of whole entries

load helpers
bats_require_minimum_version 1.5.0

M=openai/text-embedding-3-small

setup_file() {
	db_create_migrated
	export TREE="$BATS_FILE_TMPDIR/models"
	cp -r "$MREG_SOURCE_ROOT/test/data/models" "$TREE"
	"$MREG" import-dir --actor importer --source hist "$TREE" >/dev/null
}
teardown_file() { db_drop; }

# fields MODEL-OR---type... : the history as CSV rows (no header, no CR)
# of actor,action,field,old,new,command,path,reason
fields() {
	"$MREG" history "$@" -o csv --no-headers \
		--columns actor,action,field,old,new,command,path,reason | tr -d '\r'
}

# newest MODEL: the newest entry as JSON (changes and context)
newest() {
	"$MREG" history "$@" -o json --limit 1 | jq -c '.items[0] | {actor, action, changes, context: (.context | del(.sha256, .source, .batch))}'
}

@test "history: an import, an edit and re-import, a bulk-update and a psql UPDATE, field by field" {
	# the import that created it
	run -0 fields "$M"
	assert_output --partial 'importer,model.create,description,,"Small, fast English and multilingual embedding model.",import-dir,openai/text-embedding-3-small.json,'
	assert_output --partial 'importer,model.create,version,,3,import-dir,openai/text-embedding-3-small.json,'
	# an edit of the file, imported again: one field, old -> new, the file
	f="$TREE/openai/text-embedding-3-small.json"
	jq '.description = "edited once"' "$f" >"$f.new" && mv "$f.new" "$f"
	"$MREG" import-dir --actor importer2 --source hist "$TREE" >/dev/null
	run -0 newest "$M"
	assert_output '{"actor":"importer2","action":"model.update","changes":{"description":{"old":"Small, fast English and multilingual embedding model.","new":"edited once"}},"context":{"path":"openai/text-embedding-3-small.json","command":"import-dir"}}'
	# a bulk-update
	printf '{"model": "%s", "set": {"version": "4", "tags": ["a", "b"]}}\n' "$M" >"$BATS_TEST_TMPDIR/b.ndjson"
	"$MREG" bulk-update --actor bulker "$BATS_TEST_TMPDIR/b.ndjson" >/dev/null
	run -0 fields "$M"
	assert_line --index 0 'bulker,model.update,tags,"[""embedding"", ""multilingual""]","[""a"", ""b""]",bulk-update,,'
	assert_line --index 1 'bulker,model.update,version,3,4,bulk-update,,'
	# a psql UPDATE: the database role, no context
	q "UPDATE mreg.models SET metadata = '{\"license\": \"mit\"}' WHERE name = 'text-embedding-3-small'"
	run -0 newest "$M"
	assert_output "{\"actor\":\"$(q 'SELECT current_user')\",\"action\":\"model.update\",\"changes\":{\"metadata\":{\"old\":{\"license\":\"proprietary\"},\"new\":{\"license\":\"mit\"}}},\"context\":{}}"
	# the table: one line per changed field, newest first
	run -0 "$MREG" history "$M" --columns action,field,old,new --no-headers
	assert_line --index 0 --regexp '^model\.update +metadata +\{"license": "proprietary"\} +\{"license": "mit"\}$'
	assert_line --index 1 --regexp '^model\.update +tags +\["embedding", "multilingual"\] +\["a", "b"\]$'
}

@test "history: an artifact's changes are in its model's history, named by path" {
	f="$TREE/openai/gpt-4o.json"
	printf 'weights one\n' >"$TREE/openai/w.bin"
	jq '.artifacts = ["w.bin"]' "$f" >"$f.new" && mv "$f.new" "$f"
	"$MREG" import-dir --actor importer --source hist "$TREE" >/dev/null
	run -0 fields openai/gpt-4o
	path=$(q "SELECT a.path FROM mreg.artifacts a JOIN mreg.models m ON m.id = a.model_id WHERE m.name = 'gpt-4o'")
	assert_line --index 0 "importer,artifact.create,artifact[$path].path,,$path,import-dir,openai/gpt-4o.json,"
	assert_output --partial "importer,artifact.create,artifact[$path].size,,12,import-dir,"
	# a changed artifact is read again when its model file changes too
	printf 'weights, the second\n' >"$TREE/openai/w.bin"
	jq '.description = "new weights"' "$f" >"$f.new" && mv "$f.new" "$f"
	"$MREG" import-dir --actor importer --source hist "$TREE" >/dev/null
	run -0 "$MREG" history openai/gpt-4o -o json
	assert_equal "$(jq -c '[.items[] | select(.action == "artifact.update")][0] | [.action, .artifact, (.changes | keys), .changes.size]' <<<"$output")" \
		"[\"artifact.update\",\"$path\",[\"sha256\",\"size\"],{\"old\":12,\"new\":20}]"
}

@test "history: follows a rename and a move; a deleted model is found by its name" {
	q "UPDATE mreg.models SET name = 'renamed-embed' WHERE name = 'text-embedding-3-large'"
	run -0 fields openai/renamed-embed
	assert_line --index 0 --partial ',model.update,name,text-embedding-3-large,renamed-embed,'
	# the old name finds the same model (its entries carry that name)
	run -0 "$MREG" history openai/text-embedding-3-large -o json
	assert_equal "$(jq -c '[.items[].model_id] | unique' <<<"$output")" "[$(q "SELECT id FROM mreg.models WHERE name = 'renamed-embed'")]"
	assert_equal "$(jq -r '.items[0].changes.name.new' <<<"$output")" renamed-embed
	q "UPDATE mreg.models SET provider_id = (SELECT id FROM mreg.providers WHERE name = 'mistral') WHERE name = 'renamed-embed'"
	run -0 fields mistral/renamed-embed
	assert_line --index 0 --partial ',model.update,provider,openai,mistral,'
	# deleted: every field goes to null, found by its last name
	q "DELETE FROM mreg.models WHERE name = 'renamed-embed'"
	run -0 fields mistral/renamed-embed
	assert_line --index 0 --regexp ',model\.delete,active,true,,'
	assert_output --partial ',model.delete,name,renamed-embed,,'
	assert_output --partial 'importer,model.create,name,,text-embedding-3-large,import-dir,'
	# unknown: exit 3 with close names
	run -3 "$MREG" history openai/text-embeding-3-small
	assert_line --index 0 'mreg history: unknown model "openai/text-embeding-3-small"'
	assert_output --partial 'did you mean'
}

@test "history --type: each default change, when, who, old -> new" {
	run -0 "$MREG" history --type embedding
	assert_output --regexp '^ID +LOGGED_AT'
	assert_equal "${#lines[@]}" 1 # a known type, never a default: no rows
	"$MREG" set-default --actor alice openai/text-embedding-3-small >/dev/null
	"$MREG" set-default --actor bob mistral/mistral-embed >/dev/null
	run -0 fields --type embedding
	assert_line --index 0 'bob,default.set,model,openai/text-embedding-3-small,mistral/mistral-embed,set-default,,'
	assert_line --index 1 'alice,default.set,model,,openai/text-embedding-3-small,set-default,,'
	assert_equal "${#lines[@]}" 2 # a default's model_id is in the JSON only
	run -0 "$MREG" history --type embedding -o json
	assert_equal "$(jq -c '[.items[] | .changes.model_id.new] == [.items[] | .model_id]' <<<"$output")" true
	assert_equal "$(jq -r '[.items[].resource] | unique | join(" ")' <<<"$output")" defaults/embedding
	# unknown type, usage errors
	run -3 "$MREG" history --type embeddings
	assert_line --index 0 'mreg history: unknown type "embeddings"'
	run -2 "$MREG" history --type embedding "$M"
	assert_output --partial 'not both'
	run -2 "$MREG" history
	assert_output --partial 'missing PROVIDER/NAME (or --type TYPE)'
}

@test "history: --since and --until choose by the entries' time" {
	q "UPDATE mreg.models SET version = 'v-before' WHERE name = 'gpt-4o'"
	t1=$(q "SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')")
	q "UPDATE mreg.models SET version = 'v-after' WHERE name = 'gpt-4o'"
	run -0 fields openai/gpt-4o --since "$t1"
	assert_output "$(q 'SELECT current_user'),model.update,version,v-before,v-after,,,"
	run -0 fields openai/gpt-4o --until "$t1"
	assert_line --index 0 --partial ',model.update,version,'
	refute_output --partial 'v-after'
	assert_output --partial 'model.create'
	run -0 fields openai/gpt-4o --since 1h --until "$t1"
	refute_output --partial 'v-after'
	run -0 "$MREG" history openai/gpt-4o --since 2099-01-01 -o json
	assert_equal "$(jq -c '[.items, .count]' <<<"$output")" '[[],0]'
	run -2 "$MREG" history openai/gpt-4o --since yesterday
	assert_output --partial 'mreg history: --since:'
}

# ids PAGE-ARGS...: walk every page of the history of gpt-4o-mini (pages
# of 7 entries), printing the id of each JSON item
walk_json() {
	local cursor= out
	while :; do
		out=$("$MREG" history openai/gpt-4o-mini -o json --limit 7 ${cursor:+--after "$cursor"}) || return 1
		jq -r '.items[].id' <<<"$out"
		[ "$(jq '.items | length' <<<"$out")" -le 7 ] || return 1
		cursor=$(jq -r '.next // empty' <<<"$out")
		[ -n "$cursor" ] || return 0
	done
}

# the same through CSV pages (the cursor on stderr): one line per field
walk_csv() {
	local cursor= err="$BATS_TEST_TMPDIR/err"
	while :; do
		"$MREG" history openai/gpt-4o-mini -o csv --no-headers --columns id,field --limit 7 \
			${cursor:+--after "$cursor"} 2>"$err" | tr -d '\r' || return 1
		cursor=$(sed -n 's/^mreg history: next page: --after //p' "$err")
		[ -n "$cursor" ] || return 0
	done
}

@test "history: 250 entries in pages of 7, none lost or repeated, lines of an entry never split" {
	# 125 updates in one transaction (one logged_at: the id breaks the
	# tie), 125 in transactions of their own; each changes two fields
	q "DO \$\$ BEGIN FOR i IN 1..125 LOOP
	     UPDATE mreg.models SET version = 'tx-' || i, metadata = jsonb_build_object('i', i)
	      WHERE name = 'gpt-4o-mini'; END LOOP; END \$\$"
	for i in $(seq 1 125); do
		echo "UPDATE mreg.models SET version = 'own-$i', metadata = '{\"own\": $i}' WHERE name = 'gpt-4o-mini';"
	done | psql -XAtq -v ON_ERROR_STOP=1 >/dev/null
	"$MREG" history openai/gpt-4o-mini -o json | jq -r '.items[].id' >"$BATS_TEST_TMPDIR/all"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/all")" 251 # and the create
	walk_json >"$BATS_TEST_TMPDIR/paged"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/paged")" "$(cat "$BATS_TEST_TMPDIR/all")"
	# the same in the fields' format: every update's two lines together
	walk_csv >"$BATS_TEST_TMPDIR/csv"
	"$MREG" history openai/gpt-4o-mini -o csv --no-headers --columns id,field | tr -d '\r' >"$BATS_TEST_TMPDIR/csv-all"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/csv")" "$(cat "$BATS_TEST_TMPDIR/csv-all")"
	assert_equal "$(cut -d, -f1 "$BATS_TEST_TMPDIR/csv" | uniq)" "$(cat "$BATS_TEST_TMPDIR/all")"
	# the count, and a cursor of another listing is refused
	run -0 "$MREG" history openai/gpt-4o-mini --limit 7 --count -o json
	assert_equal "$(jq -c '[(.items | length), .count]' <<<"$output")" '[7,251]'
	cursor=$("$MREG" list audit --limit 1 -o json | jq -r .next)
	run -2 "$MREG" history openai/gpt-4o-mini --after "$cursor"
	assert_output --partial 'belongs to another listing'
}

@test "history: JSON and NDJSON match their schemas, CSV parses, the table escapes" {
	q "UPDATE mreg.models SET description = E'evil \\x1b[31mred\\n\\u202e' WHERE name = 'o3-mini'"
	run -0 "$MREG" history openai/o3-mini -o json
	"$MREG_SOURCE_ROOT/test/json-valid" history <<<"$output"
	run -0 "$MREG" history --type embedding -o json --count
	"$MREG_SOURCE_ROOT/test/json-valid" history <<<"$output"
	run -0 "$MREG" history openai/o3-mini -o ndjson
	"$MREG_SOURCE_ROOT/test/json-valid" --ndjson history-entry <<<"$output"
	assert_equal "$(jq -r 'select(.action == "model.update") | .changes.description.new' <<<"$output")" "$(printf 'evil \033[31mred\n\u202e')"
	"$MREG" history openai/o3-mini -o csv >"$BATS_TEST_TMPDIR/h.csv"
	run -0 python3 -c 'import csv, sys
rows = list(csv.reader(open(sys.argv[1], newline="")))
assert rows[0][:7] == ["id", "logged_at", "actor", "action", "field", "old", "new"], rows[0]
assert all(len(r) == len(rows[0]) for r in rows)
print(rows[1][4], repr(rows[1][6]))' "$BATS_TEST_TMPDIR/h.csv"
	assert_output "description 'evil \\x1b[31mred\\n\\u202e'"
	# the table: no raw escape reaches the terminal
	run -0 "$MREG" history openai/o3-mini --columns field,new --no-headers
	assert_line --index 0 --partial 'evil \x1b[31mred\n\u202e'
	refute_output --partial $'\033'
	# a cut cell: long values are cut to the terminal's width
	COLUMNS=60 run -0 script -qec "$MREG history openai/o3-mini --no-pager" /dev/null
	while IFS= read -r l; do
		l=${l%$'\r'}
		[ "${#l}" -le 60 ] || fail "line wider than 60: $l"
	done <<<"$output"
	assert_output --partial '…'
}
