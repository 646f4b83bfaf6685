/* verify.c - mreg verify: the recorded files and artifacts, hashed again
 * (see verify.h) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "artifact-cache.h"
#include "verify.h"
#include "walk.h"
#include "workqueue.h"

/*
 * The model files (the invalidated ones, whose digest was wiped to be
 * read again, have nothing recorded to compare), then the artifacts of
 * the model each file holds, as mreg.artifacts records them.  One
 * statement: one snapshot.
 */
static const char *const load_sql =
	"SELECT s.source COLLATE \"C\", s.path COLLATE \"C\","
	" NULL::text COLLATE \"C\", p.name || '/' || m.name,"
	" s.size, s.sha256"
	" FROM mreg.source_files s"
	" LEFT JOIN mreg.models m ON m.id = s.model_id"
	" LEFT JOIN mreg.providers p ON p.id = m.provider_id"
	" WHERE ($1::text IS NULL OR s.source = $1)"
	" AND s.sha256 <> repeat('0', 64)"
	" UNION ALL"
	" SELECT s.source COLLATE \"C\", s.path COLLATE \"C\","
	" a.path COLLATE \"C\", p.name || '/' || m.name,"
	" a.size, a.sha256"
	" FROM mreg.source_files s"
	" JOIN mreg.artifacts a ON a.model_id = s.model_id"
	" JOIN mreg.models m ON m.id = s.model_id"
	" JOIN mreg.providers p ON p.id = m.provider_id"
	" WHERE ($1::text IS NULL OR s.source = $1)"
	" ORDER BY 1, 2, 3 NULLS FIRST";

void mreg_verify_finish(struct mreg_verify *v)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < v->nsources; i++) {
		free(v->sources[i].name);
		free(v->sources[i].root);
	}
	for (i = 0; i < v->nitems; i++) {
		free(v->items[i].path);
		free(v->items[i].file);
		free(v->items[i].artifact);
		free(v->items[i].model);
	}
	free(v->sources);
	free(v->items);
	memset(v, 0, sizeof(*v));
}

static char *dup_value(const PGresult *res, int row, int col, bool *failed)
{
	char *s;

	if (PQgetisnull(res, row, col))
		return NULL;
	if (!(s = strdup(PQgetvalue(res, row, col))))
		*failed = true;
	return s;
}

/* Row i as item it; a new source when its name differs from the last. */
static int take_row(struct mreg_verify *v, const PGresult *res, int i,
		    struct mreg_verify_item *it)
{
	const char *name = PQgetvalue(res, i, 0);
	struct mreg_verify_source *src;
	char rel[PATH_MAX];
	bool failed = false;

	if (v->nsources == 0 ||
	    strcmp(v->sources[v->nsources - 1].name, name) != 0) {
		src = &v->sources[v->nsources++];
		if (!(src->name = strdup(name)))
			return -1;
		src->named = name[0] != '/';
	}
	src = &v->sources[v->nsources - 1];
	it->source = v->nsources - 1;
	it->file = dup_value(res, i, 1, &failed);
	it->artifact = dup_value(res, i, 2, &failed);
	it->model = dup_value(res, i, 3, &failed);
	it->rec_size = strtoll(PQgetvalue(res, i, 4), NULL, 10);
	snprintf(it->rec_sha, sizeof(it->rec_sha), "%s",
		 PQgetvalue(res, i, 5));
	if (failed)
		return -1;
	if (!it->artifact) {
		src->files++;
		it->path = strdup(it->file);
	} else {
		src->artifacts++;
		if (mreg_artifact_rel(it->file, it->artifact, rel,
				      sizeof(rel)) < 0)
			snprintf(rel, sizeof(rel), "%s", it->artifact);
		it->path = strdup(rel);
	}
	return it->path ? 0 : -1;
}

