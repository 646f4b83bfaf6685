#!/usr/bin/env bats
# 3001: import-dir basics: the sample models, reruns, edits, output, options

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	export D="$BATS_FILE_TMPDIR/models"
	copy_samples "$D"
	# the second run must find every file trustworthy (racy rule)
	wait_past_racy "$D"
}

teardown_file() {
	db_drop_second
	db_drop
}

@test "first import adds every sample model with its provider, type and audit row" {
	run "$MREG" import-dir --actor ci-bot --format json "$D"
	assert_success
	assert_equal "$(summary scanned)" 30
	assert_equal "$(summary added)" 30
	assert_equal "$(summary failed)" 0
	assert_equal "$(summary source)" "$(cd "$D" && pwd -P)"
	assert_equal "$(q 'select count(*) from mreg.models')" 30
	assert_equal "$(q 'select count(*) from mreg.providers')" 8
	assert_equal "$(q "select string_agg(distinct type, ',' order by type) from mreg.models")" "embedding,llm,reranker"
	assert_equal "$(db_digest)" "$(dir_digest "$D")"
	# one model.create per model, by the actor, with the file's digest
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'model.create' and actor = 'ci-bot'")" 30
	want=$(sha256sum "$D/openai/gpt-4o.json" | cut -d' ' -f1)
	assert_equal "$(q "select details->>'sha256' || ' ' || (details->>'path') from mreg.audit_log where resource = 'models/openai/gpt-4o' and action = 'model.create'")" "$want openai/gpt-4o.json"
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'provider.create'")" 8
	# and nothing else: one artifact.create per artifact, no double rows
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'artifact.create'")" 3
	assert_equal "$(q "select count(*) from mreg.audit_log where action <> 'migration.apply'")" 41
}

@test "values land in their columns: tags, synonyms, config, metadata, active" {
	assert_equal "$(q "select array_to_string(tags, ','), array_to_string(synonyms, ','), config->>'context_window', metadata->>'license', active from mreg.models where name = 'gpt-4o'")" \
		"chat,vision,tools|4o,gpt4o|128000|proprietary|t"
	assert_equal "$(q "select active from mreg.models where name = 'claude-3-opus-20240229'")" f
	assert_equal "$(q "select display_name from mreg.models where name = 'meta-llama/Llama-3.1-8B-Instruct'")" "Llama 3.1 8B Instruct"
}

@test "artifacts are recorded with their size and SHA-256" {
	dir="$D/local/mini-reranker-team.example"
	want=$(sha256sum "$dir/weights/model.safetensors" | cut -d' ' -f1)
	assert_equal "$(q "select a.size || ' ' || a.sha256 from mreg.artifacts a join mreg.models m on m.id = a.model_id where m.name = 'mini-reranker@team.example' and a.path = 'weights/model.safetensors'")" "20000 $want"
	assert_equal "$(q 'select count(*) from mreg.artifacts')" 3
}

@test "the cache records every file with its stat" {
	assert_equal "$(q 'select count(*) from mreg.source_files where model_id is not null and error is null')" 30
	f="$D/openai/gpt-4o.json"
	assert_equal "$(q "select size, inode from mreg.source_files where path = 'openai/gpt-4o.json'")" "$(stat -c '%s|%i' "$f")"
	assert_equal "$(q "select mtime_ns, ctime_ns from mreg.source_files where path = 'openai/gpt-4o.json'")" \
		"$(stat -c '%.9Y|%.9Z' "$f" | tr -d .)"
}

@test "a second run reads nothing and changes nothing" {
	before=$(q 'select count(*) from mreg.audit_log')
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary unchanged)" 30
	assert_equal "$(summary hashed)" 0
	assert_equal "$(summary added)" 0
	assert_equal "$(summary updated)" 0
	assert_equal "$(q 'select count(*) from mreg.audit_log')" "$before"
}

