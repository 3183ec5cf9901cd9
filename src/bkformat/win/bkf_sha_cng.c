/*
 * bkf_sha_cng.c -- the digest hook of bkformat.h over Windows CNG
 * (bcrypt.h, -lbcrypt): Windows builds only (no mingw OpenSSL exists).
 */
#include "config.h"
#include <stdlib.h>
#include <windows.h>
#include <bcrypt.h>
#include "bkformat.h"

struct bkf_sha256 {
    BCRYPT_ALG_HANDLE alg;
    BCRYPT_HASH_HANDLE hash;
};

static void cng_free(bkf_sha256 *h)
{
    if (h->hash)
        (void)BCryptDestroyHash(h->hash);
    if (h->alg)
        (void)BCryptCloseAlgorithmProvider(h->alg, 0);
    free(h);
}

/* See bkformat.h. */
bkf_sha256 *bkf_sha256_new(void)
{
    bkf_sha256 *h = calloc(1, sizeof *h);

    if (!h)
        return NULL;
    if (!BCRYPT_SUCCESS(BCryptOpenAlgorithmProvider(&h->alg, BCRYPT_SHA256_ALGORITHM, NULL, 0)) ||
        !BCRYPT_SUCCESS(BCryptCreateHash(h->alg, &h->hash, NULL, 0, NULL, 0, 0))) {
        cng_free(h);
        return NULL;
    }
    return h;
}

/* See bkformat.h. */
int bkf_sha256_update(bkf_sha256 *h, const void *p, size_t n)
{
    const unsigned char *b = p;

    while (n) {
        ULONG k = n > 0x40000000u ? 0x40000000u : (ULONG)n;

        if (!BCRYPT_SUCCESS(BCryptHashData(h->hash, (PUCHAR)b, k, 0)))
            return -1;
        b += k;
        n -= k;
    }
    return 0;
}

/* See bkformat.h. */
int bkf_sha256_final(bkf_sha256 *h, unsigned char out[32])
{
    int rc = BCRYPT_SUCCESS(BCryptFinishHash(h->hash, out, 32, 0)) ? 0 : -1;

    cng_free(h);
    return rc;
}
