#!/usr/bin/env bash
# bulk-update.sh - a 100,000-item NDJSON batch through 'mreg bulk-update',
# side by side with
#  - 'psql \copy' of the same lines into a table (the floor of shipping the
#    same bytes to the server: no validation, no update), and
#  - one hand-written psql transaction making the same changes: \copy into
#    a temp table and a single UPDATE ... FROM (the floor of the write
#    itself with this schema's indexes and its audit trigger, no checks),
#    rolled back.
#
#   test/pg-sandbox run test/perf/bulk-update.sh [ITEMS]
#
# Needs a running sandbox (PGHOST...) and a built mreg ($MREG, default
# build/mreg).  Prints wall time and peak RSS of each run and the ratio.
# Times are taken in this one run; compare ratios, not absolute numbers.
set -euo pipefail

N=${1:-100000}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MREG=${MREG:-$ROOT/build/mreg}
[ -x "$MREG" ] || { echo "bulk-update.sh: no mreg binary at $MREG" >&2; exit 1; }
[ -n "${PGHOST:-}" ] || { echo "bulk-update.sh: no sandbox (run under test/pg-sandbox run)" >&2; exit 1; }

export PGDATABASE="perf_bulk_$$"
WORK=$(mktemp -d)
cleanup() {
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS \"$PGDATABASE\" WITH (FORCE)" >/dev/null 2>&1 || true
	rm -rf "$WORK"
}
trap cleanup EXIT

psql -XAtq -d postgres -c "CREATE DATABASE \"$PGDATABASE\"" >/dev/null
"$MREG" migrate --quiet
psql -XAtq -v ON_ERROR_STOP=1 -v n="$N" <<'SQL'
INSERT INTO mreg.providers (name) VALUES ('perf');
INSERT INTO mreg.models (provider_id, name, type, tags, config)
SELECT p.id, 'm' || lpad(g::text, 6, '0'), 'llm', '{perf}',
       jsonb_build_object('n', g)
  FROM mreg.providers p, generate_series(1, :n) g WHERE p.name = 'perf';
CREATE TABLE public.copy_floor (line text);
VACUUM ANALYZE;
SQL

# every item changes its model: a description, a tag, a config merge
BATCH=$WORK/batch.ndjson
python3 - "$N" >"$BATCH" <<'PY'
import sys
n = int(sys.argv[1])
out = sys.stdout
for i in range(1, n + 1):
    out.write('{"model": "perf/m%06d", "set": {"description": "batch %d", '
              '"tags_add": ["bulk"], "config_merge": {"batch": 0.1, "n": null}}}\n'
              % (i, i))
PY

# run CMD...: prints "seconds max_rss_kib", exits with CMD's status
measure() {
	python3 - "$@" <<'PY'
import os, subprocess, sys, time
t0 = time.monotonic()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
dt = time.monotonic() - t0
print("%.3f %d" % (dt, ru.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
PY
}

read -r copy_s copy_rss < <(measure psql -XAtq -v ON_ERROR_STOP=1 -c \
	"\\copy public.copy_floor (line) FROM '$BATCH' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')")
rows=$(psql -XAtq -c "SELECT count(*) FROM public.copy_floor")
[ "$rows" -eq "$N" ] || { echo "bulk-update.sh: \\copy loaded $rows rows, not $N" >&2; exit 1; }

read -r upd_s upd_rss < <(measure psql -XAtq -v ON_ERROR_STOP=1 \
	-c "BEGIN" \
	-c "CREATE TEMP TABLE f (line jsonb)" \
	-c "\\copy f (line) FROM '$BATCH' WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')" \
	-c "UPDATE mreg.models m SET description = f.line -> 'set' ->> 'description',
	           tags = m.tags || '{bulk}', config = (m.config || '{\"batch\": 0.1}') - 'n',
	           updated_at = now()
	      FROM f, mreg.providers p
	     WHERE p.name = 'perf' AND m.provider_id = p.id
	       AND m.name = substr(f.line ->> 'model', 6)" \
	-c "ROLLBACK")
# the rolled-back UPDATE left a dead copy of every row (and its index
# entries): clear them so that mreg starts from the table the floor had
psql -XAtq -c "VACUUM ANALYZE mreg.models" >/dev/null

read -r bulk_s bulk_rss < <(PGOPTIONS="${PERF_PGOPTIONS:-}" measure "$MREG" bulk-update "$BATCH")
changed=$(psql -XAtq -c "SELECT count(*) FROM mreg.models WHERE description LIKE 'batch %' AND 'bulk' = ANY (tags)")
audited=$(psql -XAtq -c "SELECT count(*) FROM mreg.audit_log WHERE action = 'model.update'")
[ "$changed" -eq "$N" ] && [ "$audited" -eq "$N" ] ||
	{ echo "bulk-update.sh: $changed models changed, $audited audit rows; expected $N" >&2; exit 1; }

# the same batch again: everything matches, nothing changes
read -r again_s again_rss < <(measure "$MREG" bulk-update "$BATCH")

size=$(wc -c <"$BATCH")
printf '%-34s %9s %12s\n' "run ($N items, $((size / 1024)) KiB)" "seconds" "peak RSS"
printf '%-34s %9.3f %9d KiB\n' "psql \\copy into a table (floor)" "$copy_s" "$copy_rss"
printf '%-34s %9.3f %9d KiB\n' "psql \\copy + one UPDATE (floor)" "$upd_s" "$upd_rss"
printf '%-34s %9.3f %9d KiB\n' "mreg bulk-update (all change)" "$bulk_s" "$bulk_rss"
printf '%-34s %9.3f %9d KiB\n' "mreg bulk-update (none change)" "$again_s" "$again_rss"
python3 - "$copy_s" "$upd_s" "$bulk_s" "$again_s" <<'PY'
import sys
c, u, b, a = map(float, sys.argv[1:])
print('ratio bulk-update / \\copy:          %5.1fx (all change), %5.1fx (none change)' % (b / c, a / c))
print('ratio bulk-update / \\copy+UPDATE:   %5.1fx (all change)' % (b / u))
PY
