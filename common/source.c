/* source.c - a source's name and recorded files (see source.h) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelfile.h"
#include "registry.h"
#include "source.h"
#include "utf8.h"

/* --- the name ------------------------------------------------------------ */

const char *mreg_source_name_problem(const char *name, bool given, char *buf,
				     size_t len)
{
	size_t n = strlen(name), i;

	if (n == 0)
		return "empty name";
	if (n > MREG_SOURCE_NAME_MAX) {
		snprintf(buf, len, "too long (%zu bytes, at most %d)", n,
			 MREG_SOURCE_NAME_MAX);
		return buf;
	}
	if (!mreg_utf8_valid(name, n))
		return "not valid UTF-8";
	for (i = 0; given && i < n; i++)
		if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return "contains a control character";
	return NULL;
}

/* --- the recorded files -------------------------------------------------- */

/*
 * Streamed one row at a time (single-row mode): the rows are put in the
 * cache while the server still sends the next ones, and memory holds one
 * row, whatever the source.
 */
static const char *const load_sql =
	"SELECT s.path, s.size, s.mtime_ns, s.ctime_ns, s.inode, s.device,"
	" s.sha256, s.racy, s.error, s.model_id,"
	" CASE WHEN s.model_id IS NOT NULL THEN s.model_key END, s.artifacts"
	" FROM mreg.source_files s WHERE s.source = $1";

static long long ll_at(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static char *text_at(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

/* Row i of load_sql as an entry pointing into res. */
static void entry_from_row(struct mreg_cache_entry *e, const PGresult *res,
			   int i)
{
	memset(e, 0, sizeof(*e));
	e->path = PQgetvalue(res, i, 0);
	e->st.size = ll_at(res, i, 1);
	e->st.mtime_ns = ll_at(res, i, 2);
	e->st.ctime_ns = ll_at(res, i, 3);
	e->st.inode = (uint64_t)ll_at(res, i, 4);
	e->st.device = (uint64_t)ll_at(res, i, 5);
	mreg_digest_from_hex(PQgetvalue(res, i, 6), e->sha256);
	e->racy = PQgetvalue(res, i, 7)[0] == 't';
	e->error = text_at(res, i, 8);
	e->model_id = PQgetisnull(res, i, 9) ? 0 : ll_at(res, i, 9);
	e->key = text_at(res, i, 10);
	e->artifacts = text_at(res, i, 11);
}

int mreg_source_load_cache(struct mreg_cache *cache, struct mreg_conn *conn,
			   const char *source, struct mreg_error *err)
{
	const char *params[1] = { source };
	struct mreg_cache_entry e;
	struct mreg_stream st;
	int rc;

	if (mreg_stream_open(&st, conn, load_sql, 1, params, err) < 0)
		return -1;
	while ((rc = mreg_stream_next(&st, err)) > 0) {
		entry_from_row(&e, st.row, 0);
		if (mreg_cache_put(cache, &e) < 0) {
			mreg_stream_close(&st);
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			return -1;
		}
	}
	return rc;
}
