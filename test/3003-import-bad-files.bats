#!/usr/bin/env bats
# 3003: bad files are reported one by one and never stop the good ones

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
	mkdir -p "$B/good" "$B/bad"
	echo '{"name": "fine-1", "provider": "good", "type": "llm"}' >"$B/good/1.json"
	echo '{"name": "fine-2", "provider": "good", "type": "embedding"}' >"$B/good/2.json"
}

good_imported() {
	assert_equal "$(q "select count(*) from mreg.source_files s join mreg.models m on m.id = s.model_id where s.source = 't$BATS_TEST_NUMBER' and m.name like 'fine-%'")" 2
}

@test "a syntax error is reported with line and column; the others are imported" {
	printf '{\n  "name": "x",\n  "provider": "p",\n  "type": "llm",\n}\n' >"$B/bad/comma.json"
	import_tree
	assert_failure 3
	assert_equal "$stderr" "mreg import-dir: $B/bad/comma.json:5:1: string or '}' expected near '}'"
	assert_equal "$(summary failed)" 1
	assert_equal "$(summary added)" 2
	good_imported
}

@test "duplicate keys, trailing garbage, an array: each with its position" {
	printf '{"name": "a", "provider": "p",\n "name": "b", "type": "llm"}\n' >"$B/bad/dupkey.json"
	printf '{"name": "a", "provider": "p", "type": "llm"} {}\n' >"$B/bad/garbage.json"
	printf '[{"name": "a"}]\n' >"$B/bad/array.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/bad/dupkey.json:2:7: duplicate object key near '\"name\"'"* ]]
	[[ $stderr == *"$B/bad/garbage.json:1:"*": end of file expected"* ]]
	[[ $stderr == *"$B/bad/array.json:1:1: the file must hold one JSON object, not an array"* ]]
	assert_equal "$(summary failed)" 3
	good_imported
}

@test "unknown keys, wrong types, missing keys, bad slugs: named by key" {
	echo '{"name": "a", "provider": "p", "type": "llm", "colour": "red"}' >"$B/bad/unknown.json"
	echo '{"name": "a", "provider": "p", "type": "llm", "tags": "x"}' >"$B/bad/tags.json"
	echo '{"provider": "p", "type": "llm"}' >"$B/bad/noname.json"
	echo '{"name": "a", "provider": "Big Co", "type": "llm"}' >"$B/bad/slug.json"
	echo '{"name": "a", "provider": "p", "type": "llm", "active": "yes"}' >"$B/bad/active.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/bad/unknown.json: key 'colour': unknown key"* ]]
	[[ $stderr == *"$B/bad/tags.json: key 'tags': must be an array of strings, not a string"* ]]
	[[ $stderr == *"$B/bad/noname.json: key 'name': is required"* ]]
	[[ $stderr == *"$B/bad/slug.json: key 'provider': \"Big Co\" is not a slug"* ]]
	[[ $stderr == *"$B/bad/active.json: key 'active': must be a boolean, not a string"* ]]
	assert_equal "$(summary failed)" 5
	good_imported
}

@test "invalid UTF-8 and files over --max-file-size" {
	printf '{"name": "caf\xe9", "provider": "p", "type": "llm"}' >"$B/bad/latin1.json"
	head -c 3000 /dev/zero | tr '\0' ' ' >"$B/bad/big.json"
	echo '{"name": "a", "provider": "p", "type": "llm"}' >>"$B/bad/big.json"
	import_tree --max-file-size 2k
	assert_failure 3
	[[ $stderr == *"$B/bad/latin1.json:1:14: invalid UTF-8 (byte 0xe9)"* ]]
	size=$(stat -c %s "$B/bad/big.json")
	[[ $stderr == *"$B/bad/big.json: file is too large ($size bytes, the limit is 2048)"* ]]
	good_imported
	# the limit is an option, not a property of the file: not cached
	import_tree
	assert_failure 3
	[[ $stderr != *"big.json"* ]]
}

@test "symbolic link loops and dangling links are reported" {
	ln -s .. "$B/bad/up"
	ln -s nowhere.json "$B/bad/dangling.json"
	ln -s self.json "$B/bad/self.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/bad/up: symbolic link loop: the directory contains itself"* ]]
	[[ $stderr == *"$B/bad/dangling.json: dangling symbolic link"* ]]
	[[ $stderr == *"$B/bad/self.json: symbolic link loop"* ]]
	assert_equal "$(summary scanned)" 2
	good_imported
}

