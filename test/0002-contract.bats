#!/usr/bin/env bats
# 0002 contract: every command answers --help, rejects a bogus option, and
# every option its --help lists is in its man page and in the bash, zsh and
# fish completions (between the "# >>> NAME" / "# <<< NAME" markers of the
# scripts completions/gen.py generates from the command table).

load helpers

src=$MREG_SOURCE_ROOT
comp=$MREG_COMPLETIONS

# Long options of a help text, before the "Common options:" group.
own_options() {
	sed '/^Common options:/,$d' | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9][a-z0-9-]*' |
		grep -oE -- '--[a-z0-9-]+' | sort -u
}

common_options() {
	sed -n '/^Common options:/,/^$/p' | grep -oE '^ +(-[a-zA-Z], )?--[a-z0-9][a-z0-9-]*' |
		grep -oE -- '--[a-z0-9-]+' | sort -u
}

# The block of one command in a completion file.
block() {
	sed -n "/# >>> $2\$/,/# <<< $2\$/p" "$1"
}

@test "the command list is not empty" {
	run "$MREG" --list-commands
	assert_success
	assert_line migrate
}

@test "every command: --help exits 0 with nothing on stderr and a usage line" {
	for cmd in $("$MREG" --list-commands); do
		run --separate-stderr "$MREG" "$cmd" --help
		[ "$status" -eq 0 ] || { echo "$cmd --help: exit $status" >&2; return 1; }
		[ -z "$stderr" ] || { echo "$cmd --help wrote to stderr: $stderr" >&2; return 1; }
		[[ $output == *"Usage: mreg $cmd"* ]] || { echo "$cmd: no usage line" >&2; return 1; }
		# within 80 columns
		if awk 'length > 80 { bad = 1 } END { exit !bad }' <<<"$output"; then
			echo "$cmd --help has lines over 80 columns" >&2; return 1
		fi
	done
}

@test "every command: a bogus option exits 2 with a hint" {
	for cmd in $("$MREG" --list-commands); do
		run --separate-stderr "$MREG" "$cmd" --no-such-option-xyz
		[ "$status" -eq 2 ] || { echo "$cmd: exit $status" >&2; return 1; }
		[[ $stderr == *"Try 'mreg $cmd --help'"* ]] || { echo "$cmd: $stderr" >&2; return 1; }
	done
}

