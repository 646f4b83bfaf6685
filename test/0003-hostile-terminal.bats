#!/usr/bin/env bats
# 0003: hostile text cannot drive the terminal or forge output, and closed
# standard descriptors cannot send output into the database connection

load helpers
bats_require_minimum_version 1.5.0

# the file name that sets the title, clears the screen and forges a line
EVIL=$'evil\e]0;pwned\a\e[2J\nfake: ok.json'
EVIL_SHOWN='evil\x1b]0;pwned\x07\x1b[2J\nfake: ok.json'
RLO=$'\u202e'

setup_file() {
	db_create_migrated
}

teardown_file() {
	db_drop
}

# No byte that a terminal acts on: C0 controls but newline, DEL, C1
# controls (as UTF-8), bidi controls.
no_raw_controls() {
	local text=$1
	if LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' <<<"$text"; then
		echo "raw control character in: $text" >&2
		return 1
	fi
	if LC_ALL=C grep -qE $'\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]' <<<"$text"; then
		echo "raw C1 or bidi control in: $text" >&2
		return 1
	fi
}

# The number of lines of $1.
count_lines() {
	[ -z "$1" ] && { echo 0; return; }
	printf '%s\n' "$1" | wc -l
}

@test "import-dir: an evil file name is escaped on stderr, one line per problem" {
	d="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$d"
	printf '{bad' >"$d/$EVIL"
	run --separate-stderr "$MREG" import-dir --source t1 "$d"
	assert_failure 3
	no_raw_controls "$stderr"
	assert_equal "$stderr" "mreg import-dir: $d/$EVIL_SHOWN:1:4: string or '}' expected near 'bad'"
	# the forged "fake: ok.json" line does not exist
	assert_equal "$(count_lines "$stderr")" 1
	no_raw_controls "$output"
}

@test "import-dir: an evil file name is escaped on stdout (dry run and prune)" {
	d="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$d"
	echo '{"provider": "evil", "name": "title", "type": "llm"}' >"$d/$EVIL"
	run --separate-stderr "$MREG" import-dir --source t2 --dry-run "$d"
	assert_success
	no_raw_controls "$output"
	assert_line --index 0 "would add models/evil/title ($d/$EVIL_SHOWN)"
	assert_equal "$(count_lines "$output")" 2
	run --separate-stderr "$MREG" import-dir --source t2 "$d"
	assert_success
	rm "$d/$EVIL"
	# the tree is empty now: the prune guard wants it said (8003)
	run --separate-stderr "$MREG" import-dir --source t2 --prune --prune-max 100% "$d"
	assert_success
	no_raw_controls "$output"
	assert_line --index 0 "deactivated models/evil/title ($d/$EVIL_SHOWN gone)"
	# the JSON summary is data: exact (a source name with control
	# characters is refused, escaped in the message)
	run --separate-stderr "$MREG" import-dir --source "evil\\name" --format json "$d"
	assert_success
	assert_equal "$(jq -r .source <<<"$output")" 'evil\name'
	run --separate-stderr "$MREG" import-dir --source "$EVIL" --format json "$d"
	assert_failure 2
	no_raw_controls "$stderr"
}

@test "import-dir: invalid UTF-8 in a file name shows as \\xNN" {
	d="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$d"
	printf '{bad' >"$d/$(printf 'bad\xff\xfe.json')"
	run --separate-stderr "$MREG" import-dir --source t3 "$d"
	assert_failure 3
	no_raw_controls "$stderr"
	[[ $stderr == *'bad\xff\xfe.json'* ]]
	! LC_ALL=C grep -q $'\xff' <<<"$stderr" || false
}

@test "bulk-update: item text in an error is escaped, no forged line" {
	printf '{"model": "evil/x\\u001b[2J\\u001b]0;t\\u0007\\nfake: ok", "set": {"active": false}}\n' >"$BATS_TEST_TMPDIR/b.ndjson"
	run --separate-stderr "$MREG" bulk-update "$BATS_TEST_TMPDIR/b.ndjson"
	assert_failure 3
	no_raw_controls "$stderr"
	assert_equal "${stderr_lines[0]}" "mreg bulk-update: $BATS_TEST_TMPDIR/b.ndjson:1: unknown model \"evil/x\\x1b[2J\\x1b]0;t\\x07\\nfake: ok\""
	# one message line and its hint
	assert_equal "$(count_lines "$stderr")" 2
	# a key is item text too
	printf '{"model": "evil/x", "set": {"bo\\u202egus\\u009b": 1}}\n' >"$BATS_TEST_TMPDIR/k.ndjson"
	run --separate-stderr "$MREG" bulk-update "$BATS_TEST_TMPDIR/k.ndjson"
	assert_failure 3
	no_raw_controls "$stderr"
	[[ $stderr == *"'set.bo\\u202egus\\u009b'"* ]]
}

