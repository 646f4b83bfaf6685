/* metrics.c - a metrics file for node_exporter's textfile collector
 * (see metrics.h) */
#include "metrics.h"
#include "strbuf.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "atomicfile.h"
#include "utf8.h"

/* The largest previous file read back for its last success. */
#define PREVIOUS_MAX (1024 * 1024)

struct label {
	char *name, *value;
};

struct sample {
	const char *suffix; /* "", "_sum", "_count" */
	char *label, *lvalue; /* the sample's own label, or NULL */
	double value;
};

struct family {
	char *name, *help;
	enum mreg_metric_type type;
	struct sample *s;
	size_t n, cap;
};

struct mreg_metrics {
	struct label *labels;
	size_t nlabels;
	struct family *f;
	size_t nf, capf;
	bool oom;
	char bad[160]; /* the first bad name, as a message */
};

/* --- building ------------------------------------------------------------ */

struct mreg_metrics *mreg_metrics_create(void)
{
	return calloc(1, sizeof(struct mreg_metrics));
}

void mreg_metrics_destroy(struct mreg_metrics *m)
{
	size_t i, k;

	if (!m)
		return;
	for (i = 0; i < m->nlabels; i++) {
		free(m->labels[i].name);
		free(m->labels[i].value);
	}
	free(m->labels);
	for (i = 0; i < m->nf; i++) {
		for (k = 0; k < m->f[i].n; k++) {
			free(m->f[i].s[k].label);
			free(m->f[i].s[k].lvalue);
		}
		free(m->f[i].s);
		free(m->f[i].name);
		free(m->f[i].help);
	}
	free(m->f);
	free(m);
}

static bool name_ok(const char *s, bool metric)
{
	size_t i;

	if (!s || !*s || (!metric && s[0] == '_' && s[1] == '_'))
		return false;
	for (i = 0; s[i]; i++) {
		char c = s[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     c == '_' || (metric && c == ':');

		if (!alpha && !(i > 0 && c >= '0' && c <= '9'))
			return false;
	}
	return true;
}

static bool check_name(struct mreg_metrics *m, const char *s, bool metric)
{
	if (name_ok(s, metric))
		return true;
	if (!m->bad[0])
		snprintf(m->bad, sizeof(m->bad), "invalid %s name \"%.100s\"",
			 metric ? "metric" : "label", s ? s : "");
	return false;
}

static char *dup_or_oom(struct mreg_metrics *m, const char *s)
{
	char *d = strdup(s);

	if (!d)
		m->oom = true;
	return d;
}

void mreg_metrics_label(struct mreg_metrics *m, const char *name,
			const char *value)
{
	struct label *l;

	if (!m || !check_name(m, name, false))
		return;
	l = realloc(m->labels, (m->nlabels + 1) * sizeof(*l));
	if (!l) {
		m->oom = true;
		return;
	}
	m->labels = l;
	l = &m->labels[m->nlabels];
	l->name = dup_or_oom(m, name);
	l->value = dup_or_oom(m, value ? value : "");
	if (!l->name || !l->value) {
		free(l->name);
		free(l->value);
		return;
	}
	m->nlabels++;
}

static struct family *family(struct mreg_metrics *m, const char *name,
			     enum mreg_metric_type type, const char *help)
{
	struct family *f;
	size_t i;

	for (i = 0; i < m->nf; i++)
		if (strcmp(m->f[i].name, name) == 0)
			return &m->f[i];
	if (!check_name(m, name, true))
		return NULL;
	if (m->nf == m->capf) {
		size_t cap = m->capf ? m->capf * 2 : 16;

		f = realloc(m->f, cap * sizeof(*f));
		if (!f) {
			m->oom = true;
			return NULL;
		}
		m->f = f;
		m->capf = cap;
	}
	f = &m->f[m->nf];
	memset(f, 0, sizeof(*f));
	f->type = type;
	f->name = dup_or_oom(m, name);
	f->help = dup_or_oom(m, help ? help : "");
	if (!f->name || !f->help) {
		free(f->name);
		free(f->help);
		return NULL;
	}
	m->nf++;
	return f;
}

static void add_sample(struct mreg_metrics *m, struct family *f,
		       const char *suffix, const char *label,
		       const char *lvalue, double value)
{
	struct sample *s;

	if (label && !check_name(m, label, false))
		return;
	if (f->n == f->cap) {
		size_t cap = f->cap ? f->cap * 2 : 8;

		s = realloc(f->s, cap * sizeof(*s));
		if (!s) {
			m->oom = true;
			return;
		}
		f->s = s;
		f->cap = cap;
	}
	s = &f->s[f->n];
	s->suffix = suffix;
	s->value = value;
	s->label = s->lvalue = NULL;
	if (label && (!(s->label = dup_or_oom(m, label)) ||
		      !(s->lvalue = dup_or_oom(m, lvalue ? lvalue : "")))) {
		free(s->label);
		return;
	}
	f->n++;
}

void mreg_metrics_add(struct mreg_metrics *m, const char *name,
		      enum mreg_metric_type type, const char *help,
		      const char *label, const char *lvalue, double value)
{
	struct family *f;

	if (m && (f = family(m, name, type, help)))
		add_sample(m, f, "", label, lvalue, value);
}

void mreg_metrics_summary(struct mreg_metrics *m, const char *name,
			  const char *help, size_t n, const double *q,
			  const double *v, double sum, double count)
{
	struct family *f;
	char qs[32];
	size_t i;

	if (!m || !(f = family(m, name, MREG_METRIC_SUMMARY, help)))
		return;
	for (i = 0; i < n; i++) {
		snprintf(qs, sizeof(qs), "%g", q[i]);
		add_sample(m, f, "", "quantile", qs, v[i]);
	}
	add_sample(m, f, "_sum", NULL, NULL, sum);
	add_sample(m, f, "_count", NULL, NULL, count);
}

double mreg_metrics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)(ts.tv_nsec / 1000000) / 1e3;
}

