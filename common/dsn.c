/* dsn.c - printing connection strings without their secrets */
#include "dsn.h"
#include "hex.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

/* ---- which keywords are secret: libpq says ------------------------------- */

#define MAX_SECRET_KEYWORDS 16

static pthread_once_t secret_once = PTHREAD_ONCE_INIT;
static char secret_keywords[MAX_SECRET_KEYWORDS][32];
static int nsecret_keywords;

static void add_secret_keyword(const char *k)
{
	int i;

	for (i = 0; i < nsecret_keywords; i++)
		if (strcmp(secret_keywords[i], k) == 0)
			return;
	if (nsecret_keywords < MAX_SECRET_KEYWORDS &&
	    strlen(k) < sizeof(secret_keywords[0]))
		snprintf(secret_keywords[nsecret_keywords++],
			 sizeof(secret_keywords[0]), "%s", k);
}

static void load_secret_keywords(void)
{
	PQconninfoOption *opts = PQconndefaults(), *o;

	for (o = opts; o && o->keyword; o++)
		if (o->dispchar && strchr(o->dispchar, '*'))
			add_secret_keyword(o->keyword);
	PQconninfoFree(opts);
	/* PQconndefaults() fails only when out of memory: stay safe then */
	if (!opts) {
		add_secret_keyword("password");
		add_secret_keyword("sslpassword");
	}
}

bool mreg_dsn_keyword_is_secret(const char *keyword)
{
	int i;

	if (!keyword)
		return false;
	pthread_once(&secret_once, load_secret_keywords);
	for (i = 0; i < nsecret_keywords; i++)
		if (strcmp(secret_keywords[i], keyword) == 0)
			return true;
	return false;
}

static int is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	       strncmp(s, "postgres://", 11) == 0;
}

/* Append to out (bounded); returns the new length. */
static size_t append(char *out, size_t outlen, size_t pos, const char *s,
		     size_t n)
{
	if (pos >= outlen)
		return pos;
	if (n > outlen - 1 - pos)
		n = outlen - 1 - pos;
	memcpy(out + pos, s, n);
	out[pos + n] = '\0';
	return pos + n;
}

/* Percent-decode s[0..n) into out (as libpq does with URI keywords). */
static void percent_decode(const char *s, size_t n, char *out, size_t outlen)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < outlen; i++) {
		if (s[i] == '%' && i + 2 < n && mreg_hex_value(s[i + 1]) >= 0 &&
		    mreg_hex_value(s[i + 2]) >= 0) {
			out[o++] = (char)(mreg_hex_value(s[i + 1]) * 16 +
					  mreg_hex_value(s[i + 2]));
			i += 2;
		} else {
			out[o++] = s[i];
		}
	}
	out[o] = '\0';
}

static void redact_uri(const char *dsn, char *out, size_t outlen)
{
	const char *auth = strstr(dsn, "://") + 3;
	const char *slash = auth + strcspn(auth, "/");
	const char *at = NULL, *p, *q, *colon, *host;
	size_t pos = 0;

	/* user info: libpq takes it up to the first '@' before any '/' (a
	 * '?' does not stop it); a password (after a ':') is masked up to
	 * the last '@' before the first '/' or '?', so a raw '@' inside it
	 * stays hidden too */
	for (p = auth; p < slash; p++)
		if (*p == '@') {
			at = p;
			break;
		}
	out[0] = '\0';
	pos = append(out, outlen, pos, dsn, (size_t)(auth - dsn));
	p = auth;
	host = at ? at + 1 : auth;
	if (at) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			const char *end = at, *e;

			for (e = at; e < slash && *e != '?'; e++)
				if (*e == '@')
					end = e;
			pos = append(out, outlen, pos, auth,
				     (size_t)(colon - auth));
			pos = append(out, outlen, pos, ":***", 4);
			at = end;
		} else {
			/* no password, but a '?' in it is not the query */
			pos = append(out, outlen, pos, auth,
				     (size_t)(at - auth));
		}
		p = at;
	}
	/* host list and path up to the query, as libpq's parser reads them
	 * from its host start (the first '@', even where the mask above runs
	 * further): skip an IPv6 [...] host, which may hold a '?' of its own.
	 * The query found is never inside the mask, which stops before the
	 * first '/' or '?'. */
	for (q = host; *q && *q != '/' && *q != '?'; q++) {
		/* '[' opens an IPv6 host only where a host starts */
		bool host_start = q == host || q[-1] == ',';
		const char *close = *q == '[' && host_start ? strchr(q, ']')
							    : q;

		if (!close)
			break; /* no ']': look for the query from the '[' */
		q = close;
	}
	q = strchr(q, '?');
	if (!q) {
		append(out, outlen, pos, p, strlen(p));
		return;
	}
	pos = append(out, outlen, pos, p, (size_t)(q - p));
	/* query parameters: keywords are percent-decoded to be recognised */
	while (*q) {
		const char *amp, *eq;
		size_t seg;
		char key[64];

		pos = append(out, outlen, pos, q, 1); /* '?' or '&' */
		q++;
		amp = strchr(q, '&');
		seg = amp ? (size_t)(amp - q) : strlen(q);
		eq = memchr(q, '=', seg);
		percent_decode(q, eq ? (size_t)(eq - q) : seg, key,
			       sizeof(key));
		if (eq && mreg_dsn_keyword_is_secret(key)) {
			/* the keyword as written: its decoded form
			 * could spell part of a short secret */
			pos = append(out, outlen, pos, q, (size_t)(eq - q));
			pos = append(out, outlen, pos, "=***", 4);
		} else {
			pos = append(out, outlen, pos, q, seg);
		}
		q += seg;
	}
}

