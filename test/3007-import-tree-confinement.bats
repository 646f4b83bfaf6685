#!/usr/bin/env bats
# 3007: the tree stays the tree: nothing outside DIR is read unless
# --follow-external-links, and FIFOs, sockets and devices are never opened

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
}

teardown_file() {
	db_drop
}

teardown() {
	# a FIFO writer left blocked by a failed test
	[ -z "${writer:-}" ] || kill "$writer" 2>/dev/null || true
}

setup() {
	B="$BATS_TEST_TMPDIR/tree"
	O="$BATS_TEST_TMPDIR/outside"
	P="p$BATS_TEST_NUMBER" # a provider of the test's own: its models are new
	mkdir -p "$B/m" "$O"
	model good-1 >"$B/m/1.json"
	model good-2 >"$B/m/2.json"
}

# a model file of the test's provider named $1, with artifacts $2... ("a", "b")
model() {
	local name=$1 arts=""
	shift
	[ $# -eq 0 ] || arts=$(printf ', "%s"' "$@")
	echo "{\"name\": \"$name\", \"provider\": \"$P\", \"type\": \"llm\", \"artifacts\": [${arts#, }]}"
}

# the names of the models recorded for this test's source
recorded() {
	q "select coalesce(string_agg(m.name, ' ' order by m.name), '') from mreg.source_files s join mreg.models m on m.id = s.model_id where s.source = 't$BATS_TEST_NUMBER'"
}

@test "an artifact that is a link to /etc/passwd is refused; nothing about /etc/passwd is recorded" {
	ln -s /etc/passwd "$B/m/weights.bin"
	model pw weights.bin >"$B/m/pw.json"
	import_tree
	assert_failure 3
	assert_equal "$stderr" "mreg import-dir: $B/m/pw.json: key 'artifacts': \"weights.bin\": symbolic link leads outside the tree, to \"/etc/passwd\""
	assert_equal "$(summary failed)" 1
	assert_equal "$(recorded)" "good-1 good-2"
	# the model file is a bad file: no model, no artifact row, nowhere
	assert_equal "$(q "select count(*) from mreg.models where name = 'pw'")" 0
	sha=$(sha256sum /etc/passwd | cut -d' ' -f1)
	assert_equal "$(q "select count(*) from mreg.artifacts where sha256 = '$sha' or path = 'weights.bin'")" 0
	assert_equal "$(q "select count(*) from mreg.audit_log where details::text like '%$sha%'")" 0
	# a file that is a link out of the tree is refused the same way
	echo '{"name": "stolen", "provider": "x", "type": "llm"}' >"$O/stolen.json"
	ln -s "$O/stolen.json" "$B/m/stolen.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"mreg import-dir: $B/m/stolen.json: symbolic link leads outside the tree, to \"$O/stolen.json\""* ]]
	assert_equal "$(q "select count(*) from mreg.models where name = 'stolen'")" 0
}

@test "a link to /etc is not walked: reported, fast, nothing from /etc recorded" {
	ln -s /etc "$B/etc"
	ln -s / "$B/m/root"
	import_tree
	assert_failure 3
	[[ $stderr == *"mreg import-dir: $B/etc: symbolic link leads outside the tree, to \"/etc\""* ]]
	[[ $stderr == *"mreg import-dir: $B/m/root: symbolic link leads outside the tree, to \"/\""* ]]
	assert_equal "$(grep -c . <<<"$stderr")" 2
	assert_equal "$(summary scanned)" 2
	assert_equal "$(summary failed)" 2
	assert_equal "$(recorded)" "good-1 good-2"
	assert_equal "$(q "select count(*) from mreg.source_files where source = 't$BATS_TEST_NUMBER' and (path like 'etc/%' or path like 'm/root/%')")" 0
	# an incomplete walk prunes nothing
	rm "$B/m/2.json"
	import_tree --prune
	assert_failure 3
	[[ $stderr == *"not pruning: the walk of \"$B\" was incomplete"* ]]
	assert_equal "$(q "select m.active from mreg.models m join mreg.providers p on p.id = m.provider_id where p.name = '$P' and m.name = 'good-2'")" t
}

