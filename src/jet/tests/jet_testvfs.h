/*
 * jet_testvfs.h -- a power-loss simulator for libjet tests (in the spirit
 * of SQLite's test_vfs.c): a jos_vtab (src/jet/os.h) that passes every call
 * to the real system but, for the files of one directory, remembers what
 * was made durable -- file contents by fsync/fdatasync, names (create,
 * rename, unlink) by an fsync of the directory -- and what is still
 * pending.  tvfs_capture builds the directory a power loss at this moment
 * could leave: the durable names plus a random prefix of the pending name
 * operations (metadata is journaled in order), and for each file its
 * durable bytes plus a random subset of its pending writes, cut into
 * 512-byte sectors, each sector kept or lost on its own and the kept ones
 * applied in random order (torn and reordered writes).
 *
 * Thread safety: all calls are thread-safe (one mutex; the real calls of
 * tracked files run under it, so a capture sees each call whole).  Only one
 * simulator can be active in a process.
 */
#ifndef JET_TESTVFS_H
#define JET_TESTVFS_H

#include <stddef.h>
#include <stdint.h>

/* A directory image: n files, name -> bytes. */
typedef struct tv_image {
    int n;
    char (*name)[64];
    uint8_t **data;
    size_t *cb;
    unsigned long tag; /* caller's values at capture time */
    unsigned long tag2;
} tv_image;

/* Called before every mutating call on a tracked file (pwrite, ftruncate,
 * fsync, fdatasync, rename, unlink, creating or truncating open), without
 * the simulator's lock: the place to call tvfs_capture. */
typedef void (*tv_point_fn)(void *arg);

/* tvfs_start -- track the files of directory dir (canonical, no trailing
 * slash; everything in it now counts as durable) and install the
 * simulator as the engine's table.  0, or -1 (errno). */
int tvfs_start(const char *dir, tv_point_fn fn, void *arg);

/* tvfs_stop -- restore the default table and forget everything. */
void tvfs_stop(void);

/* tvfs_capture -- the image a power loss now could leave, drawn with the
 * random generator *seed (advanced); keep_pct = chance in percent that a
 * pending sector survives.  0, or -1 (ENOMEM). */
int tvfs_capture(uint64_t *seed, unsigned keep_pct, tv_image *img);

/* tvfs_set_atomic_edb -- tear writes to files named *.edb only at unit
 * bytes (a database page: page writes atomic) instead of 512; 0 restores
 * 512.  Kept from one tvfs_start to the next. */
void tvfs_set_atomic_edb(size_t unit);

/* tvfs_points -- crash points passed since tvfs_start. */
unsigned long tvfs_points(void);

/* tv_image_load -- read every regular file of dir.  0 or -1. */
int tv_image_load(const char *dir, tv_image *img);

/* tv_image_store -- empty dir (regular files only), then write img into
 * it.  0 or -1. */
int tv_image_store(const char *dir, const tv_image *img);

/* tv_image_free -- release img's memory (safe on a zeroed image). */
void tv_image_free(tv_image *img);

/* tv_rand -- xorshift64* step. */
uint64_t tv_rand(uint64_t *seed);

#endif /* JET_TESTVFS_H */
