# zsh-complete.zsh OUT LINE... - complete each LINE in a real interactive
# zsh (zsh -f -i in a zpty pseudo-terminal, compinit, the generated _mreg
# from $MREG_COMPLETIONS): type the LINE, press TAB, then a key bound to a
# widget that records the line as it then is.  OUT gets, for each LINE,
# "M:<match>" for every match offered, "B:<buffer after TAB>", "END".
# mreg must be on PATH.  Waits for each END line, with a deadline.
zmodload zsh/zpty || exit 1
out=$1
shift
: >$out
zpty z zsh -f -i || exit 1
zpty -w z "fpath=(${(q)MREG_COMPLETIONS} \$fpath); autoload -Uz compinit; compinit -u -D"
zpty -w z "zstyle ':completion:*' list-prompt ''; LISTMAX=1000"
# every match that completion adds, as it adds it
zpty -w z "compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a __m; builtin compadd -O __m \"\$@\"; (( \$#__m )) && print -rl -- \"M:\"\${^__m} >>${(q)out}; builtin compadd \"\$@\"; }"
zpty -w z "show-buffer() { print -r -- \"B:<\$BUFFER>\" >>${(q)out}; print -r -- END >>${(q)out}; BUFFER=''; }; zle -N show-buffer; bindkey '^T' show-buffer"
integer n=0 i
for line in "$@"; do
	n+=1
	zpty -w -n z "$line"$'\t'
	zpty -w -n z $'\x14'
	for ((i = 0; i < 400; i++)); do
		(( $(grep -c '^END$' $out) >= n )) && break
		zpty -rt z junk 2>/dev/null   # keep the terminal drained
		sleep 0.05
	done
	(( i < 400 )) || { print -u2 "zsh: no completion for '$line' within 20 s"; exit 1; }
done
zpty -d z
