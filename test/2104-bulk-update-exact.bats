#!/usr/bin/env bats
# mreg bulk-update: values are stored exactly (big integers, exponents,
# decimals, in replacements and merges); what jsonb cannot hold is an
# invalid item; a later import-dir --rehash does not undo them; a byte
# order mark at the start of the input is skipped.

load helpers
load bulk-helpers
bats_require_minimum_version 1.5.0

setup_file() { db_create_migrated; }
teardown_file() { db_drop; }
setup() { bulk_reset; }

# json_is MODEL COLUMN JSON: the column equals JSON, both as jsonb
json_is() {
	local got
	got=$(psql -XAtq -v ON_ERROR_STOP=1 -v want="$3" <<SQL
SELECT m.$2 = :'want'::jsonb FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
 WHERE p.name || '/' || m.name = \$\$$1\$\$
SQL
)
	if [ "$got" != t ]; then
		echo "$1 $2 is $(field_json "$1" "$2"), not $3" >&2
		return 1
	fi
}

# decimal_eq DOC KEY WANT: member KEY of the JSON text DOC equals the JSON
# text WANT as decimals (never as doubles)
decimal_eq() {
	python3 - "$1" "$2" "$3" <<'PY'
import decimal, json, sys
D = decimal.Decimal
doc, want = (json.loads(s, parse_float=D, parse_int=D) for s in (sys.argv[1], sys.argv[3]))
a, b = doc[sys.argv[2]], want
if a != b:
    print("differ:\n  %r\n  %r" % (a, b), file=sys.stderr)
    sys.exit(1)
PY
}

@test "big integers, exponents and decimals are stored as written, in set and in merges" {
	f=$(batch <<'J'
{"model": "acme/chat-2", "set": {"config": {"big": 123456789012345678901234567890, "e": 1E2, "p": 0.06, "z": -0.0, "s": 1e-7, "scale": 1.50}, "metadata": {"huge": 1E+400}}}
{"model": "acme/chat-1", "set": {"config_merge": {"big": -98765432109876543210987654321.5, "temperature": 0.35}, "metadata_merge": {"cost": 0.24}}}
J
)
	run -0 "$MREG" bulk-update "$f"
	assert_output "2 items: matched 2, changed 2, unchanged 0, defaults set 0"
	json_is acme/chat-2 config '{"big": 123456789012345678901234567890, "e": 1E2, "p": 0.06, "z": -0.0, "s": 1e-7, "scale": 1.50}'
	json_is acme/chat-2 metadata '{"huge": 1E+400}'
	json_is acme/chat-1 config '{"big": -98765432109876543210987654321.5, "temperature": 0.35, "max_tokens": 1024}'
	json_is acme/chat-1 metadata '{"owner": "ml", "cost": 0.24}'
	[ "$(q "SELECT m.config->>'scale' FROM mreg.models m WHERE name = 'chat-2'")" = 1.50 ]
	# and show prints them digit for digit
	run -0 "$MREG" show acme/chat-2 -o ndjson
	decimal_eq "$output" config \
		'{"big": 123456789012345678901234567890, "e": 1E2, "p": 0.06, "z": -0.0, "s": 1e-7, "scale": 1.50}'
	assert_output --partial '"config":{"e":100,"p":0.06,"s":0.0000001,"z":0.0,"big":123456789012345678901234567890,"scale":1.50}'
	# the audit row has the exact old and new values
	run -0 q "SELECT new->'config'->>'temperature', old->'config'->>'temperature'
	            FROM mreg.audit_log WHERE resource = 'models/acme/chat-1' AND action = 'model.update'"
	assert_output "0.35|0.7"
}

@test "a JSON array batch with big integers; --dry-run shows the exact new values" {
	f=$(batch <<'J'
[
  {"model": "zeta/chat-z", "set": {"config_merge": {"n": 340282366920938463463374607431768211456, "r": 0.1}}},
  {"where": {"provider": "old-co"}, "set": {"metadata": {"budget": 1234567890123.45}}}
]
J
)
	run -0 "$MREG" bulk-update --dry-run --format json "$f"
	assert_output --partial '"new": {"n": 340282366920938463463374607431768211456, "r": 0.1}'
	assert_output --partial '"new": {"budget": 1234567890123.45}'
	run -0 "$MREG" bulk-update "$f"
	json_is zeta/chat-z config '{"n": 340282366920938463463374607431768211456, "r": 0.1}'
	json_is old-co/legacy-1 metadata '{"budget": 1234567890123.45}'
	json_is old-co/legacy-2 metadata '{"budget": 1234567890123.45}'
}

