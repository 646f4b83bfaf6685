/* output-table.c - the table writer for people: cells escaped, columns
 * sized on a window of rows and shrunk to the terminal (see output.h) */
#include "output-impl.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "escape.h"
#include "jsontext.h"
#include "strbuf.h"
#include "utf8.h"

#define MIN_SHRINK 4 /* a shrunk column keeps at least this many columns */

static const char ellipsis[] = "\xe2\x80\xa6"; /* U+2026, one column */

/* ---- UTF-8: common/utf8.c, widths: common/escape.c ------------------- */

size_t mreg_display_width(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, cols = 0, n;
	uint32_t c;

	while (i < len) {
		n = mreg_utf8_decode(p + i, len - i, &c);
		if (n == 0) {
			cols++;
			i++;
			continue;
		}
		cols += (size_t)mreg_char_width(c);
		i += n;
	}
	return cols;
}

char *mreg_cell_escape(const char *s, size_t len, size_t *cols)
{
	return mreg_escape(s, len, 0, cols);
}

/*
 * A JSON array of strings joined by ", " (malloc'd), or NULL when v is no
 * such array: anything else is shown as the server wrote it, so numbers
 * keep their text.
 */
static char *joined_strings(const char *v, bool *oom)
{
	struct mreg_json_iter it;
	struct mreg_json_span k, e;
	struct mreg_strbuf b = { 0 };
	size_t n = 0, len;
	char *s;

	if (!mreg_json_iter_init(&it, v, strlen(v)) || it.object)
		return NULL;
	mreg_strbuf_add(&b, "", 0);
	while (mreg_json_iter_next(&it, &k, &e)) {
		if (e.p[0] != '"') {
			free(b.p);
			return NULL;
		}
		s = mreg_json_string_dup(e.p, e.len, &len);
		if (!s) {
			free(b.p);
			*oom = true;
			return NULL;
		}
		if (n++)
			mreg_strbuf_puts(&b, ", ");
		mreg_strbuf_add(&b, s, len);
		free(s);
	}
	if (b.oom) {
		free(b.p);
		*oom = true;
		return NULL;
	}
	return b.p;
}

/* Escape text (malloc'd, NULL if out of memory) for a cell. */
static char *cell(const char *text, size_t len, unsigned flags, size_t *cols)
{
	return mreg_escape(text, len, flags, cols);
}

/*
 * What a table cell shows for v, escaped (malloc'd, NULL if out of
 * memory), and its display width.  JSON text keeps its own escapes.
 */
static char *table_text(const struct mreg_column *col, const char *v,
			size_t *cols)
{
	bool oom = false;
	char *s, *out;
	int bv;

	if (!v)
		return cell("", 0, 0, cols);
	if (col->kind == MREG_COL_BOOL && (bv = mreg_output_bool(v)) >= 0)
		return cell(bv ? "true" : "false", bv ? 4 : 5, 0, cols);
	if (col->kind != MREG_COL_JSON)
		return cell(v, strlen(v), 0, cols);
	/* a JSON array of strings reads better as "a, b, c" */
	s = joined_strings(v, &oom);
	if (oom)
		return NULL;
	if (!s)
		return cell(v, strlen(v), MREG_ESC_JSON, cols);
	out = cell(s, strlen(s), 0, cols);
	free(s);
	return out;
}

/* Shown in the table: not hidden, and not left out to fit the width. */
static bool visible(const struct mreg_output *o, int i)
{
	return !(o->cols[i].flags & MREG_COL_HIDDEN) &&
	       !(o->dropped && o->dropped[i]);
}

static int last_visible(const struct mreg_output *o)
{
	int i;

	for (i = o->ncols - 1; i >= 0; i--)
		if (visible(o, i))
			return i;
	return -1;
}

static void pad(FILE *out, size_t n)
{
	while (n--)
		putc(' ', out);
}

/* Write text (display width cols) in a cell of width w. */
static void table_cell(struct mreg_output *o, int i, const char *text,
		       size_t cols, bool last)
{
	size_t w = o->width[i], used = 0, pos = 0, len = strlen(text), n;
	const unsigned char *p = (const unsigned char *)text;
	uint32_t c;
	int cw;

	if (cols <= w || o->cfg.width <= 0) {
		if (o->cols[i].flags & MREG_COL_RIGHT && cols < w)
			pad(o->out, w - cols);
		fputs(text, o->out);
		if (!last && !(o->cols[i].flags & MREG_COL_RIGHT) && cols < w)
			pad(o->out, w - cols);
		return;
	}
	/* cut: as many characters as fit in w - 1 columns, then the mark */
	while (pos < len) {
		n = mreg_utf8_decode(p + pos, len - pos, &c);
		cw = n ? mreg_char_width(c) : 1;
		if (n == 0)
			n = 1;
		if (used + (size_t)cw > w - 1)
			break;
		used += (size_t)cw;
		pos += n;
	}
	fwrite(text, 1, pos, o->out);
	fputs(ellipsis, o->out);
	used++;
	if (!last && used < w)
		pad(o->out, w - used);
}

