/* sha256.h - SHA-256 through OpenSSL EVP, as lowercase hex */
#ifndef MREG_SHA256_H
#define MREG_SHA256_H

#include <stddef.h>

#define MREG_SHA256_HEX_LEN 64

/* out receives 64 hex digits and a NUL.  Returns 0, or -1 on failure. */
int mreg_sha256_hex(const void *data, size_t len, char out[65]);

/* 32 raw bytes to 64 lowercase hex digits and a NUL. */
void mreg_hex(const unsigned char *bytes, size_t n, char *out);

#endif