@test "what jsonb cannot hold is an invalid item: exit 3, its position and key, nothing written" {
	before=$(db_state)
	f=$(batch <<'J'
{"model": "acme/chat-2", "set": {"config": {"ok": 123456789012345678901234567890}}}
{"model": "acme/chat-1", "set": {"config_merge": {"eps": [0, 1e-20000]}}}
J
)
	run --separate-stderr "$MREG" bulk-update "$f"
	assert_failure 3
	assert_equal "$stderr" "mreg bulk-update: $f:2:62: key 'set.config_merge.eps[1]': number 1e-20000 is out of range for PostgreSQL numeric: more than 16383 digits after the decimal point"
	[ "$(db_state)" = "$before" ]
	run --separate-stderr "$MREG" bulk-update - <<'J'
[{"model": "acme/chat-2", "set": {"description": "ok"}},
 {"model": "acme/chat-1",
  "set": {"description": "a\u0000b"}}]
J
	assert_failure 3
	assert_equal "$stderr" "mreg bulk-update: <stdin>:3:28: array index 1: key 'set.description': a NUL character (U+0000) in a string: PostgreSQL cannot store it"
	run --separate-stderr "$MREG" bulk-update - <<<'{"model": "acme/chat-2", "set": {"config": {"x": 1e1000000}}}'
	assert_failure 3
	[[ $stderr == *":1:50: key 'set.config.x': number 1e1000000 is out of range for PostgreSQL numeric: more than 131072 digits before the decimal point" ]]
	[ "$(db_state)" = "$before" ]
}

@test "import-dir --rehash after bulk-update: equal values are no change, unrelated models keep theirs" {
	tree="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$tree/files"
	echo '{"name": "chat", "provider": "files", "type": "llm", "config": {"temperature": 0.7, "price": 0.06}}' >"$tree/files/chat.json"
	echo '{"name": "other", "provider": "files", "type": "llm", "config": {"n": 1.10}}' >"$tree/files/other.json"
	run -0 "$MREG" import-dir --source exact "$tree"
	# the file said 0.7 and 0.06: setting them again changes nothing
	f=$(batch <<'J'
{"model": "files/chat", "set": {"config_merge": {"temperature": 0.7, "price": 0.060}}}
{"model": "acme/chat-1", "set": {"config_merge": {"big": 123456789012345678901234567890, "p": 0.7}}}
{"model": "acme/embed-1", "set": {"metadata": {"e": 1E2, "small": 1e-7}}}
J
)
	run -0 "$MREG" bulk-update "$f"
	assert_output "3 items: matched 3, changed 2, unchanged 1, defaults set 0"
	n=$(q "SELECT count(*) FROM mreg.audit_log")
	run -0 "$MREG" import-dir --source exact --rehash --format json "$tree"
	[ "$(jq -r .updated <<<"$output")" = 0 ]
	[ "$(q "SELECT count(*) FROM mreg.audit_log")" = "$n" ]
	json_is acme/chat-1 config '{"big": 123456789012345678901234567890, "p": 0.7, "temperature": 0.7, "max_tokens": 1024}'
	json_is acme/embed-1 metadata '{"e": 100, "small": 0.0000001}'
	json_is files/chat config '{"temperature": 0.7, "price": 0.06}'
	# a change of a file's own model is undone by a re-read of that file
	run -0 "$MREG" bulk-update - <<<'{"model": "files/chat", "set": {"config_merge": {"temperature": 0.8}}}'
	run -0 "$MREG" import-dir --source exact --rehash --format json "$tree"
	[ "$(jq -r .updated <<<"$output")" = 1 ]
	json_is files/chat config '{"temperature": 0.7, "price": 0.06}'
}

@test "a UTF-8 byte order mark at the start of the input is skipped (NDJSON file, JSON array on stdin)" {
	f="$BATS_TEST_TMPDIR/bom.ndjson"
	printf '\xef\xbb\xbf{"model": "acme/chat-2", "set": {"config": {"t": 0.35}}}\r\n' >"$f"
	run -0 "$MREG" bulk-update "$f"
	assert_output "1 item: matched 1, changed 1, unchanged 0, defaults set 0"
	json_is acme/chat-2 config '{"t": 0.35}'
	run -0 "$MREG" bulk-update - < <(printf '\xef\xbb\xbf[{"model": "acme/chat-2", "set": {"config": {"t": 0.36}}}]\n')
	json_is acme/chat-2 config '{"t": 0.36}'
	# elsewhere it is malformed JSON, said so in words
	run --separate-stderr "$MREG" bulk-update - < <(printf '{"model": "acme/chat-2",\xef\xbb\xbf "set": {"active": true}}\n')
	assert_failure 3
	[[ $stderr == *"<stdin>:1:25: malformed JSON: string or '}' expected near a byte order mark (U+FEFF)"* ]]
}
