/* export.c - the registry as model files: the query, the documents, the
 * paths (see export.h) */
#include "export.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "jsontext.h"
#include "modelfile.h"
#include "registry.h"
#include "utf8.h"

/*
 * The model file, assembled by the server in the keys' fixed order from
 * the JSON text of each value (to_jsonb escapes strings, jsonb prints
 * numbers exactly); optional strings only when set.  Artifacts as objects
 * ordered by path.  $1 type, $2 provider, $3 tags (a JSON array, all
 * required), $4 inactive models too.
 */
static const char *const export_sql =
	"SELECT p.name, m.name,"
	" '{\"name\": ' || to_jsonb(m.name)::text"
	" || ', \"provider\": ' || to_jsonb(p.name)::text"
	" || ', \"type\": ' || to_jsonb(m.type)::text"
	" || coalesce(', \"version\": ' || to_jsonb(m.version)::text, '')"
	" || coalesce(', \"display_name\": ' || to_jsonb(m.display_name)::text, '')"
	" || coalesce(', \"description\": ' || to_jsonb(m.description)::text, '')"
	" || ', \"tags\": ' || to_jsonb(m.tags)::text"
	" || ', \"synonyms\": ' || to_jsonb(m.synonyms)::text"
	" || ', \"active\": ' || CASE WHEN m.active THEN 'true' ELSE 'false' END"
	" || ', \"config\": ' || m.config::text"
	" || ', \"metadata\": ' || m.metadata::text"
	" || ', \"artifacts\": ' || coalesce((SELECT jsonb_agg(jsonb_build_object("
	"    'path', a.path, 'size', a.size, 'sha256', a.sha256)"
	"    ORDER BY a.path COLLATE \"C\")::text"
	"    FROM mreg.artifacts a WHERE a.model_id = m.id), '[]')"
	" || '}'"
	" FROM mreg.models m JOIN mreg.providers p ON p.id = m.provider_id"
	" WHERE ($1::text IS NULL OR m.type = $1)"
	" AND ($2::text IS NULL OR p.name = $2)"
	" AND ($3::jsonb IS NULL OR m.tags @> ARRAY(SELECT"
	"     jsonb_array_elements_text($3::jsonb)))"
	" AND ($4::boolean OR m.active)"
	" ORDER BY p.name COLLATE \"C\", m.name COLLATE \"C\"";

/* The JSON array of the filter's tags (malloc'd), or NULL with *oom. */
static char *tags_param(const struct mreg_export_filter *f, bool *oom)
{
	json_t *a;
	char *s;
	int i;

	*oom = false;
	if (f->ntags == 0)
		return NULL;
	a = json_array();
	for (i = 0; a && i < f->ntags; i++)
		if (json_array_append_new(a, json_string(f->tags[i])) < 0) {
			json_decref(a);
			a = NULL;
		}
	s = a ? json_dumps(a, JSON_COMPACT) : NULL;
	json_decref(a);
	*oom = s == NULL;
	return s;
}

/* The document (compact: one line) re-indented, '\n' at the end. */
static char *format_doc(const char *doc, size_t len, bool compact,
			size_t *outlen)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);
	int rc;

	if (!f)
		return NULL;
	rc = mreg_json_write(f, doc, len, compact ? 0 : 2);
	if (putc('\n', f) == EOF)
		rc = -1;
	if (fclose(f) != 0 || rc < 0) {
		free(buf);
		return NULL;
	}
	*outlen = n;
	return buf;
}

int mreg_export_each(struct mreg_conn *conn,
		     const struct mreg_export_filter *f, bool compact,
		     int (*fn)(void *arg, const struct mreg_export_model *m,
			       struct mreg_error *err),
		     void *arg, struct mreg_error *err)
{
	struct mreg_stream st;
	struct mreg_export_model m;
	char path[MREG_EXPORT_PATH_MAX], *tags, *text;
	const char *params[4];
	bool oom;
	int rc, got;

	tags = tags_param(f, &oom);
	if (oom) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	params[0] = f->type;
	params[1] = f->provider;
	params[2] = tags;
	params[3] = f->all ? "true" : "false";
	rc = mreg_stream_open(&st, conn, export_sql, 4, params, err);
	free(tags);
	if (rc < 0)
		return -1;
	while ((got = mreg_stream_next(&st, err)) == 1) {
		memset(&m, 0, sizeof(m));
		m.provider = PQgetvalue(st.row, 0, 0);
		m.name = PQgetvalue(st.row, 0, 1);
		if (mreg_export_path(m.provider, m.name, path,
				     sizeof(path)) < 0) {
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "model \"%s/%s\": its path is too long",
				       m.provider, m.name);
			break;
		}
		text = format_doc(PQgetvalue(st.row, 0, 2),
				  (size_t)PQgetlength(st.row, 0, 2), compact,
				  &m.len);
		if (!text) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			break;
		}
		m.path = path;
		m.text = text;
		rc = fn(arg, &m, err);
		free(text);
		if (rc < 0)
			break;
	}
	if (got == 1) {
		mreg_stream_cancel(&st);
		mreg_stream_close(&st);
		return -1;
	}
	return got < 0 ? -1 : 0;
}

/* --- paths ---------------------------------------------------------------- */

static bool plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
	       c == '_' || c == '-';
}

