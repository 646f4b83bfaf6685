/* test-output.c - result writers: escaping, layout, streaming, errors */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "output.h"
#include "tap.h"

static const struct mreg_column tcols[] = {
	{ "name", MREG_COL_TEXT, 0, MREG_PRIO_KEY },
	{ "size", MREG_COL_NUMBER, MREG_COL_RIGHT, MREG_PRIO_CORE },
	{ "active", MREG_COL_BOOL, 0, MREG_PRIO_CORE },
	{ "tags", MREG_COL_JSON, 0, MREG_PRIO_TAGS },
};
#define NCOLS 4

struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void cap_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	if (!c->f)
		bail_out("open_memstream failed");
}

static void cap_close(struct capture *c)
{
	fclose(c->f);
	c->f = NULL;
}

/* Write rows (NCOLS values each) in format fmt; returns captured text. */
static char *render(enum mreg_out_format fmt, int width, bool color,
		    size_t window, const char *const *rows, int nrows,
		    const char *next, long long count)
{
	struct mreg_output_config cfg = { fmt, width, color, window, false };
	struct mreg_error err = { 0 };
	struct mreg_output *o;
	struct capture c;
	int r;

	cap_open(&c);
	o = mreg_output_create(c.f, &cfg, tcols, NCOLS, &err);
	if (!o)
		bail_out(err.message);
	for (r = 0; r < nrows; r++)
		if (mreg_output_row(o, rows + r * NCOLS, &err) < 0)
			bail_out(err.message);
	if (mreg_output_finish(o, next, count, &err) < 0)
		bail_out(err.message);
	mreg_output_destroy(o);
	cap_close(&c);
	return c.text;
}

/* Minimal RFC 4180 reader: field `want` of record `rec` (0-based). */
static char *csv_field(const char *s, int rec, int want)
{
	int r = 0, f = 0;
	char *out = malloc(strlen(s) + 1);
	size_t n = 0;
	bool quoted;

	while (*s) {
		quoted = false;
		n = 0;
		if (*s == '"') {
			quoted = true;
			s++;
			for (;;) {
				if (!*s)
					break;
				if (*s == '"' && s[1] == '"') {
					out[n++] = '"';
					s += 2;
				} else if (*s == '"') {
					s++;
					break;
				} else {
					out[n++] = *s++;
				}
			}
		} else {
			while (*s && *s != ',' && *s != '\r')
				out[n++] = *s++;
		}
		out[n] = '\0';
		if (r == rec && f == want)
			return out;
		(void)quoted;
		if (*s == ',') {
			s++;
			f++;
		} else if (s[0] == '\r' && s[1] == '\n') {
			s += 2;
			r++;
			f = 0;
		} else {
			break;
		}
	}
	free(out);
	return NULL;
}

static void test_json_string(void)
{
	const char *samples[] = {
		"plain", "quo\"te", "back\\slash", "new\nline\ttab\r",
		"ctl\x01\x1f", "caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac",
		"openrouter/meta-llama/llama-3:70b@v1.0", "", "emoji \xf0\x9f\x98\x80",
	};
	size_t i;

	for (i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		struct capture c;
		json_t *j;

		cap_open(&c);
		mreg_json_write_string(c.f, samples[i], strlen(samples[i]));
		cap_close(&c);
		j = json_loads(c.text, JSON_DECODE_ANY, NULL);
		ok(j && json_is_string(j) &&
			   strcmp(json_string_value(j), samples[i]) == 0,
		   "json string %zu round-trips: %s", i, c.text);
		ok(!strchr(c.text, '\n') && !strchr(c.text, '\x01'),
		   "json string %zu has no raw control characters", i);
		json_decref(j);
		free(c.text);
	}

	/* invalid UTF-8 (lone continuation byte, overlong, surrogate) */
	{
		const char bad[] = "a\x80" "b\xc0\xaf" "c\xed\xa0\x80";
		struct capture c;
		json_t *j;

		cap_open(&c);
		mreg_json_write_string(c.f, bad, sizeof(bad) - 1);
		cap_close(&c);
		j = json_loads(c.text, JSON_DECODE_ANY, NULL);
		ok(j != NULL, "invalid UTF-8 still gives valid JSON: %s",
		   c.text);
		ok(strstr(c.text, "\\ufffd") != NULL,
		   "invalid bytes become U+FFFD");
		json_decref(j);
		free(c.text);
	}
}

