/* test-jsontext.c - masked parsing, jsonb's numeric limits, spans */
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsontext.h"
#include "tap.h"

static void test_mask(void)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "{\"a\": 0.06}", "{\"a\": 0.0 }" },
		{ "[1E2, -0.0, 1e-7, 1.50]", "[0.0, 0.0 , 0.0 , 0.0 ]" },
		{ "[123456789012345678901234567890]",
		  "[0                             ]" },
		{ "[-5,0,7]", "[0 ,0,0]" },
		/* strings, keys and words keep their digits */
		{ "{\"1.5\": \"2e3 \\\" 4\"}", "{\"1.5\": \"2e3 \\\" 4\"}" },
		{ "[true, null, x12]", "[true, null, x12]" },
		/* not numbers: left for jansson to report */
		{ "[01, 1., -, 1e, 1.5.3, 0x10]", "[01, 1., -, 1e, 1.5.3, 0x10]" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *m = mreg_json_mask(cases[i].in, strlen(cases[i].in), NULL);

		is_str(m, cases[i].want, "mask %s", cases[i].in);
		free(m);
	}
}

static void test_numeric(void)
{
	static const struct {
		const char *num;
		bool fits;
	} cases[] = {
		/* boundaries measured on PostgreSQL 15 ('...'::jsonb) */
		{ "0.35", true },
		{ "123456789012345678901234567890", true },
		{ "1e131071", true },
		{ "1e131072", false },
		{ "0.1e131072", true },
		{ "0.1e131073", false },
		{ "1e-16383", true },
		{ "1e-16384", false },
		{ "1.0e-16383", false },
		{ "10e-16384", false },
		{ "0e-20000", false },
		{ "0e20000000", true },
		{ "0e1073741822", true },
		{ "0e1073741823", false },
		{ "0e1073741824", false },
		{ "1e2147483648", false },
		{ "-0.0", true },
		{ "1E+2", true },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *why = mreg_json_numeric_check(cases[i].num,
							   strlen(cases[i].num));

		ok((why == NULL) == cases[i].fits, "numeric %s %s", cases[i].num,
		   cases[i].fits ? "fits" : "does not fit");
	}
}

static void test_loadb(void)
{
	json_error_t jerr;
	enum mreg_json_fail fail;
	json_t *j;
	const char *t;

	t = "{\"big\": 123456789012345678901234567890, \"e\": 1E400}";
	j = mreg_json_loadb(t, strlen(t), JSON_REJECT_DUPLICATES, &jerr, &fail);
	ok(j && fail == MREG_JSON_OK, "big integers and huge exponents parse");
	ok(json_is_integer(json_object_get(j, "big")), "an integer stays one");
	ok(json_is_real(json_object_get(j, "e")), "a real stays one");
	json_decref(j);

	t = "{\n  \"a\": 1,\n  \"b\": 1e1000000\n}";
	j = mreg_json_loadb(t, strlen(t), 0, &jerr, &fail);
	ok(!j && fail == MREG_JSON_UNSTORABLE, "1e1000000 refused");
	is_int(jerr.line, 3, "at its line");
	is_int(jerr.column, 8, "at its column");
	ok(strstr(jerr.text, "number 1e1000000 is out of range for PostgreSQL "
		  "numeric") != NULL, "message: %s", jerr.text);

	t = "{\"a\": \"x\\u0000y\"}";
	j = mreg_json_loadb(t, strlen(t), 0, &jerr, &fail);
	ok(!j && fail == MREG_JSON_UNSTORABLE, "\\u0000 refused");
	ok(strstr(jerr.text, "NUL character (U+0000)") != NULL, "message: %s", jerr.text);
	is_int(jerr.column, 9, "at the escape");

	/* a syntax error before the unstorable number comes first */
	t = "{\"a\" 1, \"b\": 1e1000000}";
	j = mreg_json_loadb(t, strlen(t), 0, &jerr, &fail);
	ok(!j && fail == MREG_JSON_SYNTAX, "earlier syntax error wins");
	is_str(jerr.text, "':' expected near '1'", "jansson's message");

	/* a placeholder quoted by jansson is shown as written */
	t = "{\"a\": 1.25 2}";
	j = mreg_json_loadb(t, strlen(t), 0, &jerr, &fail);
	ok(!j && fail == MREG_JSON_SYNTAX, "two numbers in a row");
	is_str(jerr.text, "'}' expected near '2'", "near the second");
	t = "{\"a\" 1.25}";
	j = mreg_json_loadb(t, strlen(t), 0, &jerr, &fail);
	is_str(jerr.text, "':' expected near '1.25'", "near the original");
	is_int(jerr.column, 9, "column after the original token");
	t = "[01]";
	j = mreg_json_loadb(t, strlen(t), 0, &jerr, &fail);
	ok(!j && fail == MREG_JSON_SYNTAX, "leading zero refused");
	t = "{\"a\": 1, \"a\": 2}";
	j = mreg_json_loadb(t, strlen(t), JSON_REJECT_DUPLICATES, &jerr, &fail);
	ok(!j && strstr(jerr.text, "duplicate object key"), "duplicates");
}

