#!/usr/bin/env bats
# 7007: mreg watch -- every committed audit entry, one NDJSON line each, in
# id order, exactly once: changes by mreg and by psql, filters, --after-id
# replay then follow, commits out of id order, rollbacks, a terminated
# backend, SIGTERM/SIGINT, and the refusals.  (7008: a server restart
# under writers, and PgBouncer.)  Every wait is for an event (a line in a
# file, a process state), never for a time.

load helpers
load import-helpers
bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
	"$MREG" import-dir --quiet --source samples "$SAMPLES"
}
teardown_file() { db_drop; }

VALID="$MREG_SOURCE_ROOT/test/json-valid"

teardown() {
	local p
	for p in ${WATCHES:-}; do
		kill -TERM "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
	end_session hold-7007 || true
}

max_id() { q "SELECT coalesce(max(id), 0) FROM mreg.audit_log"; }

# watch NAME ARGS...: start 'mreg watch -v ARGS...' in the background,
# stdout in $BATS_TEST_TMPDIR/NAME.out, stderr in NAME.err; its pid in
# $WATCH (and in $WATCHES for teardown).  Returns once it follows the log.
watch() {
	local name=$1 out err
	shift
	out=$BATS_TEST_TMPDIR/$name.out err=$BATS_TEST_TMPDIR/$name.err
	"$MREG" watch -v "$@" >"$out" 2>"$err" 3>&- 4>&- 5>&- &
	WATCH=$!
	WATCHES="${WATCHES:-} $WATCH"
	wait_for "$name to follow the log" \
		"grep -q 'following the audit log after id' '$err' || ! kill -0 $WATCH"
	kill -0 "$WATCH" || { cat "$err" >&2; return 1; }
}

# lines_at_least NAME N PID: wait until NAME.out has N lines.
lines_at_least() {
	wait_for "$2 lines from $1" \
		"[ \"\$(wc -l <'$BATS_TEST_TMPDIR/$1.out')\" -ge $2 ] || ! kill -0 $3"
	[ "$(wc -l <"$BATS_TEST_TMPDIR/$1.out")" -ge "$2" ] ||
		{ cat "$BATS_TEST_TMPDIR/$1.err" >&2; return 1; }
}

# line_matching NAME JQ PID: wait for a line of NAME.out for which the jq
# filter JQ is true.
line_matching() {
	wait_for "a line of $1 with $2" \
		"jq -e 'select($2)' '$BATS_TEST_TMPDIR/$1.out' >/dev/null 2>&1 || ! kill -0 $3"
	jq -e "select($2)" "$BATS_TEST_TMPDIR/$1.out" >/dev/null ||
		{ cat "$BATS_TEST_TMPDIR/$1.err" >&2; return 1; }
}

# stop NAME PID [SIGNAL]: stop the watch, $status its exit status
stop() {
	kill "-${3:-TERM}" "$2"
	status=0
	wait "$2" || status=$?
}

ids() { jq -r .id "$BATS_TEST_TMPDIR/$1.out"; }
ids_after() { q "SELECT id FROM mreg.audit_log WHERE id > $1 ORDER BY id"; }
describe() { q "UPDATE mreg.models m SET description = '$2' FROM mreg.providers p WHERE p.id = m.provider_id AND p.name || '/' || m.name = '$1'"; }

@test "watch: changes by mreg and by psql appear, with their fields, valid NDJSON" {
	watch all
	run -0 "$MREG" set-default --actor tester openai/o3-mini
	describe openai/gpt-4o "watched from psql"
	line_matching all '.action == "model.update"' "$WATCH"
	local out=$BATS_TEST_TMPDIR/all.out
	# the set-default: actor, resource, the default shape in new
	run -0 jq -c 'select(.action == "default.set") | [.actor, .resource, .new.model, .old, .model_id > 0]' "$out"
	assert_output '["tester","defaults/llm","openai/o3-mini",null,true]'
	# the psql edit: the database role as actor, no context, only the
	# changed field in old and new
	run -0 jq -c 'select(.action == "model.update") | [.actor, .resource, (.old | keys), .new.description, .context]' "$out"
	assert_output '["postgres","models/openai/gpt-4o",["description"],"watched from psql",{}]'
	"$VALID" --ndjson watch-entry "$out"
	# one object per line, compact, flushed as it came
	run -0 awk 'substr($0, 1, 6) != "{\"id\":" { bad = 1 } END { exit bad }' "$out"
	stop all "$WATCH"
	[ "$status" -eq 0 ]
}

