/* bulk.c - reading the items of a bulk-update batch (bulk-check.c checks them)
 *
 * The reader pulls bytes through its own buffer and counts lines and
 * columns itself, so both formats stream:
 *  - NDJSON: one line at a time (blank lines skipped); a syntax error is
 *    at (line, jansson's column).
 *  - JSON array: the reader scans '[', ',' and ']' itself and reads one
 *    element at a time, up to its closing bracket (tracking strings and
 *    nesting; it stops early where a bracket does not match).  Error
 *    positions relative to the element are shifted to the element's start.
 * Either way jansson parses the item's text through mreg_json_loadb(): a
 * masked copy, so numbers never become doubles and big integers and
 * exponents pass, and what jsonb cannot hold is refused here, with its
 * position.  The exact text of each item is kept and sent: the server
 * parses the numbers itself (jansson holds reals as doubles: 0.1 would
 * come back as 0.10000000000000001).  A UTF-8 byte order mark at the very
 * start of the input is skipped.
 */
#include "bulk.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "jsontext.h"
#include "utf8.h"

#define READ_CHUNK 65536
/* nesting an array element may have: above jansson's limit (2048), so
 * jansson is the one to report a deeper element */
#define ELEMENT_DEPTH 2100

struct mreg_bulk_reader {
	FILE *in;
	int fd;          /* in's descriptor, -1 for a memory stream */
	char path[1024];
	enum mreg_bulk_format format;
	unsigned char *chunk;
	size_t chunk_len, chunk_pos;
	int read_errno;  /* set when fread failed */
	long line, column; /* of the next byte (1-based) */
	char *raw;       /* the current item's text */
	size_t raw_len, raw_cap;
	bool raw_overflow;
	bool nul;        /* array: the item held a NUL byte, at: */
	long nul_line, nul_column;
	long seq;        /* items returned so far */
	long index;      /* next array index */
	bool done;
	bool started;    /* array: '[' consumed */
};

/* ---- bytes ---------------------------------------------------------------*/

static int rd_fill(struct mreg_bulk_reader *r)
{
	if (r->chunk_pos < r->chunk_len)
		return 1;
	if (r->read_errno)
		return 0;
	r->chunk_pos = 0;
	r->chunk_len = 0;
	if (r->fd >= 0) {
		/* read(2): take what a pipe has now, do not wait for a chunk */
		ssize_t n;

		do
			n = read(r->fd, r->chunk, READ_CHUNK);
		while (n < 0 && errno == EINTR);
		if (n < 0) {
			r->read_errno = errno;
			return 0;
		}
		r->chunk_len = (size_t)n;
		return n > 0;
	}
	r->chunk_len = fread(r->chunk, 1, READ_CHUNK, r->in);
	if (r->chunk_len == 0) {
		if (ferror(r->in))
			r->read_errno = errno ? errno : EIO;
		return 0;
	}
	return 1;
}

static int rd_peek(struct mreg_bulk_reader *r)
{
	return rd_fill(r) ? r->chunk[r->chunk_pos] : EOF;
}

static int rd_get(struct mreg_bulk_reader *r)
{
	int c;

	if (!rd_fill(r))
		return EOF;
	c = r->chunk[r->chunk_pos++];
	if (c == '\n') {
		r->line++;
		r->column = 1;
	} else if (!mreg_utf8_is_cont((unsigned char)c)) {
		/* columns count characters, as jansson's do */
		r->column++;
	}
	return c;
}

static int is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Skip JSON whitespace; returns the next byte (not consumed) or EOF. */
static int rd_skip_blank(struct mreg_bulk_reader *r)
{
	int c;

	while ((c = rd_peek(r)) != EOF && is_blank(c))
		rd_get(r);
	return c;
}

static int raw_add(struct mreg_bulk_reader *r, char c)
{
	if (r->raw_len + 1 >= r->raw_cap) {
		size_t cap = r->raw_cap ? r->raw_cap * 2 : 4096;
		char *p;

		if (r->raw_len + 1 >= (size_t)MREG_BULK_MAX_ITEM) {
			r->raw_overflow = true;
			return -1;
		}
		if (cap > (size_t)MREG_BULK_MAX_ITEM)
			cap = (size_t)MREG_BULK_MAX_ITEM;
		p = realloc(r->raw, cap);
		if (!p)
			return -1;
		r->raw = p;
		r->raw_cap = cap;
	}
	r->raw[r->raw_len++] = c;
	r->raw[r->raw_len] = '\0';
	return 0;
}

/* ---- errors --------------------------------------------------------------*/

