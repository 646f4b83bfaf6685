/* source.c - a source's name and recorded files (see source.h) */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "modelfile.h"
#include "registry.h"
#include "strbuf.h"
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

/* Text field i of the row as a NUL-terminated copy in b (NULL for SQL
 * NULL); the pointers stay valid until b is reset. */
static size_t text_field(const struct mreg_copy_out *co, int i,
			 struct mreg_strbuf *b)
{
	size_t at = b->len;

	if (co->flen[i] < 0)
		return (size_t)-1;
	mreg_strbuf_add(b, co->field[i], (size_t)co->flen[i]);
	mreg_strbuf_add(b, "", 1); /* its terminator: the next one follows */
	return at;
}

/* The row co holds as an entry pointing into b; -1 when it is malformed. */
static int entry_from_row(struct mreg_cache_entry *e,
			  const struct mreg_copy_out *co, struct mreg_strbuf *b)
{
	size_t at[4];
	const int text[4] = { 0, 8, 10, 11 };
	char **dst[4] = { &e->path, &e->error, &e->key, &e->artifacts };
	char hex[MREG_SHA256_HEX];
	int i;

	memset(e, 0, sizeof(*e));
	if (co->nfields != LOAD_FIELDS || co->flen[0] < 0 || co->flen[6] != 64)
		return -1;
	b->len = 0;
	for (i = 0; i < 4; i++)
		at[i] = text_field(co, text[i], b);
	if (b->oom)
		return -1;
	for (i = 0; i < 4; i++)
		*dst[i] = at[i] == (size_t)-1 ? NULL : b->p + at[i];
	e->st.size = mreg_copy_out_int8(co, 1);
	e->st.mtime_ns = mreg_copy_out_int8(co, 2);
	e->st.ctime_ns = mreg_copy_out_int8(co, 3);
	e->st.inode = (uint64_t)mreg_copy_out_int8(co, 4);
	e->st.device = (uint64_t)mreg_copy_out_int8(co, 5);
	memcpy(hex, co->field[6], 64);
	hex[64] = '\0';
	if (mreg_digest_from_hex(hex, e->sha256) < 0)
		return -1;
	e->racy = mreg_copy_out_bool(co, 7);
	e->model_id = co->flen[9] < 0 ? 0 : mreg_copy_out_int8(co, 9);
	return 0;
}

int mreg_source_load_cache(struct mreg_cache *cache, struct mreg_conn *conn,
			   const char *source, struct mreg_error *err)
{
	const char *params[1] = { source };
	struct mreg_cache_entry e;
	struct mreg_copy_out co;
	struct mreg_strbuf b = { 0 };
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
		if (entry_from_row(&e, &co, &b) < 0) {
			mreg_error_set(err, MREG_EXIT_FAILURE, b.oom
				       ? "out of memory"
				       : "mreg.source_files: a row of an "
					 "unexpected shape");
			rc = -1;
			break;
		}
		if (mreg_cache_put(cache, &e) < 0) {
			mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
			rc = -1;
			break;
		}
	}
	mreg_copy_out_close(&co);
	mreg_strbuf_free(&b);
	if (rc < 0) {
		mreg_db_rollback(conn);
		return -1;
	}
	return mreg_db_commit(conn, err);
}
