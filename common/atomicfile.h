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

/*
 * Many files, one sync: add writes each file's temporary file (no
 * fsync); commit sync()s once, renames each over its file in the order
 * added and fsyncs each directory.  A reader still sees each file old or
 * new, never a part.  add and commit: 0, or -1 with errno set
 * (mreg_atomic_batch_failed names the file).  destroy removes the
 * temporary files not renamed; NULL-safe.  create: NULL without memory.
 */
struct mreg_atomic_batch;
struct mreg_atomic_batch *mreg_atomic_batch_create(void);
int mreg_atomic_batch_add(struct mreg_atomic_batch *b, const char *path,
			  const void *data, size_t len, mode_t new_mode);
int mreg_atomic_batch_commit(struct mreg_atomic_batch *b);
const char *mreg_atomic_batch_failed(const struct mreg_atomic_batch *b);
void mreg_atomic_batch_destroy(struct mreg_atomic_batch *b);

#endif