static void test_ndjson(void)
{
	const char *rows[] = {
		"a,b", "42", "t", "[\"x\",\"y\"]",
		"q\"uote\nnl", NULL, "f", NULL,
		"n", "NaN", "maybe", "{}",
	};
	char *text = render(MREG_OUT_NDJSON, 0, false, 0, rows, 3, "cur", 5);
	char *line, *save = NULL, *copy = strdup(text);
	json_t *j[3] = { NULL, NULL, NULL };
	int n = 0;

	for (line = strtok_r(copy, "\n", &save); line && n < 3;
	     line = strtok_r(NULL, "\n", &save))
		j[n++] = json_loads(line, 0, NULL);
	is_int(n, 3, "ndjson: three lines");
	ok(j[0] && strcmp(json_string_value(json_object_get(j[0], "name")),
			  "a,b") == 0, "ndjson: text field");
	ok(j[0] && json_integer_value(json_object_get(j[0], "size")) == 42,
	   "ndjson: number field is a number");
	ok(j[0] && json_is_true(json_object_get(j[0], "active")),
	   "ndjson: t is true");
	ok(j[0] && json_array_size(json_object_get(j[0], "tags")) == 2,
	   "ndjson: JSON column embedded");
	ok(j[1] && strcmp(json_string_value(json_object_get(j[1], "name")),
			  "q\"uote\nnl") == 0, "ndjson: quote and newline");
	ok(j[1] && json_is_null(json_object_get(j[1], "size")) &&
		   json_is_null(json_object_get(j[1], "tags")),
	   "ndjson: NULL is null");
	ok(j[1] && json_is_false(json_object_get(j[1], "active")),
	   "ndjson: f is false");
	ok(j[2] && json_is_string(json_object_get(j[2], "size")) &&
		   json_is_string(json_object_get(j[2], "active")),
	   "ndjson: a non-number / non-boolean stays a string");
	ok(!strstr(text, "cur"), "ndjson carries no envelope");
	for (n = 0; n < 3; n++)
		json_decref(j[n]);
	free(copy);
	free(text);
}

static void test_json_envelope(void)
{
	const char *rows[] = { "m1", "1", "t", "[]", "m2", "2", "f", "[]" };
	json_error_t jerr;
	char *text;
	json_t *j;

	text = render(MREG_OUT_JSON, 0, false, 0, rows, 2, "abc", 7);
	j = json_loads(text, 0, &jerr);
	ok(j != NULL, "json: document parses (%s)", j ? "ok" : jerr.text);
	is_int(json_array_size(json_object_get(j, "items")), 2,
	       "json: two items");
	is_str(json_string_value(json_object_get(j, "next")), "abc",
	       "json: next cursor");
	is_int(json_integer_value(json_object_get(j, "count")), 7,
	       "json: count");
	json_decref(j);
	free(text);

	text = render(MREG_OUT_JSON, 0, false, 0, rows, 0, NULL, -1);
	j = json_loads(text, 0, &jerr);
	ok(j && json_array_size(json_object_get(j, "items")) == 0 &&
		   json_is_null(json_object_get(j, "next")) &&
		   json_is_null(json_object_get(j, "count")),
	   "json: empty page of unknown total: items [], next and count "
	   "null");
	json_decref(j);
	free(text);
}

