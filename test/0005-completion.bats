#!/usr/bin/env bats
# 0005 completion: the generated bash, zsh and fish completions in the real
# shells, against a migrated database with a few models, and a second
# database (with other providers) named by -d/--dsn on the command line.

load helpers

setup_file() {
	db_create_migrated
	: "${MREG_COMPLETIONS:?MREG_COMPLETIONS must name the generated completions (meson test sets it)}"
	export MREG_COMPLETIONS
	local t=$BATS_FILE_TMPDIR/models b=$BATS_FILE_TMPDIR/models2
	mkdir -p "$t/openai" "$t/cohere" "$b/zeta"
	printf '{"name": "%s", "provider": "openai", "type": "embedding", "tags": ["multilingual"]}\n' \
		text-embedding-3-small >"$t/openai/a.json"
	printf '{"name": "%s", "provider": "openai", "type": "embedding"}\n' \
		text-embedding-3-large >"$t/openai/b.json"
	printf '{"name": "%s", "provider": "openai", "type": "llm", "tags": ["chat"]}\n' \
		gpt-4o >"$t/openai/c.json"
	printf '{"name": "%s", "provider": "cohere", "type": "reranker"}\n' \
		rerank-v3 >"$t/cohere/d.json"
	printf '{"name": "%s", "provider": "zeta", "type": "vision"}\n' \
		zeta-one >"$b/zeta/e.json"
	"$MREG" import-dir --quiet "$t"
	export DB2="${PGDATABASE}_b"
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"$DB2\" WITH (FORCE)" -c "CREATE DATABASE \"$DB2\""
	"$MREG" -d "dbname=$DB2" migrate --quiet
	"$MREG" -d "dbname=$DB2" import-dir --quiet "$b"
	# the shells find mreg as a user's would
	mkdir -p "$BATS_FILE_TMPDIR/bin"
	ln -sf "$MREG" "$BATS_FILE_TMPDIR/bin/mreg"
	export PATH="$BATS_FILE_TMPDIR/bin:$PATH"
}

teardown_file() {
	[ -n "${DB2:-}" ] && psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"$DB2\" WITH (FORCE)" >/dev/null 2>&1
	db_drop
}

