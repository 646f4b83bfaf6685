/* walk.h - the imported tree: a recursive walk that stays inside the root,
 * and opening a path below the root without leaving it
 *
 * The walk visits every regular file under a root whose base name matches
 * a glob (or, when the pattern contains '/', whose relative path matches
 * it).  Hidden entries (names starting with '.') are skipped.  Symbolic
 * links are followed while their real path stays inside the root; a link
 * that leads out of the root is reported and not followed (unless the
 * tree says follow_external).  A link back to a directory being walked (a
 * loop), unreadable directories and dangling links are reported too, as
 * are entries matching the pattern that are not regular files (FIFOs,
 * sockets, devices): those are never opened.  Entries come in directory
 * order; memory holds the stack of open directories and, for each, a
 * window of up to 256 entries read and stat()ed ahead.
 *
 * mreg_tree_open() resolves a relative path one component at a time with
 * O_NOFOLLOW, expanding each symbolic link itself, so that what it opens
 * is inside the root even while someone swaps links in the tree.
 */
#ifndef MREG_WALK_H
#define MREG_WALK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>

#include "error.h"

struct mreg_tree {
	int rootfd;            /* the root, open O_DIRECTORY */
	const char *real;      /* its canonical absolute path */
	bool follow_external;  /* follow links whose real path leaves it */
};

enum mreg_tree_want {
	MREG_TREE_FILE,        /* open a regular file (O_NONBLOCK) */
	MREG_TREE_DIR,         /* open a directory */
	MREG_TREE_STAT,        /* open nothing: stat what the path names */
	MREG_TREE_DIR_OR_STAT, /* open a directory, stat anything else */
};

/* What mreg_tree_open() found. */
struct mreg_tree_found {
	int fd;          /* open descriptor (the caller closes it), or -1 */
	struct stat st;  /* of what the path names, when known */
	bool have_st;
	bool external;   /* it (or a link on the way) is outside the root */
	int errnum;      /* on error: ENOENT, ELOOP, EXDEV (outside), EINVAL
			    (not a regular file), ENOTDIR, ... */
};

/*
 * Resolve rel (relative to the root, '/'-separated; "." and empty
 * components are ignored, ".." may appear only in link targets) and open
 * or stat what it names, as want says.  0 with *out filled, or -1 with
 * err filled (status MREG_EXIT_DATA; err->path is empty):
 *   - a link leading out of the root, without follow_external: "symbolic
 *     link \"L\" points outside the tree, to \"/real/path\"" (out->external
 *     set, out->st the target's stat when it could be taken);
 *   - MREG_TREE_FILE and not a regular file: "not a regular file (a FIFO)"
 *     and the like, without opening it (out->st set);
 *   - "dangling symbolic link", "symbolic link loop", "could not open: ...".
 */
int mreg_tree_open(const struct mreg_tree *t, const char *rel,
		   enum mreg_tree_want want, struct mreg_tree_found *out,
		   struct mreg_error *err);

/* "a FIFO", "a socket", "a directory", ... for messages. */
const char *mreg_file_kind(mode_t mode);

/*
 * Called for each matching file (err NULL, st its lstat) and for each
 * problem (err set: err->path names the entry, relative to the root).
 * With err set, st is non-NULL when the problem is the matching entry
 * itself (not a regular file: a bad file), NULL when it is a problem of
 * the walk (a link, a directory).  rel is the path relative to the root
 * ('/'-separated).  Return non-zero to stop.
 */
typedef int (*mreg_walk_fn)(void *arg, const char *rel,
			    const struct stat *st,
			    const struct mreg_error *err);

/*
 * Walk the tree.  Returns 0 when done, the callback's non-zero value when
 * it stopped the walk, or -1 with err filled when the root itself cannot
 * be read.  helpers: threads that share the stat() calls with the caller
 * (0: none); the callback still runs on the calling thread only, in
 * directory order.
 */
int mreg_walk(const struct mreg_tree *t, const char *pattern, int helpers,
	      mreg_walk_fn fn, void *arg, struct mreg_error *err);

/*
 * The canonical absolute path of the directory open as fd: getcwd() after
 * fchdir() resolves symbolic links.  0, or -1 with errno set.  It changes
 * the working directory for a moment (and back): call it before any
 * thread starts.
 */
int mreg_dir_realpath(int fd, char *out, size_t len);

/*
 * The same from a path, without changing the working directory: realpath
 * of path, checked to be the directory open as fd.  0, or -1 with errno
 * set (ESTALE: path no longer names that directory).  Thread-safe.
 */
int mreg_dir_realpath_of(int fd, const char *path, char *out, size_t len);

#endif