static void test_csv(void)
{
	const char *rows[] = {
		"comma, and \"quotes\"", "1", "t", "[\"a,b\"]",
		"multi\r\nline", NULL, "f", NULL,
		"", "3", "t", "[]",
		"caf\xc3\xa9/\xe6\x97\xa5", "4", "t", "[]",
	};
	char *text = render(MREG_OUT_CSV, 0, false, 0, rows, 4, NULL, -1);
	char *f;

	ok(strncmp(text, "name,size,active,tags\r\n", 23) == 0,
	   "csv: header line with CRLF");
	f = csv_field(text, 1, 0);
	is_str(f, "comma, and \"quotes\"", "csv: comma and quotes round-trip");
	free(f);
	f = csv_field(text, 1, 3);
	is_str(f, "[\"a,b\"]", "csv: JSON column as JSON text");
	free(f);
	f = csv_field(text, 2, 0);
	is_str(f, "multi\r\nline", "csv: CRLF inside a field round-trips");
	free(f);
	f = csv_field(text, 2, 2);
	is_str(f, "false", "csv: boolean spelled out");
	free(f);
	ok(strstr(text, "\r\n\"\",3,") != NULL,
	   "csv: empty string is \"\" (NULL is an empty field)");
	ok(strstr(text, "line\",,false,\r\n") != NULL,
	   "csv: NULL is an empty unquoted field");
	f = csv_field(text, 4, 0);
	is_str(f, "caf\xc3\xa9/\xe6\x97\xa5", "csv: non-ASCII unchanged");
	free(f);
	free(text);

	text = render(MREG_OUT_CSV, 0, false, 0, rows, 0, NULL, -1);
	is_str(text, "name,size,active,tags\r\n", "csv: no rows, header only");
	free(text);
}

/* length in display columns of each line */
static int max_line_cols(const char *text)
{
	int max = 0;
	const char *p = text, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		if ((int)mreg_display_width(p, (size_t)(nl - p)) > max)
			max = (int)mreg_display_width(p, (size_t)(nl - p));
		p = *nl ? nl + 1 : nl;
	}
	return max;
}

static void test_table(void)
{
	const char *rows[] = {
		"short", "1", "t", "[\"a\",\"b\"]",
		"a-much-longer-model-name-that-will-not-fit", "12345", "f", "[]",
		"new\nline\x1b[31m", NULL, "t", NULL,
	};
	char *text;

	text = render(MREG_OUT_TABLE, 0, false, 0, rows, 3, "nx", 3);
	ok(strncmp(text, "NAME", 4) == 0, "table: upper-case header");
	ok(strstr(text, "short      ") != NULL, "table: columns padded");
	ok(strstr(text, "a, b") != NULL, "table: JSON array joined");
	ok(strstr(text, "new\\nline\\x1b[31m") != NULL,
	   "table: control characters escaped");
	ok(!strchr(text, '\x1b'), "table: no raw escape sequence");
	ok(!strstr(text, "nx"), "table: no cursor in the table itself");
	ok(strstr(text, "   1  ") != NULL, "table: numbers right-aligned");
	ok(!strstr(text, "\xe2\x80\xa6"), "table: nothing cut without a limit");
	free(text);

	text = render(MREG_OUT_TABLE, 30, false, 0, rows, 3, NULL, -1);
	ok(max_line_cols(text) <= 30, "table: fits 30 columns (widest %d)",
	   max_line_cols(text));
	ok(strstr(text, "\xe2\x80\xa6") != NULL, "table: cut cell marked");
	ok(strstr(text, "a-much") != NULL, "table: cut cell keeps its start");
	free(text);

	text = render(MREG_OUT_TABLE, 0, true, 0, rows, 1, NULL, -1);
	ok(strncmp(text, "\033[1mNAME", 8) == 0 &&
		   strstr(text, "\033[0m\n") != NULL,
	   "table: bold header when colour is on");
	free(text);

	/* window of 1: later rows reuse the widths, and are cut when a
	 * limit is set */
	text = render(MREG_OUT_TABLE, 40, false, 1, rows, 2, NULL, -1);
	ok(strstr(text, "a-mu\xe2\x80\xa6") != NULL,
	   "table: rows after the window are cut to the sized width");
	free(text);
	text = render(MREG_OUT_TABLE, 0, false, 1, rows, 2, NULL, -1);
	ok(strstr(text, "a-much-longer-model-name-that-will-not-fit") != NULL,
	   "table: without a limit later rows are never cut");
	free(text);

	text = render(MREG_OUT_TABLE, 0, false, 0, rows, 0, NULL, -1);
	ok(strncmp(text, "NAME", 4) == 0 && strchr(text, '\n') ==
						    text + strlen(text) - 1,
	   "table: no rows, header only");
	free(text);
}