@test "watch: --type, --model (through a rename) and --action choose what is printed" {
	local n0
	n0=$(max_id)
	describe openai/o3-mini "llm, not embedding"
	describe openai/text-embedding-3-small "embedding"
	describe openai/text-embedding-3-large "the large one"
	q "UPDATE mreg.models SET name = 'te3l-renamed' WHERE name = 'text-embedding-3-large'"
	describe openai/te3l-renamed "renamed"
	q "UPDATE mreg.models SET name = 'text-embedding-3-large' WHERE name = 'te3l-renamed'"
	run -0 "$MREG" set-default openai/gpt-4o
	# last, matching every filter: once it is printed, all before it was read
	run -0 "$MREG" set-default openai/text-embedding-3-large
	watch type --after-id "$n0" --type embedding
	local wt=$WATCH
	watch model --after-id "$n0" --model openai/text-embedding-3-large
	local wm=$WATCH
	watch action --after-id "$n0" --action default.set --action default.clear,provider.*
	local wa=$WATCH
	for w in type:$wt model:$wm action:$wa; do
		line_matching "${w%%:*}" '.resource == "defaults/embedding"' "${w#*:}"
	done
	run -0 jq -r '"\(.action) \(.resource)"' "$BATS_TEST_TMPDIR/type.out"
	assert_output - <<-'EOF'
	model.update models/openai/text-embedding-3-small
	model.update models/openai/text-embedding-3-large
	model.update models/openai/te3l-renamed
	model.update models/openai/te3l-renamed
	model.update models/openai/text-embedding-3-large
	default.set defaults/embedding
	EOF
	run -0 jq -r '"\(.action) \(.resource)"' "$BATS_TEST_TMPDIR/model.out"
	assert_output - <<-'EOF'
	model.update models/openai/text-embedding-3-large
	model.update models/openai/te3l-renamed
	model.update models/openai/te3l-renamed
	model.update models/openai/text-embedding-3-large
	default.set defaults/embedding
	EOF
	run -0 jq -r '"\(.action) \(.resource)"' "$BATS_TEST_TMPDIR/action.out"
	assert_output - <<-'EOF'
	default.set defaults/llm
	default.set defaults/embedding
	EOF
}

@test "watch: --after-id replays what it missed, then follows; resuming repeats nothing" {
	local n0 last
	n0=$(max_id)
	describe openai/o3-mini "one"
	describe openai/o3-mini "two"
	describe openai/o3-mini "three"
	watch replay --after-id "$n0"
	lines_at_least replay 3 "$WATCH"
	describe openai/o3-mini "four"
	describe openai/o3-mini "five"
	lines_at_least replay 5 "$WATCH"
	[ "$(ids replay)" = "$(ids_after "$n0")" ]
	stop replay "$WATCH"
	[ "$status" -eq 0 ]
	# resume from the last id printed: the next change, and nothing else
	last=$(ids replay | tail -n 1)
	describe openai/o3-mini "six"
	watch resume --after-id "$last"
	lines_at_least resume 1 "$WATCH"
	describe openai/o3-mini "seven"
	lines_at_least resume 2 "$WATCH"
	[ "$(ids resume)" = "$(ids_after "$last")" ]
	run -0 jq -r .new.description "$BATS_TEST_TMPDIR/resume.out"
	assert_output $'six\nseven'
}

# hold SQL [N]: run SQL in a transaction that stays open (application_name
# hold-7007, on descriptor 4+N) until release END [N]
hold() {
	local n=${2:-0} fifo=$BATS_TEST_TMPDIR/hold${2:-0}
	mkfifo "$fifo.in"
	# none of the holders keeps another one's pipe open
	PGAPPNAME=hold-7007 psql -XAtq -v ON_ERROR_STOP=1 <"$fifo.in" >"$fifo.out" 2>&1 3>&- 4>&- 5>&- &
	eval "HOLD$n=\$!"
	eval "exec $((4 + n))>'$fifo.in'"
	echo "BEGIN; $1; SELECT 'held';" >&$((4 + n))
	wait_for "the held transaction to write" "grep -q held '$fifo.out'"
}
release() {
	local n=${2:-0} pid
	echo "$1;" >&$((4 + n))
	eval "exec $((4 + n))>&-"
	eval "pid=\$HOLD$n"
	wait "$pid"
}

