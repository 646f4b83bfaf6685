#!/usr/bin/env bats
# 0009: unattended runs: --log-format (plain, stamped, json, auto), the
# statement timings and connection details of --verbose, and libpq's
# precedence for connect_timeout

load helpers
bats_require_minimum_version 1.5.0

STAMP='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z '
EVIL=$'evil\e]0;pwned\a\e[2J\nfake: ok.json'

setup_file() {
	db_create_migrated
	psql -XAtq -v ON_ERROR_STOP=1 -f "$MREG_SOURCE_ROOT/test/fixtures/registry.sql" >/dev/null
}
teardown_file() { db_drop; }

# every_line_stamped TEXT: each line starts with a UTC timestamp
every_line_stamped() {
	local line n=0
	while IFS= read -r line; do
		n=$((n + 1))
		[[ $line =~ $STAMP ]] || { echo "not stamped: $line" >&2; return 1; }
	done <<<"$1"
	[ "$n" -gt 0 ] || { echo "no lines" >&2; return 1; }
}

# json_lines FILE COMMAND: each line of FILE is one log object of the
# contract, for COMMAND ("null": before one); prints "level<TAB>message"
# per line
json_lines() {
	python3 - "$1" "$2" <<'EOF'
import json, re, sys
levels = {"error", "warning", "hint", "detail", "info", "verbose"}
n = 0
for raw in open(sys.argv[1], "rb").read().split(b"\n")[:-1]:
    n += 1
    assert b"\x1b" not in raw, raw
    o = json.loads(raw)
    assert set(o) <= {"ts", "level", "command", "message", "sqlstate"}, o
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["ts"]), o
    assert o["level"] in levels, o
    assert o["command"] == (None if sys.argv[2] == "null" else sys.argv[2]), o
    assert isinstance(o["message"], str), o
    print("%s\t%s" % (o["level"], o["message"].replace("\n", "<NL>")))
assert n > 0, "no lines"
EOF
}

@test "log-format stamped: every stderr line (error, hint, verbose) is stamped" {
	run --separate-stderr "$MREG" --log-format stamped -v show openai/gpt-4x
	[ "$status" -eq 3 ]
	every_line_stamped "$stderr"
	[[ $stderr == *" mreg show: "*"openai/gpt-4x"* ]]
	[[ $stderr == *" HINT: did you mean "* ]]
	[[ $stderr == *" mreg show: statement "* ]]
	# the option after the command, and the environment, do the same
	run --separate-stderr env MREG_LOG_FORMAT=stamped "$MREG" show openai/gpt-4x
	every_line_stamped "$stderr"
	# even about an option before it
	run --separate-stderr "$MREG" list --bogus --log-format stamped
	[ "$status" -eq 2 ]
	every_line_stamped "$stderr"
	[[ $stderr == *" Try 'mreg list --help' for more information."* ]]
}

@test "log-format json: every stderr line is one JSON object" {
	"$MREG" --log-format json -v show openai/gpt-4x 2>"$BATS_TEST_TMPDIR/err" || true
	run json_lines "$BATS_TEST_TMPDIR/err" show
	assert_success
	assert_line --regexp $'^error\tunknown model "openai/gpt-4x"'
	assert_line --regexp $'^hint\tdid you mean '
	assert_line --regexp $'^verbose\tstatement [a-z-]+\\.[a-z_]+ \\([A-Z]+\\): [0-9.]+ ms'
	refute_line --partial 'mreg show:'
	# a usage error too (command known), and before a command (null)
	"$MREG" list --bogus --log-format json 2>"$BATS_TEST_TMPDIR/err" || true
	run json_lines "$BATS_TEST_TMPDIR/err" list
	assert_success
	assert_line $'error\tunknown option \'--bogus\''
	"$MREG" --log-format json --bogus 2>"$BATS_TEST_TMPDIR/err" || true
	run json_lines "$BATS_TEST_TMPDIR/err" null
	assert_success
}

@test "log-format json: an error's line carries its SQLSTATE" {
	# a database without the schema: the server's 42P01
	"$MREG" --log-format json -d "host=$PGHOST port=$PGPORT dbname=postgres" set-default openai/gpt-4o \
		2>"$BATS_TEST_TMPDIR/err" && false
	python3 -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert o[0]["level"] == "error" and o[0]["sqlstate"] == "42P01", o
' "$BATS_TEST_TMPDIR/err"
	# a connection that failed: libpq gives none, mreg says 08006
	"$MREG" --log-format json -d "host=$PGHOST port=$PGPORT dbname=t_no_such_db_$$" list \
		2>"$BATS_TEST_TMPDIR/err" && false
	python3 -c '
import json, sys
o = [json.loads(l) for l in open(sys.argv[1])]
assert o[0]["level"] == "error" and o[0]["sqlstate"] == "08006", o
assert "t_no_such_db_" in o[0]["message"], o
' "$BATS_TEST_TMPDIR/err"
}

