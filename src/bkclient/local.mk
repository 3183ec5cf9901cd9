# bkclient: the one backup-source layer (include/bkclient.h): the table
# helpers, libjet in-process, libjet endpoint, in-process hosting.
noinst_LIBRARIES += src/bkclient/libbkclient.a
src_bkclient_libbkclient_a_SOURCES = \
	include/bkclient.h \
	src/bkclient/bkclient.c src/bkclient/bk_jet.c src/bkclient/bk_ep.c \
	src/bkclient/host.c src/bkclient/bkc_errname.c src/bkclient/bk_jetcheck.c
src_bkclient_libbkclient_a_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/src/bkclient
LIBBKCLIENT = src/bkclient/libbkclient.a