void mreg_metrics_run(struct mreg_metrics *m, const char *prefix,
		      int exit_code, double duration_s, double now_s,
		      const char *path)
{
	char name[128];
	double last;

	if (!m)
		return;
	snprintf(name, sizeof(name), "%s_duration_seconds", prefix);
	mreg_metrics_add(m, name, MREG_METRIC_GAUGE,
			 "Wall-clock duration of the last run.", NULL, NULL,
			 round(duration_s * 1e6) / 1e6);
	mreg_metrics_add(m, "mreg_last_run_timestamp_seconds",
			 MREG_METRIC_GAUGE,
			 "When the last run ended, as a Unix time.", NULL,
			 NULL, now_s);
	mreg_metrics_add(m, "mreg_last_exit_code", MREG_METRIC_GAUGE,
			 "Exit status of the last run (0 success, see mreg(1)).",
			 NULL, NULL, exit_code);
	if (exit_code == 0)
		last = now_s;
	else if (!path || mreg_metrics_previous(m, path,
			"mreg_last_success_timestamp_seconds", &last) < 0)
		return;
	mreg_metrics_add(m, "mreg_last_success_timestamp_seconds",
			 MREG_METRIC_GAUGE,
			 "When the last successful run (exit status 0) ended, "
			 "as a Unix time.", NULL, NULL, last);
}

/* --- rendering ----------------------------------------------------------- */

/* A label value: \\, \" and \n escaped, invalid UTF-8 as '?'. */
static void put_label_value(struct mreg_strbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t left = strlen(s), n;
	uint32_t cp;

	while (left > 0) {
		if (*p == '\\' || *p == '"') {
			mreg_strbuf_add(b, "\\", 1);
			mreg_strbuf_add(b, (const char *)p, 1);
			n = 1;
		} else if (*p == '\n') {
			mreg_strbuf_add(b, "\\n", 2);
			n = 1;
		} else if ((n = mreg_utf8_decode(p, left, &cp)) > 0) {
			mreg_strbuf_add(b, (const char *)p, n);
		} else {
			mreg_strbuf_add(b, "?", 1);
			n = 1;
		}
		p += n;
		left -= n;
	}
}

/* HELP text: \\ and \n escaped. */
static void put_help(struct mreg_strbuf *b, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\')
			mreg_strbuf_add(b, "\\\\", 2);
		else if (*s == '\n')
			mreg_strbuf_add(b, "\\n", 2);
		else
			mreg_strbuf_add(b, s, 1);
	}
}

