/* bulk-check.c - checking one bulk-update item (bulk.c reads them)
 *
 * Every key, type and conflict of an item is checked here, before any
 * statement runs; type errors use the one message style of jsoncheck.h
 * (key 'set.active': must be a boolean, not a string).
 */
#include "bulk.h"

#include <stdlib.h>
#include <string.h>

#include "jsoncheck.h"

enum value_kind { V_BOOL, V_TEXT_OR_NULL, V_STRINGS, V_OBJECT };

static const struct set_key {
	const char *key;
	unsigned bit;
	enum value_kind kind;
} set_keys[] = {
	{ "active", MREG_BULK_F_ACTIVE, V_BOOL },
	{ "display_name", MREG_BULK_F_DISPLAY_NAME, V_TEXT_OR_NULL },
	{ "description", MREG_BULK_F_DESCRIPTION, V_TEXT_OR_NULL },
	{ "version", MREG_BULK_F_VERSION, V_TEXT_OR_NULL },
	{ "tags", MREG_BULK_F_TAGS, V_STRINGS },
	{ "synonyms", MREG_BULK_F_SYNONYMS, V_STRINGS },
	{ "config", MREG_BULK_F_CONFIG, V_OBJECT },
	{ "metadata", MREG_BULK_F_METADATA, V_OBJECT },
	{ "config_merge", MREG_BULK_F_CONFIG_MERGE, V_OBJECT },
	{ "metadata_merge", MREG_BULK_F_METADATA_MERGE, V_OBJECT },
	{ "tags_add", MREG_BULK_F_TAGS_ADD, V_STRINGS },
	{ "tags_remove", MREG_BULK_F_TAGS_REMOVE, V_STRINGS },
};

#define SET_KEYS_HINT                                                        \
	"set may change active, display_name, description, version, tags, " \
	"synonyms, config, metadata, config_merge, metadata_merge, "         \
	"tags_add, tags_remove"

static int check_tag_overlap(struct mreg_error *err, const json_t *set)
{
	const char **add = NULL, **rem = NULL;
	size_t na = 0, nr = 0, i = 0, j = 0;
	int rc = -1;

	if (mreg_json_check_strings(err, "set.tags_add",
				    json_object_get(set, "tags_add"), 0, &add,
				    &na) < 0 ||
	    mreg_json_check_strings(err, "set.tags_remove",
				    json_object_get(set, "tags_remove"), 0,
				    &rem, &nr) < 0)
		goto cleanup;
	while (i < na && j < nr) {
		int c = strcmp(add[i], rem[j]);

		if (c == 0) {
			mreg_json_key_error(err, "set.tags_remove",
				"\"%s\" is also in set.tags_add", rem[j]);
			goto cleanup;
		}
		if (c < 0)
			i++;
		else
			j++;
	}
	rc = 0;
cleanup:
	free(add);
	free(rem);
	return rc;
}

static int check_set(struct mreg_error *err, json_t *set, unsigned *fields)
{
	const char *key;
	json_t *v;
	char path[300];

	if (!json_is_object(set))
		return mreg_json_want(err, "set", set, "an object");
	*fields = 0;
	json_object_foreach(set, key, v) {
		const struct set_key *k = NULL;
		size_t i;

		for (i = 0; i < sizeof(set_keys) / sizeof(set_keys[0]); i++) {
			if (strcmp(set_keys[i].key, key) == 0) {
				k = &set_keys[i];
				break;
			}
		}
		snprintf(path, sizeof(path), "set.%s", key);
		if (!k) {
			mreg_json_key_error(err, path, "unknown key");
			mreg_error_hint(err, SET_KEYS_HINT);
			return -1;
		}
		switch (k->kind) {
		case V_BOOL:
			if (!json_is_boolean(v))
				return mreg_json_want(err, path, v, "a boolean");
			break;
		case V_TEXT_OR_NULL:
			if (!json_is_string(v) && !json_is_null(v))
				return mreg_json_want(err, path, v,
						 "a string or null");
			break;
		case V_STRINGS:
			if (mreg_json_check_strings(err, path, v, 0, NULL,
						    NULL) < 0)
				return -1;
			break;
		case V_OBJECT:
			if (!json_is_object(v))
				return mreg_json_want(err, path, v, "an object");
			break;
		}
		*fields |= k->bit;
	}
	if (*fields == 0)
		return mreg_json_key_error(err, "set", "empty: nothing to change");
	if ((*fields & MREG_BULK_F_TAGS) &&
	    (*fields & (MREG_BULK_F_TAGS_ADD | MREG_BULK_F_TAGS_REMOVE)))
		return mreg_json_key_error(err, "set.tags", "cannot be combined with "
			       "tags_add or tags_remove in one item");
	if ((*fields & MREG_BULK_F_CONFIG) &&
	    (*fields & MREG_BULK_F_CONFIG_MERGE))
		return mreg_json_key_error(err, "set.config", "cannot be combined with "
			       "config_merge in one item");
	if ((*fields & MREG_BULK_F_METADATA) &&
	    (*fields & MREG_BULK_F_METADATA_MERGE))
		return mreg_json_key_error(err, "set.metadata", "cannot be combined with "
			       "metadata_merge in one item");
	if ((*fields & MREG_BULK_F_TAGS_ADD) &&
	    (*fields & MREG_BULK_F_TAGS_REMOVE))
		return check_tag_overlap(err, set);
	return 0;
}

