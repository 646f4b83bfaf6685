/* test-modelfile.c - parsing and validating model files */
#include <stdbool.h>
#include <string.h>

#include <jansson.h>

#include "modelfile.h"
#include "tap.h"
#include "utf8.h"

static int parse(const char *text, struct mreg_model *m, struct mreg_error *err)
{
	mreg_error_clear(err);
	return mreg_model_parse(text, strlen(text), "m.json", m, err);
}

/* Expect failure; the message must contain want. */
static void bad(const char *text, const char *want, long line, long col,
		const char *name)
{
	struct mreg_model m;
	struct mreg_error err;
	int rc = parse(text, &m, &err);

	ok(rc == -1 && err.status == MREG_EXIT_DATA, "%s: rejected", name);
	if (!ok(strstr(err.message, want) != NULL, "%s: message has \"%s\"",
		name, want))
		diag("  message: %s", err.message);
	is_str(err.path, "m.json", "%s: path", name);
	if (line >= 0) {
		is_int(err.line, line, "%s: line", name);
		is_int(err.column, col, "%s: column", name);
	}
	ok(m.name == NULL && m.provider == NULL, "%s: nothing left filled", name);
}

static void test_full(void)
{
	struct mreg_model m;
	struct mreg_error err;
	const char *text =
		"{\n"
		"  \"name\": \"gpt-4o-mini:2024-07-18@eu/x.y\",\n"
		"  \"provider\": \"openai\",\n"
		"  \"type\": \"llm\",\n"
		"  \"version\": \"2024-07-18\",\n"
		"  \"display_name\": \"GPT-4o mini\",\n"
		"  \"description\": \"Small \\u00e9 model\",\n"
		"  \"tags\": [\"chat\", \"vision\"],\n"
		"  \"synonyms\": [\"4o-mini\"],\n"
		"  \"active\": false,\n"
		"  \"config\": {\"b\": 2, \"a\": {\"z\": null}},\n"
		"  \"metadata\": {},\n"
		"  \"artifacts\": [\"weights/a.bin\", \"tok.json\"]\n"
		"}\n";

	is_int(parse(text, &m, &err), 0, "full file parses");
	is_str(m.name, "gpt-4o-mini:2024-07-18@eu/x.y", "name with / : @ .");
	is_str(m.provider, "openai", "provider");
	is_str(m.type, "llm", "type");
	is_str(m.version, "2024-07-18", "version");
	is_str(m.display_name, "GPT-4o mini", "display_name");
	is_str(m.description, "Small \xc3\xa9 model", "description decoded");
	is_str(m.tags_json, "[\"chat\",\"vision\"]", "tags as compact JSON");
	is_str(m.synonyms_json, "[\"4o-mini\"]", "synonyms");
	ok(!m.active, "active false");
	is_str(m.config_json, "{\"b\": 2, \"a\": {\"z\": null}}",
	       "config: the exact text of the file");
	is_str(m.metadata_json, "{}", "metadata");
	is_int(m.nartifacts, 2, "two artifacts");
	is_str(m.artifacts[0], "weights/a.bin", "artifact path");
	mreg_model_finish(&m);
	ok(m.name == NULL, "finish zeroes");
	mreg_model_finish(NULL);
	mreg_model_finish(&m); /* twice is fine */

	is_int(parse("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"embedding\"}",
		     &m, &err), 0, "minimal file parses");
	ok(m.active, "active defaults to true");
	ok(m.version == NULL && m.description == NULL, "optional strings absent");
	is_str(m.tags_json, "[]", "tags default []");
	is_str(m.config_json, "{}", "config default {}");
	is_int(m.nartifacts, 0, "no artifacts");
	mreg_model_finish(&m);
}

