#!/usr/bin/env bats
# 8003: import-dir --plan (what an import would do, nothing written) and
# the prune guards (--prune, --prune-max)

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	export D="$BATS_FILE_TMPDIR/models"
	copy_samples "$D"
	"$MREG" import-dir --quiet --source plan "$D"
}

teardown_file() {
	db_drop
}

# Each test starts from the sample tree, imported, every model active,
# no default.
teardown() {
	copy_samples "$D"
	"$MREG" import-dir --quiet --source plan "$D" >/dev/null 2>&1 || true
	q "update mreg.models set active = true where not active" >/dev/null
	q "delete from mreg.model_defaults" >/dev/null
}

# has_line TEXT LINE: LINE is one of the lines of TEXT.
has_line() {
	grep -Fxq -- "$2" <<<"$1" || { printf 'no line\n  %s\nin\n%s\n' "$2" "$1" >&2; return 1; }
}

# Every registry table, the audit log and the cache, row for row: the
# row counts and one digest of all rows.
state() {
	q "SELECT (SELECT count(*) FROM mreg.models) || ' ' ||
	          (SELECT count(*) FROM mreg.audit_log) || ' ' ||
	          (SELECT count(*) FROM mreg.source_files) || ' ' ||
	          md5(string_agg(t, E'\n' ORDER BY t))
	     FROM (SELECT 'm' || m::text t FROM mreg.models m
	           UNION ALL SELECT 'p' || p::text FROM mreg.providers p
	           UNION ALL SELECT 'a' || a::text FROM mreg.artifacts a
	           UNION ALL SELECT 'd' || d::text FROM mreg.model_defaults d
	           UNION ALL SELECT 'l' || l::text FROM mreg.audit_log l
	           UNION ALL SELECT 's' || s::text FROM mreg.source_files s) x"
}

# plan [OPTION...]: import-dir --plan of $D under the source "plan";
# output and stderr apart; checks that nothing at all was written.
plan() {
	local before
	before=$(state)
	run --separate-stderr timeout 300 "$MREG" import-dir --plan --source plan "$@" "$D"
	assert_equal "$(state)" "$before"
}

@test "--plan on an unchanged tree: exit 0, no change listed, nothing written" {
	plan
	assert_success
	assert_output --regexp '^plan: 0 to add, 0 to update, 0 to deactivate, 0 bad files; scanned 30, unchanged 30, missing 0 in [0-9.]+ s \(nothing written\)$'
	assert_equal "$stderr" ""
	plan -o json
	assert_success
	assert_equal "$(jq -c '[.plan, .dry_run, .changes, .exit_code, .ok]' <<<"$output")" '[true,true,[],0,true]'
	"$MREG_SOURCE_ROOT/test/json-valid" import-dir <<<"$output"
}

@test "--plan after editing one field: exit 5, the field with its old and new value" {
	local f="$D/openai/o3-mini.json"
	cp "$f" "$BATS_TEST_TMPDIR/keep.json"
	jq '.description = "Faster \"reasoning\" model." | .config.reasoning_effort = "high"' \
		"$BATS_TEST_TMPDIR/keep.json" >"$f"
	plan
	assert_failure 5
	assert_line --index 0 "update openai/o3-mini ($D/openai/o3-mini.json)"
	assert_line --index 1 '    description: "Reasoning model tuned for science, math and code." -> "Faster \"reasoning\" model."'
	assert_line --index 2 --regexp '^    config: \{.*"reasoning_effort": "medium"\} -> \{.*"reasoning_effort": "high"\}$'
	assert_line --index 3 --regexp '^plan: 0 to add, 1 to update, 0 to deactivate, 0 bad files;'
	assert_equal "${#lines[@]}" 4
	plan -o json
	assert_failure 5
	"$MREG_SOURCE_ROOT/test/json-valid" import-dir <<<"$output"
	assert_equal "$(jq -c '.changes[] | [.model, .action, (.fields | map(.field))]' <<<"$output")" \
		'["openai/o3-mini","update",["description","config"]]'
	assert_equal "$(jq -r '.changes[0].fields[0] | [.old, .new] | @tsv' <<<"$output")" \
		"$(printf 'Reasoning model tuned for science, math and code.\tFaster "reasoning" model.')"
	assert_equal "$(jq -c '.changes[0].fields[1].new.reasoning_effort, .ok, .exit_code' <<<"$output" | tr '\n' ' ')" '"high" false 5 '
	# the import does what the plan said
	run --separate-stderr "$MREG" import-dir --source plan -o json "$D"
	assert_success
	assert_equal "$(summary updated)" 1
	assert_equal "$(q "select description from mreg.models where name = 'o3-mini'")" 'Faster "reasoning" model.'
	plan
	assert_success
}