# bash_complete LINE: what real bash (bash-completion loaded, the generated
# script sourced) offers for LINE, one per line; "NOSPACE" first when the
# completion asked for no space after the word.  COMP_WORDS is split as
# bash splits it (at blanks, and '=' and ':' as words of their own).
bash_complete() {
	bash --norc --noprofile -c '
		source /usr/share/bash-completion/bash_completion
		source "$MREG_COMPLETIONS/mreg"
		compopt() { [[ $* == *"-o nospace"* ]] && echo NOSPACE; builtin compopt "$@" 2>/dev/null; return 0; }
		COMP_LINE=$1 COMP_POINT=${#1}
		COMP_WORDS=()
		for w in $1; do
			while [[ $w =~ ^([^=:]*)([=:])(.*)$ ]]; do
				[[ -n ${BASH_REMATCH[1]} ]] && COMP_WORDS+=("${BASH_REMATCH[1]}")
				COMP_WORDS+=("${BASH_REMATCH[2]}")
				w=${BASH_REMATCH[3]}
			done
			[[ -n $w ]] && COMP_WORDS+=("$w")
		done
		[[ $1 == *[\ =:] ]] && COMP_WORDS+=("")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_mreg mreg "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
		printf "%s\n" "${COMPREPLY[@]}"' bash "$1"
}

# fish_complete LINE: what real fish offers for LINE (candidates only).
fish_complete() {
	HOME=$BATS_FILE_TMPDIR fish --no-config -c \
		'set -p fish_complete_path $argv[1]; complete -C $argv[2]' \
		"$MREG_COMPLETIONS" "$1" | cut -f1
}

# zsh_complete LINE...: real zsh in a pseudo-terminal (test/zsh-complete.zsh).
zsh_complete() {
	local out=$BATS_TEST_TMPDIR/zsh.out
	HOME=$BATS_TEST_TMPDIR zsh -f "$MREG_SOURCE_ROOT/test/zsh-complete.zsh" "$out" "$@" || return 1
	cat "$out"
}

@test "bash: commands, then a command's options, each once" {
	run bash_complete "mreg se"
	assert_success
	assert_output "$(printf 'search\nset-default')"
	run bash_complete "mreg list --"
	assert_success
	assert_line -- --format
	assert_line -- --dsn
	[ "$(grep -cx -- --actor <<<"$output")" -eq 1 ]
	[ -z "$(sort <<<"$output" | uniq -d)" ]
	refute_line -- --version
	run bash_complete "mreg --v"
	assert_output "$(printf -- '--verbose\n--version')"
}

@test "bash: show op<TAB> gives openai/ with no space, then the model names" {
	run bash_complete "mreg show op"
	assert_success
	assert_output "$(printf 'NOSPACE\nopenai/')"
	run bash_complete "mreg show openai/text"
	assert_success
	assert_output "$(printf 'openai/text-embedding-3-large\nopenai/text-embedding-3-small')"
	run bash_complete "mreg list --model openai/g"
	assert_output "openai/gpt-4o"
}

@test "bash: types, providers, tags and formats" {
	run bash_complete "mreg list --type "
	assert_output "$(printf 'embedding\nllm\nreranker')"
	run bash_complete "mreg list --type=e"
	assert_output "embedding"
	run bash_complete "mreg search --provider "
	assert_output "$(printf 'cohere\nopenai')"
	run bash_complete "mreg list --tag mu"
	assert_output "multilingual"
	run bash_complete "mreg default "
	assert_output "$(printf 'embedding\nllm\nreranker')"
	run bash_complete "mreg list --format "
	assert_output "$(printf 'table\njson\nndjson\ncsv')"
	run bash_complete "mreg import-dir --format "
	assert_output "$(printf 'text\njson')"
	run bash_complete "mreg list "
	assert_output "$(printf 'models\nproviders\ndefaults\naudit')"
}

@test "bash: -d/--dsn on the command line is the database asked" {
	run bash_complete "mreg -d dbname=$DB2 show "
	assert_output "$(printf 'NOSPACE\nzeta/')"
	run bash_complete "mreg --dsn=dbname=$DB2 list --type "
	assert_output "vision"
	run bash_complete "mreg list -d dbname=$DB2 --provider "
	assert_output "zeta"
	run bash_complete "mreg list --provider "
	assert_output "$(printf 'cohere\nopenai')"
}

@test "fish: commands, options, models with no space after provider/, types, formats, -d" {
	run fish_complete "mreg se"
	assert_output "$(printf 'search\nset-default')"
	run fish_complete "mreg list --"
	assert_line -- --format
	[ "$(grep -cx -- --actor <<<"$output")" -eq 1 ]
	[ -z "$(sort <<<"$output" | uniq -d)" ]
	run fish_complete "mreg show op"
	assert_output "openai/"
	run fish_complete "mreg show openai/text"
	assert_output "$(printf 'openai/text-embedding-3-large\nopenai/text-embedding-3-small')"
	run fish_complete "mreg list --type "
	assert_output "$(printf 'embedding\nllm\nreranker')"
	run fish_complete "mreg list --tag "
	assert_output "$(printf 'chat\nmultilingual')"
	run fish_complete "mreg show --format "
	assert_output "$(printf 'csv\njson\nndjson\ntext')"
	run fish_complete "mreg -d dbname=$DB2 show "
	assert_output "zeta/"
	run fish_complete "mreg list --dsn=dbname=$DB2 --type "
	assert_output "vision"
}

@test "zsh: commands, options, show op<TAB> then model names, types, formats, -d" {
	run zsh_complete "mreg se" "mreg list --" "mreg show op" "mreg show openai/text" \
		"mreg list --type " "mreg list --format=" "mreg -d dbname=$DB2 show " \
		"mreg list --dsn dbname=$DB2 --type "
	assert_success
	local -a parts
	mapfile -t parts < <(awk '/^END$/ { n++; next } { print n+0 ": " $0 }' <<<"$output")
	out=$(printf '%s\n' "${parts[@]}")
	# 0: commands
	grep -qx '0: M:search' <<<"$out"
	grep -qx '0: M:set-default' <<<"$out"
	# 1: the options of list, --actor once
	grep -qx -- '1: M:--format' <<<"$out"
	[ "$(grep -cx -- '1: M:--actor' <<<"$out")" -eq 1 ]
	# 2: openai/ and no space after it
	grep -qx '2: M:openai/' <<<"$out"
	grep -qx '2: B:<mreg show openai/>' <<<"$out"
	# 3: the model names
	grep -qx '3: M:openai/text-embedding-3-large' <<<"$out"
	grep -qx '3: M:openai/text-embedding-3-small' <<<"$out"
	grep -qx '3: B:<mreg show openai/text-embedding-3->' <<<"$out"
	# 4: types from the database
	[ "$(grep '^4: M:' <<<"$out")" = "$(printf '4: M:embedding\n4: M:llm\n4: M:reranker')" ]
	# 5: formats
	[ "$(grep '^5: M:' <<<"$out")" = "$(printf '5: M:table\n5: M:json\n5: M:ndjson\n5: M:csv')" ]
	# 6, 7: the database named by -d / --dsn
	grep -qx '6: B:<mreg -d dbname='"$DB2"' show zeta/>' <<<"$out"
	[ "$(grep '^7: M:' <<<"$out")" = "7: M:vision" ]
}
