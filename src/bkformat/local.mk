# bkformat: the backup-directory format (include/bkformat.h): backup_label,
# manifest, logs/manifest, jetutil-backup.label; versioned.
noinst_LIBRARIES += src/bkformat/libbkformat.a
src_bkformat_libbkformat_a_SOURCES = \
	include/bkformat.h src/bkformat/bkf_int.h \
	src/bkformat/bkformat.c src/bkformat/bkf_read.c src/bkformat/bkf_julabel.c \
	src/bkformat/bkf_io.c src/bkformat/bkf_sha.c
src_bkformat_libbkformat_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/bkformat $(CRYPTO_CFLAGS)
LIBBKFORMAT = src/bkformat/libbkformat.a
