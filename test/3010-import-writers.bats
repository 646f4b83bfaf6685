#!/usr/bin/env bats
# 3010: import-dir --writers: batches written at once on several
# connections, told in batch order; fewer connections than asked for

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	export T="$BATS_FILE_TMPDIR/gen"
	"$GEN" "$T" 200 3010 >/dev/null
}

# every test on a database of its own
setup() {
	db_create_migrated
}

teardown_file() {
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS t3010_limited WITH (FORCE)" >/dev/null 2>&1 || true
	psql -XAtq -d postgres -c "DROP ROLE IF EXISTS t3010_limited" >/dev/null 2>&1 || true
}

teardown() {
	end_session blocker-3010
	db_drop_second
	db_drop
}

# How many of the import's backends wait for a lock on mreg.source_files.
waiting_writers() {
	q "select count(distinct l.pid) from pg_locks l join pg_stat_activity a using (pid)
	    where not l.granted and l.relation = 'mreg.source_files'::regclass
	      and a.application_name like 'mreg%'"
}

# blocked_import N SOURCE: import a copy of the tree ($B) with --writers N
# in batches of 10 in the background ($importer), every batch held where it
# writes its files' cache rows, until N of them wait there at once.
blocked_import() {
	B="$BATS_TEST_TMPDIR/t"
	cp -r "$T" "$B"
	# (every batch names new providers: each writer commits those before
	# its batch, so no batch waits for another's providers)
	blocker blocker-3010 "LOCK TABLE mreg.source_files IN EXCLUSIVE MODE"
	"$MREG" import-dir --quiet --writers "$1" --batch-size 10 --source "$2" "$B" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	importer=$!
	wait_for "$1 batches waiting at once" "[ \"\$(waiting_writers)\" = $1 ]"
}

# A tree with good files, bad files and two files claiming one model.
bad_tree() {
	rm -rf "$1"
	cp -r "$T" "$1"
	printf '{"name": "broken", ' >"$1/d00/broken.json"
	printf '{"name": "x", "provider": "p01", "type": "llm", "tags": ["a", "a"]}\n' >"$1/d01/dup-tag.json"
	cp "$1/d02/m0000002.json" "$1/d03/twin.json"
}

@test "--writers 3: three batches are written at once, each in its own transaction" {
	blocked_import 3 w3
	# nothing of them is visible: each waits in its own open transaction
	assert_equal "$(q "select count(*) from mreg.models")" 0
	end_session blocker-3010
	rc=0
	wait "$importer" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(cat "$BATS_TEST_TMPDIR/err")" ""
	assert_equal "$(q "select count(*) from mreg.source_files where source = 'w3'")" 200
	assert_equal "$(db_digest w3)" "$(dir_digest "$B")"
	# 20 batches, numbered 1..20 in the order they were formed, 10 each
	assert_equal "$(q "select string_agg(b || ':' || n, ' ' order by b)
	                     from (select (details->>'batch')::int b, count(*) n from mreg.audit_log
	                            where action = 'model.create' and details->>'source' = 'w3' group by 1) x")" \
		"$(for i in $(seq 1 20); do printf '%s:10 ' "$i"; done | sed 's/ $//')"
	# one transaction per batch
	assert_equal "$(q "select count(distinct xid) from mreg.audit_log where details->>'source' = 'w3' and action = 'model.create'")" 20
	# each provider created once, audited with the batch that first named
	# it, in a transaction of its own before that batch's
	assert_equal "$(q "select count(*), count(distinct resource) from mreg.providers p
	                     join mreg.audit_log a on a.resource = 'providers/' || p.name
	                    where a.action = 'provider.create' and a.details->>'source' = 'w3'")" "20|20"
	assert_equal "$(q "select count(*) from mreg.audit_log p join mreg.audit_log m
	                     on m.action = 'model.create' and m.details->>'batch' = p.details->>'batch'
	                    where p.action = 'provider.create' and p.xid = m.xid")" 0
	assert_equal "$(q "select count(*) from mreg.audit_log p
	                    where p.action = 'provider.create' and not exists (select 1 from mreg.audit_log m
	                      where m.action = 'model.create' and m.details->>'batch' = p.details->>'batch'
	                        and m.id > p.id and m.new->>'provider' = substr(p.resource, 11))")" 0
}

