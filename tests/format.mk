# tests for format (fragment): on-disk formats, range locks, error names
check_PROGRAMS += tests/test_format tests/test_rangelock tests/test_errname tests/errlist
TESTS += tests/test_format tests/test_rangelock tests/test_errname tests/errlist_esent.sh

tests_test_format_SOURCES = src/jet/tests/test_format.c
tests_test_format_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_format_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_format_LDADD = $(LIBJET) $(CHECK_LIBS)

tests_test_rangelock_SOURCES = src/jet/tests/test_rangelock.c
tests_test_rangelock_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_rangelock_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_rangelock_LDADD = $(LIBJET) $(CHECK_LIBS)

tests_test_errname_SOURCES = tests/test_errname.c
tests_test_errname_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_errname_LDADD = $(LIBJET) $(CHECK_LIBS)

tests_errlist_SOURCES = tests/errlist.c
tests_errlist_LDADD = $(LIBJET)
EXTRA_DIST += tests/errlist_esent.sh

# page checksums: corruption detection, old format, engine refusal
check_PROGRAMS += tests/test_cksum
TESTS += tests/test_cksum
tests_test_cksum_SOURCES = src/jet/tests/test_cksum.c tests/jet_testutil.h
tests_test_cksum_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_cksum_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_cksum_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
