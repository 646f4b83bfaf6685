#!/usr/bin/env bats
# 8001: mreg export - the registry as model files: the round trip on the
# sample models, the format, the paths, the filters, the manifest (what a
# re-export rewrites, removes and never touches), artifacts, bad input

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	"$MREG" import-dir --quiet "$SAMPLES"
}

teardown_file() {
	db_drop_second
	db_drop
}

setup() {
	E="$BATS_TEST_TMPDIR/export"
}

teardown() {
	# an immutable directory (the unwritable case as root) must go
	chattr -i "$BATS_TEST_TMPDIR/ro" 2>/dev/null || true
	chmod -R u+w "$BATS_TEST_TMPDIR" 2>/dev/null || true
}

# The files under $1 (manifest included), with their hashes, sorted.
tree_state() {
	(cd "$1" && find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum)
}

@test "round trip: export, import into an empty registry, export again: the same bytes; onto the origin: nothing changes" {
	run -0 "$MREG" export --all "$E"
	assert_output --partial 'exported 30 models'
	# onto the registry it came from
	run -0 "$MREG" import-dir -o json "$E"
	[ "$(summary added)" = 0 ]
	[ "$(summary updated)" = 0 ]
	[ "$(summary failed)" = 0 ]
	# into an empty registry, and out again
	local b
	b=$(db_create_second)
	run -0 env PGDATABASE="$b" "$MREG" import-dir -o json "$E"
	[ "$(summary added)" = 30 ]
	run -0 env PGDATABASE="$b" "$MREG" export --all "$BATS_TEST_TMPDIR/again"
	diff -r "$E" "$BATS_TEST_TMPDIR/again"
	# and again in place: nothing to write
	run -0 "$MREG" export --all -o json "$E"
	[ "$(summary written)" = 0 ]
	[ "$(summary unchanged)" = 30 ]
	[ "$(summary removed)" = 0 ]
	"$MREG_SOURCE_ROOT/test/json-valid" export <<<"$output"
}

@test "the files: exact values, fixed key order, a newline at the end; '-' is the same as NDJSON" {
	run -0 "$MREG" export --all "$E"
	f="$E/local/mini-reranker%40team.example.json"
	[ -f "$f" ]
	# issue 11: the stored decimal, not a double
	grep -q '^    "threshold": 0.35,\?$' "$f"
	[ "$(tail -c1 "$f" | od -An -c | tr -d ' ')" = '\n' ]
	# keys in mreg-model(5)'s order
	run -0 jq -r 'keys_unsorted | join(",")' "$E/openai/text-embedding-3-small.json"
	assert_output 'name,provider,type,version,display_name,description,tags,synonyms,active,config,metadata,artifacts'
	for x in "$E"/*/*.json; do
		"$MREG_SOURCE_ROOT/test/json-valid" export-model "$x"
	done
	# standard output: one line per model, in the same order as the paths
	run -0 "$MREG" export --all -
	[ "${#lines[@]}" = 30 ]
	"$MREG_SOURCE_ROOT/test/json-valid" --ndjson export-model <<<"$output"
	grep -q '"threshold":0.35[,}]' <<<"$output"
	run -2 "$MREG" export -o json -
	assert_output --partial "'-' writes the models as NDJSON"
}

@test "paths: / : @ and capitals encoded, no leading dot, reversible" {
	run -0 "$MREG" export "$E"
	[ -f "$E/meta/meta-llama%2f%4clama-3.1-8%42-%49nstruct.json" ]
	[ -f "$E/local/nomic-embed-text%3av1.5.json" ]
	# every path: lowercase, digits, . _ - % and /, one file per model
	run -0 bash -c "cd '$E' && find . -type f ! -name .mreg-export | LC_ALL=C grep -v '^\./[a-z0-9._%/-]*\.json$' || true"
	assert_output ''
	run -0 bash -c "cd '$E' && find . -name '.*' ! -name . ! -name .mreg-export"
	assert_output ''
	# the manifest lists each file with its SHA-256, as sha256sum -c reads it
	(cd "$E" && sha256sum --quiet -c .mreg-export)
	[ "$(wc -l <"$E/.mreg-export")" = 29 ]
}

@test "filters: --type, --provider, --tag, --all; a re-export removes the files of models no longer selected" {
	run -0 "$MREG" export --type embedding -o json "$E"
	[ "$(summary models)" = "$(q "SELECT count(*) FROM mreg.models WHERE type = 'embedding' AND active")" ]
	run -0 jq -rs 'map(.type) | unique | join(",")' "$E"/*/*.json
	assert_output 'embedding'
	run -0 "$MREG" export --provider openai -
	run -0 jq -r .provider <<<"$output"
	[ "$(sort -u <<<"$output")" = openai ]
	run -0 "$MREG" export --tag chat --tag vision -
	run -0 jq -r '.tags | (index("chat") != null and index("vision") != null)' <<<"$output"
	[ "$(sort -u <<<"$output")" = true ]
	# without --all, no inactive model
	run -0 "$MREG" export -
	[ "${#lines[@]}" = 29 ]
	run -0 jq -r .active <<<"$output"
	[ "$(sort -u <<<"$output")" = true ]
	run -3 "$MREG" export --type nosuchtype -
	assert_output --partial 'unknown type "nosuchtype"'
	# the export narrowed: the other files go, and the emptied directories
	run -0 "$MREG" export --all -o json "$E"
	run -0 "$MREG" export --provider cohere -o json "$E"
	[ "$(summary removed)" = 24 ]
	[ "$(summary unchanged)" = 6 ]
	[ ! -e "$E/openai" ]
	[ "$(wc -l <"$E/.mreg-export")" = 6 ]
}

