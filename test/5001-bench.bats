#!/usr/bin/env bats
# mreg bench: workloads, report, populate/cleanup, failures

bats_require_minimum_version 1.5.0
load helpers

setup_file() { db_create_migrated; }
teardown_file() { db_drop; }

teardown() {
	# leave no bench data behind for the next test
	"$MREG" bench --cleanup >/dev/null 2>&1 || true
	q "DELETE FROM mreg.model_defaults d USING mreg.models m
	    WHERE m.id = d.model_id AND NOT m.metadata @> '{\"mreg_bench\": true}'" >/dev/null 2>&1 || true
	q "DELETE FROM mreg.models WHERE NOT metadata @> '{\"mreg_bench\": true}'" >/dev/null 2>&1 || true
}

# bench_json ARGS...: run mreg bench with --format json, stdout in $output
bench_json() {
	run --separate-stderr "$MREG" bench --format json "$@"
}

# a real (non-bench) model that is the default of type llm
add_real_model() {
	q "INSERT INTO mreg.providers (name) VALUES ('acme') ON CONFLICT DO NOTHING" >/dev/null
	q "INSERT INTO mreg.models (provider_id, name, type)
	   SELECT id, 'real-llm', 'llm' FROM mreg.providers WHERE name = 'acme'" >/dev/null
	q "INSERT INTO mreg.model_defaults (type, model_id)
	   SELECT 'llm', id FROM mreg.models WHERE name = 'real-llm'" >/dev/null
}

@test "get-default: a fixed transaction count gives a complete JSON report" {
	bench_json --workload get-default --populate 500 --transactions 300 --clients 3
	assert_success
	echo "$output" | "$MREG_SOURCE_ROOT/test/json-valid" bench
	echo "$output" | jq -e '
		.workload == "get-default" and .clients == 3 and .threads >= 1 and
		.requests == 300 and .succeeded == 300 and .failed == 0 and .tps > 0 and
		.duration_s > 0 and .populated == 500 and .interrupted == false and
		.protocol == "prepared" and .pool_size == 3 and
		.latency_s.min > 0 and
		.latency_s.min <= .latency_s.p50 and
		.latency_s.p50 <= .latency_s.p90 and
		.latency_s.p90 <= .latency_s.p95 and
		.latency_s.p95 <= .latency_s.p99 and
		.latency_s.p99 <= ."latency_s"."p99.9" and
		."latency_s"."p99.9" <= .latency_s.max and
		.latency_s.mean >= .latency_s.min and
		.latency_s.mean <= .latency_s.max and
		.workloads["get-default"].succeeded == 300 and
		.pool.acquires == 300 and .pool.timeouts == 0 and
		.schedule_lag_s == null'
}

@test "get-default: the run's SQL sees the populated defaults" {
	"$MREG" bench --populate 200 --keep --transactions 1 --format json >/dev/null
	run q "SELECT count(*) FROM mreg.model_defaults d JOIN mreg.models m ON m.id = d.model_id
	       WHERE m.metadata @> '{\"mreg_bench\": true}'"
	assert_output 6
	run q "SELECT count(*) FROM mreg.models"
	assert_output 200
}

@test "populate is set-based, audited, and cleaned up after the run" {
	before=$(q "SELECT coalesce(max(id), 0) FROM mreg.audit_log")
	bench_json --populate 1000 --transactions 50 --actor bench-test
	assert_success
	run q "SELECT count(*) FROM mreg.models"
	assert_output 0
	run q "SELECT count(*) FROM mreg.providers WHERE name LIKE 'mreg-bench-%'"
	assert_output 0
	run q "SELECT action || '=' || count(*) || '=' || min(actor) || '=' || max(actor)
	       FROM mreg.audit_log WHERE id > $before GROUP BY action ORDER BY action"
	assert_output "default.clear=6=bench-test=bench-test
default.set=6=bench-test=bench-test
model.create=1000=bench-test=bench-test
model.delete=1000=bench-test=bench-test
provider.create=5=bench-test=bench-test
provider.delete=5=bench-test=bench-test"
	run q "SELECT count(*) FROM mreg.audit_log WHERE id > $before AND action = 'model.create'
	       AND resource ~ '^models/mreg-bench-p[0-9]{3}/[a-z-]+-[0-9]{7}$' AND model_id IS NOT NULL"
	assert_output 1000
}

@test "--keep leaves the synthetic models; --cleanup removes them" {
	bench_json --populate 300 --keep --transactions 10
	assert_success
	run q "SELECT count(*) FROM mreg.models WHERE metadata @> '{\"mreg_bench\": true}'"
	assert_output 300
	run "$MREG" bench --cleanup
	assert_success
	assert_output "removed 300 synthetic models"
	run q "SELECT count(*) FROM mreg.models"
	assert_output 0
	run "$MREG" bench --cleanup
	assert_output "removed 0 synthetic models"
}

