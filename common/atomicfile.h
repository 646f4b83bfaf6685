/* atomicfile.h - replace a file all at once
 *
 * The data go to a hidden temporary file in the file's directory
 * (".NAME.XXXXXX"), which is fsync()ed and renamed over the file, and the
 * rename fsync()ed (best effort): a reader sees the old file or the new
 * one, never a part.  On failure the temporary file is removed.
 */
#ifndef MREG_ATOMICFILE_H
#define MREG_ATOMICFILE_H

#include <stddef.h>
#include <sys/types.h>

/*
 * Write len bytes of data as path.  A file that exists keeps its mode; a
 * new one gets new_mode.  0, or -1 with errno set.
 */
int mreg_atomic_write(const char *path, const void *data, size_t len,
		      mode_t new_mode);

#endif
