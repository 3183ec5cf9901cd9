# esebackupfs.exe (issue 9): the platform-neutral core (src/fs/*.c except
# source.c) with the Windows adapter (src/fs/win): plat.h on Win32, the
# INI through the profile API, the source on the Windows backends, the
# WinFsp adapter (winfsp-x64.dll resolved at run time).  Included by
# Makefile.am only when HOST_WIN.
bin_PROGRAMS += esebackupfs
esebackupfs_SOURCES = \
	src/fs/plat.h src/fs/conf.h src/fs/conf.c src/fs/spool.h src/fs/spool.c \
	src/fs/tree.h src/fs/tree.c src/fs/fsops.h src/fs/fs_int.h src/fs/fs_ctx.c \
	src/fs/fs_start.c src/fs/fs_producer.c src/fs/fs_hasher.c src/fs/fs_ops.c \
	src/fs/fs_status.c src/fs/fs_guard.c src/fs/throttle.h src/fs/throttle.c \
	src/fs/win/winx.h src/fs/win/winfsp.h src/fs/win/winfsp_mount.h \
	src/fs/win/plat_win.c src/fs/win/log_win.c src/fs/win/conf_win.c \
	src/fs/win/source_win.c src/fs/win/fuse_win.c src/fs/win/control_win.c \
	src/fs/win/service_win.c src/fs/win/main_win.c
esebackupfs_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/fs -I$(top_srcdir)/src/fs/win \
	-D__USE_MINGW_ANSI_STDIO=1
esebackupfs_LDADD = src/fs/win/esebackupfs_msg.o \
	src/bkclient/libbkclient_win.a src/bkformat/libbkformat_win.a \
	-lesent -lbcrypt -ladvapi32

# The event log message table (esebackupfs_msg.mc): windmc writes the .rc
# and its .bin, windres makes the object linked in as a resource.
src/fs/win/esebackupfs_msg.rc: $(top_srcdir)/src/fs/win/esebackupfs_msg.mc
	$(AM_V_GEN)$(MKDIR_P) src/fs/win && \
	$(WINDMC) -h src/fs/win -r src/fs/win $(top_srcdir)/src/fs/win/esebackupfs_msg.mc
src/fs/win/esebackupfs_msg.o: src/fs/win/esebackupfs_msg.rc
	$(AM_V_GEN)$(WINDRES) -I src/fs/win -O coff -o $@ src/fs/win/esebackupfs_msg.rc
CLEANFILES += src/fs/win/esebackupfs_msg.o src/fs/win/esebackupfs_msg.rc \
	src/fs/win/esebackupfs_msg.h src/fs/win/MSG00409.bin
