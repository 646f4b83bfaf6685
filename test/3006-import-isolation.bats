#!/usr/bin/env bats
# 3006: one bad file never stops an import, whatever refuses it: the
# client's limits (paths, tags, artifacts) or the database itself

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
}

teardown_file() {
	db_drop
}

setup() {
	B="$BATS_TEST_TMPDIR/tree"
	P="p$BATS_TEST_NUMBER" # a provider of the test's own: its models are new
	mkdir -p "$B"
	for i in 1 2 3; do
		model "iso-$i" >"$B/$i.json"
	done
}

# a model file of the test's provider named $1
model() {
	echo "{\"name\": \"$1\", \"provider\": \"$P\", \"type\": \"llm\"}"
}

# the names of the models recorded for this test's source
recorded() {
	q "select coalesce(string_agg(m.name, ' ' order by m.name), '') from mreg.source_files s join mreg.models m on m.id = s.model_id where s.source = 't$BATS_TEST_NUMBER'"
}

# n random lowercase letters (incompressible enough to defeat the index's
# compression)
random_name() {
	tr -dc 'a-z' </dev/urandom | head -c "$1"
}

@test "a 3.5 KB nested path is a bad file; every other file is imported, on every run" {
	local deep="$B" rel="" i
	for i in $(seq 18); do
		part=$(random_name 200)
		deep="$deep/$part"
		rel="${rel:+$rel/}$part"
	done
	mkdir -p "$deep"
	model deep >"$deep/m.json"
	rel="$rel/m.json"
	import_tree
	assert_failure 3
	assert_equal "$stderr" "mreg import-dir: $B/$rel: path too long (${#rel} bytes, at most 2000)"
	assert_equal "$(summary failed)" 1
	assert_equal "$(summary added)" 3
	assert_equal "$(recorded)" "iso-1 iso-2 iso-3"
	# the next run reports it again and still imports a new good file
	model iso-4 >"$B/4.json"
	import_tree
	assert_failure 3
	assert_equal "$stderr" "mreg import-dir: $B/$rel: path too long (${#rel} bytes, at most 2000)"
	assert_equal "$(summary added)" 1
	assert_equal "$(summary unchanged)" 3
	assert_equal "$(recorded)" "iso-1 iso-2 iso-3 iso-4"
	assert_equal "$(q "select count(*) from mreg.models where name = 'deep'")" 0
}

@test "values the database refuses are bad files; the rest of their batch is imported" {
	# a description whose search document is over PostgreSQL's 1 MB
	# tsvector limit (the file itself is under --max-file-size)
	printf '{"name": "huge", "provider": "'"$P"'", "type": "llm", "description": "' >"$B/2b.json"
	printf 'q%s ' {a..z}{a..z}{a..z}{a..h} >>"$B/2b.json"
	printf '"}\n' >>"$B/2b.json"
	# a file name that is not UTF-8: the database refuses the path
	latin1=$(printf 'caf\xe9.json')
	model latin1-name >"$B/$latin1"
	for i in 5 6 7 8 9; do
		model "iso-$i" >"$B/$i.json"
	done
	import_tree --batch-size 4
	assert_failure 3
	[[ $stderr == *"mreg import-dir: $B/2b.json: the database refused it: string is too long for tsvector"* ]]
	# (the name is shown escaped: invalid UTF-8 bytes as \xNN)
	[[ $stderr == *"mreg import-dir: $B/caf\\xe9.json: the database refused it: invalid byte sequence for encoding \"UTF8\""* ]]
	assert_equal "$(grep -c . <<<"$stderr")" 2
	assert_equal "$(summary failed)" 2
	assert_equal "$(summary added)" 8
	assert_equal "$(recorded)" "iso-1 iso-2 iso-3 iso-5 iso-6 iso-7 iso-8 iso-9"
	assert_equal "$(q "select count(*) from mreg.models where name in ('huge', 'latin1-name')")" 0
	# not recorded: read again next time, and still refused
	import_tree
	assert_failure 3
	assert_equal "$(summary failed)" 2
	[[ $stderr == *"$B/2b.json: the database refused it: string is too long for tsvector"* ]]
	# fixed, it is imported
	echo '{"name": "huge", "provider": "'"$P"'", "type": "llm", "description": "short now"}' >"$B/2b.json"
	rm "$B/$latin1"
	import_tree
	assert_success
	assert_equal "$(summary added)" 1
	assert_equal "$(q "select description from mreg.models where name = 'huge'")" "short now"
}

@test "--strict and --dry-run: a refused value is reported and nothing is written" {
	printf '{"name": "huge", "provider": "'"$P"'", "type": "llm", "description": "' >"$B/2b.json"
	printf 'q%s ' {a..z}{a..z}{a..z}{a..h} >>"$B/2b.json"
	printf '"}\n' >>"$B/2b.json"
	import_tree --strict
	assert_failure 3
	[[ $stderr == *"$B/2b.json: the database refused it: string is too long for tsvector"* ]]
	[[ $stderr == *"nothing imported: 1 bad file (--strict)"* ]]
	assert_equal "$(recorded)" ""
	import_tree --dry-run
	assert_failure 3
	[[ $stderr == *"$B/2b.json: the database refused it: string is too long for tsvector"* ]]
	assert_equal "$(summary added)" 3
	assert_equal "$(recorded)" ""
}

