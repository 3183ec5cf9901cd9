# libjet: the POSIX Jet engine (static, not installed)
noinst_LIBRARIES += src/jet/libjet.a
src_jet_libjet_a_SOURCES = \
	src/jet/jet.h src/jet/jet_errors.def src/jet/jetlib.h src/jet/jet_int.h \
	src/jet/format.h src/jet/format.c \
	src/jet/rangelock.c \
	src/jet/os.h src/jet/os.c \
	src/jet/fileio.c \
	src/jet/log.c \
	src/jet/db.c \
	src/jet/session.c \
	src/jet/attach.c \
	src/jet/instance.c \
	src/jet/recovery.c \
	src/jet/backup.c \
	src/jet/restore.c \
	src/jet/errname.c \
	src/jet/endpoint.h src/jet/ep_proto.h src/jet/ep_proto.c \
	src/jet/ep_server.c src/jet/ep_client.c
LIBJET = src/jet/libjet.a
