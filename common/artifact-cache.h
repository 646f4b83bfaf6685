/* artifact-cache.h - the artifacts' stat in the content-hash cache
 *
 * A model file lists artifacts (mreg-model(5)), paths relative to the
 * file's directory.  import-dir records, with the file's own row of
 * mreg.source_files (column artifacts, sql/0003_artifact_cache.sql), the
 * stat of each artifact it hashed: size, mtime_ns, ctime_ns, inode, device
 * and the racy flag, by the same racy-timestamp rule as the files
 * themselves (hashcache.h).  The next import trusts a model file whose
 * own entry is a hit only when every recorded artifact's stat still
 * matches and none was racy; otherwise the file and its artifacts are read
 * again, so an artifact changed or deleted behind the import's back is
 * noticed without --rehash.
 *
 * The recorded form, one object per artifact in the file's order:
 *   [{"path": "w.bin", "size": 8, "sha256": "...", "mtime_ns": N,
 *     "ctime_ns": N, "inode": N, "device": N, "racy": false}, ...]
 * (inode and device as the two's complement, as in the file's row).
 *
 * Pure functions and file system reads only; thread-safe (the caller has
 * called json_object_seed()).
 */
#ifndef MREG_ARTIFACT_CACHE_H
#define MREG_ARTIFACT_CACHE_H

#include <stdbool.h>
#include <stddef.h>

#include "hashcache.h"
#include "import-scan.h"
#include "walk.h"

/*
 * The path below the root of artifact a listed by the model file rel
 * (the directory part of rel joined with a).  0, or -1 when it does not
 * fit in len bytes.
 */
int mreg_artifact_rel(const char *rel, const char *a, char *out, size_t len);

/*
 * Does the cache entry of a model file need its artifacts looked at before
 * it can be trusted?  False for a rejected file and for a model with no
 * artifacts recorded as such ("[]"); true when it has artifacts, or when
 * nothing was recorded yet (NULL: a row from before the column existed).
 */
bool mreg_artifacts_to_check(const struct mreg_cache_entry *e);

/*
 * Can the artifacts recorded in e->artifacts be trusted without reading
 * them?  True when every one is recorded not racy and its stat now (it is
 * opened inside the tree t, relative to e->path's directory, and fstat'ed)
 * equals the recorded one.  False when nothing was recorded, the record
 * does not parse, or any artifact changed, vanished or cannot be opened.
 */
bool mreg_artifacts_fresh(const struct mreg_tree *t,
			  const struct mreg_cache_entry *e);

/*
 * The record of a model file's hashed artifacts (their stat and racy flag
 * as hashing left them), malloc'ed JSON text; NULL when out of memory.
 */
char *mreg_artifacts_record(const struct mreg_scan_artifact *arts, size_t n);

#endif
