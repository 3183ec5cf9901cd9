/*
 * bkf_sha.c -- the digest hook of bkformat.h over OpenSSL (POSIX builds).
 */
#include "config.h"
#include <openssl/evp.h>
#include "bkformat.h"

/* A bkf_sha256 is an EVP_MD_CTX (opaque to callers). */
/* See bkformat.h. */
bkf_sha256 *bkf_sha256_new(void)
{
    EVP_MD_CTX *md = EVP_MD_CTX_new();

    if (md && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1)
        return (bkf_sha256 *)md;
    EVP_MD_CTX_free(md);
    return NULL;
}

/* See bkformat.h. */
int bkf_sha256_update(bkf_sha256 *h, const void *p, size_t n)
{
    return EVP_DigestUpdate((EVP_MD_CTX *)h, p, n) == 1 ? 0 : -1;
}

/* See bkformat.h. */
int bkf_sha256_final(bkf_sha256 *h, unsigned char out[32])
{
    unsigned int n = 0;
    int rc = EVP_DigestFinal_ex((EVP_MD_CTX *)h, out, &n) == 1 && n == 32 ? 0 : -1;

    EVP_MD_CTX_free((EVP_MD_CTX *)h);
    return rc;
}
