# Test fragments, one per subsystem (each owned by that subsystem).
include tests/format.mk
include tests/engine.mk
include tests/backup.mk
include tests/endpoint.mk
include tests/jetutil.mk
include tests/fs.mk
include tests/bk.mk
include tests/win.mk
