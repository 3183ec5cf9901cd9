# Test fragments, one per subsystem (each owned by that subsystem).
include tests/format.mk
include tests/engine.mk
include tests/backup.mk
include tests/endpoint.mk
include tests/jetutil.mk
include tests/fs.mk
include tests/bk.mk
# issue 8: the include boundaries of docs/architecture.md, enforced
TESTS += tests/layering.sh
EXTRA_DIST += tests/layering.sh tests/harness.h
include tests/win.mk