@test "a non-empty directory that is not an export is refused and left as it was; --force deletes nothing it did not write" {
	mkdir -p "$E/notes"
	echo keep >"$E/notes/readme.txt"
	echo '{}' >"$E/mine.json"
	before=$(tree_state "$E")
	run -3 "$MREG" export "$E"
	assert_output --partial "directory \"$E\" is not empty and holds no export manifest"
	[ "$(tree_state "$E")" = "$before" ]
	run -0 "$MREG" export --force --provider openai "$E"
	[ "$(cat "$E/notes/readme.txt")" = keep ]
	[ "$(cat "$E/mine.json")" = '{}' ]
	# a re-export that removes every model file still leaves them
	run -0 "$MREG" export --force --provider google -o json "$E"
	[ "$(summary removed)" -gt 0 ]
	[ "$(cat "$E/notes/readme.txt")" = keep ]
	[ "$(cat "$E/mine.json")" = '{}' ]
}

@test "a file in an export that export did not write survives a re-export; one in the way is refused without --force" {
	run -0 "$MREG" export "$E"
	echo mine >"$E/openai/notes.txt"
	echo mine >"$E/openai/zz-mine.json"
	run -0 "$MREG" export "$E"
	[ "$(cat "$E/openai/notes.txt")" = mine ]
	[ "$(cat "$E/openai/zz-mine.json")" = mine ]
	# a file at a path export writes, not in its manifest
	f="$E/openai/gpt-4o-mini.json"
	grep -v "  openai/gpt-4o-mini.json\$" "$E/.mreg-export" >"$E/m" && mv "$E/m" "$E/.mreg-export"
	echo mine >"$f"
	run -3 "$MREG" export "$E"
	assert_output --partial "\"$f\" exists and is not a file mreg export wrote"
	[ "$(cat "$f")" = mine ]
	run -0 "$MREG" export --force "$E"
	jq -e '.name == "gpt-4o-mini"' "$f"
	grep -q "  openai/gpt-4o-mini.json\$" "$E/.mreg-export"
}

@test "a model gone from the registry: its file is removed, or kept with a warning when edited since" {
	local b
	b=$(db_create_second)
	PGDATABASE=$b "$MREG" import-dir --quiet "$SAMPLES"
	run -0 env PGDATABASE="$b" "$MREG" export "$E"
	echo '  ' >>"$E/mistral/codestral-2405.json"
	PGDATABASE=$b q "DELETE FROM mreg.models WHERE name IN ('mistral-small-2409', 'codestral-2405')"
	run -0 --separate-stderr env PGDATABASE="$b" "$MREG" export -o json "$E"
	[ "$(summary removed)" = 1 ]
	[ "$(summary kept)" = 1 ]
	[ ! -e "$E/mistral/mistral-small-2409.json" ]
	[ -f "$E/mistral/codestral-2405.json" ]
	[[ "$stderr" == *"warning: \"$E/mistral/codestral-2405.json\" was edited since the last export: left in place"* ]]
	! grep -q codestral "$E/.mreg-export" || false
	run -0 env PGDATABASE="$b" "$MREG" export "$E"
	assert_output --partial '0 removed'
}