@test "--follow-external-links walks a directory outside and reads artifacts outside" {
	mkdir -p "$O/more"
	model outside-1 >"$O/more/o.json"
	echo weights >"$O/w.bin"
	ln -s "$O/more" "$B/more"
	ln -s ../../outside/w.bin "$B/m/w.bin"
	model with-outside-artifact w.bin >"$B/m/a.json"
	import_tree
	assert_failure 3
	assert_equal "$(summary failed)" 2
	import_tree --follow-external-links
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$(recorded)" "good-1 good-2 outside-1 with-outside-artifact"
	assert_equal "$(q "select a.size || ' ' || a.sha256 from mreg.artifacts a join mreg.models m on m.id = a.model_id where m.name = 'with-outside-artifact'")" \
		"8 $(sha256sum "$O/w.bin" | cut -d' ' -f1)"
	assert_equal "$(q "select path from mreg.source_files s where s.source = 't$BATS_TEST_NUMBER' and path like 'more/%'")" "more/o.json"
}

@test "a FIFO named x.json and a FIFO artifact are bad files, never opened; the run does not hang" {
	mkfifo "$B/x.json" "$B/m/fifo.bin"
	model fifo-artifact fifo.bin >"$B/m/fa.json"
	# a writer blocked until someone opens the artifact FIFO for reading
	( printf 'payload' >"$B/m/fifo.bin" ) 3>&- </dev/null >/dev/null 2>&1 &
	writer=$!
	import_tree
	assert_failure 3
	[[ $stderr == *"mreg import-dir: $B/x.json: not a regular file (a FIFO)"* ]]
	[[ $stderr == *"mreg import-dir: $B/m/fa.json: key 'artifacts': \"fifo.bin\": not a regular file (a FIFO)"* ]]
	assert_equal "$(summary failed)" 2
	assert_equal "$(recorded)" "good-1 good-2"
	assert_equal "$(q "select count(*) from mreg.models where name = 'fifo-artifact'")" 0
	# nobody opened the FIFO: the writer is still waiting for its reader
	got=$(timeout 30 cat "$B/m/fifo.bin")
	wait "$writer"
	writer=
	assert_equal "$got" payload
	# the same through a link with --follow-external-links: still not opened
	rm "$B/x.json"
	mkfifo "$O/fifo.json"
	ln -s "$O/fifo.json" "$B/y.json"
	ln -s /dev/zero "$B/m/zero.bin"
	model zero zero.bin >"$B/m/zero.json"
	import_tree --follow-external-links
	assert_failure 3
	[[ $stderr == *"mreg import-dir: $B/y.json: not a regular file (a FIFO)"* ]]
	[[ $stderr == *"mreg import-dir: $B/m/zero.json: key 'artifacts': \"zero.bin\": not a regular file (a character device)"* ]]
}

@test "links that stay inside the tree keep working beside one that leaves it" {
	mkdir -p "$B/.shared" "$B/blobs"
	model shared >"$B/.shared/s.json"
	ln -s .shared "$B/linked"          # a directory link to a hidden dir
	echo blob >"$B/blobs/w.bin"
	ln -s ../blobs/w.bin "$B/m/rel.bin"  # relative
	ln -s "$B/blobs/w.bin" "$B/m/abs.bin" # absolute, inside
	ln -s "../../$(basename "$B")/blobs/w.bin" "$B/m/around.bin" # out and back
	model linked-artifacts rel.bin abs.bin around.bin >"$B/m/l.json"
	model elsewhere >"$O/e.json"
	ln -s "$O" "$B/m/out"               # the one that leaves
	import_tree
	assert_failure 3
	assert_equal "$stderr" "mreg import-dir: $B/m/out: symbolic link leads outside the tree, to \"$O\""
	assert_equal "$(summary failed)" 1
	assert_equal "$(recorded)" "good-1 good-2 linked-artifacts shared"
	assert_equal "$(q "select string_agg(a.path || ':' || a.size, ' ' order by a.path) from mreg.artifacts a join mreg.models m on m.id = a.model_id where m.name = 'linked-artifacts'")" \
		"abs.bin:5 around.bin:5 rel.bin:5"
	assert_equal "$(q "select path from mreg.source_files s join mreg.models m on m.id = s.model_id where s.source = 't$BATS_TEST_NUMBER' and m.name = 'shared'")" "linked/s.json"
	# the tree reached through a link to it: links inside it are inside
	ln -s "$B" "$BATS_TEST_TMPDIR/alias"
	run --separate-stderr timeout 60 "$MREG" import-dir --source "t$BATS_TEST_NUMBER-alias" --format json "$BATS_TEST_TMPDIR/alias"
	assert_failure 3
	assert_equal "$stderr" "mreg import-dir: $BATS_TEST_TMPDIR/alias/m/out: symbolic link leads outside the tree, to \"$O\""
	assert_equal "$(summary scanned)" 4
	assert_equal "$(q "select count(*) from mreg.models where name = 'elsewhere'")" 0
}
