# tests for format (fragment): on-disk formats, range locks, error names
check_PROGRAMS += tests/test_format tests/test_rangelock
TESTS += tests/test_format tests/test_rangelock

tests_test_format_SOURCES = tests/test_format.c
tests_test_format_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_format_LDADD = $(LIBJET) $(CHECK_LIBS)

tests_test_rangelock_SOURCES = tests/test_rangelock.c
tests_test_rangelock_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_rangelock_LDADD = $(LIBJET) $(CHECK_LIBS)

# page checksums: corruption detection, old format, engine refusal
check_PROGRAMS += tests/test_cksum
TESTS += tests/test_cksum
tests_test_cksum_SOURCES = tests/test_cksum.c tests/jet_testutil.h
tests_test_cksum_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_cksum_LDADD = $(LIBJET) $(CHECK_LIBS)