/*
 * JSON has no NUL byte outside a string (there, only as \u0000, which
 * mreg refuses), but jansson silently drops one that follows a number or
 * a literal (1\0 parses as 1) and the item's raw text, NUL included,
 * would reach the server.  The reader refuses the byte itself.
 */
#define NUL_MESSAGE "malformed JSON: NUL byte"

/* 1-based column (in characters) of byte off of a line s */
static long text_column(const char *s, size_t off)
{
	long col = 1;
	size_t i;

	for (i = 0; i < off; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			col++;
	return col;
}

static void set_read_error(struct mreg_bulk_reader *r, struct mreg_error *err)
{
	char buf[128];

	mreg_error_set(err, MREG_EXIT_FAILURE, "could not read \"%s\": %s",
		       r->path, mreg_strerror(r->read_errno, buf, sizeof(buf)));
}


/*
 * A data error at line:column of the input (column 0: unknown); array
 * items are also named by their index.  The message is taken from fmt.
 */
__attribute__((format(printf, 6, 7)))
static void data_error(struct mreg_bulk_reader *r, struct mreg_error *err,
		       long line, long column, long index, const char *fmt,
		       ...)
{
	va_list ap;

	va_start(ap, fmt);
	mreg_error_setv(err, MREG_EXIT_DATA, fmt, ap);
	va_end(ap);
	if (index >= 0)
		mreg_error_prefix(err, "array index %ld", index);
	mreg_error_at(err, r->path, line, column);
}

/* Keep err's message and detail, add the position of the item. */
static void locate_error(struct mreg_bulk_reader *r, struct mreg_error *err,
			 long line, long index)
{
	if (index >= 0)
		mreg_error_prefix(err, "array index %ld", index);
	mreg_error_at(err, r->path, line, 0);
}

/* ---- reader --------------------------------------------------------------*/

/*
 * A UTF-8 byte order mark at the very start (Windows editors write one)
 * is skipped; positions count from after it.  Reads until three bytes are
 * there (a pipe may deliver fewer); -1 on a read error.
 */
static int skip_bom(struct mreg_bulk_reader *r)
{
	while (r->chunk_len < 3 && !r->read_errno) {
		size_t want = 3 - r->chunk_len, got;

		if (r->fd >= 0) {
			ssize_t n;

			do
				n = read(r->fd, r->chunk + r->chunk_len, want);
			while (n < 0 && errno == EINTR);
			if (n < 0)
				r->read_errno = errno;
			got = n > 0 ? (size_t)n : 0;
		} else {
			got = fread(r->chunk + r->chunk_len, 1, want, r->in);
			if (got == 0 && ferror(r->in))
				r->read_errno = errno ? errno : EIO;
		}
		if (got == 0)
			break;
		r->chunk_len += got;
	}
	if (r->read_errno)
		return -1;
	if (r->chunk_len >= 3 && memcmp(r->chunk, "\xef\xbb\xbf", 3) == 0)
		r->chunk_pos = 3;
	return 0;
}

struct mreg_bulk_reader *mreg_bulk_reader_create(FILE *in, const char *path,
						 struct mreg_error *err)
{
	struct mreg_bulk_reader *r = NULL;
	int c;

	r = calloc(1, sizeof(*r));
	if (!r)
		goto oom;
	r->chunk = malloc(READ_CHUNK);
	if (!r->chunk)
		goto oom;
	r->in = in;
	r->fd = fileno(in);
	snprintf(r->path, sizeof(r->path), "%s", path ? path : "<stdin>");
	r->line = 1;
	r->column = 1;
	if (skip_bom(r) < 0) {
		set_read_error(r, err);
		mreg_bulk_reader_destroy(r);
		return NULL;
	}
	/* the first non-blank byte decides; blanks before it are skipped */
	c = rd_skip_blank(r);
	if (c == EOF && r->read_errno) {
		set_read_error(r, err);
		mreg_bulk_reader_destroy(r);
		return NULL;
	}
	r->format = c == '[' ? MREG_BULK_ARRAY : MREG_BULK_NDJSON;
	return r;
oom:
	mreg_bulk_reader_destroy(r);
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return NULL;
}

void mreg_bulk_reader_destroy(struct mreg_bulk_reader *r)
{
	if (!r)
		return;
	free(r->chunk);
	free(r->raw);
	free(r);
}

enum mreg_bulk_format mreg_bulk_reader_format(const struct mreg_bulk_reader *r)
{
	return r->format;
}

const char *mreg_bulk_reader_path(const struct mreg_bulk_reader *r)
{
	return r->path;
}

/* Hand the finished raw text and tree to item; validate it. */
static int finish_item(struct mreg_bulk_reader *r, json_t *root, long line,
		       long column, long index, struct mreg_bulk_item *item,
		       struct mreg_error *err)
{
	memset(item, 0, sizeof(*item));
	item->root = root;
	item->raw = r->raw;
	item->raw_len = r->raw_len;
	r->raw = NULL;
	r->raw_len = r->raw_cap = 0;
	item->seq = ++r->seq;
	item->line = line;
	item->column = column;
	item->index = index;
	if (mreg_bulk_validate(root, item, err) < 0) {
		locate_error(r, err, line, index);
		mreg_bulk_item_finish(item);
		return -1;
	}
	return 1;
}

/*
 * The item (raw, len) did not parse: malformed JSON, or JSON that jsonb
 * cannot hold (named by its path in the item), at line:column.
 */
static void parse_error(struct mreg_bulk_reader *r, struct mreg_error *err,
			long line, long column, long index,
			const json_error_t *jerr, enum mreg_json_fail fail,
			const char *raw, size_t len)
{
	char where[256];

	if (fail == MREG_JSON_NOMEM) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return;
	}
	if (fail == MREG_JSON_UNSTORABLE) {
		mreg_json_path_at(raw, len, (size_t)jerr->position, where,
				  sizeof(where));
		if (where[0])
			data_error(r, err, line, column, index,
				   "key '%s': %s", where, jerr->text);
		else
			data_error(r, err, line, column, index, "%s",
				   jerr->text);
		return;
	}
	data_error(r, err, line, column, index, "malformed JSON: %s",
		   jerr->text);
	mreg_error_hint(err, r->format == MREG_BULK_NDJSON
			? "The input is read as NDJSON: one JSON object per "
			  "line (a JSON array must start with '[')."
			: "The input is read as one JSON array of objects.");
}

