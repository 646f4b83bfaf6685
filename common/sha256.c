/* sha256.c - SHA-256 through OpenSSL EVP */
#include "sha256.h"

#include <pthread.h>

static pthread_once_t fetched = PTHREAD_ONCE_INIT;
static const EVP_MD *sha256; /* kept until the process ends */

static void fetch(void)
{
	EVP_MD *md = EVP_MD_fetch(NULL, "SHA256", NULL);

	/* without a provider store, the implicit fetch each time */
	sha256 = md ? md : EVP_sha256();
}

const EVP_MD *mreg_sha256_md(void)
{
	pthread_once(&fetched, fetch);
	return sha256;
}

void mreg_hex(const unsigned char *bytes, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[bytes[i] >> 4];
		out[2 * i + 1] = digits[bytes[i] & 15];
	}
	out[2 * n] = '\0';
}

int mreg_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if (EVP_Digest(data, len, md, &mdlen, mreg_sha256_md(), NULL) != 1 ||
	    mdlen != 32) {
		out[0] = '\0';
		return -1;
	}
	mreg_hex(md, mdlen, out);
	return 0;
}