@test "an unreadable file is reported; the others are imported and it is read once it can be" {
	# root reads any file: run mreg as nobody over a tree nobody can reach
	T=$(mktemp -d /tmp/mreg-unreadable.XXXXXX)
	chmod 755 "$T"
	mkdir -m 755 "$T/good"
	for i in 1 2 3; do
		echo "{\"name\": \"unreadable-$i\", \"provider\": \"good\", \"type\": \"llm\"}" >"$T/good/$i.json"
	done
	chmod 644 "$T"/good/*.json
	chmod 000 "$T/good/3.json"
	as_user=()
	[ "$(id -u)" -ne 0 ] || as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
	run --separate-stderr "${as_user[@]}" "$MREG" import-dir --source "t$BATS_TEST_NUMBER" --format json "$T"
	assert_failure 3
	assert_equal "$stderr" "mreg import-dir: $T/good/3.json: could not open: Permission denied"
	assert_equal "$(summary failed)" 1
	assert_equal "$(summary added)" 2
	assert_equal "$(q "select string_agg(m.name, ' ' order by m.name) from mreg.source_files s join mreg.models m on m.id = s.model_id where s.source = 't$BATS_TEST_NUMBER'")" "unreadable-1 unreadable-2"
	# the failure is not cached: readable again, it is imported
	chmod 644 "$T/good/3.json"
	run --separate-stderr "${as_user[@]}" "$MREG" import-dir --source "t$BATS_TEST_NUMBER" --format json "$T"
	rm -rf "$T"
	assert_success
	assert_equal "$(summary added)" 1
	assert_equal "$(summary unchanged)" 2
}

@test "two files defining the same provider/name: both named, neither imported" {
	echo '{"name": "twin", "provider": "p", "type": "llm", "version": "1"}' >"$B/bad/a.json"
	echo '{"name": "twin", "provider": "p", "type": "llm", "version": "2"}' >"$B/bad/b.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/bad/a.json: model \"p/twin\" is also defined in \"$B/bad/b.json\"; neither file is imported"* ]]
	[[ $stderr == *"$B/bad/b.json: model \"p/twin\" is also defined in \"$B/bad/a.json\"; neither file is imported"* ]]
	assert_equal "$(summary failed)" 2
	assert_equal "$(q "select count(*) from mreg.models where name = 'twin'")" 0
	good_imported
	# still reported on the next run, still not imported
	import_tree
	assert_failure 3
	assert_equal "$(summary failed)" 2
	assert_equal "$(q "select count(*) from mreg.models where name = 'twin'")" 0
	# resolved: the remaining file is imported
	rm "$B/bad/b.json"
	import_tree
	assert_success
	assert_equal "$(q "select version from mreg.models where name = 'twin'")" 1
}

@test "two files defining one model in different batches: the one written first is said to be, the other is not imported, every run" {
	echo '{"name": "twin2", "provider": "p", "type": "llm", "version": "1"}' >"$B/bad/a.json"
	echo '{"name": "twin2", "provider": "p", "type": "llm", "version": "2"}' >"$B/bad/b.json"
	# one file per batch: the first of the two leaves before the second
	# is read (which comes first is the walk's business)
	import_tree --jobs 1 --batch-size 1 --writers 1
	assert_failure 3
	assert_equal "$(summary failed)" 2
	for f in a b; do
		o=$([ $f = a ] && echo b || echo a)
		if [[ $stderr == *"$B/bad/$f.json: model \"p/twin2\" is also defined in \"$B/bad/$o.json\", found after this file was written; one of them must go"* ]]; then
			first=$f second=$o
		fi
	done
	[ -n "${first:-}" ] || fail "no file is said to be imported first: $stderr"
	[[ $stderr == *"$B/bad/$second.json: model \"p/twin2\" is also defined in \"$B/bad/$first.json\", which this run had written before it found this file; this file is not imported"* ]]
	v=$([ "$first" = a ] && echo 1 || echo 2)
	assert_equal "$(q "select version from mreg.models where name = 'twin2'")" "$v"
	# the next run reads both again and says so again; nothing changes
	import_tree --jobs 1 --batch-size 1 --writers 1
	assert_failure 3
	assert_equal "$(summary failed)" 2
	[[ $stderr == *"$B/bad/$second.json: model \"p/twin2\" is also defined in"* ]]
	assert_equal "$(summary added) $(summary updated)" "0 0"
	assert_equal "$(q "select version from mreg.models where name = 'twin2'")" "$v"
}

@test "a duplicate of an already imported model does not overwrite it" {
	echo '{"name": "solo", "provider": "p", "type": "llm", "version": "1"}' >"$B/bad/solo.json"
	import_tree
	assert_success
	echo '{"name": "solo", "provider": "p", "type": "llm", "version": "2"}' >"$B/bad/zz-copy.json"
	for i in 1 2; do
		import_tree --batch-size 1
		assert_failure 3
		assert_equal "$(summary failed)" 2
		assert_equal "$(q "select version from mreg.models where name = 'solo'")" 1
	done
}

@test "missing artifacts are reported; the file is imported once they exist" {
	echo '{"name": "w", "provider": "p", "type": "llm", "artifacts": ["w.bin"]}' >"$B/bad/w.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/bad/w.json: key 'artifacts': \"w.bin\": could not open: No such file or directory"* ]]
	good_imported
	echo weights >"$B/bad/w.bin"
	import_tree
	assert_success
	assert_equal "$(q "select a.size from mreg.artifacts a join mreg.models m on m.id = a.model_id where m.name = 'w'")" 8
}

@test "an unchanged bad file is reported again without being read" {
	echo '{"name": "x", "provider": "p", "type": 7}' >"$B/bad/type.json"
	touch -d '2 minutes ago' "$B/bad/type.json" "$B"/good/*.json
	wait_past_racy "$B"
	import_tree
	assert_failure 3
	import_tree
	assert_failure 3
	assert_equal "$(summary hashed)" 0
	assert_equal "$stderr" "mreg import-dir: $B/bad/type.json: key 'type': must be a string, not an integer"
	# fixed: imported
	echo '{"name": "x", "provider": "p", "type": "llm"}' >"$B/bad/type.json"
	import_tree
	assert_success
}

@test "--strict: every bad file is reported and nothing is written" {
	echo '{"name": "x", "provider": "p", "type": "llm",' >"$B/bad/cut.json"
	echo '{"name": "y", "provider": "p", "type": "llm", "x": 1}' >"$B/bad/extra.json"
	audit=$(q 'select count(*) from mreg.audit_log')
	import_tree --strict
	assert_failure 3
	[[ $stderr == *"$B/bad/cut.json:2:1: string or '}' expected near end of file"* ]]
	[[ $stderr == *"extra.json: key 'x': unknown key"* ]]
	[[ $stderr == *"nothing imported: 2 bad files (--strict)"* ]]
	assert_equal "$(q "select count(*) from mreg.source_files where source = 't$BATS_TEST_NUMBER'")" 0
	assert_equal "$(q 'select count(*) from mreg.audit_log')" "$audit"
	rm "$B"/bad/*.json
	import_tree --strict
	assert_success
	good_imported
}

@test "a file that would change or deactivate a default model is refused" {
	echo '{"name": "def", "provider": "p", "type": "llm"}' >"$B/bad/def.json"
	import_tree
	assert_success
	q "insert into mreg.model_defaults (type, model_id) select 'llm', id from mreg.models where name = 'def'"
	echo '{"name": "def", "provider": "p", "type": "embedding"}' >"$B/bad/def.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/bad/def.json: model \"p/def\" is the default for type \"llm\": its type cannot change to \"embedding\""* ]]
	echo '{"name": "def", "provider": "p", "type": "llm", "active": false}' >"$B/bad/def.json"
	echo '{"name": "fine-3", "provider": "good", "type": "llm"}' >"$B/good/3.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"model \"p/def\" is the default for type \"llm\": it cannot be deactivated"* ]]
	assert_equal "$(q "select type, active from mreg.models where name = 'def'")" "llm|t"
	assert_equal "$(q "select count(*) from mreg.models where name = 'fine-3'")" 1
	q "delete from mreg.model_defaults where type = 'llm'"
}