static int next_ndjson(struct mreg_bulk_reader *r, struct mreg_bulk_item *item,
		       struct mreg_error *err)
{
	for (;;) {
		long line, column = 0;
		bool blank = true;
		json_error_t jerr;
		enum mreg_json_fail fail;
		json_t *root;
		const char *nul;
		int c;

		if (r->done)
			return 0;
		line = r->line;
		r->raw_len = 0;
		while ((c = rd_get(r)) != EOF && c != '\n') {
			if (blank && !is_blank(c)) {
				blank = false;
				column = r->column - 1;
			}
			if (raw_add(r, (char)c) < 0) {
				if (r->raw_overflow)
					data_error(r, err, line, 0, -1,
						   "item longer than %ld "
						   "bytes", MREG_BULK_MAX_ITEM);
				else
					mreg_error_set(err, MREG_EXIT_FAILURE,
						       "out of memory");
				return -1;
			}
		}
		if (c == EOF) {
			if (r->read_errno) {
				set_read_error(r, err);
				return -1;
			}
			r->done = true;
		}
		if (blank)
			continue;
		if (r->raw_len > 0 && r->raw[r->raw_len - 1] == '\r')
			r->raw[--r->raw_len] = '\0';
		nul = memchr(r->raw, '\0', r->raw_len);
		if (nul) {
			data_error(r, err, line,
				   text_column(r->raw, (size_t)(nul - r->raw)),
				   -1, NUL_MESSAGE);
			return -1;
		}
		root = mreg_json_loadb(r->raw, r->raw_len,
				       JSON_REJECT_DUPLICATES, &jerr, &fail);
		if (!root) {
			/* jansson counts columns from the line's start */
			parse_error(r, err, line, jerr.column > 0 ?
				    jerr.column : column, -1, &jerr, fail,
				    r->raw, r->raw_len);
			return -1;
		}
		return finish_item(r, root, line, column, -1, item, err);
	}
}

/*
 * Read one array element into raw: a string, a scalar up to the next
 * ',', ']' or blank, or an object or array up to its closing bracket.
 * Where the text is wrong (a closing bracket that does not match, a
 * control character in a string, nesting deeper than jansson takes) it
 * stops right there, so that jansson reports the error at its place.
 * 0, or -1 on a read error, an item too long (raw_overflow) or no memory.
 */