/* JSON values from the server keep their text in every format. */
static void test_exact_json(void)
{
	const char *rows[] = {
		"a", "1", "t", "[0.35, 1E2, 123456789012345678901234567890]",
		"b", "2", "t", "{\"threshold\": 0.35, \"big\": 1.50}",
		"c", "3", "t", "[\"x, y\", \"\\u00e9\"]",
		"d", "4", "t", "[0.35, 1E2, \"s\"]",
	};
	char *text;

	text = render(MREG_OUT_TABLE, 0, false, 0, rows, 4, NULL, -1);
	ok(strstr(text, "[0.35, 1E2, 123456789012345678901234567890]") != NULL,
	   "table: an array with a big integer as the server wrote it");
	ok(strstr(text, "[0.35, 1E2, \"s\"]") != NULL,
	   "table: an array of numbers and strings as the server wrote it");
	ok(strstr(text, "{\"threshold\": 0.35, \"big\": 1.50}") != NULL,
	   "table: an object as the server wrote it");
	ok(strstr(text, "x, y, \xc3\xa9") != NULL,
	   "table: an array of strings joined, escapes decoded");
	free(text);
	text = render(MREG_OUT_NDJSON, 0, false, 0, rows, 2, NULL, -1);
	ok(strstr(text, "\"tags\":[0.35, 1E2, 123456789012345678901234567890]") &&
	   strstr(text, "\"tags\":{\"threshold\": 0.35, \"big\": 1.50}"),
	   "ndjson: JSON values verbatim");
	free(text);
	text = render(MREG_OUT_CSV, 0, false, 0, rows, 1, NULL, -1);
	ok(strstr(text, "\"[0.35, 1E2, 123456789012345678901234567890]\"") != NULL,
	   "csv: JSON values verbatim");
	free(text);
}

/* The table shows hostile text escaped, the data formats keep it exact. */
static void test_hostile(void)
{
	const char *rows[] = {
		"m\xe2\x80\xaetxt.exe", "1", "t", "[\"a\\\\b\", \"c\\nd\"]",
		"back\\slash", "2", "t", "{\"p\": \"C:\\\\m\\u202e\"}",
		"new\nline", "3", "t", "{\"p\": \"x\xe2\x80\xaey\"}",
	};
	char *text;

	text = render(MREG_OUT_TABLE, 0, false, 0, rows, 3, NULL, -1);
	ok(strstr(text, "m\\u202etxt.exe") != NULL,
	   "table: U+202E shown as \\u202e");
	ok(!strstr(text, "\xe2\x80\xae"), "table: no raw U+202E");
	ok(strstr(text, "back\\\\slash") != NULL,
	   "table: a real backslash shown doubled");
	ok(strstr(text, "new\\nline") != NULL, "table: a newline as \\n");
	ok(strstr(text, "a\\\\b, c\\nd") != NULL,
	   "table: array elements are text, escaped");
	ok(strstr(text, "{\"p\": \"C:\\\\m\\u202e\"}") != NULL,
	   "table: JSON text keeps its own escapes");
	ok(strstr(text, "{\"p\": \"x\\u202ey\"}") != NULL,
	   "table: a raw U+202E in JSON text becomes \\u202e");
	free(text);

	text = render(MREG_OUT_NDJSON, 0, false, 0, rows, 3, NULL, -1);
	ok(strstr(text, "\"m\xe2\x80\xaetxt.exe\"") != NULL,
	   "ndjson: U+202E exact");
	ok(strstr(text, "\"back\\\\slash\"") != NULL,
	   "ndjson: backslash as JSON says");
	free(text);
	text = render(MREG_OUT_CSV, 0, false, 0, rows, 3, NULL, -1);
	ok(strstr(text, "m\xe2\x80\xaetxt.exe,") != NULL, "csv: U+202E exact");
	ok(strstr(text, "back\\slash,") != NULL, "csv: backslash exact");
	free(text);
}

