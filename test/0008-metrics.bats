#!/usr/bin/env bats
# 0008 --metrics-file: the node_exporter textfile of import-dir, bulk-update,
# migrate and bench.  Every file written is read by Debian's
# python3-prometheus-client parser and by a strict line-format check
# (test/metrics-check); values are read back through it.

load helpers
load import-helpers
load bulk-helpers
bats_require_minimum_version 1.5.0

CHECK="$MREG_SOURCE_ROOT/test/metrics-check"

setup_file() { db_create_migrated; }
teardown_file() { db_drop_second; db_drop; }

setup() {
	bulk_reset
	M="$BATS_TEST_TMPDIR/prom/mreg.prom"
	mkdir -p "${M%/*}"
	D="$BATS_TEST_TMPDIR/models"
	copy_samples "$D"
	NSAMPLES=$(find "$D" -name '*.json' | wc -l)
}

# metric NAME [LABEL=VALUE...]: the value in $M, after both checks
metric() {
	"$CHECK" "$M" "$@"
}

# The whole file passes both checks.
assert_metrics_file() {
	run "$CHECK" "$M"
	assert_success
}

# Nothing but the file in its directory: no temporary file left.
assert_alone() {
	run ls -A "${M%/*}"
	assert_output "${M##*/}"
}

@test "import-dir: counts, duration, exit code and last success; no temporary file left" {
	run --separate-stderr "$MREG" import-dir --quiet --metrics-file "$M" "$D"
	assert_success
	assert_metrics_file
	assert_alone
	src=$(cd "$D" && pwd -P)
	assert_equal "$(metric mreg_import_dir_files result=added command=import-dir source="$src")" "$NSAMPLES"
	assert_equal "$(metric mreg_import_dir_files result=failed)" 0
	assert_equal "$(metric mreg_import_dir_files_scanned)" "$NSAMPLES"
	assert_equal "$(metric mreg_import_dir_failures)" 0
	assert_equal "$(metric mreg_last_exit_code command=import-dir)" 0
	metric mreg_import_dir_duration_seconds >/dev/null
	assert_equal "$(metric mreg_last_success_timestamp_seconds)" "$(metric mreg_last_run_timestamp_seconds)"
	# every sample carries the command and the source
	run "$CHECK" "$M"
	[ -z "$(grep -vF 'command="import-dir"' <<<"$output")" ]
	[ -z "$(grep -vF "source=\"$src\"" <<<"$output")" ]
	# a second run: all unchanged
	"$MREG" import-dir --quiet --metrics-file "$M" "$D"
	assert_equal "$(metric mreg_import_dir_files result=unchanged)" "$NSAMPLES"
	assert_equal "$(metric mreg_import_dir_files result=added)" 0
	assert_alone
}

@test "import-dir with rejected files: exit 3 in the file, the failures counted, the last success kept" {
	"$MREG" import-dir --quiet --metrics-file "$M" "$D"
	ok_at=$(metric mreg_last_success_timestamp_seconds)
	printf '{"provider": "x", ' >"$D/broken.json"
	printf '{"provider": "x"}' >"$D/incomplete.json"
	run --separate-stderr "$MREG" import-dir --quiet --metrics-file "$M" "$D"
	assert_failure 3
	assert_metrics_file
	assert_equal "$(metric mreg_last_exit_code)" 3
	assert_equal "$(metric mreg_import_dir_files result=failed)" 2
	assert_equal "$(metric mreg_import_dir_failures)" 2
	assert_equal "$(metric mreg_last_success_timestamp_seconds)" "$ok_at"
	[ "$(metric mreg_last_run_timestamp_seconds)" != "$ok_at" ]
}

@test "import-dir against a dead database: the file says exit 1, no counts, no last success" {
	run --separate-stderr "$MREG" import-dir -d "host=127.0.0.1 port=1 connect_timeout=5" --metrics-file "$M" "$D"
	assert_failure 1
	[[ $stderr == *"mreg import-dir: "* ]]
	assert_metrics_file
	assert_equal "$(metric mreg_last_exit_code command=import-dir)" 1
	metric mreg_last_run_timestamp_seconds >/dev/null
	metric mreg_import_dir_duration_seconds >/dev/null
	run metric mreg_import_dir_files result=added
	assert_failure 3
	run metric mreg_last_success_timestamp_seconds
	assert_failure 3
	assert_alone
}