@test "an edited file updates its model, with old and new values audited" {
	sed -i 's/OpenAI.s flagship multimodal model/The multimodal flagship/' "$D/openai/gpt-4o.json"
	run "$MREG" import-dir "$D"
	assert_success
	assert_output --regexp '^scanned 30, unchanged 29, added 0, updated 1, failed 0, pruned 0, missing 0 in [0-9.]+ s$'
	assert_equal "$(q "select description from mreg.models where name = 'gpt-4o'")" "The multimodal flagship for text and vision."
	assert_equal "$(q "select old->>'description' || ' -> ' || (new->>'description') from mreg.audit_log where action = 'model.update'")" \
		"OpenAI's flagship multimodal model for text and vision. -> The multimodal flagship for text and vision."
}

@test "edits of text and of other fields in one batch: each model right, search documents exact" {
	# o3-mini: version and metadata only (its search document is kept,
	# not computed again); mistral-large-2411: description; gpt-4o: tags
	f="$D/openai/o3-mini.json"
	jq '.version = "2025-01-31-b" | .metadata.license = "changed"' "$f" >"$f.new" && mv "$f.new" "$f"
	f="$D/mistral/mistral-large-2411.json"
	jq '.description = "Zebrafinch reasoning model."' "$f" >"$f.new" && mv "$f.new" "$f"
	f="$D/openai/gpt-4o.json"
	jq '.tags += ["quokka"]' "$f" >"$f.new" && mv "$f.new" "$f"
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary updated)" 3
	assert_equal "$(db_digest)" "$(dir_digest "$D")"
	assert_equal "$(q "select version || ' ' || (metadata->>'license') from mreg.models where name = 'o3-mini'")" "2025-01-31-b changed"
	# the audit row of the version change holds only what changed
	assert_equal "$(q "select string_agg(k, ',' order by k) from mreg.audit_log, jsonb_object_keys(new) k where action = 'model.update' and resource = 'models/openai/o3-mini'")" "metadata,version"
	# every stored search document equals the one the server computes
	# from the row as it is now (an update that names a column of it
	# computes it again; rolled back)
	run psql -XAtq -v ON_ERROR_STOP=1 <<-'EOF'
		BEGIN;
		WITH u AS (UPDATE mreg.models SET description = description
		           RETURNING id, search_doc)
		SELECT count(*) || ' of ' || (SELECT count(*) FROM u)
		  FROM u JOIN mreg.models m USING (id)
		 WHERE u.search_doc IS DISTINCT FROM m.search_doc;
		ROLLBACK;
	EOF
	assert_success
	assert_output "0 of 30"
	run "$MREG" search zebrafinch --format json
	assert_success
	assert_output --partial '"name":"mistral-large-2411"'
	run "$MREG" search quokka --format json
	assert_success
	assert_output --partial '"name":"gpt-4o"'
}

@test "--dry-run lists what would change and changes nothing" {
	sed -i 's/"version": "2024-07-18"/"version": "2024-07-19"/' "$D/openai/gpt-4o-mini.json"
	mkdir -p "$D/new"
	echo '{"name": "brand-new", "provider": "newco", "type": "llm"}' >"$D/new/brand-new.json"
	before=$(q 'select count(*) from mreg.audit_log')
	run "$MREG" import-dir --dry-run "$D"
	assert_success
	assert_line "would update models/openai/gpt-4o-mini ($D/openai/gpt-4o-mini.json)"
	assert_line "would add models/newco/brand-new ($D/new/brand-new.json)"
	assert_line --regexp '^dry run: scanned 31, unchanged 29, added 1, updated 1, '
	assert_equal "$(q 'select count(*) from mreg.audit_log')" "$before"
	assert_equal "$(q "select count(*) from mreg.providers where name = 'newco'")" 0
	assert_equal "$(q "select version from mreg.models where name = 'gpt-4o-mini'")" 2024-07-18
	# and the real run then does it
	run "$MREG" import-dir --format json "$D"
	assert_success
	assert_equal "$(summary added)" 1
	assert_equal "$(summary updated)" 1
	assert_equal "$(db_digest)" "$(dir_digest "$D")"
}

