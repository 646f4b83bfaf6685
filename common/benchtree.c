/* benchtree.c - the model trees of the import workload (see benchtree.h) */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchtree.h"
#include "modelfile.h"
#include "source.h"

#define PROVIDERS 8

static const char *const types[] = {
	"llm", "llm", "llm", "llm", "embedding", "embedding", "embedding",
	"reranker", "classifier", "vision", "speech", "llm",
};
static const char *const words[] = {
	"chat", "instruct", "base", "code", "math", "multilingual", "vision",
	"long", "small", "medium", "large", "distilled", "quantized",
	"retrieval", "sparse", "dense",
};
#define NTYPES (sizeof(types) / sizeof(types[0]))
#define NWORDS (sizeof(words) / sizeof(words[0]))

static void set_errno(struct mreg_error *err, int errnum, const char *what,
		      const char *path)
{
	char buf[128];

	mreg_error_set(err, MREG_EXIT_FAILURE, "could not %s \"%s\": %s", what,
		       path, mreg_strerror(errnum, buf, sizeof(buf)));
}

/* "mreg-bench-cCCC-pK/<name>.json" of file i, and the pieces. */
struct file_names {
	char provider[MREG_SLUG_MAX + 1];
	char name[64];
	char rel[128];
	const char *type, *w1, *w2;
};

static void file_names(const struct mreg_bench_tree *t, long i,
		       struct file_names *f)
{
	f->type = types[(unsigned long)i % NTYPES];
	f->w1 = words[(unsigned long)(i / 3) % NWORDS];
	f->w2 = words[(unsigned long)(i / 37 + 5) % NWORDS];
	/* a tag listed twice is an error in a model file */
	if (f->w2 == f->w1)
		f->w2 = words[(unsigned long)(i / 37 + 6) % NWORDS];
	snprintf(f->provider, sizeof(f->provider), "mreg-bench-c%03d-p%ld",
		 t->client, i % PROVIDERS);
	snprintf(f->name, sizeof(f->name), "%s-%s-%06ld", f->w1, f->type, i);
	snprintf(f->rel, sizeof(f->rel), "%s/%s.json", f->provider, f->name);
}

/* Write file i at its current revision. */
static int write_file(struct mreg_bench_tree *t, long i,
		      struct mreg_error *err)
{
	struct file_names f;
	char buf[2048];
	size_t off = 0;
	ssize_t n;
	int len, fd;

