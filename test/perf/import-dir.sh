#!/usr/bin/env bash
# import-dir.sh - mreg import-dir against its floors, side by side
#
#   test/pg-sandbox run test/perf/import-dir.sh [N...]
#
# For each N (default: 10000 100000) it generates N model files
# (test/perf/gen-models.sh, deterministic), then times, in one run:
#   first import        mreg import-dir into a freshly migrated database
#      floor            sha256sum of every file + psql \copy of the same
#                       model rows and cache rows into tables shaped like
#                       mreg.models and mreg.source_files (same indexes)
#   unchanged re-import mreg import-dir again
#      floor            find DIR -type f -printf '%s %T@\n' (a stat walk)
#   plan, unchanged     mreg import-dir --plan of the same unchanged tree
#      compared with    the unchanged re-import (goal: at most 1.2x)
#   1% changed          mreg import-dir after rewriting 1% of the files
#      compared with    1% of the first import + the stat walk
# and the peak RSS of the first import and of the unchanged re-import
# (/usr/bin/time).  Medians of
# REPS runs (default 3; REPS_BIG for N >= 50000, default 1).  Needs the
# PG* environment of a sandbox; uses databases perf_import_*.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MREG=${MREG:-$root/build/mreg}
REPS=${REPS:-3}
REPS_BIG=${REPS_BIG:-1}
JOBS=${JOBS:-}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000 100000)

[ -x "$MREG" ] || { echo "import-dir.sh: build mreg first ($MREG)" >&2; exit 1; }
psql -XAtq -d postgres -c 'select 1' >/dev/null ||
	{ echo "import-dir.sh: no database: run under test/pg-sandbox run" >&2; exit 1; }

