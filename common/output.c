/* output.c - result writers: JSON, NDJSON, CSV, and the table writer
 * (output-table.c) behind one interface (see output.h) */
#include "output-impl.h"

#include "escape.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jsontext.h"
#include "utf8.h"

#define DEFAULT_WINDOW 500

/* ---- JSON and CSV scalars ------------------------------------------------- */

int mreg_json_write_string(FILE *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, n;
	uint32_t c;
	char esc[8];

	if (putc('"', out) == EOF)
		return -1;
	while (i < len) {
		n = mreg_utf8_decode(p + i, len - i, &c);
		if (n != 0 && c >= 0x20 && c != '"' && c != '\\') {
			i += n;
			run += n;
			continue;
		}
		if (run && fwrite(s + i - run, 1, run, out) != run)
			return -1;
		run = 0;
		if (n == 0) {
			fputs("\\ufffd", out);
			i++;
			continue;
		}
		switch (c) {
		case '"': fputs("\\\"", out); break;
		case '\\': fputs("\\\\", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		case '\b': fputs("\\b", out); break;
		case '\f': fputs("\\f", out); break;
		default:
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)c);
			fputs(esc, out);
		}
		i += n;
	}
	if (run && fwrite(s + i - run, 1, run, out) != run)
		return -1;
	if (putc('"', out) == EOF)
		return -1;
	return ferror(out) ? -1 : 0;
}

int mreg_csv_write_field(FILE *out, const char *s, size_t len)
{
	size_t i, start;

	if (!s)
		return 0;
	if (len > 0 && !memchr(s, ',', len) && !memchr(s, '"', len) &&
	    !memchr(s, '\n', len) && !memchr(s, '\r', len))
		return fwrite(s, 1, len, out) == len ? 0 : -1;
	putc('"', out);
	for (start = 0, i = 0; i < len; i++) {
		if (s[i] == '"') {
			/* write through the quote, then double it */
			if (fwrite(s + start, 1, i + 1 - start, out) !=
			    i + 1 - start)
				return -1;
			putc('"', out);
			start = i + 1;
		}
	}
	if (fwrite(s + start, 1, len - start, out) != len - start)
		return -1;
	return putc('"', out) == EOF ? -1 : 0;
}

/* JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool is_json_number(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.') {
		p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

/* 1 true, 0 false, -1 neither */
int mreg_output_bool(const char *s)
{
	if (strcmp(s, "t") == 0 || strcmp(s, "true") == 0)
		return 1;
	if (strcmp(s, "f") == 0 || strcmp(s, "false") == 0)
		return 0;
	return -1;
}

static void json_value(FILE *out, const struct mreg_column *col,
		       const char *v)
{
	int b;

	if (!v) {
		fputs("null", out);
		return;
	}
	switch (col->kind) {
	case MREG_COL_NUMBER:
		if (is_json_number(v)) {
			fputs(v, out);
			return;
		}
		break;
	case MREG_COL_BOOL:
		b = mreg_output_bool(v);
		if (b >= 0) {
			fputs(b ? "true" : "false", out);
			return;
		}
		break;
	case MREG_COL_JSON:
		if (*v) {
			fputs(v, out);
			return;
		}
		fputs("null", out);
		return;
	case MREG_COL_TEXT:
		break;
	}
	mreg_json_write_string(out, v, strlen(v));
}

int mreg_json_write_object(FILE *out, const struct mreg_column *cols,
			   int ncols, const char *const *values)
{
	int i;

	putc('{', out);
	for (i = 0; i < ncols; i++) {
		if (i)
			putc(',', out);
		mreg_json_write_string(out, cols[i].name, strlen(cols[i].name));
		putc(':', out);
		json_value(out, &cols[i], values[i]);
	}
	putc('}', out);
	return ferror(out) ? -1 : 0;
}

static void json_row(struct mreg_output *o, const char *const *values)
{
	mreg_json_write_object(o->out, o->cols, o->ncols, values);
}

/* The CSV header line: the column names. */
static void csv_header(struct mreg_output *o)
{
	if (o->cfg.no_headers)
		return;
	for (int i = 0; i < o->ncols; i++) {
		if (i)
			putc(',', o->out);
		mreg_csv_write_field(o->out, o->cols[i].name,
				     strlen(o->cols[i].name));
	}
	fputs("\r\n", o->out);
}

static void csv_row(struct mreg_output *o, const char *const *values)
{
	int i, b;
	const char *v;

	for (i = 0; i < o->ncols; i++) {
		if (i)
			putc(',', o->out);
		v = values[i];
		if (v && o->cols[i].kind == MREG_COL_BOOL &&
		    (b = mreg_output_bool(v)) >= 0)
			v = b ? "true" : "false";
		mreg_csv_write_field(o->out, v, v ? strlen(v) : 0);
	}
	fputs("\r\n", o->out);
}