@test "a writer's connection killed mid-batch: the run fails, the other batches commit, a rerun completes" {
	blocked_import 2 killed
	victim=$(q "select min(l.pid) from pg_locks l join pg_stat_activity a using (pid)
	             where not l.granted and l.relation = 'mreg.source_files'::regclass
	               and a.application_name like 'mreg%'")
	q "select pg_terminate_backend($victim)" >/dev/null
	end_session blocker-3010
	rc=0
	wait "$importer" || rc=$?
	assert_equal "$rc" 1
	grep -q "terminating connection due to administrator command\|server closed the connection" "$BATS_TEST_TMPDIR/err"
	# the other writer's batch committed whole: every model written has
	# its cache row, and no more than one batch of the two is missing
	n=$(q "select count(*) from mreg.source_files where source = 'killed'")
	assert_equal "$(q "select count(*) from mreg.source_files s join mreg.models m on m.id = s.model_id where s.source = 'killed'")" "$n"
	[ "$((n % 10))" -eq 0 ]
	[ "$n" -ge 10 ]
	[ "$n" -lt 200 ]
	run --separate-stderr "$MREG" import-dir --format json --source killed "$B"
	assert_success
	assert_equal "$(jq -r .added <<<"$output")" "$((200 - n))"
	assert_equal "$(db_digest killed)" "$(dir_digest "$B")"
}

@test "--writers 1 and --writers 4 leave the same registry, report and audit" {
	B="$BATS_TEST_TMPDIR/t"
	bad_tree "$B"
	run --separate-stderr "$MREG" import-dir --jobs 1 --writers 1 --batch-size 7 --format json --source same "$B"
	assert_failure 3
	one_out=$output one_err=$stderr
	second=$(db_create_second)
	run --separate-stderr env PGDATABASE="$second" "$MREG" import-dir --jobs 1 --writers 4 --batch-size 7 --format json --source same "$B"
	assert_failure 3
	four_out=$output four_err=$stderr
	# the same bad files, reported in the same order
	assert_equal "$four_err" "$one_err"
	[[ $one_err == *"broken.json:1:"* ]]
	[[ $one_err == *"dup-tag.json: key 'tags': \"a\" is listed twice"* ]]
	[[ $one_err == *"is also defined in"*"twin.json"* ]]
	# the same counts
	assert_equal "$(jq -c 'del(.duration_s)' <<<"$four_out")" "$(jq -c 'del(.duration_s)' <<<"$one_out")"
	assert_equal "$(jq -r .failed <<<"$one_out")" 4
	# the same models, cache rows and audit rows (ids and times aside)
	local dump="SELECT p.name, m.name, m.type, m.version, m.description, m.tags, m.config, m.metadata
	              FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id ORDER BY 1, 2"
	assert_equal "$(PGDATABASE=$second q "$dump")" "$(q "$dump")"
	local cache="SELECT path, size, sha256, error IS NOT NULL FROM mreg.source_files ORDER BY path"
	assert_equal "$(PGDATABASE=$second q "$cache")" "$(q "$cache")"
	local audit="SELECT action, resource, new, details - 'batch' FROM mreg.audit_log
	              WHERE action <> 'migration.apply' ORDER BY resource, action"
	assert_equal "$(PGDATABASE=$second q "$audit")" "$(q "$audit")"
	# an unchanged rerun with several writers writes nothing
	run --separate-stderr env PGDATABASE="$second" "$MREG" import-dir --writers 4 --batch-size 7 --format json --source same "$B"
	assert_failure 3
	assert_equal "$(jq -r '.added + .updated' <<<"$output")" 0
}

@test "a writer's connection refused: the run says so and writes with the connections it has" {
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS t3010_limited WITH (FORCE)" >/dev/null
	q "DROP ROLE IF EXISTS t3010_limited"
	# the import's connection (it takes the lock too) and one writer's:
	# a third is refused
	q "CREATE ROLE t3010_limited LOGIN CONNECTION LIMIT 2"
	psql -XAtq -d postgres -c "DROP DATABASE IF EXISTS t3010_limited WITH (FORCE)" \
		-c "CREATE DATABASE t3010_limited OWNER t3010_limited" >/dev/null
	export PGDATABASE=t3010_limited PGUSER=t3010_limited
	"$MREG" migrate --quiet
	B="$BATS_TEST_TMPDIR/t"
	cp -r "$T" "$B"
	run --separate-stderr "$MREG" import-dir --writers 3 --batch-size 10 --format json --source lim "$B"
	assert_success
	assert_equal "$(jq -r .added <<<"$output")" 200
	[[ $stderr == *"mreg import-dir: warning: writing with 2 connections, not 3: "*"too many connections for role \"t3010_limited\""* ]]
	assert_equal "$(wc -l <<<"$stderr")" 1
	assert_equal "$(db_digest lim)" "$(dir_digest "$B")"
}

@test "--writers: out of range is a usage error" {
	for v in 0 17 x ""; do
		run --separate-stderr "$MREG" import-dir --writers "$v" "$T"
		assert_failure 2
		[[ $stderr == "mreg import-dir: --writers: \"$v\" is not a number from 1 to 16"* ]]
	done
}

# Import a copy of $T as source $1 with the import-dir options that follow,
# in the background ($importer), behind a holder on another machine with a
# fresh heartbeat; once it says it waits, drop the connection that polls the
# lock row (the pooler's or the server's idle limit, say) and wait for it to
# poll on with another.
wait_then_drop() {
	local source=$1 mine="datname = current_database() and application_name = 'mreg import-dir'"
	shift
	B="$BATS_TEST_TMPDIR/t"
	cp -r "$T" "$B"
	q "insert into mreg.source_locks (source, host, host_id, pid, application, ttl_s)
	   values ('$source', 'build-7', 'build-7|boot|pid:[1]', 4242, 'mreg', 30)"
	"$MREG" import-dir "$@" --source "$source" "$B" \
		>"$BATS_TEST_TMPDIR/out" 2>"$BATS_TEST_TMPDIR/err" 3>&- &
	importer=$!
	wait_for "the import to wait for the lock" "grep -q 'waiting for another import' '$BATS_TEST_TMPDIR/err'"
	assert_equal "$(q "select count(pg_terminate_backend(pid)) from pg_stat_activity where $mine")" 1
	wait_for "the import's new connection to poll" \
		"[ \"\$(q \"select count(*) from pg_stat_activity where $mine and query like '%mreg.source_locks%'\")\" = 1 ]"
}

@test "a connection dropped while the run waits for the lock: the import opens another and completes" {
	wait_then_drop waited --wait=5m --format json
	q "delete from mreg.source_locks where source = 'waited'"
	rc=0
	wait "$importer" || rc=$?
	assert_equal "$rc" 0
	assert_equal "$(jq -r .added "$BATS_TEST_TMPDIR/out")" 200
	assert_equal "$(db_digest waited)" "$(dir_digest "$B")"
	# one wait, said once
	assert_equal "$(grep -c 'waiting for another import' "$BATS_TEST_TMPDIR/err")" 1
}

@test "a connection dropped during a bounded wait: the refusal keeps the user's limit, exit 4" {
	wait_then_drop bounded --wait=8s
	rc=0
	wait "$importer" || rc=$?
	assert_equal "$rc" 4
	run grep -c 'mreg import-dir: another import of "bounded" is running (.*build-7.*): gave up after waiting 8 s$' "$BATS_TEST_TMPDIR/err"
	assert_output 1
	assert_equal "$(grep -c 'waiting for another import' "$BATS_TEST_TMPDIR/err")" 1
	assert_equal "$(q "select count(*) from mreg.source_files where source = 'bounded'")" 0
}

@test "every new connection dropped again during a bounded wait: still refused at the limit, exit 4" {
	wait_then_drop lossy --wait=3s
	# from here on every poll of the import blocks on the lock table and
	# its connection is dropped there, before the poll ever returns: the
	# import must still end at its limit, not try new connections for ever
	blocker blocker-3010 "LOCK TABLE mreg.source_locks IN ACCESS EXCLUSIVE MODE"
	(
		while kill -0 "$importer" 2>/dev/null; do
			q "select count(pg_terminate_backend(pid)) from pg_stat_activity
			    where datname = current_database()
			      and application_name = 'mreg import-dir'
			      and wait_event_type = 'Lock'" >/dev/null || true
			sleep 0.05 # polling: the loop ends with the import
		done
	) 3>&- &
	dropper=$!
	wait_for "the import to end" "! kill -0 $importer 2>/dev/null" 60 || {
		kill "$importer" "$dropper"
		false
	}
	rc=0
	wait "$importer" || rc=$?
	wait "$dropper"
	assert_equal "$rc" 4
	run grep -c 'gave up after waiting 3 s$' "$BATS_TEST_TMPDIR/err"
	assert_output 1
	assert_equal "$(q "select count(*) from mreg.source_files where source = 'lossy'")" 0
}

@test "providers before a batch: only those its writer has not seen, none for files recorded" {
	B="$BATS_TEST_TMPDIR/t"
	cp -r "$T" "$B"
	run --separate-stderr "$MREG" -v import-dir --writers 2 --batch-size 50 --source pre "$B"
	assert_success
	# 4 batches on 2 writers: each writer creates what it has not seen yet
	n=$(grep -c 'statement import-batch.create_providers (INSERT)' <<<"$stderr")
	[ "$n" -ge 2 ]
	[ "$n" -le 4 ]
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'provider.create'")" 20
	# changed files of providers that exist: no such statement
	sed -i 's/"version": "/"version": "edited-/' "$B"/d[0-4]?/*.json
	run --separate-stderr "$MREG" -v import-dir --writers 2 --batch-size 50 --format json --source pre "$B"
	assert_success
	assert_equal "$(jq -r .updated <<<"$output")" 100
	assert_equal "$(grep -c 'create_providers' <<<"$stderr")" 0
	# a file of a new provider: created once, audited once
	printf '{"name": "fresh", "provider": "brand-new", "type": "llm"}\n' >"$B/d00/fresh.json"
	run --separate-stderr "$MREG" -v import-dir --writers 2 --batch-size 50 --source pre "$B"
	assert_success
	assert_equal "$(grep -c 'statement import-batch.create_providers (INSERT): .* 1 row' <<<"$stderr")" 1
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'provider.create' and resource = 'providers/brand-new'")" 1
	assert_equal "$(q "select count(*) from mreg.models m join mreg.providers p on p.id = m.provider_id where p.name = 'brand-new'")" 1
}

@test "a batch finds its models by key, not by reading the whole table" {
	G="$BATS_TEST_TMPDIR/g"
	"$GEN" "$G" 3000 3011 >/dev/null
	mkdir "$BATS_TEST_TMPDIR/later"
	mv "$G"/d[0-3]? "$BATS_TEST_TMPDIR/later/"
	"$MREG" import-dir --quiet --source scan "$G"
	q "ANALYZE mreg.models" >/dev/null
	mv "$BATS_TEST_TMPDIR/later"/* "$G/"
	# 1800 models there, 1200 new files in batches of 50: with the
	# default random_page_cost, 50 index probes are priced above reading
	# the whole table (twice a batch: the models it locks, the ids of
	# those it created)
	local stats="from pg_stat_user_tables where relid = 'mreg.models'::regclass"
	seq=$(q "select seq_scan $stats")
	idx=$(q "select idx_scan $stats")
	run --separate-stderr "$MREG" import-dir --writers 1 --batch-size 50 --format json --source scan "$G"
	assert_success
	assert_equal "$(jq -r .added <<<"$output")" 1200
	# a backend reports its counts as it exits: at least one index lookup
	# of mreg.models per new file (its cache row's foreign key check)
	wait_for "the import's counts" "[ \"\$(q \"select idx_scan - $idx $stats\")\" -ge 1200 ]"
	assert_equal "$(q "select seq_scan - $seq $stats")" 0
}

@test "providers before a batch: a name the server refuses fails only the files that name it" {
	B="$BATS_TEST_TMPDIR/t"
	cp -r "$T" "$B"
	# a rule of this database the client does not know
	q "ALTER TABLE mreg.providers ADD CONSTRAINT t3010_no_acme CHECK (name <> 'acme')"
	printf '{"name": "refused", "provider": "acme", "type": "llm"}\n' >"$B/d00/refused.json"
	run --separate-stderr "$MREG" import-dir --writers 2 --batch-size 50 --format json --source refuse "$B"
	assert_failure 3
	assert_equal "$(jq -r '[.added, .failed] | @tsv' <<<"$output")" "200	1"
	[[ $stderr == *"refused.json: the database refused it: "*"t3010_no_acme"* ]]
	assert_equal "$(q "select count(*) from mreg.providers")" 20
	assert_equal "$(q "select count(*) from mreg.audit_log where action = 'provider.create'")" 20
	# the other names of the refused name's step were created one at a
	# time before the batch, not by the batch (which held them to its end,
	# in the order of its halves: another writer's step waiting for it
	# while it waited for that step was a deadlock)
	assert_equal "$(q "select count(*) from mreg.audit_log p join mreg.audit_log m
	                     on m.xid = p.xid and m.action = 'model.create'
	                    where p.action = 'provider.create'")" 0
}

# sizes TAG: the model rows of each transaction whose audit rows have
# version TAG, in batch order
sizes() {
	q "select string_agg(n::text, ' ' order by b) from (
	     select min((details->>'batch')::int) b, count(*) n from mreg.audit_log
	      where action like 'model.%' and new->>'version' = '$1' group by xid) p"
}

@test "the last batch is cut over the writers when it is large enough" {
	B="$BATS_TEST_TMPDIR/t"
	mkdir "$B"
	cp -r "$T"/d[0-5]? "$T"/d6[0-4] "$B"   # 65 directories of 2 files
	find "$B" -name '*.json' -exec sed -i 's/"version": "[^"]*"/"version": "cut-1"/' {} +
	# a run's last batch (here its only one) of 130 files: three writers
	# take a third each, each part a transaction and a batch of its own
	run "$MREG" import-dir --quiet --writers 3 --source cut "$B"
	assert_success
	assert_equal "$(db_digest cut)" "$(dir_digest "$B")"
	assert_equal "$(sizes cut-1)" "43 43 44"
	assert_equal "$(q "select string_agg(distinct details->>'batch', ' ') from mreg.audit_log
	                    where action = 'model.create'")" "1 2 3"
	assert_equal "$(q "select count(*) from mreg.models")" 130
	# the same for a re-import of rewritten files
	find "$B" -name '*.json' -exec sed -i 's/"version": "[^"]*"/"version": "cut-2"/' {} +
	run "$MREG" import-dir --quiet --writers 3 --source cut "$B"
	assert_success
	assert_equal "$(sizes cut-2)" "43 43 44"
	# two writers: two parts
	find "$B" -name '*.json' -exec sed -i 's/"version": "[^"]*"/"version": "cut-3"/' {} +
	run "$MREG" import-dir --quiet --writers 2 --source cut "$B"
	assert_success
	assert_equal "$(sizes cut-3)" "65 65"
	# one writer: one batch, however large
	find "$B" -name '*.json' -exec sed -i 's/"version": "[^"]*"/"version": "cut-4"/' {} +
	run "$MREG" import-dir --quiet --writers 1 --source cut "$B"
	assert_success
	assert_equal "$(sizes cut-4)" "130"
	assert_equal "$(db_digest cut)" "$(dir_digest "$B")"
	# 79 files: too few for two parts of at least 40
	rm -r "$B"/d[45]? "$B"/d6?
	rm "$B"/d39/m0000139.json
	find "$B" -name '*.json' -exec sed -i 's/"version": "[^"]*"/"version": "cut-5"/' {} +
	second=$(db_create_second)
	run env PGDATABASE="$second" "$MREG" import-dir --quiet --writers 3 --source few "$B"
	assert_success
	assert_equal "$(PGDATABASE=$second sizes cut-5)" "79"
}
