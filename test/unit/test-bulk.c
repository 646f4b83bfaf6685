/* test-bulk.c - the bulk-update reader and item validation (no database) */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bulk.h"
#include "tap.h"

/* Read every item of text; returns the count or -1 with err filled. */
static long read_all(const char *text, struct mreg_bulk_item *first,
		     struct mreg_bulk_item *last, struct mreg_error *err)
{
	FILE *f = fmemopen((void *)text, strlen(text), "r");
	struct mreg_bulk_reader *r = NULL;
	struct mreg_bulk_item item;
	long n = 0;
	int rc;

	mreg_error_clear(err);
	if (!f)
		bail_out("fmemopen failed");
	r = mreg_bulk_reader_create(f, "batch.json", err);
	if (!r) {
		fclose(f);
		return -1;
	}
	while ((rc = mreg_bulk_reader_next(r, &item, err)) == 1) {
		n++;
		if (n == 1 && first) {
			*first = item;
		} else if (last) {
			mreg_bulk_item_finish(last);
			*last = item;
		} else {
			mreg_bulk_item_finish(&item);
		}
	}
	mreg_bulk_reader_destroy(r);
	fclose(f);
	return rc < 0 ? -1 : n;
}

static int has(const char *s, const char *needle)
{
	return s && strstr(s, needle) != NULL;
}

static void test_ndjson(void)
{
	struct mreg_bulk_item a = { 0 }, b = { 0 };
	struct mreg_error err;
	const char *text =
		"\n"
		"{\"model\": \"acme/m-1\", \"set\": {\"active\": false}}\r\n"
		"   \n"
		"{\"where\": {\"provider\": \"acme\", \"active\": true, "
		"\"tag\": \"x\", \"type\": \"llm\"}, "
		"\"set\": {\"config_merge\": {\"t\": 0.1, \"k\": null}, "
		"\"tags_add\": [\"a\"], \"tags_remove\": [\"b\"]}}\n";
	long n = read_all(text, &a, &b, &err);

	is_int(n, 2, "ndjson: two items, blank lines skipped");
	is_int(a.seq, 1, "ndjson: first seq");
	is_int(a.line, 2, "ndjson: first item on line 2");
	is_int(a.index, -1, "ndjson: no array index");
	ok(a.kind == MREG_BULK_ONE, "ndjson: model form");
	is_str(a.provider, "acme", "ndjson: provider split");
	is_str(a.name, "m-1", "ndjson: name split");
	is_int(a.fields, MREG_BULK_F_ACTIVE, "ndjson: fields bit");
	is_str(a.raw, "{\"model\": \"acme/m-1\", \"set\": {\"active\": false}}",
	       "ndjson: raw text kept, CR stripped");
	is_int(b.seq, 2, "ndjson: second seq");
	is_int(b.line, 4, "ndjson: second item on line 4");
	ok(b.kind == MREG_BULK_WHERE, "ndjson: where form");
	is_str(b.where_provider, "acme", "where provider");
	is_str(b.where_type, "llm", "where type");
	is_str(b.where_tag, "x", "where tag");
	is_int(b.where_active, 1, "where active");
	is_int(b.fields, MREG_BULK_F_CONFIG_MERGE | MREG_BULK_F_TAGS_ADD |
	       MREG_BULK_F_TAGS_REMOVE, "merge and tag fields");
	ok(has(b.raw, "\"t\": 0.1,"), "raw keeps 0.1 exactly");
	mreg_bulk_item_finish(&a);
	mreg_bulk_item_finish(&b);
	mreg_bulk_item_finish(NULL);
}

