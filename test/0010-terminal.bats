#!/usr/bin/env bats
# 0010 tables for people: what a real terminal shows.  mreg runs in an
# 80x24 tmux pane (a private tmux server per test file) with the sandbox's
# environment; the tests poll the pane (tmux capture-pane) with a deadline
# until what they wait for is there, then assert.  Also --columns and
# --no-headers, and that a pipe gets every character and never a pager.

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	psql -XAtq -v ON_ERROR_STOP=1 -f "$MREG_SOURCE_ROOT/test/fixtures/registry.sql" >/dev/null
	# 40 inactive models: 'list' stays one screen, 'list --all' is longer
	q "INSERT INTO mreg.models (provider_id, name, type, active)
	   SELECT p.id, 'bulk-model-' || lpad(g::text, 2, '0'), 'bulk', false
	     FROM mreg.providers p, generate_series(1, 40) g WHERE p.name = 'acme'"
}
teardown_file() { db_drop; }

# One tmux server per test (a server whose last session ends exits, and a
# new session must not race with that): tm runs tmux against it.
tm() {
	tmux -L "mreg-0010-$$-$BATS_TEST_NUMBER" "$@"
}
teardown() {
	tm kill-server 2>/dev/null || true
	q "DELETE FROM mreg.models WHERE type = 'huge'" # one test's rows
}

# term_run 'COMMANDS': run COMMANDS in bash in a new 80x24 pane, with the
# sandbox's PG* variables, $MREG, no pager configured and no $COLUMNS;
# "[exit N]" follows when they end, and the pane stays.  Each call makes a
# new session (t1, t2, ...); pane and keys go to the latest.
TERM_N=0
term_run() {
	local script
	TERM_N=$((TERM_N + 1))
	script=$BATS_TEST_TMPDIR/term$TERM_N.sh
	{
		export -p | grep -E '^declare -x (PG[A-Z]*|MREG|PATH|NO_COLOR)='
		echo 'export TERM=xterm-256color LC_ALL=C.UTF-8'
		echo 'unset MREG_PAGER PAGER LESS COLUMNS LINES'
		printf '%s\n' "$1"
		echo 'echo "[exit $?]"'
		echo 'exec cat >/dev/null'
	} >"$script"
	tm -u new-session -d -x 80 -y 24 -s "t$TERM_N" \
		"bash --norc --noprofile $script"
}

# The pane, scrollback included.
pane() {
	tm capture-pane -p -J -S -500 -t "t$TERM_N"
}

# wait_pane TEXT: until the pane shows TEXT (20 s at most).
wait_pane() {
	WANT=$1
	wait_for "'$1' on the terminal" 'pane | grep -qF -- "$WANT"' 20 ||
		{ pane >&2; return 1; }
}

# A pager that marks the pane, then shows what it reads.
marker_pager() {
	local p=$BATS_TEST_TMPDIR/pager
	printf '#!/bin/sh\necho "PAGER-MARKER"\nexec cat\n' >"$p"
	chmod +x "$p"
	echo "$p"
}

@test "terminal: 80 columns, every MODEL cell whole, narrower columns cut" {
	term_run '"$MREG" list'
	wait_pane "[exit 0]"
	run -0 pane
	assert_line --regexp '^MODEL +TYPE +VERSION +ACTIVE +TAGS +UPDATED_AT'
	while IFS= read -r m; do
		assert_line --regexp "^$(printf '%s' "$m" | sed 's/[][\.*^$()+?{}|]/\\&/g') "
	done < <("$MREG" list -o ndjson | jq -r .model)
	# the least important columns gave way: timestamps are cut, the
	# listing fitted in one screen, so less -F quit at once
	assert_output --partial "2026-"
	assert_output --regexp '20[0-9-]+…'
	refute_output --regexp '[0-9]{2}:[0-9]{2}:[0-9]{2}'
	refute_output --partial "mreg list:"
}

