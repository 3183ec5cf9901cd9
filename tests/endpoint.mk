# tests for endpoint (fragment): wire codec, and the server/client over a
# live in-process instance.  tests/fuzz_endpoint.c is an optional libFuzzer
# target (not built here; see the comment at its top).
check_PROGRAMS += tests/test_ep_proto
TESTS += tests/test_ep_proto

tests_test_ep_proto_SOURCES = tests/test_ep_proto.c
tests_test_ep_proto_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_ep_proto_CPPFLAGS = $(EP_PRIV_CPPFLAGS)
tests_test_ep_proto_LDADD = $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)

EXTRA_DIST += tests/fuzz_endpoint.c docs/endpoint-protocol.md

check_PROGRAMS += tests/test_endpoint
TESTS += tests/test_endpoint

tests_test_endpoint_SOURCES = tests/test_endpoint.c
tests_test_endpoint_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_endpoint_CPPFLAGS = $(EP_PRIV_CPPFLAGS)
tests_test_endpoint_LDADD = $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
