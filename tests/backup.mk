# tests for backup (fragment): external backup API and JetExternalRestore
check_PROGRAMS += tests/test_backup tests/test_restore
TESTS += tests/test_backup tests/test_restore

tests_test_backup_SOURCES = src/jet/tests/test_backup.c
tests_test_backup_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_backup_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_backup_LDADD = $(LIBJET) $(CHECK_LIBS)

tests_test_restore_SOURCES = src/jet/tests/test_restore.c
tests_test_restore_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_restore_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_restore_LDADD = $(LIBJET) $(CHECK_LIBS)
