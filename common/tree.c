/* tree.c - opening a path below the imported tree's root without leaving
 * it: symbolic links resolved one component at a time (see walk.h) */
/* realpath() is POSIX.1-2008 base, but glibc declares it for X/Open only */
#define _XOPEN_SOURCE 700

#include "walk.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* --- the tree: opening a path below the root without leaving it -------- */

#define TREE_MAX_HOPS 40 /* symbolic links expanded for one path */
#define TREE_PATH_MAX (2 * PATH_MAX)

const char *mreg_file_kind(mode_t mode)
{
	if (S_ISREG(mode))
		return "a regular file";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISLNK(mode))
		return "a symbolic link";
	return "not a file";
}

/*
 * Is the canonical absolute path p the root or below it?  Then *rel is
 * the rest, relative to the root ("" for the root itself).
 */
static bool inside(const struct mreg_tree *t, const char *p, const char **rel)
{
	size_t n = strlen(t->real);

	if (p[0] != '/')
		return false;
	if (strcmp(t->real, "/") == 0) {
		*rel = p + 1;
		return true;
	}
	if (strncmp(p, t->real, n) != 0 || (p[n] != '\0' && p[n] != '/'))
		return false;
	*rel = p[n] == '/' ? p + n + 1 : p + n;
	return true;
}

static int tree_fail(struct mreg_tree_found *out, int errnum,
		     struct mreg_error *err, const char *what, int e)
{
	char ebuf[128];

	out->errnum = errnum;
	if (e)
		mreg_error_set(err, MREG_EXIT_DATA, "%s: %s", what,
			       mreg_strerror(e, ebuf, sizeof(ebuf)));
	else
		mreg_error_set(err, MREG_EXIT_DATA, "%s", what);
	return -1;
}

/*
 * name (in dfd) was found by a stat, st: open it as want says.  follow:
 * let the kernel resolve name (an outside path the caller allowed).
 * 0 done, -1 error, 1 it changed since the stat (look again).
 */
static int open_found(int dfd, const char *name, const struct stat *st,
		      enum mreg_tree_want want, bool follow,
		      struct mreg_tree_found *out, struct mreg_error *err)
{
	int nofollow = follow ? 0 : O_NOFOLLOW, fd, e;
	char msg[64];

	out->st = *st;
	out->have_st = true;
	if (want == MREG_TREE_STAT ||
	    (want == MREG_TREE_DIR_OR_STAT && !S_ISDIR(st->st_mode)))
		return 0;
	if (want == MREG_TREE_FILE && !S_ISREG(st->st_mode)) {
		/* never opened: a FIFO would block, a device may act */
		snprintf(msg, sizeof(msg), "not a regular file (%s)",
			 mreg_file_kind(st->st_mode));
		return tree_fail(out, EINVAL, err, msg, 0);
	}
	if (want == MREG_TREE_DIR && !S_ISDIR(st->st_mode))
		return tree_fail(out, ENOTDIR, err, "not a directory", 0);
	if (want == MREG_TREE_FILE)
		/* O_NONBLOCK: a FIFO swapped in since the stat cannot block */
		fd = openat(dfd, name, O_RDONLY | O_NONBLOCK | O_NOCTTY |
					       O_CLOEXEC | nofollow);
	else
		fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
					       nofollow);
	if (fd < 0) {
		e = errno;
		if (!follow && (e == ELOOP || e == ENOTDIR))
			return 1; /* a link now */
		return tree_fail(out, e, err, S_ISDIR(st->st_mode)
					      ? "could not open directory"
					      : "could not open", e);
	}
	if (fstat(fd, &out->st) < 0) {
		e = errno;
		close(fd);
		return tree_fail(out, e, err, "could not stat", e);
	}
	if (S_ISDIR(out->st.st_mode) != S_ISDIR(st->st_mode) ||
	    (want == MREG_TREE_FILE && !S_ISREG(out->st.st_mode))) {
		close(fd);
		return 1; /* swapped since the stat */
	}
	out->fd = fd;
	return 0;
}

/*
 * A link led out of the root as far as names go: full is where.  Its
 * real path may come back in: then back holds that path relative to the
 * root (1).  Else it is outside: an error, or with follow_external what
 * it names is opened (0).  link names the link (relative to the root),
 * rel the path being resolved.
 */
static int leave(const struct mreg_tree *t, const char *full,
		 const char *link, const char *rel, enum mreg_tree_want want,
		 struct mreg_tree_found *out, char *back, size_t backlen,
		 struct mreg_error *err)
{
	char rp[PATH_MAX], msg[sizeof(err->message)];
	const char *in, *where = full;
	struct stat st;
	int rc, e = 0;

