/* escape.c - user-controlled text made safe for people (see escape.h) */
#include "escape.h"
#include "strbuf.h"

#include <stdlib.h>
#include <string.h>

int mreg_char_width(uint32_t c)
{
	/* combining marks and zero-width characters */
	if ((c >= 0x300 && c <= 0x36f) || (c >= 0x200b && c <= 0x200f) ||
	    (c >= 0xfe00 && c <= 0xfe0f) || (c >= 0x20d0 && c <= 0x20ff))
		return 0;
	/* East Asian wide and fullwidth, emoji */
	if ((c >= 0x1100 && c <= 0x115f) || (c >= 0x2e80 && c <= 0x303e) ||
	    (c >= 0x3041 && c <= 0x33ff) || (c >= 0x3400 && c <= 0x4dbf) ||
	    (c >= 0x4e00 && c <= 0x9fff) || (c >= 0xa000 && c <= 0xa4cf) ||
	    (c >= 0xac00 && c <= 0xd7a3) || (c >= 0xf900 && c <= 0xfaff) ||
	    (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff00 && c <= 0xff60) ||
	    (c >= 0xffe0 && c <= 0xffe6) || (c >= 0x1f300 && c <= 0x1f64f) ||
	    (c >= 0x1f900 && c <= 0x1f9ff) || (c >= 0x20000 && c <= 0x3fffd))
		return 2;
	return 1;
}

/* Code points shown as \uXXXX: C1 controls, bidi controls, separators. */
static bool is_dangerous(uint32_t c)
{
	return (c >= 0x80 && c <= 0x9f) ||       /* C1 controls */
	       (c >= 0x202a && c <= 0x202e) ||   /* embeddings, overrides */
	       (c >= 0x2066 && c <= 0x2069) ||   /* isolates */
	       c == 0x200e || c == 0x200f ||     /* LRM, RLM */
	       c == 0x061c ||                    /* ALM */
	       c == 0x2028 || c == 0x2029;       /* line, paragraph sep. */
}

/*
 * The escape for the character at s (n bytes, code point c; n == 0: an
 * invalid byte), written into esc; NULL when it stays as it is.
 */
static const char *escape_of(const unsigned char *s, size_t n, uint32_t c,
			     unsigned flags, char esc[16])
{
	bool json = flags & MREG_ESC_JSON;

	if (n == 0) {
		snprintf(esc, 16, "\\x%02x", s[0]);
		return esc;
	}
	switch (c) {
	case '\\':
		return json ? NULL : "\\\\";
	case '\n':
		return "\\n";
	case '\t':
		return "\\t";
	case '\r':
		return "\\r";
	default:
		break;
	}
	if (c < 0x20 || c == 0x7f) {
		snprintf(esc, 16, json ? "\\u%04x" : "\\x%02x", (unsigned)c);
		return esc;
	}
	if (is_dangerous(c)) {
		snprintf(esc, 16, "\\u%04x", (unsigned)c);
		return esc;
	}
	return NULL;
}

/*
 * Walk s: emit(arg, bytes, n, cols, escape) with runs of characters kept as
 * they are (escape false) and single escapes (escape true).  Stops early
 * when emit returns false.
 */
typedef bool (*emit_fn)(void *arg, const char *p, size_t n, size_t cols,
			bool escape);

static void escape_walk(const char *s, size_t len, unsigned flags,
			emit_fn emit, void *arg)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, run = 0, run_cols = 0;
	const char *e;
	char esc[16];
	uint32_t c = 0;

	while (i < len) {
		n = mreg_utf8_decode(p + i, len - i, &c);
		e = escape_of(p + i, n, c, flags, esc);
		if (!e) {
			/* plain characters are passed on in runs */
			run += n;
			run_cols += (size_t)mreg_char_width(c);
			i += n;
			continue;
		}
		if (run && !emit(arg, s + i - run, run, run_cols, false))
			return;
		run = run_cols = 0;
		if (!emit(arg, e, strlen(e), strlen(e), true))
			return;
		i += n ? n : 1;
	}
	if (run)
		emit(arg, s + i - run, run, run_cols, false);
}

bool mreg_escape_needed(const char *s, size_t len, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n;
	uint32_t c = 0;
	char esc[16];

	while (i < len) {
		n = mreg_utf8_decode(p + i, len - i, &c);
		if (escape_of(p + i, n, c, flags, esc))
			return true;
		i += n ? n : 1;
	}
	return false;
}

/* ---- into a growable buffer -------------------------------------------- */

struct grow {
	struct mreg_strbuf b;
	size_t cols;
};

static bool grow_emit(void *arg, const char *s, size_t n, size_t cols,
		      bool escape)
{
	struct grow *g = arg;

	(void)escape;
	g->cols += cols;
	return mreg_strbuf_add(&g->b, s, n);
}

char *mreg_escape(const char *s, size_t len, unsigned flags, size_t *cols)
{
	struct grow g = { 0 };

	/* most text needs nothing: one allocation of the right size */
	if (!mreg_strbuf_reserve(&g.b, len + 1))
		return NULL;
	escape_walk(s, len, flags, grow_emit, &g);
	if (g.b.oom) {
		mreg_strbuf_free(&g.b);
		return NULL;
	}
	if (cols)
		*cols = g.cols;
	return mreg_strbuf_take(&g.b);
}

/* ---- into a fixed buffer ------------------------------------------------ */

struct fixed {
	char *p;
	size_t len, cap;
};

static bool fixed_emit(void *arg, const char *s, size_t n, size_t cols,
		       bool escape)
{
	struct fixed *f = arg;
	const unsigned char *u = (const unsigned char *)s;
	size_t take = 0, k;
	uint32_t c;

	(void)cols;
	if (f->len + n + 1 <= f->cap) {
		take = n;
	} else if (!escape) {
		/* a run of characters: as many whole ones as fit */
		while (take < n) {
			k = mreg_utf8_decode(u + take, n - take, &c);
			if (k == 0)
				k = 1;
			if (f->len + take + k + 1 > f->cap)
				break;
			take += k;
		}
	}
	memcpy(f->p + f->len, s, take);
	f->len += take;
	f->p[f->len] = '\0';
	return take == n;
}

size_t mreg_escape_into(char *out, size_t cap, const char *s, size_t len,
			unsigned flags)
{
	struct fixed f = { out, 0, cap };

	if (cap == 0)
		return 0;
	out[0] = '\0';
	escape_walk(s, len, flags, fixed_emit, &f);
	return f.len;
}

/* ---- to a stream -------------------------------------------------------- */

static bool file_emit(void *arg, const char *s, size_t n, size_t cols,
		      bool escape)
{
	(void)cols;
	(void)escape;
	return fwrite(s, 1, n, (FILE *)arg) == n;
}

int mreg_escape_write(FILE *out, const char *s, size_t len, unsigned flags)
{
	escape_walk(s, len, flags, file_emit, out);
	return ferror(out) ? -1 : 0;
}
