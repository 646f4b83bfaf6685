#!/usr/bin/env bats
# 0004: no password-bearing part of a DSN is ever printed: not with -v, not
# in errors, not for a DSN libpq cannot parse

load helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
}

teardown_file() {
	db_drop
}

# run CMD... with stdout and stderr together; the secret must not be there
no_secret() {
	local secret=$1
	shift
	run "$@"
	if [[ $output == *"$secret"* ]]; then
		echo "\"$secret\" printed by: $*" >&2
		echo "$output" >&2
		return 1
	fi
}

@test "a malformed URI: libpq's reason without the DSN, for every command" {
	dsn='postgresql://u:hunter2@[::1/x'
	no_secret hunter2 "$MREG" -v -d "$dsn" list
	assert_failure 1
	assert_line --partial 'connecting to (invalid connection string)'
	assert_line --partial 'could not connect to (invalid connection string): end of string reached when looking for matching "]" in IPv6 host address in URI'
	for cmd in "list audit" "show a/b" "search x" "default llm" \
		"set-default a/b" "migrate status" "migrate" "bench --transactions 1" \
		"import-dir $BATS_TEST_TMPDIR" "search --explain x"; do
		# shellcheck disable=SC2086
		no_secret hunter2 "$MREG" -v -d "$dsn" $cmd
		assert_failure
	done
	echo '{"model": "a/b", "set": {"active": false}}' >"$BATS_TEST_TMPDIR/b.ndjson"
	no_secret hunter2 "$MREG" -v -d "$dsn" bulk-update "$BATS_TEST_TMPDIR/b.ndjson"
	assert_failure 1
	MREG_DSN=$dsn no_secret hunter2 "$MREG" -v list
	assert_failure 1
}

@test "malformed key=value strings: the quoted pieces are dropped" {
	no_secret hunter2 "$MREG" -v -d "host=/nonexistent password= hunter2 x" list
	assert_failure 1
	assert_line --partial 'missing "=" after "..." in connection info string'
	no_secret hunter2 "$MREG" -d "hunter2" list
	assert_failure 1
	no_secret hunter2 "$MREG" -d "hunter2=x" list
	assert_failure 1
	assert_line --partial 'invalid connection option "..."'
	no_secret hunter2 "$MREG" -d "postgresql://u:hunter2@/db?nosuch=hunter2" list
	assert_failure 1
	no_secret hunter2 "$MREG" -d "postgresql://u:hunter2@/db?a=%zzhunter2" list
	assert_failure 1
}

@test "sslpassword is a secret too, as key=value and in a URI query" {
	no_secret hunter2 "$MREG" -v -d "host=$PGHOST dbname=$PGDATABASE sslpassword=hunter2" list
	assert_success
	assert_line --partial "sslpassword=***"
	no_secret hunter2 "$MREG" -v -d "host=/nonexistent sslpassword=hunter2" list
	assert_failure 1
	assert_line --partial "could not connect to host=/nonexistent sslpassword=***: "
	no_secret hunter2 "$MREG" -v -d "postgresql:///$PGDATABASE?host=$PGHOST&sslpassword=hunter2" list
	assert_success
	assert_line --partial "?host=$PGHOST&sslpassword=***"
	no_secret hunter2 "$MREG" -v -d "postgresql:///x?host=/nonexistent&sslpassword=hunter2" migrate status
	assert_failure 1
}

@test "a percent-encoded password keyword is a password to libpq and to mreg" {
	# libpq decodes the keyword and logs in with it ...
	no_secret sandbox-secret "$MREG" -v -d "postgresql://mreg_pw@/$PGDATABASE?host=$PGHOST&%70assword=sandbox-secret" migrate status
	assert_success
	assert_line --partial "&%70assword=***"
	# ... and a wrong one is refused without being shown
	no_secret hunter2 "$MREG" -v -d "postgresql://mreg_pw@/$PGDATABASE?host=$PGHOST&%70assword=hunter2" migrate status
	assert_failure 1
	assert_line --partial 'password authentication failed for user "mreg_pw"'
	no_secret hunter2 "$MREG" -v -d "postgresql:///x?host=/nonexistent&%70ass%77ord=hunter2" list
	assert_failure 1
	no_secret hunter2 "$MREG" -v -d "postgresql:///x?host=/nonexistent&ssl%70assword=hunter2" list
	assert_failure 1
}

@test "odd URIs: whatever libpq takes for the password is masked" {
	no_secret hunter2 "$MREG" -v -d "postgresql://u:pa?hunter2@/x?host=/nonexistent" list
	assert_failure 1
	no_secret hunter2 "$MREG" -v -d "postgresql://u:p@hunter2@/x?host=/nonexistent" list
	assert_failure 1
	no_secret hunter2 "$MREG" -v -d "postgresql://mreg_pw:hunter2@/$PGDATABASE?host=$PGHOST" migrate status
	assert_failure 1
	assert_line --partial "postgresql://mreg_pw:***@/$PGDATABASE"
}

@test "bench: a secret never reaches its report or its errors" {
	no_secret hunter2 "$MREG" -v bench -d "postgresql://mreg_pw:hunter2@/$PGDATABASE?host=$PGHOST" --transactions 1
	assert_failure 1
	no_secret hunter2 "$MREG" bench -d "host=/nonexistent sslpassword=hunter2" --connect-per-request --transactions 1 --format json
	assert_failure 1
}