	if (realpath(full, rp)) {
		if (inside(t, rp, &in)) {
			if ((size_t)snprintf(back, backlen, "%s", in) >= backlen)
				return tree_fail(out, ENAMETOOLONG, err,
						 "path too long", 0);
			return 1;
		}
		where = rp;
		if (stat(rp, &st) == 0) {
			out->st = st;
			out->have_st = true;
		} else {
			e = errno;
		}
	} else {
		e = errno;
	}
	out->external = true;
	if (!t->follow_external) {
		if (!link[0])
			snprintf(msg, sizeof(msg),
				 "the path leads outside the tree, to \"%s\"",
				 where);
		else if (strcmp(link, rel) == 0)
			snprintf(msg, sizeof(msg),
				 "symbolic link leads outside the tree, to \"%s\"",
				 where);
		else
			snprintf(msg, sizeof(msg),
				 "symbolic link \"%s\" leads outside the tree, to \"%s\"",
				 link, where);
		return tree_fail(out, EXDEV, err, msg, 0);
	}
	if (e == ENOENT)
		return tree_fail(out, ENOENT, err, "dangling symbolic link", 0);
	if (e)
		return tree_fail(out, e, err, "could not open", e);
	rc = open_found(AT_FDCWD, rp, &out->st, want, true, out, err);
	if (rc > 0)
		return tree_fail(out, EAGAIN, err, "changed while being opened",
				 0);
	return rc;
}

/* The state of one mreg_tree_open: the path left to resolve, and where. */
struct resolve {
	const struct mreg_tree *t;
	const char *rel;           /* as asked, for messages */
	enum mreg_tree_want want;
	struct mreg_tree_found *out;
	struct mreg_error *err;
	char path[TREE_PATH_MAX];  /* being resolved from the root */
	char next[TREE_PATH_MAX];  /* to resolve instead (STEP_AGAIN) */
	char link[TREE_PATH_MAX];  /* the last link followed, or "" */
	size_t target_end;         /* path[0, target_end) came from a link */
	int dfd;                   /* the directory reached so far */
	int hops;                  /* links expanded, retries */
	int rc;                    /* the result, at STEP_DONE */
};

enum step {
	STEP_DESCEND,  /* into a directory: go on with the rest */
	STEP_AGAIN,    /* resolve next instead, from the root */
	STEP_RESTART,  /* something changed: resolve path again */
	STEP_DONE,     /* finished with rc */
	STEP_LOOP,     /* too many links */
	STEP_TOO_LONG, /* a path too long */
};

static enum step step_done(struct resolve *r, int rc)
{
	r->rc = rc;
	return STEP_DONE;
}

/* One more link or retry, then go on as then says. */
static enum step step_hop(struct resolve *r, enum step then)
{
	return ++r->hops > TREE_MAX_HOPS ? STEP_LOOP : then;
}

/* The root itself (or a path ending in "/", "/."). */
static enum step step_root(struct resolve *r)
{
	struct stat st;
	int rc;

	if (fstat(r->dfd, &st) < 0) {
		tree_fail(r->out, errno, r->err, "could not stat", errno);
		return step_done(r, -1);
	}
	rc = open_found(r->dfd, ".", &st, r->want, true, r->out, r->err);
	if (rc > 0)
		rc = tree_fail(r->out, EAGAIN, r->err,
			       "changed while being opened", 0);
	return step_done(r, rc);
}

/* "..", at p: drop the last real directory, or leave the root. */
static enum step step_up(struct resolve *r, const char *p, const char *rest)
{
	char full[TREE_PATH_MAX];
	size_t keep = (size_t)(p - r->path);
	int rc;

	if (keep == 0) {
		snprintf(full, sizeof(full), "%s/%s",
			 strcmp(r->t->real, "/") ? r->t->real : "", p);
		rc = leave(r->t, full, r->link, r->rel, r->want, r->out,
			   r->next, sizeof(r->next), r->err);
		if (rc != 1)
			return step_done(r, rc);
		r->target_end = 0;
		return step_hop(r, STEP_AGAIN);
	}
	keep--; /* the '/' before p */
	while (keep > 0 && r->path[keep - 1] != '/')
		keep--;
	snprintf(r->next, sizeof(r->next), "%.*s%s", (int)keep, r->path, rest);
	r->target_end = 0;
	return STEP_AGAIN;
}