@test "bulk-update: the dry-run table escapes values, JSON stays exact" {
	q "INSERT INTO mreg.providers (name) VALUES ('bulk') ON CONFLICT DO NOTHING"
	q "INSERT INTO mreg.models (provider_id, name, type) SELECT id, 'm1', 'llm' FROM mreg.providers WHERE name = 'bulk'"
	printf '{"model": "bulk/m1", "set": {"description": "x\\u202ey\\\\z\\u001b[2J"}}\n' >"$BATS_TEST_TMPDIR/d.ndjson"
	run --separate-stderr "$MREG" bulk-update --dry-run "$BATS_TEST_TMPDIR/d.ndjson"
	assert_success
	no_raw_controls "$output"
	assert_line --regexp '^bulk/m1 +description +null +"x\\u202ey\\\\z\\u001b\[2J"$'
	run --separate-stderr "$MREG" bulk-update --dry-run --format json "$BATS_TEST_TMPDIR/d.ndjson"
	assert_success
	assert_equal "$(jq -r '.changes[] | select(.field == "description") | .new' <<<"$output")" "x${RLO}y\\z"$'\e[2J'
}

@test "list and show: a U+202E model name is escaped in tables, exact in JSON" {
	q "INSERT INTO mreg.providers (name) VALUES ('rlo') ON CONFLICT DO NOTHING"
	q "INSERT INTO mreg.models (provider_id, name, type, description)
	   SELECT id, E'invoice\\u202Efdp.exe', 'llm', E'right\\u202Eleft' FROM mreg.providers WHERE name = 'rlo'"
	run --separate-stderr "$MREG" list --provider rlo
	assert_success
	no_raw_controls "$output"
	assert_line --index 1 --regexp '^rlo/invoice\\u202efdp\.exe +llm '
	run --separate-stderr "$MREG" list --provider rlo -o json
	assert_equal "$(jq -r '.items[0].name' <<<"$output")" "invoice${RLO}fdp.exe"
	run --separate-stderr "$MREG" list --provider rlo -o csv
	assert_line --index 1 --partial "rlo/invoice${RLO}fdp.exe,"
	run --separate-stderr "$MREG" show "rlo/invoice${RLO}fdp.exe"
	assert_success
	no_raw_controls "$output"
	assert_line 'model:        rlo/invoice\u202efdp.exe'
	assert_line 'description:  right\u202eleft'
	run --separate-stderr "$MREG" show "rlo/invoice${RLO}fdp.exe" -o json
	assert_equal "$(jq -r .name <<<"$output")" "invoice${RLO}fdp.exe"
	# and in the error of an unknown one
	run --separate-stderr "$MREG" show "rlo/nope${RLO}"$'\e[2J'
	assert_failure 3
	no_raw_controls "$stderr"
	assert_equal "${stderr_lines[0]}" 'mreg show: unknown model "rlo/nope\u202e\x1b[2J"'
}