/* ---- the writer --------------------------------------------------------- */

int mreg_output_parse_format(const char *s, enum mreg_out_format *out)
{
	static const struct {
		const char *name;
		enum mreg_out_format f;
	} names[] = {
		{ "table", MREG_OUT_TABLE },
		{ "json", MREG_OUT_JSON },
		{ "ndjson", MREG_OUT_NDJSON },
		{ "csv", MREG_OUT_CSV },
	};
	size_t i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(s, names[i].name) == 0) {
			*out = names[i].f;
			return 0;
		}
	}
	return -1;
}

struct mreg_output *mreg_output_create(FILE *out,
				       const struct mreg_output_config *cfg,
				       const struct mreg_column *cols,
				       int ncols, struct mreg_error *err)
{
	struct mreg_output *o = NULL;

	if (ncols <= 0) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "no columns to write");
		return NULL;
	}
	o = calloc(1, sizeof(*o));
	if (!o)
		goto oom;
	o->out = out;
	o->cfg = *cfg;
	o->cols = cols;
	o->ncols = ncols;
	if (o->cfg.window == 0)
		o->cfg.window = DEFAULT_WINDOW;
	if (o->cfg.format == MREG_OUT_TABLE) {
		o->width = calloc((size_t)ncols, sizeof(*o->width));
		o->held = calloc(o->cfg.window * (size_t)ncols,
				 sizeof(*o->held));
		o->held_cols = calloc(o->cfg.window * (size_t)ncols,
				      sizeof(*o->held_cols));
		if (!o->width || !o->held || !o->held_cols)
			goto oom;
	}
	return o;
oom:
	mreg_output_destroy(o);
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return NULL;
}

static int check_write(struct mreg_output *o, struct mreg_error *err)
{
	char ebuf[128];

	if (!o->werrno && !ferror(o->out))
		return 0;
	if (!o->werrno)
		o->werrno = errno ? errno : EIO;
	mreg_error_set(err, MREG_EXIT_FAILURE, "could not write output: %s",
		       mreg_strerror(o->werrno, ebuf, sizeof(ebuf)));
	return -1;
}

int mreg_output_row(struct mreg_output *o, const char *const *values,
		    struct mreg_error *err)
{
	if (check_write(o, err) < 0)
		return -1;
	switch (o->cfg.format) {
	case MREG_OUT_TABLE:
		if (mreg_table_row(o, values, err) < 0)
			return -1;
		break;
	case MREG_OUT_JSON:
		fputs(o->rows ? ",\n  " : "{\"items\": [\n  ", o->out);
		json_row(o, values);
		break;
	case MREG_OUT_NDJSON:
		json_row(o, values);
		putc('\n', o->out);
		break;
	case MREG_OUT_CSV:
		if (o->rows == 0)
			csv_header(o);
		csv_row(o, values);
		break;
	}
	o->rows++;
	return check_write(o, err);
}

void mreg_output_set_at(struct mreg_output *o, const char *at)
{
	o->at = at;
}

int mreg_output_finish(struct mreg_output *o, const char *next,
		       long long count, struct mreg_error *err)
{
	if (o->finished)
		return 0;
	o->finished = true;
	if (check_write(o, err) < 0)
		return -1;
	switch (o->cfg.format) {
	case MREG_OUT_TABLE:
		mreg_table_finish(o);
		break;
	case MREG_OUT_JSON:
		fputs(o->rows ? "\n], \"next\": " : "{\"items\": [], \"next\": ",
		      o->out);
		if (next)
			mreg_json_write_string(o->out, next, strlen(next));
		else
			fputs("null", o->out);
		if (count >= 0)
			fprintf(o->out, ", \"count\": %lld", count);
		else
			fputs(", \"count\": null", o->out);
		if (o->at) {
			fputs(", \"at\": ", o->out);
			mreg_json_write_string(o->out, o->at, strlen(o->at));
		}
		fputs("}\n", o->out);
		break;
	case MREG_OUT_NDJSON:
		break;
	case MREG_OUT_CSV:
		if (o->rows == 0)
			csv_header(o);
		break;
	}
	return check_write(o, err);
}

int mreg_output_errno(const struct mreg_output *o)
{
	return o ? o->werrno : 0;
}

void mreg_output_destroy(struct mreg_output *o)
{
	size_t r;

	if (!o)
		return;
	if (o->held)
		for (r = 0; r < o->cfg.window * (size_t)o->ncols; r++)
			free(o->held[r]);
	free(o->held);
	free(o->held_cols);
	free(o->width);
	free(o->dropped);
	free(o);
}
