# Test fragments, one per subsystem.
include tests/jet.mk
include tests/endpoint.mk
include tests/jetutil.mk
include tests/fs.mk
