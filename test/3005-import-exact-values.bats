#!/usr/bin/env bats
# 3005: values come back exactly as written (numbers are jsonb numeric,
# never doubles); what jsonb cannot hold is a per-file error; byte order
# marks, blank names and duplicate tags

load helpers
load import-helpers

bats_require_minimum_version 1.5.0

setup_file() {
	db_create_migrated
}

teardown_file() {
	db_drop
}

setup() {
	B="$BATS_TEST_TMPDIR/tree"
	mkdir -p "$B"
}

# q_models EXPR: EXPR of each model imported by this test (m: the model),
# sorted
q_models() {
	q "SELECT $1 FROM mreg.models m JOIN mreg.source_files s ON s.model_id = m.id
	    WHERE s.source = 't$BATS_TEST_NUMBER' ORDER BY 1"
}

# decimal_eq A PATH_A B PATH_B: the JSON values at the dotted paths of the
# files A and B are equal as decimals (1E2 = 100, 1.50 = 1.5, -0.0 = 0),
# never through binary floating point.
decimal_eq() {
	python3 - "$@" <<'PY'
import decimal, json, sys

def load(path):
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f, parse_float=decimal.Decimal, parse_int=decimal.Decimal)

def get(doc, path):
    for k in filter(None, path.split(".")):
        doc = doc[int(k)] if isinstance(doc, list) else doc[k]
    return doc

a = get(load(sys.argv[1]), sys.argv[2])
b = get(load(sys.argv[3]), sys.argv[4])
if a != b:
    print("differ:\n  %r\n  %r" % (a, b), file=sys.stderr)
    sys.exit(1)
PY
}

# sqlv NAME=VALUE... -- SQL: run SQL (psql variables interpolated) in the
# test database
sqlv() {
	local args=()
	while [ "$1" != "--" ]; do args+=(-v "$1"); shift; done
	shift
	psql -XAtq -v ON_ERROR_STOP=1 "${args[@]}" <<<"$1"
}

@test "the sample mini-reranker's threshold 0.35 is exact: show -o json and jsonb containment" {
	copy_samples "$B"
	import_tree
	assert_success
	f="$B/local/mini-reranker-team.example/mini-reranker-team.example.json"
	"$MREG" show local/mini-reranker@team.example -o json >"$BATS_TEST_TMPDIR/show.json"
	run -0 grep -c '"threshold": 0.35$' "$BATS_TEST_TMPDIR/show.json"
	decimal_eq "$BATS_TEST_TMPDIR/show.json" config "$f" config
	assert_equal "$(q "SELECT count(*) FROM mreg.models WHERE config @> '{\"threshold\":0.35}'")" 1
	# the table view shows the jsonb text
	run -0 "$MREG" show local/mini-reranker@team.example
	assert_line 'config:       {"threshold": 0.35}'
	# and every sample file's config and metadata are what the file says
	for m in $(q "SELECT p.name || '/' || m.name FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id"); do
		"$MREG" show "$m" -o json >"$BATS_TEST_TMPDIR/m.json"
		path=$(q "SELECT path FROM mreg.source_files s JOIN mreg.models m ON m.id = s.model_id JOIN mreg.providers p ON p.id = m.provider_id WHERE p.name || '/' || m.name = '$m'")
		decimal_eq "$BATS_TEST_TMPDIR/m.json" config "$B/$path" config
	done
}