@test "set-default and default: escaped for a person, exact for a script" {
	q "INSERT INTO mreg.providers (name) VALUES ('rlo2') ON CONFLICT DO NOTHING"
	q "INSERT INTO mreg.models (provider_id, name, type)
	   SELECT id, E'pay\u202Etxt.exe', 'rlotype' FROM mreg.providers WHERE name = 'rlo2'"
	run --separate-stderr "$MREG" set-default "rlo2/pay${RLO}txt.exe"
	assert_success
	no_raw_controls "$output"
	assert_output 'default for type rlotype: (none) -> rlo2/pay\u202etxt.exe'
	# $(mreg default TYPE) gets the exact name ...
	run --separate-stderr "$MREG" default rlotype
	assert_success
	assert_output "rlo2/pay${RLO}txt.exe"
	# ... a terminal the escaped one
	run script -qec "'$MREG' default rlotype" /dev/null </dev/null
	assert_success
	output=${output//$'\r'/} # the terminal's line end
	no_raw_controls "$output"
	[[ $output == 'rlo2/pay\u202etxt.exe'* ]]
}

@test "show: a real backslash and a newline look different" {
	q "INSERT INTO mreg.providers (name) VALUES ('bs') ON CONFLICT DO NOTHING"
	q "INSERT INTO mreg.models (provider_id, name, type, description, config)
	   SELECT id, 'backslash', 'llm', E'a\\\\nb', '{\"path\": \"C:\\\\m\"}'::jsonb FROM mreg.providers WHERE name = 'bs'
	   UNION ALL
	   SELECT id, 'newline', 'llm', E'a\\nb', '{}'::jsonb FROM mreg.providers WHERE name = 'bs'"
	assert_equal "$(q "SELECT description FROM mreg.models WHERE name = 'backslash'")" 'a\nb'
	run -0 "$MREG" show bs/backslash
	assert_line 'description:  a\\nb'
	# JSON text keeps JSON's own escapes
	assert_line 'config:       {"path": "C:\\m"}'
	run -0 "$MREG" show bs/newline
	assert_line 'description:  a\nb'
	# exact in the data formats
	run -0 "$MREG" show bs/backslash -o json
	assert_equal "$(jq -r .description <<<"$output")" 'a\nb'
	run -0 "$MREG" show bs/newline -o json
	assert_equal "$(jq -r .description <<<"$output")" $'a\nb'
}

@test "messages escape what the user typed" {
	run --separate-stderr "$MREG" $'li\e[2Jst'
	assert_failure 2
	no_raw_controls "$stderr"
	assert_equal "${stderr_lines[0]}" "mreg: 'li\\x1b[2Jst' is not an mreg command"
	run --separate-stderr "$MREG" list $'--ty\u202epe'
	assert_failure 2
	no_raw_controls "$stderr"
	assert_equal "${stderr_lines[0]}" "mreg list: unknown option '--ty\\u202epe'"
	run --separate-stderr "$MREG" list --type $'x\e[31m'
	assert_failure 3
	no_raw_controls "$stderr"
	assert_equal "${stderr_lines[0]}" 'mreg list: unknown type "x\x1b[31m"'
	run --separate-stderr "$MREG" import-dir $'/nonexistent/\e]0;t\a'
	assert_failure 3
	no_raw_controls "$stderr"
	[[ $stderr == *'"/nonexistent/\x1b]0;t\x07"'* ]]
}

# --- closed standard descriptors --------------------------------------------

# A registry big enough that the table does not fit one stdio buffer.
fill_registry() {
	q "INSERT INTO mreg.providers (name) VALUES ('fill') ON CONFLICT DO NOTHING"
	q "INSERT INTO mreg.models (provider_id, name, type)
	   SELECT p.id, 'model-' || g, 'llm' FROM mreg.providers p, generate_series(1, 300) g
	    WHERE p.name = 'fill' ON CONFLICT DO NOTHING"
}

# Wait until no session named $1 is left on the server (it ends the
# session on its own once the client is gone).
wait_sessions_gone() {
	wait_for "the sessions of $1 to end" \
		"[ \"\$(q \"SELECT count(*) FROM pg_stat_activity WHERE application_name = '$1'\")\" = 0 ]"
}

# What the server logged for sessions named $1 since byte $2 of its log.
server_log_of() {
	tail -c +"$(($2 + 1))" "$MREG_SANDBOX/server.log" | grep -F -- "$1" || true
}

@test "list --all >&-: a write error, and nothing reaches the server" {
	[ -r "$MREG_SANDBOX/server.log" ]
	fill_registry
	app="mreg-closed-stdout-$$"
	before=$(wc -c <"$MREG_SANDBOX/server.log")
	run --separate-stderr env PGAPPNAME="$app" bash -c '"$MREG" list --all >&-'
	assert_failure 1
	[[ $stderr == "mreg list: could not write"*": Bad file descriptor" ]]
	wait_sessions_gone "$app"
	run -0 server_log_of "$app" "$before"
	assert_output ""
	# the server is fine, and so is the next run
	run -0 "$MREG" list --provider fill --limit 1 -o json
	assert_equal "$(jq -r '.items[0].provider' <<<"$output")" fill
}

@test "2>&-: messages cannot reach the server either" {
	[ -r "$MREG_SANDBOX/server.log" ]
	fill_registry
	app="mreg-closed-stderr-$$"
	before=$(wc -c <"$MREG_SANDBOX/server.log")
	# -v prints pool statistics while the connection is open
	run --separate-stderr env PGAPPNAME="$app" bash -c '"$MREG" -v list --provider fill -o json 2>&-'
	assert_success
	assert_equal "$(jq '.items | length' <<<"$output")" 300
	wait_sessions_gone "$app"
	run -0 server_log_of "$app" "$before"
	assert_output ""
	# an error with stderr closed still exits with its status
	run env PGAPPNAME="$app" bash -c '"$MREG" list --type nosuchtype 2>&-'
	assert_failure 3
	run bash -c '"$MREG" list --nope 2>&-'
	assert_failure 2
}
