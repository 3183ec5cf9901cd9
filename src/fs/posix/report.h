/*
 * report.h -- the machine-readable views of a backup, rendered from the
 * core's status snapshot (fs_status_snapshot, fsops.h) with jansson:
 * `esebackupfs status --json` (the control request "status-json"), the
 * [report] metrics_file (Prometheus text exposition format, for
 * node_exporter's textfile collector) and json_file written at the end of
 * every backup, and `status --json` / `status --watch` on the client side.
 *
 * The JSON status object (docs/esebackupfs.8, STATUS) carries the same
 * fields as the status text, from the same snapshot.
 *
 * Thread safety: every function may be called from any thread; none keeps
 * state between calls.
 */
#ifndef FSX_REPORT_H
#define FSX_REPORT_H

#include <stddef.h>
#include "conf.h"
#include "fsops.h"

/* Control handler of "status-json": the snapshot of ctx as one JSON
 * object (with "mountpoint" = mnt), newline-terminated, into buf.
 * Returns 0 when healthy, 1 when the backup failed, 2 when it cannot be
 * rendered (out of memory, more than cb bytes; one line in buf). */
int fsx_status_json(fs_ctx *ctx, const fs_config *cfg, const char *mnt, char *buf, size_t cb);

/* The instance name of the report files: [source] instance when the INI
 * file sets it, else the INI file's base name without ".ini".  Into buf. */
void fsx_report_instance(const fs_config *cfg, char *buf, size_t cb);

/* At the end of a backup (after fs_ctx_finish): write [report]
 * metrics_file and json_file when configured, each atomically (temporary
 * file in the same directory, fsync, rename, fsync of the directory; mode
 * 0644).  A failure is logged (one line naming the file) and returned;
 * the other file is still written.  0 or -errno. */
int fsx_report_write(const fs_config *cfg, fs_ctx *ctx);

/* Write len bytes of data to path atomically, as above.  0, or -errno
 * with one line in err (no temporary file is left behind). */
int fsx_write_atomic(const char *path, const char *data, size_t len, char *err, size_t cb_err);

/* `esebackupfs status --json [MOUNTPOINT]`: the mount's JSON object, or
 * without a mount point a JSON array of every esebackupfs mount of this
 * host (an unreachable one as {"mountpoint": ..., "reachable": false}),
 * on stdout.  Returns 0 healthy, 1 a backup failed, 2 a mount could not
 * be reached (with a message on stderr). */
int fsx_status_json_client(const char *prog, const char *mountpoint);

/* `esebackupfs status --watch MOUNTPOINT`: once a second, one progress
 * line (phase, bytes, percent, rate, ETA), redrawn in place on a terminal
 * and one line per second otherwise, until the backup ends (state ENDED,
 * or the mount is gone); after ENDED it waits (up to a minute) until the
 * driver stops answering, which it does once the [report] files are
 * written (run after the umount it returns 2 at once when the driver has
 * already stopped).  Returns 0 when it ended and the last status
 * was healthy, 1 when the backup failed, 2 when the mount cannot be
 * reached at all. */
int fsx_status_watch(const char *prog, const char *mountpoint);

#endif
