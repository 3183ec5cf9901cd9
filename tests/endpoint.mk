# tests for endpoint (fragment): wire codec, and the server/client over a
# live in-process instance.  tests/fuzz_endpoint.c is a libFuzzer target
# (see the comment at its top); make check builds it standalone and
# replays its seed set, so it keeps building.
check_PROGRAMS += tests/test_ep_proto
TESTS += tests/test_ep_proto

tests_test_ep_proto_SOURCES = tests/test_ep_proto.c
tests_test_ep_proto_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_ep_proto_CPPFLAGS = $(EP_PRIV_CPPFLAGS)
tests_test_ep_proto_LDADD = $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)

EXTRA_DIST += docs/endpoint-protocol.md
check_PROGRAMS += tests/fuzz_endpoint
TESTS += tests/fuzz_endpoint
tests_fuzz_endpoint_SOURCES = tests/fuzz_endpoint.c
tests_fuzz_endpoint_CPPFLAGS = $(EP_PRIV_CPPFLAGS) -DFUZZ_STANDALONE
tests_fuzz_endpoint_LDADD = $(LIBJETEP) $(LIBJET)

check_PROGRAMS += tests/test_endpoint
TESTS += tests/test_endpoint

tests_test_endpoint_SOURCES = tests/test_endpoint.c
tests_test_endpoint_CFLAGS = $(AM_CFLAGS) $(CHECK_CFLAGS)
tests_test_endpoint_CPPFLAGS = $(EP_PRIV_CPPFLAGS)
tests_test_endpoint_LDADD = $(LIBJETEP) $(LIBJET) $(CHECK_LIBS)
