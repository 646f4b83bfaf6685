/* atomicfile.c - replace a file all at once (see atomicfile.h) */
#include "atomicfile.h"

#include <errno.h>
#include <fcntl.h>
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

int mreg_atomic_write(const char *path, const void *data, size_t len,
		      mode_t new_mode)
{
	char dir[4096], tmp[4200];
	struct stat st;
	mode_t mode = new_mode;
	int fd, dfd, saved;

	if (temp_name(path, dir, sizeof(dir), tmp, sizeof(tmp)) < 0)
		return -1;
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
		mode = st.st_mode & 07777;
	if ((fd = mkstemp(tmp)) < 0)
		return -1;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 || fchmod(fd, mode) < 0 ||
	    write_all(fd, data, len) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) < 0)
		goto fail;
	/* the rename itself on disk: best effort */
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		(void)fsync(dfd);
		close(dfd);
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
