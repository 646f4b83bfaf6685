#!/usr/bin/env bats
# 1006: bad time arguments and forged cursors are usage errors found by
# mreg itself, before any SQL (so before connecting, too)

load helpers
bats_require_minimum_version 1.5.0

# a server that does not exist: a usage error must come before connecting
NOWHERE="host=/nonexistent/mreg-1006"

setup_file() {
	db_create_migrated
	q "INSERT INTO mreg.audit_log (logged_at, actor, action, resource, details) VALUES
	   ('2026-01-01T00:00:00Z', 'ann', 'model.update', 'models/a/b', '{}'),
	   ('2026-01-02T00:00:00Z', 'bob', 'model.update', 'models/a/b', '{}'),
	   ('2024-02-29T12:00:00Z', 'cid', 'model.update', 'models/a/b', '{}'),
	   (now() - interval '90 minutes', 'dee', 'model.update', 'models/a/b', '{}')"
	q "INSERT INTO mreg.providers (name) VALUES ('p1'), ('p2'), ('p3')"
	q "INSERT INTO mreg.models (provider_id, name, type)
	   SELECT p.id, 'm' || g, 'llm' FROM mreg.providers p, generate_series(1, 3) g WHERE p.name = 'p1'"
}

teardown_file() {
	db_drop
}

# actors of the audit entries that 'list audit ARGS...' prints, sorted
actors() {
	"$MREG" list audit --action model.update "$@" -o ndjson | jq -r .actor | sort | tr '\n' ' '
}

# a cursor token for the raw bytes given to printf
forge() {
	printf "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='
}

@test "--since/--until: garbage, negative, impossible dates are usage errors" {
	run --separate-stderr "$MREG" list audit --since garbage
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'mreg list: --since: invalid time "garbage": expected a duration such as 2h or an ISO-8601 timestamp'
	assert_equal "${stderr_lines[1]}" "Try 'mreg list --help' for more information."
	run --separate-stderr "$MREG" list audit --since -5h
	assert_failure 2
	[[ ${stderr_lines[0]} == 'mreg list: --since: invalid time "-5h": '*"positive"* ]]
	run --separate-stderr "$MREG" list audit --until 2020-13-45
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'mreg list: --until: invalid time "2020-13-45": month 13 is out of range (01-12)'
	run --separate-stderr "$MREG" list audit --since 2023-02-29
	assert_failure 2
	assert_equal "${stderr_lines[0]}" 'mreg list: --since: invalid time "2023-02-29": day 29 is out of range for February 2023'
	for t in 5 0s 1.5h 2h30 "2026-12-01T25:00" "2026-12-01T10:61" \
		"2026-12-01T10:00:60Z" "2026-12-01T10:00+25:00" "tomorrow" \
		"2026-12-01 10:00 UTC" "2026-12-01T10:00:00.1234567890Z" \
		"0000-01-01" "now" "1 day"; do
		run --separate-stderr "$MREG" -d "$NOWHERE" list audit --since "$t"
		assert_failure 2
		[[ ${stderr_lines[0]} == "mreg list: --since: invalid time \"$t\": "* ]]
		[[ $stderr != *"invalid input syntax"* ]]
	done
}

@test "--since/--until: durations and ISO-8601 timestamps select the right entries" {
	assert_equal "$(actors --since 2h)" "dee "
	assert_equal "$(actors --since 1h)" ""
	assert_equal "$(actors --since 1h40m)" "dee "
	assert_equal "$(actors --since 2026-01-01 --until 2026-01-03)" "ann bob "
	assert_equal "$(actors --since 2026-01-01T00:00:00Z --until 2026-01-02T00:00:00Z)" "ann "
	# an offset: 2026-01-01T12:00+02:00 is 10:00 UTC
	assert_equal "$(actors --since 2026-01-01T12:00+02:00 --until 2026-01-03)" "bob "
	assert_equal "$(actors --since '2026-01-01 22:30:00-01:00' --until 2026-01-03)" "bob "
	assert_equal "$(actors --since '2026-01-01 23:30:00-01:00' --until 2026-01-03)" ""
	assert_equal "$(actors --since 2026-01-01T23:59:59.999999Z --until 2026-01-03)" "bob "
	assert_equal "$(actors --since 2026-01-02T00:00:00.000001Z --until 2026-01-03)" ""
	# a leap day, and local time as TZ says
	assert_equal "$(actors --since 2024-02-29 --until 2024-03-01)" "cid "
	assert_equal "$(TZ=UTC actors --since 2024-02-29T12:00 --until 2024-02-29T12:00:01)" "cid "
	assert_equal "$(TZ=XXX-3 actors --since 2024-02-29T15:00 --until 2024-02-29T15:00:01)" "cid "
	assert_equal "$(actors --until 1w | grep -c dee)" 0
}

