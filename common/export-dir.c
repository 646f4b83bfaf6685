/* export-dir.c - mreg export into a directory: the manifest, what to
 * write, what to remove (see export.h) */
#include "export.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>

#include "atomicfile.h"
#include "sha256.h"
#include "strbuf.h"

/* A file of the manifest, or one to write. */
struct entry {
	char *path;
	char sha[65];
	/* to write: */
	char *model, *text;
	size_t len;
	bool unchanged;
	bool keep;      /* manifest: still exported */
};

struct entries {
	struct entry *v;
	size_t n, cap;
};

static void entries_finish(struct entries *es)
{
	size_t i;

	for (i = 0; i < es->n; i++) {
		free(es->v[i].path);
		free(es->v[i].model);
		free(es->v[i].text);
	}
	free(es->v);
	memset(es, 0, sizeof(*es));
}

static struct entry *entries_add(struct entries *es)
{
	if (es->n == es->cap) {
		size_t n = es->cap ? es->cap * 2 : 64;
		struct entry *v = realloc(es->v, n * sizeof(*v));
		if (!v)
			return NULL;
		es->v = v;
		es->cap = n;
	}
	memset(&es->v[es->n], 0, sizeof(*es->v));
	return &es->v[es->n++];
}

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct entry *)a)->path,
		      ((const struct entry *)b)->path);
}

static struct entry *entries_find(const struct entries *es, const char *path)
{
	struct entry key = { .path = (char *)path };

	return es->n ? bsearch(&key, es->v, es->n, sizeof(*es->v), by_path)
		     : NULL;
}

static int sys_error(struct mreg_error *err, int e, const char *what,
		     const char *dir, const char *rel)
{
	char ebuf[128];

	mreg_error_set(err, MREG_EXIT_FAILURE, "could not %s \"%s%s%s\": %s",
		       what, dir, rel ? "/" : "", rel ? rel : "",
		       mreg_strerror(e, ebuf, sizeof(ebuf)));
	return -1;
}

static int oom(struct mreg_error *err)
{
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

/* The whole file full (malloc'd, *len), or NULL with errno set. */
static char *slurp(const char *full, size_t *len)
{
	struct mreg_strbuf b = { 0 };
	char chunk[65536];
	ssize_t n;
	int fd = open(full, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	mreg_strbuf_add(&b, "", 0);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			mreg_strbuf_free(&b);
			errno = e;
			return NULL;
		}
		mreg_strbuf_add(&b, chunk, (size_t)n);
	}
	close(fd);
	*len = b.len;
	if (b.oom)
		errno = ENOMEM;
	return mreg_strbuf_take(&b);
}