@test "log-format auto: stamped when stderr is not a terminal" {
	run --separate-stderr env -u MREG_LOG_FORMAT "$MREG" show openai/gpt-4x
	[ "$status" -eq 3 ]
	every_line_stamped "$stderr"
	run --separate-stderr env MREG_LOG_FORMAT=auto "$MREG" show openai/gpt-4x
	every_line_stamped "$stderr"
	# plain is what the other suites read
	run --separate-stderr "$MREG" show openai/gpt-4x
	[[ ${stderr_lines[0]} == "mreg show: "* ]]
}

@test "log-format: a bad value is a usage error, in the option and the environment" {
	run --separate-stderr "$MREG" list --log-format xml
	[ "$status" -eq 2 ]
	[[ $stderr == *"--log-format must be auto, plain, stamped or json, not 'xml'"* ]]
	run --separate-stderr "$MREG" --log-format= list
	[ "$status" -eq 2 ]
	run --separate-stderr env MREG_LOG_FORMAT=syslog "$MREG" list
	[ "$status" -eq 2 ]
	[[ $stderr == *"MREG_LOG_FORMAT must be auto, plain, stamped or json, not 'syslog'"* ]]
	[ -z "$output" ]
}

@test "log-format: a hostile file name stays on its line in every format" {
	local tree="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$tree"
	printf '{ not json' >"$tree/$EVIL"
	"$MREG" import-dir --log-format stamped --source evil "$tree" >/dev/null 2>"$BATS_TEST_TMPDIR/err" && false
	run cat "$BATS_TEST_TMPDIR/err"
	every_line_stamped "$output"
	[[ $output == *'evil\x1b]0;pwned\x07\x1b[2J\nfake: ok.json'* ]]
	! LC_ALL=C grep -q $'\e' "$BATS_TEST_TMPDIR/err" || false
	"$MREG" import-dir --log-format json --source evil "$tree" >/dev/null 2>"$BATS_TEST_TMPDIR/err" && false
	run json_lines "$BATS_TEST_TMPDIR/err" import-dir
	assert_success
	# JSON-escaped: the name itself, newline and ESC included, once decoded
	python3 -c '
import json, sys
names = [json.loads(l)["message"] for l in open(sys.argv[1], "rb")]
assert any(sys.argv[2] in m for m in names), names
' "$BATS_TEST_TMPDIR/err" "$EVIL"
}

@test "verbose: every statement's name, time and rows, never a parameter's value" {
	run --separate-stderr "$MREG" -v list --provider openai
	assert_success
	grep -E '^mreg list: statement [a-z-]+\.[a-z_]+ \([A-Z]+\): [0-9]+\.[0-9]{3} ms, [0-9]+ rows?$' <<<"$stderr"
	! grep '^mreg list: statement .*openai' <<<"$stderr" || false
	run --separate-stderr "$MREG" -v search zebrasecretquery
	grep -E '^mreg search: statement .* ms' <<<"$stderr"
	! grep 'statement .*zebrasecretquery' <<<"$stderr" || false
	# a write
	run --separate-stderr "$MREG" set-default openai/gpt-4o -v
	assert_success
	grep -E '^mreg set-default: statement [a-z.-_]+ \([A-Z]+\): [0-9.]+ ms, 1 row$' <<<"$stderr"
	! grep 'statement .*gpt-4o' <<<"$stderr" || false
	# a transaction: BEGIN and COMMIT have no rows
	printf '{"where": {"type": "embedding"}, "set": {"config_merge": {"k": 1}}}\n' >"$BATS_TEST_TMPDIR/b.ndjson"
	run --separate-stderr "$MREG" bulk-update -v "$BATS_TEST_TMPDIR/b.ndjson"
	assert_success
	grep -E '^mreg bulk-update: statement .* \(BEGIN\): [0-9.]+ ms$' <<<"$stderr"
	# a failed statement says so, without rows
	run --separate-stderr "$MREG" -v -d "host=$PGHOST port=$PGPORT dbname=postgres" default llm
	grep -E '^mreg default: statement .*: [0-9.]+ ms, failed \(SQLSTATE 42P01\)$' <<<"$stderr"
	# without -v, nothing of it
	run --separate-stderr "$MREG" list
	! grep 'statement' <<<"$stderr" || false
}

@test "verbose: statement lines of import-dir's threads are whole lines" {
	local tree="$BATS_TEST_TMPDIR/tree"
	cp -r "$MREG_SOURCE_ROOT/test/data/models" "$tree"
	run --separate-stderr "$MREG" import-dir -v -j 4 --source threads "$tree"
	assert_success
	grep -q '^mreg import-dir: statement ' <<<"$stderr"
	local line
	while IFS= read -r line; do
		[[ $line == "mreg import-dir: "* ]] || { echo "torn line: $line" >&2; return 1; }
	done <<<"$stderr"
}

