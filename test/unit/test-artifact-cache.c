/* test-artifact-cache.c - the artifacts' stat in the content-hash cache */
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "artifact-cache.h"
#include "tap.h"

static char dir[] = "/tmp/mreg-test-artifact-cache-XXXXXX";
static struct mreg_tree tree;

static void write_file(const char *name, const char *data)
{
	int fd = openat(tree.rootfd, name, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data))
		bail_out("cannot write test file");
	close(fd);
}

/* The artifact as the import records it (racy as given). */
static void take(const char *rel, const char *listed,
		 struct mreg_scan_artifact *a, bool racy)
{
	struct stat st;

	if (fstatat(tree.rootfd, rel, &st, 0) < 0)
		bail_out("cannot stat test file");
	memset(a, 0, sizeof(*a));
	a->path = (char *)listed;
	mreg_stat_from(&a->st, &st);
	a->size = a->st.size;
	memset(a->sha, 'a', 64);
	a->racy = racy;
}

static void test_rel(void)
{
	char out[64];

	ok(mreg_artifact_rel("m/m.json", "w.bin", out, sizeof(out)) == 0 &&
		   strcmp(out, "m/w.bin") == 0,
	   "an artifact is relative to its model file's directory");
	ok(mreg_artifact_rel("m.json", "sub/v.txt", out, sizeof(out)) == 0 &&
		   strcmp(out, "sub/v.txt") == 0,
	   "a model file at the root: the listed path itself");
	ok(mreg_artifact_rel("m/m.json", "a-long-name", out, 8) < 0,
	   "a path that does not fit is refused");
}

static void test_to_check(void)
{
	struct mreg_cache_entry e = { .path = "m.json", .model_id = 7 };

	ok(mreg_artifacts_to_check(&e), "nothing recorded yet: check");
	e.artifacts = "[]";
	ok(!mreg_artifacts_to_check(&e), "recorded as none: trusted as is");
	e.artifacts = "[{}]";
	ok(mreg_artifacts_to_check(&e), "artifacts recorded: check them");
	e.error = "bad";
	ok(!mreg_artifacts_to_check(&e), "a rejected file: nothing to check");
	e.error = NULL;
	e.model_id = 0;
	ok(!mreg_artifacts_to_check(&e), "no model: nothing to check");
	ok(!mreg_artifacts_to_check(NULL), "no entry: nothing to check");
}

static void test_fresh(void)
{
	struct mreg_scan_artifact a[2];
	struct mreg_cache_entry e = { .path = "m/m.json", .model_id = 1 };
	char *rec;

	mkdirat(tree.rootfd, "m", 0755);
	write_file("m/w.bin", "weights\n");
	write_file("m/v.txt", "vocab\n");
	take("m/w.bin", "w.bin", &a[0], false);
	take("m/v.txt", "v.txt", &a[1], false);
	rec = mreg_artifacts_record(a, 2);
	ok(rec != NULL, "a record is made");
	e.artifacts = rec;
	ok(mreg_artifacts_fresh(&tree, &e), "unchanged artifacts are fresh");
	free(rec);

	take("m/v.txt", "v.txt", &a[1], true);
	e.artifacts = rec = mreg_artifacts_record(a, 2);
	ok(!mreg_artifacts_fresh(&tree, &e), "one recorded racy: not fresh");
	free(rec);

	take("m/v.txt", "v.txt", &a[1], false);
	e.artifacts = rec = mreg_artifacts_record(a, 2);
	/*
	 * replaced by a copy of the same size with the old mtime (cp -p):
	 * the inode differs (both files exist at once), whatever the clock's
	 * tick; a rewrite in place within one tick is the racy rule's case
	 */
	write_file("m/v.tmp", "vocaX\n");
	{
		struct timespec ts[2] = { { 0, UTIME_OMIT },
					  { a[1].st.mtime_ns / 1000000000,
					    a[1].st.mtime_ns % 1000000000 } };
		utimensat(tree.rootfd, "m/v.tmp", ts, 0);
	}
	if (renameat(tree.rootfd, "m/v.tmp", tree.rootfd, "m/v.txt") < 0)
		bail_out("cannot rename test file");
	ok(!mreg_artifacts_fresh(&tree, &e),
	   "replaced, same size, its mtime set back: not fresh");
	unlinkat(tree.rootfd, "m/w.bin", 0);
	ok(!mreg_artifacts_fresh(&tree, &e), "a vanished artifact: not fresh");
	free(rec);

	e.artifacts = NULL;
	ok(!mreg_artifacts_fresh(&tree, &e), "nothing recorded: not fresh");
	e.artifacts = "[{\"path\": \"v.txt\"}]";
	ok(!mreg_artifacts_fresh(&tree, &e), "a record missing keys: not fresh");
	e.artifacts = "not json";
	ok(!mreg_artifacts_fresh(&tree, &e), "a record that is not JSON: not fresh");
	e.artifacts = "[]";
	ok(mreg_artifacts_fresh(&tree, &e), "no artifacts: fresh");
}

int main(void)
{
	char real[PATH_MAX], cmd[128];

	json_object_seed(0);
	if (!mkdtemp(dir))
		bail_out("mkdtemp failed");
	tree.rootfd = open(dir, O_RDONLY | O_DIRECTORY);
	if (tree.rootfd < 0 || mreg_dir_realpath(tree.rootfd, real, sizeof(real)) < 0)
		bail_out("cannot open the test directory");
	tree.real = real;
	test_rel();
	test_to_check();
	test_fresh();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		diag("could not remove %s", dir);
	return tap_done();
}