@test "populate refuses a registry with real models, unless forced" {
	add_real_model
	run --separate-stderr "$MREG" bench --populate 100 --transactions 10
	assert_failure 3
	[[ $stderr == *"refusing to populate: the registry holds 1 models"* ]]
	[[ $stderr == *"--force-populate"* ]]
	run q "SELECT count(*) FROM mreg.models"
	assert_output 1

	bench_json --populate 100 --force-populate --transactions 100
	assert_success
	echo "$output" | jq -e '.succeeded == 100 and .failed == 0'
	# the real model and its default are untouched, the bench data gone
	run q "SELECT p.name || '/' || m.name FROM mreg.model_defaults d
	       JOIN mreg.models m ON m.id = d.model_id JOIN mreg.providers p ON p.id = m.provider_id
	       WHERE d.type = 'llm'"
	assert_output "acme/real-llm"
	run q "SELECT count(*) FROM mreg.models"
	assert_output 1
}

@test "populating again replaces the earlier bench data" {
	"$MREG" bench --populate 400 --keep --transactions 1 >/dev/null
	"$MREG" bench --populate 150 --keep --transactions 1 >/dev/null
	run q "SELECT count(*) FROM mreg.models"
	assert_output 150
}

@test "without defaults get-default is refused before the run" {
	run --separate-stderr "$MREG" bench --transactions 10
	assert_failure 3
	[[ $stderr == *"cannot run get-default: no type has a default model"* ]]
	[[ $stderr == *"--populate"* ]]
}

@test "--rate schedules requests and reports schedule lag" {
	bench_json --populate 100 --rate 400 --transactions 200 --clients 2
	assert_success
	# exactly the requests asked for; an open loop never starts one before
	# its scheduled time, so 200 at 400/s over 2 clients take at least 99 x 5 ms
	echo "$output" | jq -e '
		.rate == 400 and .succeeded == 200 and .duration_s >= 0.49 and
		.schedule_lag_s.p50 >= 0 and
		.schedule_lag_s.max <= .latency_s.max'
}

@test "--connect-per-request opens one connection per request" {
	bench_json --populate 100 --connect-per-request --transactions 40 --clients 2
	assert_success
	echo "$output" | jq -e '
		.connect_per_request == true and .protocol == "extended" and
		.succeeded == 40 and .connections_opened == 40 and .pool == null'
}

@test "--protocol extended runs and says so" {
	bench_json --populate 100 --protocol extended --transactions 100 --clients 4 --threads 2
	assert_success
	echo "$output" | jq -e '.protocol == "extended" and .succeeded == 100 and .threads == 2'
}

@test "more clients than threads: every client's requests are counted" {
	bench_json --populate 100 --transactions 500 --clients 8 --threads 2
	assert_success
	echo "$output" | jq -e '.clients == 8 and .threads == 2 and .succeeded == 500 and .pool.acquires == 500'
}

@test "a pool smaller than the clients serves every request and counts its waits" {
	# two threads, so that one can wait while the other's request holds
	# the only connection (one thread never waits on itself).  Whether a
	# wait happens depends on the scheduler; that waits are counted is
	# checked deterministically in test-pool and in the starved-pool test
	bench_json --populate 100 --transactions 400 --clients 6 --threads 2 --pool-size 1
	assert_success
	echo "$output" | jq -e '.pool_size == 1 and .succeeded == 400 and
		.pool.acquires == 400 and .pool.timeouts == 0 and
		(.pool.waits == 0 or .pool.wait_total_s > 0)'
}

