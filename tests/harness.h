/*
 * harness.h -- the one Check harness of the C tests (after curl's
 * tests/unit/curlcheck.h): one main, one temporary-directory helper, one
 * recursive remove.
 *
 * A test file defines its suite-building function and ends with
 *
 *     TH_MAIN(foo_suite)                  -- or --
 *     TH_MAIN_SETUP(foo_suite, foo_setup) -- foo_setup() runs first
 *
 * which provides main(): run every test (Check forks each one unless
 * CK_FORK=no), exit 0 when all passed, 1 otherwise.
 *
 * th_tmpdir and th_rm_tree are plain functions (no Check asserts), so
 * forked children and fixtures can use them too.  No global state;
 * thread-safe as far as nftw/mkdtemp are.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

/* Run suite s (the SRunner takes it over); 0 if every test passed, 1 if
 * any failed. */
static inline int th_run(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed == 0 ? 0 : 1;
}

/* main() of a test program: build the suite with suite_fn() and run it. */
#define TH_MAIN(suite_fn) \
    int main(void) \
    { \
        return th_run(suite_fn()); \
    }

/* TH_MAIN with setup_fn() (void, no arguments) run first, in the parent. */
#define TH_MAIN_SETUP(suite_fn, setup_fn) \
    int main(void) \
    { \
        setup_fn(); \
        return th_run(suite_fn()); \
    }

/* Make a fresh private directory "$TMPDIR/<prefix>.XXXXXX" (TMPDIR
 * defaults to /tmp) into dir[cb].  0, or -1 (name too long, mkdtemp
 * failed: errno set). */
static inline int th_tmpdir(char *dir, size_t cb, const char *prefix)
{
    const char *t = getenv("TMPDIR");
    int n;

    if (t == NULL || t[0] == '\0')
        t = "/tmp";
    n = snprintf(dir, cb, "%s/%s.XXXXXX", t, prefix);
    if (n < 0 || (size_t)n >= cb)
        return -1;
    return mkdtemp(dir) != NULL ? 0 : -1;
}

/* nftw callback of th_rm_tree: remove one entry (children first). */
static inline int th_rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
    (void)st;
    (void)f;
    return (flag == FTW_DP ? rmdir(p) : unlink(p)) == 0 ? 0 : -1;
}

/* Remove dir and everything below it (symbolic links are removed, not
 * followed).  0, or -1 on the first entry that could not be removed (a
 * missing dir is -1 too). */
static inline int th_rm_tree(const char *dir)
{
    return nftw(dir, th_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif /* TESTS_HARNESS_H */