/* ---- shrinking by priority ------------------------------------------------ */

static const struct mreg_column pcols[] = {
	{ "model", MREG_COL_TEXT, 0, MREG_PRIO_KEY },
	{ "type", MREG_COL_TEXT, 0, MREG_PRIO_CORE },
	{ "tags", MREG_COL_JSON, 0, MREG_PRIO_TAGS },
	{ "updated_at", MREG_COL_TEXT, 0, MREG_PRIO_TIME },
	{ "description", MREG_COL_TEXT, 0, MREG_PRIO_LEAST },
};
static const char *const prows[] = {
	"openai/text-embedding-3-large", "embedding",
	"[\"search\",\"retrieval\"]", "2026-12-01 12:04:51+00",
	"A long description of the model that goes on",
	"openai/text-embedding-3-small", "embedding", "[]",
	"2026-12-01 12:04:52+00", "smaller",
};

static char *render_p(enum mreg_out_format fmt, int width, bool no_headers)
{
	struct mreg_output_config cfg = { fmt, width, false, 0, no_headers };
	struct mreg_error err = { 0 };
	struct mreg_output *o;
	struct capture c;

	cap_open(&c);
	o = mreg_output_create(c.f, &cfg, pcols, 5, &err);
	if (!o || mreg_output_row(o, prows, &err) < 0 ||
	    mreg_output_row(o, prows + 5, &err) < 0 ||
	    mreg_output_finish(o, NULL, -1, &err) < 0)
		bail_out(err.message);
	mreg_output_destroy(o);
	cap_close(&c);
	return c.text;
}

static bool has(const char *text, const char *s)
{
	return strstr(text, s) != NULL;
}

/* Does the first line (the header) hold s? */
static bool header_has(const char *text, const char *s)
{
	const char *p = strstr(text, s), *nl = strchr(text, '\n');

	return p && (!nl || p < nl);
}

static void test_shrink_order(void)
{
	char *t;

	/* 129 columns wide: at 100 only the description gives */
	t = render_p(MREG_OUT_TABLE, 100, false);
	ok(max_line_cols(t) <= 100 && has(t, "text-embedding-3-large  ") &&
		   has(t, "search, retrieval") && has(t, "12:04:51+00") &&
		   has(t, "A long des") && !has(t, "goes on"),
	   "shrink: the description is cut first");
	free(t);
	/* at 70: the description down to its header, then the tags, then
	 * the time, then the type; the models stay whole */
	t = render_p(MREG_OUT_TABLE, 70, false);
	ok(max_line_cols(t) <= 70 && has(t, "openai/text-embedding-3-large") &&
		   has(t, "openai/text-embedding-3-small") &&
		   has(t, "sea\xe2\x80\xa6") && has(t, "2026-12-0\xe2\x80\xa6") &&
		   has(t, "A long des\xe2\x80\xa6") && has(t, "embeddi\xe2\x80\xa6"),
	   "shrink: description, tags, timestamps, then type; model whole");
	ok(header_has(t, "UPDATED_AT  DESCRIPTION") && !has(t, "not shown"),
	   "shrink: no header cut, nothing left out at 70");
	free(t);
	/* at 50 even the minimums do not fit: the least important go */
	t = render_p(MREG_OUT_TABLE, 50, false);
	ok(max_line_cols(t) <= 50 && has(t, "openai/text-embedding-3-large") &&
		   header_has(t, "MODEL") && header_has(t, "UPDATED_AT") &&
		   !header_has(t, "DESC") && !header_has(t, "TAGS") &&
		   has(t, "-- not shown: TAGS, DESCRIPTION\n"),
	   "shrink: description and tags left out, a footer names them");
	free(t);
	/* at 46 the time goes too, and the type is whole again */
	t = render_p(MREG_OUT_TABLE, 46, false);
	ok(max_line_cols(t) <= 46 && has(t, "openai/text-embedding-3-large") &&
		   has(t, "embedding\n") &&
		   has(t, "-- not shown: TAGS, UPDATED_AT, DESCRIPTION\n"),
	   "shrink: timestamps left out before the type");
	free(t);
	/* a footer longer than the width wraps */
	t = render_p(MREG_OUT_TABLE, 32, false);
	ok(max_line_cols(t) <= 32 && has(t, "-- not shown: TYPE, TAGS,\n--   "),
	   "shrink: the footer wraps to the width");
	free(t);
	/* at 20 the model alone does not fit: it is cut, alone */
	t = render_p(MREG_OUT_TABLE, 20, false);
	ok(max_line_cols(t) <= 20 && has(t, "openai/text-embeddi\xe2\x80\xa6") &&
		   !has(t, "embedding  "),
	   "shrink: the model is cut last, when nothing else is left");
	free(t);
	/* without a limit nothing is cut or left out */
	t = render_p(MREG_OUT_TABLE, 0, false);
	ok(has(t, "goes on") && !has(t, "\xe2\x80\xa6") &&
		   !has(t, "not shown"),
	   "shrink: no limit, nothing cut");
	free(t);
	t = render_p(MREG_OUT_TABLE, 0, true);
	ok(strncmp(t, "openai/text-embedding-3-large  embedding", 40) == 0 &&
		   !has(t, "MODEL"),
	   "no headers: the first line is the first row");
	free(t);
	t = render_p(MREG_OUT_CSV, 0, true);
	ok(strncmp(t, "openai/text-embedding-3-large,embedding,", 40) == 0,
	   "no headers: csv rows only");
	free(t);
}

