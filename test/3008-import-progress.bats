#!/usr/bin/env bats
# 3008: import-dir's progress line on a terminal (a tmux pane, 80x24): a
# percentage and a live ETA while the import runs, whatever NO_COLOR says;
# stderr lines on a terminal are plain by default

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	command -v tmux >/dev/null || { echo "tmux is missing (test/setup-debian installs it)" >&2; return 1; }
	db_create_migrated
	export D="$BATS_FILE_TMPDIR/tree"
	sh "$GEN" "$D" 4000 >/dev/null
}

teardown_file() {
	db_drop_second
	db_drop
}

setup() {
	SOCK="mreg-$$-$BATS_TEST_NUMBER"
}

teardown() {
	end_session blocker-3008
	tmux -L "$SOCK" kill-server 2>/dev/null || true
}

# in_pane COMMAND: run COMMAND (a shell command line) in a new detached
# 80x24 tmux session with this test's environment; its exit status lands
# in $BATS_TEST_TMPDIR/rc, then the pane stays as it was.
in_pane() {
	tmux -L "$SOCK" -f /dev/null new-session -d -x 80 -y 24 \
		"$1; echo \$? >'$BATS_TEST_TMPDIR/rc'; exec cat" 3>&-
}

pane() {
	tmux -L "$SOCK" capture-pane -p -t 0
}

@test "progress: a percentage and an ETA on a terminal while it runs, NO_COLOR or not" {
	# half the tree recorded, the other half new: the recorded half is
	# done at once (a rate, so an ETA), then the new half's batches wait
	# for the blocker's lock on the cache rows, so the line stays up
	# however fast the machine (an unheld 4000-file import can end before
	# its first line at 250 ms)
	local tree="$BATS_TEST_TMPDIR/tree" later="$BATS_TEST_TMPDIR/later"
	cp -r "$D" "$tree"
	mkdir "$later"
	mv "$tree"/d[0-4]? "$later/"
	"$MREG" import-dir --quiet --source progress "$tree"
	mv "$later"/* "$tree/"
	blocker blocker-3008 "LOCK TABLE mreg.source_files IN EXCLUSIVE MODE"
	in_pane "NO_COLOR=1 '$MREG' import-dir --source progress '$tree' >'$BATS_TEST_TMPDIR/out'"
	wait_for "a progress line with a percentage and an ETA" \
		"pane | grep -Eq '^scanned 4000, hashed [0-9]+, imported [0-9]+ of 4000 \\([0-9]+%, [0-9]+ files/s, ETA [0-9]+ s\\)'"
	end_session blocker-3008
	wait_for "the import to finish" "[ -s '$BATS_TEST_TMPDIR/rc' ]"
	assert_equal "$(cat "$BATS_TEST_TMPDIR/rc")" 0
	grep -q '^scanned 4000, unchanged 2000, added 2000,' "$BATS_TEST_TMPDIR/out"
	# the line is gone once it is over, and never took two rows
	run pane
	refute_output --partial 'files/s'
}

@test "progress: the line fits a narrow terminal" {
	local second
	second=$(db_create_second)
	# held at its cache rows, so the line is up however fast the machine
	PGDATABASE=$second blocker blocker-3008 "LOCK TABLE mreg.source_files IN EXCLUSIVE MODE"
	tmux -L "$SOCK" -f /dev/null new-session -d -x 40 -y 10 \
		"PGDATABASE=$second '$MREG' import-dir --source narrow '$D' >/dev/null; echo \$? >'$BATS_TEST_TMPDIR/rc'; exec cat" 3>&-
	wait_for "a progress line" "pane | grep -q '^scanned '"
	pane >"$BATS_TEST_TMPDIR/pane"
	end_session blocker-3008
	wait_for "the import to finish" "[ -s '$BATS_TEST_TMPDIR/rc' ]"
	[ "$(cat "$BATS_TEST_TMPDIR/rc")" = 0 ]
	# one row, cut at 39 columns: no second row carries the rest
	run grep -c . "$BATS_TEST_TMPDIR/pane"
	assert_output 1
	run grep '^scanned ' "$BATS_TEST_TMPDIR/pane"
	[ "${#output}" -le 39 ]
}

@test "log-format auto: plain on a terminal" {
	in_pane "env -u MREG_LOG_FORMAT '$MREG' show openai/no-such-model"
	wait_for "the command to finish" "[ -s '$BATS_TEST_TMPDIR/rc' ]"
	[ "$(cat "$BATS_TEST_TMPDIR/rc")" = 3 ]
	run pane
	assert_line --regexp '^mreg show: unknown model "openai/no-such-model"'
}
