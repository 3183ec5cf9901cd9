/*
 * log.h -- esebackupfs logging: syslog (daemon) or stderr (foreground).
 *
 * One process-wide context struct (fs_log_state in log.c) holds the
 * destination; fs_log_setup is called once at start-up, before threads.
 * fs_log itself is thread-safe (syslog/stdio lock internally).
 */
#ifndef FS_LOG_H
#define FS_LOG_H

#include <syslog.h>

/* Destination: use_syslog != 0 -> syslog(LOG_DAEMON, ident); else stderr.
 * quiet != 0 drops LOG_DEBUG/LOG_INFO messages on stderr. */
void fs_log_setup(const char *ident, int use_syslog, int quiet);
/* Log one line at a syslog priority (LOG_ERR, LOG_WARNING, LOG_INFO...). */
void fs_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
