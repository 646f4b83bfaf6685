/* walk.h - recursive directory walk with openat/fstatat
 *
 * Visits every regular file under a root whose base name matches a glob
 * (or, when the pattern contains '/', whose relative path matches it).
 * Hidden entries (names starting with '.') are skipped.  Symbolic links
 * are followed; a link back to a directory being walked (a loop) is
 * reported, not followed, as are unreadable directories and dangling
 * links.  Entries come in directory order; nothing is kept in memory but
 * the stack of open directories.
 */
#ifndef MREG_WALK_H
#define MREG_WALK_H

#include <sys/stat.h>

#include "error.h"

/*
 * Called for each matching file (err NULL) and for each problem (err
 * set: err->path names the entry, relative to the root).  rel is the
 * path relative to the root ('/'-separated).  Return non-zero to stop.
 */
typedef int (*mreg_walk_fn)(void *arg, const char *rel,
			    const struct stat *st,
			    const struct mreg_error *err);

/*
 * Walk the directory open as rootfd.  Returns 0 when done, the callback's
 * non-zero value when it stopped the walk, or -1 with err filled when the
 * root itself cannot be read.
 */
int mreg_walk(int rootfd, const char *pattern, mreg_walk_fn fn, void *arg,
	      struct mreg_error *err);

#endif