@test "watch: a transaction that commits after a higher id: both printed, in id order, once" {
	local n0
	n0=$(max_id)
	watch order --after-id "$n0"
	hold "UPDATE mreg.models SET description = 'held' WHERE name = 'o3-mini'"
	describe openai/gpt-4o "committed first"
	# the later id is committed, but the lower one may still commit:
	# the watch sees the gap and prints nothing past it while it is open
	wait_for "the watch to wait at the gap" "grep -q 'waiting at a gap after audit id $n0\$' '$BATS_TEST_TMPDIR/order.err'"
	[ "$(q "SELECT count(*) FROM mreg.audit_log WHERE id > $n0")" -eq 1 ]
	[ ! -s "$BATS_TEST_TMPDIR/order.out" ]
	release COMMIT
	lines_at_least order 2 "$WATCH"
	[ "$(ids order)" = "$(ids_after "$n0")" ]
	run -0 jq -r .new.description "$BATS_TEST_TMPDIR/order.out"
	assert_output $'held\ncommitted first'
}

@test "watch: an open writer whose xid is above the snapshot's xmax still holds the gap" {
	# writer 0 takes its xid first; writer 1 takes a higher xid and the
	# lower audit id; writer 0 then writes and commits: the snapshot's
	# xmax is writer 0's xid + 1, so writer 1 is in no in-progress list
	# (pg_snapshot_xip), and only the bound keeps its id from being lost
	local n0
	n0=$(max_id)
	watch xmax --after-id "$n0"
	hold "SELECT pg_current_xact_id()" 0
	hold "UPDATE mreg.models SET description = 'higher xid, lower id' WHERE name = 'o3-mini'" 1
	echo "UPDATE mreg.models SET description = 'lower xid, higher id' WHERE name = 'gpt-4o'; COMMIT; SELECT 'done';" >&4
	wait_for "writer 0 to commit" "grep -q done '$BATS_TEST_TMPDIR/hold0.out'"
	release "" 0
	wait_for "the watch to wait at the gap" "grep -q 'waiting at a gap after audit id $n0\$' '$BATS_TEST_TMPDIR/xmax.err'"
	[ ! -s "$BATS_TEST_TMPDIR/xmax.out" ]
	release COMMIT 1
	lines_at_least xmax 2 "$WATCH"
	[ "$(ids xmax)" = "$(ids_after "$n0")" ]
	run -0 jq -r .new.description "$BATS_TEST_TMPDIR/xmax.out"
	assert_output $'higher xid, lower id\nlower xid, higher id'
}

@test "watch: a rolled-back transaction does not stall the lines after it" {
	local n0
	n0=$(max_id)
	watch rollback --after-id "$n0"
	hold "UPDATE mreg.models SET description = 'rolled back' WHERE name = 'o3-mini'"
	describe openai/gpt-4o "after the rollback"
	wait_for "the watch to wait at the gap" "grep -q 'waiting at a gap after audit id $n0\$' '$BATS_TEST_TMPDIR/rollback.err'"
	release ROLLBACK
	describe openai/gpt-4o "and another"
	lines_at_least rollback 2 "$WATCH"
	[ "$(ids rollback)" = "$(ids_after "$n0")" ]
	run -0 jq -r .new.description "$BATS_TEST_TMPDIR/rollback.out"
	assert_output $'after the rollback\nand another'
	# the rolled-back id was taken, and skipped
	[ "$(ids rollback | head -n 1)" -gt $((n0 + 1)) ]
}

@test "watch: ids an identity cache never used do not stall it" {
	local n0
	n0=$(max_id)
	q "ALTER TABLE mreg.audit_log ALTER COLUMN id SET CACHE 20"
	watch cache --after-id "$n0"
	# each psql session takes 20 ids and uses one
	describe openai/o3-mini "cached one"
	describe openai/o3-mini "cached two"
	q "ALTER TABLE mreg.audit_log ALTER COLUMN id SET CACHE 1"
	describe openai/o3-mini "uncached"
	lines_at_least cache 3 "$WATCH"
	[ "$(ids cache)" = "$(ids_after "$n0")" ]
	[ "$(ids cache | tail -n 1)" -ge $((n0 + 40)) ]
}