@test "--plan: a long value is cut, a control character escaped" {
	local f="$D/openai/gpt-4o.json"
	cp "$f" "$BATS_TEST_TMPDIR/keep.json"
	jq --arg d "$(printf 'x\033]0;pwned\007%.0s' {1..20})" '.description = $d' \
		"$BATS_TEST_TMPDIR/keep.json" >"$f"
	plan
	assert_failure 5
	assert_line --index 1 --regexp '^    description: ".*" -> "x\\u001b\]0;pwned\\u0007x.*\.\.\.$'
	[[ "$output" != *$'\033'* ]]
	[ "${#lines[1]}" -lt 160 ]
}

@test "--plan: a new file is an add (json: its fields, old null)" {
	jq '.name = "o3-mini-planned"' "$D/openai/o3-mini.json" >"$D/openai/planned.json"
	plan
	assert_failure 5
	assert_line --index 0 "add openai/o3-mini-planned ($D/openai/planned.json)"
	assert_line --index 1 --regexp '^plan: 1 to add, 0 to update, 0 to deactivate, 0 bad files;'
	plan -o json
	assert_failure 5
	"$MREG_SOURCE_ROOT/test/json-valid" import-dir <<<"$output"
	assert_equal "$(jq -c '.changes[] | [.model, .action, ([.fields[] | select(.field == "name")][0] | [.old, .new])]' <<<"$output")" \
		'["openai/o3-mini-planned","add",[null,"o3-mini-planned"]]'
}

@test "--plan --prune: a removed file is a deactivate; without --prune no change" {
	mv "$D/google/gemma-2-9b-it.json" "$BATS_TEST_TMPDIR/"
	plan
	assert_success
	assert_line --regexp '^plan: 0 to add, 0 to update, 0 to deactivate, 0 bad files; scanned 29, unchanged 29, missing 1 '
	plan --prune
	assert_failure 5
	assert_line --index 0 "deactivate google/gemma-2-9b-it ($D/google/gemma-2-9b-it.json gone)"
	assert_line --index 1 --regexp '^plan: 0 to add, 0 to update, 1 to deactivate, 0 bad files;'
	plan --prune -o json
	assert_failure 5
	"$MREG_SOURCE_ROOT/test/json-valid" import-dir <<<"$output"
	assert_equal "$(jq -c '.changes' <<<"$output")" \
		"[{\"file\":\"$D/google/gemma-2-9b-it.json\",\"model\":\"google/gemma-2-9b-it\",\"action\":\"prune\",\"fields\":[{\"field\":\"active\",\"old\":true,\"new\":false}]}]"
	assert_equal "$(q "select active from mreg.models where name = 'gemma-2-9b-it'")" t
}

@test "--plan: a bad file exits 3, also when changes are pending; reported as import-dir does" {
	printf '{"provider": "openai", "name": "broken",\n' >"$D/openai/broken.json"
	jq '.name = "o3-mini-planned"' "$D/openai/o3-mini.json" >"$D/openai/planned.json"
	plan
	assert_failure 3
	assert_line --index 0 "add openai/o3-mini-planned ($D/openai/planned.json)"
	assert_line --regexp '^plan: 1 to add, 0 to update, 0 to deactivate, 1 bad file;'
	assert_equal "$stderr" "mreg import-dir: $D/openai/broken.json:2:1: string or '}' expected near end of file"
	plan -o json
	assert_failure 3
	"$MREG_SOURCE_ROOT/test/json-valid" import-dir <<<"$output"
	assert_equal "$(jq -c '[.exit_code, (.failures | length), (.changes | length)]' <<<"$output")" '[3,1,1]'
}

@test "--plan shows the database's refusals: a default cannot change its type" {
	"$MREG" set-default baai/bge-m3 >/dev/null
	local f="$D/baai/bge-m3.json"
	cp "$f" "$BATS_TEST_TMPDIR/keep.json"
	jq '.type = "reranker"' "$BATS_TEST_TMPDIR/keep.json" >"$f"
	plan
	assert_failure 3
	assert_equal "$stderr" "mreg import-dir: $D/baai/bge-m3.json: model \"baai/bge-m3\" is the default for type \"embedding\": its type cannot change to \"reranker\""
	assert_line --regexp '^plan: 0 to add, 0 to update, 0 to deactivate, 1 bad file;'
}

@test "--plan takes the source's lock (exit 4 while an import runs)" {
	hold_source_lock plan plan-lock-holder
	plan
	end_session plan-lock-holder "$holder"
	assert_failure 4
	assert_output ""
	assert_equal "${stderr%%$'\n'*}" 'mreg import-dir: another import of "plan" is running'
	plan
	assert_success
}

@test "--plan with --dry-run is --plan; bad --prune-max is a usage error" {
	jq '.name = "o3-mini-planned"' "$D/openai/o3-mini.json" >"$D/openai/planned.json"
	plan --dry-run
	assert_failure 5
	assert_line --index 0 "add openai/o3-mini-planned ($D/openai/planned.json)"
	for bad in x -1 10x 101% % ''; do
		run --separate-stderr "$MREG" import-dir --prune --prune-max "$bad" "$D"
		assert_failure 2
		assert_equal "${stderr%%$'\n'*}" "mreg import-dir: --prune-max: \"$bad\" is not a count or a percentage (try 200 or 25%)"
	done
}

