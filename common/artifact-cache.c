/* artifact-cache.c - the artifacts' stat in the content-hash cache (see
 * artifact-cache.h) */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "artifact-cache.h"

int mreg_artifact_rel(const char *rel, const char *a, char *out, size_t len)
{
	const char *slash = strrchr(rel, '/');
	int n;

	if (slash)
		n = snprintf(out, len, "%.*s/%s", (int)(slash - rel), rel, a);
	else
		n = snprintf(out, len, "%s", a);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

bool mreg_artifacts_to_check(const struct mreg_cache_entry *e)
{
	if (!e || e->error || e->model_id == 0)
		return false;
	return !e->artifacts || strcmp(e->artifacts, "[]") != 0;
}

/* Recorded object o as a stat; -1 when a member is missing or wrong. */
static int stat_of(const json_t *o, struct mreg_stat *st, bool *racy,
		   const char **path)
{
	const json_t *v[6];
	static const char *const keys[6] = { "size", "mtime_ns", "ctime_ns",
					     "inode", "device", "racy" };
	const json_t *p = json_object_get(o, "path");
	int i;

	for (i = 0; i < 6; i++) {
		v[i] = json_object_get(o, keys[i]);
		if (!v[i] || (i < 5 && !json_is_integer(v[i])) ||
		    (i == 5 && !json_is_boolean(v[i])))
			return -1;
	}
	if (!json_is_string(p))
		return -1;
	*path = json_string_value(p);
	st->size = json_integer_value(v[0]);
	st->mtime_ns = json_integer_value(v[1]);
	st->ctime_ns = json_integer_value(v[2]);
	st->inode = (uint64_t)json_integer_value(v[3]);
	st->device = (uint64_t)json_integer_value(v[4]);
	*racy = json_is_true(v[5]);
	return 0;
}

/* Is the artifact named by rel inside t still as recorded in st? */
static bool same_stat(const struct mreg_tree *t, const char *rel,
		      const struct mreg_stat *st)
{
	struct mreg_tree_found f;
	struct mreg_error err;
	struct stat now;
	struct mreg_stat cur;
	bool same = false;

	mreg_error_clear(&err);
	if (mreg_tree_open(t, rel, MREG_TREE_FILE, &f, &err) < 0)
		return false;
	if (fstat(f.fd, &now) == 0) {
		mreg_stat_from(&cur, &now);
		same = mreg_stat_equal(&cur, st);
	}
	close(f.fd);
	return same;
}

bool mreg_artifacts_fresh(const struct mreg_tree *t,
			  const struct mreg_cache_entry *e)
{
	json_t *a;
	json_error_t jerr;
	struct mreg_stat st;
	const char *path;
	char rel[PATH_MAX];
	bool racy, fresh = true;
	size_t i;

	if (!e->artifacts)
		return false;
	a = json_loads(e->artifacts, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_array(a)) {
		json_decref(a);
		return false;
	}
	for (i = 0; fresh && i < json_array_size(a); i++) {
		if (stat_of(json_array_get(a, i), &st, &racy, &path) < 0 || racy ||
		    mreg_artifact_rel(e->path, path, rel, sizeof(rel)) < 0 ||
		    !same_stat(t, rel, &st))
			fresh = false;
	}
	json_decref(a);
	return fresh;
}

char *mreg_artifacts_record(const struct mreg_scan_artifact *arts, size_t n)
{
	json_t *a = json_array(), *o;
	char *s;
	size_t i;

	if (!a)
		return NULL;
	for (i = 0; i < n; i++) {
		o = json_pack("{s:s, s:I, s:s, s:I, s:I, s:I, s:I, s:b}", "path",
			      arts[i].path, "size", (json_int_t)arts[i].size,
			      "sha256", arts[i].sha, "mtime_ns",
			      (json_int_t)arts[i].st.mtime_ns, "ctime_ns",
			      (json_int_t)arts[i].st.ctime_ns, "inode",
			      (json_int_t)arts[i].st.inode, "device",
			      (json_int_t)arts[i].st.device, "racy",
			      arts[i].racy);
		if (!o || json_array_append_new(a, o) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	s = json_dumps(a, JSON_COMPACT);
	json_decref(a);
	return s;
}
