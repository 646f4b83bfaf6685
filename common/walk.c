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

struct walker {
	const struct mreg_tree *t;
	const char *pattern;
	int match_path; /* pattern contains '/' */
	mreg_walk_fn fn;
	void *arg;
	struct ancestor *stack;
	size_t depth, cap;
	char path[WALK_PATH_MAX];
};

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

static int matches(const struct walker *w, const char *name)
{
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

/* Walk dirfd (owned: closed here); w->path holds its relative path. */
static int walk_dir(struct walker *w, int dfd)
{
	DIR *dir = NULL;
	struct dirent *de;
	struct stat st;
	size_t base = strlen(w->path);
	int rc = 0, fd, e;

	dir = fdopendir(dfd);
	if (!dir) {
		e = errno;
		close(dfd);
		return report(w, "could not read directory", e);
	}
	for (;;) {
		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno) {
				e = errno;
				w->path[base] = '\0';
				rc = report(w, "could not read directory", e);
			}
			break;
		}
		if (de->d_name[0] == '.')
			continue; /* ".", ".." and hidden entries */
		if (base + 1 + strlen(de->d_name) + 1 > sizeof(w->path)) {
			w->path[base] = '\0';
			rc = report(w, "path too long below", 0);
			if (rc)
				break;
			continue;
		}
		if (base)
			snprintf(w->path + base, sizeof(w->path) - base, "/%s",
				 de->d_name);
		else
			snprintf(w->path, sizeof(w->path), "%s", de->d_name);

		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			e = errno;
			if (e != ENOENT) /* else removed while we walked */
				rc = report(w, "could not stat", e);
		} else if (S_ISLNK(st.st_mode)) {
			rc = walk_link(w, de->d_name);
		} else if (S_ISDIR(st.st_mode)) {
			fd = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
							     O_NOFOLLOW | O_CLOEXEC);
			if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
				rc = walk_link(w, de->d_name); /* swapped */
			else if (fd < 0)
				rc = report(w, "could not open directory", errno);
			else
				rc = descend(w, fd, &st);
		} else if (matches(w, de->d_name)) {
			if (S_ISREG(st.st_mode))
				rc = w->fn(w->arg, w->path, &st, NULL);
			else
				rc = not_regular(w, &st);
		}
		if (rc)
			break;
	}
	w->path[base] = '\0';
	closedir(dir);
	return rc;
}

int mreg_walk(const struct mreg_tree *t, const char *pattern,
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
	rc = walk_dir(&w, fd);
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