static int read_element(struct mreg_bulk_reader *r)
{
	char want[ELEMENT_DEPTH];
	size_t depth = 0;
	bool in_str = false, esc = false;
	int c;

	for (;;) {
		c = rd_peek(r);
		if (c == EOF)
			return r->read_errno ? -1 : 0;
		if (!in_str && depth == 0 && r->raw_len > 0 &&
		    (c == ',' || c == ']' || is_blank(c)))
			return 0; /* the end of a scalar */
		rd_get(r);
		if (raw_add(r, (char)c) < 0)
			return -1;
		if (in_str) {
			if (esc)
				esc = false;
			else if (c == '\\')
				esc = true;
			else if (c == '"')
				in_str = false;
			else if (c < 0x20)
				return 0;
			if (!in_str && depth == 0)
				return 0;
			continue;
		}
		switch (c) {
		case '"':
			in_str = true;
			break;
		case '{':
		case '[':
			if (depth == ELEMENT_DEPTH)
				return 0;
			want[depth++] = c == '{' ? '}' : ']';
			break;
		case '}':
		case ']':
			if (depth == 0 || want[depth - 1] != c)
				return 0;
			if (--depth == 0)
				return 0;
			break;
		}
	}
}

static int array_end(struct mreg_bulk_reader *r, struct mreg_error *err)
{
	int c = rd_skip_blank(r);

	if (c == EOF && r->read_errno) {
		set_read_error(r, err);
		return -1;
	}
	if (c != EOF) {
		data_error(r, err, r->line, r->column, -1,
			   "unexpected data after the closing ']' of the "
			   "array");
		return -1;
	}
	r->done = true;
	return 0;
}

static int unexpected(struct mreg_bulk_reader *r, struct mreg_error *err,
		      int c, const char *want)
{
	if (c == EOF && r->read_errno) {
		set_read_error(r, err);
		return -1;
	}
	if (c == EOF)
		data_error(r, err, r->line, r->column, -1,
			   "malformed JSON: unexpected end of input, "
			   "expected %s", want);
	else
		data_error(r, err, r->line, r->column, -1,
			   "malformed JSON: unexpected '%c', expected %s",
			   c >= 0x20 && c < 0x7f ? c : '?', want);
	return -1;
}

static int next_array(struct mreg_bulk_reader *r, struct mreg_bulk_item *item,
		      struct mreg_error *err)
{
	long line, column;
	json_error_t jerr;
	enum mreg_json_fail fail = MREG_JSON_OK;
	json_t *root = NULL;
	const char *nul, *p;
	int c, rc;

	if (r->done)
		return 0;
	c = rd_skip_blank(r);
	if (!r->started) {
		rd_get(r); /* '[' */
		r->started = true;
		c = rd_skip_blank(r);
		if (c == ']') {
			rd_get(r);
			return array_end(r, err) < 0 ? -1 : 0;
		}
	} else if (c == ',') {
		rd_get(r);
		c = rd_skip_blank(r);
		if (c == ']' || c == EOF)
			return unexpected(r, err, c, "an item after ','");
	} else if (c == ']') {
		rd_get(r);
		return array_end(r, err) < 0 ? -1 : 0;
	} else {
		return unexpected(r, err, c, "',' or ']' after an item");
	}
	if (c == EOF)
		return unexpected(r, err, c, "an item or ']'");

	line = r->line;
	column = r->column;
	r->raw_len = 0;
	r->raw_overflow = false;
	rc = read_element(r);
	if (rc == 0 && (nul = memchr(r->raw, '\0', r->raw_len)) != NULL) {
		/* where the NUL is: from the element's start */
		for (p = r->raw; p < nul; p++) {
			if (*p == '\n') {
				line++;
				column = 1;
			} else if (((unsigned char)*p & 0xC0) != 0x80) {
				column++;
			}
		}
		data_error(r, err, line, column, r->index, NUL_MESSAGE);
		return -1;
	}
	if (rc == 0)
		root = mreg_json_loadb(r->raw, r->raw_len,
				       JSON_REJECT_DUPLICATES, &jerr, &fail);
	if (!root) {
		if (r->read_errno) {
			set_read_error(r, err);
		} else if (r->raw_overflow) {
			data_error(r, err, line, column, r->index,
				   "item longer than %ld bytes",
				   MREG_BULK_MAX_ITEM);
		} else if (rc < 0) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		} else {
			/* shift jansson's item-relative position */
			long el = jerr.line > 0 ? jerr.line : 1;
			long ec = jerr.column > 0 ? jerr.column : 1;

			parse_error(r, err, line + el - 1,
				    el == 1 ? column + ec - 1 : ec, r->index,
				    &jerr, fail, r->raw, r->raw_len);
		}
		return -1;
	}
	return finish_item(r, root, line, column, r->index++, item, err);
}

int mreg_bulk_reader_next(struct mreg_bulk_reader *r,
			  struct mreg_bulk_item *item, struct mreg_error *err)
{
	if (r->format == MREG_BULK_ARRAY)
		return next_array(r, item, err);
	return next_ndjson(r, item, err);
}