static void test_array(void)
{
	struct mreg_bulk_item a = { 0 }, b = { 0 };
	struct mreg_error err;
	const char *text =
		"  [\n"
		"  {\"model\": \"p/a/b\", \"set_default\": true},\n"
		"  {\"model\": \"p/c\",\n"
		"   \"set\": {\"tags\": [\"x\", \"y\"]}},{\"where\":{\"type\":"
		"\"e\"},\"set\":{\"description\":null}}\n"
		"]\n\n";
	long n = read_all(text, &a, &b, &err);

	is_int(n, 3, "array: three items");
	if (n < 0)
		diag("%s", err.message);
	is_int(a.index, 0, "array: index 0");
	is_int(a.line, 2, "array: first item on line 2");
	is_int(a.column, 3, "array: first item at column 3");
	is_str(a.provider, "p", "array: provider before the first '/'");
	is_str(a.name, "a/b", "array: name keeps later '/'");
	ok(a.set_default && !a.set, "array: set_default without set");
	is_str(a.raw, "{\"model\": \"p/a/b\", \"set_default\": true}",
	       "array: raw is the element only");
	is_int(b.index, 2, "array: last index 2");
	is_int(b.line, 4, "array: last item on line 4");
	is_str(b.raw, "{\"where\":{\"type\":\"e\"},\"set\":{\"description\":"
	       "null}}", "array: element after '},' read intact");
	mreg_bulk_item_finish(&a);
	mreg_bulk_item_finish(&b);

	is_int(read_all("[]", NULL, NULL, &err), 0, "empty array");
	is_int(read_all(" \n [ \n ] \n", NULL, NULL, &err), 0,
	       "empty array with blanks");
	is_int(read_all("", NULL, NULL, &err), 0, "empty input");
	is_int(read_all("\n\n  \n", NULL, NULL, &err), 0, "blank input");
}

struct bad_case {
	const char *text;
	long line, column;
	const char *message;
};