@test "the last success survives a failed run, and goes with the labels of its own job" {
	"$MREG" import-dir --quiet --metrics-file "$M" "$D"
	ok_at=$(metric mreg_last_success_timestamp_seconds)
	run "$MREG" import-dir -d "host=127.0.0.1 port=1 connect_timeout=5" --metrics-file "$M" "$D"
	assert_failure 1
	assert_metrics_file
	assert_equal "$(metric mreg_last_exit_code)" 1
	assert_equal "$(metric mreg_last_success_timestamp_seconds)" "$ok_at"
	# a job of another source in the same file does not inherit it
	run "$MREG" import-dir -d "host=127.0.0.1 port=1 connect_timeout=5" --source other --metrics-file "$M" "$D"
	assert_failure 1
	run metric mreg_last_success_timestamp_seconds
	assert_failure 3
}

@test "a metrics file that cannot be written: the error, exit 1, and the import stays done" {
	touch "$BATS_TEST_TMPDIR/plain"
	run --separate-stderr "$MREG" import-dir --quiet --metrics-file "$BATS_TEST_TMPDIR/plain/m.prom" "$D"
	assert_failure 1
	assert_equal "$stderr" "mreg import-dir: could not write metrics file \"$BATS_TEST_TMPDIR/plain/m.prom\": Not a directory"
	assert_equal "$(q "SELECT count(*) FROM mreg.source_files WHERE source = '$(cd "$D" && pwd -P)'")" "$NSAMPLES"
	run --separate-stderr "$MREG" import-dir --quiet --metrics-file "$BATS_TEST_TMPDIR/none/m.prom" "$D"
	assert_failure 1
	assert_equal "$stderr" "mreg import-dir: could not write metrics file \"$BATS_TEST_TMPDIR/none/m.prom\": No such file or directory"
	# PATH a directory: the rename fails, the temporary file goes
	mkdir "$M"
	run --separate-stderr "$MREG" import-dir --quiet --metrics-file "$M" "$D"
	assert_failure 1
	[[ $stderr == "mreg import-dir: could not write metrics file \"$M\": Is a directory" ]]
	run ls -A "${M%/*}"
	assert_output "${M##*/}"
	# a failed run keeps its own status
	printf '{' >"$D/broken.json"
	run "$MREG" import-dir --quiet --metrics-file "$M" "$D"
	assert_failure 3
}

@test "a usage error is no run: the file stays as it was" {
	"$MREG" import-dir --quiet --metrics-file "$M" "$D"
	cp "$M" "$BATS_TEST_TMPDIR/before"
	run "$MREG" import-dir --metrics-file "$M" --wait=soon "$D"
	assert_failure 2
	cmp "$M" "$BATS_TEST_TMPDIR/before"
	run "$MREG" import-dir --metrics-file "" "$D"
	assert_failure 2
	[[ $output == *"--metrics-file: empty path"* ]]
}

@test "a new file is mode 0644; an existing file keeps its mode" {
	"$MREG" import-dir --quiet --metrics-file "$M" "$D"
	assert_equal "$(stat -c %a "$M")" 644
	chmod 600 "$M"
	"$MREG" import-dir --quiet --metrics-file "$M" "$D"
	assert_equal "$(stat -c %a "$M")" 600
	assert_metrics_file
}

