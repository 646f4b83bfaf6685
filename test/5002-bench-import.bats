#!/usr/bin/env bats
# mreg bench --workload import: import-dir's pipeline over generated trees

bats_require_minimum_version 1.5.0
load helpers

setup_file() { db_create_migrated; }
teardown_file() { db_drop; }

setup() {
	# the trees go here: it must be empty again after every run
	ORIG_TMPDIR=${TMPDIR:-/tmp}
	export TMPDIR="$BATS_TEST_TMPDIR/tmp"
	mkdir -p "$TMPDIR"
}

teardown() {
	"$MREG" bench --cleanup >/dev/null 2>&1 || true
	q "DELETE FROM mreg.model_defaults" >/dev/null 2>&1 || true
	q "DELETE FROM mreg.source_files" >/dev/null 2>&1 || true
	q "DELETE FROM mreg.models" >/dev/null 2>&1 || true
}

tmp_is_empty() {
	local left
	left=$(ls -A "$TMPDIR")
	[ -z "$left" ] || { echo "left in TMPDIR: $left" >&2; return 1; }
}

bench_rows() {
	q "SELECT (SELECT count(*) FROM mreg.models WHERE metadata @> '{\"mreg_bench\": true}')
	   || ' ' || (SELECT count(*) FROM mreg.source_files WHERE source LIKE 'mreg-bench-import/%')
	   || ' ' || (SELECT count(*) FROM mreg.providers WHERE name LIKE 'mreg-bench-%')"
}

@test "import: a fixed count gives a complete JSON report, and nothing is left" {
	before=$(q "SELECT coalesce(max(id), 0) FROM mreg.audit_log")
	run --separate-stderr "$MREG" bench --workload import -t 5 --import-files 50 \
		--format json --actor imp-test
	assert_success
	echo "$output" | "$MREG_SOURCE_ROOT/test/json-valid" bench
	echo "$output" | jq -e '
		.workload == "import" and .mix == {"import": 1} and .clients == 1 and
		.succeeded == 5 and .failed == 0 and .tps > 0 and
		.duration_s > 0 and .interrupted == false and .rate == null and
		.import.files == 50 and .import.change_pct == 1 and
		.import.files_per_request == 1 and .import.jobs >= 1 and
		.latency_s.min > 0 and
		.latency_s.min <= .latency_s.p50 and
		.latency_s.p50 <= .latency_s.p99 and
		.latency_s.p99 <= .latency_s.max and
		.latency_s.mean >= .latency_s.min and
		.workloads.import.succeeded == 5 and
		.workloads.import.failed == 0 and
		.pool.acquires == 6 and .pool.timeouts == 0'
	run bench_rows
	assert_output "0 0 0"
	tmp_is_empty
	# the initial import created 50 models, each request updated one
	run q "SELECT action || '=' || count(*) FROM mreg.audit_log
	       WHERE id > $before AND actor = 'imp-test' GROUP BY action ORDER BY action"
	assert_output "model.create=50
model.delete=50
model.update=5
provider.create=8
provider.delete=8"
}

@test "import: every client has its own source; each request updates exactly its share" {
	before=$(q "SELECT coalesce(max(id), 0) FROM mreg.audit_log")
	run --separate-stderr "$MREG" bench -w import -c 3 -t 9 --import-files 40 \
		--import-change 10 --keep --format json
	assert_success
	echo "$output" | jq -e '.clients == 3 and .threads == 3 and .succeeded == 9 and
		.failed == 0 and .import.files_per_request == 4'
	run q "SELECT count(*) FROM mreg.audit_log WHERE id > $before AND action = 'model.update'"
	assert_output 36
	run q "SELECT string_agg(n::text, ' ' ORDER BY source) FROM
	       (SELECT source, count(*) AS n FROM mreg.source_files
	         WHERE source ~ '^mreg-bench-import/[0-9]+/[0-2]$' GROUP BY source) s"
	assert_output "40 40 40"
	# realistic, marked files: providers per client, versions went up
	run q "SELECT count(*) FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id
	       WHERE p.name ~ '^mreg-bench-c00[0-2]-p[0-7]$' AND m.metadata @> '{\"mreg_bench\": true}'
	         AND m.name ~ '^[a-z]+-[a-z]+-[0-9]{6}$' AND m.description <> ''
	         AND cardinality(m.tags) = 3 AND m.config ? 'context_window'"
	assert_output 120
	run q "SELECT count(*) FROM mreg.models WHERE version <> '1.0'"
	assert_output 36
	tmp_is_empty
}