static void table_line(struct mreg_output *o, char *const *cells,
		       const size_t *cols, bool bold)
{
	int i, last = last_visible(o);
	bool first = true;

	if (bold)
		fputs("\033[1m", o->out);
	for (i = 0; i < o->ncols; i++) {
		if (!visible(o, i))
			continue;
		if (!first)
			fputs("  ", o->out);
		first = false;
		table_cell(o, i, cells[i], cols[i], i == last);
	}
	if (bold)
		fputs("\033[0m", o->out);
	putc('\n', o->out);
}

/* ---- sizing ------------------------------------------------------------- */

static bool is_key(const struct mreg_output *o, int i)
{
	return o->cols[i].priority >= MREG_PRIO_KEY;
}

/* The width of the shown columns at widths w, with the gaps between. */
static size_t total_width(const struct mreg_output *o, const size_t *w)
{
	size_t total = 0;
	int i, n = 0;

	for (i = 0; i < o->ncols; i++) {
		if (visible(o, i)) {
			total += w[i];
			n++;
		}
	}
	return n > 1 ? total + 2 * (size_t)(n - 1) : total;
}

/*
 * The column to narrow by one: of the shown ones still wider than their
 * minimum (and no key column unless keys), the lowest priority, then the
 * widest, then the rightmost; -1 when none can give.
 */
static int next_to_narrow(const struct mreg_output *o, const size_t *minw,
			  bool keys)
{
	int i, best = -1;

	for (i = 0; i < o->ncols; i++) {
		if (!visible(o, i) || o->width[i] <= minw[i] ||
		    (!keys && is_key(o, i)))
			continue;
		if (best < 0 ||
		    o->cols[i].priority < o->cols[best].priority ||
		    (o->cols[i].priority == o->cols[best].priority &&
		     o->width[i] >= o->width[best]))
			best = i;
	}
	return best;
}

/* Narrow columns by priority until the table fits limit, or none can. */
static void narrow(struct mreg_output *o, const size_t *minw, size_t limit,
		   bool keys)
{
	size_t total = total_width(o, o->width);
	int i;

	while (total > limit && (i = next_to_narrow(o, minw, keys)) >= 0) {
		o->width[i]--;
		total--;
	}
}

/*
 * The column to leave out next: the shown non-key column of the lowest
 * priority, the rightmost among equals; -1 when none is left.
 */
static int next_to_drop(const struct mreg_output *o)
{
	int i, best = -1;

	for (i = o->ncols - 1; i >= 0; i--)
		if (visible(o, i) && !is_key(o, i) &&
		    (best < 0 || o->cols[i].priority < o->cols[best].priority))
			best = i;
	return best;
}

/*
 * Would the table fit limit with the key columns whole and every other
 * shown column at its minimum?
 */
static bool fits_keys_whole(const struct mreg_output *o, const size_t *nat,
			    const size_t *minw, size_t limit)
{
	size_t *w = malloc((size_t)o->ncols * sizeof(*w));
	bool fits;
	int i;

	if (!w)
		return true; /* out of memory: just narrow */
	for (i = 0; i < o->ncols; i++)
		w[i] = is_key(o, i) ? nat[i] : minw[i];
	fits = total_width(o, w) <= limit;
	free(w);
	return fits;
}

/*
 * Fit the table in limit columns: narrow the least important columns
 * first; when the key columns cannot stay whole even with every other
 * column at its minimum, leave out the least important columns until
 * they can (or none is left), then cut the key columns too.
 */
static void fit_width(struct mreg_output *o, size_t *nat, size_t *minw,
		      size_t limit)
{
	int i;

	if (total_width(o, nat) <= limit)
		return;
	o->dropped = calloc((size_t)o->ncols, sizeof(*o->dropped));
	while (o->dropped && !fits_keys_whole(o, nat, minw, limit) &&
	       (i = next_to_drop(o)) >= 0)
		o->dropped[i] = true;
	narrow(o, minw, limit, false);
	narrow(o, minw, limit, true);
}

