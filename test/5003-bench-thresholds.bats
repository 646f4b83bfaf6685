#!/usr/bin/env bats
# mreg bench for CI: --threshold, --latency-log, stddev, the JSON contract

bats_require_minimum_version 1.5.0
load helpers

setup_file() {
	db_create_migrated
	# bench data for every test; the runs below leave it (no --populate)
	"$MREG" bench --populate 300 --keep --transactions 1 >/dev/null
}
teardown_file() {
	"$MREG" bench --cleanup >/dev/null 2>&1 || true
	db_drop
}

valid() { # valid FILE: the report matches man/schema/bench.schema.json
	"$MREG_SOURCE_ROOT/test/json-valid" bench "$1"
}

# every set-default request fails, deterministically: the session is read
# only (the registry reads before the run still work)
read_only() {
	PGOPTIONS="-c default_transaction_read_only=on" "$@"
}

LINE_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{6}Z [0-9]+ [a-z-]+ [0-9]+\.[0-9]{3} [a-z_]+ [0-9]+\.[0-9]{3}$'

@test "thresholds that hold: exit 0, each one reported as pass with its value" {
	run --separate-stderr "$MREG" bench --transactions 200 --clients 2 \
		--threshold 'errors==0' --threshold 'max<3600s' \
		--threshold 'errors<0.1%' --threshold 'tps>0' --threshold 'stddev>=0us'
	assert_success
	[ -z "$stderr" ]
	assert_line "thresholds:    5 of 5 met"
	assert_line --regexp '^  pass  errors==0 +errors 0$'
	assert_line --regexp '^  pass  max<3600s +max [0-9]+\.[0-9]{6} s$'
	assert_line --regexp '^  pass  errors<0\.1% +errors 0\.000%$'
	assert_line --regexp '^  pass  tps>0 +tps [0-9]+\.[0-9]$'
	assert_line --regexp '^  pass  stddev>=0us +stddev [0-9]+\.[0-9] us$'
	refute_line --partial FAIL
}

@test "an impossible threshold fails: exit 6, FAIL in the report, the reason on stderr" {
	run --separate-stderr "$MREG" bench --transactions 200 \
		--threshold 'errors==0' --threshold 'p99<1us' --threshold 'p50 < 0.001 us'
	assert_failure 6
	assert_line "thresholds:    1 of 3 met"
	assert_line --regexp '^  pass  errors==0 +errors 0$'
	assert_line --regexp '^  FAIL  p99<1us +p99 [0-9]+\.[0-9] us$'
	assert_line --regexp '^  FAIL  p50<0\.001us +p50 [0-9]+\.[0-9] us$'
	[ "$stderr" = "mreg bench: 2 of 3 thresholds not met: p99<1us, p50<0.001us" ]
}

@test "thresholds in JSON: expr, metric, op, value, limit, ok; the report valid" {
	out="$BATS_TEST_TMPDIR/out.json"
	rc=0
	"$MREG" bench -o json --transactions 200 --clients 2 --threshold 'p99<1us' \
		--threshold 'errors==0' --threshold 'errors<0.1%' --threshold 'mean<1h' \
		>"$out" 2>/dev/null || rc=$?
	[ "$rc" -eq 2 ] # 1h is not a unit: a usage error
	rc=0
	"$MREG" bench -o json --transactions 200 --clients 2 --threshold 'p99<1us' \
		--threshold 'errors==0' --threshold 'errors<0.1%' --threshold 'max<=3600s' \
		>"$out" 2>/dev/null || rc=$?
	[ "$rc" -eq 6 ]
	valid "$out"
	jq -e '
		.command == "bench" and .ok == false and .exit_code == 6 and
		.requests == 200 and .failed == 0 and
		(.thresholds | length) == 4 and
		.thresholds[0] == {"expr": "p99<1us", "metric": "p99", "op": "<",
		                   "value": .latency_s.p99, "limit": 0.000001, "ok": false} and
		.thresholds[0].value > 0.000001 and
		.thresholds[1] == {"expr": "errors==0", "metric": "errors", "op": "==",
		                   "value": 0, "limit": 0, "ok": true} and
		.thresholds[2] == {"expr": "errors<0.1%", "metric": "errors_pct", "op": "<",
		                   "value": 0, "limit": 0.1, "ok": true} and
		.thresholds[3] == {"expr": "max<=3600s", "metric": "max", "op": "<=",
		                   "value": .latency_s.max, "limit": 3600, "ok": true}' "$out"
}