@test "prices 0.06 0.24 1E2 1.50 a 30-digit integer -0.0 1e-7: stored and shown as written" {
	mkdir -p "$B/acme"
	cat >"$B/acme/priced.json" <<'J'
{
  "name": "priced",
  "provider": "acme",
  "type": "llm",
  "tags": ["priced"],
  "config": {"cost": 0.06, "prices": [0.06, 0.24, 1E2, 1.50, 123456789012345678901234567890, -0.0, 1e-7],
             "nested": {"deep": [{"x": 12345678901234567890.123456789}]}},
  "metadata": {"threshold": 0.35, "ratio": 1e-7, "count": 98765432109876543210}
}
J
	import_tree
	assert_success
	assert_equal "$(summary added)" 1
	# in SQL: equal, as jsonb, to the file's text parsed by PostgreSQL
	run -0 sqlv "file=$(cat "$B/acme/priced.json")" -- \
		"SELECT m.config = (:'file'::jsonb)->'config', m.metadata = (:'file'::jsonb)->'metadata',
		        m.config->'prices'->>3, m.config->>'cost'
		   FROM mreg.models m WHERE m.name = 'priced'"
	assert_output 't|t|1.50|0.06'
	# show -o json, -o ndjson and the audit entry's new value, as decimals
	"$MREG" show acme/priced -o json >"$BATS_TEST_TMPDIR/show.json"
	"$MREG" show acme/priced -o ndjson >"$BATS_TEST_TMPDIR/show.ndjson"
	"$MREG" list audit --model acme/priced -o ndjson >"$BATS_TEST_TMPDIR/audit.ndjson"
	for key in config metadata tags; do
		decimal_eq "$BATS_TEST_TMPDIR/show.json" "$key" "$B/acme/priced.json" "$key"
		decimal_eq "$BATS_TEST_TMPDIR/show.ndjson" "$key" "$B/acme/priced.json" "$key"
		decimal_eq "$BATS_TEST_TMPDIR/audit.ndjson" "new.$key" "$B/acme/priced.json" "$key"
	done
	# the digits themselves, as jsonb writes them
	run -0 grep -F '"prices":[0.06,0.24,100,1.50,123456789012345678901234567890,0.0,0.0000001]' "$BATS_TEST_TMPDIR/show.ndjson"
	run -0 grep -F '"deep":[{"x":12345678901234567890.123456789}]' "$BATS_TEST_TMPDIR/show.ndjson"
	# list's JSON output of the audit carries the same text
	run -0 "$MREG" list audit --model acme/priced -o json
	assert_output --partial '"count": 98765432109876543210'
	run -0 "$MREG" list audit --model acme/priced -o csv
	assert_output --partial '""threshold"": 0.35'
}

@test "--rehash after an import changes nothing: 0 updated, no audit rows; a value an older mreg stored inexactly is corrected once" {
	copy_samples "$B"
	mkdir -p "$B/acme"
	printf '{"name": "big", "provider": "acme", "type": "llm", "config": {"n": 123456789012345678901234567890, "p": 0.7, "e": 1E2}}\n' >"$B/acme/big.json"
	import_tree
	assert_success
	n=$(q "SELECT count(*) FROM mreg.audit_log")
	import_tree --rehash
	assert_success
	assert_equal "$(summary updated)" 0
	assert_equal "$(summary added)" 0
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log")" "$n"
	# as a registry filled before this fix holds it
	q "UPDATE mreg.models SET config = '{\"threshold\": 0.34999999999999998}' WHERE name = 'mini-reranker@team.example'"
	import_tree --rehash
	assert_success
	assert_equal "$(summary updated)" 1
	assert_equal "$(q "SELECT config->>'threshold' FROM mreg.models WHERE name = 'mini-reranker@team.example'")" 0.35
	import_tree --rehash
	assert_equal "$(summary updated)" 0
	# the psql UPDATE's row and the one correction
	assert_equal "$(q "SELECT count(*) FROM mreg.audit_log")" "$((n + 2))"
}

@test "what jsonb cannot hold: one error per file with key, position and why (exit 3); the other files are imported" {
	mkdir -p "$B/good" "$B/bad"
	echo '{"name": "fine", "provider": "good", "type": "llm", "config": {"big": 123456789012345678901234567890}}' >"$B/good/fine.json"
	printf '{"name": "a", "provider": "p", "type": "llm",\n "config": {"limits": [1, 1e1000000]}}\n' >"$B/bad/huge.json"
	printf '{"name": "b", "provider": "p", "type": "llm", "metadata": {"eps": 1e-20000}}\n' >"$B/bad/tiny.json"
	printf '{"name": "c", "provider": "p", "type": "llm", "description": "a\\u0000b"}\n' >"$B/bad/nul.json"
	python3 -c 'print("{\"name\": \"d\", \"provider\": \"p\", \"type\": \"llm\", \"config\": {\"n\": 1%s}}" % ("0" * 131072))' >"$B/bad/digits.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/bad/huge.json:2:27: key 'config.limits[1]': number 1e1000000 is out of range for PostgreSQL numeric: more than 131072 digits before the decimal point"* ]]
	[[ $stderr == *"$B/bad/tiny.json:1:67: key 'metadata.eps': number 1e-20000 is out of range for PostgreSQL numeric: more than 16383 digits after the decimal point"* ]]
	[[ $stderr == *"$B/bad/nul.json:1:64: key 'description': a NUL character (U+0000) in a string: PostgreSQL cannot store it"* ]]
	[[ $stderr == *"$B/bad/digits.json:1:63: key 'config.n': number 10000000000000000000... is out of range for PostgreSQL numeric: more than 131072 digits before the decimal point"* ]]
	assert_equal "$(summary failed)" 4
	assert_equal "$(summary added)" 1
	assert_equal "$(q "SELECT config->>'big' FROM mreg.models WHERE name = 'fine'")" 123456789012345678901234567890
	assert_equal "$(q "SELECT count(*) FROM mreg.models WHERE name IN ('a', 'b', 'c', 'd')")" 0
}