static size_t append_value(char *out, size_t outlen, size_t pos,
			   const char *v)
{
	int quote = *v == '\0' || strpbrk(v, " \t\n'\\") != NULL;

	if (!quote)
		return append(out, outlen, pos, v, strlen(v));
	pos = append(out, outlen, pos, "'", 1);
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			pos = append(out, outlen, pos, "\\", 1);
		pos = append(out, outlen, pos, v, 1);
	}
	return append(out, outlen, pos, "'", 1);
}

/* Scrub from out the secrets libpq parses out of dsn (4 bytes or more). */
static void scrub_parsed_secrets(const char *dsn, char *out, size_t outlen)
{
	struct mreg_dsn_secrets sec;
	int i;

	mreg_dsn_secrets_init(&sec, dsn);
	for (i = 0; i < sec.n; i++)
		if (strlen(sec.values[i]) >= 4)
			mreg_scrub(out, outlen, sec.values[i]);
	mreg_dsn_secrets_finish(&sec);
}

static void redact_into(const char *dsn, char *out, size_t outlen);

/*
 * Redact into a buffer large enough for the whole text, then cut: a short
 * out gets a prefix of what a long one gets (scrubbing a cut text could
 * miss a secret cut in two, or mask what the whole text shows).
 */
void mreg_dsn_redact(const char *dsn, char *out, size_t outlen)
{
	size_t need = dsn ? 4 * strlen(dsn) + 256 : 256;
	char *full;

	if (outlen == 0)
		return;
	if (need <= outlen || !(full = malloc(need))) {
		redact_into(dsn, out, outlen);
		return;
	}
	redact_into(dsn, full, need);
	snprintf(out, outlen, "%s", full);
	free(full);
}

static void redact_into(const char *dsn, char *out, size_t outlen)
{
	PQconninfoOption *opts, *o;
	char *errmsg = NULL;
	size_t pos = 0;

	if (outlen == 0)
		return;
	if (!dsn || !*dsn) {
		snprintf(out, outlen, "(libpq defaults)");
		return;
	}
	opts = PQconninfoParse(dsn, &errmsg);
	if (!opts) {
		PQfreemem(errmsg);
		snprintf(out, outlen, "(invalid connection string)");
		return;
	}
	if (is_uri(dsn)) {
		/* belt and braces: whatever libpq took for a secret is gone,
		 * however oddly the URI was written (short values would
		 * only garble the text: the masking above covers them) */
		PQconninfoFree(opts);
		redact_uri(dsn, out, outlen);
		scrub_parsed_secrets(dsn, out, outlen);
		return;
	}
	out[0] = '\0';
	for (o = opts; o->keyword; o++) {
		if (!o->val)
			continue;
		if (pos > 0)
			pos = append(out, outlen, pos, " ", 1);
		pos = append(out, outlen, pos, o->keyword, strlen(o->keyword));
		pos = append(out, outlen, pos, "=", 1);
		if (mreg_dsn_keyword_is_secret(o->keyword))
			pos = append(out, outlen, pos, "***", 3);
		else
			pos = append_value(out, outlen, pos, o->val);
	}
	PQconninfoFree(opts);
	if (pos == 0)
		snprintf(out, outlen, "(libpq defaults)");
}