static int join(char *out, size_t len, const char *dir, const char *rel)
{
	int n = snprintf(out, len, "%s/%s", dir, rel);

	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* --- the manifest --------------------------------------------------------- */

/* Is line "SHA256  PATH" with a path export writes? Fills e. */
static bool manifest_line(char *line, struct entry *e)
{
	char provider[80], name[1024], again[MREG_EXPORT_PATH_MAX];
	const char *path = line + 66;
	size_t i;

	if (strlen(line) < 67 || line[64] != ' ' || line[65] != ' ')
		return false;
	for (i = 0; i < 64; i++)
		if (!((line[i] >= '0' && line[i] <= '9') ||
		      (line[i] >= 'a' && line[i] <= 'f')))
			return false;
	/* exactly what mreg_export_path writes, nothing else */
	if (mreg_export_path_decode(path, provider, sizeof(provider), name,
				    sizeof(name)) < 0 ||
	    mreg_export_path(provider, name, again, sizeof(again)) < 0 ||
	    strcmp(again, path) != 0)
		return false;
	memcpy(e->sha, line, 64);
	e->sha[64] = '\0';
	e->path = strdup(path);
	return e->path != NULL;
}

/* 1 read into *es (sorted), 0 there is none, -1 error. */
static int manifest_read(const char *dir, struct entries *es,
			 struct mreg_error *err)
{
	char full[4096], *text, *line, *next;
	size_t len, lineno = 0;
	struct entry *e;

	if (join(full, sizeof(full), dir, MREG_EXPORT_MANIFEST) < 0)
		return sys_error(err, ENAMETOOLONG, "read", dir, NULL);
	text = slurp(full, &len);
	if (!text && errno == ENOENT)
		return 0;
	if (!text)
		return sys_error(err, errno, "read", dir, MREG_EXPORT_MANIFEST);
	for (line = text; *line; line = next) {
		next = strchr(line, '\n');
		if (!next) {
			mreg_error_set(err, MREG_EXIT_DATA, "no newline at the end");
			goto bad;
		}
		*next++ = '\0';
		lineno++;
		if (!(e = entries_add(es))) {
			free(text);
			return oom(err);
		}
		if (!manifest_line(line, e)) {
			es->n--;
			mreg_error_set(err, MREG_EXIT_DATA,
				       "line %zu is not \"SHA256  PATH\" with a "
				       "path mreg export writes", lineno);
			goto bad;
		}
	}
	free(text);
	qsort(es->v, es->n, sizeof(*es->v), by_path);
	return 1;
bad:
	free(text);
	mreg_error_prefix(err, "\"%s\" is not a manifest mreg export wrote",
			  full);
	mreg_error_hint(err, "Nothing was written.  Remove it only if this "
			"directory is not an export.");
	return -1;
}

static int manifest_write(const char *dir, const struct entries *a,
			  const struct entries *b, mode_t mode,
			  struct mreg_error *err)
{
	struct mreg_strbuf s = { 0 };
	char full[4096];
	size_t i;
	int rc;

	mreg_strbuf_add(&s, "", 0);
	/* a's files that b does not list, then b's */
	for (i = 0; a && i < a->n; i++) {
		if (!a->v[i].keep || entries_find(b, a->v[i].path))
			continue;
		mreg_strbuf_puts(&s, a->v[i].sha);
		mreg_strbuf_puts(&s, "  ");
		mreg_strbuf_puts(&s, a->v[i].path);
		mreg_strbuf_puts(&s, "\n");
	}
	for (i = 0; b && i < b->n; i++) {
		mreg_strbuf_puts(&s, b->v[i].sha);
		mreg_strbuf_puts(&s, "  ");
		mreg_strbuf_puts(&s, b->v[i].path);
		mreg_strbuf_puts(&s, "\n");
	}
	if (s.oom) {
		mreg_strbuf_free(&s);
		return oom(err);
	}
	if (join(full, sizeof(full), dir, MREG_EXPORT_MANIFEST) < 0) {
		mreg_strbuf_free(&s);
		return sys_error(err, ENAMETOOLONG, "write", dir, NULL);
	}
	rc = mreg_atomic_write(full, s.p, s.len, mode);
	mreg_strbuf_free(&s);
	if (rc < 0)
		return sys_error(err, errno, "write", dir, MREG_EXPORT_MANIFEST);
	return 0;
}

/* --- the directory -------------------------------------------------------- */

/* dir exists (created when missing) and is a directory. */
static int open_dir(const char *dir, bool *empty, struct mreg_error *err)
{
	struct stat st;
	struct dirent *d;
	DIR *dp;

	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return sys_error(err, errno, "create directory", dir, NULL);
	if (stat(dir, &st) < 0)
		return sys_error(err, errno, "read directory", dir, NULL);
	if (!S_ISDIR(st.st_mode))
		return sys_error(err, ENOTDIR, "export into", dir, NULL);
	if (!(dp = opendir(dir)))
		return sys_error(err, errno, "read directory", dir, NULL);
	*empty = true;
	while ((d = readdir(dp)) != NULL)
		if (strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0)
			*empty = false;
	closedir(dp);
	if (access(dir, W_OK | X_OK) < 0)
		return sys_error(err, errno, "write into directory", dir, NULL);
	return 0;
}

/*
 * Each directory of rel below dir: a directory (not a link) or missing.
 * create: make the missing ones.  0, 1 (refused: err filled), -1.
 */
static int check_parents(const char *dir, const char *rel, bool create,
			 struct mreg_error *err)
{
	char full[4096];
	size_t base = strlen(dir) + 1;
	struct stat st;
	char *p;

	if (join(full, sizeof(full), dir, rel) < 0)
		return sys_error(err, ENAMETOOLONG, "write", dir, rel);
	for (p = strchr(full + base, '/'); p; p = strchr(p + 1, '/')) {
		*p = '\0';
		if (lstat(full, &st) < 0) {
			if (errno != ENOENT) {
				*p = '/';
				return sys_error(err, errno, "read", full, NULL);
			}
			if (create && mkdir(full, 0777) < 0) {
				int e = errno;
				*p = '/';
				return sys_error(err, e, "create directory",
						 full, NULL);
			}
		} else if (!S_ISDIR(st.st_mode)) {
			mreg_error_set(err, MREG_EXIT_DATA,
				       "\"%s\" is not a directory (%s): it is in "
				       "the way of \"%s\"", full,
				       S_ISLNK(st.st_mode) ? "a symbolic link"
							   : "a file",
				       rel);
			*p = '/';
			return 1;
		}
		*p = '/';
	}
	return 0;
}

/* Remove the directories of rel that became empty (never dir itself). */
static void prune_parents(const char *dir, const char *rel)
{
	char full[4096];
	size_t base = strlen(dir) + 1;
	char *p;

	if (join(full, sizeof(full), dir, rel) < 0)
		return;
	while ((p = strrchr(full + base, '/')) != NULL) {
		*p = '\0';
		if (rmdir(full) < 0)
			return; /* not empty: someone's files */
	}
}

/* --- the export ----------------------------------------------------------- */

static int collect(void *arg, const struct mreg_export_model *m,
		   struct mreg_error *err)
{
	struct entries *es = arg;
	struct entry *e = entries_add(es);
	size_t klen = strlen(m->provider) + strlen(m->name) + 2;

	if (!e)
		return oom(err);
	e->path = strdup(m->path);
	e->model = malloc(klen);
	e->text = malloc(m->len + 1);
	if (!e->path || !e->model || !e->text)
		return oom(err);
	snprintf(e->model, klen, "%s/%s", m->provider, m->name);
	memcpy(e->text, m->text, m->len);
	e->text[m->len] = '\0';
	e->len = m->len;
	if (mreg_sha256_hex(e->text, e->len, e->sha) < 0)
		return oom(err);
	return 0;
}

/*
 * Before anything is written: is each file to write ours to write, or
 * already there with these bytes?  0, 1 refused (err filled), -1.
 */
static int plan(const char *dir, struct entries *out,
		const struct entries *old, bool force, struct mreg_error *err)
{
	char full[4096];
	struct stat st;
	struct entry *e;
	size_t i, len;
	char *have;
	int rc;

	for (i = 0; i < out->n; i++) {
		e = &out->v[i];
		if ((rc = check_parents(dir, e->path, false, err)) != 0)
			return rc;
		if (join(full, sizeof(full), dir, e->path) < 0)
			return sys_error(err, ENAMETOOLONG, "write", dir, e->path);
		if (lstat(full, &st) < 0) {
			if (errno == ENOENT)
				continue;
			return sys_error(err, errno, "read", full, NULL);
		}
		if (!S_ISREG(st.st_mode)) {
			mreg_error_set(err, MREG_EXIT_DATA,
				       "\"%s\" is in the way: it is not a "
				       "regular file", full);
			return 1;
		}
		if (!entries_find(old, e->path) && !force) {
			mreg_error_set(err, MREG_EXIT_DATA,
				       "\"%s\" exists and is not a file mreg "
				       "export wrote", full);
			mreg_error_hint(err, "Nothing was written.  With "
					"--force it is replaced.");
			return 1;
		}
		have = slurp(full, &len);
		if (!have)
			return sys_error(err, errno, "read", full, NULL);
		e->unchanged = len == e->len && memcmp(have, e->text, len) == 0;
		free(have);
	}
	return 0;
}

static int add_file(struct mreg_export_result *res, const char *path,
		    const char *model, enum mreg_export_action action)
{
	struct mreg_export_file *f;

	if (res->nfiles == res->capfiles) {
		size_t n = res->capfiles ? res->capfiles * 2 : 64;
		f = realloc(res->files, n * sizeof(*f));
		if (!f)
			return -1;
		res->files = f;
		res->capfiles = n;
	}
	f = &res->files[res->nfiles];
	f->path = strdup(path);
	f->model = model ? strdup(model) : NULL;
	f->action = action;
	if (!f->path || (model && !f->model)) {
		free(f->path);
		free(f->model);
		return -1;
	}
	res->nfiles++;
	return 0;
}

static int write_files(const char *dir, const struct entries *out,
		       mode_t mode, struct mreg_export_result *res,
		       struct mreg_error *err)
{
	struct mreg_atomic_batch *b = mreg_atomic_batch_create();
	char full[4096];
	const struct entry *e;
	size_t i;
	int rc = -1;

	if (!b)
		return oom(err);
	for (i = 0; i < out->n; i++) {
		e = &out->v[i];
		if (add_file(res, e->path, e->model,
			     e->unchanged ? MREG_EXPORT_UNCHANGED
					  : MREG_EXPORT_WRITTEN) < 0) {
			oom(err);
			goto cleanup;
		}
		if (e->unchanged) {
			res->unchanged++;
			continue;
		}
		if (check_parents(dir, e->path, true, err) != 0)
			goto cleanup;
		if (join(full, sizeof(full), dir, e->path) < 0) {
			sys_error(err, ENAMETOOLONG, "write", dir, e->path);
			goto cleanup;
		}
		if (mreg_atomic_batch_add(b, full, e->text, e->len, mode) < 0) {
			sys_error(err, errno, "write", full, NULL);
			goto cleanup;
		}
		res->written++;
	}
	if (mreg_atomic_batch_commit(b) < 0) {
		sys_error(err, errno, "write", mreg_atomic_batch_failed(b), NULL);
		goto cleanup;
	}
	rc = 0;
cleanup:
	mreg_atomic_batch_destroy(b);
	return rc;
}

/*
 * The files of the earlier export whose models are gone: removed when
 * they still hold what export wrote, else kept (and no longer ours).
 */
static int remove_gone(const char *dir, struct entries *old,
		       const struct entries *out,
		       struct mreg_export_result *res, struct mreg_error *err)
{
	char full[4096], sha[65];
	struct entry *e;
	size_t i, len;
	char *have;
	bool same;

	for (i = 0; i < old->n; i++) {
		e = &old->v[i];
		if (entries_find(out, e->path))
			continue;
		e->keep = false;
		if (join(full, sizeof(full), dir, e->path) < 0)
			continue;
		have = slurp(full, &len);
		if (!have) {
			if (errno == ENOENT || errno == ELOOP)
				continue; /* gone already, or not ours */
			return sys_error(err, errno, "read", full, NULL);
		}
		same = mreg_sha256_hex(have, len, sha) == 0 &&
		       strcmp(sha, e->sha) == 0;
		free(have);
		if (same && unlink(full) < 0 && errno != ENOENT)
			return sys_error(err, errno, "remove", full, NULL);
		if (add_file(res, e->path, NULL,
			     same ? MREG_EXPORT_REMOVED : MREG_EXPORT_KEPT) < 0)
			return oom(err);
		if (same) {
			res->removed++;
			prune_parents(dir, e->path);
		} else {
			res->kept++;
		}
	}
	return 0;
}

static mode_t file_mode(void)
{
	mode_t mask = umask(022);

	umask(mask);
	return 0666 & ~mask;
}

int mreg_export_dir(struct mreg_conn *conn,
		    const struct mreg_export_filter *f, const char *dir,
		    bool force, struct mreg_export_result *res,
		    struct mreg_error *err)
{
	struct entries old = { 0 }, out = { 0 };
	mode_t mode = file_mode();
	bool empty;
	size_t i;
	int rc = -1, got;

	memset(res, 0, sizeof(*res));
	if (open_dir(dir, &empty, err) < 0 ||
	    (got = manifest_read(dir, &old, err)) < 0)
		goto cleanup;
	res->had_manifest = got == 1;
	if (!res->had_manifest && !empty && !force) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "directory \"%s\" is not empty and holds no "
			       "export manifest (%s)", dir,
			       MREG_EXPORT_MANIFEST);
		mreg_error_hint(err, "Export into an empty directory, or use "
				"--force to write into this one (nothing "
				"export did not write is removed).");
		goto cleanup;
	}
	for (i = 0; i < old.n; i++)
		old.v[i].keep = true;
	if (mreg_export_each(conn, f, false, collect, &out, err) < 0)
		goto cleanup;
	/* ordered by provider and name; the manifest by path */
	qsort(out.v, out.n, sizeof(*out.v), by_path);
	if (plan(dir, &out, &old, force, err) != 0)
		goto cleanup;
	/* every file export is about to write is listed before it exists */
	if (manifest_write(dir, &old, &out, mode, err) < 0 ||
	    write_files(dir, &out, mode, res, err) < 0 ||
	    remove_gone(dir, &old, &out, res, err) < 0 ||
	    manifest_write(dir, NULL, &out, mode, err) < 0)
		goto cleanup;
	rc = 0;
cleanup:
	entries_finish(&old);
	entries_finish(&out);
	return rc;
}

void mreg_export_result_finish(struct mreg_export_result *res)
{
	size_t i;

	if (!res)
		return;
	for (i = 0; i < res->nfiles; i++) {
		free(res->files[i].path);
		free(res->files[i].model);
	}
	free(res->files);
	memset(res, 0, sizeof(*res));
}
