#!/usr/bin/env bats
# A 100k-model registry: the read paths use indexes (no sequential scan of
# mreg.models), keyset pages seek with the cursor, and a full listing
# streams in bounded memory.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	psql -XAtq -v ON_ERROR_STOP=1 -f "$MREG_SOURCE_ROOT/test/fixtures/registry.sql" >/dev/null
	psql -XAtq -v ON_ERROR_STOP=1 -v n=100000 -f "$MREG_SOURCE_ROOT/test/fixtures/registry-gen.sql" >/dev/null
}
teardown_file() { db_drop; }

# seq_scans PLAN-JSON: how many Seq Scan nodes read mreg.models
seq_scans() {
	jq '[.. | objects | select(."Node Type" == "Seq Scan" and ."Relation Name" == "models")] | length' <<<"$1"
}

# cursor of the page that ends just before the last rows of `list ARGS`
tail_cursor() {
	"$MREG" list "$@" --limit 80000 -o json | jq -r .next
}

@test "scale: the fixture is loaded" {
	assert_equal "$(q 'SELECT count(*) FROM mreg.models')" 100010
}

@test "scale: search uses the GIN indexes, no sequential scan of models" {
	# (a query that matches nearly every model, such as 'generated model'
	# here, is cheaper as one sequential pass, and the planner says so)
	for query in text-embeding 'model 5000' 'generated model 4242' syn4242 'modle-0004242' 'retrieval'; do
		run -0 "$MREG" search --explain "$query"
		assert_equal "$(seq_scans "$output")" 0
		assert_output --partial models_search_idx
		assert_output --partial models_name_trgm_idx
	done
	run -0 "$MREG" search --explain embedding --type llm --provider gen7
	assert_equal "$(seq_scans "$output")" 0
}

@test "scale: search finds a misspelt name among 100k" {
	run -0 "$MREG" search 'modle-0004242' --limit 3 -o ndjson
	assert_line --index 0 --partial '"name":"model-0004242"'
}

@test "scale: every list page uses an index, no sequential scan of models" {
	local args
	while IFS= read -r args; do
		eval "set -- $args"
		run -0 "$MREG" list --explain --limit 50 "$@"
		[ "$(seq_scans "$output")" -eq 0 ] || fail "sequential scan for: list $args"
	done <<-'EOF'
	
	--type llm
	--provider gen7
	--tag t42
	--type embedding --tag t42 --tag gen
	--all
	--inactive
	--all --type vision
	--sort updated
	--sort updated --all --type llm
	EOF
}

@test "scale: a page far down seeks with its cursor (keyset, not offset)" {
	cursor=$(tail_cursor --all)
	[ -n "$cursor" ]
	[ "$cursor" != null ]
	run -0 "$MREG" list --explain --all --limit 50 --after "$cursor"
	assert_equal "$(seq_scans "$output")" 0
	# the cursor is an index condition of the scans, not a filter
	run -0 jq -r '[.. | objects | select(."Index Cond"? // "" | test("ROW\\(name, id\\) >"))] | length' <<<"$output"
	[ "$output" -ge 1 ]
	run -0 "$MREG" list --all --limit 50 --after "$cursor" -o json
	assert_equal "$(jq '.items | length' <<<"$output")" 50
	assert_equal "$(jq -r '.items[0].model' <<<"$output")" \
		"$(q "SELECT p.name || '/' || m.name FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id ORDER BY m.name, m.id OFFSET 80000 LIMIT 1")"
	cursor=$(tail_cursor --sort updated)
	run -0 "$MREG" list --explain --sort updated --limit 50 --after "$cursor"
	assert_equal "$(seq_scans "$output")" 0
}

@test "scale: --count matches the database" {
	run -0 "$MREG" list --type llm --limit 5 --count -o json
	assert_equal "$(jq .count <<<"$output")" "$(q "SELECT count(*) FROM mreg.models WHERE type = 'llm' AND active")"
	run -0 "$MREG" list --all --tag t7 --limit 5 --count -o json
	assert_equal "$(jq .count <<<"$output")" "$(q "SELECT count(*) FROM mreg.models WHERE tags @> '{t7}'")"
}

# max_rss_kb ARGS...: peak resident memory of `mreg ARGS` (output discarded).
# AddressSanitizer builds keep freed memory in quarantine (256 MB); turn
# that off so the figure is the program's own memory.
max_rss_kb() {
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=0" \
		/usr/bin/time -f '%M' -o "$BATS_TEST_TMPDIR/rss" "$MREG" "$@" >/dev/null 2>&1
	cat "$BATS_TEST_TMPDIR/rss"
}

@test "scale: a full NDJSON listing streams in bounded memory" {
	"$MREG" list --all -o ndjson >"$BATS_TEST_TMPDIR/all.ndjson"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/all.ndjson")" 100010
	assert_equal "$(jq -s 'map(.id) | unique | length' "$BATS_TEST_TMPDIR/all.ndjson")" 100010
	out_kb=$(( $(stat -c %s "$BATS_TEST_TMPDIR/all.ndjson") / 1024 ))
	small=$(max_rss_kb list --all --limit 1000 -o ndjson)
	full=$(max_rss_kb list --all -o ndjson)
	echo "# max RSS ${full} KB for all rows (${out_kb} KB of output), ${small} KB for 1000 rows" >&3
	# a hundred times the rows, next to no more memory: holding the
	# result would take more than the output itself
	[ $((full - small)) -lt $((out_kb / 8)) ] || fail "max RSS grew from ${small} KB to ${full} KB"
	# the table keeps only its sizing window
	"$MREG" list --all >"$BATS_TEST_TMPDIR/all.txt"
	assert_equal "$(wc -l <"$BATS_TEST_TMPDIR/all.txt")" 100011
	small=$(max_rss_kb list --all --limit 1000)
	full=$(max_rss_kb list --all)
	[ $((full - small)) -lt $((out_kb / 8)) ] || fail "table: max RSS grew from ${small} KB to ${full} KB"
}

@test "scale: a reader that goes away stops the listing quietly" {
	run -0 bash -c "'$MREG' list --all -o ndjson | head -3"
	assert_equal "${#lines[@]}" 3
}