@test "malformed thresholds are usage errors that say what was expected" {
	# checked before anything connects
	for bad in 'p99<5' 'p99<5min' 'latency<5ms' 'p99=5ms' 'p99' 'p101<1ms' \
		'errors<0.1' 'errors<101%' 'tps>1k' 'p99<-1ms' ''; do
		run --separate-stderr env PGHOST=/nonexistent "$MREG" bench -t 10 --threshold "$bad"
		assert_failure 2
		[[ $stderr == "mreg bench: invalid --threshold '$bad': "*"(expected METRIC OP VALUE, e.g. p99<5ms, errors<0.1%, tps>1000)"* ]]
		[[ $stderr == *"Try 'mreg bench --help'"* ]]
	done
	run --separate-stderr "$MREG" bench -t 10 --threshold 'p99<5'
	[[ $stderr == *"a latency needs a unit, us, ms or s (e.g. p99<5ms)"* ]]
	run --separate-stderr "$MREG" bench -t 10 --threshold 'errors<0.1'
	[[ $stderr == *"errors takes a whole count or a percentage (e.g. errors==0, errors<0.1%)"* ]]
	run --separate-stderr "$MREG" bench -t 10 --threshold 'latency<1ms'
	[[ $stderr == *"unknown metric 'latency'"* ]]
	run --separate-stderr "$MREG" bench --cleanup --threshold 'p99<1s'
	assert_failure 2
}

@test "failed requests: exit 1 unless a threshold on errors allows them" {
	# all 50 fail: without thresholds exit 1
	run --separate-stderr read_only "$MREG" bench -w set-default -t 50
	assert_failure 1
	assert_line "errors:        50"
	[[ $stderr == *"50 of 50 requests failed"* ]]
	# a threshold on errors decides instead: here it allows them
	run --separate-stderr read_only "$MREG" bench -w set-default -t 50 --threshold 'errors<=100%'
	assert_success
	assert_line --regexp '^  pass  errors<=100% +errors 100\.000%$'
	[ "$stderr" = "mreg bench: warning: 50 of 50 requests failed" ]
	run --separate-stderr read_only "$MREG" bench -w set-default -t 50 --threshold 'errors<50'
	assert_failure 6
	# a latency threshold has no value without a successful request: it fails
	out="$BATS_TEST_TMPDIR/out.json"
	rc=0
	read_only "$MREG" bench -w set-default -t 50 -o json --threshold 'p99<1s' \
		>"$out" 2>/dev/null || rc=$?
	[ "$rc" -eq 6 ]
	valid "$out"
	jq -e '.ok == false and .exit_code == 6 and .requests == 50 and .succeeded == 0 and
		.failed == 50 and .errors.by_kind.server == 50 and .latency_s == null and
		.thresholds == [{"expr": "p99<1s", "metric": "p99", "op": "<", "value": null,
		                 "limit": 1, "ok": false}]' "$out"
	rc=0
	read_only "$MREG" bench -w set-default -t 50 -o json >"$out" 2>/dev/null || rc=$?
	[ "$rc" -eq 1 ]
	valid "$out"
	jq -e '.ok == false and .exit_code == 1 and .thresholds == []' "$out"
}

@test "--latency-log: exactly one line per request, in the documented format" {
	log="$BATS_TEST_TMPDIR/lat.log"
	out="$BATS_TEST_TMPDIR/out.json"
	"$MREG" bench -o json -w mixed --transactions 500 --clients 3 --threads 2 \
		--warmup 100ms --latency-log "$log" >"$out"
	valid "$out"
	run wc -l <"$log"
	assert_output 500
	[ "$(grep -Ecv "$LINE_RE" "$log")" -eq 0 ] || { grep -Ev "$LINE_RE" "$log" | head -3; false; }
	# the columns: time client workload latency_us status lag_us
	[ "$(awk '$2 < 0 || $2 > 2' "$log" | wc -l)" -eq 0 ]
	[ "$(awk '$5 != "ok"' "$log" | wc -l)" -eq 0 ]
	jq -e '.latency_log.lines == 500 and .latency_log.path == $p and .requests == 500' \
		--arg p "$log" "$out"
	# per workload, the same counts as the report
	for w in get-default list set-default; do
		want=$(jq -r --arg w "$w" '.workloads[$w].requests' "$out")
		got=$(awk -v w="$w" '$3 == w' "$log" | wc -l)
		[ "$got" -eq "$want" ] || { echo "$w: $got lines, $want requests"; false; }
	done
	# times within the measured part (ISO strings of one width sort as times)
	first=$(cut -d' ' -f1 "$log" | sort | head -1)
	last=$(cut -d' ' -f1 "$log" | sort | tail -1)
	start=$(jq -r .started_at "$out")
	end=$(jq -r .finished_at "$out")
	[[ ! $first < $start ]]
	[[ ! $last > $end ]]
	# the slowest line is the report's max (exact: both in nanoseconds)
	max_us=$(sort -k4,4 -g "$log" | tail -1 | cut -d' ' -f4)
	jq -e --argjson m "$max_us" '((.latency_s.max * 1e6) - $m) | fabs < 0.002' "$out"
}

@test "--latency-log: failed requests are lines with their error kind" {
	log="$BATS_TEST_TMPDIR/lat.log"
	run --separate-stderr read_only "$MREG" bench -w set-default -t 40 -c 2 \
		--latency-log "$log" --threshold 'errors<=100%'
	assert_success
	assert_line 'latency log:   40 lines in "'"$log"'"'
	[ "$(grep -Ec "$LINE_RE" "$log")" -eq 40 ]
	[ "$(awk '$3 == "set-default" && $5 == "server"' "$log" | wc -l)" -eq 40 ]
}