/* The encoding of the character at s (its bytes in *n), into unit. */
static size_t encode_unit(const unsigned char *s, size_t len, bool first,
			  size_t *n, char unit[12])
{
	uint32_t cp;

	if (s[0] < 0x80) {
		*n = 1;
		if (plain(s[0]) && !(first && s[0] == '.')) {
			unit[0] = (char)s[0];
			unit[1] = '\0';
			return 1;
		}
		return (size_t)snprintf(unit, 12, "%%%02x", s[0]);
	}
	*n = mreg_utf8_decode(s, len, &cp);
	if (*n == 0) { /* not UTF-8 (names are): the byte itself */
		*n = 1;
		return (size_t)snprintf(unit, 12, "%%%02x", s[0]);
	}
	if (cp <= 0xffff)
		return (size_t)snprintf(unit, 12, "%%u%04x", (unsigned)cp);
	return (size_t)snprintf(unit, 12, "%%v%06x", (unsigned)cp);
}

int mreg_export_path(const char *provider, const char *name, char *out,
		     size_t len)
{
	const unsigned char *s = (const unsigned char *)name;
	size_t i = 0, n, ulen, o, chunk = 0, nlen = strlen(name);
	char unit[12];
	int w;

	w = snprintf(out, len, "%s/", provider);
	if (w < 0 || (size_t)w >= len)
		return -1;
	o = (size_t)w;
	while (i < nlen) {
		ulen = encode_unit(s + i, nlen - i, chunk == 0, &n, unit);
		if (chunk > 0 && chunk + ulen > MREG_EXPORT_CHUNK) {
			if (o + 3 >= len)
				return -1;
			memcpy(out + o, ".d/", 3);
			o += 3;
			chunk = 0;
			continue; /* again, as the first of its chunk */
		}
		if (o + ulen >= len)
			return -1;
		memcpy(out + o, unit, ulen);
		o += ulen;
		chunk += ulen;
		i += n;
	}
	if (o + 6 > len)
		return -1;
	memcpy(out + o, ".json", 6);
	return 0;
}

static int hexval(const char *s, int n, uint32_t *v)
{
	int i;

	*v = 0;
	for (i = 0; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9')
			*v = *v * 16 + (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v = *v * 16 + (uint32_t)(c - 'a' + 10);
		else
			return -1;
	}
	return 0;
}

/* Append code point cp as UTF-8 to out (at *o, size len). */
static int put_utf8(uint32_t cp, char *out, size_t *o, size_t len)
{
	unsigned char b[4];
	size_t n;

	if (cp < 0x80) {
		b[0] = (unsigned char)cp;
		n = 1;
	} else if (cp < 0x800) {
		b[0] = (unsigned char)(0xc0 | (cp >> 6));
		b[1] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		b[0] = (unsigned char)(0xe0 | (cp >> 12));
		b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[2] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		b[0] = (unsigned char)(0xf0 | (cp >> 18));
		b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3f));
		b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3f));
		b[3] = (unsigned char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	if (*o + n >= len)
		return -1;
	memcpy(out + *o, b, n);
	*o += n;
	return 0;
}

/* Decode one component's encoded text [s, e) onto name. */
static int decode_part(const char *s, const char *e, char *name,
		       size_t *o, size_t nlen)
{
	uint32_t v;

	while (s < e) {
		if (*s != '%') {
			if (!plain((unsigned char)*s) || *o + 1 >= nlen)
				return -1;
			name[(*o)++] = *s++;
			continue;
		}
		if (e - s >= 3 && hexval(s + 1, 2, &v) == 0) {
			if (*o + 1 >= nlen)
				return -1;
			name[(*o)++] = (char)v;
			s += 3;
		} else if (e - s >= 6 && s[1] == 'u' &&
			   hexval(s + 2, 4, &v) == 0) {
			if (put_utf8(v, name, o, nlen) < 0)
				return -1;
			s += 6;
		} else if (e - s >= 8 && s[1] == 'v' &&
			   hexval(s + 2, 6, &v) == 0) {
			if (put_utf8(v, name, o, nlen) < 0)
				return -1;
			s += 8;
		} else {
			return -1;
		}
	}
	return 0;
}

int mreg_export_path_decode(const char *path, char *provider, size_t plen,
			    char *name, size_t nlen)
{
	const char *slash = strchr(path, '/'), *p, *e;
	size_t o = 0, n;

	if (!slash || (size_t)(slash - path) >= plen)
		return -1;
	memcpy(provider, path, (size_t)(slash - path));
	provider[slash - path] = '\0';
	if (!mreg_is_slug(provider))
		return -1;
	for (p = slash + 1;; p = e + 1) {
		e = strchr(p, '/');
		if (!e)
			break;
		n = (size_t)(e - p);
		if (n < 3 || memcmp(e - 2, ".d", 2) != 0 || p[0] == '.')
			return -1;
		if (decode_part(p, e - 2, name, &o, nlen) < 0)
			return -1;
	}
	n = strlen(p);
	if (n < 6 || strcmp(p + n - 5, ".json") != 0 || p[0] == '.')
		return -1;
	if (decode_part(p, p + n - 5, name, &o, nlen) < 0)
		return -1;
	name[o] = '\0';
	return 0;
}