@test "terminal: a long listing pages through less -FRX; q quits, exit 0" {
	term_run '"$MREG" list --all'
	wait_for "less's prompt" '[ "$(pane | sed "/^$/d" | tail -1)" = ":" ]' 20 || { pane >&2; false; }
	run -0 pane
	refute_output --partial "[exit"
	assert_line --regexp '^MODEL +TYPE'
	tm send-keys -t "t$TERM_N" q
	wait_pane "[exit 0]"
	run -0 pane
	refute_output --partial "mreg list:"
	refute_output --partial "Broken pipe"
}

@test "terminal: q while mreg still writes (more than a pipe holds): exit 0, quiet" {
	q "INSERT INTO mreg.models (provider_id, name, type, active)
	   SELECT p.id, 'huge-model-' || g, 'huge', false
	     FROM mreg.providers p, generate_series(1, 3000) g WHERE p.name = 'acme'"
	term_run '"$MREG" list --all --type huge'
	wait_for "less's prompt" '[ "$(pane | sed "/^$/d" | tail -1)" = ":" ]' 20 || { pane >&2; false; }
	tm send-keys -t "t$TERM_N" q
	wait_pane "[exit 0]"
	run -0 pane
	refute_output --partial "mreg list"
	refute_output --partial "huge-model-999"
}

@test "terminal: MREG_PAGER, then PAGER; empty or cat turns it off" {
	local p
	p=$(marker_pager)
	term_run "MREG_PAGER=$p \"\$MREG\" list --all; PAGER=$p \"\$MREG\" search embed"
	wait_pane "[exit 0]"
	run -0 pane
	assert_equal "$(grep -c PAGER-MARKER <<<"$output")" 2
	assert_output --partial "acme/bulk-model-40"
	term_run "MREG_PAGER= PAGER=$p \"\$MREG\" list; MREG_PAGER=cat PAGER=$p \"\$MREG\" list"
	wait_pane "[exit 0]"
	run -0 pane
	refute_output --partial PAGER-MARKER
	assert_output --partial "openai/gpt-4o"
}

@test "terminal: show goes through the pager too" {
	local p
	p=$(marker_pager)
	term_run "MREG_PAGER=$p \"\$MREG\" show openai/gpt-4o"
	wait_pane "[exit 0]"
	run -0 pane
	assert_output --partial PAGER-MARKER
	assert_line --regexp '^model: +openai/gpt-4o'
}

@test "terminal: --no-pager, before or after the command, prints directly" {
	local p
	p=$(marker_pager)
	term_run "export MREG_PAGER=$p; \"\$MREG\" --no-pager list --all; \"\$MREG\" show --no-pager openai/gpt-4o; \"\$MREG\" search embed --no-pager"
	wait_pane "[exit 0]"
	run -0 pane
	refute_output --partial PAGER-MARKER
	assert_output --partial "acme/bulk-model-40"
	assert_line --regexp '^model: +openai/gpt-4o'
}

@test "terminal: output to a pipe never pages and is never cut" {
	local p
	p=$(marker_pager)
	term_run "MREG_PAGER=$p \"\$MREG\" list --all | tail -3"
	wait_pane "[exit 0]"
	run -0 pane
	refute_output --partial PAGER-MARKER
	refute_output --partial "…"
	# outside the terminal: $COLUMNS does not cut a pipe either
	COLUMNS=40 MREG_PAGER=$p run -0 "$MREG" list
	refute_output --partial PAGER-MARKER
	refute_output --partial "…"
	assert_output --regexp 'T[0-9]{2}:[0-9]{2}:[0-9]{2}'
}

