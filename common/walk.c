/* walk.c - the imported tree: a walk that stays inside the root, and real
 * paths (opening one path below the root: tree.c; see walk.h) */
/* realpath() is POSIX.1-2008 base, but glibc declares it for X/Open only */
#define _XOPEN_SOURCE 700

#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- the walk ------------------------------------------------------------ */

#define WALK_PATH_MAX 4096

struct ancestor {
	dev_t dev;
	ino_t ino;
};

/*
 * A directory is read in windows of up to WINDOW entries: their names are
 * read, then they are all stat()ed (by the walker and the stat helpers
 * together), then handed on in directory order.  The stat of each entry is
 * most of a walk's time (a system call each); spread over the cores, an
 * unchanged re-import's walk takes a fraction of it, and memory holds one
 * window per open directory.
 */
#define WINDOW 256
/* a window smaller than this is stat()ed by the walker alone */
#define WINDOW_SHARED 24

struct entry {
	const char *name; /* in the window's names */
	struct stat st;
	int errnum;       /* of fstatat(), or 0 */
};

struct window {
	struct entry e[WINDOW];
	char *names;
	size_t n, used, cap;
};

/*
 * The stat helpers.  A window is published as (generation, dfd, entries);
 * each entry is claimed through claim = generation << 32 | next index by
 * compare-and-swap, so a helper that wakes late for an old window can
 * never take an index of the next one.
 */
struct statpool {
	pthread_t *th;
	int nthreads;
	pthread_mutex_t lock;
	pthread_cond_t work, done;
	uint32_t gen;             /* under lock */
	bool quit;                /* under lock */
	int dfd;                  /* the window being stat()ed (under lock) */
	struct entry *e;
	uint32_t n;
	_Atomic uint64_t claim;
	atomic_uint finished;     /* entries of the window done */
};

struct walker {
	const struct mreg_tree *t;
	struct statpool *pool;    /* NULL: the walker stats alone */
	const char *pattern;
	int match_path; /* pattern contains '/' */
	const char *suffix; /* the pattern is '*' and this literal */
	size_t suffix_len;
	mreg_walk_fn fn;
	void *arg;
	struct ancestor *stack;
	size_t depth, cap;
	char path[WALK_PATH_MAX];
};

/* --- the stat helpers ----------------------------------------------------- */

static void stat_entry(int dfd, struct entry *e)
{
	e->errnum = fstatat(dfd, e->name, &e->st, AT_SYMLINK_NOFOLLOW) < 0
			    ? errno
			    : 0;
}

/* Claim and stat entries of window gen until none is left. */
static void stat_claimed(struct statpool *p, uint32_t gen, int dfd,
			 struct entry *e, uint32_t n)
{
	uint64_t v = atomic_load(&p->claim);

	for (;;) {
		if ((uint32_t)(v >> 32) != gen || (uint32_t)v >= n)
			return;
		if (!atomic_compare_exchange_weak(&p->claim, &v, v + 1))
			continue; /* v reloaded */
		stat_entry(dfd, &e[(uint32_t)v]);
		if (atomic_fetch_add(&p->finished, 1) + 1 == n) {
			pthread_mutex_lock(&p->lock);
			pthread_cond_signal(&p->done);
			pthread_mutex_unlock(&p->lock);
		}
		v = atomic_load(&p->claim);
	}
}