static void test_width(void)
{
	size_t cols;
	char *e;

	is_int(mreg_display_width("abc", 3), 3, "width: ASCII");
	is_int(mreg_display_width("\xe6\x97\xa5\xe6\x9c\xac", 6), 4,
	       "width: CJK counts 2");
	is_int(mreg_display_width("e\xcc\x81", 3), 1,
	       "width: combining mark counts 0");
	e = mreg_cell_escape("a\x80" "b", 3, &cols);
	is_str(e, "a\\x80b", "escape: invalid byte as \\xNN");
	is_int(cols, 6, "escape: width of the escaped text");
	free(e);
	e = mreg_cell_escape("\xc2\x9b" "x", 3, &cols);
	is_str(e, "\\u009bx", "escape: C1 control escaped");
	free(e);
}

static void test_write_error(void)
{
	const char *row[] = { "x", "1", "t", "[]" };
	struct mreg_output_config cfg = { MREG_OUT_NDJSON, 0, false, 0, false };
	struct mreg_error err = { 0 };
	struct mreg_output *o;
	FILE *f = fopen("/dev/full", "w");
	int i, rc = 0;

	if (!f) {
		ok(0, "open /dev/full");
		return;
	}
	setvbuf(f, NULL, _IONBF, 0);
	o = mreg_output_create(f, &cfg, tcols, NCOLS, &err);
	for (i = 0; i < 3 && rc == 0; i++)
		rc = mreg_output_row(o, row, &err);
	is_int(rc, -1, "write error: row returns -1");
	is_int(mreg_output_errno(o), ENOSPC, "write error: errno kept");
	ok(strstr(err.message, "could not write output") != NULL,
	   "write error: message (%s)", err.message);
	is_int(mreg_output_row(o, row, &err), -1,
	       "write error: later rows fail too");
	mreg_output_destroy(o);
	fclose(f);
}

static void test_formats(void)
{
	enum mreg_out_format f;

	ok(mreg_output_parse_format("ndjson", &f) == 0 && f == MREG_OUT_NDJSON,
	   "format: ndjson");
	ok(mreg_output_parse_format("csv", &f) == 0 && f == MREG_OUT_CSV,
	   "format: csv");
	ok(mreg_output_parse_format("yaml", &f) == -1, "format: yaml refused");
	ok(mreg_output_parse_format("JSON", &f) == -1,
	   "format: names are lower case");
}

int main(void)
{
	test_json_string();
	test_ndjson();
	test_json_envelope();
	test_csv();
	test_table();
	test_exact_json();
	test_hostile();
	test_width();
	test_shrink_order();
	test_write_error();
	test_formats();
	mreg_output_destroy(NULL);
	return tap_done();
}
