/* atomicfile.c - replace a file all at once (see atomicfile.h) */
/* sync() is X/Open (XSI), not POSIX base */
#define _XOPEN_SOURCE 700
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* PATH's directory (".": none) and a temporary name in it. */
static int temp_name(const char *path, char *dir, size_t dlen, char *tmp,
		     size_t tlen)
{
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int n;

	if (!*base) {
		errno = EISDIR;
		return -1;
	}
	if (!slash)
		n = snprintf(dir, dlen, ".");
	else if (slash == path)
		n = snprintf(dir, dlen, "/");
	else
		n = snprintf(dir, dlen, "%.*s", (int)(slash - path), path);
	if (n < 0 || (size_t)n >= dlen)
		goto too_long;
	/* hidden, and not ending in the name's suffix (.prom): a reader
	 * that picks files by suffix skips it */
	n = snprintf(tmp, tlen, "%s/.%s.XXXXXX", dir, base);
	if (n < 0 || (size_t)n >= tlen)
		goto too_long;
	return 0;
too_long:
	errno = ENAMETOOLONG;
	return -1;
}

/*
 * path's data into a new temporary file beside it (its name in tmp, its
 * directory in dir), fsync()ed when sync.  0, or -1 with errno set and
 * nothing left behind.
 */
static int write_temp(const char *path, const void *data, size_t len,
		      mode_t new_mode, bool sync, char *dir, size_t dlen,
		      char *tmp, size_t tlen)
{
	struct stat st;
	mode_t mode = new_mode;
	int fd, saved;

	if (temp_name(path, dir, dlen, tmp, tlen) < 0)
		return -1;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	if ((fd = mkstemp(tmp)) < 0)
		return -1;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fchmod(fd, mode) < 0 ||
	    write_all(fd, data, len) < 0 || (sync && fsync(fd) < 0))
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	return 0;
fail:
	saved = errno;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

static void sync_dir(const char *dir)
{
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd >= 0) {
		(void)fsync(dfd);
		close(dfd);
	}
}

int mreg_atomic_write(const char *path, const void *data, size_t len,
		      mode_t new_mode)
{
	char dir[4096], tmp[4200];
	int saved;

	if (write_temp(path, data, len, new_mode, true, dir, sizeof(dir), tmp,
		       sizeof(tmp)) < 0)
		return -1;
	if (rename(tmp, path) < 0) {
		saved = errno;
		unlink(tmp);
		errno = saved;
		return -1;
	}
	/* the rename itself on disk: best effort */
	sync_dir(dir);
	return 0;
}

/* --- many files: one sync for all ---------------------------------------- */

struct batch_file {
	char *path, *tmp, *dir;
};

struct mreg_atomic_batch {
	struct batch_file *v;
	size_t n, cap, done; /* [0, done) renamed */
	const char *failed;
};

struct mreg_atomic_batch *mreg_atomic_batch_create(void)
{
	return calloc(1, sizeof(struct mreg_atomic_batch));
}

int mreg_atomic_batch_add(struct mreg_atomic_batch *b, const char *path,
			  const void *data, size_t len, mode_t new_mode)
{
	char dir[4096], tmp[4200];
	struct batch_file *f;

	b->failed = path;
	if (b->n == b->cap) {
		size_t n = b->cap ? b->cap * 2 : 64;
		f = realloc(b->v, n * sizeof(*f));
		if (!f)
			return -1;
		b->v = f;
		b->cap = n;
	}
	if (write_temp(path, data, len, new_mode, false, dir, sizeof(dir), tmp,
		       sizeof(tmp)) < 0)
		return -1;
	f = &b->v[b->n];
	f->path = strdup(path);
	f->tmp = strdup(tmp);
	f->dir = strdup(dir);
	if (!f->path || !f->tmp || !f->dir) {
		unlink(tmp);
		free(f->path);
		free(f->tmp);
		free(f->dir);
		errno = ENOMEM;
		return -1;
	}
	b->n++;
	b->failed = NULL;
	return 0;
}

int mreg_atomic_batch_commit(struct mreg_atomic_batch *b)
{
	size_t i;

	/* every temporary file's data on disk at once (POSIX sync(): Linux
	 * waits for it), then the renames, then each directory once */
	sync();
	for (i = b->done; i < b->n; i++) {
		if (rename(b->v[i].tmp, b->v[i].path) < 0) {
			b->failed = b->v[i].path;
			return -1;
		}
		b->done = i + 1;
	}
	for (i = 0; i < b->n; i++)
		if (i == 0 || strcmp(b->v[i].dir, b->v[i - 1].dir) != 0)
			sync_dir(b->v[i].dir);
	return 0;
}

const char *mreg_atomic_batch_failed(const struct mreg_atomic_batch *b)
{
	return b->failed;
}

void mreg_atomic_batch_destroy(struct mreg_atomic_batch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->n; i++) {
		if (i >= b->done)
			unlink(b->v[i].tmp);
		free(b->v[i].path);
		free(b->v[i].tmp);
		free(b->v[i].dir);
	}
	free(b->v);
	free(b);
}
