# esebackupfs: the FUSE driver.  src/fs = the platform-neutral core (no
# POSIX-only header; tests/fs_core_portable.sh checks it), linked by the
# unit tests too; src/fs/posix = the Linux/libfuse adapter (plat.h's
# services, options, daemon, signals, syslog, control socket, INI file).
noinst_LIBRARIES += src/fs/libesefs.a src/fs/posix/libesefsx.a
src_fs_libesefs_a_SOURCES = \
	src/fs/plat.h \
	src/fs/source.c \
	src/fs/conf.h src/fs/conf.c \
	src/fs/spool.h src/fs/spool.c \
	src/fs/tree.h src/fs/tree.c \
	src/fs/fsops.h src/fs/fs_int.h src/fs/fs_ctx.c src/fs/fs_start.c src/fs/fs_producer.c \
	src/fs/fs_hasher.c src/fs/fs_ops.c src/fs/fs_status.c src/fs/fs_guard.c \
	src/fs/throttle.h src/fs/throttle.c
src_fs_libesefs_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/fs
LIBESEFS = src/fs/libesefs.a

# the POSIX adapter minus main(): also linked by the unit tests
src_fs_posix_libesefsx_a_SOURCES = \
	src/fs/posix/fsx.h src/fs/posix/plat_posix.c src/fs/posix/log_posix.c \
	src/fs/posix/spool_posix.c src/fs/posix/conf_ini.c \
	src/fs/posix/control.h src/fs/posix/control.c
src_fs_posix_libesefsx_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/fs -I$(top_srcdir)/src/fs/posix
src_fs_posix_libesefsx_a_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS) $(INIH_CFLAGS) $(CRYPTO_CFLAGS)
LIBESEFSX = src/fs/posix/libesefsx.a
# the core and its adapter, in link order (each calls the other: the core
# uses plat.h, the adapter the core's configuration checks)
LIBESEFS_ALL = $(LIBESEFSX) $(LIBESEFS) $(LIBESEFSX)

# mount(8) runs helpers with a fixed PATH: install into sbin (fuse-notes b.9)
sbin_PROGRAMS += esebackupfs
esebackupfs_SOURCES = src/fs/posix/main.c src/fs/posix/fuse_ops.c src/fs/posix/fuse_settings.h src/fs/posix/daemon.c \
	src/fs/posix/signals.c src/fs/posix/readahead.c src/fs/posix/fuse_log.c \
	src/fs/posix/report.h src/fs/posix/report.c src/fs/posix/status_cli.c
esebackupfs_SOURCES += src/fs/posix/check.c
esebackupfs_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/fs -I$(top_srcdir)/src/fs/posix
esebackupfs_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS) $(INIH_CFLAGS) $(CRYPTO_CFLAGS) $(JANSSON_CFLAGS)
esebackupfs_LDADD = $(LIBESEFS_ALL) $(LIBBKFORMAT) $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(FUSE_LIBS) $(INIH_LIBS) \
	$(CRYPTO_LIBS) $(JANSSON_LIBS)

dist_man_MANS += docs/esebackupfs.8 docs/esebackupfs.ini.5
dist_sysconf_DATA += conf/esebackupfs.ini
EXTRA_DIST += docs/fs-design.md scripts/demo-live-backup.sh
