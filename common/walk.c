/* walk.c - recursive directory walk with openat/fstatat */
#include "walk.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WALK_PATH_MAX 4096

struct ancestor {
	dev_t dev;
	ino_t ino;
};

struct walker {
	const char *pattern;
	int match_path; /* pattern contains '/' */
	mreg_walk_fn fn;
	void *arg;
	struct ancestor *stack;
	size_t depth, cap;
	char path[WALK_PATH_MAX];
};

static int report(struct walker *w, const char *fmt, int e)
{
	struct mreg_error err;
	char ebuf[128];

	mreg_error_clear(&err);
	if (e)
		mreg_error_set(&err, MREG_EXIT_DATA, "%s: %s", fmt,
			       mreg_strerror(e, ebuf, sizeof(ebuf)));
	else
		mreg_error_set(&err, MREG_EXIT_DATA, "%s", fmt);
	mreg_error_at(&err, w->path, 0, 0);
	return w->fn(w->arg, w->path, NULL, &err);
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

		if (fstatat(dfd, de->d_name, &st, 0) < 0) {
			e = errno;
			if (e == ENOENT && fstatat(dfd, de->d_name, &st,
						   AT_SYMLINK_NOFOLLOW) == 0)
				rc = report(w, "dangling symbolic link", 0);
			else if (e == ENOENT)
				continue; /* removed while we walked */
			else if (e == ELOOP)
				rc = report(w, "symbolic link loop", 0);
			else
				rc = report(w, "could not stat", e);
		} else if (S_ISDIR(st.st_mode)) {
			if (is_ancestor(w, &st)) {
				rc = report(w, "symbolic link loop: the directory contains itself", 0);
			} else {
				fd = openat(dfd, de->d_name,
					    O_RDONLY | O_DIRECTORY | O_CLOEXEC);
				if (fd < 0) {
					rc = report(w, "could not open directory",
						    errno);
				} else if (push(w, &st) < 0) {
					close(fd);
					rc = report(w, "out of memory", 0);
				} else {
					rc = walk_dir(w, fd);
					w->depth--;
				}
			}
		} else if (S_ISREG(st.st_mode)) {
			if (matches(w, de->d_name))
				rc = w->fn(w->arg, w->path, &st, NULL);
		}
		if (rc)
			break;
	}
	w->path[base] = '\0';
	closedir(dir);
	return rc;
}

int mreg_walk(int rootfd, const char *pattern, mreg_walk_fn fn, void *arg,
	      struct mreg_error *err)
{
	struct walker w;
	struct stat st;
	char ebuf[128];
	int fd, rc;

	memset(&w, 0, sizeof(w));
	w.pattern = pattern;
	w.match_path = strchr(pattern, '/') != NULL;
	w.fn = fn;
	w.arg = arg;
	if (fstat(rootfd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		mreg_error_set(err, MREG_EXIT_DATA, "not a directory");
		return -1;
	}
	fd = openat(rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
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
