/*
 * standin.h -- the engine stand-ins' common core (standin.c), linked into
 * the test suite's esent.dll, ntdsbcli.dll and certadm.dll (mingw, run
 * under Wine).  They serve real bytes recorded from a libjet backup on
 * Linux and enforce ESE's backup rules (ese-backup-spec.md; backup.cxx):
 *   - Begin once; open only during a backup, one file at a time; the
 *     databases before GetLogInfo, the logs after it;
 *   - each read: a multiple of the page size, the first read of a file
 *     larger than two pages, the buffer aligned to the allocation
 *     granularity; else JET_errInvalidParameter;
 *   - TruncateLog only after every log was read completely and closed
 *     (JET_errLogFileNotCopied);
 *   - a failing database read closes the file, a failing log read aborts
 *     the backup.
 * Environment:
 *   ESEFS_REC        the recording: a directory with `index` and the files
 *   ESEFS_RECORD     a file the calls that matter are appended to, one a
 *                    line: begin, truncate, end normal|abort [truncatedone],
 *                    violation WHAT
 *   ESEFS_FAIL_READ  N:ERR: the Nth read (1-based, over the backup) fails
 *                    with the Jet error ERR (e.g. 3:-1022)
 * index lines: `page BYTES`, `base XXX`, `gen LOW HIGH`,
 *              `db WINPATH FILE`, `log WINPATH FILE`.
 * Thread safety: one caller thread (a lock serialises anyway).
 */
#ifndef STANDIN_H
#define STANDIN_H

#include <stdbool.h>
#include <stdint.h>
#include <windows.h>

/* The lists the engine gives; prefix: the BFT type character put before
 * each name (0: none). */
typedef enum sc_list { SC_DBS, SC_LOGS } sc_list;

/* Each returns 0 or a Jet error (< 0). */
long sc_begin(unsigned long grbit);
/* Allocate (malloc) the UTF-16 multi-string of which into *pw, *pcb its
 * bytes with the final NUL. */
long sc_list_get(sc_list which, WCHAR db_prefix, WCHAR log_prefix, WCHAR **pw, unsigned long *pcb);
/* GetLogInfo facts (after sc_list_get(SC_LOGS)). */
void sc_gens(unsigned long *lo, unsigned long *hi, WCHAR base[4]);
long sc_open(const WCHAR *name, uint64_t *psize);
long sc_read(void *pv, unsigned long cb, unsigned long *pcb);
long sc_close(void);
long sc_truncate(void);
/* End: abort true = JET_bitBackupEndAbort; grbit recorded. */
long sc_end(bool abort, unsigned long grbit);
/* Every listed file read completely and closed (the streaming clients
 * have no abort flag: their End is recorded as abort when not). */
bool sc_all_done(void);
/* The recording's page size. */
unsigned long sc_page(void);
/* Append one line to ESEFS_RECORD. */
void sc_record(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* STANDIN_H */