@test "--latency-log with --rate and --connect-per-request: still one line each" {
	log="$BATS_TEST_TMPDIR/lat.log"
	out="$BATS_TEST_TMPDIR/out.json"
	"$MREG" bench -o json --rate 2000 --transactions 100 --clients 2 \
		--latency-log "$log" >"$out"
	valid "$out"
	[ "$(grep -Ec "$LINE_RE" "$log")" -eq 100 ]
	jq -e '.schedule_lag_s.stddev >= 0 and .rate == 2000' "$out"
	"$MREG" bench -o json --connect-per-request --transactions 30 \
		--latency-log "$log" >"$out"
	valid "$out"
	[ "$(grep -Ec "$LINE_RE" "$log")" -eq 30 ]
	jq -e '.pool == null and .connections_opened == 30' "$out"
}

@test "Ctrl-C: the log holds every recorded request, thresholds still judge" {
	log="$BATS_TEST_TMPDIR/lat.log"
	bench_interrupted --duration 300s --clients 2 -o json --latency-log "$log" \
		--threshold 'errors==0' --threshold 'p99<1us'
	[ "$status" -eq 6 ]
	out="$BATS_TEST_TMPDIR/out"
	valid "$out"
	n=$(jq -r .requests "$out")
	[ "$n" -gt 0 ]
	[ "$(grep -Ec "$LINE_RE" "$log")" -eq "$n" ]
	jq -e '.interrupted == true and .exit_code == 6 and .latency_log.lines == .requests and
		[.thresholds[].ok] == [true, false]' "$out"
}

@test "--latency-log: a file that cannot be opened or written is an error" {
	run --separate-stderr "$MREG" bench -t 10 --latency-log /nonexistent/dir/lat.log
	assert_failure 1
	[ "$stderr" = 'mreg bench: could not open latency log "/nonexistent/dir/lat.log": No such file or directory' ]
	[ -z "$output" ]
	[ -w /dev/full ] || skip "no /dev/full"
	out="$BATS_TEST_TMPDIR/out.json"
	rc=0
	"$MREG" bench -o json -t 100 --latency-log /dev/full --threshold 'errors==0' \
		>"$out" 2>"$BATS_TEST_TMPDIR/err" || rc=$?
	[ "$rc" -eq 1 ]
	grep -qx 'mreg bench: could not write latency log "/dev/full": No space left on device' \
		"$BATS_TEST_TMPDIR/err"
	valid "$out"
	jq -e '.ok == false and .exit_code == 1 and .latency_log.lines == 0 and
		.thresholds[0].ok == true' "$out"
}

@test "standard deviation in the text and JSON reports" {
	run --separate-stderr "$MREG" bench -t 100 -w mixed
	assert_success
	assert_line --regexp '^  stddev( +[0-9]+\.[0-9]{3}){4}$'
	out="$BATS_TEST_TMPDIR/out.json"
	"$MREG" bench -o json -t 100 >"$out"
	valid "$out"
	jq -e '.latency_s.stddev >= 0 and
		.latency_s.stddev <= .latency_s.max - .latency_s.min and
		.workloads["get-default"].latency_s.stddev == .latency_s.stddev' "$out"
}

@test "the JSON report follows the contract: seconds, counts, timestamps" {
	out="$BATS_TEST_TMPDIR/out.json"
	"$MREG" bench --format json -t 150 -c 3 --warmup 50ms >"$out"
	valid "$out"
	jq -e '
		.command == "bench" and .ok == true and .exit_code == 0 and
		.requests == 150 and .succeeded == 150 and .failed == 0 and
		.warmup_s == 0.05 and .duration_s > 0 and
		(.started_at | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{6}Z$")) and
		.started_at <= .finished_at and
		.latency_s.max < 60 and .pool.wait_total_s >= 0 and
		.latency_log == null and .thresholds == []' "$out"
	# the schema catches a drift
	jq '.latency_ms = .latency_s' "$out" >"$out.bad"
	run "$MREG_SOURCE_ROOT/test/json-valid" bench "$out.bad"
	assert_failure 1
}

@test "-o/--format: text (table still accepted) or json" {
	run --separate-stderr "$MREG" bench -t 5 --format text
	assert_success
	assert_line --partial "transactions:  5 ("
	run --separate-stderr "$MREG" bench -t 5 --format table
	assert_success
	assert_line --partial "transactions:  5 ("
	run --separate-stderr "$MREG" bench -t 5 -o json
	assert_success
	echo "$output" | jq -e '.requests == 5'
	run --separate-stderr "$MREG" bench -t 5 -o csv
	assert_failure 2
	[[ $stderr == *"--format must be text or json, not 'csv'"* ]]
}
