/* edit-model.c - the model that mreg add adds: a model file built from
 * the command line, or read from a file, checked by modelfile.c alone */
#include "edit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <limits.h>
#include <unistd.h>

#include <jansson.h>

#include "hashcache.h"
#include "jsontext.h"
#include "strbuf.h"
#include "walk.h"

/* Where each option's text starts in the built document. */
struct origin {
	const char *label; /* the option ("--config"), "PROVIDER/NAME" */
	long line;         /* its first line in the document */
	long last;         /* and its last (raw values) */
	bool raw;          /* its text is the value itself (JSON) */
};

struct doc {
	struct mreg_strbuf b;
	long lines;        /* newlines written so far */
	struct origin at[16];
	int n;
};

static void put(struct doc *d, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		d->lines += s[i] == '\n';
	mreg_strbuf_add(&d->b, s, n);
}

static void puts_(struct doc *d, const char *s)
{
	put(d, s, strlen(s));
}

/* A new key on its own line, its value's origin noted. */
static void key(struct doc *d, const char *k, const char *label, bool raw)
{
	puts_(d, d->n ? ",\n\"" : "{\n\"");
	puts_(d, k);
	puts_(d, raw ? "\":\n" : "\": ");
	if (d->n < (int)(sizeof(d->at) / sizeof(d->at[0])))
		d->at[d->n++] = (struct origin){ label, d->lines + 1,
						 d->lines + 1, raw };
}

static void string_key(struct doc *d, const char *k, const char *label,
		       const char *v)
{
	if (!v)
		return;
	key(d, k, label, false);
	mreg_json_put_string(&d->b, v); /* no newline: escaped */
}

static void array_key(struct doc *d, const char *k, const char *label,
		      const char *const *v, size_t n)
{
	size_t i;

	if (n == 0)
		return;
	key(d, k, label, false);
	puts_(d, "[");
	for (i = 0; i < n; i++) {
		if (i)
			puts_(d, ", ");
		mreg_json_put_string(&d->b, v[i]);
	}
	puts_(d, "]");
}

static void raw_key(struct doc *d, const char *k, const char *label,
		    const char *v)
{
	if (!v)
		return;
	key(d, k, label, true);
	puts_(d, v);
	d->at[d->n - 1].last = d->lines + 1;
}

/* An error at a line of the document: at the option it came from. */
static void locate(const struct doc *d, struct mreg_error *err)
{
	const struct origin *o = NULL;
	int i;

	for (i = 0; i < d->n && err->line > 0; i++)
		if (d->at[i].line <= err->line)
			o = &d->at[i];
	if (!o) {
		mreg_error_at(err, "", 0, 0);
		return;
	}
	if (o->raw && err->line <= o->last)
		mreg_error_at(err, o->label, err->line - o->line + 1,
			      err->column);
	else
		mreg_error_at(err, o->label, 0, 0);
}

/* Is parsed (the value the parser took for the key) all of given?
 * Anything after it would have been read as more keys. */
static int whole(const char *given, const char *parsed, const char *label,
		 struct mreg_error *err)
{
	const char *ws = " \t\r\n";
	size_t start, end;

	if (!given)
		return 0;
	start = strspn(given, ws);
	end = strlen(given);
	while (end > start && strchr(ws, given[end - 1]))
		end--;
	if (end - start == strlen(parsed) &&
	    memcmp(given + start, parsed, end - start) == 0)
		return 0;
	mreg_error_set(err, MREG_EXIT_DATA, "text after the JSON object");
	mreg_error_at(err, label, 0, 0);
	return -1;
}

int mreg_model_from_args(const struct mreg_model_args *a,
			 struct mreg_model *out, struct mreg_error *err)
{
	struct doc d = { 0 };
	int rc;

	memset(out, 0, sizeof(*out));
	string_key(&d, "provider", "PROVIDER/NAME", a->provider);
	string_key(&d, "name", "PROVIDER/NAME", a->name);
	string_key(&d, "type", "--type", a->type);
	string_key(&d, "version", "--version", a->version);
	string_key(&d, "display_name", "--display-name", a->display_name);
	string_key(&d, "description", "--description", a->description);
	array_key(&d, "tags", "--tag", a->tags, a->ntags);
	array_key(&d, "synonyms", "--synonym", a->synonyms, a->nsynonyms);
	if (a->inactive) {
		key(&d, "active", "--inactive", false);
		puts_(&d, "false");
	}
	raw_key(&d, "config", "--config", a->config);
	raw_key(&d, "metadata", "--metadata", a->metadata);
	puts_(&d, d.n ? "\n}\n" : "{}\n");
	if (d.b.oom) {
		mreg_strbuf_free(&d.b);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	rc = mreg_model_parse(d.b.p, d.b.len, "", out, err);
	if (rc < 0)
		locate(&d, err);
	else if (whole(a->config, out->config_json, "--config", err) < 0 ||
		 whole(a->metadata, out->metadata_json, "--metadata", err) < 0)
		rc = -1;
	if (rc < 0)
		mreg_model_finish(out);
	mreg_strbuf_free(&d.b);
	return rc;
}

/* Standard input, whole, at most max bytes. */
static int read_stdin(long long max, char **buf, size_t *len,
		      struct mreg_error *err)
{
	struct mreg_strbuf b = { 0 };
	char chunk[65536], ebuf[128];
	size_t n;