work=$(mktemp -d /tmp/mreg-perf-import.XXXXXX)
trap 'rm -rf "$work"; psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS perf_import_a WITH (FORCE)" -c "DROP DATABASE IF EXISTS perf_import_floor WITH (FORCE)" >/dev/null 2>&1 || true' EXIT

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
since() { calc "$(now) - $1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }

fresh_db() {
	psql -XAtq -d postgres -v ON_ERROR_STOP=1 \
		-c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
	PGDATABASE=$1 "$MREG" migrate --quiet
}

jobs_opt=()
[ -z "$JOBS" ] || jobs_opt=(--jobs "$JOBS")

printf '%-8s %-24s %12s %12s %8s\n' N measure mreg floor ratio
for n in "${sizes[@]}"; do
	reps=$REPS
	[ "$n" -lt 50000 ] || reps=$REPS_BIG
	dir="$work/m$n"
	"$here/gen-models.sh" "$dir" "$n" 1

	# rows for the floor's \copy (prepared outside the timing)
	find "$dir" -name '*.json' -print0 | sort -z | xargs -0 jq -r '
		[ (.provider[1:] | tonumber + 1), .name, .type, .version,
		  .display_name, .description, "{" + (.tags | join(",")) + "}",
		  "{" + (.synonyms | join(",")) + "}", "t",
		  (.config | tojson), (.metadata | tojson) ] | @tsv' >"$work/models.tsv"
	find "$dir" -name '*.json' -printf '%P\t%s\t%T@\t%C@\t%i\t%D\n' | sort |
		awk -F'\t' -v OFS='\t' '
		function ns(t,   a) { split(t, a, "."); return a[1] substr(a[2] "000000000", 1, 9) }
		{ print "bench", $1, $2, ns($3), ns($4), $5, $6, "0000000000000000000000000000000000000000000000000000000000000000", "f" }' \
		>"$work/source.tsv"

	first=() floor=() rss=() rss2=() rescan=() walk=() change=() plan=()
	for ((r = 0; r < reps; r++)); do
		# floor: hash every file, \copy the rows into tables like ours
		fresh_db perf_import_floor
		PGDATABASE=perf_import_floor psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<-'SQL'
			CREATE TABLE floor_models (LIKE mreg.models INCLUDING ALL);
			CREATE TABLE floor_source (LIKE mreg.source_files INCLUDING ALL);
		SQL
		sync
		t=$(now)
		find "$dir" -name '*.json' -print0 | xargs -0 sha256sum >/dev/null
		PGDATABASE=perf_import_floor psql -XAtq -v ON_ERROR_STOP=1 \
			-c "\\copy floor_models (provider_id, name, type, version, display_name, description, tags, synonyms, active, config, metadata) FROM '$work/models.tsv'" \
			-c "\\copy floor_source (source, path, size, mtime_ns, ctime_ns, inode, device, sha256, racy) FROM '$work/source.tsv'" >/dev/null
		floor+=("$(since "$t")")

		fresh_db perf_import_a
		t=$(now)
		PGDATABASE=perf_import_a /usr/bin/time -f '%M' -o "$work/rss" \
			"$MREG" import-dir --quiet "${jobs_opt[@]}" --source bench "$dir"
		first+=("$(since "$t")")
		rss+=("$(cat "$work/rss")")

		t=$(now)
		PGDATABASE=perf_import_a /usr/bin/time -f '%M' -o "$work/rss2" \
			"$MREG" import-dir --quiet "${jobs_opt[@]}" --source bench "$dir"
		rescan+=("$(since "$t")")
		rss2+=("$(cat "$work/rss2")")
		t=$(now)
		find "$dir" -type f -printf '%s %T@\n' >/dev/null
		walk+=("$(since "$t")")
		# --plan of the unchanged tree: exit 0 expected (5 or 3 would
		# mean the tree is not what the re-import left)
		t=$(now)
		PGDATABASE=perf_import_a "$MREG" import-dir --plan --quiet "${jobs_opt[@]}" --source bench "$dir"
		plan+=("$(since "$t")")

		# 1%: every 100th file, a different set each repetition
		find "$dir" -name "m*$(printf '%02d' $((r + 1))).json" -print0 |
			xargs -0 sed -i "s/\"version\": \"/\"version\": \"r$r-/"
		t=$(now)
		PGDATABASE=perf_import_a "$MREG" import-dir --quiet "${jobs_opt[@]}" --source bench "$dir"
		change+=("$(since "$t")")
	done
	f=$(printf '%s\n' "${first[@]}" | median)
	fl=$(printf '%s\n' "${floor[@]}" | median)
	rs=$(printf '%s\n' "${rescan[@]}" | median)
	wk=$(printf '%s\n' "${walk[@]}" | median)
	ch=$(printf '%s\n' "${change[@]}" | median)
	pl=$(printf '%s\n' "${plan[@]}" | median)
	mem=$(printf '%s\n' "${rss[@]}" | median)
	mem2=$(printf '%s\n' "${rss2[@]}" | median)
	target=$(calc "$f / 100 + $wk")
	printf '%-8s %-24s %11.3fs %11.3fs %7sx\n' "$n" "first import" "$f" "$fl" "$(ratio "$f" "$fl")"
	printf '%-8s %-24s %11.3fs %11.3fs %7sx\n' "$n" "unchanged re-import" "$rs" "$wk" "$(ratio "$rs" "$wk")"
	printf '%-8s %-24s %11.3fs %11.3fs %7sx\n' "$n" "1% changed" "$ch" "$target" "$(ratio "$ch" "$target")"
	printf '%-8s %-24s %11.3fs %11.3fs %7sx  (vs unchanged re-import, goal <= 1.2x)\n' "$n" "plan, unchanged" "$pl" "$rs" "$(ratio "$pl" "$rs")"
	printf '%-8s %-24s %10.1fMiB %12s\n' "$n" "peak RSS, first import" "$(calc "$mem / 1024")" "64MiB max"
	printf '%-8s %-24s %10.1fMiB %12s\n' "$n" "peak RSS, re-import" "$(calc "$mem2 / 1024")" "64MiB max"
	printf '%-8s %-24s %s\n' "$n" "repetitions" "$reps"
	rm -rf "$dir"
done
