/*
 * test_fs_spool.c -- Check unit tests of the spool file and the stream
 * window (spool.c): lazy creation, cap, nothing left behind, ring wrap.
 */
#include "config.h"
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"
#include "plat.h"
#include "spool.h"

/* Number of entries (besides . and ..) in dir. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;

    ck_assert_ptr_nonnull(d);
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
            n++;
    closedir(d);
    return n;
}

START_TEST(spool_lazy_cap_and_cleanup)
{
    char dir[] = "/tmp/fsspool.XXXXXX";
    fs_spool sp;
    char buf[8192], out[8192];

    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(fs_spool_init(&sp, dir, 3 * sizeof buf), 0);
    ck_assert_ptr_null(sp.file); /* nothing created yet */
    ck_assert_int_eq(fs_spool_read(&sp, 0, out, 1), -EIO);
    memset(buf, 'a', sizeof buf);
    ck_assert_int_eq(fs_spool_write(&sp, 1 << 20, buf, sizeof buf, false), 0);
    memset(buf, 'b', sizeof buf);
    ck_assert_int_eq(fs_spool_write(&sp, 0, buf, sizeof buf, false), 0);
    ck_assert_int_eq(fs_spool_write(&sp, 2 << 20, buf, sizeof buf, false), 0);
    ck_assert_int_eq(fs_spool_write(&sp, 3 << 20, buf, 1, false), -ENOSPC); /* cap */
    ck_assert_uint_eq(sp.written, 3 * sizeof buf);
    ck_assert_int_eq(fs_spool_read(&sp, 1 << 20, out, sizeof out), 0);
    ck_assert_int_eq(out[0], 'a');
    ck_assert_int_eq(out[sizeof out - 1], 'a');
    ck_assert_int_eq(fs_spool_read(&sp, 0, out, sizeof out), 0);
    ck_assert_int_eq(out[100], 'b');
    ck_assert_int_eq(fs_spool_read(&sp, (3 << 20), out, 10), -EIO); /* past the end */
    ck_assert_int_eq(count_entries(dir), 0);                        /* O_TMPFILE: no name */
    fs_spool_close(&sp);
    fs_spool_close(&sp); /* idempotent */
    ck_assert_int_eq(count_entries(dir), 0);
    ck_assert_int_eq(rmdir(dir), 0);
    ck_assert_int_eq(fs_spool_init(&sp, "/nonexistent/dir", 0), -ENOENT);
    ck_assert_int_eq(fs_spool_init(&sp, "/etc/hostname", 0), -ENOTDIR);
}
END_TEST

/* Cold writes (O_DIRECT where aligned and allowed) and hot ones mix in one
 * spool and read back exactly: aligned and unaligned, either order. */
START_TEST(spool_cold_writes)
{
    char dir[] = "/tmp/fsspool.XXXXXX";
    const size_t chunk = 64 << 10;
    unsigned char *buf = fs_aligned_alloc(4096, 2 * chunk), *out = malloc(2 * chunk);
    fs_spool sp;

    ck_assert_ptr_nonnull(buf);
    ck_assert_ptr_nonnull(out);
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(fs_spool_init(&sp, dir, 0), 0);
    for (size_t i = 0; i < 2 * chunk; i++)
        buf[i] = (unsigned char)(i * 7 + 1);
    /* cold and aligned, hot and aligned, cold and unaligned (buffered) */
    ck_assert_int_eq(fs_spool_write(&sp, 0, buf, chunk, true), 0);
    ck_assert_int_eq(fs_spool_write(&sp, chunk, buf + chunk, chunk, false), 0);
    ck_assert_int_eq(fs_spool_write(&sp, 2 * chunk + 1, buf + 1, 1000, true), 0);
    ck_assert_int_eq(fs_spool_read(&sp, 0, out, 2 * chunk), 0);
    ck_assert_mem_eq(out, buf, 2 * chunk);
    ck_assert_int_eq(fs_spool_read(&sp, 2 * chunk + 1, out, 1000), 0);
    ck_assert_mem_eq(out, buf + 1, 1000);
    /* a region read buffered, then written cold: the read sees the new bytes */
    ck_assert_int_eq(fs_spool_write(&sp, 4 * chunk, buf, chunk, false), 0);
    ck_assert_int_eq(fs_spool_read(&sp, 4 * chunk, out, chunk), 0);
    ck_assert_int_eq(fs_spool_write(&sp, 4 * chunk, buf + chunk, chunk, true), 0);
    ck_assert_int_eq(fs_spool_read(&sp, 4 * chunk, out, chunk), 0);
    ck_assert_mem_eq(out, buf + chunk, chunk);
    ck_assert_uint_eq(sp.written, 4 * chunk + 1000);
    fs_spool_close(&sp);
    ck_assert_int_eq(rmdir(dir), 0);
    fs_aligned_free(buf);
    free(out);
}
END_TEST