@test "import: --keep leaves the rows, --cleanup removes them" {
	run --separate-stderr "$MREG" bench -w import -t 2 --import-files 30 --keep --format json
	assert_success
	run bench_rows
	assert_output "30 30 8"
	tmp_is_empty
	run "$MREG" bench --cleanup
	assert_success
	assert_output "removed 30 synthetic models"
	run bench_rows
	assert_output "0 0 0"
}

@test "import: the table report says what was imported" {
	run --separate-stderr "$MREG" bench -w import -t 3 --import-files 20 --import-change 20 -j 2
	assert_success
	assert_line "import:        20 files per client, 4 rewritten per request (20%), 2 worker threads per import"
	assert_line --partial "transactions:  3 ("
	assert_line --regexp '^latency \(ms\) +import$'
}

@test "import: refuses a registry with real models unless forced" {
	q "INSERT INTO mreg.providers (name) VALUES ('acme') ON CONFLICT DO NOTHING" >/dev/null
	q "INSERT INTO mreg.models (provider_id, name, type)
	   SELECT id, 'real-llm', 'llm' FROM mreg.providers WHERE name = 'acme'" >/dev/null
	run --separate-stderr "$MREG" bench -w import -t 2 --import-files 10
	assert_failure 3
	[[ $stderr == *"refusing to run the import workload: the registry holds 1 models"* ]]
	[[ $stderr == *"--force-populate"* ]]
	run bench_rows
	assert_output "0 0 0"
	tmp_is_empty

	run --separate-stderr "$MREG" bench -w import -t 2 --import-files 10 \
		--force-populate --format json
	assert_success
	echo "$output" | jq -e '.succeeded == 2 and .failed == 0'
	run q "SELECT p.name || '/' || m.name FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id"
	assert_output "acme/real-llm"
	tmp_is_empty
}

@test "import: usage errors" {
	run --separate-stderr "$MREG" bench --mix get-default=1,import=1
	assert_failure 2
	[[ $stderr == *"import cannot be part of --mix"* ]]
	run --separate-stderr "$MREG" bench -w import --rate 10
	assert_failure 2
	[[ $stderr == *"--rate does not go with --workload import"* ]]
	run --separate-stderr "$MREG" bench -w import --connect-per-request
	assert_failure 2
	run --separate-stderr "$MREG" bench --import-files 10
	assert_failure 2
	[[ $stderr == *"go with --workload import"* ]]
	run "$MREG" bench -w import --import-change 0
	assert_failure 2
	run "$MREG" bench -w import --import-change 101
	assert_failure 2
	run "$MREG" bench -w import --import-files 0
	assert_failure 2
	run "$MREG" bench -w import --threads 257
	assert_failure 2
	tmp_is_empty
}

@test "import: a tree that cannot be written fails before the run" {
	export TMPDIR="$BATS_TEST_TMPDIR/no/such/dir"
	run --separate-stderr "$MREG" bench -w import -t 2 --import-files 10
	assert_failure 1
	[[ $stderr == *"could not create a directory in"* ]]
}

@test "import: --duration and --warmup" {
	# a duration promises a lower bound on the run, not a count of work
	run --separate-stderr "$MREG" bench -w import -T 1500ms --warmup 200ms \
		--import-files 100 --format json
	assert_success
	echo "$output" | jq -e '.failed == 0 and .warmup_s == 0.2 and
		.interrupted == false and .duration_s >= 1.4 and
		.workloads.import.succeeded == .succeeded'
	tmp_is_empty
}

@test "import: --progress, and Ctrl-C prints the report so far and cleans up" {
	bench_interrupted -w import -T 300s -c 2 --import-files 200 --format json
	[ "$status" -eq 0 ]
	jq -e '.interrupted == true and .succeeded > 0 and .failed == 0 and
		.duration_s < 300' "$BATS_TEST_TMPDIR/out"
	grep -q interrupted "$BATS_TEST_TMPDIR/err"
	run bench_rows
	assert_output "0 0 0"
	tmp_is_empty
}

@test "import: a dead server mid-run: errors counted by kind, trees removed, exit 1" {
	bench_server_killed : -w import -T 300s -c 2 --import-files 300
	[ "$(cat "$BATS_TEST_TMPDIR/rc")" -eq 1 ]
	jq -e '.succeeded > 0 and .failed > 0 and
		(.errors.by_kind.connect + .errors.by_kind.disconnect) == .failed and
		.workloads.import.failed == .failed and
		.interrupted == true' "$BATS_TEST_TMPDIR/out"
	grep -q "requests failed" "$BATS_TEST_TMPDIR/err"
	grep -q "the bench data is still there" "$BATS_TEST_TMPDIR/err"
	tmp_is_empty
}
