#!/usr/bin/env bats
# 8005: edits from the shell -- add, delete, rename, clear-default.  Each
# leaves exactly the audit rows the database's triggers write for it
# (action, actor, old/new, context); --dry-run and every refusal leave
# the registry and the audit log as they were; add's messages are the
# model file's; -o json is valid against the schemas.

load helpers
load import-helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	"$MREG" import-dir --quiet --source samples "$SAMPLES"
	"$MREG" set-default -q openai/text-embedding-3-small
}
teardown_file() { db_drop; }

VALID="$MREG_SOURCE_ROOT/test/json-valid"

# The highest audit id so far.
last_id() { q "SELECT coalesce(max(id), 0) FROM mreg.audit_log"; }

# audit_since ID: the rows after ID, one line each: action actor resource
# old new details (jsonb text; "-" for SQL NULL).
audit_since() {
	q "SELECT concat_ws(' ', action, actor, resource,
	          coalesce(old::text, '-'), coalesce(new::text, '-'),
	          details::text)
	     FROM mreg.audit_log WHERE id > $1 ORDER BY id"
}

# j JSON: the JSON as the server prints jsonb (key order, spacing).
j() { q "SELECT \$j\$$1\$j\$::jsonb"; }

# The registry and the log as counts and a digest: equal before and after
# an edit that must change nothing.
state() {
	q "SELECT (SELECT count(*) FROM mreg.audit_log),
	          (SELECT count(*) FROM mreg.providers),
	          (SELECT count(*) FROM mreg.artifacts),
	          (SELECT md5(string_agg(m::text, ',' ORDER BY id)) FROM mreg.models m),
	          (SELECT md5(string_agg(d::text, ',' ORDER BY type)) FROM mreg.model_defaults d),
	          (SELECT md5(string_agg(s.model_id::text, ',' ORDER BY path)) FROM mreg.source_files s)"
}

model_id() {
	q "SELECT m.id FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
	    WHERE p.name || '/' || m.name = '$1'"
}

@test "add: the model and its new provider, one audit row each, actor and context" {
	b=$(last_id)
	run -0 --separate-stderr "$MREG" add --actor alice acme/chat-1 --type llm \
		--version 1 --display-name "Chat One" --description "a test" \
		--tag chat --tag fast --synonym c1 \
		--config '{"window": 0.06, "n": 12345678901234567890}' --metadata '{"k": "v"}'
	id=$(model_id acme/chat-1)
	assert_output "added acme/chat-1 (id $id, type llm, new provider acme)"
	ctx=$(j '{"command": "add"}')
	new=$(j '{"provider": "acme", "name": "chat-1", "type": "llm", "version": "1",
		"display_name": "Chat One", "description": "a test", "tags": ["chat", "fast"],
		"synonyms": ["c1"], "active": true,
		"config": {"window": 0.06, "n": 12345678901234567890}, "metadata": {"k": "v"}}')
	run -0 audit_since "$b"
	assert_output "provider.create alice providers/acme - $(j '{"name": "acme"}') $ctx
model.create alice models/acme/chat-1 - $new $ctx"
	assert_equal "$(q "SELECT model_id FROM mreg.audit_log WHERE id > $b AND action = 'model.create'")" "$id"
	# exact numbers, as the model file keeps them
	assert_equal "$(q "SELECT config->>'window' || ' ' || (config->>'n') FROM mreg.models WHERE id = $id")" \
		"0.06 12345678901234567890"
	run -0 "$MREG" show acme/chat-1 -o json
	assert_equal "$(jq -r '.tags | join(",")' <<<"$output")" "chat,fast"
}

