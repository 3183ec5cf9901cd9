# libjet engine core tests
check_PROGRAMS += tests/test_engine tests/test_engine_crash tests/test_engine_backup
TESTS += tests/test_engine tests/test_engine_crash tests/test_engine_backup
tests_test_engine_SOURCES = tests/test_engine.c tests/jet_testutil.h
tests_test_engine_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_engine_LDADD = $(LIBBKCLIENT) $(LIBJET) $(CHECK_LIBS)
tests_test_engine_crash_SOURCES = tests/test_engine_crash.c tests/jet_testutil.h
tests_test_engine_crash_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_engine_crash_LDADD = $(LIBBKCLIENT) $(LIBJET) $(CHECK_LIBS)
tests_test_engine_backup_SOURCES = tests/test_engine_backup.c tests/jet_testutil.h
tests_test_engine_backup_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_engine_backup_LDADD = $(LIBBKCLIENT) $(LIBJET) $(CHECK_LIBS)
# issue 7 items 1-2: an instance owns its files, missing logs are errors
check_PROGRAMS += tests/test_recovery
TESTS += tests/test_recovery
tests_test_recovery_SOURCES = tests/test_recovery.c tests/jet_testutil.h
tests_test_recovery_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_recovery_LDADD = $(LIBBKCLIENT) $(LIBJET) $(CHECK_LIBS)