static int check_where(struct mreg_error *err, json_t *where,
		       struct mreg_bulk_item *out)
{
	const char *key;
	json_t *v;
	char path[300];

	if (!json_is_object(where))
		return mreg_json_want(err, "where", where, "an object");
	if (json_object_size(where) == 0) {
		mreg_json_key_error(err, "where", "empty selector would match every "
			"model");
		mreg_error_hint(err, "Give at least one of provider, type, "
				"tag, active.");
		return -1;
	}
	json_object_foreach(where, key, v) {
		const char **slot = NULL;

		snprintf(path, sizeof(path), "where.%s", key);
		if (strcmp(key, "provider") == 0)
			slot = &out->where_provider;
		else if (strcmp(key, "type") == 0)
			slot = &out->where_type;
		else if (strcmp(key, "tag") == 0)
			slot = &out->where_tag;
		else if (strcmp(key, "active") == 0) {
			if (!json_is_boolean(v))
				return mreg_json_want(err, path, v, "a boolean");
			out->where_active = json_is_true(v) ? 1 : 0;
			continue;
		} else {
			mreg_json_key_error(err, path, "unknown key");
			mreg_error_hint(err, "where may test provider, type, "
					"tag, active.");
			return -1;
		}
		if (!json_is_string(v))
			return mreg_json_want(err, path, v, "a string");
		if (json_string_length(v) == 0)
			return mreg_json_key_error(err, path, "must not be empty");
		*slot = json_string_value(v);
	}
	return 0;
}

static int check_model(struct mreg_error *err, json_t *model,
		       struct mreg_bulk_item *out)
{
	const char *s, *slash;

	if (!json_is_string(model))
		return mreg_json_want(err, "model", model,
				 "a string \"provider/name\"");
	s = json_string_value(model);
	slash = strchr(s, '/');
	if (!slash || slash == s || slash[1] == '\0')
		return mreg_json_key_error(err, "model", "\"%s\" is not of the form "
			       "provider/name", s);
	out->provider_buf = strdup(s);
	if (!out->provider_buf) {
		mreg_error_set(err, MREG_EXIT_FAILURE, "out of memory");
		return -1;
	}
	out->provider_buf[slash - s] = '\0';
	out->provider = out->provider_buf;
	out->name = out->provider_buf + (slash - s) + 1;
	return 0;
}

int mreg_bulk_validate(json_t *obj, struct mreg_bulk_item *out,
		       struct mreg_error *err)
{
	json_t *model, *where, *set, *set_default;
	const char *key;
	json_t *v;

	out->kind = MREG_BULK_ONE;
	out->provider = out->name = NULL;
	out->where_provider = out->where_type = out->where_tag = NULL;
	out->where_active = -1;
	out->set = NULL;
	out->fields = 0;
	out->set_default = false;

	if (!json_is_object(obj)) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "an item must be a JSON object, not %s",
			       mreg_json_type_name(obj));
		return -1;
	}
	json_object_foreach(obj, key, v) {
		if (strcmp(key, "model") != 0 && strcmp(key, "where") != 0 &&
		    strcmp(key, "set") != 0 &&
		    strcmp(key, "set_default") != 0) {
			mreg_json_key_error(err, key, "unknown key");
			mreg_error_hint(err, "An item has \"model\" or "
					"\"where\", and \"set\" and/or "
					"\"set_default\".");
			return -1;
		}
	}
	model = json_object_get(obj, "model");
	where = json_object_get(obj, "where");
	set = json_object_get(obj, "set");
	set_default = json_object_get(obj, "set_default");

	if (model && where)
		return mreg_json_key_error(err, "where", "cannot be combined with "
			       "\"model\" in one item");
	if (!model && !where) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "missing \"model\" or \"where\"");
		return -1;
	}
	if (model) {
		if (check_model(err, model, out) < 0)
			return -1;
	} else {
		out->kind = MREG_BULK_WHERE;
		if (check_where(err, where, out) < 0)
			return -1;
	}
	if (set_default) {
		if (!json_is_boolean(set_default))
			return mreg_json_want(err, "set_default", set_default,
					 "true");
		if (!json_is_true(set_default))
			return mreg_json_key_error(err, "set_default",
				       "only true is accepted");
		if (!model)
			return mreg_json_key_error(err, "set_default", "needs \"model\": "
				       "a selector cannot name one default");
		out->set_default = true;
	}
	if (set) {
		if (check_set(err, set, &out->fields) < 0)
			return -1;
		out->set = set;
	} else if (!set_default) {
		mreg_error_set(err, MREG_EXIT_DATA,
			       "missing \"set\" (or \"set_default\")");
		return -1;
	}
	return 0;
}

void mreg_bulk_item_finish(struct mreg_bulk_item *item)
{
	if (!item)
		return;
	json_decref(item->root);
	free(item->raw);
	free(item->provider_buf);
	memset(item, 0, sizeof(*item));
}