static void test_syntax_errors(void)
{
	static const struct bad_case cases[] = {
		{ "{\"model\": \"a/b\", \"set\": {\"active\": true}}\n"
		  "{\"model\": \"a/c\", \"set\": {\"active\": tru}}\n",
		  2, 38, "malformed JSON" },
		{ "{\"model\": \"a/b\", \"set\": {}, \"model\": \"a/c\"}\n",
		  1, 0, "duplicate object key" },
		{ "{\"model\": \"a/b\", \"set\": {\"active\": true}} x\n",
		  1, 0, "malformed JSON" },
		{ "[\n {\"model\": \"a/b\", \"set\": {\"active\": true}},\n"
		  " {\"model\": \"a/c\",\n  \"set\": {\"active\": 1,}}\n]",
		  4, 23, "array index 1: malformed JSON" },
		{ "[{\"model\": \"a/b\", \"set_default\": true},]",
		  1, 40, "expected an item after ','" },
		{ "[{\"model\": \"a/b\", \"set_default\": true}\n"
		  " {\"model\": \"a/c\", \"set_default\": true}]",
		  2, 2, "expected ',' or ']'" },
		{ "[{\"model\": \"a/b\", \"set_default\": true}] []",
		  1, 41, "unexpected data after" },
		{ "[{\"model\": \"a/b\", \"set_default\": true},\n",
		  2, 1, "unexpected end of input" },
		{ "[{\"model\": \"a/b\", \"set_default\": tr",
		  1, 0, "array index 0: malformed JSON" },
		{ "\"just a string\"\n", 1, 0, "malformed JSON" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mreg_error err;
		long n = read_all(cases[i].text, NULL, NULL, &err);

		ok(n == -1 && err.status == MREG_EXIT_DATA &&
		   has(err.message, cases[i].message),
		   "syntax case %zu: %s", i, cases[i].message);
		if (!has(err.message, cases[i].message))
			diag("  got: %s", err.message);
		is_int(err.line, cases[i].line, "syntax case %zu: line", i);
		if (cases[i].column)
			is_int(err.column, cases[i].column,
			       "syntax case %zu: column", i);
		else
			ok(err.column > 0, "syntax case %zu: has a column", i);
		is_str(err.path, "batch.json", "syntax case %zu: path", i);
	}
}

static void test_validation(void)
{
	static const struct {
		const char *item;
		const char *message;
	} cases[] = {
		{ "[1]", "an item must be a JSON object, not an array" },
		{ "{\"model\": \"a/b\", \"set\": {\"active\": true}, \"x\": 1}",
		  "key 'x': unknown key" },
		{ "{\"set\": {\"active\": true}}",
		  "missing \"model\" or \"where\"" },
		{ "{\"model\": \"a/b\", \"where\": {\"type\": \"t\"}, "
		  "\"set\": {\"active\": true}}",
		  "key 'where': cannot be combined with \"model\"" },
		{ "{\"model\": 5, \"set\": {\"active\": true}}",
		  "key 'model': must be a string \"provider/name\", not an "
		  "integer" },
		{ "{\"model\": \"ab\", \"set\": {\"active\": true}}",
		  "key 'model': \"ab\" is not of the form provider/name" },
		{ "{\"model\": \"/ab\", \"set\": {\"active\": true}}",
		  "not of the form provider/name" },
		{ "{\"model\": \"ab/\", \"set\": {\"active\": true}}",
		  "not of the form provider/name" },
		{ "{\"model\": \"a/b\"}", "missing \"set\"" },
		{ "{\"model\": \"a/b\", \"set\": {}}",
		  "key 'set': empty: nothing to change" },
		{ "{\"model\": \"a/b\", \"set\": []}",
		  "key 'set': must be an object, not an array" },
		{ "{\"where\": {}, \"set\": {\"active\": true}}",
		  "key 'where': empty selector" },
		{ "{\"where\": [], \"set\": {\"active\": true}}",
		  "key 'where': must be an object, not an array" },
		{ "{\"where\": {\"name\": \"x\"}, \"set\": {\"active\": true}}",
		  "key 'where.name': unknown key" },
		{ "{\"where\": {\"provider\": 1}, \"set\": {\"active\": true}}",
		  "key 'where.provider': must be a string, not an integer" },
		{ "{\"where\": {\"type\": \"\"}, \"set\": {\"active\": true}}",
		  "key 'where.type': must not be empty" },
		{ "{\"where\": {\"active\": \"yes\"}, \"set\": {\"active\": "
		  "true}}",
		  "key 'where.active': must be a boolean, not a string" },
		{ "{\"where\": {\"tag\": null}, \"set\": {\"active\": true}}",
		  "key 'where.tag': must be a string, not null" },
		{ "{\"where\": {\"type\": \"t\"}, \"set_default\": true}",
		  "key 'set_default': needs \"model\"" },
		{ "{\"model\": \"a/b\", \"set_default\": false}",
		  "key 'set_default': only true is accepted" },
		{ "{\"model\": \"a/b\", \"set_default\": \"yes\"}",
		  "key 'set_default': must be true, not a string" },
		{ "{\"model\": \"a/b\", \"set\": {\"colour\": 1}}",
		  "key 'set.colour': unknown key" },
		{ "{\"model\": \"a/b\", \"set\": {\"active\": \"false\"}}",
		  "key 'set.active': must be a boolean, not a string" },
		{ "{\"model\": \"a/b\", \"set\": {\"version\": 2}}",
		  "key 'set.version': must be a string or null, not an "
		  "integer" },
		{ "{\"model\": \"a/b\", \"set\": {\"display_name\": []}}",
		  "key 'set.display_name': must be a string or null, not an "
		  "array" },
		{ "{\"model\": \"a/b\", \"set\": {\"tags\": \"x\"}}",
		  "key 'set.tags': must be an array of strings, not a "
		  "string" },
		{ "{\"model\": \"a/b\", \"set\": {\"tags\": null}}",
		  "key 'set.tags': must be an array of strings, not null" },
		{ "{\"model\": \"a/b\", \"set\": {\"tags_add\": [\"a\", \"b\", "
		  "3]}}",
		  "key 'set.tags_add': item 2 must be a string, not an "
		  "integer" },
		{ "{\"model\": \"a/b\", \"set\": {\"synonyms\": [\"a\", \"\"]}}",
		  "key 'set.synonyms': item 1 is an empty string" },
		{ "{\"model\": \"a/b\", \"set\": {\"tags\": [\"a\", \"b\", "
		  "\"a\"]}}",
		  "key 'set.tags': \"a\" is listed twice" },
		{ "{\"model\": \"a/b\", \"set\": {\"config\": [1]}}",
		  "key 'set.config': must be an object, not an array" },
		{ "{\"model\": \"a/b\", \"set\": {\"metadata_merge\": null}}",
		  "key 'set.metadata_merge': must be an object, not null" },
		{ "{\"model\": \"a/b\", \"set\": {\"tags\": [], \"tags_add\": "
		  "[\"x\"]}}",
		  "key 'set.tags': cannot be combined with tags_add" },
		{ "{\"model\": \"a/b\", \"set\": {\"config\": {}, "
		  "\"config_merge\": {}}}",
		  "key 'set.config': cannot be combined with config_merge" },
		{ "{\"model\": \"a/b\", \"set\": {\"metadata\": {}, "
		  "\"metadata_merge\": {}}}",
		  "key 'set.metadata': cannot be combined" },
		{ "{\"model\": \"a/b\", \"set\": {\"tags_add\": [\"x\", \"y\"], "
		  "\"tags_remove\": [\"z\", \"y\"]}}",
		  "key 'set.tags_remove': \"y\" is also in set.tags_add" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *want = cases[i].message ? cases[i].message : "?";
		char text[1024];
		struct mreg_error err;
		long n;

		/* on line 3 of an NDJSON batch */
		snprintf(text, sizeof(text),
			 "{\"model\": \"ok/one\", \"set\": {\"active\": true}}\n"
			 "\n%s\n{\"model\": \"ok/two\", \"set_default\": true}\n",
			 cases[i].item);
		n = read_all(text, NULL, NULL, &err);
		ok(n == -1 && err.status == MREG_EXIT_DATA &&
		   has(err.message, want) && err.line == 3,
		   "invalid item %zu: %s", i, want);
		if (!has(err.message, want) || err.line != 3)
			diag("  got line %ld: %s", err.line, err.message);

		/* the same item as index 1 of an array */
		snprintf(text, sizeof(text),
			 "[{\"model\": \"ok/one\", \"set_default\": true},\n%s]",
			 cases[i].item);
		n = read_all(text, NULL, NULL, &err);
		ok(n == -1 && has(err.message, "array index 1: ") &&
		   has(err.message, want) && err.line == 2,
		   "invalid array item %zu names index and line", i);
		if (!has(err.message, "array index 1: ") || err.line != 2)
			diag("  got line %ld: %s", err.line, err.message);
	}
}

static void test_valid_forms(void)
{
	static const char *items[] = {
		"{\"model\": \"a/b\", \"set\": {\"active\": false, "
		"\"display_name\": null, \"description\": \"d\", "
		"\"version\": \"1\", \"synonyms\": [], \"config\": {}, "
		"\"metadata\": {\"a\": [1]}}}",
		"{\"model\": \"a/b\", \"set\": {\"tags\": []}, "
		"\"set_default\": true}",
		"{\"where\": {\"active\": false}, \"set\": {\"tags_remove\": "
		"[\"old\"]}}",
		"{\"set\": {\"metadata_merge\": {\"x\": null}}, \"where\": "
		"{\"tag\": \"t\"}}",
	};
	size_t i;

	for (i = 0; i < sizeof(items) / sizeof(items[0]); i++) {
		struct mreg_error err;
		long n = read_all(items[i], NULL, NULL, &err);

		is_int(n, 1, "valid item %zu", i);
		if (n != 1)
			diag("  %s", err.message);
	}
}

static void test_big(void)
{
	size_t cap = 10000 * 64 + 1, len = 0;
	char *text = malloc(cap);
	struct mreg_bulk_item last = { 0 };
	struct mreg_error err;
	long i, n;

	if (!text)
		bail_out("out of memory");
	for (i = 1; i <= 10000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"{\"model\": \"p/m%ld\", \"set\": "
					"{\"active\": %s}}\n", i,
					i == 9999 ? "\"no\"" : "true");
	n = read_all(text, NULL, NULL, &err);
	ok(n == -1 && err.line == 9999 && has(err.message, "set.active"),
	   "error on line 9999 of 10000 is reported there");

	text[0] = '\0';
	len = 0;
	for (i = 1; i <= 10000; i++)
		len += (size_t)snprintf(text + len, cap - len,
					"{\"model\": \"p/m%ld\", \"set\": "
					"{\"active\": true}}\n", i);
	n = read_all(text, NULL, &last, &err);
	is_int(n, 10000, "10000 items read");
	is_int(last.line, 10000, "last item on line 10000");
	mreg_bulk_item_finish(&last);
	free(text);

	/* an item longer than the limit */
	cap = (size_t)MREG_BULK_MAX_ITEM + 200;
	text = malloc(cap);
	if (!text)
		bail_out("out of memory");
	len = (size_t)snprintf(text, cap, "{\"model\": \"a/b\", \"set\": "
			       "{\"description\": \"");
	memset(text + len, 'x', (size_t)MREG_BULK_MAX_ITEM);
	len += (size_t)MREG_BULK_MAX_ITEM;
	snprintf(text + len, cap - len, "\"}}\n");
	n = read_all(text, NULL, NULL, &err);
	ok(n == -1 && has(err.message, "item longer than") && err.line == 1,
	   "ndjson: over-long item refused");
	text[0] = '[';
	memcpy(text + 1, "{\"model\": \"a/b\", \"set\": {\"description\": \"",
	       strlen("{\"model\": \"a/b\", \"set\": {\"description\": \""));
	n = read_all(text, NULL, NULL, &err);
	ok(n == -1 && has(err.message, "item longer than"),
	   "array: over-long item refused");
	free(text);
}

/* A real descriptor (read(2) path), fed in small pieces through a pipe. */
static void test_pipe(void)
{
	const char *text = "[{\"model\": \"a/b\", \"set_default\": true},\n"
			   " {\"model\": \"a/c\", \"set\": {\"tags\": [\"x\"]}}]\n";
	struct mreg_bulk_reader *r = NULL;
	struct mreg_bulk_item item;
	struct mreg_error err;
	FILE *in = NULL;
	int fds[2], rc, n = 0;
	long last_line = 0;

	if (pipe(fds) != 0)
		bail_out("pipe failed");
	/* a pipe buffer holds this much: write all, then close */
	if (write(fds[1], text, strlen(text)) != (ssize_t)strlen(text))
		bail_out("write failed");
	close(fds[1]);
	in = fdopen(fds[0], "r");
	if (!in)
		bail_out("fdopen failed");
	r = mreg_bulk_reader_create(in, "<stdin>", &err);
	ok(r != NULL, "pipe: reader created");
	while (r && (rc = mreg_bulk_reader_next(r, &item, &err)) == 1) {
		n++;
		last_line = item.line;
		mreg_bulk_item_finish(&item);
	}
	is_int(n, 2, "pipe: two array items through read(2)");
	is_int(last_line, 2, "pipe: second item on line 2");
	mreg_bulk_reader_destroy(r);
	fclose(in);
}

/* Numbers beyond doubles, what jsonb cannot hold, byte order marks. */
static void test_exact(void)
{
	struct mreg_bulk_item a = { 0 }, b = { 0 };
	struct mreg_error err;
	const char *nd =
		"\xef\xbb\xbf{\"model\": \"a/b\", \"set\": {\"config\": {\"big\": "
		"123456789012345678901234567890, \"e\": 1E400, \"p\": 0.06}}}\n"
		"{\"model\": \"a/c\", \"set\": {\"config_merge\": {\"x\": -0.0}}}\n";
	const char *arr =
		"\xef\xbb\xbf [\n {\"model\": \"a/b\", \"set\": {\"metadata\": "
		"{\"s\": \"]}\\\"[{\", \"n\": [1e-7, [1.50]]}}},\n"
		" {\"model\": \"a/c\", \"set\": {\"config\": {\"x\": "
		"99999999999999999999}}}\n]\n";
	long n;

	n = read_all(nd, &a, &b, &err);
	is_int(n, 2, "ndjson with a BOM: two items");
	if (n < 0)
		diag("  %s", err.message);
	is_int(a.column, 1, "ndjson: the BOM takes no column");
	is_str(a.raw, "{\"model\": \"a/b\", \"set\": {\"config\": {\"big\": "
	       "123456789012345678901234567890, \"e\": 1E400, \"p\": 0.06}}}",
	       "ndjson: big integer and exponent kept as written");
	ok(a.fields == MREG_BULK_F_CONFIG, "ndjson: config set");
	mreg_bulk_item_finish(&a);
	mreg_bulk_item_finish(&b);

	n = read_all(arr, &a, &b, &err);
	is_int(n, 2, "array with a BOM: two items");
	if (n < 0)
		diag("  %s", err.message);
	is_str(a.raw, "{\"model\": \"a/b\", \"set\": {\"metadata\": {\"s\": "
	       "\"]}\\\"[{\", \"n\": [1e-7, [1.50]]}}}",
	       "array: brackets in strings, nested arrays: the element intact");
	is_str(b.raw, "{\"model\": \"a/c\", \"set\": {\"config\": {\"x\": "
	       "99999999999999999999}}}", "array: beyond 64 bits");
	mreg_bulk_item_finish(&a);
	mreg_bulk_item_finish(&b);

	n = read_all("{\"model\": \"a/b\", \"set\": {\"config\": {\"ok\": 1}}}\n"
		     "{\"model\": \"a/b\", \"set\": {\"config_merge\": "
		     "{\"x\": [0, 1e-20000]}}}\n", NULL, NULL, &err);
	ok(n == -1 && err.status == MREG_EXIT_DATA &&
	   has(err.message, "key 'set.config_merge.x[1]': number 1e-20000 "
	       "is out of range for PostgreSQL numeric: more than 16383 digits "
	       "after the decimal point"), "ndjson: unstorable number named");
	if (!has(err.message, "set.config_merge.x[1]"))
		diag("  got: %s", err.message);
	is_int(err.line, 2, "ndjson: unstorable number: line");
	is_int(err.column, 52, "ndjson: unstorable number: column");

	n = read_all("[{\"model\": \"a/b\",\n \"set\": {\"description\": "
		     "\"a\\u0000b\"}}]", NULL, NULL, &err);
	ok(n == -1 && has(err.message, "array index 0: key "
			  "'set.description': a NUL character (U+0000) in a string"),
	   "array: NUL escape named");
	if (!has(err.message, "NUL"))
		diag("  got: %s", err.message);
	is_int(err.line, 2, "array: NUL escape: line");
	is_int(err.column, 27, "array: NUL escape: column");

	n = read_all("[{\"model\": \"a/b\", \"set\": {\"active\": true]}]",
		     NULL, NULL, &err);
	ok(n == -1 && has(err.message, "array index 0: malformed JSON"),
	   "array: a bracket that does not match");
	is_int(err.column, 41, "array: reported at the bracket");

	n = read_all("\xef\xbb\xbf", NULL, NULL, &err);
	is_int(n, 0, "a BOM alone is empty input");
	n = read_all("\xef\xbb", NULL, NULL, &err);
	ok(n == -1 && err.status == MREG_EXIT_DATA, "half a BOM is malformed");
}

/*
 * Found by test/fuzz/fuzz-bulk: jansson drops a NUL byte that follows a
 * number or literal, so such an item passed validation with the NUL in
 * its raw text (the text sent to the server).  The reader refuses it.
 */
static void test_nul_byte(void)
{
	static const struct {
		const char *text;
		size_t len;
		long line, column;
		const char *message;
	} cases[] = {
#define NUL_CASE(s, l, c, m) { s, sizeof(s) - 1, l, c, m }
		NUL_CASE("{\"model\": \"a/b\", \"set\": {\"config\": {\"n\": 1\0}}}\n",
			 1, 43, "malformed JSON: NUL byte"),
		NUL_CASE("{\"model\": \"a/b\", \"set_default\": true}\n"
			 "{\"model\": \"a/\u00e9\", \"set_default\": true\0}\n",
			 2, 37, "malformed JSON: NUL byte"),
		NUL_CASE("[{\"model\": \"a/b\", \"set\": {\"active\": true\0}}]",
			 1, 41, "array index 0: malformed JSON: NUL byte"),
#undef NUL_CASE
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		FILE *f = fmemopen((void *)cases[i].text, cases[i].len, "r");
		struct mreg_bulk_reader *r;
		struct mreg_bulk_item item;
		struct mreg_error err;
		int rc;

		if (!f)
			bail_out("fmemopen failed");
		mreg_error_clear(&err);
		r = mreg_bulk_reader_create(f, "batch.json", &err);
		while ((rc = mreg_bulk_reader_next(r, &item, &err)) == 1)
			mreg_bulk_item_finish(&item);
		ok(rc == -1 && err.status == MREG_EXIT_DATA &&
		   has(err.message, cases[i].message),
		   "NUL case %zu: %s", i, cases[i].message);
		if (!has(err.message, cases[i].message))
			diag("  got: %s", err.message);
		is_int(err.line, cases[i].line, "NUL case %zu: line", i);
		is_int(err.column, cases[i].column, "NUL case %zu: column", i);
		mreg_bulk_reader_destroy(r);
		fclose(f);
	}
}

int main(void)
{
	test_ndjson();
	test_array();
	test_syntax_errors();
	test_validation();
	test_valid_forms();
	test_big();
	test_pipe();
	test_exact();
	test_nul_byte();
	return tap_done();
}