static void test_bad(void)
{
	char name201[260], longslug[80];

	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",}", "",
	    1, 41, "trailing comma");
	bad("{\"name\":\"n\",\n\"provider\":\"p\",\n\"name\":\"m\",\"type\":\"llm\"}",
	    "duplicate object key", 3, 6, "duplicate key");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\"} x", "end of file",
	    1, 42, "trailing garbage");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\"}{}", "end of file",
	    -1, 0, "two objects");
	bad("", "", 1, 1, "empty file");
	bad("[1]", "one JSON object", 1, 1, "array at top level");
	bad("{\"name\":\"n\xff\",\"provider\":\"p\",\"type\":\"llm\"}",
	    "invalid UTF-8", 1, 11, "invalid UTF-8");
	bad("{\"name\":\"n\",\n \"provider\":\"p\xc0\xaf\",\"type\":\"llm\"}",
	    "invalid UTF-8", 2, 15, "overlong UTF-8");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"colour\":1}",
	    "key 'colour': unknown key", 0, 0, "unknown key");
	bad("{\"provider\":\"p\",\"type\":\"llm\"}", "key 'name': is required",
	    0, 0, "name missing");
	bad("{\"name\":\"n\",\"type\":\"llm\"}", "key 'provider': is required",
	    0, 0, "provider missing");
	bad("{\"name\":\"n\",\"provider\":\"p\"}", "key 'type': is required",
	    0, 0, "type missing");
	bad("{\"name\":7,\"provider\":\"p\",\"type\":\"llm\"}",
	    "key 'name': must be a string, not an integer", 0, 0, "name type");
	bad("{\"name\":\"\",\"provider\":\"p\",\"type\":\"llm\"}",
	    "key 'name': must not be empty", 0, 0, "empty name");
	bad("{\"name\":\"a\\u0007b\",\"provider\":\"p\",\"type\":\"llm\"}",
	    "control characters", 0, 0, "control character in name");
	bad("{\"name\":\"a\\u0085b\",\"provider\":\"p\",\"type\":\"llm\"}",
	    "control characters", 0, 0, "C1 control character in name");
	bad("{\"name\":\"a\\u0000b\",\"provider\":\"p\",\"type\":\"llm\"}",
	    "key 'name': a NUL character (U+0000) in a string: PostgreSQL cannot store it",
	    1, 11, "NUL in a string");
	bad("{\"name\":\" \\u00a0\\t\",\"provider\":\"p\",\"type\":\"llm\"}",
	    "control characters", 0, 0, "tab in a blank name");
	bad("{\"name\":\" \\u00a0\\u3000\\u200b \",\"provider\":\"p\",\"type\":\"llm\"}",
	    "key 'name': must not be blank (white space only)", 0, 0,
	    "blank name");
	memset(name201, 'x', 201);
	name201[201] = '\0';
	{
		char text[400];
		snprintf(text, sizeof(text),
			 "{\"name\":\"%s\",\"provider\":\"p\",\"type\":\"llm\"}",
			 name201);
		bad(text, "longer than 200", 0, 0, "201-character name");
		name201[200] = '\0';
		snprintf(text, sizeof(text),
			 "{\"name\":\"%s\",\"provider\":\"p\",\"type\":\"llm\"}",
			 name201);
		{
			struct mreg_model m;
			struct mreg_error err;
			is_int(parse(text, &m, &err), 0,
			       "200-character name is fine");
			mreg_model_finish(&m);
		}
	}
	bad("{\"name\":\"n\",\"provider\":\"OpenAI\",\"type\":\"llm\"}",
	    "key 'provider': \"OpenAI\" is not a slug", 0, 0, "provider case");
	bad("{\"name\":\"n\",\"provider\":\"-p\",\"type\":\"llm\"}",
	    "not a slug", 0, 0, "provider leading dash");
	memset(longslug, 'a', 65);
	longslug[65] = '\0';
	{
		char text[200];
		snprintf(text, sizeof(text),
			 "{\"name\":\"n\",\"provider\":\"%s\",\"type\":\"llm\"}",
			 longslug);
		bad(text, "not a slug", 0, 0, "65-character provider");
	}
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"L L M\"}",
	    "key 'type'", 0, 0, "type not a slug");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"tags\":\"a\"}",
	    "key 'tags': must be an array of strings, not a string", 0, 0,
	    "tags not an array");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"tags\":[\"a\",1]}",
	    "key 'tags': item 1 must be a string", 0, 0, "tag not a string");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"synonyms\":[\"\"]}",
	    "key 'synonyms': item 0 is an empty string", 0, 0, "empty synonym");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"active\":\"yes\"}",
	    "key 'active': must be a boolean", 0, 0, "active not boolean");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"config\":[]}",
	    "key 'config': must be an object, not an array", 0, 0,
	    "config not an object");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"metadata\":null}",
	    "key 'metadata': must be an object, not null", 0, 0,
	    "metadata null");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"version\":1.5}",
	    "key 'version': must be a string, not a number", 0, 0,
	    "version number");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"artifacts\":[\"/etc/passwd\"]}",
	    "must be relative", 0, 0, "absolute artifact");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"artifacts\":[\"a/../../x\"]}",
	    "must not contain '..'", 0, 0, "artifact escaping upwards");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"artifacts\":[\"a\",\"a\"]}",
	    "\"a\" is listed twice", 0, 0, "artifact listed twice");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"artifacts\":{}}",
	    "key 'artifacts': must be an array", 0, 0, "artifacts object");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"tags\":[\"b\",\"a\",\"b\"]}",
	    "key 'tags': \"b\" is listed twice", 0, 0, "tag listed twice");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"synonyms\":[\"x\",\"x\"]}",
	    "key 'synonyms': \"x\" is listed twice", 0, 0,
	    "synonym listed twice");
	/* what PostgreSQL's jsonb cannot hold, with the key and position */
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\n"
	    " \"config\":{\"prices\":[1, 1e1000000]}}",
	    "key 'config.prices[1]': number 1e1000000 is out of range for "
	    "PostgreSQL numeric: more than 131072 digits before the decimal "
	    "point", 2, 25, "number too large for numeric");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\","
	    "\"metadata\":{\"eps\":1e-20000}}",
	    "key 'metadata.eps': number 1e-20000 is out of range for PostgreSQL "
	    "numeric: more than 16383 digits after the decimal point", 1, 59,
	    "number too small for numeric");
	/* a syntax error next to a number quotes the number as written */
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\","
	    "\"config\":{\"a\" 0.06}}", "':' expected near '0.06'", 1, 58,
	    "syntax error near a number");
	bad("{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\","
	    "\"config\":{\"a\": 01}}", "invalid token near '0'", 1, 56,
	    "leading zero");
}