/* The symbolic link comp (clen bytes at p): its target replaces it. */
static enum step step_link(struct resolve *r, const char *p,
			   const char *comp, size_t clen, const char *rest)
{
	char target[PATH_MAX], full[TREE_PATH_MAX];
	const char *in;
	size_t before = (size_t)(p - r->path);
	int n, rc;

	if (++r->hops > TREE_MAX_HOPS)
		return STEP_LOOP;
	n = (int)readlinkat(r->dfd, comp, target, sizeof(target) - 1);
	if (n < 0 && errno == EINVAL)
		return STEP_RESTART; /* no longer a link (counted) */
	if (n < 0) {
		tree_fail(r->out, errno, r->err,
			  "could not read symbolic link", errno);
		return step_done(r, -1);
	}
	if ((size_t)n >= sizeof(target) - 1)
		return STEP_TOO_LONG; /* maybe cut short */
	target[n] = '\0';
	snprintf(r->link, sizeof(r->link), "%.*s", (int)(before + clen),
		 r->path);
	if (target[0] == '/' && !inside(r->t, target, &in)) {
		n = snprintf(full, sizeof(full), "%s%s%s", target,
			     *rest ? "/" : "", rest);
		if ((size_t)n >= sizeof(full))
			return STEP_TOO_LONG;
		rc = leave(r->t, full, r->link, r->rel, r->want, r->out,
			   r->next, sizeof(r->next), r->err);
		if (rc != 1)
			return step_done(r, rc);
		r->target_end = 0;
		return STEP_AGAIN;
	}
	if (target[0] == '/') {
		n = snprintf(r->next, sizeof(r->next), "%s%s%s", in,
			     *rest ? "/" : "", rest);
		r->target_end = strlen(in);
	} else {
		n = snprintf(r->next, sizeof(r->next), "%.*s%s%s%s",
			     (int)before, r->path, target, *rest ? "/" : "",
			     rest);
		r->target_end = before + strlen(target);
	}
	if ((size_t)n >= sizeof(r->next))
		return STEP_TOO_LONG;
	return STEP_AGAIN;
}

/* comp (st) is a directory on the way: open it, without following. */
static enum step step_into(struct resolve *r, const char *comp,
			   const struct stat *st)
{
	int nfd;

	if (!S_ISDIR(st->st_mode)) {
		tree_fail(r->out, ENOTDIR, r->err, "could not open", ENOTDIR);
		return step_done(r, -1);
	}
	nfd = openat(r->dfd, comp,
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (nfd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return step_hop(r, STEP_RESTART); /* a link now */
	if (nfd < 0) {
		tree_fail(r->out, errno, r->err, "could not open directory",
			  errno);
		return step_done(r, -1);
	}
	if (r->dfd != r->t->rootfd)
		close(r->dfd);
	r->dfd = nfd;
	return STEP_DESCEND;
}

/*
 * The component at *pp: one step.  r->path[0, *pp) names real
 * directories, each with its '/'; at STEP_DESCEND *pp moves past it.
 */
static enum step step_component(struct resolve *r, const char **pp)
{
	const char *p = *pp, *rest;
	char comp[NAME_MAX + 1];
	struct stat st;
	size_t clen;
	enum step s;
	int rc;

	while (*p == '/' || (p[0] == '.' && (p[1] == '/' || !p[1])))
		p++;
	if (!*p)
		return step_root(r);
	clen = strcspn(p, "/");
	rest = p + clen;
	while (*rest == '/')
		rest++;
	if (clen == 2 && p[0] == '.' && p[1] == '.')
		return step_up(r, p, rest);
	if (clen > NAME_MAX) {
		tree_fail(r->out, ENAMETOOLONG, r->err, "could not open",
			  ENAMETOOLONG);
		return step_done(r, -1);
	}
	memcpy(comp, p, clen);
	comp[clen] = '\0';
	if (fstatat(r->dfd, comp, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT && (size_t)(p - r->path) < r->target_end)
			tree_fail(r->out, ENOENT, r->err,
				  "dangling symbolic link", 0);
		else
			tree_fail(r->out, errno, r->err, "could not open",
				  errno);
		return step_done(r, -1);
	}
	if (S_ISLNK(st.st_mode))
		return step_link(r, p, comp, clen, rest);
	if (!*rest) {
		rc = open_found(r->dfd, comp, &st, r->want, false, r->out,
				r->err);
		return rc > 0 ? step_hop(r, STEP_RESTART) : step_done(r, rc);
	}
	s = step_into(r, comp, &st);
	if (s == STEP_DESCEND)
		*pp = rest;
	return s;
}

int mreg_tree_open(const struct mreg_tree *t, const char *rel,
		   enum mreg_tree_want want, struct mreg_tree_found *out,
		   struct mreg_error *err)
{
	struct resolve r = { .t = t, .rel = rel, .want = want, .out = out,
			     .err = err, .dfd = t->rootfd, .rc = -1 };
	const char *p;
	enum step s;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	if ((size_t)snprintf(r.path, sizeof(r.path), "%s", rel) >=
	    sizeof(r.path))
		return tree_fail(out, ENAMETOOLONG, err, "path too long", 0);
	for (;;) {
		/* from the root, one component at a time */
		if (r.dfd != t->rootfd)
			close(r.dfd);
		r.dfd = t->rootfd;
		p = r.path;
		while ((s = step_component(&r, &p)) == STEP_DESCEND)
			;
		if (s == STEP_AGAIN)
			memcpy(r.path, r.next, sizeof(r.path));
		else if (s != STEP_RESTART)
			break;
	}
	if (s == STEP_TOO_LONG)
		r.rc = tree_fail(out, ENAMETOOLONG, err, "path too long", 0);
	else if (s == STEP_LOOP)
		r.rc = tree_fail(out, ELOOP, err, "symbolic link loop", 0);
	if (r.dfd != t->rootfd)
		close(r.dfd);
	return r.rc;
}