static void *stat_helper(void *arg)
{
	struct statpool *p = arg;
	uint32_t seen = 0, gen, n;
	struct entry *e;
	int dfd;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->quit && p->gen == seen)
			pthread_cond_wait(&p->work, &p->lock);
		if (p->quit)
			break;
		seen = gen = p->gen;
		dfd = p->dfd;
		e = p->e;
		n = p->n;
		pthread_mutex_unlock(&p->lock);
		stat_claimed(p, gen, dfd, e, n);
		pthread_mutex_lock(&p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

static void pool_stop(struct statpool *p)
{
	int i;

	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->th[i], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	free(p->th);
	free(p);
}

/* n helper threads, or NULL (then the walker stats alone: as fast, just
 * on one core). */
static struct statpool *pool_start(int n)
{
	struct statpool *p;

	if (n < 1 || !(p = calloc(1, sizeof(*p))))
		return NULL;
	p->th = calloc((size_t)n, sizeof(*p->th));
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	while (p->th && p->nthreads < n &&
	       pthread_create(&p->th[p->nthreads], NULL, stat_helper, p) == 0)
		p->nthreads++;
	if (p->nthreads == 0) {
		pool_stop(p);
		return NULL;
	}
	return p;
}

/* Stat every entry of the window (in dfd), sharing it with the helpers. */
static void stat_window(struct statpool *p, int dfd, struct window *win)
{
	uint32_t gen, n = (uint32_t)win->n, i;

	if (!p || n < WINDOW_SHARED) {
		for (i = 0; i < n; i++)
			stat_entry(dfd, &win->e[i]);
		return;
	}
	pthread_mutex_lock(&p->lock);
	gen = ++p->gen;
	p->dfd = dfd;
	p->e = win->e;
	p->n = n;
	atomic_store(&p->finished, 0);
	atomic_store(&p->claim, (uint64_t)gen << 32);
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	stat_claimed(p, gen, dfd, win->e, n);
	pthread_mutex_lock(&p->lock);
	while (atomic_load(&p->finished) < n)
		pthread_cond_wait(&p->done, &p->lock);
	pthread_mutex_unlock(&p->lock);
}

/* A problem with w->path: of the walk (st NULL) or a bad file (st). */
static int report_st(struct walker *w, const struct stat *st,
		     const char *what, int e)
{
	struct mreg_error err;
	char ebuf[128];

	mreg_error_clear(&err);
	if (e)
		mreg_error_set(&err, MREG_EXIT_DATA, "%s: %s", what,
			       mreg_strerror(e, ebuf, sizeof(ebuf)));
	else
		mreg_error_set(&err, MREG_EXIT_DATA, "%s", what);
	mreg_error_at(&err, w->path, 0, 0);
	return w->fn(w->arg, w->path, st, &err);
}

static int report(struct walker *w, const char *what, int e)
{
	return report_st(w, NULL, what, e);
}

/*
 * The literal after a pattern's leading '*' ("*.json": ".json"), when
 * nothing else in it is special: a name matches when it ends with it and
 * does not start with a period (FNM_PERIOD), byte for byte as fnmatch()
 * compares in the C locale, without its per-name parsing of the pattern.
 */
static const char *star_suffix(const char *pattern)
{
	if (pattern[0] != '*' || strpbrk(pattern + 1, "*?[\\/") != NULL)
		return NULL;
	return pattern + 1;
}

static int matches(const struct walker *w, const char *name)
{
	if (w->suffix) {
		size_t n = strlen(name);

		return name[0] != '.' && n >= w->suffix_len &&
		       memcmp(name + n - w->suffix_len, w->suffix,
			      w->suffix_len) == 0;
	}
	if (w->match_path)
		return fnmatch(w->pattern, w->path, FNM_PATHNAME | FNM_PERIOD) == 0;
	return fnmatch(w->pattern, name, FNM_PERIOD) == 0;
}

static int push(struct walker *w, const struct stat *st)
{
	if (w->depth == w->cap) {
		size_t n = w->cap ? w->cap * 2 : 32;
		struct ancestor *s = realloc(w->stack, n * sizeof(*s));
		if (!s)
			return -1;
		w->stack = s;
		w->cap = n;
	}
	w->stack[w->depth].dev = st->st_dev;
	w->stack[w->depth].ino = st->st_ino;
	w->depth++;
	return 0;
}

static int is_ancestor(const struct walker *w, const struct stat *st)
{
	size_t i;

	for (i = 0; i < w->depth; i++)
		if (w->stack[i].dev == st->st_dev &&
		    w->stack[i].ino == st->st_ino)
			return 1;
	return 0;
}

static int walk_dir(struct walker *w, int dfd);

/* Descend into the directory open as fd (owned), whose stat is st. */
static int descend(struct walker *w, int fd, const struct stat *st)
{
	int rc;

	if (is_ancestor(w, st)) {
		close(fd);
		return report(w, "symbolic link loop: the directory contains itself",
			      0);
	}
	if (push(w, st) < 0) {
		close(fd);
		return report(w, "out of memory", 0);
	}
	rc = walk_dir(w, fd);
	w->depth--;
	return rc;
}

/* A matching entry that is not a regular file: a bad file, never opened. */
static int not_regular(struct walker *w, const struct stat *st)
{
	char msg[64];

	snprintf(msg, sizeof(msg), "not a regular file (%s)",
		 mreg_file_kind(st->st_mode));
	return report_st(w, st, msg, 0);
}

/* The entry w->path (name in dfd) is a symbolic link. */
static int walk_link(struct walker *w, const char *name)
{
	struct mreg_tree_found f;
	struct mreg_error err;

	mreg_error_clear(&err);
	if (mreg_tree_open(w->t, w->path, MREG_TREE_DIR_OR_STAT, &f, &err) < 0) {
		/* a link out of the tree to a file we would not import
		 * anyway is none of our business */
		if (f.external && f.have_st && !S_ISDIR(f.st.st_mode) &&
		    !matches(w, name))
			return 0;
		return report(w, err.message, 0);
	}
	if (f.fd >= 0)
		return descend(w, f.fd, &f.st);
	if (!matches(w, name))
		return 0;
	if (!S_ISREG(f.st.st_mode))
		return not_regular(w, &f.st);
	return w->fn(w->arg, w->path, &f.st, NULL);
}

/* Add name to the window (its names are copied). */
static int window_add(struct window *win, const char *name)
{
	size_t n = strlen(name) + 1, i;
	char *nb;

	if (win->used + n > win->cap) {
		size_t cap = win->cap ? win->cap * 2 : 8192;

		while (cap < win->used + n)
			cap *= 2;
		nb = realloc(win->names, cap);
		if (!nb)
			return -1;
		/* the entries point into the names: move them along */
		for (i = 0; i < win->n; i++)
			win->e[i].name = nb + (win->e[i].name - win->names);
		win->names = nb;
		win->cap = cap;
	}
	memcpy(win->names + win->used, name, n);
	win->e[win->n++].name = win->names + win->used;
	win->used += n;
	return 0;
}

/*
 * Read up to WINDOW names of dir into win: 0 (win->n == 0 at the end of
 * the directory), or the errno of a failed readdir() (the names read
 * before it are in win), or -1 out of memory.
 */
static int window_fill(DIR *dir, struct window *win)
{
	struct dirent *de;

	win->n = win->used = 0;
	while (win->n < WINDOW) {
		errno = 0;
		de = readdir(dir);
		if (!de)
			return errno;
		if (de->d_name[0] == '.')
			continue; /* ".", ".." and hidden entries */
		if (window_add(win, de->d_name) < 0)
			return -1;
	}
	return 0;
}

/* One entry of a window, its stat taken: w->path names its parent. */
static int walk_entry(struct walker *w, int dfd, size_t base,
		      const struct entry *en)
{
	const char *name = en->name;
	int fd;

	if (base + 1 + strlen(name) + 1 > sizeof(w->path)) {
		w->path[base] = '\0';
		return report(w, "path too long below", 0);
	}
	if (base)
		snprintf(w->path + base, sizeof(w->path) - base, "/%s", name);
	else
		snprintf(w->path, sizeof(w->path), "%s", name);

	if (en->errnum) /* ENOENT: removed while we walked */
		return en->errnum == ENOENT ? 0
					    : report(w, "could not stat", en->errnum);
	if (S_ISLNK(en->st.st_mode))
		return walk_link(w, name);
	if (S_ISDIR(en->st.st_mode)) {
		fd = openat(dfd, name,
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
			return walk_link(w, name); /* swapped */
		if (fd < 0)
			return report(w, "could not open directory", errno);
		return descend(w, fd, &en->st);
	}
	if (!matches(w, name))
		return 0;
	if (S_ISREG(en->st.st_mode))
		return w->fn(w->arg, w->path, &en->st, NULL);
	return not_regular(w, &en->st);
}

/* Walk dirfd (owned: closed here); w->path holds its relative path. */
static int walk_dir(struct walker *w, int dfd)
{
	DIR *dir = NULL;
	struct window *win;
	size_t base = strlen(w->path), i;
	int rc = 0, e, rerr;

	dir = fdopendir(dfd);
	if (!dir) {
		e = errno;
		close(dfd);
		return report(w, "could not read directory", e);
	}
	win = calloc(1, sizeof(*win));
	if (!win) {
		closedir(dir);
		return report(w, "out of memory", 0);
	}
	do {
		rerr = window_fill(dir, win);
		stat_window(w->pool, dfd, win);
		for (i = 0; rc == 0 && i < win->n; i++)
			rc = walk_entry(w, dfd, base, &win->e[i]);
		w->path[base] = '\0';
		if (rc == 0 && rerr < 0)
			rc = report(w, "out of memory", 0);
		else if (rc == 0 && rerr > 0)
			rc = report(w, "could not read directory", rerr);
	} while (rc == 0 && rerr == 0 && win->n > 0);
	w->path[base] = '\0';
	free(win->names);
	free(win);
	closedir(dir);
	return rc;
}

int mreg_walk(const struct mreg_tree *t, const char *pattern, int helpers,
	      mreg_walk_fn fn, void *arg, struct mreg_error *err)
{
	struct walker w;
	struct stat st;
	char ebuf[128];
	int fd, rc;

	memset(&w, 0, sizeof(w));
	w.t = t;
	w.pattern = pattern;
	w.match_path = strchr(pattern, '/') != NULL;
	w.suffix = star_suffix(pattern);
	w.suffix_len = w.suffix ? strlen(w.suffix) : 0;
	w.fn = fn;
	w.arg = arg;
	if (fstat(t->rootfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		mreg_error_set(err, MREG_EXIT_DATA, "not a directory");
		return -1;
	}
	fd = openat(t->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		mreg_error_set(err, MREG_EXIT_DATA, "could not open: %s",
			       mreg_strerror(errno, ebuf, sizeof(ebuf)));
		return -1;
	}
	if (push(&w, &st) < 0) {
		close(fd);
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	w.pool = pool_start(helpers);
	rc = walk_dir(&w, fd);
	if (w.pool)
		pool_stop(w.pool);
	free(w.stack);
	return rc;
}

/* --- real paths ---------------------------------------------------------- */

int mreg_dir_realpath(int fd, char *out, size_t len)
{
	int here = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = -1, e = 0;

	if (here < 0)
		return -1;
	if (fchdir(fd) == 0) {
		if (getcwd(out, len))
			rc = 0;
		else
			e = errno;
		if (fchdir(here) < 0 && rc == 0) {
			e = errno;
			rc = -1;
		}
	} else {
		e = errno;
	}
	close(here);
	errno = e;
	return rc;
}

int mreg_dir_realpath_of(int fd, const char *path, char *out, size_t len)
{
	char rp[PATH_MAX];
	struct stat a, b;

	if (fstat(fd, &a) < 0)
		return -1;
	if (!realpath(path, rp))
		return -1;
	if (stat(rp, &b) < 0)
		return -1;
	if (a.st_dev != b.st_dev || a.st_ino != b.st_ino) {
		errno = ESTALE;
		return -1;
	}
	if ((size_t)snprintf(out, len, "%s", rp) >= len) {
		errno = ERANGE;
		return -1;
	}
	return 0;
}