# --- the prune guards -------------------------------------------------------

@test "--prune of an empty checkout is refused: exit 3, nothing changed (and --plan says the same)" {
	local empty="$BATS_TEST_TMPDIR/empty" before
	mkdir "$empty"
	before=$(state)
	run --separate-stderr "$MREG" import-dir --prune --source plan "$empty"
	assert_failure 3
	has_line "$stderr" "mreg import-dir: \"$empty\" holds no model files: refusing to deactivate all 30 models of source \"plan\" (anthropic/claude-3-5-haiku-20241022, anthropic/claude-3-5-sonnet-20241022, anthropic/claude-3-opus-20240229, baai/bge-m3, baai/bge-reranker-v2-m3, ...); nothing was written"
	has_line "$stderr" "HINT: Check the checkout; to deactivate them all, give --prune-max 100%."
	assert_equal "$(state)" "$before"
	run --separate-stderr "$MREG" import-dir --plan --prune --source plan -o json "$empty"
	assert_failure 3
	"$MREG_SOURCE_ROOT/test/json-valid" import-dir <<<"$output"
	assert_equal "$(jq -c '[.refusal.would_deactivate, .refusal.limit, .pruned, .exit_code]' <<<"$output")" '[30,50,0,3]'
	assert_equal "$(state)" "$before"
	# under the default limit, but an empty tree needs an explicit one
	run --separate-stderr "$MREG" import-dir --prune --prune-max 29 --source plan "$empty"
	assert_failure 3
	assert_equal "$(state)" "$before"
	run --separate-stderr "$MREG" import-dir --prune --prune-max 100% --source plan -o json "$empty"
	assert_success
	assert_equal "$(summary pruned)" 30
	assert_equal "$(q "select count(*) from mreg.models where active")" 0
}

@test "--prune of a mass deletion is refused (exit 3, nothing changed, the run's other changes neither); --prune-max lets it through" {
	local big="$BATS_TEST_TMPDIR/big" before
	"$GEN" "$big" 200 5
	"$MREG" import-dir --quiet --source big "$big"
	# 60 of 200 gone (more than max(10%, 50)), one file changed
	find "$big" -name 'm00000[0-5]*.json' -delete
	sed -i 's/"version": "/"version": "x/' "$big/d99/m0000199.json"
	before=$(state)
	run --separate-stderr "$MREG" import-dir --prune --source big "$big"
	assert_failure 3
	assert_output --regexp '^scanned 140, unchanged 139, added 0, updated 0, failed 0, pruned 0, missing 60 in '
	assert_equal "${stderr%%$'\n'*}" "mreg import-dir: --prune would deactivate 60 of the 200 active models of source \"big\" (p00/model-0000000, p00/model-0000020, p00/model-0000040, p01/model-0000001, p01/model-0000021, ...), more than the limit of 50: refusing; nothing was written"
	assert_equal "$(state)" "$before"
	run --separate-stderr "$MREG" import-dir --plan --prune --source big "$big"
	assert_failure 3
	assert_line --index 0 "update p19/model-0000199 ($big/d99/m0000199.json)"
	assert_equal "${stderr%%$'\n'*}" "mreg import-dir: --prune would deactivate 60 of the 200 active models of source \"big\" (p00/model-0000000, p00/model-0000020, p00/model-0000040, p01/model-0000001, p01/model-0000021, ...), more than the limit of 50: refusing; nothing was written"
	assert_equal "$(state)" "$before"
	run --separate-stderr "$MREG" import-dir --prune --prune-max 29% --source big "$big"
	assert_failure 3
	assert_equal "$(state)" "$before"
	run --separate-stderr "$MREG" import-dir --plan --prune --prune-max 60 --source big -o json "$big"
	assert_failure 5
	assert_equal "$(jq -c '[.pruned, .updated, (.changes | length)]' <<<"$output")" '[60,1,61]'
	assert_equal "$(state)" "$before"
	run --separate-stderr "$MREG" import-dir --prune --prune-max 30% --source big -o json "$big"
	assert_success
	assert_equal "$(jq -c '[.pruned, .updated]' <<<"$output")" '[60,1]'
	assert_equal "$(q "select count(*) from mreg.models m join mreg.providers p on p.id = m.provider_id where p.name like 'p__' and m.active")" 140
}

@test "--prune-max 0 refuses any deactivation; the default lets a few go" {
	mv "$D/google/gemma-2-9b-it.json" "$BATS_TEST_TMPDIR/"
	run --separate-stderr "$MREG" import-dir --prune --prune-max 0 --source plan "$D"
	assert_failure 3
	has_line "$stderr" "mreg import-dir: --prune would deactivate 1 of the 30 active models of source \"plan\" (google/gemma-2-9b-it), more than the limit of 0: refusing; nothing was written"
	assert_equal "$(q "select active from mreg.models where name = 'gemma-2-9b-it'")" t
	run --separate-stderr "$MREG" import-dir --prune --source plan -o json "$D"
	assert_success
	assert_equal "$(summary pruned)" 1
}
