# bash completion for mreg(1)                                  -*- shell-script -*-
#
# Each command's options sit between "# >>> NAME" and "# <<< NAME" markers;
# test/0002-contract.bats checks them against 'mreg NAME --help'.

_mreg_values() {
	# Cheap values from the database (types, providers, models); silent
	# and quick when there is no database.
	"${words[0]}" __complete "$@" 2>/dev/null
}

_mreg() {
	local cur prev words cword
	_init_completion || return

	# >>> global
	local global_opts="-d --dsn -v --verbose --actor -h --help -V --version"
	# <<< global
	local commands="bench bulk-update default help import-dir list migrate search set-default show"

	local i cmd=""
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-d | --dsn | --actor) ((i++)) ;;
		-*) ;;
		*) cmd=${words[i]}; break ;;
		esac
	done

	case $prev in
	-d | --dsn | --actor) return ;;
	esac

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$global_opts" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$commands" -- "$cur"))
		fi
		return
	fi

	local opts="" args=""
	case $cmd in
	help)
		args=$commands
		;;
	# >>> bench
	bench)
		opts="--workload --mix --type --import-files --import-change --clients --threads --duration --transactions --warmup --rate --progress --seed --pool-size --pool-timeout --protocol --connect-per-request --populate --force-populate --keep --cleanup --format"
		case $prev in
		-w | --workload) COMPREPLY=($(compgen -W "get-default list show search set-default import mixed" -- "$cur")); return ;;
		--protocol) COMPREPLY=($(compgen -W "prepared extended" -- "$cur")); return ;;
		--format) COMPREPLY=($(compgen -W "table json" -- "$cur")); return ;;
		--type) COMPREPLY=($(compgen -W "$(_mreg_values types "$cur")" -- "$cur")); return ;;
		--mix | -c | --clients | -j | --threads | -T | --duration | -t | --transactions | --warmup | -R | --rate | -P | --progress | --seed | --pool-size | --pool-timeout | --populate | --import-files | --import-change) return ;;
		esac
		;;
	# <<< bench
	# >>> migrate
	migrate)
		opts="--dry-run --exit-code --format --lock-timeout --ddl-lock-timeout --quiet"
		args="status"
		case $prev in
		--format) COMPREPLY=($(compgen -W "table json" -- "$cur")); return ;;
		--lock-timeout | --ddl-lock-timeout) return ;;
		esac
		;;
	# <<< migrate
	# >>> list
	list)
		opts="--format -o --limit --after --count --explain --type --provider --tag --active --inactive --all --sort --since --until --actor --action --model"
		args="models providers defaults audit"
		case $prev in
		--format | -o) COMPREPLY=($(compgen -W "table json ndjson csv" -- "$cur")); return ;;
		--type) COMPREPLY=($(compgen -W "$(_mreg_values types "$cur")" -- "$cur")); return ;;
		--provider) COMPREPLY=($(compgen -W "$(_mreg_values providers "$cur")" -- "$cur")); return ;;
		--sort) COMPREPLY=($(compgen -W "name updated" -- "$cur")); return ;;
		--action) COMPREPLY=($(compgen -W "model.create model.update model.deactivate default.set" -- "$cur")); return ;;
		--model)
			COMPREPLY=($(compgen -W "$(_mreg_values models "$cur")" -- "$cur"))
			declare -F __ltrim_colon_completions >/dev/null && __ltrim_colon_completions "$cur"
			return ;;
		--limit | --after | --tag | --since | --until | --actor) return ;;
		esac
		;;
	# <<< list
	# >>> show
	show)
		opts="--format -o --audit"
		case $prev in
		--format | -o) COMPREPLY=($(compgen -W "table json ndjson csv" -- "$cur")); return ;;
		--audit) return ;;
		esac
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -W "$(_mreg_values models "$cur")" -- "$cur"))
			declare -F __ltrim_colon_completions >/dev/null && __ltrim_colon_completions "$cur"
			return
		fi
		;;
	# <<< show
	# >>> search
	search)
		opts="--type --provider --limit --format -o --explain"
		case $prev in
		--format | -o) COMPREPLY=($(compgen -W "table json ndjson csv" -- "$cur")); return ;;
		--type) COMPREPLY=($(compgen -W "$(_mreg_values types "$cur")" -- "$cur")); return ;;
		--provider) COMPREPLY=($(compgen -W "$(_mreg_values providers "$cur")" -- "$cur")); return ;;
		--limit) return ;;
		esac
		;;
	# <<< search
	# >>> default
	default)
		opts=""
		[[ $cur != -* ]] && args=$(_mreg_values types "$cur")
		;;
	# <<< default
	# >>> set-default
	set-default)
		opts="--quiet -q"
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -W "$(_mreg_values models "$cur")" -- "$cur"))
			declare -F __ltrim_colon_completions >/dev/null && __ltrim_colon_completions "$cur"
			return
		fi
		;;
	# <<< set-default
	# >>> import-dir
	import-dir)
		opts="--pattern --source --max-file-size --follow-external-links -j --jobs --batch-size --rehash --strict --dry-run --prune --wait --format --progress -q --quiet"
		case $prev in
		--format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
		--pattern | --source | --max-file-size | -j | --jobs | --batch-size) return ;;
		esac
		if [[ $cur != -* ]]; then
			COMPREPLY=($(compgen -d -- "$cur"))
			return
		fi
		;;
	# <<< import-dir
	# >>> bulk-update
	bulk-update)
		opts="-n --dry-run --format"
		case $prev in
		--format) COMPREPLY=($(compgen -W "table json" -- "$cur")); return ;;
		esac
		if [[ $cur != -* ]]; then
			_filedir
			return
		fi
		;;
	# <<< bulk-update
	esac

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$opts $global_opts" -- "$cur"))
	else
		COMPREPLY=($(compgen -W "$args" -- "$cur"))
	fi
}
complete -F _mreg mreg
