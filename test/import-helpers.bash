# import-helpers.bash - shared by the 3xxx import-dir suites (load after helpers)

SAMPLES="$MREG_SOURCE_ROOT/test/data/models"
GEN="$MREG_SOURCE_ROOT/test/perf/gen-models.sh"

# A fresh copy of the sample models in $1.
copy_samples() {
	rm -rf "$1"
	cp -r "$SAMPLES" "$1"
}

# provider, name, version, active of every model file under $1, sorted,
# hashed.
dir_digest() {
	find "$1" -name '*.json' -not -path '*/.*' -print0 |
		xargs -0 jq -r '[.provider, .name, (.version // ""),
			(if .active == false then "f" else "t" end)] | @tsv' |
		LC_ALL=C sort | sha256sum | cut -d' ' -f1
}

# The same for the models in the database (all of them, or those of the
# source $1 when given).
db_digest() {
	q "SELECT p.name || E'\t' || m.name || E'\t' || coalesce(m.version, '')
	          || E'\t' || CASE WHEN m.active THEN 't' ELSE 'f' END
	     FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
	    WHERE \$\$${1:-}\$\$ = '' OR m.id IN (SELECT model_id
	          FROM mreg.source_files WHERE source = \$\$${1:-}\$\$)" |
		LC_ALL=C sort | sha256sum | cut -d' ' -f1
}

# A value from the JSON summary in $output.
summary() {
	jq -r ".$1" <<<"$output"
}

# A second database next to PGDATABASE, migrated; prints its name.
db_create_second() {
	local name="${PGDATABASE}_b"
	psql -XAtq -d postgres -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS \"$name\" WITH (FORCE)" \
		-c "CREATE DATABASE \"$name\"" >/dev/null
	PGDATABASE=$name "$MREG" migrate --quiet >/dev/null
	echo "$name"
}

db_drop_second() {
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"${PGDATABASE}_b\" WITH (FORCE)" >/dev/null 2>&1 || true
}

# wait_past_racy DIR: wait until the filesystem clock under DIR has moved
# more than twice the racy window (the timestamp granularity mreg assumes:
# 20 ms, or 1 s where the probe's mtime has no sub-second part) past the
# newest mtime and ctime of the files under DIR, so that an import started
# afterwards records all of them as trustworthy.  A probe file created in
# DIR reads the filesystem's own clock, as mreg does.  touch -d sets the
# mtime only: the ctime stays "now", so call this after any touch.  Fails
# loudly after 30 s.
wait_past_racy() {
	local dir=$1 newest=0 t now gran probe deadline=$((SECONDS + 30))
	for t in $(find "$dir" -type f -exec stat -c '%.9Y %.9Z' {} +); do
		t=${t/./}
		t=$((10#$t))
		[ "$t" -gt "$newest" ] && newest=$t
	done
	probe="$dir/.racy-probe.$$"
	while :; do
		: >"$probe"
		now=$(stat -c %.9Y "$probe")
		rm -f "$probe"
		gran=20000000
		[ "${now#*.}" = 000000000 ] && gran=1000000000
		now=${now/./}
		now=$((10#$now))
		[ "$now" -gt $((newest + 2 * gran)) ] && return 0
		if [ "$SECONDS" -ge "$deadline" ]; then
			echo "wait_past_racy: the clock of \"$dir\" did not pass $newest + 2 * $gran ns within 30 s (now $now)" >&2
			return 1
		fi
		sleep 0.01 # polling: the loop ends on the clock, not on this sleep
	done
}

# import_tree [OPTION...]: import $B under a source of the test's own, JSON
# summary in $output, messages in $stderr.  The timeout only turns a hang
# (a FIFO opened by mistake, say) into a failure; it is no measure of speed.
import_tree() {
	run --separate-stderr timeout 300 "$MREG" import-dir --source "t$BATS_TEST_NUMBER" --format json "$@" "$B"
}

# hold_source_lock SRC [APP]: a psql process (application_name APP, by
# default lock-holder-test) holding the source's lock row as a process of
# this machine would, until the test ends it (end_session APP "$holder");
# mreg then finds the holder process gone and takes the lock over at once.
# Waits until the row is there.  The psql's pid (the row's pid) in $holder.
hold_source_lock() {
	local app=${2:-lock-holder-test}
	local host_id
	host_id="$(hostname)|$(cat /proc/sys/kernel/random/boot_id)|$(readlink /proc/self/ns/pid)"
	# exec: the shell's pid becomes psql's, so the row names the holder
	sh -c 'exec psql -XAtq -v src="$1" -v app="$2" -v host="$3" -v host_id="$4" -v pid=$$' \
		sh "$1" "$app" "$(hostname)" "$host_id" >/dev/null 2>&1 3>&- <<-'SQL' &
		SET application_name = :'app';
		INSERT INTO mreg.source_locks (source, host, host_id, pid, application, ttl_s)
		VALUES (:'src', :'host', :'host_id', :'pid', :'app', 30);
		SELECT pg_sleep(600);
	SQL
	holder=$!
	wait_for "the lock holder's row" \
		"[ \"\$(q \"select count(*) from mreg.source_locks where application = '$app' and pid = $holder\")\" = 1 ]"
}

# blocker APP SQL: a psql session (application_name APP) that runs SQL in
# an open transaction and holds it until end_session APP; waits until SQL
# has run.
blocker() {
	psql -XAtq -v ON_ERROR_STOP=1 >/dev/null 2>&1 3>&- <<-SQL &
		SET application_name = '$1';
		BEGIN;
		$2;
		SELECT pg_sleep(600);
	SQL
	wait_for "the blocker's statement" \
		"[ \"\$(q \"select count(*) from pg_stat_activity where application_name = '$1' and query like '%pg_sleep%'\")\" = 1 ]"
}