void mreg_dsn_secrets_init(struct mreg_dsn_secrets *s, const char *dsn)
{
	PQconninfoOption *opts, *o;
	char *errmsg = NULL;

	memset(s, 0, sizeof(*s));
	if (!dsn || !*dsn)
		return;
	opts = PQconninfoParse(dsn, &errmsg);
	PQfreemem(errmsg);
	for (o = opts; o && o->keyword; o++) {
		if (!o->val || !*o->val || !mreg_dsn_keyword_is_secret(o->keyword))
			continue;
		if (s->n < MREG_DSN_MAX_SECRETS &&
		    (s->values[s->n] = strdup(o->val)) != NULL)
			s->n++;
	}
	PQconninfoFree(opts);
}

void mreg_dsn_secrets_scrub(const struct mreg_dsn_secrets *s, char *text,
			    size_t cap)
{
	int i;

	for (i = 0; s && i < s->n; i++)
		mreg_scrub(text, cap, s->values[i]);
}

void mreg_dsn_secrets_finish(struct mreg_dsn_secrets *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < s->n; i++) {
		volatile char *v = s->values[i];

		while (*v)
			*v++ = '\0';
		free(s->values[i]);
		s->values[i] = NULL;
	}
	s->n = 0;
}

int mreg_dsn_check(const char *dsn, char *why, size_t whylen)
{
	PQconninfoOption *opts;
	char *errmsg = NULL;
	const char *p, *close;
	size_t pos = 0;

	if (whylen)
		why[0] = '\0';
	if (!dsn || !*dsn)
		return 0;
	opts = PQconninfoParse(dsn, &errmsg);
	if (opts) {
		PQconninfoFree(opts);
		PQfreemem(errmsg);
		return 0;
	}
	/* libpq quotes pieces of the input ("...", the whole URI even):
	 * keep its words, drop every quoted piece but a lone punctuation
	 * mark ("=", "]": its own syntax) */
	for (p = errmsg ? errmsg : "out of memory"; *p && *p != '\n'; p++) {
		if (*p == '"' && (close = strchr(p + 1, '"')) != NULL) {
			if (close - p == 2 && strchr("=]:/@?&", p[1]))
				pos = append(why, whylen, pos, p, 3);
			else
				pos = append(why, whylen, pos, "\"...\"", 5);
			p = close;
			continue;
		}
		pos = append(why, whylen, pos, p, 1);
	}
	PQfreemem(errmsg);
	return -1;
}

void mreg_dsn_password(const char *dsn, char *out, size_t outlen)
{
	PQconninfoOption *opts, *o;
	char *errmsg = NULL;

	if (outlen == 0)
		return;
	out[0] = '\0';
	if (!dsn || !*dsn)
		return;
	opts = PQconninfoParse(dsn, &errmsg);
	if (!opts) {
		PQfreemem(errmsg);
		return;
	}
	for (o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val)
			snprintf(out, outlen, "%s", o->val);
	PQconninfoFree(opts);
}

void mreg_scrub(char *s, size_t cap, const char *secret)
{
	size_t n, slen, avail;
	char *hit;

	if (!s || !secret || !*secret || cap == 0)
		return;
	slen = strlen(secret);
	/* cap counts the bytes from s to the end of the buffer */
	while ((hit = strstr(s, secret)) != NULL) {
		avail = cap - (size_t)(hit - s); /* from hit to the end */
		n = strlen(hit + slen);          /* what follows the secret */
		if (3 + n + 1 > avail) {
			/* a short secret grows the text: cut the end */
			if (avail < 4) {
				*hit = '\0';
				return;
			}
			n = avail - 4;
		}
		memmove(hit + 3, hit + slen, n);
		hit[3 + n] = '\0';
		memcpy(hit, "***", 3);
		cap = avail - 3;
		s = hit + 3;
	}
}