@test "tags and artifact paths too long to index are bad files before the server sees them" {
	tag=$(random_name 3000)
	echo "{\"name\": \"tagged\", \"provider\": \"$P\", \"type\": \"llm\", \"tags\": [\"ok\", \"$tag\"]}" >"$B/tag.json"
	# an artifact that exists, 2300 bytes below the model file
	local dir="" i
	for i in $(seq 10); do dir="${dir:+$dir/}$(random_name 229)"; done
	mkdir -p "$B/$dir"
	echo weights >"$B/$dir/w.bin"
	echo "{\"name\": \"arty\", \"provider\": \"$P\", \"type\": \"llm\", \"artifacts\": [\"$dir/w.bin\"]}" >"$B/art.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/tag.json: key 'tags': item 1 is longer than 200 characters"* ]]
	[[ $stderr == *"$B/art.json: key 'artifacts': \"${dir:0:200}...\" is too long ($((${#dir} + 6)) bytes, at most 2000)"* ]]
	assert_equal "$(summary failed)" 2
	assert_equal "$(recorded)" "iso-1 iso-2 iso-3"
}

@test "--source of 10 KB, or with a control character: usage error, nothing stored" {
	run --separate-stderr "$MREG" import-dir --source "$(random_name 10240)" "$B"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "mreg import-dir: --source: too long (10240 bytes, at most 512)"
	run --separate-stderr "$MREG" import-dir --source $'two\nlines' "$B"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "mreg import-dir: --source: contains a control character"
	assert_equal "$(q "select count(*) from mreg.source_files where length(source) > 512 or source like 'two%'")" 0
	assert_equal "$(q "select count(*) from mreg.models m join mreg.providers p on p.id = m.provider_id where p.name = '$P'")" 0
}

@test "a DIR whose real path is too long to name the source asks for --source" {
	local d="$BATS_TEST_TMPDIR" i
	for i in 1 2 3; do d="$d/$(random_name 200)"; done
	mkdir -p "$d"
	cp "$B"/*.json "$d/"
	run --separate-stderr "$MREG" import-dir "$d"
	assert_failure 2
	[[ ${stderr%%$'\n'*} == "mreg import-dir: the real path of \"$d\" cannot name the source: too long ("*" bytes, at most 512); name it with --source" ]]
	assert_equal "$(q "select count(*) from mreg.source_files where length(source) > 512")" 0
	run --separate-stderr "$MREG" import-dir --source "t$BATS_TEST_NUMBER" --format json "$d"
	assert_success
	assert_equal "$(summary added)" 3
}

@test "--actor of 60 KB, with a control character, or from MREG_ACTOR: usage error, nothing stored" {
	long=$(random_name 61440)
	audit=$(q "select count(*) from mreg.audit_log")
	run --separate-stderr "$MREG" --actor "$long" import-dir --source "t$BATS_TEST_NUMBER" "$B"
	assert_failure 2
	assert_equal "$stderr" "mreg: --actor: too long (61440 bytes, at most 200)
Try 'mreg --help' for more information."
	run --separate-stderr "$MREG" "--actor=bad$(printf '\033')[31m" import-dir --source "t$BATS_TEST_NUMBER" "$B"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "mreg: --actor: contains a control character"
	run --separate-stderr "$MREG" import-dir --actor "$long" --source "t$BATS_TEST_NUMBER" "$B"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "mreg import-dir: --actor: too long (61440 bytes, at most 200)"
	MREG_ACTOR=$'ci\nrun' run --separate-stderr "$MREG" import-dir --source "t$BATS_TEST_NUMBER" "$B"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "mreg import-dir: MREG_ACTOR: contains a control character"
	MREG_ACTOR=$long run --separate-stderr "$MREG" set-default "$P/iso-1"
	assert_failure 2
	assert_equal "${stderr%%$'\n'*}" "mreg set-default: MREG_ACTOR: too long (61440 bytes, at most 200)"
	assert_equal "$(q "select count(*) from mreg.audit_log")" "$audit"
	assert_equal "$(recorded)" ""
	# a reader does not record an actor: a bad MREG_ACTOR does not stop it
	MREG_ACTOR=$long run --separate-stderr "$MREG" list
	assert_success
	# 200 bytes is fine
	run --separate-stderr "$MREG" --actor "$(random_name 200)" import-dir --source "t$BATS_TEST_NUMBER" "$B"
	assert_success
	assert_equal "$(q "select count(*) from mreg.audit_log where length(actor) = 200")" 4
}
