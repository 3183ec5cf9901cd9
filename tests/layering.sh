#!/bin/sh
# layering.sh -- the include boundaries docs/architecture.md draws
# ("Layout": directory -> role -> may include), checked on the source tree.
#
#  1. jet_int.h, format.h, os.h (the engine's private headers) are included
#     only under src/jet (the engine's white-box tests live in src/jet/tests).
#  2. ep_proto.h (the endpoint's wire codec) is included only under
#     src/endpoint and by the endpoint tests listed in EP_TESTS.
#  3. include/ holds only the public headers in PUBLIC, and none of them
#     includes a project header that is not public ("x.h"; <x.h> is a
#     system header).
#  4. No source includes a header by a directory path ("jet/x.h",
#     "src/...", "endpoint/x.h", "../x.h"): a directory reaches another's
#     private headers only through the include path its local.mk sets.
#  5. Makefile.am's AM_CPPFLAGS names include/ only; only src/jet/local.mk
#     puts src/jet on an include path (JET_PRIV_CPPFLAGS, JET_TEST_CPPFLAGS),
#     and a test built with JET_TEST_CPPFLAGS has its sources in src/jet/tests.
#  6. Every Check test (tests/test_*.c) gets its main from tests/harness.h
#     (TH_MAIN): none defines main itself.
#
# One line per violation (FILE:LINE: what), exit 1 if any.
set -u
: "${top_srcdir:?top_srcdir must be set (run through make check)}"
cd "$top_srcdir" || exit 1

EP_TESTS="tests/test_ep_proto.c tests/test_endpoint.c tests/fuzz_endpoint.c"
PUBLIC="jet.h jet_api.h jet_errors.def jetlib.h jetfmt.h endpoint.h bkclient.h bkformat.h"

bad=0
out=$(mktemp "${TMPDIR:-/tmp}/layering.XXXXXX") || exit 1
trap 'rm -f "$out"' EXIT
violation() { echo "$1" >&2; bad=1; }

# every C source and header of the tree (not the build directory)
files=$(find src include tests -name '*.[ch]' -o -name '*.def' | sort)

# in_list WORD LIST: is WORD one of LIST's words?
in_list() {
    for w in $2; do [ "$w" = "$1" ] && return 0; done
    return 1
}

# includes FILE: "LINE NAME" for every #include in FILE
includes() {
    awk '/^[ \t]*#[ \t]*include[ \t]*[<"]/ {
        s = $0; sub(/^[^<"]*[<"]/, "", s); sub(/[>"].*$/, "", s); print FNR, s }' "$1"
}

for f in $files; do
    includes "$f" | while read -r line name; do
        base=${name##*/}
        case $base in
        jet_int.h | format.h | os.h)
            case $f in
            src/jet/*) ;;
            *) echo "$f:$line: includes the engine's private $base" ;;
            esac ;;
        ep_proto.h)
            case $f in
            src/endpoint/*) ;;
            *) in_list "$f" "$EP_TESTS" ||
                   echo "$f:$line: includes the endpoint's private ep_proto.h" ;;
            esac ;;
        esac
        case $name in
        */*)
            # <sys/x.h>, <openssl/x.h>, <fuse3/x.h>: system headers are fine
            if sed -n "${line}p" "$f" | grep -q '"'; then
                echo "$f:$line: includes \"$name\" by a directory path"
            fi ;;
        esac
        case $f in
        include/*)
            # "x.h" must be public; <x.h> is a system header
            if sed -n "${line}p" "$f" | grep -q '"' && ! in_list "$name" "$PUBLIC"; then
                echo "$f:$line: public header includes non-public \"$name\""
            fi ;;
        esac
    done
done >"$out" 2>&1
if [ -s "$out" ]; then
    cat "$out" >&2
    bad=1
fi

# 3. include/ holds only the public headers
for f in include/*; do
    in_list "${f#include/}" "$PUBLIC" || violation "$f:1: not a public header (layering.sh PUBLIC)"
done

# 5. include paths
am=$(sed -n 's/^AM_CPPFLAGS[[:space:]]*=[[:space:]]*//p' Makefile.am)
[ "$am" = '-I$(top_srcdir)/include' ] ||
    violation "Makefile.am:1: AM_CPPFLAGS must be -I\$(top_srcdir)/include only, is: $am"
for mk in Makefile.am src/*/local.mk src/*/*/local.mk tests/*.mk; do
    [ -f "$mk" ] || continue
    grep -n 'src/jet\b' "$mk" | grep -n -e '-I' >/dev/null || continue
    case $mk in
    src/jet/local.mk) ;;
    *) violation "$mk: puts src/jet on an include path (only src/jet/local.mk may)" ;;
    esac
done
# the engine's private include path: libjet itself, and the engine's own
# tests whose every source file is under src/jet/tests
for mk in tests/*.mk src/*/local.mk src/*/*/local.mk; do
    [ -f "$mk" ] || continue
    grep -n 'JET_PRIV_CPPFLAGS\|JET_TEST_CPPFLAGS' "$mk" | while IFS=: read -r line text; do
        case $text in
        *'_CPPFLAGS ='*'$(AM_CPPFLAGS)'* | *'JET_TEST_CPPFLAGS = $(JET_PRIV_CPPFLAGS)'*) ;;
        src_jet_*) ;;
        tests_*_CPPFLAGS*JET_TEST_CPPFLAGS*)
            t=${text%%_CPPFLAGS*}
            srcs=$(awk -v v="${t}_SOURCES" '
                $1 == v && $2 == "=" { on = 1; $1 = ""; $2 = "" }
                on { line = $0; more = sub(/\\$/, "", line); print line; if (!more) on = 0 }' "$mk")
            for src in $srcs; do
                case $src in
                src/jet/tests/*.c | src/jet/tests/*.h | tests/*.h | '$(JET_MODULE_TEST_HDRS)') ;;
                *) echo "$mk:$line: $src is not an engine test source (src/jet/tests)" ;;
                esac
            done ;;
        *) echo "$mk:$line: only libjet and its tests in src/jet/tests may use the engine's private headers" ;;
        esac
    done
done >"$out" 2>&1
if [ -s "$out" ]; then
    cat "$out" >&2
    bad=1
fi

# 6. one main: the harness's
for f in tests/test_*.c; do
    n=$(grep -n '^[[:space:]]*int[[:space:]]\{1,\}main[[:space:]]*(' "$f" | head -1 | cut -d: -f1)
    [ -z "$n" ] || violation "$f:$n: defines main (use TH_MAIN from tests/harness.h)"
    grep -q '^TH_MAIN' "$f" || case $f in
        tests/test_fs_fake.c) ;; # a helper of test_fs_ops, not a program
        *) violation "$f:1: no TH_MAIN (tests/harness.h)" ;;
    esac
done

[ $bad = 0 ] && echo "# layering: $(echo "$files" | wc -l) files checked, no violation"
exit $bad
