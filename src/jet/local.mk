# libjet: the POSIX Jet engine (static, not installed).  Public headers are
# in include/; jet_int.h, format.h and os.h are private to this directory.
noinst_LIBRARIES += src/jet/libjet.a
noinst_HEADERS += include/jet.h include/jet_errors.def include/jetlib.h include/jetfmt.h
src_jet_libjet_a_SOURCES = \
	src/jet/jet_int.h \
	src/jet/format.h src/jet/format.c src/jet/cksum.c \
	src/jet/rangelock.c \
	src/jet/os.h src/jet/os.c \
	src/jet/fileio.c \
	src/jet/log_write.c src/jet/log_read.c src/jet/checkpoint.c \
	src/jet/db.c \
	src/jet/session.c \
	src/jet/attach.c \
	src/jet/instance.c \
	src/jet/recovery.c \
	src/jet/backup.c \
	src/jet/restore.c \
	src/jet/errname.c
# the engine's own directory: only libjet and the engine unit tests
JET_PRIV_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/jet
# the engine's white-box tests (src/jet/tests/, built as tests/test_*): the
# engine's private headers plus the shared test harness in tests/
JET_TEST_CPPFLAGS = $(JET_PRIV_CPPFLAGS) -I$(top_srcdir)/tests
src_jet_libjet_a_CPPFLAGS = $(JET_PRIV_CPPFLAGS)
LIBJET = src/jet/libjet.a
