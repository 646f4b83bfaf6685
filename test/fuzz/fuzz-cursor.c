/* fuzz-cursor.c - the list cursor decoder (common/registry.h)
 *
 * The first byte is the listing's kind, the rest is used twice:
 *  - as a token given to 'mreg list --after': it decodes only when it is
 *    exactly what mreg_cursor_encode() makes of the decoded key and id
 *    (canonical base64url, decimal id), else a usage error;
 *  - as a key (after a leading decimal id) to encode: the token is
 *    base64url and decodes back to the same key and id, and is refused
 *    by every other listing.
 */
#include "error.h"
#include "fuzz.h"
#include "registry.h"

static const char b64url[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static void check_token(char kind, const char *token)
{
	struct mreg_error err;
	char *key = (char *)1, *id = (char *)1, *again;
	size_t i;

	mreg_error_clear(&err);
	if (mreg_cursor_decode(token, kind, &key, &id, &err) < 0) {
		fuzz_check(key == NULL && id == NULL,
			   "failed decode left key or id");
		fuzz_check(err.status == MREG_EXIT_USAGE && err.message[0],
			   "failed decode: status %d \"%s\"", err.status,
			   err.message);
		return;
	}
	fuzz_check(key && id, "decoded without key or id");
	for (i = 0; id[i]; i++)
		fuzz_check(id[i] >= '0' && id[i] <= '9', "id \"%s\"", id);
	again = mreg_cursor_encode(kind, key, id);
	fuzz_check(again && strcmp(again, token) == 0,
		   "\"%s\" decodes but encodes back as \"%s\"", token,
		   again ? again : "(null)");
	free(again);
	free(key);
	free(id);
}

static void check_roundtrip(char kind, const char *rest)
{
	struct mreg_error err;
	char id[24], *token, *key = NULL, *gotid = NULL;
	size_t n = 0;

	if (kind == '\0')
		return; /* no listing has kind 0: its tokens never decode */
	while (n < sizeof(id) - 1 && rest[n] >= '0' && rest[n] <= '9') {
		id[n] = rest[n];
		n++;
	}
	id[n] = '\0';
	token = mreg_cursor_encode(kind, rest + n, id);
	fuzz_check(token != NULL, "encode failed");
	fuzz_check(strspn(token, b64url) == strlen(token),
		   "token \"%s\" is not base64url", token);
	mreg_error_clear(&err);
	if (mreg_cursor_decode(token, kind, &key, &gotid, &err) < 0) {
		/* the decoder checks each field strictly (id range, names,
		 * timestamps as the queries print them): an arbitrary key may
		 * be refused, but only as an invalid cursor */
		fuzz_check(err.status == MREG_EXIT_USAGE && key == NULL &&
			   gotid == NULL, "own token \"%s\": %s", token,
			   err.message);
		free(token);
		return;
	}
	fuzz_check(strcmp(key, rest + n) == 0 && strcmp(gotid, id) == 0,
		   "token \"%s\" decodes to another key or id", token);
	free(key);
	free(gotid);
	fuzz_check(mreg_cursor_decode(token, (char)(kind ^ 1), &key, &gotid,
				      &err) < 0,
		   "token \"%s\" accepted by another listing", token);
	free(token);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *rest;

	if (size < 1)
		return 0;
	rest = fuzz_strndup(data + 1, size - 1);
	check_token((char)data[0], rest);
	check_roundtrip((char)data[0], rest);
	free(rest);
	return 0;
}
