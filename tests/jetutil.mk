# tests for jetutil (fragment): shell-level tests of the admin tool, the
# crash test, bad input, live backups over the endpoint, restore of
# esebackupfs copies (laid out without mounting); the engine benchmark.
jetutil_tests = \
	tests/jetutil_cli.sh \
	tests/jetutil_badinput.sh \
	tests/jetutil_crash.sh \
	tests/jetutil_backup.sh \
	tests/jetutil_restore_fs.sh \
	tests/jetutil_ownership.sh \
	tests/jetutil_writebehind.sh
TESTS += $(jetutil_tests)
EXTRA_DIST += $(jetutil_tests) tests/jetutil_lib.sh tests/bench_engine.sh \
	scripts/quickstart scripts/demo-engine.sh
dist_man_MANS += docs/jetutil.1
bench_scripts += tests/bench_engine.sh