static void test_exact(void)
{
	struct mreg_model m;
	struct mreg_error err;
	const char *text =
		"\xef\xbb\xbf{\"name\": \"n\", \"provider\": \"p\", \"type\": \"llm\",\n"
		" \"conf\\u0069g\": {\"prices\": [0.06, 0.24, 1E2, 1.50,"
		" 123456789012345678901234567890, -0.0, 1e-7]},\n"
		" \"metadata\": {\"t\": 0.35}}\n";

	is_int(parse(text, &m, &err), 0, "BOM, big integer, exponents: parse");
	if (err.status)
		diag("  %s", err.message);
	is_str(m.config_json, "{\"prices\": [0.06, 0.24, 1E2, 1.50,"
	       " 123456789012345678901234567890, -0.0, 1e-7]}",
	       "config: numbers as written (escaped key found)");
	is_str(m.metadata_json, "{\"t\": 0.35}", "metadata as written");
	mreg_model_finish(&m);

	/* a BOM only counts at the very start */
	bad("{\"name\":\"n\",\xef\xbb\xbf\"provider\":\"p\",\"type\":\"llm\"}",
	    "near a byte order mark (U+FEFF)", 1, 13,
	    "BOM in the middle");
	bad("\xef\xbb\xbf\xef\xbb\xbf{}", "", 1, 1, "two BOMs");
}

static void test_helpers(void)
{
	ok(mreg_is_slug("a"), "slug a");
	ok(mreg_is_slug("meta-llama.v3_x"), "slug with . _ -");
	ok(!mreg_is_slug(""), "empty is not a slug");
	ok(!mreg_is_slug("_a"), "leading underscore");
	ok(!mreg_is_slug("a/b"), "slash");
	ok(mreg_utf8_valid("\xe2\x82\xac", 3), "euro sign valid");
	ok(!mreg_utf8_valid("\xed\xa0\x80", 3), "surrogate invalid");
	ok(!mreg_utf8_valid("\xf4\x90\x80\x80", 4), "above U+10FFFF invalid");
	ok(!mreg_utf8_valid("\xe2\x82", 2), "truncated sequence invalid");
	ok(mreg_check_name("caf\xc3\xa9") == NULL, "accented name fine");
	ok(mreg_check_name(" a ") == NULL, "spaces around a name are kept");
	ok(mreg_check_name("\xe3\x80\x80") != NULL, "ideographic space only");
}