static void test_spans(void)
{
	const char *t = "{ \"name\": \"x\", \"conf\\u0069g\" : {\"p\": [0.06, "
			"{\"q\": 1E2}]}, \"n\": -0.0 }";
	struct mreg_json_span v;
	struct mreg_json_iter it;
	struct mreg_json_span k;
	char path[64], *s;
	size_t n, off;

	ok(mreg_json_get(t, strlen(t), "config", &v), "escaped key found");
	ok(v.len == strlen("{\"p\": [0.06, {\"q\": 1E2}]}") &&
	   memcmp(v.p, "{\"p\": [0.06, {\"q\": 1E2}]}", v.len) == 0,
	   "exact text of the value");
	ok(mreg_json_get(t, strlen(t), "n", &v) && v.len == 4 &&
	   memcmp(v.p, "-0.0", 4) == 0, "a number's text");
	ok(!mreg_json_get(t, strlen(t), "none", &v), "absent key");

	off = (size_t)(strstr(t, "1E2") - t);
	mreg_json_path_at(t, strlen(t), off, path, sizeof(path));
	is_str(path, "config.p[1].q", "path to an offset");
	off = (size_t)(strstr(t, "0.06") - t);
	mreg_json_path_at(t, strlen(t), off, path, sizeof(path));
	is_str(path, "config.p[0]", "path to an array element");

	t = "\"a\\u00e9\\ud83d\\ude00\\n\\\"\"";
	s = mreg_json_string_dup(t, strlen(t), &n);
	is_str(s, "a\xc3\xa9\xf0\x9f\x98\x80\n\"", "string decoded");
	free(s);

	ok(mreg_json_iter_init(&it, "[ \"a\" , 1.50 ,{} ]", 18), "array iter");
	ok(mreg_json_iter_next(&it, &k, &v) && v.len == 3, "element 1");
	ok(mreg_json_iter_next(&it, &k, &v) && v.len == 4 &&
	   memcmp(v.p, "1.50", 4) == 0, "element 2 as written");
	ok(mreg_json_iter_next(&it, &k, &v) && v.len == 2, "element 3");
	ok(!mreg_json_iter_next(&it, &k, &v), "end");
	ok(!mreg_json_iter_init(&it, "12", 2), "a scalar is no container");
}

static char *written(const char *s, int indent)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	mreg_json_write(f, s, strlen(s), indent);
	fclose(f);
	return buf;
}

static void test_write(void)
{
	const char *t = "{\"a\" : [1.50, 1E2, \"x, y\"], \"b\": {}, \"c\": { \"d\" :"
			" 123456789012345678901234567890 }, \"e\": []}";
	char *s;

	s = written(t, 0);
	is_str(s, "{\"a\":[1.50,1E2,\"x, y\"],\"b\":{},\"c\":{\"d\":"
		  "123456789012345678901234567890},\"e\":[]}", "compact");
	free(s);
	s = written(t, 2);
	is_str(s, "{\n  \"a\": [\n    1.50,\n    1E2,\n    \"x, y\"\n  ],\n"
		  "  \"b\": {},\n  \"c\": {\n    \"d\": "
		  "123456789012345678901234567890\n  },\n  \"e\": []\n}",
	       "indented like jansson's JSON_INDENT(2)");
	free(s);
}

int main(void)
{
	json_object_seed(0);
	test_mask();
	test_numeric();
	test_loadb();
	test_spans();
	test_write();
	return tap_done();
}