	file_names(t, i, &f);
	len = snprintf(buf, sizeof(buf),
		"{\n"
		"  \"name\": \"%s\",\n"
		"  \"provider\": \"%s\",\n"
		"  \"type\": \"%s\",\n"
		"  \"version\": \"1.%u\",\n"
		"  \"display_name\": \"Bench %c%s %s %ld\",\n"
		"  \"description\": \"A synthetic %s %s model tuned for %s"
		" workloads (file %ld of client %d of the import workload of"
		" mreg bench).\",\n"
		"  \"tags\": [\n    \"%s\",\n    \"%s\",\n    \"bench\"\n  ],\n"
		"  \"synonyms\": [\n    \"%s%ld\"\n  ],\n"
		"  \"config\": {\n    \"context_window\": %ld,\n"
		"    \"temperature\": 0.7\n  },\n"
		"  \"metadata\": {\n    \"mreg_bench\": true,\n"
		"    \"license\": \"bench-only\",\n    \"seq\": %ld\n  }\n"
		"}\n",
		f.name, f.provider, f.type, t->rev[i], f.w1[0] - 'a' + 'A',
		f.w1 + 1, f.type, i, f.w1, f.type, f.w2, i, t->client, f.w1,
		f.w2, f.w1, i, 1024L << (i % 6), i);
	if (len < 0 || (size_t)len >= sizeof(buf)) {
		mreg_error_set(err, MREG_EXIT_FAILURE,
			       "model file %ld does not fit its buffer", i);
		return -1;
	}
	fd = openat(t->dirfd, f.rel, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
		    0644);
	if (fd < 0 && errno == ENOENT) {
		if (mkdirat(t->dirfd, f.provider, 0755) < 0 && errno != EEXIST) {
			set_errno(err, errno, "create directory", f.provider);
			return -1;
		}
		fd = openat(t->dirfd, f.rel,
			    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	}
	if (fd < 0) {
		set_errno(err, errno, "create", f.rel);
		return -1;
	}
	while (off < (size_t)len) {
		n = write(fd, buf + off, (size_t)len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			set_errno(err, errno, "write", f.rel);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (close(fd) < 0) {
		set_errno(err, errno, "write", f.rel);
		return -1;
	}
	return 0;
}

int mreg_bench_tree_create(struct mreg_bench_tree *t, const char *parent,
			   int client, long files, struct mreg_error *err)
{
	size_t len = strlen(parent) + 16;

	memset(t, 0, sizeof(*t));
	t->dirfd = -1;
	t->client = client;
	t->files = files;
	snprintf(t->source, sizeof(t->source), MREG_BENCH_SOURCE_PREFIX "%ld/%d",
		 (long)getpid(), client);
	t->path = malloc(len);
	t->rev = calloc((size_t)files, sizeof(*t->rev));
	if (!t->path || !t->rev) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	snprintf(t->path, len, "%s/c%03d", parent, client);
	if (mkdir(t->path, 0755) < 0) {
		set_errno(err, errno, "create directory", t->path);
		free(t->path);
		t->path = NULL; /* not ours to remove */
		return -1;
	}
	t->dirfd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (t->dirfd < 0) {
		set_errno(err, errno, "open directory", t->path);
		return -1;
	}
	for (long i = 0; i < files; i++)
		if (write_file(t, i, err) < 0) {
			mreg_error_prefix(err, "could not write the tree of "
					       "client %d", client);
			return -1;
		}
	return 0;
}

int mreg_bench_tree_change(struct mreg_bench_tree *t, long n,
			   struct mreg_error *err)
{
	if (n > t->files)
		n = t->files;
	for (long k = 0; k < n; k++) {
		t->rev[t->next]++;
		if (write_file(t, t->next, err) < 0)
			return -1;
		t->next = (t->next + 1) % t->files;
	}
	return 0;
}

struct problem {
	char *buf;
	size_t len;
};

static void on_file(void *arg, const char *rel, const char *text,
		    bool warning)
{
	struct problem *p = arg;

	if (!warning && p->len && !p->buf[0])
		snprintf(p->buf, p->len, "%s: %s", rel, text);
}

int mreg_bench_tree_import(struct mreg_bench_tree *t, struct mreg_conn *conn,
			   const char *actor, int jobs,
			   struct mreg_import_counts *out, char *problem,
			   size_t problem_len, struct mreg_error *err)
{
	struct problem p = { problem, problem_len };
	const struct mreg_import_config cfg = {
		MREG_IMPORT_CONFIG_DEFAULTS,
		.rootfd = t->dirfd,
		.label_root = t->path,
		.jobs = jobs,
		.source = t->source,
		.actor = actor,
		.conn = conn,
		.ev = { .arg = &p, .file = on_file },
	};
	struct mreg_source_lock *lock;
	struct mreg_error second;
	int rc;

	memset(out, 0, sizeof(*out));
	if (problem_len)
		problem[0] = '\0';
	/* no heartbeat: conn imports too; a bench tree imports in seconds */
	rc = mreg_source_try_lock(conn, t->source, &lock, err);
	if (rc <= 0)
		return -1;
	rc = mreg_import_run(&cfg, out, err);
	/* a row left behind would hold this process's later imports of the
	 * tree until its ttl: a failed release fails the import */
	mreg_error_clear(&second);
	if (mreg_source_unlock(lock, rc == 0 ? err : &second) != 0)
		rc = -1;
	return rc;
}

/* Remove everything under the directory open as fd (closed here). */
static void remove_under(int fd)
{
	DIR *d = fdopendir(fd);
	struct dirent *e;

	if (!d) {
		close(fd);
		return;
	}
	while ((e = readdir(d)) != NULL) {
		int sub;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(fd, e->d_name, 0) == 0)
			continue;
		sub = openat(fd, e->d_name,
			     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			continue;
		remove_under(sub);
		unlinkat(fd, e->d_name, AT_REMOVEDIR);
	}
	closedir(d);
}

void mreg_bench_remove_dir(const char *path)
{
	int fd;

	if (!path)
		return;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0)
		remove_under(fd);
	rmdir(path);
}

void mreg_bench_tree_finish(struct mreg_bench_tree *t)
{
	if (!t)
		return;
	if (t->dirfd >= 0)
		close(t->dirfd);
	mreg_bench_remove_dir(t->path);
	free(t->path);
	free(t->rev);
	memset(t, 0, sizeof(*t));
	t->dirfd = -1;
}