/* Artifacts as objects {"path", "size", "sha256"}, as mreg export writes. */
#define HEAD "{\"name\":\"n\",\"provider\":\"p\",\"type\":\"llm\",\"artifacts\":"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
static void test_artifact_objects(void)
{
	struct mreg_model m;
	struct mreg_error err;

	is_int(parse(HEAD "[\"a.bin\", {\"path\": \"w/b.bin\", \"size\": "
		     "123456789012345678, \"sha256\": \"" SHA "\"}, "
		     "{\"path\": \"c\", \"sha256\": \"" SHA "\"}]}",
		     &m, &err), 0, "paths and objects mix");
	is_int(m.nartifacts, 3, "three artifacts");
	is_str(m.artifacts[1], "w/b.bin", "an object's path");
	ok(m.recorded != NULL, "recorded");
	is_int(m.recorded[0].size, -1, "a plain path records no size");
	is_str(m.recorded[0].sha256, "", "nor a SHA-256");
	/* 18 digits, exactly: the tree holds only placeholders */
	is_int(m.recorded[1].size, 123456789012345678LL, "the size, exact");
	is_str(m.recorded[1].sha256, SHA, "the SHA-256");
	is_int(m.recorded[2].size, -1, "no size given");
	mreg_model_finish(&m);
	is_int(parse(HEAD "[\"a.bin\"]}", &m, &err), 0, "paths only");
	ok(m.recorded == NULL, "paths only: nothing recorded");
	mreg_model_finish(&m);
	bad(HEAD "[{\"path\": \"a\", \"mode\": 1}]}",
	    "item 0: unknown key 'mode'", 0, 0, "object: unknown key");
	bad(HEAD "[{\"size\": 1}]}", "item 0: 'path' must be a string", 0, 0,
	    "object: no path");
	bad(HEAD "[{\"path\": \"a\", \"sha256\": \"ABC\"}]}",
	    "'sha256' must be 64 lowercase hexadecimal digits", 0, 0,
	    "object: bad sha256");
	bad(HEAD "[{\"path\": \"a\", \"size\": -1}]}",
	    "'size' must be a whole number", 0, 0, "object: negative size");
	bad(HEAD "[{\"path\": \"a\", \"size\": 1.5}]}",
	    "'size' must be a whole number", 0, 0, "object: fraction");
	bad(HEAD "[{\"path\": \"a\", \"size\": 1234567890123456789}]}",
	    "'size' must be a whole number", 0, 0, "object: 19 digits");
	bad(HEAD "[{\"path\": \"../a\"}]}", "must not contain '..'", 0, 0,
	    "object: the path checked as a path");
	bad(HEAD "[{\"path\": \"a\"}, \"a\"]}", "\"a\" is listed twice", 0,
	    0, "object and path: the same file twice");
	bad(HEAD "[1]}", "item 0 must be a path or an object", 0, 0,
	    "artifact: a number");
}

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/*
 * The quick way (modelfile-quick.c): takes (1) or leaves (0) text as
 * expected, and mreg_model_parse() gives what the general way alone
 * gives, field for field or error for error.
 */
static void quick(const char *text, int takes, const char *name)
{
	struct mreg_model q, g, m;
	struct mreg_error gerr, err;
	int qrc = mreg_model_quick(text, strlen(text), &q);
	int grc, rc;

	is_int(qrc, takes, "%s: the quick way %s", name,
	       takes ? "takes it" : "leaves it");
	mreg_error_clear(&gerr);
	mreg_error_clear(&err);
	grc = mreg_model_parse_general(text, strlen(text), "m.json", &g, &gerr);
	rc = mreg_model_parse(text, strlen(text), "m.json", &m, &err);
	if (qrc == 1)
		is_int(grc, 0, "%s: the general way takes it too", name);
	is_int(rc, grc, "%s: same outcome", name);
	if (rc == 0 && grc == 0) {
		bool eq = same_str(m.name, g.name) &&
			  same_str(m.provider, g.provider) &&
			  same_str(m.type, g.type) &&
			  same_str(m.version, g.version) &&
			  same_str(m.display_name, g.display_name) &&
			  same_str(m.description, g.description) &&
			  same_str(m.tags_json, g.tags_json) &&
			  same_str(m.synonyms_json, g.synonyms_json) &&
			  same_str(m.config_json, g.config_json) &&
			  same_str(m.metadata_json, g.metadata_json) &&
			  m.active == g.active && m.nartifacts == g.nartifacts;

		if (!ok(eq, "%s: same model", name))
			diag("  tags %s / %s, config %s / %s", m.tags_json,
			     g.tags_json, m.config_json, g.config_json);
	} else if (rc != 0 && grc != 0) {
		is_str(err.message, gerr.message, "%s: same error", name);
	}
	if (qrc == 1)
		mreg_model_finish(&q);
	mreg_model_finish(&g);
	mreg_model_finish(&m);
}