START_TEST(window_ring)
{
    fs_window w;
    unsigned char data[10000], out[10000];

    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 7);
    ck_assert_int_eq(fs_window_init(&w, 4096), 0);
    fs_window_put(&w, 0, 0, data, 3000);
    ck_assert_int_eq(fs_window_get(&w, 0, 100, out, 2000), 1);
    ck_assert_mem_eq(out, data + 100, 2000);
    fs_window_put(&w, 0, 3000, data + 3000, 3000); /* wraps, drops [0, 1904) */
    ck_assert_int_eq(fs_window_get(&w, 0, 0, out, 10), 0);
    ck_assert_int_eq(fs_window_get(&w, 0, 1904, out, 4096), 1);
    ck_assert_mem_eq(out, data + 1904, 4096);
    ck_assert_int_eq(fs_window_get(&w, 0, 5000, out, 1001), 0); /* not produced */
    ck_assert_int_eq(fs_window_get(&w, 1, 2000, out, 10), 0);   /* other file */
    fs_window_put(&w, 1, 0, data, 10000);                       /* larger than the ring */
    ck_assert_int_eq(fs_window_get(&w, 1, 10000 - 4096, out, 4096), 1);
    ck_assert_mem_eq(out, data + 10000 - 4096, 4096);
    ck_assert_int_eq(fs_window_get(&w, 0, 2000, out, 10), 0); /* reset */
    fs_window_free(&w);
    ck_assert_int_eq(fs_window_init(&w, 0), 0);
    fs_window_put(&w, 0, 0, data, 10);
    ck_assert_int_eq(fs_window_get(&w, 0, 0, out, 1), 0);
    fs_window_free(&w);
}
END_TEST

/* Zero-copy appends: the engine writes straight into the ring; bytes the
 * write will overwrite leave the window before the write starts. */
START_TEST(window_reserve)
{
    fs_window w;
    unsigned char out[8192], *p;
    ck_assert_int_eq(fs_window_init(&w, 16384), 0);
    for (uint64_t off = 0; off < 6 * 4096; off += 4096) {
        p = fs_window_reserve(&w, 0, off, 4096);
        ck_assert_ptr_nonnull(p);
        ck_assert_uint_eq((uintptr_t)p % 4096, 0);
        /* the region being written is never readable meanwhile */
        ck_assert_int_eq(fs_window_get(&w, 0, off, out, 1), 0);
        if (off >= 16384) /* the oldest 4 KiB it overwrites left the window */
            ck_assert_int_eq(fs_window_get(&w, 0, off - 16384, out, 1), 0);
        memset(p, (int)(off / 4096) + 1, 4096);
        fs_window_commit(&w, 0, off, 4096);
        ck_assert_int_eq(fs_window_get(&w, 0, off, out, 4096), 1);
        ck_assert_uint_eq(out[0], off / 4096 + 1);
        ck_assert_uint_eq(out[4095], off / 4096 + 1);
    }
    /* the last three chunks before the newest one are still held */
    ck_assert_int_eq(fs_window_get(&w, 0, 2 * 4096, out, 8192), 1);
    ck_assert_uint_eq(out[0], 3);
    ck_assert_uint_eq(out[8191], 4);
    /* not contiguous or not page-aligned in the ring: caller copies */
    ck_assert_ptr_null(fs_window_reserve(&w, 0, 6 * 4096 + 100, 4096));
    ck_assert_ptr_null(fs_window_reserve(&w, 0, 6 * 4096, 32768));
    /* a short engine read commits only what came */
    p = fs_window_reserve(&w, 1, 0, 4096);
    ck_assert_ptr_nonnull(p);
    memset(p, 9, 100);
    fs_window_commit(&w, 1, 0, 100);
    ck_assert_int_eq(fs_window_get(&w, 1, 0, out, 100), 1);
    ck_assert_int_eq(fs_window_get(&w, 1, 0, out, 101), 0);
    fs_window_free(&w);
}
END_TEST

/* The suite: every test case of this file. */
static Suite *fs_spool_suite(void)
{
    Suite *s = suite_create("spool");
    TCase *tc = tcase_create("spool");

    tcase_add_test(tc, spool_lazy_cap_and_cleanup);
    tcase_add_test(tc, spool_cold_writes);
    tcase_add_test(tc, window_reserve);
    tcase_add_test(tc, window_ring);
    suite_add_tcase(s, tc);
    return s;
}

TH_MAIN(fs_spool_suite)
