/* bulk.h - reading, validating and applying a batch of model changes
 *
 * The input of 'mreg bulk-update': NDJSON (one object per line) or one
 * JSON array of objects, from a file or stdin.  Both are streamed: the
 * reader holds one item at a time (at most MREG_BULK_MAX_ITEM bytes of
 * text and its parsed tree), whatever the size of the batch.
 *
 * Each item is one of
 *   {"model": "provider/name", "set": {...}, "set_default": true}
 *   {"where": {"provider": .., "type": .., "tag": .., "active": ..},
 *    "set": {...}}
 * and mreg_bulk_validate() checks it completely (keys, types, conflicts)
 * before anything is sent to the server.
 *
 * mreg_bulk_run() streams the validated items into a temporary table with
 * COPY and applies the whole batch with a fixed number of set-based
 * statements in one transaction (see bulk.c for the rules).
 */
#ifndef MREG_BULK_H
#define MREG_BULK_H

#include <stdbool.h>
#include <stdio.h>

#include <jansson.h>
#include <libpq-fe.h>

#include "error.h"
#include "pool.h"

/* Longest item accepted (one NDJSON line, or one array element). */
#define MREG_BULK_MAX_ITEM (1024L * 1024L)

enum mreg_bulk_format {
	MREG_BULK_NDJSON,
	MREG_BULK_ARRAY,
};

enum mreg_bulk_kind {
	MREG_BULK_ONE,   /* "model": "provider/name" */
	MREG_BULK_WHERE, /* "where": {...} */
};

/* Bits of mreg_bulk_item.fields: what "set" changes. */
enum mreg_bulk_field {
	MREG_BULK_F_ACTIVE = 1 << 0,
	MREG_BULK_F_DISPLAY_NAME = 1 << 1,
	MREG_BULK_F_DESCRIPTION = 1 << 2,
	MREG_BULK_F_VERSION = 1 << 3,
	MREG_BULK_F_TAGS = 1 << 4,
	MREG_BULK_F_SYNONYMS = 1 << 5,
	MREG_BULK_F_CONFIG = 1 << 6,
	MREG_BULK_F_METADATA = 1 << 7,
	MREG_BULK_F_CONFIG_MERGE = 1 << 8,
	MREG_BULK_F_METADATA_MERGE = 1 << 9,
	MREG_BULK_F_TAGS_ADD = 1 << 10,
	MREG_BULK_F_TAGS_REMOVE = 1 << 11,
};

/*
 * One validated item.  The strings point into root (or into provider_buf
 * for the split "model" value) and live until mreg_bulk_item_finish().
 */
struct mreg_bulk_item {
	long seq;    /* 1-based position in the batch */
	long line;   /* line where the item starts */
	long column; /* column where the item starts */
	long index;  /* 0-based array index; -1 for NDJSON */
	enum mreg_bulk_kind kind;
	const char *provider; /* MREG_BULK_ONE */
	const char *name;
	const char *where_provider; /* MREG_BULK_WHERE; NULL: any */
	const char *where_type;
	const char *where_tag;
	int where_active; /* -1 any, 0 inactive, 1 active */
	json_t *set;      /* borrowed from root; NULL when absent */
	unsigned fields;  /* enum mreg_bulk_field bits present in set */
	bool set_default;
	json_t *root;     /* the parsed item (owned) */
	char *raw;        /* the item's exact text (owned), numbers intact */
	size_t raw_len;
	char *provider_buf; /* owned copy of "model" split at the first '/' */
};

void mreg_bulk_item_finish(struct mreg_bulk_item *item); /* NULL-safe */

/*
 * Check one parsed item and fill out (which takes no reference: the
 * caller sets out->root).  Returns 0, or -1 with err->status
 * MREG_EXIT_DATA and a message naming the key at fault, such as
 *   key 'set.tags_add': item 2 must be a string, not an integer
 * in the style of model files (jsoncheck.h); the position is added by
 * the reader.  See bulk-check.c.
 */
int mreg_bulk_validate(json_t *obj, struct mreg_bulk_item *out,
		       struct mreg_error *err);

/* The reader: format detection, positions, bounded memory. */
struct mreg_bulk_reader;

/*
 * Read from in (not closed by the reader; read through its descriptor
 * when it has one, so a pipe is consumed as data arrives, and with
 * fread() for a memory stream).  path names the input in errors
 * ("<stdin>" for standard input).  The format is decided by the first
 * non-blank byte: '[' is a JSON array, anything else NDJSON.
 */
struct mreg_bulk_reader *mreg_bulk_reader_create(FILE *in, const char *path,
						 struct mreg_error *err);
void mreg_bulk_reader_destroy(struct mreg_bulk_reader *r); /* NULL-safe */

/*
 * The next item: 1 with *item filled (finish it after use), 0 at the end
 * of the input, -1 with err filled: MREG_EXIT_DATA for malformed JSON or
 * an invalid item (with path, line and, for syntax errors, column;
 * array items also name their index), MREG_EXIT_FAILURE for a read error.
 */
int mreg_bulk_reader_next(struct mreg_bulk_reader *r,
			  struct mreg_bulk_item *item, struct mreg_error *err);

enum mreg_bulk_format mreg_bulk_reader_format(const struct mreg_bulk_reader *r);
/* The name of the input as given to mreg_bulk_reader_create(). */
const char *mreg_bulk_reader_path(const struct mreg_bulk_reader *r);

/* Applying a batch. */
struct mreg_bulk_options {
	bool dry_run;      /* do everything, report, then roll back */
	const char *actor; /* audit_log.actor */
};

struct mreg_bulk_result {
	long items;        /* items read */
	long matched;      /* distinct models the items selected */
	long changed;      /* models whose fields change */
	long unchanged;    /* matched - changed */
	long defaults_set; /* types whose default model changes */
	/*
	 * Only filled with dry_run (else NULL):
	 * changes: model, field, old, new (jsonb text), ordered by model and
	 *          field;
	 * defaults: type, previous (NULL when none), new.
	 */
	PGresult *changes;
	PGresult *defaults;
};

void mreg_bulk_result_finish(struct mreg_bulk_result *res); /* NULL-safe */

/*
 * Read every item from r, validate it and stream it to the server, then
 * apply the batch in one transaction on conn (audit rows included), or
 * with dry_run compute the changes and roll back.  Returns 0, or -1 with
 * err filled; on any error nothing is written.  MREG_EXIT_DATA covers
 * invalid input, unknown models and a default that would be deactivated.
 */
int mreg_bulk_run(struct mreg_conn *conn, struct mreg_bulk_reader *r,
		  const struct mreg_bulk_options *opt,
		  struct mreg_bulk_result *res, struct mreg_error *err);

#endif