@test "terminal: a pager that cannot start is a warning, the rows come directly" {
	term_run 'MREG_PAGER=/nonexistent/pager "$MREG" list'
	wait_pane "[exit 0]"
	run -0 pane
	assert_output --partial 'mreg list: warning: could not start the pager "/nonexistent/pager": No such file or directory'
	assert_output --partial "openai/gpt-4o"
	# under sh -c the shell starts, the command does not: said at exit
	term_run 'MREG_PAGER="nonexistent-pager-xyz \"-R\"" "$MREG" list'
	wait_pane "[exit 0]"
	run -0 pane
	assert_output --partial 'mreg list: warning: the pager "nonexistent-pager-xyz "-R"" could not run (exit 127)'
}

@test "terminal: a pager that quits without reading: exit 0, no message" {
	term_run 'MREG_PAGER=true "$MREG" list --all; MREG_PAGER=true "$MREG" show openai/gpt-4o'
	wait_pane "[exit 0]"
	run -0 pane
	refute_output --partial "mreg list"
	refute_output --partial "mreg show"
	refute_output --partial "MODEL"
}

@test "terminal: a narrow terminal leaves columns out and says which" {
	term_run 'COLUMNS=52 "$MREG" list'
	wait_pane "[exit 0]"
	run -0 pane
	assert_line --regexp '^MODEL +TYPE +ACTIVE$'
	assert_line "-- not shown: VERSION, TAGS, UPDATED_AT"
	assert_line --regexp '^openrouter/mistralai/mistral:7b@q4\.k_m +llm +true$'
}

@test "--columns: the columns named, in that order, case-insensitive" {
	run -0 "$MREG" list --type reranker --columns TYPE,model,Name
	assert_line --index 0 --regexp '^TYPE +MODEL +NAME$'
	assert_line --index 1 --regexp '^reranker +cohere/rerank-english-v3 +rerank-english-v3$'
	run -0 "$MREG" list --type reranker --columns id,model -o csv
	assert_line --index 0 $'id,model\r'
	assert_line --index 1 --regexp '^[0-9]+,cohere/rerank-english-v3'
	run -0 "$MREG" search rerank --columns score,model
	assert_line --index 0 --regexp '^ *SCORE +MODEL$'
	run -0 "$MREG" list providers --columns name
	assert_line --index 0 "NAME"
	assert_line "openai"
}

@test "--columns: an unknown, empty or repeated name is a usage error" {
	run -2 --separate-stderr "$MREG" list --columns model,bogus
	assert_equal "$output" ""
	[[ $stderr == *"mreg list: --columns: unknown column 'bogus' (valid: model, id, provider, name, type, version, active, display_name, description, tags, synonyms, default, config, metadata, created_at, updated_at)"* ]]
	run -2 --separate-stderr "$MREG" list providers --columns model
	[[ $stderr == *"unknown column 'model' (valid: name, active_models, models, created_at)"* ]]
	run -2 --separate-stderr "$MREG" search x --columns model,,type
	[[ $stderr == *"mreg search: --columns: empty column name"* ]]
	run -2 --separate-stderr "$MREG" list --columns model,MODEL
	[[ $stderr == *"column 'model' given twice"* ]]
	# usage errors come before the database: none is needed
	PGHOST=/nonexistent run -2 "$MREG" list --columns nope
}

@test "--columns and --no-headers go with table and csv, not JSON" {
	run -2 --separate-stderr "$MREG" list --columns model -o json
	[[ $stderr == *"mreg list: --columns goes with --format table or csv"* ]]
	run -2 --separate-stderr "$MREG" search embed --no-headers -o ndjson
	[[ $stderr == *"mreg search: --no-headers goes with --format table or csv"* ]]
}

@test "--no-headers: table and csv rows only" {
	run -0 "$MREG" list --type reranker --no-headers
	assert_output --regexp '^cohere/rerank-english-v3 +reranker +v3 +true'
	refute_output --partial MODEL
	run -0 "$MREG" list --type reranker --no-headers --columns model -o csv
	assert_output $'cohere/rerank-english-v3\r'
	run -0 "$MREG" search rerank --no-headers --columns model
	assert_line --index 0 "cohere/rerank-english-v3"
}
