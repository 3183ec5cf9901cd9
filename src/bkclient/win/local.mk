# The mingw cross build (configure --host=x86_64-w64-mingw32): bkformat's
# text writers with the CNG digest, bkclient with the Windows backends,
# and the Windows backend test program (tests/win).  Included by
# Makefile.am only when HOST_WIN.
noinst_LIBRARIES += src/bkclient/libbkclient_win.a
src_bkclient_libbkclient_win_a_SOURCES = \
	include/bkclient.h include/jet_api.h src/bkclient/bkclient.c src/bkclient/bkc_errname.c \
	src/bkclient/win/winbk.h src/bkclient/win/winbk.c src/bkclient/win/bk_esent.c \
	src/bkclient/win/bk_dsbackup.c src/bkclient/win/bk_certsrv.c
src_bkclient_libbkclient_win_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/bkclient/win

noinst_LIBRARIES += src/bkformat/libbkformat_win.a
src_bkformat_libbkformat_win_a_SOURCES = \
	include/bkformat.h src/bkformat/bkformat.c src/bkformat/win/bkf_sha_cng.c
src_bkformat_libbkformat_win_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/bkformat

noinst_PROGRAMS += tests/win/win_backup
tests_win_win_backup_SOURCES = tests/win/win_backup.c tests/win/jet_api_check.c
tests_win_win_backup_LDADD = src/bkclient/libbkclient_win.a src/bkformat/libbkformat_win.a \
	-lesent -lbcrypt