@test "--pattern and --source choose the files and name the source" {
	mkdir -p "$BATS_TEST_TMPDIR/p/sub"
	echo '{"name": "a", "provider": "pat", "type": "llm"}' >"$BATS_TEST_TMPDIR/p/a.model"
	echo '{"name": "b", "provider": "pat", "type": "llm"}' >"$BATS_TEST_TMPDIR/p/sub/b.model"
	echo 'not json' >"$BATS_TEST_TMPDIR/p/c.json"
	run "$MREG" import-dir --pattern '*.model' --source patterns --format json "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_equal "$(summary scanned)" 2
	assert_equal "$(summary source)" patterns
	assert_equal "$(q "select string_agg(path, ',' order by path) from mreg.source_files where source = 'patterns'")" "a.model,sub/b.model"
	run "$MREG" import-dir --pattern 'sub/*.model' --source patterns2 --format json "$BATS_TEST_TMPDIR/p"
	assert_success
	assert_equal "$(summary scanned)" 1
}

@test "--jobs 1 and --jobs 8 give identical registries" {
	"$GEN" "$BATS_TEST_TMPDIR/gen" 600 7
	run "$MREG" import-dir --jobs 1 --batch-size 50 --source gen "$BATS_TEST_TMPDIR/gen"
	assert_success
	second=$(db_create_second)
	PGDATABASE=$second run "$MREG" import-dir --jobs 8 --batch-size 50 --source gen "$BATS_TEST_TMPDIR/gen"
	assert_success
	dump='select p.name, m.name, m.type, m.version, m.description, m.tags, m.synonyms, m.config, m.metadata, m.active, s.path, s.sha256
	      from mreg.models m join mreg.providers p on p.id = m.provider_id
	      join mreg.source_files s on s.model_id = m.id and s.source = $$gen$$ order by 1, 2'
	a=$(q "$dump" | sha256sum)
	b=$(PGDATABASE=$second q "$dump" | sha256sum)
	assert_equal "$(q "$dump" | wc -l)" 600
	assert_equal "$a" "$b"
}

@test "progress: nothing on a pipe by default, a progress line with --progress" {
	"$GEN" "$BATS_TEST_TMPDIR/g" 300 3
	run --separate-stderr "$MREG" import-dir --source prog "$BATS_TEST_TMPDIR/g"
	assert_success
	assert_equal "$stderr" ""
	touch "$BATS_TEST_TMPDIR/g"/d0*/*.json
	run --separate-stderr "$MREG" import-dir --progress --rehash --batch-size 10 --source prog "$BATS_TEST_TMPDIR/g"
	assert_success
	[[ $stderr == *"scanned "*", hashed "*", imported "*"files/s"* ]]
	run --separate-stderr "$MREG" import-dir --progress --quiet --source prog "$BATS_TEST_TMPDIR/g"
	assert_success
	assert_equal "$stderr" ""
	assert_equal "$output" ""
}

@test "usage errors exit 2, a missing directory exits 3" {
	run "$MREG" import-dir
	assert_failure 2
	assert_line --partial "missing DIR"
	assert_line "Try 'mreg import-dir --help' for more information."
	run "$MREG" import-dir a b
	assert_failure 2
	run "$MREG" import-dir --jobs 0 "$D"
	assert_failure 2
	run "$MREG" import-dir --format yaml "$D"
	assert_failure 2
	run "$MREG" import-dir --max-file-size 12Q "$D"
	assert_failure 2
	run "$MREG" import-dir "$BATS_TEST_TMPDIR/nope"
	assert_failure 3
	assert_output --partial "could not open directory \"$BATS_TEST_TMPDIR/nope\": No such file or directory"
}

@test "a database that cannot be reached is a runtime error (exit 1)" {
	run "$MREG" import-dir --dsn "host=$BATS_TEST_TMPDIR dbname=none connect_timeout=2" "$D"
	assert_failure 1
	assert_output --partial "mreg import-dir:"
}