@test "a starved pool: timeouts are counted as pool_timeout errors, exit 1" {
	"$MREG" bench --populate 100 --keep --transactions 1 >/dev/null
	err="$BATS_TEST_TMPDIR/err"
	"$MREG" bench --clients 4 --threads 2 --pool-size 1 --pool-timeout 1ms \
		--duration 300s --progress 100ms --format json \
		>"$BATS_TEST_TMPDIR/out" 2>"$err" 3>&- &
	pid=$!
	wait_for "a progress line with work done" \
		"grep -Eq '^progress: .*, [1-9][0-9]* transactions' '$err'"
	# a table lock makes the next request hold the pool's one connection
	# until this test lets it go, so the other thread's clients time out
	psql -XAtq -c "SET application_name = 'starve-x'" -c "BEGIN" \
		-c "LOCK mreg.model_defaults IN ACCESS EXCLUSIVE MODE" \
		-c "SELECT pg_sleep(600)" >/dev/null 2>&1 3>&- &
	holder=$!
	wait_for "a bench request blocked behind the lock" \
		"[ \"\$(q \"SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'mreg bench' AND wait_event_type = 'Lock'\")\" = 1 ]"
	# errors from now on (a loaded machine may time out a 1 ms wait anyway)
	seen=$(wc -l <"$err")
	wait_for "a progress line with errors while the connection is held" \
		"tail -n +$((seen + 1)) '$err' | grep -Eq '^progress: .*, [1-9][0-9]* errors'"
	kill -INT "$pid"
	end_session starve-x "$holder"
	rc=0
	wait "$pid" || rc=$?
	assert_equal "$rc" 1
	jq -e '
		.interrupted == true and .succeeded > 0 and
		.errors.by_kind.pool_timeout > 0 and .pool.waits >= .pool.timeouts and
		.errors.by_kind.pool_timeout == .pool.timeouts and
		.failed == .errors.by_kind.pool_timeout and
		(.errors.first.pool_timeout | test("timed out"))' "$BATS_TEST_TMPDIR/out"
	grep -q "requests failed" "$err"
}

@test "a mixed workload reports each workload and the whole" {
	bench_json --populate 300 --workload mixed --transactions 400 --clients 4
	assert_success
	echo "$output" | jq -e '
		.workload == "mixed" and
		.mix == {"get-default": 80, "list": 15, "set-default": 5} and
		.succeeded == 400 and .failed == 0 and
		([.workloads[].succeeded] | add) == 400 and
		.workloads["get-default"].succeeded > .workloads["list"].succeeded and
		.workloads["list"].latency_s.p50 > 0'
	bench_json --populate 300 --mix show=1,search=1 --transactions 100
	assert_success
	echo "$output" | jq -e '.mix == {"show": 1, "search": 1} and
		(.workloads | keys) == ["search", "show"] and
		.workloads.show.succeeded + .workloads.search.succeeded == 100'
}

@test "list, show and search: fixed counts, complete reports" {
	"$MREG" bench --populate 500 --keep --transactions 1 >/dev/null
	for w in list show search; do
		bench_json --workload "$w" --transactions 60 --clients 2
		assert_success
		echo "$output" | jq -e --arg w "$w" '
			.workload == $w and .succeeded == 60 and .failed == 0 and
			.workloads[$w].succeeded == 60 and .latency_s.p99 >= .latency_s.p50'
	done
}

@test "--type restricts get-default and list to one type" {
	"$MREG" bench --populate 300 --keep --transactions 1 >/dev/null
	bench_json --workload get-default --type reranker --transactions 50
	assert_success
	echo "$output" | jq -e '.succeeded == 50 and .failed == 0'
	bench_json --workload list --type vision --transactions 20
	assert_success
	echo "$output" | jq -e '.succeeded == 20 and .failed == 0'
	run --separate-stderr "$MREG" bench --type no-such-type --transactions 5
	assert_failure 3
	[[ $stderr == *'type "no-such-type" has no default model'* ]]
}

@test "set-default: audited like mreg set-default, defaults stay valid" {
	"$MREG" bench --populate 500 --keep --transactions 1 >/dev/null
	before=$(q "SELECT coalesce(max(id), 0) FROM mreg.audit_log")
	bench_json --workload set-default --transactions 200 --clients 4 --actor sd-bench
	assert_success
	echo "$output" | jq -e '.succeeded == 200 and .failed == 0'
	# one audit row per change (setting the current default again writes none)
	run q "SELECT count(*) > 0 AND count(*) <= 200 FROM mreg.audit_log
	       WHERE id > $before AND action = 'default.set' AND actor = 'sd-bench'
	         AND resource LIKE 'defaults/%' AND old ? 'model' AND new ? 'model'
	         AND details->>'command' = 'bench'"
	assert_output t
	run q "SELECT count(*) FROM mreg.audit_log WHERE id > $before AND action <> 'default.set'"
	assert_output 0
	# every default is an active model of its type
	run q "SELECT count(*) FROM mreg.model_defaults d JOIN mreg.models m ON m.id = d.model_id
	       WHERE m.active AND m.type = d.type"
	assert_output 6
}