static void table_size(struct mreg_output *o)
{
	size_t *nat = NULL, *minw = NULL, c, r;
	int i;

	for (i = 0; i < o->ncols; i++) {
		o->width[i] = o->cfg.no_headers
				      ? 0
				      : mreg_display_width(o->cols[i].name,
							   strlen(o->cols[i].name));
		for (r = 0; r < o->nheld; r++) {
			c = o->held_cols[r * (size_t)o->ncols + (size_t)i];
			if (c > o->width[i])
				o->width[i] = c;
		}
	}
	o->sized = true;
	if (o->cfg.width <= 0)
		return;
	nat = malloc((size_t)o->ncols * sizeof(*nat));
	minw = malloc((size_t)o->ncols * sizeof(*minw));
	if (nat && minw) {
		for (i = 0; i < o->ncols; i++) {
			/* never narrower than the header: a column whose
			 * name does not fit is left out instead */
			size_t h = o->cfg.no_headers
					   ? 0
					   : mreg_display_width(
						     o->cols[i].name,
						     strlen(o->cols[i].name));

			nat[i] = o->width[i];
			minw[i] = h > MIN_SHRINK ? h : MIN_SHRINK;
			if (minw[i] > nat[i])
				minw[i] = nat[i];
		}
		fit_width(o, nat, minw, (size_t)o->cfg.width);
	}
	free(nat);
	free(minw);
}

static void table_header(struct mreg_output *o)
{
	char **cells = NULL;
	size_t *cols = NULL;
	int i;
	size_t k;

	cells = calloc((size_t)o->ncols, sizeof(*cells));
	cols = calloc((size_t)o->ncols, sizeof(*cols));
	if (!cells || !cols)
		goto cleanup;
	for (i = 0; i < o->ncols; i++) {
		cells[i] = strdup(o->cols[i].name);
		if (!cells[i])
			goto cleanup;
		for (k = 0; cells[i][k]; k++)
			if (cells[i][k] >= 'a' && cells[i][k] <= 'z')
				cells[i][k] = (char)(cells[i][k] - 'a' + 'A');
		cols[i] = mreg_display_width(cells[i], strlen(cells[i]));
	}
	table_line(o, cells, cols, o->cfg.color);
cleanup:
	if (cells)
		for (i = 0; i < o->ncols; i++)
			free(cells[i]);
	free(cells);
	free(cols);
}

void mreg_table_flush_held(struct mreg_output *o)
{
	size_t r;

	if (!o->sized) {
		table_size(o);
		if (!o->cfg.no_headers)
			table_header(o);
	}
	for (r = 0; r < o->nheld; r++) {
		char **cells = o->held + r * (size_t)o->ncols;
		table_line(o, cells, o->held_cols + r * (size_t)o->ncols,
			   false);
	}
	for (r = 0; r < o->nheld * (size_t)o->ncols; r++) {
		free(o->held[r]);
		o->held[r] = NULL;
	}
	o->nheld = 0;
}

int mreg_table_row(struct mreg_output *o, const char *const *values,
		   struct mreg_error *err)
{
	char **cells;
	size_t *cols;
	int i;

	if (o->nheld == o->cfg.window)
		mreg_table_flush_held(o);
	cells = o->held + o->nheld * (size_t)o->ncols;
	cols = o->held_cols + o->nheld * (size_t)o->ncols;
	for (i = 0; i < o->ncols; i++) {
		cells[i] = table_text(&o->cols[i], values[i], &cols[i]);
		if (!cells[i]) {
			while (i-- > 0) {
				free(cells[i]);
				cells[i] = NULL;
			}
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			return -1;
		}
	}
	o->nheld++;
	if (o->sized) /* columns already sized: stream */
		mreg_table_flush_held(o);
	return 0;
}

/*
 * After the rows: which columns were left out to fit the width ("-- not
 * shown: A, B"), wrapped to the width.
 */
static void table_footer(struct mreg_output *o)
{
	const char *sep = "-- not shown: ";
	size_t used = 0, n, k;
	int i;

	for (i = 0; o->dropped && i < o->ncols; i++) {
		if (!o->dropped[i])
			continue;
		n = strlen(sep) + strlen(o->cols[i].name); /* ASCII names */
		if (used > 0 && used + n + 1 > (size_t)o->cfg.width) {
			fputs(",\n", o->out);
			used = 0;
			sep = "--   ";
			n = strlen(sep) + strlen(o->cols[i].name);
		}
		fputs(sep, o->out);
		for (k = 0; o->cols[i].name[k]; k++) {
			char ch = o->cols[i].name[k];

			putc(ch >= 'a' && ch <= 'z' ? ch - 'a' + 'A' : ch,
			     o->out);
		}
		used += n;
		sep = ", ";
	}
	if (used)
		putc('\n', o->out);
}

void mreg_table_finish(struct mreg_output *o)
{
	if (o->nheld > 0 || !o->sized)
		mreg_table_flush_held(o);
	table_footer(o);
}

int mreg_terminal_width(int fd)
{
	struct winsize ws;

	if (!isatty(fd))
		return 0;
	if (ioctl(fd, TIOCGWINSZ, &ws) != 0 || ws.ws_col == 0)
		return 0;
	return ws.ws_col;
}
