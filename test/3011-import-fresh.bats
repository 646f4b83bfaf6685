#!/usr/bin/env bats
# 3011: a batch of files the source never recorded goes straight into
# mreg.models and mreg.source_files (common/import-fresh.c); a model that
# exists already, a provider still to create or a value the server
# refuses sends the batch the general way (the batch table), and either
# way writes the same rows

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup() {
	db_create_migrated
	T="$BATS_TEST_TMPDIR/tree"
	awkward_tree "$T" 40
	# the cache rows record racy = false however soon the first import
	# follows the files, so both ways' rows compare whole
	wait_past_racy "$T"
}

teardown() {
	db_drop_second
	db_drop
}

# awkward_tree DIR N [VERSION-PREFIX]: N model files whose tags, synonyms
# and descriptions hold what an array literal, COPY or JSON could mangle
# (quotes, backslashes, braces, commas, NULL, tabs, newlines, non-ASCII,
# \u escapes), exact numbers in config, over three providers
awkward_tree() {
	python3 - "$@" <<'PY'
import json, os, sys
d, n = sys.argv[1], int(sys.argv[2])
pre = sys.argv[3] if len(sys.argv) > 3 else ""
os.makedirs(d, exist_ok=True)
odd = ['NULL', 'null', 'a,b', '{x}', 'q"uote', 'back\\slash', 'tab\there',
       'new\nline', 'ünï', ' lead', 'trail ', '{"a":1}', '\\"']
for i in range(n):
    tags = [odd[(i + k) % len(odd)] for k in range(3)] + ["t%d" % i]
    syn = [odd[(i + 5 + k) % len(odd)] + str(k) for k in range(2)]
    text = json.dumps({
        "provider": "p%d" % (i % 3),
        "name": "m-%03d %s" % (i, odd[i % len(odd)].replace("\n", " ").replace("\t", " ")),
        "type": "llm",
        "version": pre + "v%d" % i,
        "description": "line one\nline \"two\"\t\\ %s %d" % (odd[i % len(odd)], i),
        "tags": tags if not pre else ["old"],
        "synonyms": syn,
        "config": {"price": 0.06, "big": 123456789012345678901234567890,
                   "scale": 1.5},
    }, ensure_ascii=(i % 2 == 0))
    # a number as written, not as Python prints it
    text = text.replace('"scale": 1.5', '"scale": 1.50')
    with open(os.path.join(d, "%03d.json" % i), "w", encoding="utf-8") as f:
        f.write(text)
PY
}

# What the models and the source's cache rows hold, one line each.
rows() {
	q "SELECT p.name, m.name, m.type, m.version, m.display_name,
	          m.description, m.tags, m.synonyms, m.active, m.config,
	          m.metadata, m.search_doc
	     FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
	    ORDER BY 1, 2"
	q "SELECT s.path, s.size, s.sha256, s.racy, s.error, s.artifacts,
	          s.model_key, p.name || '/' || m.name
	     FROM mreg.source_files s JOIN mreg.models m ON m.id = s.model_id
	     JOIN mreg.providers p ON p.id = m.provider_id
	    WHERE s.source = 'fresh' ORDER BY 1"
}

@test "new files go straight in; through the batch table they store the same rows" {
	run -0 --separate-stderr "$MREG" import-dir --verbose --batch-size 7 --source fresh "$T"
	[[ $stderr == *"import-fresh.copy_models (COPY)"* ]]
	[[ $stderr != *"ROLLBACK"* ]]
	[[ $stderr != *"import-batch.try_items (COPY)"* ]]
	[[ $output == *"added 40, updated 0"* ]]
	rows >"$BATS_TEST_TMPDIR/fresh.txt"
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.create'
	                  AND details ->> 'path' IS NOT NULL AND details ->> 'sha256' ~ '^[0-9a-f]{64}$'")" 40

	# the same files over models that exist with other values: every
	# batch goes the general way and updates them to the same rows
	second=$(db_create_second)
	awkward_tree "$BATS_TEST_TMPDIR/old" 40 old-
	run -0 env PGDATABASE="$second" "$MREG" import-dir --batch-size 7 --source old "$BATS_TEST_TMPDIR/old"
	run -0 --separate-stderr env PGDATABASE="$second" "$MREG" import-dir --verbose --batch-size 7 --source fresh "$T"
	[[ $output == *"added 0, updated 40"* ]]
	[[ $stderr == *"import-batch.try_items (COPY)"* ]]
	(export PGDATABASE="$second"; rows) >"$BATS_TEST_TMPDIR/general.txt"
	run -0 diff "$BATS_TEST_TMPDIR/fresh.txt" "$BATS_TEST_TMPDIR/general.txt"
	# values as written: a tag with a quote and one that reads NULL
	assert_equal "$(q "SELECT count(*) FROM mreg.models WHERE 'NULL' = ANY(tags)")" \
		"$(grep -l '"NULL"' "$T"/*.json | wc -l)"
	assert_equal "$(q "SELECT tags[1] FROM mreg.models WHERE name LIKE 'm-004 %'")" 'q"uote'
	assert_equal "$(q "SELECT config::text FROM mreg.models WHERE name LIKE 'm-000 %'")" \
		'{"big": 123456789012345678901234567890, "price": 0.06, "scale": 1.50}'
}