@test "numbers at numeric's limits: mreg accepts exactly what PostgreSQL's jsonb accepts" {
	local tokens=(1e131071 1e131072 0.1e131072 0.1e131073 1e-16383 1e-16384
		1.0e-16383 10e-16384 0e-16383 0e-16384 0e20000000 0e1073741822 0e1073741823 0e-1073741822
		-1e131071 99e131070 100e131070 1E+2 -0 0.000
		"$(printf '9%.0s' $(seq 131072))" "$(printf '9%.0s' $(seq 131073))"
		"0.$(printf '0%.0s' $(seq 16382))1" "0.$(printf '0%.0s' $(seq 16383))1"
		"1.$(printf '0%.0s' $(seq 16383))" "1.$(printf '0%.0s' $(seq 16384))")
	local i=0 t
	for t in "${tokens[@]}"; do
		printf '{"name": "n%d", "provider": "lim", "type": "llm", "config": {"v": %s}}\n' "$i" "$t" >"$B/n$i.json"
		i=$((i + 1))
	done
	import_tree
	i=0
	for t in "${tokens[@]}"; do
		# through stdin: some tokens are longer than an argument may be
		if psql -XAtq -v ON_ERROR_STOP=1 <<<"SELECT '$t'::jsonb" >/dev/null 2>&1; then
			server=ok
		else
			server=refused
		fi
		if [ "$(q "SELECT count(*) FROM mreg.models WHERE name = 'n$i'")" = 1 ]; then
			client=ok
			assert_equal "$(psql -XAtq -v ON_ERROR_STOP=1 <<<"SELECT config = '{\"v\": $t}'::jsonb FROM mreg.models WHERE name = 'n$i'")" t
		else
			client=refused
			[[ $stderr == *"n$i.json:1:"*": key 'config.v': number "*" is out of range for PostgreSQL numeric"* ]]
		fi
		assert_equal "${t:0:30}: $client" "${t:0:30}: $server"
		i=$((i + 1))
	done
}

@test "a UTF-8 byte order mark at the start of a file is skipped; elsewhere it is an error" {
	printf '\xef\xbb\xbf{"name": "bom", "provider": "p", "type": "llm", "config": {"t": 0.35}}\n' >"$B/bom.json"
	printf '{"name": "mid", \xef\xbb\xbf"provider": "p", "type": "llm"}\n' >"$B/mid.json"
	import_tree
	assert_failure 3
	assert_equal "$(summary added)" 1
	assert_equal "$(q "SELECT config->>'t' FROM mreg.models WHERE name = 'bom'")" 0.35
	assert_equal "$stderr" "mreg import-dir: $B/mid.json:1:17: string or '}' expected near a byte order mark (U+FEFF)"
}

@test "a blank name is refused; spaces around a name are kept" {
	printf '{"name": " \\u00a0\\u3000 ", "provider": "p", "type": "llm"}\n' >"$B/blank.json"
	printf '{"name": "   ", "provider": "p", "type": "llm"}\n' >"$B/spaces.json"
	printf '{"name": " padded ", "provider": "p", "type": "llm"}\n' >"$B/padded.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/blank.json: key 'name': must not be blank (white space only)"* ]]
	[[ $stderr == *"$B/spaces.json: key 'name': must not be blank (white space only)"* ]]
	assert_equal "$(summary failed)" 2
	assert_equal "$(q_models "'[' || m.name || ']'")" "[ padded ]"
}

