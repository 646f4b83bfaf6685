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
 * One binary COPY, read a row at a time: the rows are put in the cache
 * while the server still sends the next ones, memory holds a few rows
 * whatever the source, and the client does far less per row than with a
 * PGresult each (single-row mode: ~3.5 us a row, most of the cache load's
 * client time at 10,000 files).  COPY takes no parameters: the source
 * travels as a transaction-local setting the query reads back.
 */
static const char *const load_source_sql =
	"SELECT set_config('mreg.load_source', $1, true)";
static const char *const load_sql =
	"COPY (SELECT s.path, s.size, s.mtime_ns, s.ctime_ns, s.inode,"
	" s.device, s.sha256, s.racy, s.error, s.model_id,"
	" CASE WHEN s.model_id IS NOT NULL THEN s.model_key END,"
	" s.artifacts::text"
	" FROM mreg.source_files s"
	" WHERE s.source = (SELECT current_setting('mreg.load_source')))"
	" TO STDOUT (FORMAT binary)";
#define LOAD_FIELDS 12

/* Text field i of the row and its length (NULL, 0 for SQL NULL); the
 * entry only points at it: mreg_cache_put_n copies it. */
static char *text_of(const struct mreg_copy_out *co, int i, size_t *len)
{
	*len = co->flen[i] < 0 ? 0 : (size_t)co->flen[i];
	return co->flen[i] < 0 ? NULL : (char *)co->field[i];
}

/* The row co holds as an entry pointing into co's row, with the lengths
 * of its strings; -1 when it is malformed. */
static int entry_from_row(struct mreg_cache_entry *e,
			  size_t len[MREG_CACHE_STRINGS],
			  const struct mreg_copy_out *co)
{
	memset(e, 0, sizeof(*e));
	if (co->nfields != LOAD_FIELDS || co->flen[0] < 0 || co->flen[6] < 0 ||
	    mreg_digest_from_hexn(co->field[6], (size_t)co->flen[6],
				  e->sha256) < 0)
		return -1;
	e->path = text_of(co, 0, &len[0]);
	e->error = text_of(co, 8, &len[1]);
	e->key = text_of(co, 10, &len[2]);
	e->artifacts = text_of(co, 11, &len[3]);
	e->st.size = mreg_copy_out_int8(co, 1);
	e->st.mtime_ns = mreg_copy_out_int8(co, 2);
	e->st.ctime_ns = mreg_copy_out_int8(co, 3);
	e->st.inode = (uint64_t)mreg_copy_out_int8(co, 4);
	e->st.device = (uint64_t)mreg_copy_out_int8(co, 5);
	e->racy = mreg_copy_out_bool(co, 7);
	e->model_id = co->flen[9] < 0 ? 0 : mreg_copy_out_int8(co, 9);
	return 0;
}

int mreg_source_load_cache(struct mreg_cache *cache, struct mreg_conn *conn,
			   const char *source, struct mreg_error *err)
{
	const char *params[1] = { source };
	struct mreg_cache_entry e;
	size_t len[MREG_CACHE_STRINGS];
	struct mreg_copy_out co;
	PGresult *res;
	int rc;

	if (mreg_db_begin(conn, err) < 0)
		return -1;
	res = mreg_db_exec(conn, load_source_sql, 1, params, PGRES_TUPLES_OK,
			   err);
	if (!res || mreg_copy_out_begin(&co, conn, load_sql, err) < 0) {
		PQclear(res);
		mreg_db_rollback(conn);
		return -1;
	}
	PQclear(res);
	while ((rc = mreg_copy_out_next(&co, err)) > 0) {
		if (entry_from_row(&e, len, &co) < 0) {
			mreg_error_set(err, MREG_EXIT_FAILURE,
				       "mreg.source_files: a row of an "
				       "unexpected shape");
			rc = -1;
			break;
		}
		if (mreg_cache_put_n(cache, &e, len) < 0) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			rc = -1;
			break;
		}
	}
	mreg_copy_out_close(&co);
	if (rc < 0) {
		mreg_db_rollback(conn);
		return -1;
	}
	return mreg_db_commit(conn, err);
}