int mreg_verify_load(struct mreg_verify *v, struct mreg_conn *conn,
		     const char *source, struct mreg_error *err)
{
	const char *params[1] = { source };
	PGresult *res;
	int i, n;

	memset(v, 0, sizeof(*v));
	res = mreg_db_exec(conn, load_sql, 1, params, PGRES_TUPLES_OK, err);
	if (!res) {
		mreg_error_prefix(err, "could not read the recorded files");
		return -1;
	}
	n = PQntuples(res);
	v->items = calloc((size_t)n + 1, sizeof(*v->items));
	v->sources = calloc((size_t)n + 1, sizeof(*v->sources));
	if (!v->items || !v->sources)
		goto oom;
	for (i = 0; i < n; i++) {
		v->nitems = (size_t)i + 1;
		if (take_row(v, res, i, &v->items[i]) < 0)
			goto oom;
	}
	PQclear(res);
	return 0;
oom:
	PQclear(res);
	mreg_verify_finish(v);
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

/* --- hashing ------------------------------------------------------------- */

struct check {
	struct mreg_queue *queue;
	const struct mreg_tree *trees; /* one per source */
};

static void check_item(const struct mreg_tree *t, struct mreg_verify_item *it)
{
	struct mreg_tree_found f;
	struct mreg_error err;
	struct mreg_stat st;
	unsigned char d[MREG_SHA256_LEN];

	mreg_error_clear(&err);
	if (mreg_tree_open(t, it->path, MREG_TREE_FILE, &f, &err) < 0) {
		if (f.errnum == ENOENT || f.errnum == ENOTDIR) {
			it->status = MREG_VERIFY_VANISHED;
			return;
		}
		it->status = MREG_VERIFY_UNREADABLE;
		snprintf(it->error, sizeof(it->error), "%s", err.message);
		return;
	}
	if (mreg_hash_fd(f.fd, it->path, -1, NULL, NULL, &st, d, &err) < 0) {
		it->status = MREG_VERIFY_UNREADABLE;
		snprintf(it->error, sizeof(it->error), "%s", err.message);
	} else {
		it->size = st.size;
		mreg_digest_to_hex(d, it->sha);
		it->status = st.size == it->rec_size &&
				     strcmp(it->sha, it->rec_sha) == 0
			     ? MREG_VERIFY_SAME
			     : MREG_VERIFY_CHANGED;
	}
	close(f.fd);
}

static void *worker_main(void *arg)
{
	struct check *c = arg;
	struct mreg_verify_item *it;

	while ((it = mreg_queue_pop(c->queue)) != NULL)
		check_item(&c->trees[it->source], it);
	return NULL;
}

/* Open each source's tree (or leave it skipped): 0, or -1 (err). */
static int open_trees(struct mreg_verify *v, const char *root,
		      bool follow_external, struct mreg_tree *trees,
		      char **reals, struct mreg_error *err)
{
	char real[PATH_MAX];
	const char *dir;
	size_t i;

	for (i = 0; i < v->nsources; i++) {
		struct mreg_verify_source *src = &v->sources[i];

		trees[i].rootfd = -1;
		trees[i].follow_external = follow_external;
		dir = root ? root : src->named ? NULL : src->name;
		if (!dir)
			continue;
		trees[i].rootfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (trees[i].rootfd < 0 && errno == ENOENT && !root) {
			/* the whole tree was removed: every file vanished */
			src->gone = true;
			if (!(src->root = strdup(dir)))
				goto oom;
			continue;
		}
		if (trees[i].rootfd < 0 ||
		    mreg_dir_realpath_of(trees[i].rootfd, dir, real,
					 sizeof(real)) < 0) {
			char why[256];

			strerror_r(errno, why, sizeof(why));
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "could not open the tree of source "
				       "\"%s\", \"%s\": %s", src->name, dir, why);
			return -1;
		}
		if (!(reals[i] = strdup(real)) || !(src->root = strdup(dir)))
			goto oom;
		trees[i].real = reals[i];
	}
	return 0;
oom:
	mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
	return -1;
}

static void count(struct mreg_verify *v)
{
	size_t i;

	v->changed = v->vanished = v->unreadable = 0;
	for (i = 0; i < v->nitems; i++) {
		switch (v->items[i].status) {
		case MREG_VERIFY_CHANGED: v->changed++; break;
		case MREG_VERIFY_VANISHED: v->vanished++; break;
		case MREG_VERIFY_UNREADABLE: v->unreadable++; break;
		case MREG_VERIFY_SAME: break;
		}
	}
}

int mreg_verify_check(struct mreg_verify *v, const char *root, int jobs,
		      bool follow_external, struct mreg_error *err)
{
	struct mreg_tree *trees = calloc(v->nsources + 1, sizeof(*trees));
	char **reals = calloc(v->nsources + 1, sizeof(*reals));
	struct check c = { .trees = trees };
	struct mreg_workers *w = NULL;
	size_t i;
	int rc = -1;

	if (!trees || !reals) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < v->nsources; i++)
		trees[i].rootfd = -1;
	if (open_trees(v, root, follow_external, trees, reals, err) < 0)
		goto cleanup;
	if (!(c.queue = mreg_queue_create((size_t)jobs * 64, err)))
		goto cleanup;
	w = mreg_workers_start(jobs, worker_main, &c, err);
	if (!w || mreg_workers_count(w) < jobs) {
		if (!err->status)
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		goto cleanup;
	}
	for (i = 0; i < v->nitems; i++) {
		if (v->sources[v->items[i].source].gone)
			v->items[i].status = MREG_VERIFY_VANISHED;
		else if (trees[v->items[i].source].rootfd >= 0 &&
			 mreg_queue_push(c.queue, &v->items[i]) < 0)
			break;
	}
	rc = 0;
cleanup:
	if (c.queue)
		mreg_queue_close(c.queue);
	mreg_workers_join(w);
	mreg_queue_destroy(c.queue);
	for (i = 0; trees && i < v->nsources; i++)
		if (trees[i].rootfd >= 0)
			close(trees[i].rootfd);
	for (i = 0; reals && i < v->nsources; i++)
		free(reals[i]);
	free(trees);
	free(reals);
	if (rc == 0)
		count(v);
	return rc;
}