@test "--after: a forged or damaged cursor is a usage error before any SQL; real ones page" {
	run -0 "$MREG" list --limit 1 -o json
	good=$(jq -r .next <<<"$output")
	run -0 "$MREG" -d "host=$PGHOST" list --limit 1 --after "$good" -o json
	for bad in 'not a cursor!' 'MXo' "${good}=" "${good}%" "$good$good" \
		"$(forge '1n\x1f99999999999999999999\x1fm1')" \
		"$(forge '1n\x1f9223372036854775808\x1fm1')" \
		"$(forge '1n\x1f0\x1fm1')" \
		"$(forge '1n\x1f-1\x1fm1')" \
		"$(forge '1n\x1f1\x1fm1\x1fextra')" \
		"$(forge '1n\x1f1\x1fm\xff1')" \
		"$(forge '1n\x1f1\x1fm\x1b[2J')" \
		"$(forge '1n\x1f1\x1f')" \
		"$(forge '2n\x1f1\x1fm1')" \
		"$(forge '1z\x1f1\x1fm1')" \
		"$(head -c 3000 /dev/zero | tr '\0' A)"; do
		run --separate-stderr "$MREG" -d "$NOWHERE" list --after "$bad"
		assert_failure 2
		[[ ${stderr_lines[0]} == 'mreg list: invalid cursor "'* ]]
	done
	# the timestamp of a --sort updated or audit cursor is checked too
	for bad in "$(forge '1u\x1f1\x1f2026-13-01T00:00:00.000000Z')" \
		"$(forge '1u\x1f1\x1fgarbage')" \
		"$(forge "1u\\x1f1\\x1f2026-01-01T00:00:00.000000Z'; --")"; do
		run --separate-stderr "$MREG" -d "$NOWHERE" list --sort updated --after "$bad"
		assert_failure 2
		[[ ${stderr_lines[0]} == 'mreg list: invalid cursor "'* ]]
	done
	run --separate-stderr "$MREG" -d "$NOWHERE" list audit --after "$(forge '1a\x1f1\x1f2026-02-30T00:00:00.000000Z')"
	assert_failure 2
	# providers and defaults: a slug, no id
	run --separate-stderr "$MREG" -d "$NOWHERE" list providers --after "$(forge '1p\x1f\x1fP1')"
	assert_failure 2
	run --separate-stderr "$MREG" -d "$NOWHERE" list providers --after "$(forge '1p\x1f7\x1fp1')"
	assert_failure 2
	run --separate-stderr "$MREG" -d "$NOWHERE" list defaults --after "$(forge '1d\x1f\x1f')"
	assert_failure 2
	# another listing's cursor still says so
	run --separate-stderr "$MREG" -d "$NOWHERE" list providers --after "$good"
	assert_failure 2
	[[ ${stderr_lines[0]} == *"belongs to another listing or sort order" ]]

	# genuine cursors of every listing still page
	run -0 "$MREG" list providers --limit 1 -o json
	c=$(jq -r .next <<<"$output")
	run -0 "$MREG" list providers --limit 1 --after "$c" -o json
	assert_equal "$(jq -r '.items[0].name' <<<"$output")" p2
	run -0 "$MREG" list --sort updated --limit 1 -o json
	c=$(jq -r .next <<<"$output")
	run -0 "$MREG" list --sort updated --after "$c" -o json
	assert_equal "$(jq '.items | length' <<<"$output")" 2
	run -0 "$MREG" list audit --action model.update --limit 1 -o json
	c=$(jq -r .next <<<"$output")
	run -0 "$MREG" list audit --action model.update --after "$c" -o json
	assert_equal "$(jq '.items | length' <<<"$output")" 3
	# a hand-made cursor with the largest id is valid, and finds nothing
	run -0 "$MREG" list --after "$(forge '1n\x1f9223372036854775807\x1fm3')" -o json
	assert_equal "$(jq -c .items <<<"$output")" "[]"
}