@test "bulk-update: items and models by outcome; a rejected batch says exit 3 and keeps the last success" {
	f="$BATS_TEST_TMPDIR/b.ndjson"
	printf '%s\n' '{"model": "acme/chat-1", "set": {"description": "one"}}' \
		'{"model": "acme/chat-2", "set": {"description": "two"}}' \
		'{"where": {"provider": "zeta"}, "set": {"active": true}}' >"$f"
	run "$MREG" bulk-update --metrics-file "$M" "$f"
	assert_success
	assert_metrics_file
	assert_equal "$(metric mreg_bulk_update_items command=bulk-update)" 3
	assert_equal "$(metric mreg_bulk_update_models result=changed)" 2
	assert_equal "$(metric mreg_bulk_update_models result=unchanged)" 2
	assert_equal "$(metric mreg_bulk_update_dry_run)" 0
	assert_equal "$(metric mreg_last_exit_code)" 0
	ok_at=$(metric mreg_last_success_timestamp_seconds)
	printf '%s\n' '{"model": "acme/no-such", "set": {"description": "x"}}' >"$f"
	run "$MREG" bulk-update --metrics-file "$M" "$f"
	assert_failure 3
	assert_metrics_file
	assert_equal "$(metric mreg_last_exit_code)" 3
	assert_equal "$(metric mreg_last_success_timestamp_seconds)" "$ok_at"
	run metric mreg_bulk_update_items
	assert_failure 3
}

@test "migrate: applied, pending and drifted; status too" {
	second=$(db_create_second)
	run env PGDATABASE="$second" "$MREG" migrate --quiet --metrics-file "$M"
	assert_success
	assert_metrics_file
	assert_equal "$(metric mreg_migrate_applied command=migrate)" 0
	assert_equal "$(metric mreg_migrate_pending)" 0
	psql -XAtq -d postgres -c "CREATE DATABASE \"${second}_c\"" >/dev/null
	run env PGDATABASE="${second}_c" "$MREG" migrate status --exit-code --metrics-file "$M"
	assert_failure 5
	assert_metrics_file
	n=$(ls "$MREG_SOURCE_ROOT"/sql/[0-9]*.sql | wc -l)
	assert_equal "$(metric mreg_migrate_pending)" "$n"
	assert_equal "$(metric mreg_last_exit_code)" 5
	run env PGDATABASE="${second}_c" "$MREG" migrate --quiet --metrics-file "$M"
	assert_success
	assert_equal "$(metric mreg_migrate_applied)" "$n"
	assert_equal "$(metric mreg_migrate_pending)" 0
	assert_equal "$(metric mreg_migrate_drifted)" 0
	metric mreg_migrate_duration_seconds >/dev/null
	psql -XAtq -d postgres -c "DROP DATABASE \"${second}_c\" WITH (FORCE)" >/dev/null
}

@test "bench --transactions N: exact counts, latency quantiles in seconds, tps" {
	second=$(db_create_second)
	run --separate-stderr env PGDATABASE="$second" "$MREG" bench --populate 50 --transactions 40 --clients 2 --metrics-file "$M"
	assert_success
	assert_metrics_file
	assert_equal "$(metric mreg_bench_transactions command=bench workload=get-default)" 40
	assert_equal "$(metric mreg_bench_errors)" 0
	assert_equal "$(metric mreg_bench_latency_seconds_count)" 40
	assert_equal "$(metric mreg_bench_clients)" 2
	for q in 0.5 0.9 0.95 0.99 0.999; do
		v=$(metric mreg_bench_latency_seconds quantile=$q)
		# seconds, not milliseconds: a get-default is well under a second
		awk -v v="$v" 'BEGIN { exit !(v > 0 && v < 1) }'
	done
	awk -v v="$(metric mreg_bench_transactions_per_second)" 'BEGIN { exit !(v > 0) }'
	grep -q '^# TYPE mreg_bench_latency_seconds summary$' "$M"
	assert_equal "$(metric mreg_last_exit_code)" 0
}

@test "bench that cannot run: the file says so" {
	second=$(db_create_second)
	run --separate-stderr env PGDATABASE="$second" "$MREG" bench --transactions 5 --metrics-file "$M"
	assert_failure 3
	assert_metrics_file
	assert_equal "$(metric mreg_last_exit_code command=bench)" 3
	run metric mreg_bench_transactions
	assert_failure 3
}

@test "--metrics-file is in --help of the four commands, and only there" {
	for cmd in import-dir bulk-update migrate bench; do
		"$MREG" "$cmd" --help | grep -q -- '--metrics-file PATH'
	done
	run "$MREG" list --metrics-file "$M"
	assert_failure 2
}
