# tests for fs (esebackupfs): Check unit tests without mounting, and shell
# integration tests with real FUSE mounts.
FS_TEST_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS) $(FUSE_CFLAGS) $(INIH_CFLAGS) $(CRYPTO_CFLAGS) -I$(top_srcdir)/tests \
	-I$(top_srcdir)/src/fs -I$(top_srcdir)/src/fs/posix
FS_TEST_LDADD = $(LIBESEFS_ALL) $(LIBBKFORMAT) $(LIBBKCLIENT) $(LIBJETEP) $(LIBJET) $(CHECK_LIBS) $(INIH_LIBS) \
	$(CRYPTO_LIBS)

check_PROGRAMS += tests/test_fs_ops tests/test_fs_conf tests/test_fs_spool tests/fs_memfuse
# issue 11 part 6: [backup] max_duration and idle_timeout
check_PROGRAMS += tests/test_fs_guard
tests_test_fs_guard_SOURCES = tests/test_fs_guard.c tests/test_fs_fake.c tests/test_fs_fake.h
tests_test_fs_guard_CFLAGS = $(FS_TEST_CFLAGS)
tests_test_fs_guard_LDADD = $(FS_TEST_LDADD)
TESTS += tests/test_fs_guard tests/fs_guards.sh
EXTRA_DIST += tests/fs_guards.sh
tests_test_fs_ops_SOURCES = tests/test_fs_ops.c tests/test_fs_fake.c tests/test_fs_fake.h
tests_test_fs_ops_CFLAGS = $(FS_TEST_CFLAGS)
tests_test_fs_ops_LDADD = $(FS_TEST_LDADD)
tests_test_fs_conf_SOURCES = tests/test_fs_conf.c
tests_test_fs_conf_CFLAGS = $(FS_TEST_CFLAGS) -DFS_TOP_SRCDIR='"$(abs_top_srcdir)"'
tests_test_fs_conf_LDADD = $(FS_TEST_LDADD)
# issue 10 part 5: the max_rate pacing, with a fake clock
check_PROGRAMS += tests/test_fs_throttle
TESTS += tests/test_fs_throttle
tests_test_fs_throttle_SOURCES = tests/test_fs_throttle.c
tests_test_fs_throttle_CFLAGS = $(FS_TEST_CFLAGS)
tests_test_fs_throttle_LDADD = $(FS_TEST_LDADD)
tests_test_fs_spool_SOURCES = tests/test_fs_spool.c
tests_test_fs_spool_CFLAGS = $(FS_TEST_CFLAGS)
tests_test_fs_spool_LDADD = $(FS_TEST_LDADD)
# the FUSE ceiling for the benchmark: one in-memory file
tests_fs_memfuse_SOURCES = tests/fs_memfuse.c
tests_fs_memfuse_CFLAGS = $(AM_CFLAGS) $(FUSE_CFLAGS) -I$(top_srcdir)/src/fs/posix
tests_fs_memfuse_LDADD = $(FUSE_LIBS)

TESTS += tests/test_fs_ops tests/test_fs_conf tests/test_fs_spool
EXTRA_DIST += tests/fs_lib.sh
bench_scripts += tests/bench_fs.sh tests/bench_ratios.sh
EXTRA_DIST += tests/bench_ratios.sh

# integration tests with real mounts (root, /dev/fuse; skip otherwise)
TESTS += tests/fs_tools.sh tests/fs_truncate.sh tests/fs_failures.sh tests/fs_man.sh \
	tests/fs_inprocess.sh tests/fs_mount_helper.sh tests/fs_deliver.sh \
	tests/fs_control.sh tests/fs_commit_race.sh tests/fs_remount.sh
EXTRA_DIST += tests/fs_tools.sh tests/fs_truncate.sh tests/fs_failures.sh tests/fs_man.sh \
	tests/fs_inprocess.sh tests/fs_mount_helper.sh tests/fs_deliver.sh tests/bench_fs.sh \
	tests/fs_control.sh tests/fs_commit_race.sh tests/fs_remount.sh
# issue 7 item 10: a bad spool directory is refused before the backup begins
TESTS += tests/fs_badspool.sh tests/fs_core_portable.sh
EXTRA_DIST += tests/fs_badspool.sh tests/fs_core_portable.sh
# issue 10 part 5: max_rate and jetutil backup --max-rate are applied
TESTS += tests/fs_throttle.sh
EXTRA_DIST += tests/fs_throttle.sh
# issue 10: the hasher beside the producer, keep re-reads, rsync/restic order
TESTS += tests/fs_pipeline.sh
EXTRA_DIST += tests/fs_pipeline.sh
# the README's live demo, end to end
TESTS += tests/demo_live.sh
EXTRA_DIST += tests/demo_live.sh
# issue 11 part 3: `esebackupfs check`, the preflight that begins nothing
TESTS += tests/fs_check.sh
EXTRA_DIST += tests/fs_check.sh
# issue 11 parts 4-5: status --json / --watch, the [report] files
TESTS += tests/fs_status_json.sh
EXTRA_DIST += tests/fs_status_json.sh