#define Q "{\"name\": \"n\", \"provider\": \"p\", \"type\": \"llm\""
static void test_quick(void)
{
	struct mreg_model m;
	struct mreg_error err;

	quick(Q "}", 1, "the three keys");
	quick(" \n\t\r" Q " , \"version\" : \"1\" , \"active\" : false } \n", 1,
	      "white space everywhere");
	quick(Q ", \"tags\": [\"b\", \"a\", \"caf\xc3\xa9\"], \"synonyms\": [],"
	      " \"display_name\": \"N\", \"description\": \"d\"}", 1,
	      "tags as written, empty synonyms");
	quick(Q ", \"config\": {\"a\": [1, -0.5e+3, {\"b\": null}, true, false,"
	      " \"x\"], \"c\": {}, \"d\": [], \"e\": 123456789012345678901234567890},"
	      " \"metadata\": { \"z\" : 0.06 }}", 1, "nested config, exact numbers");
	/* what the quick way leaves: the general way decides and words it */
	quick(Q ", \"description\": \"a\\nb\"}", 0, "an escape");
	quick(Q ", \"config\": {\"a\": \"\\u00e9\"}}", 0, "an escape in config");
	quick(Q ", \"description\": \"a\tb\"}", 0, "a raw tab in a string");
	quick(Q ", \"artifacts\": [\"a.bin\"]}", 0, "artifacts");
	quick(Q ", \"conf\": {}}", 0, "an unknown key");
	quick(Q ", \"name\": \"m\"}", 0, "a key twice");
	quick(Q ", \"config\": {\"a\": 1, \"a\": 2}}", 0,
	      "a key twice in config");
	quick(Q ", \"config\": {\"a\": {\"b\": 1, \"b\": 1}}}", 0,
	      "a key twice deeper");
	quick(Q ", \"config\": {\"a\": 1, \"b\": {\"a\": 1}}}", 1,
	      "the same key in two objects");
	quick(Q ", \"tags\": [\"a\", \"a\"]}", 0, "a tag twice");
	quick(Q ", \"tags\": [\"\"]}", 0, "an empty tag");
	quick(Q ", \"tags\": [1]}", 0, "a number as tag");
	quick(Q ", \"version\": null}", 0, "null version");
	quick(Q ", \"active\": 1}", 0, "active a number");
	quick(Q ", \"config\": []}", 0, "config an array");
	quick(Q ", \"config\": {\"a\": 01}}", 0, "a leading zero");
	quick(Q ", \"config\": {\"a\": 1.}}", 0, "a bare point");
	quick(Q ", \"config\": {\"a\": 1e99999999999}}", 0,
	      "an exponent numeric cannot hold");
	quick(Q ", \"config\": {\"a\": tru}}", 0, "a bad word");
	quick(Q ", \"config\": {\"a\": truex}}", 0, "a word run on");
	quick(Q ", \"config\": {\"a\": 1,}}", 0, "a trailing comma");
	quick(Q ", \"config\": {\"a\" 1}}", 0, "no colon");
	quick(Q "} x", 0, "trailing garbage");
	quick(Q "}}", 0, "a brace too many");
	quick(Q, 0, "unterminated");
	quick("{\"name\": \"n\", \"type\": \"llm\"}", 0, "no provider");
	quick("{\"name\": \"\", \"provider\": \"p\", \"type\": \"llm\"}", 0,
	      "an empty name");
	quick("{\"name\": \"n\", \"provider\": \"P\", \"type\": \"llm\"}", 0,
	      "a provider that is no slug");
	quick("{}", 0, "an empty object");
	quick("[]", 0, "an array");
	quick(Q ", \"config\": "
	      "{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}",
	      0, "deep nesting");
	/* through mreg_model_parse, BOM and all */
	is_int(parse("\xef\xbb\xbf" Q ", \"tags\": [\"x\"]}", &m, &err), 0,
	       "BOM, then the quick way");
	is_str(m.tags_json, "[\"x\"]", "its tags");
	is_str(m.config_json, "{}", "config defaults to {}");
	ok(m.active, "active defaults to true");
	mreg_model_finish(&m);
}

int main(void)
{
	json_object_seed(0);
	test_full();
	test_bad();
	test_exact();
	test_helpers();
	test_artifact_objects();
	test_quick();
	return tap_done();
}
