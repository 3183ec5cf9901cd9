# esebackupfs: the FUSE driver (src/fs).  Core = platform-neutral library
# (also linked by the unit tests); fuse_main.c = the libfuse adapter.
noinst_LIBRARIES += src/fs/libesefs.a
src_fs_libesefs_a_SOURCES = \
	src/fs/source.c \
	src/fs/conf.h src/fs/conf.c \
	src/fs/spool.h src/fs/spool.c \
	src/fs/tree.h src/fs/tree.c \
	src/fs/fsops.h src/fs/fsops.c \
	src/fs/control.h src/fs/control.c \
	src/fs/log.h src/fs/log.c
src_fs_libesefs_a_CFLAGS = $(AM_CFLAGS) $(INIH_CFLAGS) $(CRYPTO_CFLAGS) $(FUSE_CFLAGS)
src_fs_libesefs_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
LIBESEFS = src/fs/libesefs.a

# mount(8) runs helpers with a fixed PATH: install into sbin (fuse-notes b.9)
sbin_PROGRAMS += esebackupfs
esebackupfs_SOURCES = src/fs/fuse_main.c
esebackupfs_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS) $(INIH_CFLAGS) $(CRYPTO_CFLAGS)
esebackupfs_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src
esebackupfs_LDADD = $(LIBESEFS) $(LIBBKFORMAT) $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(FUSE_LIBS) $(INIH_LIBS) $(CRYPTO_LIBS)

dist_man_MANS += docs/esebackupfs.8 docs/esebackupfs.ini.5
dist_sysconf_DATA += conf/esebackupfs.ini
EXTRA_DIST += docs/fs-design.md scripts/demo-live-backup.sh
