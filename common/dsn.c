/* dsn.c - printing connection strings without their secrets */
#include "dsn.h"

#include <stdio.h>
#include <string.h>

#include <libpq-fe.h>

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

static void redact_uri(const char *dsn, char *out, size_t outlen)
{
	const char *auth = strstr(dsn, "://") + 3;
	const char *end = auth + strcspn(auth, "/?");
	const char *at = NULL, *p, *q;
	size_t pos = 0;

	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	out[0] = '\0';
	pos = append(out, outlen, pos, dsn, (size_t)(auth - dsn));
	if (at) {
		const char *colon = memchr(auth, ':', (size_t)(at - auth));
		if (colon) {
			pos = append(out, outlen, pos, auth,
				     (size_t)(colon - auth));
			pos = append(out, outlen, pos, ":***", 4);
		} else {
			pos = append(out, outlen, pos, auth,
				     (size_t)(at - auth));
		}
		p = at;
	} else {
		p = auth;
	}
	/* host part and path up to the query */
	q = strchr(p, '?');
	if (!q) {
		append(out, outlen, pos, p, strlen(p));
		return;
	}
	pos = append(out, outlen, pos, p, (size_t)(q - p));
	/* query parameters: mask password=... */
	while (*q) {
		const char *amp;
		size_t seg;

		pos = append(out, outlen, pos, q, 1); /* '?' or '&' */
		q++;
		amp = strchr(q, '&');
		seg = amp ? (size_t)(amp - q) : strlen(q);
		if (strncmp(q, "password=", 9) == 0)
			pos = append(out, outlen, pos, "password=***", 12);
		else
			pos = append(out, outlen, pos, q, seg);
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

void mreg_dsn_redact(const char *dsn, char *out, size_t outlen)
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
		PQconninfoFree(opts);
		redact_uri(dsn, out, outlen);
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
		if (strcmp(o->keyword, "password") == 0)
			pos = append(out, outlen, pos, "***", 3);
		else
			pos = append_value(out, outlen, pos, o->val);
	}
	PQconninfoFree(opts);
	if (pos == 0)
		snprintf(out, outlen, "(libpq defaults)");
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
	size_t n, slen;
	char *hit;

	if (!s || !secret || !*secret)
		return;
	slen = strlen(secret);
	while ((hit = strstr(s, secret)) != NULL) {
		n = strlen(hit + slen);
		if (slen >= 3) {
			memcpy(hit, "***", 3);
			memmove(hit + 3, hit + slen, n + 1);
		} else {
			/* growing the string: keep within cap */
			size_t used = (size_t)(hit - s);
			if (used + 3 + n + 1 > cap)
				n = cap - used - 4;
			memmove(hit + 3, hit + slen, n);
			hit[3 + n] = '\0';
			memcpy(hit, "***", 3);
		}
		s = hit + 3;
	}
}