@test "a tag or synonym listed twice is refused, naming it" {
	echo '{"name": "t", "provider": "p", "type": "llm", "tags": ["chat", "fast", "chat"]}' >"$B/tags.json"
	echo '{"name": "s", "provider": "p", "type": "llm", "synonyms": ["x", "x"]}' >"$B/syn.json"
	echo '{"name": "ok", "provider": "p", "type": "llm", "tags": ["Chat", "chat"]}' >"$B/case.json"
	import_tree
	assert_failure 3
	[[ $stderr == *"$B/tags.json: key 'tags': \"chat\" is listed twice"* ]]
	[[ $stderr == *"$B/syn.json: key 'synonyms': \"x\" is listed twice"* ]]
	assert_equal "$(summary failed)" 2
	assert_equal "$(q_models "m.name || ' ' || array_to_string(m.tags, ',')")" "ok Chat,chat"
}

@test "round trip: a generated tree of decimal prices, exported by show -o json and list -o ndjson, equals the files" {
	python3 - "$B" <<'PY'
import os, random, sys
random.seed(3005)
root = sys.argv[1]
forms = [
    lambda: "%d.%02d" % (random.randint(0, 99), random.randint(0, 99)),
    lambda: "0.%0*d" % (random.randint(1, 12), random.randint(1, 999)),
    lambda: "%dE%d" % (random.randint(1, 9), random.randint(-20, 20)),
    lambda: "%d.%de-%d" % (random.randint(1, 9), random.randint(0, 99), random.randint(1, 30)),
    lambda: str(random.randint(10**20, 10**40)),
    lambda: "-%d.%s" % (random.randint(0, 9), "0" * random.randint(1, 4)),
    lambda: "%d.%d" % (random.randint(10**15, 10**25), random.randint(1, 10**12)),
    lambda: "0.1", lambda: "0.3", lambda: "1.10",
]
for i in range(120):
    d = os.path.join(root, "g%02d" % (i % 12))
    os.makedirs(d, exist_ok=True)
    prices = ", ".join(random.choice(forms)() for _ in range(6))
    with open(os.path.join(d, "m%03d.json" % i), "w") as f:
        f.write('{"name": "m%03d", "provider": "gen%d", "type": "llm",\n'
                ' "tags": ["t%d"],\n'
                ' "config": {"input": %s, "output": %s, "tiers": [%s]},\n'
                ' "metadata": {"margin": %s}}\n'
                % (i, i % 3, i % 5, random.choice(forms)(), random.choice(forms)(),
                   prices, random.choice(forms)()))
PY
	import_tree
	assert_success
	assert_equal "$(summary added)" 120
	out="$BATS_TEST_TMPDIR/out"
	mkdir -p "$out"
	for f in "$B"/g*/m*.json; do
		name=$(basename "$f" .json)
		provider=$(jq -r .provider "$f")
		"$MREG" show "$provider/$name" -o json >"$out/$name.show.json"
	done
	"$MREG" list audit -o ndjson >"$out/audit.ndjson"
	"$MREG" list --all -o ndjson >"$out/list.ndjson"
	python3 - "$B" "$out" <<'PY'
import decimal, glob, json, os, sys
D = decimal.Decimal
def load(text):
    return json.loads(text, parse_float=D, parse_int=D)
root, out = sys.argv[1], sys.argv[2]
audit = {}
for line in open(os.path.join(out, "audit.ndjson")):
    e = load(line)
    if e["action"] == "model.create" and e["resource"] not in audit:
        audit[e["resource"]] = e["new"]
listed = {}
for line in open(os.path.join(out, "list.ndjson")):
    e = load(line)
    listed[e["model"]] = e
bad = 0
files = sorted(glob.glob(os.path.join(root, "g*", "m*.json")))
for path in files:
    want = load(open(path).read())
    name = "%s/%s" % (want["provider"], want["name"])
    shown = load(open(os.path.join(out, want["name"] + ".show.json")).read())
    for key in ("config", "metadata", "tags"):
        for where, got in (("show", shown[key]), ("audit", audit["models/" + name][key])):
            if got != want[key]:
                bad += 1
                print("%s %s %s: %r != %r" % (path, where, key, got, want[key]))
    if listed[name]["tags"] != want["tags"]:
        bad += 1
        print("%s list tags differ" % path)
print("# %d files compared, %d differences" % (len(files), bad))
sys.exit(1 if bad or len(files) != 120 else 0)
PY
}