@test "every option of every command is in its man page and the three completions" {
	local missing=""
	for cmd in $("$MREG" --list-commands); do
		local man="$src/man/mreg-$cmd.1.scd"
		[ -f "$man" ] || { missing+=" $man(missing)"; continue; }
		local bash_b zsh_b fish_b
		bash_b=$(block "$comp/mreg" "$cmd")
		zsh_b=$(block "$comp/_mreg" "$cmd")
		fish_b=$(block "$comp/mreg.fish" "$cmd")
		[ -n "$bash_b" ] || missing+=" bash:$cmd(no block)"
		[ -n "$zsh_b" ] || missing+=" zsh:$cmd(no block)"
		[ -n "$fish_b" ] || missing+=" fish:$cmd(no block)"
		for opt in $("$MREG" "$cmd" --help | own_options); do
			local name=${opt#--}
			grep -qF -- "$opt" "$man" || grep -qF -- "\\-\\-$name" "$man" || missing+=" man:$cmd:$opt"
			grep -qE -- "(^|[ \"'])$opt([ \"'=]|$)" <<<"$bash_b" || missing+=" bash:$cmd:$opt"
			grep -qE -- "$opt([=+}' ]|\\[|\$)" <<<"$zsh_b" || missing+=" zsh:$cmd:$opt"
			grep -qE -- "-l $name( |$)" <<<"$fish_b" || missing+=" fish:$cmd:$opt"
		done
	done
	[ -z "$missing" ] || { echo "missing:$missing" >&2; return 1; }
}

@test "common options are in mreg(1) and the global completion blocks" {
	local missing=""
	for cmd in $("$MREG" --list-commands); do
		for opt in $("$MREG" "$cmd" --help | common_options); do
			local name=${opt#--}
			grep -qF -- "$opt" "$src/man/mreg.1.scd" || missing+=" man:$opt"
			block "$comp/mreg" global | grep -qF -- "$opt" || missing+=" bash:$opt"
			block "$comp/_mreg" global | grep -qF -- "$opt" || missing+=" zsh:$opt"
			block "$comp/mreg.fish" global | grep -qE -- "-l $name( |$)" || missing+=" fish:$opt"
		done
	done
	[ -z "$missing" ] || { echo "missing:$missing" >&2; return 1; }
}

@test "every command is named in mreg(1) and offered by every completion" {
	# mreg(1)'s COMMANDS and SEE ALSO are filled in from the command
	# table at build time (man/fill.py)
	local missing="" man=${MREG_BUILD_ROOT:-$(dirname "$MREG")}/mreg.1.scd
	[ -f "$man" ] || { echo "$man not built" >&2; return 1; }
	for cmd in $("$MREG" --list-commands); do
		grep -qF -- "*$cmd*" "$man" || missing+=" man:$cmd"
		grep -qF -- "*mreg-$cmd*(1)" "$man" || missing+=" man-see-also:$cmd"
		grep -qE "^_mreg_commands=.*\b$cmd\b" "$comp/mreg" || missing+=" bash:$cmd"
		grep -qF "'$cmd:" "$comp/_mreg" || missing+=" zsh:$cmd"
		grep -qE "^set -g __mreg_commands .*\b$cmd\b" "$comp/mreg.fish" || missing+=" fish:$cmd"
	done
	[ -z "$missing" ] || { echo "missing:$missing" >&2; return 1; }
}

@test "the exit codes in mreg --help are the ones documented in mreg(1)" {
	# mreg(1)'s EXIT STATUS is filled in at build time from the program's
	# table (man/fill.py): the built page must list exactly --help's codes
	local codes man=${MREG_BUILD_ROOT:-$(dirname "$MREG")}/mreg.1.scd
	[ -f "$man" ] || { echo "$man not built" >&2; return 1; }
	grep -qx '@EXIT_STATUS@' "$src/man/mreg.1.scd"
	codes=$("$MREG" --help | sed -n '/^Exit status:/,/^$/p' | grep -oE '^  [0-9]+' | tr -d ' ')
	[ -n "$codes" ]
	for c in $codes; do
		grep -qE "^\*$c\*" "$man" || { echo "exit code $c not in mreg.1.scd" >&2; return 1; }
	done
	[ "$(sed -n '/^# EXIT STATUS/,/^# /p' "$man" | grep -oE '^\*[0-9]+\*' | tr -d '*' | xargs)" = "$(xargs <<<"$codes")" ]
}

@test "the completion scripts are valid shell" {
	bash -n "$comp/mreg"
	# never skipped: test/setup-debian installs both shells
	zsh -n "$comp/_mreg"
	fish --no-execute "$comp/mreg.fish"
}

@test "bash completion offers commands and a command's options" {
	run bash -c "
		source /usr/share/bash-completion/bash_completion 2>/dev/null || true
		source '$comp/mreg'
		COMP_WORDS=(mreg mig); COMP_CWORD=1; COMP_LINE='mreg mig'; COMP_POINT=8
		_mreg; echo \"\${COMPREPLY[*]}\"
		COMP_WORDS=(mreg migrate --dr); COMP_CWORD=2; COMP_LINE='mreg migrate --dr'; COMP_POINT=17
		_mreg; echo \"\${COMPREPLY[*]}\""
	assert_success
	assert_line --index 0 migrate
	assert_line --index 1 -- --dry-run
}

@test "meson install puts the binary, every command's man page and the completions in place" {
	[ -n "${MREG_BUILD_ROOT:-}" ] || { echo "MREG_BUILD_ROOT not set (run through meson test)" >&2; return 1; }
	dest=$(mktemp -d)
	run meson install -C "$MREG_BUILD_ROOT" --no-rebuild --destdir "$dest"
	assert_success
	prefix=$(find "$dest" -type f -name mreg -path '*/bin/*' | head -1)
	[ -n "$prefix" ]
	share=$(dirname "$(dirname "$prefix")")/share
	[ -f "$share/man/man1/mreg.1" ]
	for cmd in $("$MREG" --list-commands); do
		[ -f "$share/man/man1/mreg-$cmd.1" ] || { echo "no installed man page for $cmd" >&2; return 1; }
	done
	# where Debian's shells look under a /usr prefix (meson options
	# bash_completions_dir, zsh_completions_dir, fish_completions_dir)
	[ -f "$share/bash-completion/completions/mreg" ]
	[ -f "$share/zsh/vendor-completions/_mreg" ]
	[ -f "$share/fish/vendor_completions.d/mreg.fish" ]
	# the generated scripts, as built
	cmp "$share/bash-completion/completions/mreg" "$comp/mreg"
	cmp "$share/zsh/vendor-completions/_mreg" "$comp/_mreg"
	cmp "$share/fish/vendor_completions.d/mreg.fish" "$comp/mreg.fish"
	rm -rf "$dest"
}
