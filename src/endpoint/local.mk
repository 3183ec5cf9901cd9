# libjetep: the backup endpoint (server and client over a Unix socket).
# Uses only the public headers; ep_proto.h is private to this directory
# (and its tests).  Link before $(LIBJET).
noinst_LIBRARIES += src/endpoint/libjetep.a
noinst_HEADERS += include/endpoint.h
src_endpoint_libjetep_a_SOURCES = \
	src/endpoint/ep_proto.h src/endpoint/ep_proto.c \
	src/endpoint/ep_server.c src/endpoint/ep_client.c
EP_PRIV_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/endpoint
src_endpoint_libjetep_a_CPPFLAGS = $(EP_PRIV_CPPFLAGS)
LIBJETEP = src/endpoint/libjetep.a
