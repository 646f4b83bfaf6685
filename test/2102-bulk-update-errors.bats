#!/usr/bin/env bats
# mreg bulk-update: invalid input, unknown models, malformed JSON and bad
# command lines; every failure leaves the database as it was.

load helpers
load bulk-helpers
bats_require_minimum_version 1.5.0

setup_file() { db_create_migrated; }
teardown_file() { db_drop; }
setup() { bulk_reset; }

# many N BADLINE BADITEM: N items over the bulk-many models, BADITEM on
# line BADLINE
many() {
	awk -v n="$1" -v bad="$2" -v item="$3" 'BEGIN {
		for (i = 1; i <= n; i++)
			if (i == bad) print item;
			else printf "{\"model\": \"many/m%05d\", \"set\": {\"active\": false, \"tags_add\": [\"seen\"]}}\n", i
	}'
}

@test "an invalid item on line 9,999 of 10,000 leaves the database untouched" {
	psql -XAtq -v ON_ERROR_STOP=1 -f "$FIXTURES/bulk-many.sql"
	before=$(db_state)
	f=$(many 10000 9999 '{"model": "many/m09999", "set": {"active": "no"}}' | batch)
	run --separate-stderr "$MREG" bulk-update "$f"
	assert_failure 3
	assert_output ""
	[[ $stderr == "mreg bulk-update: $f:9999: key 'set.active': must be a boolean, not a string" ]]
	[ "$(db_state)" = "$before" ]
	# the same batch without the bad line applies all 10,000 items
	f=$(many 10000 0 '' | batch 2)
	run "$MREG" bulk-update "$f"
	assert_success
	assert_output "10000 items: matched 10000, changed 10000, unchanged 0, defaults set 0"
	[ "$(q "SELECT count(*) FROM mreg.models WHERE NOT active AND 'seen' = ANY (tags)")" = 10000 ]
	[ "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update'")" = 10000 ]
}

@test "an unknown model on line 9,999 of 10,000 leaves the database untouched" {
	psql -XAtq -v ON_ERROR_STOP=1 -f "$FIXTURES/bulk-many.sql"
	before=$(db_state)
	f=$(many 10000 9999 '{"model": "many/nope", "set": {"active": false}}' | batch)
	run --separate-stderr "$MREG" bulk-update "$f"
	assert_failure 3
	[[ $stderr == "mreg bulk-update: $f:9999: unknown model \"many/nope\""* ]]
	[ "$(db_state)" = "$before" ]
}

@test "unknown models: exit 3, the first named with its line, the others counted" {
	before=$(db_state)
	f=$(batch <<'J'
{"model": "acme/chat-2", "set": {"description": "would change"}}
{"model": "acme/nope", "set": {"active": false}}
{"model": "ghost/chat-1", "set": {"active": false}}
{"where": {"provider": "ghost"}, "set": {"active": false}}
J
)
	run --separate-stderr "$MREG" bulk-update "$f"
	assert_failure 3
	[[ $stderr == *"$f:2: unknown model \"acme/nope\""* ]]
	[[ $stderr == *'DETAIL: 2 items name unknown models; also "ghost/chat-1" (line 3)'* ]]
	[ "$(db_state)" = "$before" ]
}

@test "malformed JSON reports the line and column" {
	f=$(batch <<'J'
{"model": "acme/chat-2", "set": {"description": "ok"}}

{"model": "acme/chat-1", "set": {"active": fals}}
{"model": "acme/chat-1", "set": {"active": true}}
J
)
	before=$(db_state)
	run --separate-stderr "$MREG" bulk-update "$f"
	assert_failure 3
	[[ $stderr == "mreg bulk-update: $f:3:47: malformed JSON: invalid token near 'fals'"* ]]
	[[ $stderr == *"HINT: The input is read as NDJSON"* ]]
	[ "$(db_state)" = "$before" ]
}

@test "a JSON array: errors name the index, line and column" {
	run --separate-stderr "$MREG" bulk-update - <<'J'
[
  {"model": "acme/chat-2", "set": {"description": "ok"}},
  {"model": "acme/chat-1",
   "set": {"active": true,}}
]
J
	assert_failure 3
	[[ $stderr == "mreg bulk-update: <stdin>:4:27: array index 1: malformed JSON: string or '}' expected near '}'"* ]]

	run --separate-stderr "$MREG" bulk-update - <<'J'
[{"model": "acme/chat-2", "set": {"description": "ok"}},
 {"model": "acme/chat-2", "set": {"description": "ok"}},
 {"model": "acme/chat-1", "set": {"tags_add": ["a", 1]}}]
J
	assert_failure 3
	[[ $stderr == "mreg bulk-update: <stdin>:3: array index 2: key 'set.tags_add': item 1 must be a string, not an integer" ]]

	run --separate-stderr "$MREG" bulk-update - <<<'[{"model": "acme/chat-2", "set_default": true}] {}'
	assert_failure 3
	[[ $stderr == *"<stdin>:1:49: unexpected data after the closing ']' of the array"* ]]
}