@test "a manifest export did not write is refused before anything is removed" {
	run -0 "$MREG" export "$E"
	echo secret >"$BATS_TEST_TMPDIR/victim.json"
	printf '%064d  ../victim.json\n' 0 >>"$E/.mreg-export"
	run -3 "$MREG" export --provider openai "$E"
	assert_output --partial 'is not a manifest mreg export wrote'
	[ "$(cat "$BATS_TEST_TMPDIR/victim.json")" = secret ]
	[ -f "$E/google/gemma-2-9b-it.json" ]
}

@test "a symbolic link in the way is refused: nothing is written through it" {
	run -0 "$MREG" export "$E"
	mkdir "$BATS_TEST_TMPDIR/elsewhere"
	rm -r "$E/openai"
	ln -s "$BATS_TEST_TMPDIR/elsewhere" "$E/openai"
	run -3 "$MREG" export "$E"
	assert_output --partial "is not a directory (a symbolic link)"
	[ -z "$(ls -A "$BATS_TEST_TMPDIR/elsewhere")" ]
}

@test "an unwritable directory, or one that cannot be made: a clear error, exit 1" {
	mkdir "$BATS_TEST_TMPDIR/ro"
	if [ "$(id -u)" = 0 ]; then
		chattr +i "$BATS_TEST_TMPDIR/ro"   # root writes through mode bits
	else
		chmod 555 "$BATS_TEST_TMPDIR/ro"
	fi
	run -1 "$MREG" export "$BATS_TEST_TMPDIR/ro"
	assert_output --regexp "mreg export: could not write into directory \"$BATS_TEST_TMPDIR/ro\": ([Pp]ermission denied|[Oo]peration not permitted)"
	run -1 --separate-stderr "$MREG" export -o json "$BATS_TEST_TMPDIR/ro"
	"$MREG_SOURCE_ROOT/test/json-valid" error <<<"$output"
	run -1 "$MREG" export "$BATS_TEST_TMPDIR/no/such/dir"
	assert_output --partial "could not create directory \"$BATS_TEST_TMPDIR/no/such/dir\""
	echo x >"$BATS_TEST_TMPDIR/file"
	run -1 "$MREG" export "$BATS_TEST_TMPDIR/file"
	assert_output --partial "could not export into \"$BATS_TEST_TMPDIR/file\": Not a directory"
}

@test "artifacts travel as their recorded size and SHA-256: verified when the file is there, recorded when absent" {
	run -0 "$MREG" export "$E"
	f="$E/local/nomic-embed-text%3av1.5.json"
	art="$SAMPLES/local/nomic-embed-text-v1.5/nomic-embed-text.modelfile"
	run -0 jq -c '.artifacts' "$f"
	assert_output "[{\"path\":\"nomic-embed-text.modelfile\",\"size\":$(stat -c %s "$art"),\"sha256\":\"$(sha256sum "$art" | cut -d' ' -f1)\"}]"
	local b
	b=$(db_create_second)
	# absent: recorded as the file says
	run -0 env PGDATABASE="$b" "$MREG" import-dir --quiet "$E"
	[ "$(PGDATABASE=$b q "SELECT a.size || ' ' || a.sha256 FROM mreg.artifacts a WHERE a.path = 'nomic-embed-text.modelfile'")" = "$(stat -c %s "$art") $(sha256sum "$art" | cut -d' ' -f1)" ]
	# there and the same: fine; there and different: that file is bad
	cp "$art" "$E/local/"
	run -0 env PGDATABASE="$b" "$MREG" import-dir --rehash -o json "$E"
	[ "$(summary failed)" = 0 ]
	echo changed >>"$E/local/nomic-embed-text.modelfile"
	run -3 env PGDATABASE="$b" "$MREG" import-dir --rehash "$E"
	assert_output --partial "nomic-embed-text%3av1.5.json: key 'artifacts': \"nomic-embed-text.modelfile\": the file has $(( $(stat -c %s "$art") + 8 )) bytes, the model file records $(stat -c %s "$art")"
	rm "$E/local/nomic-embed-text.modelfile"
	# absent and only a path, or an object without its SHA-256: an error
	jq '.artifacts[0] |= {path, size}' "$f" >"$E/x" && mv "$E/x" "$f"
	run -3 env PGDATABASE="$b" "$MREG" import-dir "$E"
	assert_output --partial "key 'artifacts': \"nomic-embed-text.modelfile\": could not open"
	jq '.artifacts[0] |= {path, size: -1, sha256: "x"}' "$f" >"$E/x" && mv "$E/x" "$f"
	run -3 env PGDATABASE="$b" "$MREG" import-dir "$E"
	assert_output --partial "item 0: 'sha256' must be 64 lowercase hexadecimal digits"
}