/* A float as Go's ParseFloat reads it, exactly, in as few digits as may. */
static void put_value(struct mreg_strbuf *b, double v)
{
	char s[40];
	int prec;

	if (isnan(v)) {
		mreg_strbuf_puts(b, "NaN");
		return;
	}
	if (isinf(v)) {
		mreg_strbuf_puts(b, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == floor(v) && fabs(v) < 9007199254740992.0) {
		snprintf(s, sizeof(s), "%.0f", v);
	} else {
		for (prec = 15; prec <= 17; prec++) {
			snprintf(s, sizeof(s), "%.*g", prec, v);
			if (strtod(s, NULL) == v)
				break;
		}
	}
	mreg_strbuf_puts(b, s);
}

/* "name{common labels[,label="value"]}" */
static void put_series(struct mreg_strbuf *b, const struct mreg_metrics *m,
		       const char *name, const char *suffix,
		       const char *label, const char *lvalue)
{
	size_t i;

	mreg_strbuf_puts(b, name);
	mreg_strbuf_puts(b, suffix);
	if (m->nlabels == 0 && !label)
		return;
	mreg_strbuf_add(b, "{", 1);
	for (i = 0; i < m->nlabels; i++) {
		if (i)
			mreg_strbuf_add(b, ",", 1);
		mreg_strbuf_puts(b, m->labels[i].name);
		mreg_strbuf_add(b, "=\"", 2);
		put_label_value(b, m->labels[i].value);
		mreg_strbuf_add(b, "\"", 1);
	}
	if (label) {
		if (m->nlabels)
			mreg_strbuf_add(b, ",", 1);
		mreg_strbuf_puts(b, label);
		mreg_strbuf_add(b, "=\"", 2);
		put_label_value(b, lvalue);
		mreg_strbuf_add(b, "\"", 1);
	}
	mreg_strbuf_add(b, "}", 1);
}

static const char *type_name(enum mreg_metric_type t)
{
	switch (t) {
	case MREG_METRIC_COUNTER: return "counter";
	case MREG_METRIC_SUMMARY: return "summary";
	case MREG_METRIC_GAUGE: break;
	}
	return "gauge";
}

char *mreg_metrics_render(const struct mreg_metrics *m, size_t *len,
			  struct mreg_error *err)
{
	struct mreg_strbuf b = { 0 };
	size_t i, k;

	if (m && m->bad[0]) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "%s", m->bad);
		return NULL;
	}
	mreg_strbuf_add(&b, "", 0);
	for (i = 0; m && !m->oom && i < m->nf; i++) {
		const struct family *f = &m->f[i];

		mreg_strbuf_puts(&b, "# HELP ");
		mreg_strbuf_puts(&b, f->name);
		mreg_strbuf_add(&b, " ", 1);
		put_help(&b, f->help);
		mreg_strbuf_puts(&b, "\n# TYPE ");
		mreg_strbuf_puts(&b, f->name);
		mreg_strbuf_add(&b, " ", 1);
		mreg_strbuf_puts(&b, type_name(f->type));
		mreg_strbuf_add(&b, "\n", 1);
		for (k = 0; k < f->n; k++) {
			put_series(&b, m, f->name, f->s[k].suffix,
				   f->s[k].label, f->s[k].lvalue);
			mreg_strbuf_add(&b, " ", 1);
			put_value(&b, f->s[k].value);
			mreg_strbuf_add(&b, "\n", 1);
		}
	}
	if (!m || m->oom || b.oom) {
		free(b.p);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return NULL;
	}
	*len = b.len;
	return b.p;
}

/* --- the previous file ---------------------------------------------------- */

static char *read_small(const char *path, size_t *len)
{
	struct stat st;
	FILE *f;
	char *p;
	size_t n;

	/* only a regular file: a FIFO at PATH would block the open */
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
	    !(f = fopen(path, "re")))
		return NULL;
	p = malloc(PREVIOUS_MAX + 1);
	n = p ? fread(p, 1, PREVIOUS_MAX, f) : 0;
	if (p && ferror(f)) {
		free(p);
		p = NULL;
	}
	fclose(f);
	if (p) {
		p[n] = '\0';
		*len = n;
	}
	return p;
}

int mreg_metrics_previous(const struct mreg_metrics *m, const char *path,
			  const char *name, double *value)
{
	struct mreg_strbuf want = { 0 };
	size_t len = 0;
	char *text, *line, *end;
	int rc = -1;

	if (!m || !(text = read_small(path, &len)))
		return -1;
	put_series(&want, m, name, "", NULL, NULL);
	mreg_strbuf_add(&want, " ", 1);
	for (line = text; !want.oom && line < text + len; line = end + 1) {
		char *nl = strchr(line, '\n'), *num_end;
		double v;

		end = nl ? nl : text + len;
		if ((size_t)(end - line) <= want.len ||
		    strncmp(line, want.p, want.len) != 0)
			continue;
		errno = 0;
		v = strtod(line + want.len, &num_end);
		if (errno == 0 && num_end > line + want.len &&
		    (num_end == end || *num_end == ' ') && isfinite(v)) {
			*value = v;
			rc = 0;
			break;
		}
	}
	free(want.p);
	free(text);
	return rc;
}

/* --- writing -------------------------------------------------------------- */

int mreg_metrics_write(const struct mreg_metrics *m, const char *path,
		       struct mreg_error *err)
{
	char ebuf[128];
	size_t len = 0;
	char *text = mreg_metrics_render(m, &len, err);
	int rc = 0;

	if (!text) {
		mreg_error_prefix(err, "could not write metrics file \"%s\"",
				  path);
		return -1;
	}
	if (mreg_atomic_write(path, text, len, 0644) < 0) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "could not write metrics file \"%s\": %s", path,
			       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		rc = -1;
	}
	free(text);
	return rc;
}
