#!/usr/bin/env bats
# 4001 migrate: apply, rerun, status, dry-run, drift, concurrency, failures

load helpers

setup() {
	db_create
	extra=$(mktemp -d)
}

teardown() {
	rm -rf "$extra"
	db_drop
}

# The migrations this build ships (sql/NNNN_name.sql), in order, and how
# many: the counts below follow them, whoever adds one.
shipped() {
	(cd "$MREG_SOURCE_ROOT/sql" && ls [0-9][0-9][0-9][0-9]_*.sql)
}
nshipped() {
	shipped | wc -l
}

@test "migrate from empty creates the registry schema in schema mreg" {
	run "$MREG" migrate
	assert_success
	assert_line --regexp '^applied 0001_initial\.sql \([0-9.]+ ms\)$'
	run q "SELECT string_agg(tablename, ' ' ORDER BY tablename) FROM pg_tables WHERE schemaname = 'mreg'"
	assert_output "artifacts audit_log model_defaults models providers schema_migrations source_files source_locks"
	run q "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
	assert_output 0
	run q "SELECT version, name, length(checksum), duration_ms > 0 FROM mreg.schema_migrations ORDER BY version"
	assert_output "$(for f in $(shipped); do echo "$((10#${f%%_*}))|$f|64|t"; done)"
	run q "SELECT action, resource, actor <> '' FROM mreg.audit_log ORDER BY id"
	assert_output "$(for f in $(shipped); do echo "migration.apply|migrations/$((10#${f%%_*}))|t"; done)"
}

@test "the recorded checksum is the SHA-256 of the shipped file" {
	"$MREG" migrate --quiet
	run q "SELECT checksum FROM mreg.schema_migrations WHERE version = 1"
	assert_output "$(sha256sum "$MREG_SOURCE_ROOT/sql/0001_initial.sql" | cut -d' ' -f1)"
}

@test "a rerun is a no-op" {
	"$MREG" migrate --quiet
	before=$(q "SELECT applied_at FROM mreg.schema_migrations")
	run --separate-stderr "$MREG" migrate
	assert_success
	assert_output "the database is up to date: nothing to apply"
	[ -z "$stderr" ]
	run q "SELECT applied_at FROM mreg.schema_migrations"
	assert_output "$before"
	run q "SELECT count(*) FROM mreg.audit_log"
	assert_output "$(nshipped)"
}

@test "status and --exit-code: pending on an empty database, clean after" {
	run "$MREG" migrate status --exit-code
	assert_failure 5
	assert_line --regexp '^0001 +0001_initial\.sql +pending'
	run q "SELECT count(*) FROM pg_namespace WHERE nspname = 'mreg'"
	assert_output 0   # status changes nothing
	"$MREG" migrate --quiet
	run "$MREG" migrate status --exit-code
	assert_success
	assert_line --regexp '^0001 +0001_initial\.sql +applied +[0-9a-f]{12} '
	run "$MREG" migrate status --format json
	assert_success
	run jq -r '.pending, .migrations[0].state, (.migrations[0].checksum | length)' <<<"$output"
	assert_output $'0\napplied\n64'
}

@test "--dry-run prints the pending SQL and changes nothing" {
	run --separate-stderr "$MREG" migrate --dry-run
	assert_success
	assert_line "-- 0001_initial.sql (pending, in one transaction)"
	assert_output --partial "CREATE TABLE mreg.models"
	n=$(nshipped)
	[[ $stderr == *"$n migration$([ "$n" = 1 ] || echo s) would be applied, nothing was changed"* ]]
	run q "SELECT count(*) FROM pg_namespace WHERE nspname = 'mreg'"
	assert_output 0
}

@test "drift: a changed applied migration is named and nothing runs" {
	printf 'CREATE TABLE mreg.extra_a (a int);\n' >"$extra/0800_extra.sql"
	MREG_TEST_MIGRATIONS_DIR=$extra "$MREG" migrate --quiet
	printf 'CREATE TABLE mreg.extra_a (a int, b int);\n' >"$extra/0800_extra.sql"
	printf 'CREATE TABLE mreg.extra_b (a int);\n' >"$extra/0801_more.sql"
	MREG_TEST_MIGRATIONS_DIR=$extra run --separate-stderr "$MREG" migrate
	assert_failure 1
	[[ $stderr == *'migration "0800_extra.sql" changed after it was applied'* ]]
	[[ $stderr == *"Nothing was run"* ]]
	run q "SELECT to_regclass('mreg.extra_b') IS NULL"
	assert_output t
	MREG_TEST_MIGRATIONS_DIR=$extra run "$MREG" migrate status --exit-code
	assert_failure 1
	assert_line --regexp '^0800 +0800_extra\.sql +drifted'
}

@test "a failing migration is rolled back whole and names file, line and cause" {
	"$MREG" migrate --quiet
	cat >"$extra/0900_bad.sql" <<-'SQL'
	CREATE TABLE mreg.t_bad (a int);
	INSERT INTO mreg.t_bad VALUES (1);

	SELECT a,
	       nope FROM mreg.t_bad;
	SQL
	MREG_TEST_MIGRATIONS_DIR=$extra run --separate-stderr "$MREG" migrate
	assert_failure 1
	[[ $stderr == *"0900_bad.sql:5:8: "*'column "nope" does not exist'* ]]
	run q "SELECT to_regclass('mreg.t_bad') IS NULL, (SELECT count(*) FROM mreg.schema_migrations WHERE version = 900)"
	assert_output "t|0"
	run q "SELECT count(*) FROM mreg.audit_log WHERE resource = 'migrations/900'"
	assert_output 0
}

@test "an unterminated string in a migration is reported with its line" {
	printf 'SELECT 1;\nSELECT $x$ never closed;\n' >"$extra/0902_broken.sql"
	MREG_TEST_MIGRATIONS_DIR=$extra run --separate-stderr "$MREG" migrate
	assert_failure 3
	[[ $stderr == *"0902_broken.sql:2: unterminated dollar-quoted string"* ]]
}

@test "five concurrent runs apply each migration exactly once and all exit 0" {
	printf -- '-- mreg:no-transaction\nCREATE INDEX CONCURRENTLY IF NOT EXISTS models_version_idx ON mreg.models (version);\n' >"$extra/0910_idx.sql"
	printf 'CREATE TABLE mreg.t_after (a int);\n' >"$extra/0911_after.sql"
	export MREG_TEST_MIGRATIONS_DIR=$extra
	pids=()
	for i in 1 2 3 4 5; do
		"$MREG" migrate --quiet --lock-timeout 60s >"$extra/out.$i" 2>&1 &
		pids+=($!)
	done
	for p in "${pids[@]}"; do
		wait "$p" || { cat "$extra"/out.*; return 1; }
	done
	run q "SELECT string_agg(version::text || 'x' || n::text, ',' ORDER BY version) FROM (SELECT version, count(*) n FROM mreg.schema_migrations GROUP BY version) s"
	assert_output "$(for f in $(shipped); do printf '%sx1,' "$((10#${f%%_*}))"; done)910x1,911x1"
	run q "SELECT count(*) FROM mreg.audit_log WHERE action = 'migration.apply'"
	assert_output $(($(nshipped) + 2))
	run q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'mreg.models_version_idx'::regclass"
	assert_output t
}

# hold_migrate_lock: a psql session (application_name holder-x) holding
# migrate's lock until the test ends it; waits until pg_locks shows it
# granted.  The psql's pid in $holder, the server's in $holder_pid.
hold_migrate_lock() {
	psql -XAtq -c "SET application_name = 'holder-x'" \
		-c "SELECT pg_advisory_lock(hashtextextended('mreg.migrate', 0))" \
		-c "SELECT pg_sleep(600)" >/dev/null 2>&1 3>&- &
	holder=$!
	wait_for "the lock holder in pg_locks" \
		"[ \"\$(q \"SELECT count(*) FROM pg_locks l JOIN pg_stat_activity a USING (pid) WHERE l.locktype = 'advisory' AND l.granted AND a.application_name = 'holder-x'\")\" = 1 ]"
	holder_pid=$(q "SELECT pid FROM pg_stat_activity WHERE application_name = 'holder-x'")
}

@test "a concurrent run gives up after --lock-timeout with exit 4 naming the holder" {
	"$MREG" migrate --quiet
	hold_migrate_lock
	run --separate-stderr "$MREG" migrate --lock-timeout 1s
	end_session holder-x "$holder"
	assert_failure 4
	[[ $stderr == *"another mreg migrate is running (pid $holder_pid, \"holder-x\"): gave up after waiting 1 s"* ]]
	[[ $stderr == *'"holder-x"'* ]]
}

@test "--wait=DURATION gives up with exit 4 after saying it waits; --wait=60s gets the lock once the holder is gone" {
	"$MREG" migrate --quiet
	printf 'CREATE TABLE mreg.t_waited (a int);\n' >"$extra/0930_waited.sql"
	export MREG_TEST_MIGRATIONS_DIR=$extra
	hold_migrate_lock
	run --separate-stderr "$MREG" migrate --wait=1500ms
	assert_failure 4
	# the order of events: waiting first, then the limit
	assert_equal "$(sed -n 1p <<<"$stderr")" "mreg migrate: waiting for another mreg migrate (pid $holder_pid, \"holder-x\")"
	assert_equal "$(sed -n 2p <<<"$stderr")" "mreg migrate: another mreg migrate is running (pid $holder_pid, \"holder-x\"): gave up after waiting 1.5 s"
	[[ $stderr == *"HINT: Wait for it to finish, or wait longer: --wait=DURATION, or --wait with no limit."* ]]
	assert_equal "$(q "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = $holder_pid")" 1
	assert_equal "$(q "SELECT to_regclass('mreg.t_waited') IS NULL")" t
	"$MREG" migrate --wait=60s >"$extra/out" 2>"$extra/err" 3>&- &
	waiter=$!
	wait_for "migrate --wait=60s to say it waits" "grep -q 'waiting for another mreg migrate' '$extra/err'"
	kill -0 "$waiter"
	[ ! -s "$extra/out" ]
	end_session holder-x "$holder"
	rc=0
	wait "$waiter" || rc=$?
	assert_equal "$rc" 0
	grep -q '^applied 0930_waited.sql' "$extra/out"
	# a bare --wait waits as long as it takes (here: not at all)
	run "$MREG" migrate --wait
	assert_success
}

@test "bad --wait durations are usage errors" {
	for bad in soon -1s 10x ""; do
		run --separate-stderr "$MREG" migrate "--wait=$bad"
		assert_failure 2
		[[ $stderr == *"--wait: invalid duration '$bad'"* ]]
	done
}

@test "no-transaction: a failed CONCURRENTLY build leaves no INVALID index; the rerun builds it" {
	"$MREG" migrate --quiet
	q "INSERT INTO mreg.providers (name) VALUES ('p')"
	q "INSERT INTO mreg.models (provider_id, name, type, version) SELECT id, m, 'llm', 'v1' FROM mreg.providers, (VALUES ('a'), ('b')) v(m)"
	printf -- '-- mreg:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS models_version_uq\n    ON mreg.models (version);\n' >"$extra/0920_uq.sql"
	export MREG_TEST_MIGRATIONS_DIR=$extra
	run --separate-stderr "$MREG" migrate
	assert_failure 1
	[[ $stderr == *"0920_uq.sql:2:"*"could not create unique index"* ]]
	[[ $stderr == *'INVALID index "models_version_uq"'*"was dropped"* ]]
	run q "SELECT count(*) FROM pg_class WHERE relname = 'models_version_uq'"
	assert_output 0
	run q "SELECT count(*) FROM mreg.schema_migrations WHERE version = 920"
	assert_output 0
	q "UPDATE mreg.models SET version = 'v2' WHERE name = 'b'"
	run "$MREG" migrate
	assert_success
	run q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'mreg.models_version_uq'::regclass"
	assert_output t
}

@test "no-transaction: an INVALID index left by someone else is rebuilt, not accepted by IF NOT EXISTS" {
	"$MREG" migrate --quiet
	q "INSERT INTO mreg.providers (name) VALUES ('p')"
	q "INSERT INTO mreg.models (provider_id, name, type, version) SELECT id, m, 'llm', 'v1' FROM mreg.providers, (VALUES ('a'), ('b')) v(m)"
	# a manual CONCURRENTLY build that fails leaves an INVALID index
	! psql -XAtq -c "CREATE UNIQUE INDEX CONCURRENTLY models_version_uq ON mreg.models (version)" 2>/dev/null || false
	run q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'mreg.models_version_uq'::regclass"
	assert_output f
	q "UPDATE mreg.models SET version = 'v2' WHERE name = 'b'"
	printf -- '-- mreg:no-transaction\nCREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS models_version_uq ON mreg.models (version);\n' >"$extra/0920_uq.sql"
	MREG_TEST_MIGRATIONS_DIR=$extra run "$MREG" migrate
	assert_success
	run q "SELECT indisvalid FROM pg_index WHERE indexrelid = 'mreg.models_version_uq'::regclass"
	assert_output t
}

@test "migrations set lock_timeout: a migration never queues for ever behind traffic" {
	"$MREG" migrate --quiet
	psql -XAtq -c "SET application_name = 'traffic-x'" -c "BEGIN" -c "LOCK mreg.models IN ACCESS SHARE MODE" -c "SELECT pg_sleep(600)" >/dev/null 2>&1 3>&- &
	holder=$!
	wait_for "the table lock of the other session" \
		"[ \"\$(q \"SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation WHERE c.relname = 'models' AND l.pid <> pg_backend_pid()\")\" -ge 1 ]"
	printf 'ALTER TABLE mreg.models ADD COLUMN extra int;\n' >"$extra/0930_alter.sql"
	MREG_TEST_MIGRATIONS_DIR=$extra run --separate-stderr "$MREG" migrate --ddl-lock-timeout 300ms
	end_session traffic-x "$holder"
	assert_failure 1
	[[ $stderr == *"0930_alter.sql:1"*"lock timeout"* ]]
	run q "SELECT count(*) FROM information_schema.columns WHERE table_schema = 'mreg' AND table_name = 'models' AND column_name = 'extra'"
	assert_output 0
}

@test "status warns about migrations this binary does not know" {
	printf 'SELECT 1;\n' >"$extra/0950_future.sql"
	MREG_TEST_MIGRATIONS_DIR=$extra "$MREG" migrate --quiet
	run --separate-stderr "$MREG" migrate
	assert_success
	[[ $stderr == *'the database has migration "0950_future.sql", which this mreg does not know'* ]]
}

@test "the schema refuses a default that is inactive or of another type, and deactivating a default" {
	"$MREG" migrate --quiet
	q "INSERT INTO mreg.providers (name) VALUES ('p')"
	q "INSERT INTO mreg.models (provider_id, name, type, active) SELECT id, m, t, a FROM mreg.providers, (VALUES ('e1', 'embedding', true), ('e2', 'embedding', false), ('l1', 'llm', true)) v(m, t, a)"
	q "INSERT INTO mreg.model_defaults (type, model_id) SELECT 'embedding', id FROM mreg.models WHERE name = 'e1'"
	run q "INSERT INTO mreg.model_defaults (type, model_id) SELECT 'llm', id FROM mreg.models WHERE name = 'e1'"
	assert_failure
	run q "UPDATE mreg.model_defaults SET model_id = (SELECT id FROM mreg.models WHERE name = 'e2')"
	assert_failure
	assert_output --partial 'model "p/e2" is not active'
	run q "UPDATE mreg.models SET active = false WHERE name = 'e1'"
	assert_failure
	assert_output --partial 'cannot deactivate "p/e1": it is the default model for type "embedding"'
	run q "DELETE FROM mreg.models WHERE name = 'e1'"
	assert_failure
	run q "SELECT count(*) FROM mreg.model_defaults"
	assert_output 1
}

@test "0008's checks accept exactly what 0001's regular expressions did" {
	"$MREG" migrate --quiet
	# every string tried on every check, inserted for real (the rows go
	# with the transaction); each outcome compared with the old rule
	run q "BEGIN;
	CREATE TEMP TABLE outcome (line text);
	INSERT INTO mreg.providers (name) VALUES ('p0008');
	DO \$\$
	DECLARE
	    s text; i int := 0; ok boolean; want boolean;
	    pid bigint := (SELECT id FROM mreg.providers WHERE name = 'p0008');
	    mid bigint; wrong text[] := '{}'; slug int := 0; hex int := 0;
	BEGIN
	    INSERT INTO mreg.models (provider_id, name, type) VALUES (pid, 'm', 'llm')
	        RETURNING id INTO mid;
	    FOREACH s IN ARRAY ARRAY['', 'a', 'A', '0', 'a.b_c-9', '-a', 'a-', '.a',
	        'é', 'aé', E'a\n', E'\na', 'a b', repeat('a', 63), repeat('a', 64),
	        repeat('a', 65), repeat('a', 63) || 'é', repeat('f', 64),
	        repeat('f', 63), repeat('f', 65), upper(repeat('f', 64)),
	        repeat('f', 63) || 'g', repeat('f', 64) || E'\n',
	        E'\n' || repeat('f', 63), repeat('f', 62) || 'é', repeat('f', 63) || 'é',
	        md5('x') || md5('y')]
	    LOOP
	        i := i + 1;
	        want := s ~ '^[a-z0-9][a-z0-9._-]{0,63}\$';
	        slug := slug + want::int;
	        BEGIN
	            INSERT INTO mreg.providers (name) VALUES (s); ok := true;
	        EXCEPTION WHEN check_violation THEN ok := false;
	        END;
	        IF ok <> want THEN wrong := wrong || ('provider ' || quote_literal(s)); END IF;
	        BEGIN
	            INSERT INTO mreg.models (provider_id, name, type) VALUES (pid, 'm' || i, s);
	            ok := true;
	        EXCEPTION WHEN check_violation THEN ok := false;
	        END;
	        IF ok <> want THEN wrong := wrong || ('type ' || quote_literal(s)); END IF;
	        want := s ~ '^[0-9a-f]{64}\$';
	        hex := hex + want::int;
	        BEGIN
	            INSERT INTO mreg.artifacts (model_id, path, size, sha256) VALUES (mid, 'f' || i, 0, s);
	            ok := true;
	        EXCEPTION WHEN check_violation THEN ok := false;
	        END;
	        IF ok <> want THEN wrong := wrong || ('artifact ' || quote_literal(s)); END IF;
	        BEGIN
	            INSERT INTO mreg.source_files (source, path, size, mtime_ns, ctime_ns, inode, device, sha256)
	                VALUES ('s', 'f' || i, 0, 0, 0, 0, 0, s);
	            ok := true;
	        EXCEPTION WHEN check_violation THEN ok := false;
	        END;
	        IF ok <> want THEN wrong := wrong || ('source file ' || quote_literal(s)); END IF;
	    END LOOP;
	    INSERT INTO outcome VALUES (format('tried %s, slugs %s, sha256s %s, differ: %s',
	        i, slug, hex, wrong));
	END
	\$\$;
	SELECT line FROM outcome;
	ROLLBACK"
	assert_success
	assert_output 'tried 27, slugs 10, sha256s 3, differ: {}'
}

@test "a run waiting on another mreg migrate names it by its application name" {
	"$MREG" migrate --quiet
	# the slow migration waits for a lock this test holds, so it runs for
	# as long as the test needs, however slow the machine
	psql -XAtq -c "SET application_name = 'gate-x'" -c "SELECT pg_advisory_lock(4242)" \
		-c "SELECT pg_sleep(600)" >/dev/null 2>&1 3>&- &
	gate=$!
	wait_for "the gate lock" \
		"[ \"\$(q \"SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242 AND granted\")\" = 1 ]"
	printf 'SELECT pg_advisory_xact_lock(4242);\n' >"$extra/0960_slow.sql"
	export MREG_TEST_MIGRATIONS_DIR=$extra
	"$MREG" migrate --quiet >"$extra/slow.out" 2>&1 3>&- &
	slow=$!
	wait_for "the slow migration to wait at the gate" \
		"[ \"\$(q \"SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'SELECT pg_advisory_xact_lock(4242)%' AND wait_event_type = 'Lock'\")\" = 1 ]"
	run --separate-stderr "$MREG" migrate --lock-timeout 500ms
	end_session gate-x "$gate"
	wait "$slow"
	assert_failure 4
	[[ $stderr == *'("mreg migrate", local socket, connected since'* ]]
	run q "SELECT count(*) FROM mreg.schema_migrations WHERE version = 960"
	assert_output 1
}
