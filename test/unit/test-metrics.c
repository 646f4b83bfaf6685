/* test-metrics.c - the textfile collector's format, escapes, the atomic
 * write and the last success read back */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"
#include "tap.h"

static char *render(const struct mreg_metrics *m)
{
	struct mreg_error err;
	size_t len = 0;
	char *s;

	mreg_error_clear(&err);
	s = mreg_metrics_render(m, &len, &err);
	if (!s)
		diag("render: %s", err.message);
	return s;
}

static void test_format(void)
{
	struct mreg_metrics *m = mreg_metrics_create();
	const double q[2] = { 0.5, 0.99 }, v[2] = { 0.00125, 0.25 };
	char *s;

	mreg_metrics_label(m, "command", "import-dir");
	mreg_metrics_label(m, "source", "a\"b\\c\nd\xff");
	mreg_metrics_add(m, "mreg_x_files", MREG_METRIC_GAUGE, "Files\\n.",
			 "result", "added", 3);
	mreg_metrics_add(m, "mreg_y", MREG_METRIC_GAUGE, "Y.", NULL, NULL,
			 0.1);
	mreg_metrics_add(m, "mreg_x_files", MREG_METRIC_GAUGE, "ignored",
			 "result", "failed", 1);
	mreg_metrics_summary(m, "mreg_lat_seconds", "L.", 2, q, v, 1.5, 7);
	mreg_metrics_add(m, "mreg_big", MREG_METRIC_GAUGE, "B.", NULL, NULL,
			 1796123456.789);
	mreg_metrics_add(m, "mreg_nan", MREG_METRIC_GAUGE, "N.", NULL, NULL,
			 NAN);
	s = render(m);
	is_str(s,
	       "# HELP mreg_x_files Files\\\\n.\n"
	       "# TYPE mreg_x_files gauge\n"
	       "mreg_x_files{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\",result=\"added\"} 3\n"
	       "mreg_x_files{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\",result=\"failed\"} 1\n"
	       "# HELP mreg_y Y.\n"
	       "# TYPE mreg_y gauge\n"
	       "mreg_y{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\"} 0.1\n"
	       "# HELP mreg_lat_seconds L.\n"
	       "# TYPE mreg_lat_seconds summary\n"
	       "mreg_lat_seconds{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\",quantile=\"0.5\"} 0.00125\n"
	       "mreg_lat_seconds{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\",quantile=\"0.99\"} 0.25\n"
	       "mreg_lat_seconds_sum{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\"} 1.5\n"
	       "mreg_lat_seconds_count{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\"} 7\n"
	       "# HELP mreg_big B.\n"
	       "# TYPE mreg_big gauge\n"
	       "mreg_big{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\"} 1796123456.789\n"
	       "# HELP mreg_nan N.\n"
	       "# TYPE mreg_nan gauge\n"
	       "mreg_nan{command=\"import-dir\",source=\"a\\\"b\\\\c\\nd?\"} NaN\n",
	       "families grouped, labels escaped, values exact");
	free(s);
	mreg_metrics_destroy(m);

	m = mreg_metrics_create();
	mreg_metrics_add(m, "mreg_plain", MREG_METRIC_COUNTER, "P.", NULL,
			 NULL, 2);
	s = render(m);
	is_str(s, "# HELP mreg_plain P.\n# TYPE mreg_plain counter\nmreg_plain 2\n",
	       "no labels: no braces");
	free(s);
	mreg_metrics_add(m, "bad-name", MREG_METRIC_GAUGE, "x", NULL, NULL, 1);
	s = render(m);
	ok(s == NULL, "an invalid metric name fails the render");
	free(s);
	mreg_metrics_destroy(m);
	mreg_metrics_destroy(NULL);
}

static void test_write(void)
{
	char dir[] = "/tmp/test-metrics.XXXXXX", path[256], bad[300];
	struct mreg_metrics *m = mreg_metrics_create();
	struct mreg_error err;
	struct stat st;
	double last = 0;
	FILE *f;
	int n = 0;

	if (!mkdtemp(dir))
		bail_out("mkdtemp");
	snprintf(path, sizeof(path), "%s/mreg.prom", dir);
	mreg_metrics_label(m, "command", "migrate");
	ok(mreg_metrics_previous(m, path, "mreg_last_success_timestamp_seconds",
				 &last) < 0, "no previous file: no value");
	mreg_metrics_run(m, "mreg_migrate", 0, 1.25, 1700000000.5, path);
	mreg_error_clear(&err);
	is_int(mreg_metrics_write(m, path, &err), 0, "written");
	ok(stat(path, &st) == 0 && (st.st_mode & 0777) == 0644, "mode 0644");
	mreg_metrics_destroy(m);

	/* a failed run keeps the last success from the file */
	m = mreg_metrics_create();
	mreg_metrics_label(m, "command", "migrate");
	ok(mreg_metrics_previous(m, path, "mreg_last_success_timestamp_seconds",
				 &last) == 0 && last == 1700000000.5,
	   "the last success read back");
	mreg_metrics_run(m, "mreg_migrate", 1, 0.5, 1700000100, path);
	is_int(mreg_metrics_write(m, path, &err), 0, "written again");
	mreg_metrics_destroy(m);
	m = mreg_metrics_create();
	mreg_metrics_label(m, "command", "migrate");
	ok(mreg_metrics_previous(m, path, "mreg_last_success_timestamp_seconds",
				 &last) == 0 && last == 1700000000.5,
	   "kept across the failed run");
	ok(mreg_metrics_previous(m, path, "mreg_last_exit_code", &last) == 0 &&
	   last == 1, "the failed run's exit code");
	mreg_metrics_destroy(m);
	/* other labels: another job's value is not taken */
	m = mreg_metrics_create();
	mreg_metrics_label(m, "command", "bench");
	ok(mreg_metrics_previous(m, path, "mreg_last_success_timestamp_seconds",
				 &last) < 0, "another command's sample is not ours");

	/* the temporary files are gone */
	snprintf(bad, sizeof(bad), "ls -A '%s' | wc -l", dir);
	f = popen(bad, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	is_int(n, 1, "only the file in the directory");

	/* a directory that does not exist: the error names the file */
	snprintf(bad, sizeof(bad), "%s/nope/mreg.prom", dir);
	mreg_error_clear(&err);
	is_int(mreg_metrics_write(m, bad, &err), -1, "a missing directory fails");
	ok(strstr(err.message, "could not write metrics file \"") &&
	   strstr(err.message, "No such file"), "the message: %s", err.message);
	is_int(err.status, 1, "exit status 1");
	/* PATH a directory */
	mreg_error_clear(&err);
	is_int(mreg_metrics_write(m, dir, &err), -1, "a directory fails");
	mreg_metrics_destroy(m);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	test_format();
	test_write();
	return tap_done();
}
