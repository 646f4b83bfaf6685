#!/usr/bin/env bats
# 0001 dispatch: global options, help, exit codes, DSN redaction

load helpers

setup_file() { db_create; }
teardown_file() { db_drop; }

@test "mreg --help prints usage, the commands and the exit codes to stdout" {
	run --separate-stderr "$MREG" --help
	assert_success
	assert_output --partial "Usage: mreg [global options] COMMAND"
	assert_output --partial "migrate"
	assert_output --partial "4  another run holds the lock"
	[ -z "$stderr" ]
}

@test "mreg help equals mreg --help; mreg help CMD equals CMD --help" {
	run "$MREG" help
	assert_success
	main=$output
	run "$MREG" --help
	assert_output "$main"
	run "$MREG" help migrate
	assert_success
	sub=$output
	run "$MREG" migrate --help
	assert_output "$sub"
}

@test "no command is a usage error" {
	run "$MREG"
	assert_failure 2
	assert_output --partial "Usage:"
}

@test "an unknown command is a usage error with the nearest name" {
	run --separate-stderr "$MREG" migrat
	assert_failure 2
	[[ $stderr == *"'migrat' is not an mreg command; did you mean 'migrate'?"* ]]
	[[ $stderr == *"Try 'mreg --help'"* ]]
	run "$MREG" help nosuchthing
	assert_failure 2
}

@test "unknown options are usage errors, before and after the command" {
	run --separate-stderr "$MREG" --bogus migrate
	assert_failure 2
	[[ $stderr == *"unknown option '--bogus'"* ]]
	run --separate-stderr "$MREG" migrate --bogus
	assert_failure 2
	[[ $stderr == *"mreg migrate: unknown option '--bogus'"* ]]
	[[ $stderr == *"Try 'mreg migrate --help'"* ]]
	run "$MREG" migrate --lock-timeout
	assert_failure 2
	run "$MREG" migrate --lock-timeout soon
	assert_failure 2
	assert_output --partial "invalid duration 'soon'"
}

@test "--version names the version and the libraries" {
	run "$MREG" --version
	assert_success
	assert_line --index 0 --regexp '^mreg [0-9]+\.[0-9]+\.[0-9]+$'
	assert_output --partial "libpq"
}

@test "a wrong password fails with the server's message and is never echoed" {
	run --separate-stderr "$MREG" -d "host=$PGHOST user=mreg_pw password=wrongpass123 dbname=postgres" migrate status
	assert_failure 1
	[[ $stderr == *"password authentication failed for user \"mreg_pw\""* ]]
	[[ $stderr == *"password=***"* ]]
	[[ $stderr != *wrongpass123* ]]
	[ -z "$output" ]
}

@test "URI passwords are redacted too, and MREG_DSN is used" {
	export MREG_DSN="postgresql://mreg_pw:wrongpass123@/postgres?host=$PGHOST"
	run --separate-stderr "$MREG" -v migrate status
	assert_failure 1
	[[ $stderr == *"postgresql://mreg_pw:***@/postgres"* ]]
	[[ $stderr != *wrongpass123* ]]
}

@test "--dsn wins over MREG_DSN; verbose output never shows a good password either" {
	export MREG_DSN="host=/nonexistent"
	run --separate-stderr "$MREG" -v -d "host=$PGHOST user=mreg_pw password=sandbox-secret dbname=$PGDATABASE" migrate status
	assert_success
	[[ $stderr == *"connecting to"*"password=***"* ]]
	[[ $stderr == *"pool: size 1, created 1"* ]]
	[[ $stderr != *sandbox-secret* ]]
}

@test "an unparseable DSN is reported without echoing it" {
	run --separate-stderr "$MREG" -d "host=x password=topsecret99 garbage" migrate status
	assert_failure 1
	[[ $stderr == *"(invalid connection string)"* ]]
	[[ $stderr != *topsecret99* ]]
}

@test "no server: a clear connection error, exit 1" {
	run --separate-stderr "$MREG" -d "host=/nonexistent/dir" migrate status
	assert_failure 1
	[[ $stderr == "mreg migrate: could not connect to host=/nonexistent/dir: "* ]]
}

@test "a closed stdout pipe is not an error" {
	# the pipe's read end is closed before mreg starts, so its first write
	# fails with EPIPE for sure (a reader that exits early races the write);
	# SIGPIPE is restored to its default action in the child
	run --separate-stderr python3 -c '
import os, subprocess, sys
r, w = os.pipe()
os.close(r)
p = subprocess.run([sys.argv[1], "--help"], stdout=w, stderr=subprocess.PIPE,
                   restore_signals=True)
sys.stderr.write(p.stderr.decode())
print(p.returncode)' "$MREG"
	assert_output "0"
	assert_equal "$stderr" ""
}

@test "a full disk on stdout is an error" {
	[ -w /dev/full ] || { echo "/dev/full missing" >&2; return 1; }
	run bash -c "'$MREG' --help >/dev/full"
	assert_failure 1
	assert_output --partial "could not write to standard output"
}