@test "verbose: the host, port and database libpq connected to, never the password" {
	run --separate-stderr "$MREG" -v -d "host=$PGHOST port=$PGPORT dbname=$PGDATABASE password=hunter2secret" list
	assert_success
	[[ $stderr == *"connected to host \"$PGHOST\" port $PGPORT database \"$PGDATABASE\""* ]]
	[[ $stderr != *hunter2secret* ]]
}

@test "connect_timeout: mreg's default only when nothing else gives one" {
	run --separate-stderr env -u PGCONNECT_TIMEOUT "$MREG" -v list
	assert_success
	[[ $stderr == *"connect_timeout 10 s, mreg's default"* ]]
	# an empty PGCONNECT_TIMEOUT (libpq alone would refuse it) is none
	run --separate-stderr env PGCONNECT_TIMEOUT= "$MREG" -v list
	assert_success
	[[ $stderr == *"connect_timeout 10 s, mreg's default"* ]]
}

@test "connect_timeout: PGCONNECT_TIMEOUT is honoured (a blackhole address)" {
	# 192.0.2.1 (TEST-NET-1) never answers; what matters is what -v says
	run --separate-stderr env PGCONNECT_TIMEOUT=1 "$MREG" -v -d "host=192.0.2.1 dbname=x" list
	[ "$status" -eq 1 ]
	[[ $stderr == *"connect_timeout 1 s from PGCONNECT_TIMEOUT"* ]]
	[[ $stderr == *"could not connect to "* ]]
}

@test "connect_timeout: a service file's is honoured, before PGCONNECT_TIMEOUT" {
	local svc="$BATS_TEST_TMPDIR/pg_service.conf"
	printf '[regsvc]\nhost=%s\nport=%s\nconnect_timeout=4\n' "$PGHOST" "$PGPORT" >"$svc"
	run --separate-stderr env PGSERVICEFILE="$svc" PGSERVICE=regsvc "$MREG" -v list
	assert_success
	[[ $stderr == *"connect_timeout 4 s from the service file (service \"regsvc\")"* ]]
	run --separate-stderr env PGSERVICEFILE="$svc" PGCONNECT_TIMEOUT=3 "$MREG" -v -d service=regsvc list
	assert_success
	[[ $stderr == *"connect_timeout 4 s from the service file (service \"regsvc\")"* ]]
	# a service without one leaves it to the environment
	printf '[bare]\nhost=%s\n' "$PGHOST" >"$svc"
	run --separate-stderr env PGSERVICEFILE="$svc" PGCONNECT_TIMEOUT=3 "$MREG" -v -d service=bare list
	assert_success
	[[ $stderr == *"connect_timeout 3 s from "*PGCONNECT_TIMEOUT* ]]
	run --separate-stderr env PGSERVICEFILE="$svc" PGCONNECT_TIMEOUT=7 "$MREG" -v -d service=bare list
	[[ $stderr == *"connect_timeout 7 s from "*PGCONNECT_TIMEOUT* ]]
}

@test "connect_timeout: the DSN's wins over the environment and the service" {
	local svc="$BATS_TEST_TMPDIR/pg_service.conf"
	printf '[regsvc]\nhost=%s\nport=%s\nconnect_timeout=4\n' "$PGHOST" "$PGPORT" >"$svc"
	run --separate-stderr env PGSERVICEFILE="$svc" PGSERVICE=regsvc PGCONNECT_TIMEOUT=3 \
		"$MREG" -v -d "host=$PGHOST connect_timeout=5" list
	assert_success
	[[ $stderr == *"connect_timeout 5 s from the DSN"* ]]
	run --separate-stderr env PGCONNECT_TIMEOUT=3 \
		"$MREG" -v -d "postgresql:///$PGDATABASE?host=$PGHOST&connect_timeout=6" list
	assert_success
	[[ $stderr == *"connect_timeout 6 s from the DSN"* ]]
}

@test "log-format: import-dir's progress in a log is a log line of its own" {
	local tree="$BATS_TEST_TMPDIR/tree"
	cp -r "$MREG_SOURCE_ROOT/test/data/models" "$tree"
	"$MREG" import-dir --progress --log-format json --source progress-json "$tree" \
		>/dev/null 2>"$BATS_TEST_TMPDIR/err"
	run json_lines "$BATS_TEST_TMPDIR/err" import-dir
	assert_success
	# the last one has the total and 100%
	assert_line --regexp $'^info\tscanned [0-9]+, hashed [0-9]+, imported ([0-9]+) of \\1 \\(100%, [0-9]+ files/s, ETA 0 s\\)$'
	"$MREG" import-dir --progress --log-format stamped --source progress-json "$tree" \
		>/dev/null 2>"$BATS_TEST_TMPDIR/err"
	run cat "$BATS_TEST_TMPDIR/err"
	every_line_stamped "$output"
	assert_line --regexp "${STAMP}scanned [0-9]+, hashed [0-9]+, imported [0-9]+ of [0-9]+ \\(100%"
}
