# tests for the backup-source layer (src/bkclient) and the backup-directory
# format (src/bkformat): Check unit tests, one file per module.
check_PROGRAMS += tests/test_bkclient tests/test_bkformat
tests_test_bkclient_SOURCES = tests/test_bkclient.c tests/jet_testutil.h
tests_test_bkclient_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_bkclient_LDADD = $(LIBBKCLIENT) $(LIBJET) $(CHECK_LIBS)
tests_test_bkformat_SOURCES = tests/test_bkformat.c
tests_test_bkformat_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(CRYPTO_CFLAGS)
tests_test_bkformat_LDADD = $(LIBBKFORMAT) $(CHECK_LIBS) $(CRYPTO_LIBS)
TESTS += tests/test_bkclient tests/test_bkformat
