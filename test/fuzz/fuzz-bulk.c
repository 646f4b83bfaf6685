/* fuzz-bulk.c - the bulk-update reader and mreg_bulk_validate() on
 * arbitrary bytes
 *
 * The input is read as 'mreg bulk-update' reads a file (NDJSON, or a JSON
 * array when it starts with '['), from a memory stream.  Besides memory
 * errors: every item returned is numbered in order, its exact text
 * occurs in the input and parses back to the same tree, and its fields
 * say what that tree says; every error has a status, a message and the
 * name of the input; the end of the input stays the end.
 */
#include <jansson.h>

#include "bulk.h"
#include "jsontext.h"
#include "error.h"
#include "fuzz.h"

#define PATH "fuzz.ndjson"
#define MAX_ITEMS 10000

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	json_object_seed(1); /* deterministic hashing: reproducible runs */
	return 0;
}

static const char *const set_names[] = {
	"active", "display_name", "description", "version", "tags",
	"synonyms", "config", "metadata", "config_merge", "metadata_merge",
	"tags_add", "tags_remove",
};

static void check_item(const uint8_t *data, size_t size,
		       const struct mreg_bulk_item *it, long n,
		       enum mreg_bulk_format format)
{
	json_t *back, *model, *where;
	json_error_t jerr;
	enum mreg_json_fail fail;
	unsigned fields = 0;
	size_t i;

	fuzz_check(it->seq == n, "item %ld numbered %ld", n, it->seq);
	fuzz_check(it->line >= 1 && it->column >= 1, "item %ld at %ld:%ld",
		   n, it->line, it->column);
	fuzz_check(format == MREG_BULK_ARRAY ? it->index == n - 1
					     : it->index == -1,
		   "item %ld has index %ld", n, it->index);
	fuzz_check(it->root && json_is_object(it->root),
		   "item %ld is no object", n);
	fuzz_check(it->raw && it->raw_len == strlen(it->raw) &&
		   fuzz_count((const char *)data, size, it->raw,
			      it->raw_len) > 0,
		   "item %ld: its text is not in the input", n);
	/* parsed as the reader does: numbers masked (jsontext.h) */
	back = mreg_json_loadb(it->raw, it->raw_len, JSON_REJECT_DUPLICATES,
			       &jerr, &fail);
	fuzz_check(back && json_equal(back, it->root),
		   "item %ld: its text does not parse back to the item", n);
	json_decref(back);

	model = json_object_get(it->root, "model");
	where = json_object_get(it->root, "where");
	fuzz_check(!model != !where, "item %ld: model and where", n);
	if (model) {
		const char *s = json_string_value(model);
		size_t plen;

		fuzz_check(it->kind == MREG_BULK_ONE && s && it->provider &&
			   it->name, "item %ld: model not split", n);
		plen = strlen(it->provider);
		fuzz_check(plen > 0 && it->name[0] && !strchr(it->provider, '/')
			   && strncmp(s, it->provider, plen) == 0 &&
			   s[plen] == '/' && strcmp(s + plen + 1, it->name) == 0,
			   "item %ld: \"%s\" split as \"%s\" \"%s\"", n, s,
			   it->provider, it->name);
	} else {
		fuzz_check(it->kind == MREG_BULK_WHERE && json_is_object(where)
			   && json_object_size(where) > 0,
			   "item %ld: bad selector accepted", n);
		fuzz_check(it->where_provider || it->where_type ||
			   it->where_tag || it->where_active >= 0,
			   "item %ld: selector selects nothing", n);
		fuzz_check(!it->set_default, "item %ld: where + set_default",
			   n);
	}
	if (it->set)
		for (i = 0; i < sizeof(set_names) / sizeof(set_names[0]); i++)
			if (json_object_get(it->set, set_names[i]))
				fields |= 1u << i;
	fuzz_check(fields == it->fields, "item %ld: fields %#x, set has %#x",
		   n, it->fields, fields);
	fuzz_check(it->fields != 0 || it->set_default,
		   "item %ld changes nothing", n);
	fuzz_check(json_object_get(it->root, "set") == it->set,
		   "item %ld: set is not the item's", n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mreg_bulk_reader *r;
	struct mreg_bulk_item item;
	struct mreg_error err;
	enum mreg_bulk_format format;
	FILE *in;
	long n = 0;
	int rc;

	/* glibc's fmemopen() refuses an empty buffer: read /dev/null then */
	in = size > 0 ? fmemopen((void *)data, size, "r")
		      : fopen("/dev/null", "r");
	fuzz_check(in != NULL, "cannot open a memory stream");
	mreg_error_clear(&err);
	r = mreg_bulk_reader_create(in, PATH, &err);
	fuzz_check(r != NULL, "reader failed: %s", err.message);
	format = mreg_bulk_reader_format(r);
	fuzz_check(strcmp(mreg_bulk_reader_path(r), PATH) == 0,
		   "reader lost its path");
	for (;;) {
		mreg_error_clear(&err);
		rc = mreg_bulk_reader_next(r, &item, &err);
		if (rc <= 0)
			break;
		n++;
		check_item(data, size, &item, n, format);
		mreg_bulk_item_finish(&item);
		fuzz_check(n < MAX_ITEMS, "more items than bytes");
	}
	if (rc == 0) {
		fuzz_check(err.status == 0, "end of input with an error");
		fuzz_check(mreg_bulk_reader_next(r, &item, &err) == 0,
			   "data after the end");
	} else {
		fuzz_check(rc == -1, "reader returned %d", rc);
		fuzz_check(err.status == MREG_EXIT_DATA ||
			   err.status == MREG_EXIT_FAILURE,
			   "error with status %d", err.status);
		fuzz_check(err.message[0] != '\0', "error without a message");
		if (err.status == MREG_EXIT_DATA)
			fuzz_check(strcmp(err.path, PATH) == 0 &&
				   err.line >= 1,
				   "error \"%s\" at %s:%ld", err.message,
				   err.path, err.line);
	}
	mreg_bulk_reader_destroy(r);
	fclose(in);
	return 0;
}