	mreg_strbuf_add(&b, "", 0);
	while ((n = fread(chunk, 1, sizeof(chunk), stdin)) > 0) {
		if ((long long)(b.len + n) > max) {
			mreg_strbuf_free(&b);
			mreg_error_set(err, MREG_EXIT_DATA, "larger than %lld "
				       "bytes", max);
			mreg_error_at(err, "<stdin>", 0, 0);
			return -1;
		}
		mreg_strbuf_add(&b, chunk, n);
	}
	if (ferror(stdin)) {
		mreg_strbuf_free(&b);
		mreg_error_set(err, MREG_EXIT_FAILURE, "could not read: %s",
			       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		mreg_error_at(err, "<stdin>", 0, 0);
		return -1;
	}
	*len = b.len;
	if (!(*buf = mreg_strbuf_take(&b))) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/* The directory of path (a buffer of len), "." when it has none. */
static void dir_of(const char *path, char *out, size_t len)
{
	const char *slash = strrchr(path, '/');

	if (!slash)
		snprintf(out, len, ".");
	else if (slash == path)
		snprintf(out, len, "/");
	else
		snprintf(out, len, "%.*s", (int)(slash - path), path);
}

/* Hash one artifact inside the tree into the array arr. */
static int hash_one(const struct mreg_tree *t, const char *a, json_t *arr,
		    const char *label, struct mreg_error *err)
{
	unsigned char d[MREG_SHA256_LEN];
	char hex[MREG_SHA256_HEX];
	struct mreg_tree_found f;
	struct mreg_stat st;
	int rc;

	rc = mreg_tree_open(t, a, MREG_TREE_FILE, &f, err);
	if (rc == 0) {
		rc = mreg_hash_fd(f.fd, a, -1, NULL, NULL, &st, d, err);
		close(f.fd);
	}
	if (rc < 0) {
		/* the same words as import-dir's */
		mreg_error_prefix(err, "key 'artifacts': \"%.200s%s\"", a,
				  strlen(a) > 200 ? "..." : "");
		mreg_error_at(err, label, 0, 0);
		return -1;
	}
	mreg_digest_to_hex(d, hex);
	if (json_array_append_new(arr, json_pack("{sssIss}", "path", a,
						 "size", (json_int_t)st.size,
						 "sha256", hex)) < 0) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	return 0;
}

/* The model's artifacts hashed, relative to dir, as a JSON array. */
static int hash_artifacts(const struct mreg_model *m, const char *dir,
			  const char *label, char **out,
			  struct mreg_error *err)
{
	struct mreg_tree t = { .rootfd = -1 };
	char real[PATH_MAX], ebuf[128];
	json_t *arr = json_array();
	size_t i;
	int rc = -1;

	*out = NULL;
	if (!arr) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	if (m->nartifacts > 0) {
		t.rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (t.rootfd < 0 ||
		    mreg_dir_realpath_of(t.rootfd, dir, real, sizeof(real)) < 0) {
			mreg_error_set(err, MREG_EXIT_DATA, "could not open its "
				       "directory \"%s\": %s", dir,
				       mreg_strerror(errno, ebuf, sizeof(ebuf)));
			mreg_error_at(err, label, 0, 0);
			goto cleanup;
		}
		t.real = real;
	}
	for (i = 0; i < m->nartifacts; i++)
		if (hash_one(&t, m->artifacts[i], arr, label, err) < 0)
			goto cleanup;
	*out = json_dumps(arr, JSON_COMPACT);
	if (!*out)
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	else
		rc = 0;
cleanup:
	if (t.rootfd >= 0)
		close(t.rootfd);
	json_decref(arr);
	return rc;
}

int mreg_model_from_file(const char *path, long long max_size,
			 struct mreg_model *out, char **artifacts,
			 struct mreg_error *err)
{
	unsigned char digest[MREG_SHA256_LEN];
	struct mreg_stat st;
	const char *label = path ? path : "<stdin>";
	char *buf = NULL, dir[PATH_MAX];
	size_t len = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	*artifacts = NULL;
	if (path)
		rc = mreg_read_and_hash(AT_FDCWD, path, path, max_size, &buf,
					&len, &st, digest, err);
	else
		rc = read_stdin(max_size, &buf, &len, err);
	if (rc == 0)
		rc = mreg_model_parse(buf, len, label, out, err);
	free(buf);
	if (rc == 0) {
		dir_of(path ? path : "./-", dir, sizeof(dir));
		rc = hash_artifacts(out, dir, label, artifacts, err);
	}
	if (rc < 0)
		mreg_model_finish(out);
	return rc;
}