@test "a new file whose model exists is an update; the others of its batch are still created, nothing twice" {
	# ten of the forty exist already, from another source, with an old version
	mkdir "$BATS_TEST_TMPDIR/some"
	awkward_tree "$BATS_TEST_TMPDIR/old" 40 old-
	for i in 003 007 011 015 019 023 027 031 035 039; do
		cp "$BATS_TEST_TMPDIR/old/$i.json" "$BATS_TEST_TMPDIR/some/"
	done
	run -0 "$MREG" import-dir --source some "$BATS_TEST_TMPDIR/some"
	run -0 --separate-stderr "$MREG" import-dir --verbose --writers 1 --batch-size 7 --source fresh "$T"
	[[ $output == *"added 30, updated 10"* ]]
	# the first batch tried the straight way and fell back (the existing
	# model refused, 23505); the rest of the run went the general way
	[[ $stderr == *"import-fresh.copy_models (COPY)"*"failed (SQLSTATE 23505)"* ]]
	assert_equal "$(grep -c 'import-fresh.importer_write_fresh (ROLLBACK)' <<<"$stderr")" 1
	assert_equal "$(grep -c 'import-fresh.copy_models (COPY)' <<<"$stderr")" 1
	assert_equal "$(q "SELECT count(*) FROM mreg.models")" 40
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.create'")" 40
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update'")" 10
	assert_equal "$(q "SELECT count(*) FROM mreg.source_files WHERE source = 'fresh'")" 40
	assert_equal "$(q "SELECT count(*) FROM mreg.models WHERE version LIKE 'old-%'")" 0
	# a second run reads nothing
	run -0 "$MREG" import-dir --source fresh "$T"
	[[ $output == *"unchanged 40, added 0, updated 0"* ]]
}

@test "a value the server refuses in a batch of new files: that file alone is reported, the rest imported" {
	# a rule the client does not know: only the server refuses it
	q "ALTER TABLE mreg.models ADD CONSTRAINT t3011_refuse CHECK (version IS DISTINCT FROM 'refuse-me')"
	echo '{"provider": "p1", "name": "refused", "type": "llm", "version": "refuse-me"}' >"$T/020a.json"
	run -3 --separate-stderr "$MREG" import-dir --batch-size 7 --source fresh "$T"
	[[ $output == *"added 40, updated 0, failed 1"* ]]
	[[ $stderr == *"$T/020a.json: the database refused it: "*t3011_refuse* ]]
	assert_equal "$(grep -c 'refused it' <<<"$stderr")" 1
	assert_equal "$(q "SELECT count(*) FROM mreg.models")" 40
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.create'")" 40
	# the refused file is not recorded: read again next time, imported once fixed
	assert_equal "$(q "SELECT count(*) FROM mreg.source_files WHERE path = '020a.json'")" 0
	sed -i 's/refuse-me/1.0/' "$T/020a.json"
	run -0 "$MREG" import-dir --source fresh "$T"
	[[ $output == *"added 1, updated 0"* ]]
}

@test "--plan and an artifact listed in the batch take the general way" {
	echo 'weights' >"$T/w.bin"
	echo '{"provider": "p1", "name": "with-artifact", "type": "llm", "artifacts": ["w.bin"]}' >"$T/000a.json"
	run -0 --separate-stderr "$MREG" import-dir --verbose --source fresh "$T"
	[[ $output == *"added 41"* ]]
	[[ $stderr != *"import-fresh.copy_models"* ]]
	assert_equal "$(q "SELECT count(*) FROM mreg.artifacts")" 1
	second=$(db_create_second)
	run -5 --separate-stderr env PGDATABASE="$second" "$MREG" import-dir --verbose --plan --source fresh "$T"
	[[ $stderr != *"import-fresh.copy_models"* ]]
}
