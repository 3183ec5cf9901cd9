# libjet engine tests
check_PROGRAMS += tests/test_engine_crash tests/test_engine_backup
TESTS += tests/test_engine_crash tests/test_engine_backup
# one test file per engine module (issue 8): tests/test_jet_<module>.c
jet_module_tests = tests/test_jet_log tests/test_jet_db tests/test_jet_session \
	tests/test_jet_instance
check_PROGRAMS += $(jet_module_tests)
TESTS += $(jet_module_tests)
JET_MODULE_TEST_HDRS = tests/jet_fixture.h tests/jet_testutil.h tests/harness.h
tests_test_jet_log_SOURCES = src/jet/tests/test_jet_log.c $(JET_MODULE_TEST_HDRS)
tests_test_jet_log_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_jet_log_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_jet_log_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
tests_test_jet_db_SOURCES = tests/test_jet_db.c $(JET_MODULE_TEST_HDRS)
tests_test_jet_db_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_jet_db_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
tests_test_jet_session_SOURCES = tests/test_jet_session.c $(JET_MODULE_TEST_HDRS)
tests_test_jet_session_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_jet_session_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
tests_test_jet_instance_SOURCES = tests/test_jet_instance.c $(JET_MODULE_TEST_HDRS)
tests_test_jet_instance_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_jet_instance_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
tests_test_engine_crash_SOURCES = src/jet/tests/test_engine_crash.c tests/jet_testutil.h
tests_test_engine_crash_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_engine_crash_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_engine_crash_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
tests_test_engine_backup_SOURCES = tests/test_engine_backup.c tests/jet_testutil.h
tests_test_engine_backup_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_engine_backup_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
# power-loss simulation (src/jet/tests/jet_testvfs.c) and fault injection (src/jet/os.h)
check_PROGRAMS += tests/test_engine_powerloss
TESTS += tests/test_engine_powerloss
tests_test_engine_powerloss_SOURCES = src/jet/tests/test_engine_powerloss.c src/jet/tests/jet_testvfs.c \
	src/jet/tests/jet_testvfs.h tests/jet_testutil.h
tests_test_engine_powerloss_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_engine_powerloss_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_engine_powerloss_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
check_PROGRAMS += tests/test_engine_faults
TESTS += tests/test_engine_faults
tests_test_engine_faults_SOURCES = src/jet/tests/test_engine_faults.c src/jet/tests/jet_testvfs.c \
	src/jet/tests/jet_testvfs.h tests/jet_testutil.h
tests_test_engine_faults_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_engine_faults_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_engine_faults_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
# issue 7 items 1-2: an instance owns its files, missing logs are errors
check_PROGRAMS += tests/test_recovery
TESTS += tests/test_recovery
tests_test_recovery_SOURCES = src/jet/tests/test_recovery.c tests/jet_testutil.h
tests_test_recovery_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_recovery_CPPFLAGS = $(JET_TEST_CPPFLAGS)
tests_test_recovery_LDADD = $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