@test "set-default: two clients making one model its type's first default both succeed" {
	"$MREG" bench --populate 6 --keep --transactions 1 >/dev/null
	# one candidate, so both clients always name the same model
	q "UPDATE mreg.models SET active = false
	    WHERE id NOT IN (SELECT model_id FROM mreg.model_defaults)" >/dev/null
	before=$(q "SELECT coalesce(max(id), 0) FROM mreg.audit_log")
	"$MREG" bench --workload set-default --clients 2 --duration 600s --format json \
		--progress 100ms >"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	bench=$!
	wait_for "set-default requests" "grep -Eq '$PROGRESS_WORK' '$BATS_TEST_TMPDIR/err'"
	# the default is deleted over and over: each time both clients race to
	# create it again, until 500 such first defaults are in
	printf 'DELETE FROM mreg.model_defaults;\n' >"$BATS_TEST_TMPDIR/delete.sql"
	pgbench -n -c 1 -t 100000000 -f "$BATS_TEST_TMPDIR/delete.sql" >/dev/null 2>&1 3>&- &
	deleter=$!
	wait_for "500 first defaults" "[ \"\$(q \"SELECT count(*) FROM mreg.audit_log
		WHERE id > $before AND action = 'default.set' AND old IS NULL\")\" -ge 500 ]"
	kill "$deleter"
	wait "$deleter" || true
	kill -INT "$bench"
	status=0
	wait "$bench" || status=$?
	# a unique index besides ON CONFLICT (type)'s arbiter made some of them
	# fail with a duplicate key (fixed by 0009)
	jq -c '{succeeded, failed, first_error: .errors.first}' "$BATS_TEST_TMPDIR/out"
	jq -e '.failed == 0 and .succeeded > 0' "$BATS_TEST_TMPDIR/out"
	[ "$status" -eq 0 ]
	run q "SELECT string_agg(c.relname, ' ') FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
	       WHERE i.indrelid = 'mreg.model_defaults'::regclass AND i.indisunique"
	assert_output model_defaults_pkey
}

@test "set-default never moves a real default" {
	add_real_model
	bench_json --populate 200 --force-populate --workload set-default --transactions 100
	assert_success
	run q "SELECT p.name || '/' || m.name FROM mreg.model_defaults d
	       JOIN mreg.models m ON m.id = d.model_id JOIN mreg.providers p ON p.id = m.provider_id
	       WHERE d.type = 'llm'"
	assert_output "acme/real-llm"
}

@test "set-default without bench data is refused" {
	add_real_model
	run --separate-stderr "$MREG" bench --workload set-default --transactions 10
	assert_failure 3
	[[ $stderr == *"cannot run set-default"* ]]
}

@test "--warmup runs first without recording" {
	bench_json --populate 100 --warmup 300ms --transactions 100
	assert_success
	echo "$output" | jq -e '.warmup_s == 0.3 and .succeeded == 100'
}

@test "--progress prints interim lines to stderr" {
	"$MREG" bench --populate 100 --keep --transactions 1 >/dev/null
	bench_interrupted --duration 300s
	[ "$status" -eq 0 ]
	grep -q "transactions:" "$BATS_TEST_TMPDIR/out"
	grep -q "p99.9" "$BATS_TEST_TMPDIR/out"
}

@test "Ctrl-C prints the report so far" {
	"$MREG" bench --populate 100 --keep --transactions 1 >/dev/null
	bench_interrupted --duration 300s --clients 2 --format json
	[ "$status" -eq 0 ]
	jq -e '.interrupted == true and .succeeded > 0 and .duration_s < 300' "$BATS_TEST_TMPDIR/out"
	grep -q interrupted "$BATS_TEST_TMPDIR/err"
}

@test "usage errors exit 2" {
	run "$MREG" bench --threads 4 --clients 2
	assert_failure 2
	run "$MREG" bench --workload nope
	assert_failure 2
	assert_output --partial "unknown workload 'nope'"
	run "$MREG" bench --duration 1s --transactions 5
	assert_failure 2
	run "$MREG" bench --mix get-default=x
	assert_failure 2
	run "$MREG" bench --protocol simple
	assert_failure 2
	run "$MREG" bench --keep
	assert_failure 2
	run "$MREG" bench --cleanup --populate 5
	assert_failure 2
	run "$MREG" bench --rate 0
	assert_failure 2
	run "$MREG" bench extra
	assert_failure 2
}

@test "a dead server mid-run: errors counted by kind, report printed, exit 1" {
	bench_server_killed '"$MREG" bench --populate 200 --keep --transactions 1 >/dev/null' \
		--duration 300s --clients 4
	[ "$(cat "$BATS_TEST_TMPDIR/rc")" -eq 1 ]
	"$MREG_SOURCE_ROOT/test/json-valid" bench "$BATS_TEST_TMPDIR/out"
	jq -e '.ok == false and .exit_code == 1 and
		.succeeded > 0 and .failed > 0 and
		(.errors.by_kind.connect + .errors.by_kind.disconnect) == .failed and
		.interrupted == true' "$BATS_TEST_TMPDIR/out"
	grep -q "requests failed" "$BATS_TEST_TMPDIR/err"
}