@test "add: --inactive, MREG_ACTOR, an existing provider (no provider row), --file -" {
	b=$(last_id)
	MREG_ACTOR=bot run -0 "$MREG" add openai/quiet-1 --type llm --inactive
	assert_output "added openai/quiet-1 (id $(model_id openai/quiet-1), type llm)"
	run -0 audit_since "$b"
	assert_output "model.create bot models/openai/quiet-1 - $(j '{"provider": "openai", "name": "quiet-1",
		"type": "llm", "version": null, "display_name": null, "description": null, "tags": [],
		"synonyms": [], "active": false, "config": {}, "metadata": {}}') $(j '{"command": "add"}')"
	b=$(last_id)
	run -0 --separate-stderr "$MREG" add --file - -o json <<<'{"provider": "filed", "name": "m:1",
		"type": "embedding", "config": {"dimensions": 8}}'
	"$VALID" add <<<"$output"
	assert_equal "$(jq -r '[.model.model, .model.config.dimensions, .provider_created, .dry_run] | @tsv' <<<"$output")" \
		"filed/m:1	8	true	false"
	assert_equal "$(q "SELECT string_agg(action, ' ' ORDER BY id) FROM mreg.audit_log WHERE id > $b")" \
		"provider.create model.create"
}

@test "add --dry-run: shows the model, writes nothing (registry and audit unchanged)" {
	before=$(state)
	run -0 "$MREG" add --dry-run dry/run-1 --type llm --tag x
	# the line, then the audit rows it would write
	assert_line --index 0 --regexp '^would add dry/run-1 \(id [0-9]+, type llm, new provider dry\)$'
	assert_line --index 1 "  provider.create providers/dry"
	assert_line --index 2 "  model.create models/dry/run-1"
	assert_equal "${#lines[@]}" 3
	run -0 --separate-stderr "$MREG" add -n -o json dry/run-1 --type llm
	"$VALID" add <<<"$output"
	assert_equal "$(jq -r '[.dry_run, .model.model, .provider_created] | @tsv' <<<"$output")" "true	dry/run-1	true"
	assert_equal "$(jq -r '[.changes[] | .action + " " + .resource + " " + (.new.name // "")] | join(",")' <<<"$output")" \
		"provider.create providers/dry dry,model.create models/dry/run-1 run-1"
	assert_equal "$(state)" "$before"
	run -3 "$MREG" show dry/run-1
}

@test "add of an existing model: exit 3, nothing changed; -o json is the error object" {
	before=$(state)
	run -3 --separate-stderr "$MREG" add openai/gpt-4o --type llm --description other
	assert_equal "$stderr" 'mreg add: model "openai/gpt-4o" already exists
HINT: Change it with '"'"'mreg bulk-update'"'"', or delete or rename it first.'
	run -3 --separate-stderr "$MREG" add -o json openai/gpt-4o --type embedding
	"$VALID" error <<<"$output"
	assert_equal "$(jq -r '[.exit_code, .error.message] | @tsv' <<<"$output")" '3	model "openai/gpt-4o" already exists'
	assert_equal "$(state)" "$before"
}

@test "add: invalid models get the model file's messages, exit 3, nothing written" {
	before=$(state)
	run -3 --separate-stderr "$MREG" add acme/x --type LLM
	assert_equal "$stderr" 'mreg add: key '"'"'type'"'"': "LLM" is not a slug ([a-z0-9][a-z0-9._-]{0,63})'
	run -3 --separate-stderr "$MREG" add acme/x --type llm --config '[1, 2]'
	assert_equal "$stderr" "mreg add: key 'config': must be an object, not an array"
	run -3 --separate-stderr "$MREG" add acme/x --type llm --metadata '"s"'
	assert_equal "$stderr" "mreg add: key 'metadata': must be an object, not a string"
	run -3 --separate-stderr "$MREG" add acme/x --type llm --tag a --tag a
	assert_equal "$stderr" "mreg add: key 'tags': \"a\" is listed twice"
	# a syntax error is placed inside the option's own value
	run -3 --separate-stderr "$MREG" add acme/x --type llm --config $'{"a": 1,\n "b": x}'
	assert_output ""
	[[ $stderr == "mreg add: --config:2:7: "* ]] || fail "stderr: $stderr"
	# the value is one object: text after it cannot become more keys
	run -3 --separate-stderr "$MREG" add acme/x --type llm --config '{}, "active": false'
	assert_equal "$stderr" "mreg add: --config: text after the JSON object"
	run -3 --separate-stderr "$MREG" add acme/$'x\ty' --type llm
	assert_equal "$stderr" "mreg add: key 'name': must not contain control characters"
	# bytes that are not UTF-8 are refused where they were given
	run -3 --separate-stderr "$MREG" add acme/$'a\xffb' --type llm
	assert_equal "$stderr" "mreg add: PROVIDER/NAME: invalid UTF-8 (byte 0xff)"
	run -3 --separate-stderr "$MREG" add acme/x --type llm --description $'a\xfe'
	assert_equal "$stderr" "mreg add: --description: invalid UTF-8 (byte 0xfe)"
	run -3 --separate-stderr "$MREG" add -o json acme/x --type llm --config '{"a": [1}'
	"$VALID" error <<<"$output"
	assert_equal "$(jq -r '[.error.file, .error.line, .error.column] | @tsv' <<<"$output")" "--config	1	9"
	assert_equal "$(state)" "$before"
}

