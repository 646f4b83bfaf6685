#!/usr/bin/env bash
# import-peers.sh - mreg import-dir side by side with the Python importers a
# team would write (../shared/peers, or $PEERS) and with the floors, in one
# run against one server
#
#   test/pg-sandbox run test/perf/import-peers.sh [N...]
#
# For each N (default 10000) it generates N files with the peers'
# gen_models.py, then, REPS times (default 3; REPS_BIG for N >= 50000,
# default 1), alternating the programs within each repetition, taking a
# CHECKPOINT before every timed run and a VACUUM (ANALYZE) of what a run
# wrote after it (autovacuum of one program's 100,000 fresh rows would
# otherwise run during the next program's timing; floors' databases are
# dropped once timed):
#   first import   mreg import-dir into a freshly migrated database,
#                  peer_optimized.py and peer_naive.py (NAIVE=0 skips it;
#                  skipped by default for N >= 50000) into fresh databases;
#                  floors: psql \copy of the same rows into mreg.models as
#                  it is (triggers, search_doc, indexes), into a copy of it
#                  without triggers (LIKE ... INCLUDING ALL), into a table of
#                  the bare columns (no search_doc, no index), the peers' own
#                  copy_floor.sh, and sha256sum of every file
#   unchanged      mreg and the optimized peer again; floor: a stat walk
#                  (UREPS alternating triples per repetition, default 5;
#                  1 for N >= 50000)
#   1% rewritten   every 100th file rewritten (a different set each time),
#                  then mreg and the optimized peer
# It prints the medians, the peak RSS of mreg's runs (/usr/bin/time) and
# the ratios the import-speed goals are stated in.  Needs the PG*
# environment of a sandbox, /usr/bin/python3 with psycopg2
# (test/setup-debian installs it); uses databases perf_peers_*.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
MREG=${MREG:-$root/build/mreg}
PEERS=${PEERS:-$root/../shared/peers}
PY=${PY:-/usr/bin/python3}
REPS=${REPS:-3}
UREPS=${UREPS:-5}
REPS_BIG=${REPS_BIG:-1}
JOBS=${JOBS:-}
sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(10000)

die() { echo "import-peers.sh: $*" >&2; exit 1; }
[ -x "$MREG" ] || die "build mreg first ($MREG)"
[ -f "$PEERS/peer_optimized.py" ] || die "no peers in $PEERS (set PEERS)"
"$PY" -c 'import psycopg2' 2>/dev/null || die "$PY has no psycopg2 (run test/setup-debian)"
psql -XAtq -d postgres -c 'select 1' >/dev/null ||
	die "no database: run under test/pg-sandbox run"

dbs=(perf_peers_mreg perf_peers_opt perf_peers_naive perf_peers_floor perf_peers_pfloor)
work=$(mktemp -d /tmp/mreg-perf-peers.XXXXXX)
drop_all() {
	local d
	for d in "${dbs[@]}"; do
		psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
	done
}
trap 'rm -rf "$work"; drop_all' EXIT

now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $1 }"; }
since() { calc "$(now) - $1"; }
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ratio() { awk "BEGIN { printf \"%.2f\", $1 / $2 }"; }
med() { printf '%s\n' "$@" | median; }
# machine-wide busy CPU (user, nice, system, irq, softirq of every core;
# not idle, iowait or steal) in clock ticks, and seconds of it since a
# reading: what a run cost the machine, server and client together
cores=$(nproc)
hz=$(getconf CLK_TCK)
cpu_now() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8; exit }' /proc/stat; }
cpu_since() { calc "($(cpu_now) - $1) / $hz"; }
checkpoint() { psql -XAtq -d postgres -c CHECKPOINT >/dev/null; sync; }
# after a timed run that wrote: vacuum and analyze what it wrote, outside
# the timing, so that autovacuum's work on it (GIN pending lists, a
# tsvector column's statistics) never lands in the next program's timing
# or the program's next run.  A database-wide VACUUM also updates the
# catalogs' own rows, which makes the next backend of that database rebuild
# its relation cache file (~5 ms of every backend of the next timed run,
# whichever program it is): one connection rebuilds it here, outside the
# timing, as in a database that has served connections since
settle() {
	psql -XAtq -d "$1" -c "SET client_min_messages = warning" -c "VACUUM (ANALYZE)" >/dev/null
	psql -XAtq -d "$1" -c "SELECT 1" >/dev/null
}
empty_db() {
	psql -XAtq -d postgres -v ON_ERROR_STOP=1 -c "SET client_min_messages = warning" \
		-c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1" >/dev/null
}
fresh_db() { empty_db "$1"; PGDATABASE=$1 "$MREG" migrate --quiet; }
# one \copy of $1's rows into table $2 of database perf_peers_floor
copy_rows() {
	PGDATABASE=perf_peers_floor psql -XAtq -v ON_ERROR_STOP=1 -c "\\copy $2 (provider_id, name, type, version, display_name, description, tags, synonyms, active, config, metadata) FROM '$1'" >/dev/null
}