@test "invalid items name the key at fault" {
	check() {
		run --separate-stderr "$MREG" bulk-update - <<<"$1"
		assert_failure 3
		[[ $stderr == "mreg bulk-update: <stdin>:1: $2"* ]] ||
			{ echo "got: $stderr" >&2; return 1; }
	}
	check '{"where": {}, "set": {"active": false}}' "key 'where': empty selector would match every model"
	check '{"model": "acme/chat-1", "set": {"colour": "red"}}' "key 'set.colour': unknown key"
	check '{"model": "acme/chat-1", "set": {"config_merge": []}}' "key 'set.config_merge': must be an object, not an array"
	check '{"model": "acme/chat-1", "set": {"tags": ["a"], "tags_add": ["b"]}}' "key 'set.tags': cannot be combined with tags_add"
	check '{"model": "acme", "set": {"active": true}}' "key 'model': \"acme\" is not of the form provider/name"
	check '{"model": "acme/chat-1", "where": {"type": "llm"}, "set": {"active": true}}' "key 'where': cannot be combined with \"model\""
	check '{"where": {"type": "llm"}, "set_default": true}' "key 'set_default': needs \"model\""
	check '{"model": "acme/chat-1", "set": {"active": true}, "extra": 1}' "key 'extra': unknown key"
	run --separate-stderr "$MREG" bulk-update - <<<'{"model": "acme/chat-1", "set": {}, "set": {"active": true}}'
	assert_failure 3
	[[ $stderr == "mreg bulk-update: <stdin>:1:41: malformed JSON: duplicate object key near '\"set\"'"* ]]
}

@test "usage errors exit 2 with a hint" {
	run --separate-stderr "$MREG" bulk-update
	assert_failure 2
	[[ $stderr == *"missing input"* && $stderr == *"Try 'mreg bulk-update --help'"* ]]
	run --separate-stderr "$MREG" bulk-update a.json b.json
	assert_failure 2
	run --separate-stderr "$MREG" bulk-update --format csv a.json
	assert_failure 2
	[[ $stderr == *"--format must be text or json, not 'csv'"* ]]
	run --separate-stderr "$MREG" bulk-update --bogus a.json
	assert_failure 2
}

@test "an unreadable input file is a runtime error" {
	run --separate-stderr "$MREG" bulk-update "$BATS_TEST_TMPDIR/missing.ndjson"
	assert_failure 1
	[[ $stderr == "mreg bulk-update: could not open \"$BATS_TEST_TMPDIR/missing.ndjson\": No such file or directory" ]]
	run --separate-stderr "$MREG" bulk-update "$BATS_TEST_TMPDIR"
	assert_failure 1
	[[ $stderr == *"could not read"* ]]
}

@test "no database: exit 1, nothing printed on stdout" {
	f=$(batch <<<'{"model": "acme/chat-2", "set": {"description": "x"}}')
	run --separate-stderr "$MREG" bulk-update --dsn "host=$BATS_TEST_TMPDIR/nowhere dbname=x" "$f"
	assert_failure 1
	assert_output ""
	[[ $stderr == "mreg bulk-update: "* ]]
}

@test "a connection killed in the middle of a batch: exit 1, nothing written" {
	before=$(db_state)
	mkfifo "$BATS_TEST_TMPDIR/in"
	"$MREG" bulk-update - <"$BATS_TEST_TMPDIR/in" >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" &
	pid=$!
	exec 4>"$BATS_TEST_TMPDIR/in"
	echo '{"model": "acme/chat-2", "set": {"description": "first half"}}' >&4
	# its transaction is open and the COPY waits for more input
	bpid=""
	wait_for "the COPY of bulk-update" \
		"bpid=\$(q \"SELECT pid FROM pg_stat_activity
		           WHERE application_name = 'mreg bulk-update' AND datname = current_database()
		             AND query LIKE 'COPY bulk_items%'\"); [ -n \"\$bpid\" ]"
	[ -n "$bpid" ]
	q "SELECT pg_terminate_backend($bpid)" >/dev/null
	echo '{"model": "acme/chat-1", "set": {"description": "second half"}}' >&4
	exec 4>&-
	rc=0
	wait "$pid" || rc=$?
	[ "$rc" -eq 1 ]
	[ ! -s "$BATS_TEST_TMPDIR/out" ]
	grep -q "^mreg bulk-update: " "$BATS_TEST_TMPDIR/err"
	[ "$(db_state)" = "$before" ]
}

@test "type errors read as import-dir's: one message for the same mistake" {
	# the same wrong types in a model file and in a bulk item end alike
	d=$(mktemp -d "$BATS_TEST_TMPDIR/models.XXXXXX")
	printf '{"provider": "acme", "name": "m", "type": "llm", "tags": ["a", 7]}\n' >"$d/m.json"
	run --separate-stderr "$MREG" import-dir --dry-run "$d"
	[[ $stderr == *"m.json: key 'tags': item 1 must be a string, not an integer"* ]] ||
		{ echo "import-dir said: $stderr" >&2; return 1; }
	run --separate-stderr "$MREG" bulk-update - <<<'{"model": "acme/chat-1", "set": {"tags": ["a", 7]}}'
	assert_failure 3
	assert_equal "$stderr" "mreg bulk-update: <stdin>:1: key 'set.tags': item 1 must be a string, not an integer"
	printf '{"provider": "acme", "name": "m", "type": "llm", "active": "yes"}\n' >"$d/m.json"
	run --separate-stderr "$MREG" import-dir --dry-run "$d"
	[[ $stderr == *"m.json: key 'active': must be a boolean, not a string"* ]] ||
		{ echo "import-dir said: $stderr" >&2; return 1; }
	run --separate-stderr "$MREG" bulk-update - <<<'{"model": "acme/chat-1", "set": {"active": "yes"}}'
	assert_failure 3
	assert_equal "$stderr" "mreg bulk-update: <stdin>:1: key 'set.active': must be a boolean, not a string"
}