@test "watch: its backend terminated, it reconnects and catches up" {
	local n0
	n0=$(max_id)
	watch term --after-id "$n0"
	describe openai/o3-mini "before"
	lines_at_least term 1 "$WATCH"
	q "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mreg watch' AND datname = current_database()" >/dev/null
	describe openai/o3-mini "while it was away"
	wait_for "the reconnect" "grep -q 'reconnected; catching up after audit id' '$BATS_TEST_TMPDIR/term.err'"
	describe openai/o3-mini "after"
	lines_at_least term 3 "$WATCH"
	[ "$(ids term)" = "$(ids_after "$n0")" ]
	run -0 grep -c 'lost the connection' "$BATS_TEST_TMPDIR/term.err"
	run -0 grep 'reconnecting in 100 ms (attempt 1)' "$BATS_TEST_TMPDIR/term.err"
	stop term "$WATCH"
	[ "$status" -eq 0 ]
}

@test "watch: SIGTERM and SIGINT end it with status 0 and whole lines" {
	local n0 sig
	n0=$(max_id)
	for sig in TERM INT; do
		watch "sig$sig" --after-id "$n0"
		describe openai/o3-mini "signal $sig"
		lines_at_least "sig$sig" 1 "$WATCH"
		stop "sig$sig" "$WATCH" "$sig"
		[ "$status" -eq 0 ] || { echo "SIG$sig: exit $status" >&2; return 1; }
		# every line whole: each one parses
		jq -e . "$BATS_TEST_TMPDIR/sig$sig.out" >/dev/null
		[ "$(tail -c 1 "$BATS_TEST_TMPDIR/sig$sig.out" | od -An -c | tr -d ' ')" = '\n' ]
	done
	# a reader that goes away ends it quietly too
	run -0 --separate-stderr bash -c "'$MREG' watch --after-id 0 | head -n 1"
	[ "$(jq -r .id <<<"$output")" = "$(q 'SELECT min(id) FROM mreg.audit_log')" ]
}

@test "watch: bad options are usage errors (exit 2)" {
	run -2 --separate-stderr "$MREG" watch --action model.frobnicate
	assert_equal "$stderr" "mreg watch: unknown action 'model.frobnicate' (model.update, default.set, model.*, ...: see mreg-watch(1))
Try 'mreg watch --help' for more information."
	run -2 "$MREG" watch --action default.set,
	assert_output --partial "unknown action ''"
	run -2 "$MREG" watch --after-id -1
	assert_output --partial "invalid audit id '-1' for --after-id"
	run -2 "$MREG" watch --model gpt-4o
	assert_output --partial "--model takes PROVIDER/NAME, not 'gpt-4o'"
	run -2 "$MREG" watch -o json
	assert_output --partial "--format must be ndjson, not 'json'"
	run -2 "$MREG" watch extra
	MREG_POOLED=maybe run -2 --separate-stderr "$MREG" watch
	assert_equal "$stderr" "mreg watch: MREG_POOLED must be yes or no, not 'maybe'"
}

@test "watch: refuses a pooled connection (MREG_POOLED=yes) and a dead server, exit 1" {
	MREG_POOLED=yes run -1 --separate-stderr "$MREG" watch
	assert_output ""
	[[ $stderr == *"cannot LISTEN through a transaction-mode pooler (MREG_POOLED=yes)"* ]]
	[[ $stderr == *"HINT: Connect mreg watch to the server directly"* ]]
	# with -o ndjson the failure is one error object on stdout too
	MREG_POOLED=yes run -1 --separate-stderr "$MREG" watch -o ndjson
	"$VALID" error <<<"$output"
	# MREG_POOLED=no trusts the connection: it follows
	MREG_POOLED=no watch trusted
	stop trusted "$WATCH"
	[ "$status" -eq 0 ]
	run -1 --separate-stderr "$MREG" watch -d "host=/nonexistent/mreg-no-server"
	[[ $stderr == "mreg watch: could not connect to"* ]]
	# no schema: a database error, with the reason
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"${PGDATABASE}_empty\"" -c "CREATE DATABASE \"${PGDATABASE}_empty\"" >/dev/null
	PGDATABASE=${PGDATABASE}_empty run -1 --separate-stderr "$MREG" watch
	psql -XAtq -d postgres -c "DROP DATABASE \"${PGDATABASE}_empty\"" >/dev/null
	[[ $stderr == *'relation "mreg.audit_log" does not exist'* ]]
}