jobs_opt=()
[ -z "$JOBS" ] || jobs_opt=(--jobs "$JOBS")
# the optimized peer: its own default is --jobs = the machine's CPUs
peer_jobs=()
[ -z "$JOBS" ] || peer_jobs=(--jobs "$JOBS")

declare -A result
for n in "${sizes[@]}"; do
	reps=$REPS ureps=$UREPS
	naive=${NAIVE:-1}
	if [ "$n" -ge 50000 ]; then
		reps=$REPS_BIG ureps=1
		naive=${NAIVE:-0}
	fi
	dir="$work/m$n"
	"$PY" "$PEERS/gen_models.py" "$n" "$dir" >/dev/null
	# gen_models.py lists a synonym twice in ~7% of its files, which
	# mreg refuses (mreg-model(5)); every program here reads the same
	# files, so the duplicates go before anything is timed
	"$PY" - "$dir" <<-'PY'
		import json, os, sys
		for d, _, files in os.walk(sys.argv[1]):
		    for f in files:
		        p = os.path.join(d, f)
		        with open(p, encoding="utf-8") as fh:
		            doc = json.load(fh)
		        syn = list(dict.fromkeys(doc.get("synonyms") or []))
		        if syn != (doc.get("synonyms") or []):
		            doc["synonyms"] = syn
		            with open(p, "w", encoding="utf-8") as fh:
		                fh.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
	PY

	# the floors' rows, prepared outside the timing: providers numbered
	# in name order (the order fresh_db + the INSERT below gives them)
	"$PY" - "$dir" "$work/models.tsv" "$work/providers.txt" <<-'PY'
		import json, os, sys
		root, out, provs = sys.argv[1:4]
		docs = []
		for d, _, files in os.walk(root):
		    for f in files:
		        if f.endswith(".json"):
		            with open(os.path.join(d, f), encoding="utf-8") as fh:
		                docs.append(json.load(fh))
		names = sorted({d["provider"] for d in docs})
		pid = {p: i + 1 for i, p in enumerate(names)}
		def esc(s):
		    return s.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
		def arr(xs):
		    return "{" + ",".join('"' + x.replace("\\", "\\\\").replace('"', '\\"') + '"' for x in xs) + "}"
		def col(v):
		    return "\\N" if v is None else esc(v)
		with open(out, "w", encoding="utf-8") as fh:
		    for d in docs:
		        row = [str(pid[d["provider"]]), d["name"], d["type"], d.get("version"),
		               d.get("display_name"), d.get("description"), arr(d.get("tags") or []),
		               arr(d.get("synonyms") or []), "t" if d.get("active", True) else "f",
		               json.dumps(d.get("config") or {}, ensure_ascii=False),
		               json.dumps(d.get("metadata") or {}, ensure_ascii=False)]
		        fh.write("\t".join(col(v) for v in row) + "\n")
		with open(provs, "w", encoding="utf-8") as fh:
		    fh.write("\n".join(names) + "\n")
	PY

	first=() rss=() opt1=() naive1=() fl_same=() fl_like=() fl_bare=() fl_peer=() sha=()
	re_m=() re_o=() walk=() rss2=() ch_m=() ch_o=()
	first_cpu=() opt1_cpu=() fl_same_cpu=() fl_like_cpu=() client_cpu=()
	for ((r = 0; r < reps; r++)); do
		# floors
		fresh_db perf_peers_floor
		PGDATABASE=perf_peers_floor psql -XAtq -v ON_ERROR_STOP=1 >/dev/null <<-SQL
			\\copy mreg.providers (name) FROM '$work/providers.txt'
			CREATE TABLE floor_like (LIKE mreg.models INCLUDING ALL);
			CREATE TABLE floor_bare AS SELECT provider_id, name, type, version,
			  display_name, description, tags, synonyms, active, config, metadata
			  FROM mreg.models WITH NO DATA;
		SQL
		checkpoint
		t=$(now) c=$(cpu_now); copy_rows "$work/models.tsv" mreg.models
		fl_same+=("$(since "$t")") fl_same_cpu+=("$(cpu_since "$c")")
		settle perf_peers_floor
		checkpoint
		t=$(now) c=$(cpu_now); copy_rows "$work/models.tsv" floor_like
		fl_like+=("$(since "$t")") fl_like_cpu+=("$(cpu_since "$c")")
		settle perf_peers_floor
		checkpoint
		t=$(now); copy_rows "$work/models.tsv" floor_bare; fl_bare+=("$(since "$t")")
		empty_db perf_peers_floor
		empty_db perf_peers_pfloor
		checkpoint
		out=$(PGDATABASE=perf_peers_pfloor CSV=$work/peer.csv PSQL=psql PY=$PY \
			"$PEERS/copy_floor.sh" "$dir" 2>/dev/null)
		out=${out#*copy_floor_seconds=}
		fl_peer+=("${out%% *}")
		empty_db perf_peers_pfloor
		sync
		t=$(now)
		find "$dir" -name '*.json' -print0 | xargs -0 sha256sum >/dev/null
		sha+=("$(since "$t")")

		# first imports
		fresh_db perf_peers_mreg
		checkpoint
		t=$(now) c=$(cpu_now)
		PGDATABASE=perf_peers_mreg /usr/bin/time -f '%M %U %S' -o "$work/rss" \
			"$MREG" import-dir --quiet "${jobs_opt[@]}" --source peers "$dir"
		first+=("$(since "$t")") first_cpu+=("$(cpu_since "$c")")
		read -r kb us ss < "$work/rss"
		rss+=("$kb") client_cpu+=("$(calc "$us + $ss")")
		settle perf_peers_mreg
		empty_db perf_peers_opt
		checkpoint
		t=$(now) c=$(cpu_now)
		PGDATABASE=perf_peers_opt "$PY" "$PEERS/peer_optimized.py" "" "$dir" "${peer_jobs[@]}" >/dev/null
		opt1+=("$(since "$t")") opt1_cpu+=("$(cpu_since "$c")")
		settle perf_peers_opt
		if [ "$naive" = 1 ]; then
			empty_db perf_peers_naive
			checkpoint
			t=$(now)
			PGDATABASE=perf_peers_naive "$PY" "$PEERS/peer_naive.py" "" "$dir" >/dev/null
			naive1+=("$(since "$t")")
			empty_db perf_peers_naive
		fi

		# unchanged re-imports: UREPS alternating triples per repetition
		# (they are short, and their ratio is the one noise moves most)
		for ((u = 0; u < ureps; u++)); do
			checkpoint
			t=$(now)
			PGDATABASE=perf_peers_mreg /usr/bin/time -f '%M' -o "$work/rss2" \
				"$MREG" import-dir --quiet "${jobs_opt[@]}" --source peers "$dir"
			re_m+=("$(since "$t")")
			rss2+=("$(cat "$work/rss2")")
			checkpoint
			t=$(now)
			PGDATABASE=perf_peers_opt "$PY" "$PEERS/peer_optimized.py" "" "$dir" "${peer_jobs[@]}" >/dev/null
			re_o+=("$(since "$t")")
			t=$(now)
			find "$dir" -type f -printf '%s %T@\n' >/dev/null
			walk+=("$(since "$t")")
		done

		# 1% rewritten: every 100th file, a different set each repetition
		find "$dir" -name "??????-*.json" -name "????$(printf '%02d' $((r + 1)))-*" -print0 |
			xargs -0 sed -i "s/\"version\": \"/\"version\": \"r$r-/"
		checkpoint
		t=$(now)
		PGDATABASE=perf_peers_mreg "$MREG" import-dir --quiet "${jobs_opt[@]}" --source peers "$dir"
		ch_m+=("$(since "$t")")
		settle perf_peers_mreg
		checkpoint
		t=$(now)
		PGDATABASE=perf_peers_opt "$PY" "$PEERS/peer_optimized.py" "" "$dir" "${peer_jobs[@]}" >/dev/null
		ch_o+=("$(since "$t")")
		settle perf_peers_opt
	done

	f=$(med "${first[@]}") o=$(med "${opt1[@]}")
	fs=$(med "${fl_same[@]}") fk=$(med "${fl_like[@]}") fb=$(med "${fl_bare[@]}")
	fp=$(med "${fl_peer[@]}") sh=$(med "${sha[@]}")
	rm_=$(med "${re_m[@]}") ro=$(med "${re_o[@]}") wk=$(med "${walk[@]}")
	cm=$(med "${ch_m[@]}") co=$(med "${ch_o[@]}")
	result[$n]=$f
	echo "N=$n, $reps repetition(s), medians ($MREG)"
	printf '  %-40s %9.3f s\n' "first import: mreg" "$f" \
		"first import: optimized peer" "$o"
	[ ${#naive1[@]} -eq 0 ] || printf '  %-40s %9.3f s\n' "first import: naive peer" "$(med "${naive1[@]}")"
	printf '  %-40s %9.3f s\n' "floor: \\copy into mreg.models as it is" "$fs" \
		"floor: \\copy into it without triggers" "$fk" \
		"floor: \\copy of the bare rows" "$fb" \
		"floor: peers' copy_floor.sh" "$fp" \
		"floor: sha256sum of the files" "$sh" \
		"unchanged: mreg" "$rm_" "unchanged: optimized peer" "$ro" \
		"unchanged: stat walk" "$wk" \
		"1% rewritten: mreg" "$cm" "1% rewritten: optimized peer" "$co"
	printf '  %-40s %9.1f MiB\n' "peak RSS, mreg first import" "$(calc "$(med "${rss[@]}") / 1024")" \
		"peak RSS, mreg unchanged re-import" "$(calc "$(med "${rss2[@]}") / 1024")"
	fc=$(med "${first_cpu[@]}") oc=$(med "${opt1_cpu[@]}") mc=$(med "${client_cpu[@]}")
	fsc=$(med "${fl_same_cpu[@]}") fkc=$(med "${fl_like_cpu[@]}")
	busy() { calc "100 * $1 / $2 / $cores"; }
	echo "  machine CPU over the first import ($cores cores; server and client)"
	printf '  %-40s %9.3f s  %3.0f%% of the cores\n' \
		"mreg (its own process: $(printf '%.3f' "$mc") s)" "$fc" "$(busy "$fc" "$f")" \
		"optimized peer" "$oc" "$(busy "$oc" "$o")" \
		"\\copy into mreg.models as it is" "$fsc" "$(busy "$fsc" "$fs")" \
		"\\copy into it without triggers" "$fkc" "$(busy "$fkc" "$fk")"
	# what the CPU work allows on these cores, every core busy throughout:
	# mreg's own work; the as-is floor's server work plus mreg's process
	# (a write path that cost the server nothing beyond that floor); the
	# floor alone (any client of this schema)
	echo "  peer / mreg at best, every core busy throughout"
	printf '  %-52s %6sx\n' \
		"with mreg's CPU work as measured" "$(ratio "$o" "($fc / $cores)")" \
		"with the floor's server work + mreg's process" "$(ratio "$o" "(($fsc + $mc) / $cores)")" \
		"with the floor's server work alone" "$(ratio "$o" "($fsc / $cores)")"
	echo "  ratios (goal in brackets)"
	printf '  %-52s %6sx\n' "first import, peer / mreg            [>= 1.3]" "$(ratio "$o" "$f")" \
		"first import, as-it-is floor / mreg  [> 1]" "$(ratio "$fs" "$f")" \
		"unchanged, peer / mreg               [>= 2.5]" "$(ratio "$ro" "$rm_")" \
		"unchanged, mreg / stat walk          [<= 1.5]" "$(ratio "$rm_" "$wk")" \
		"1% rewritten, peer / mreg            [>= 2]" "$(ratio "$co" "$cm")"
	rm -rf "$dir"
done
if [ ${#sizes[@]} -gt 1 ]; then
	echo "growth of the first import (time per file against N=${sizes[0]})"
	for n in "${sizes[@]}"; do
		printf '  N=%-8s %8.1f us/file  %5sx\n' "$n" "$(calc "${result[$n]} / $n * 1000000")" \
			"$(ratio "${result[$n]} / $n" "${result[${sizes[0]}]} / ${sizes[0]}")"
	done
fi
