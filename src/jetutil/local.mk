# jetutil: the admin tool (create, workload, verify, dump, serve, backup, restore)
bin_PROGRAMS += src/jetutil/jetutil
src_jetutil_jetutil_SOURCES = \
	src/jetutil/jetutil.h src/jetutil/backup.h \
	src/jetutil/main.c src/jetutil/opts.c src/jetutil/util.c \
	src/jetutil/bank.c src/jetutil/create.c src/jetutil/workload.c \
	src/jetutil/verify.c src/jetutil/dump.c src/jetutil/serve.c \
	src/jetutil/backup.c src/jetutil/restore.c \
	src/jetutil/bench.c
# -I src/fs: `backup --max-rate` paces with the driver's throttle.h (and
# parses RATE with conf.h's size parser)
src_jetutil_jetutil_CPPFLAGS = $(AM_CPPFLAGS) $(CRYPTO_CFLAGS) -I$(top_srcdir)/src/fs
src_jetutil_jetutil_LDADD = $(LIBESEFS_ALL) $(LIBBKFORMAT) $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CRYPTO_LIBS)