@test "add --file: the same messages as import-dir gives the same file" {
	mkdir -p "$BATS_TEST_TMPDIR/bad"
	f="$BATS_TEST_TMPDIR/bad/m.json"
	for doc in '{"provider": "acme", "name": "u", "type": "llm", "bogus": 1}' \
		'{"provider": "acme", "name": "u", "type": "llm", "config": [1]}' \
		'{"provider": "acme", "name": "u", "type": "llm",, }' \
		'{"provider": "acme", "name": "u"}'; do
		printf '%s\n' "$doc" >"$f"
		before=$(state)
		run -3 --separate-stderr "$MREG" add --file "$f"
		assert_equal "$(state)" "$before"
		mine=${stderr#"mreg add: $f:"}
		run -3 --separate-stderr "$MREG" import-dir -o json --source bad "$BATS_TEST_TMPDIR/bad"
		theirs=$(jq -r '.failures[0] | "\(.line // 0):\(.column // 0): \(.message)"' <<<"$output")
		# add says "file:line:column: message" (line and column only when known)
		mine_norm=$(sed -E 's/^([0-9]+):([0-9]+): /\1:\2: /; t; s/^ /0:0: /' <<<"$mine")
		assert_equal "$mine_norm" "$theirs"
	done
	# an artifact that is not there: import-dir's words too
	printf '%s\n' '{"provider": "acme", "name": "u", "type": "llm", "artifacts": ["w.bin"]}' >"$f"
	before=$(state)
	run -3 --separate-stderr "$MREG" add --file "$f"
	assert_equal "$stderr" "mreg add: $f: key 'artifacts': \"w.bin\": could not open: No such file or directory"
	assert_equal "$(state)" "$before"
	run -3 --separate-stderr "$MREG" add --file "$BATS_TEST_TMPDIR/none.json"
	[[ $stderr == "mreg add: $BATS_TEST_TMPDIR/none.json: "* ]] || fail "stderr: $stderr"
}

@test "add --file: artifacts hashed beside the file (standard input: the working directory), never outside" {
	d="$BATS_TEST_TMPDIR/art"
	mkdir -p "$d/w"
	printf 'weights\n' >"$d/w/a.bin"
	printf '%s\n' '{"provider": "acme", "name": "art-1", "type": "llm", "artifacts": ["w/a.bin"]}' >"$d/m.json"
	b=$(last_id)
	run -0 --separate-stderr "$MREG" add --file "$d/m.json" -o json
	"$VALID" add <<<"$output"
	sha=$(sha256sum "$d/w/a.bin" | cut -d' ' -f1)
	id=$(model_id acme/art-1)
	assert_equal "$(q "SELECT path || ' ' || size || ' ' || sha256 FROM mreg.artifacts WHERE model_id = $id")" "w/a.bin 8 $sha"
	run -0 audit_since "$b"
	assert_line --index 1 "artifact.create $(id -un) models/acme/art-1 - $(j "{\"path\": \"w/a.bin\", \"size\": 8, \"sha256\": \"$sha\"}") $(j '{"command": "add"}')"
	assert_equal "${#lines[@]}" 2
	# standard input: relative to the working directory
	run -0 --separate-stderr bash -c "cd '$d' && sed 's/art-1/art-2/' m.json | '$MREG' add --file - -o json"
	assert_equal "$(jq -r '.changes[1].new.sha256' <<<"$output")" "$sha"
	# a link that leads out of the file's directory is refused
	ln -s /etc/hostname "$d/w/out.bin"
	printf '%s\n' '{"provider": "acme", "name": "art-3", "type": "llm", "artifacts": ["w/out.bin"]}' >"$d/m3.json"
	before=$(state)
	run -3 --separate-stderr "$MREG" add --file "$d/m3.json"
	[[ $stderr == "mreg add: $d/m3.json: key 'artifacts': \"w/out.bin\": symbolic link "* ]] || fail "$stderr"
	assert_equal "$(state)" "$before"
}

@test "add: usage errors exit 2" {
	run -2 --separate-stderr "$MREG" add acme/x
	[[ $stderr == "mreg add: missing --type TYPE"* ]] || fail "$stderr"
	run -2 --separate-stderr "$MREG" add --type llm
	[[ $stderr == "mreg add: missing PROVIDER/NAME (or --file FILE)"* ]] || fail "$stderr"
	run -2 --separate-stderr "$MREG" add --file - --type llm </dev/null
	[[ $stderr == "mreg add: --file takes the whole model"* ]] || fail "$stderr"
	run -2 --separate-stderr "$MREG" add acme/x --file - </dev/null
	[[ $stderr == "mreg add: give PROVIDER/NAME or --file, not both"* ]] || fail "$stderr"
	run -2 --separate-stderr "$MREG" add noslash --type llm
	run -2 --separate-stderr "$MREG" add -o json acme/x
	"$VALID" error <<<"$output"
	assert_equal "$(jq -r .error.message <<<"$output")" "missing --type TYPE"
}

@test "delete: the model and its artifacts; model.delete keeps the whole row" {
	# the sample with an artifact, imported from its file
	id=$(model_id local/nomic-embed-text:v1.5)
	b=$(last_id)
	run -0 --separate-stderr "$MREG" delete --actor carol local/nomic-embed-text:v1.5
	assert_output "deleted local/nomic-embed-text:v1.5 (id $id, type embedding; 1 artifact)"
	assert_equal "$stderr" 'mreg delete: warning: local/nomic-embed-text:v1.5 came from "local/nomic-embed-text-v1.5/nomic-embed-text-v1.5.json" of source "samples": the next import-dir of that source adds it again from that file'
	ctx=$(j '{"command": "delete"}')
	old=$(j "$(jq -c '{provider, name, type, version, display_name, description, tags, synonyms,
		active: true, config, metadata}' "$SAMPLES/local/nomic-embed-text-v1.5/nomic-embed-text-v1.5.json")")
	run -0 q "SELECT concat_ws(' ', action, actor, resource, model_id, coalesce(new::text, '-'), details::text)
	            FROM mreg.audit_log WHERE id > $b ORDER BY action"
	assert_line --index 0 --regexp "^artifact.delete carol models/local/nomic-embed-text:v1.5 $id - "
	assert_line --index 1 "model.delete carol models/local/nomic-embed-text:v1.5 $id - $ctx"
	assert_equal "${#lines[@]}" 2
	assert_equal "$(q "SELECT old::text FROM mreg.audit_log WHERE id > $b AND action = 'model.delete'")" "$old"
	assert_equal "$(q "SELECT count(*) FROM mreg.artifacts WHERE model_id = $id")" 0
	run -3 "$MREG" show local/nomic-embed-text:v1.5
	# its cache row points nowhere: the next import reads the file and adds it again
	assert_equal "$(q "SELECT count(*) FROM mreg.source_files WHERE path LIKE 'local/nomic%' AND model_id IS NULL")" 1
	run -0 "$MREG" import-dir -o json --source samples "$SAMPLES"
	assert_equal "$(summary added)" 1
	[ "$(model_id local/nomic-embed-text:v1.5)" -ne "$id" ]
}

@test "delete: a default is refused (names the type and the way out), unknown is exit 3, nothing changed" {
	before=$(state)
	run -3 --separate-stderr "$MREG" delete openai/text-embedding-3-small
	assert_equal "$stderr" 'mreg delete: could not delete "openai/text-embedding-3-small": it is the default model for type "embedding"
HINT: Make another model the default first (mreg set-default PROVIDER/NAME), or remove the default (mreg clear-default embedding).'
	run -3 --separate-stderr "$MREG" delete -o json openai/text-embedding-3-small
	"$VALID" error <<<"$output"
	run -3 --separate-stderr "$MREG" delete openai/gpt-4p
	assert_equal "$stderr" 'mreg delete: unknown model "openai/gpt-4p"
HINT: did you mean "openai/gpt-4o", "openai/gpt-4o-mini"?'
	run -0 --separate-stderr "$MREG" delete --dry-run openai/gpt-4o
	assert_line --index 0 --regexp '^would delete openai/gpt-4o \(id [0-9]+, type llm; 0 artifacts\)$'
	assert_line --index 1 "  model.delete models/openai/gpt-4o"
	[[ $stderr == *'warning: openai/gpt-4o came from "openai/gpt-4o.json" of source "samples"'* ]] || fail "$stderr"
	run -0 --separate-stderr "$MREG" delete --dry-run -o json openai/gpt-4o
	"$VALID" delete <<<"$output"
	assert_equal "$(jq -r '[.dry_run, .model.model, .artifacts, .sources[0].path, .changes[0].old.name] | @tsv' <<<"$output")" \
		"true	openai/gpt-4o	0	openai/gpt-4o.json	gpt-4o"
	assert_equal "$(state)" "$before"
}

@test "rename: same id and history, show finds the new name; a move shows as provider old -> new" {
	"$MREG" add acme/ren-1 --type llm >/dev/null
	id=$(model_id acme/ren-1)
	b=$(last_id)
	run -0 "$MREG" rename --actor dave acme/ren-1 acme/ren-2
	assert_output "renamed acme/ren-1 -> acme/ren-2 (id $id)"
	run -0 audit_since "$b"
	assert_output "model.update dave models/acme/ren-2 $(j '{"name": "ren-1"}') $(j '{"name": "ren-2"}') $(j '{"command": "rename"}')"
	assert_equal "$(model_id acme/ren-2)" "$id"
	run -0 "$MREG" show acme/ren-2 -o json
	assert_equal "$(jq -r .id <<<"$output")" "$id"
	run -3 "$MREG" show acme/ren-1
	# the history follows the id
	assert_equal "$(q "SELECT string_agg(action, ' ' ORDER BY id) FROM mreg.audit_log WHERE model_id = $id")" \
		"model.create model.update"
	b=$(last_id)
	run -0 --separate-stderr "$MREG" rename -o json acme/ren-2 newco/ren-2
	"$VALID" rename <<<"$output"
	assert_equal "$(jq -r '[.id, .changed, .provider_created, .model.model, .dry_run] | @tsv' <<<"$output")" \
		"$id	true	true	newco/ren-2	false"
	run -0 audit_since "$b"
	assert_line --index 0 --partial "provider.create $(id -un) providers/newco"
	assert_line --index 1 "model.update $(id -un) models/newco/ren-2 $(j '{"provider": "acme"}') $(j '{"provider": "newco"}') $(j '{"command": "rename"}')"
}

@test "rename: onto an existing name, unknown, invalid new name: exit 3; dry run: nothing changed" {
	"$MREG" add acme/ren-a --type llm >/dev/null
	before=$(state)
	run -3 --separate-stderr "$MREG" rename acme/ren-a openai/gpt-4o
	assert_equal "$stderr" 'mreg rename: could not rename "acme/ren-a": model "openai/gpt-4o" already exists'
	run -3 --separate-stderr "$MREG" rename -o json acme/ren-a openai/gpt-4o
	"$VALID" error <<<"$output"
	run -3 "$MREG" rename acme/no-such acme/other
	run -3 --separate-stderr "$MREG" rename acme/ren-a Bad/x
	[[ $stderr == *'provider "Bad" is not a slug'* ]] || fail "$stderr"
	# taken in a provider that does not exist yet: not created either
	run -0 "$MREG" rename --dry-run acme/ren-a brand-new/ren-b
	assert_line --index 0 --regexp "^would rename acme/ren-a -> brand-new/ren-b \(id [0-9]+\)$"
	assert_line --index 1 "  provider.create providers/brand-new"
	assert_line --index 2 '  model.update models/brand-new/ren-b: {"name": "ren-a", "provider": "acme"} -> {"name": "ren-b", "provider": "brand-new"}'
	run -0 --separate-stderr "$MREG" rename -n -o json acme/ren-a brand-new/ren-b
	"$VALID" rename <<<"$output"
	assert_equal "$(state)" "$before"
	run -0 "$MREG" rename acme/ren-a acme/ren-a
	assert_output "acme/ren-a is already named so: nothing changed"
	assert_equal "$(state)" "$before"
}

@test "rename: an imported model is refused without --force; with it the next import adds the file's model again" {
	before=$(state)
	run -3 --separate-stderr "$MREG" rename mistral/codestral-2405 mistral/codestral
	assert_equal "$stderr" 'mreg rename: could not rename "mistral/codestral-2405": import-dir recorded it from "mistral/codestral-2405.json" of source "samples"
HINT: The next import of that source would add "mistral/codestral-2405" again. Rename it in its file, or use --force.'
	assert_equal "$(state)" "$before"
	id=$(model_id mistral/codestral-2405)
	run -0 --separate-stderr "$MREG" rename --force mistral/codestral-2405 mistral/codestral
	assert_output "renamed mistral/codestral-2405 -> mistral/codestral (id $id)"
	[[ $stderr == *'warning: mistral/codestral-2405 came from "mistral/codestral-2405.json"'* ]] || fail "$stderr"
	run -0 "$MREG" import-dir -o json --prune --source samples "$SAMPLES"
	assert_equal "$(summary added) $(summary pruned)" "1 0" || { echo "$output" >&2; false; }
	[ "$(model_id mistral/codestral-2405)" -ne "$id" ]
	# the renamed model is its own now: still there, still active
	assert_equal "$(q "SELECT active FROM mreg.models WHERE id = $id")" t
}

@test "clear-default: one default.clear row; none set: exit 3; dry run keeps it" {
	"$MREG" set-default -q openai/gpt-4o
	id=$(model_id openai/gpt-4o)
	before=$(state)
	run -0 "$MREG" clear-default --dry-run llm
	assert_output "would change default for type llm: openai/gpt-4o -> (none)
  default.clear defaults/llm"
	run -0 --separate-stderr "$MREG" clear-default -n -o json llm
	"$VALID" clear-default <<<"$output"
	assert_equal "$(state)" "$before"
	b=$(last_id)
	run -0 --separate-stderr "$MREG" clear-default --actor erin -o json llm
	"$VALID" clear-default <<<"$output"
	assert_equal "$(jq -r '[.type, .previous, .previous_model_id, .dry_run] | @tsv' <<<"$output")" \
		"llm	openai/gpt-4o	$id	false"
	run -0 q "SELECT concat_ws(' ', action, actor, resource, model_id, coalesce(old::text, '-'),
	                coalesce(new::text, '-'), details::text) FROM mreg.audit_log WHERE id > $b ORDER BY id"
	assert_output "default.clear erin defaults/llm $id $(j "{\"model\": \"openai/gpt-4o\", \"model_id\": $id}") - $(j '{"command": "clear-default"}')"
	run -3 "$MREG" default llm
	before=$(state)
	run -3 --separate-stderr "$MREG" clear-default llm
	assert_equal "$stderr" 'mreg clear-default: type "llm" has no default'
	run -3 --separate-stderr "$MREG" clear-default -o json lmm
	"$VALID" error <<<"$output"
	assert_equal "$(jq -r .error.hint <<<"$output")" 'No model has that type; did you mean "llm"?'
	assert_equal "$(state)" "$before"
}
