#!/bin/sh
# fs_core_portable.sh -- the esebackupfs core (src/fs, not src/fs/posix)
# is platform-neutral, so that a Windows adapter replaces the adapter alone:
#   1. every #include of a core file (.c and .h) names an ISO C header,
#      config.h, a public header or one of the core's own headers -- no
#      POSIX-only header (pthread.h, unistd.h, fcntl.h, sys/*.h, fuse*.h,
#      syslog.h, dirent.h, poll.h, openssl/*, ...);
#   2. every core .c compiles for Windows: x86_64-w64-mingw32-gcc -std=c11
#      -fsyntax-only -Wall -Wextra -Werror with the core's include path
#      (__USE_MINGW_ANSI_STDIO=1: the C99 printf a Windows build uses).
# Exit 77 (SKIP) only when the MinGW compiler is not installed.
set -u
top_srcdir=${top_srcdir:-$(cd "$(dirname "$0")/.." && pwd)}
top_builddir=${top_builddir:-$top_srcdir/build}
CORE=$top_srcdir/src/fs
CC_W=${MINGW_CC:-x86_64-w64-mingw32-gcc}
# Public headers (include/, or src/jet before the move to include/).
PUBLIC="jet.h jet_errors.def jetlib.h endpoint.h bkclient.h bkformat.h"
ISO="assert.h complex.h ctype.h errno.h fenv.h float.h inttypes.h iso646.h limits.h
     locale.h math.h setjmp.h stdalign.h stdarg.h stdatomic.h stdbool.h stddef.h stdint.h
     stdio.h stdlib.h stdnoreturn.h string.h tgmath.h time.h uchar.h wchar.h wctype.h"
fail=0

inlist() { w=$1; shift; for x in $*; do [ "$x" = "$w" ] && return 0; done; return 1; }

files=
for f in "$CORE"/*.c "$CORE"/*.h; do
    [ -e "$f" ] || continue
    files="$files $f"
done
[ -n "$files" ] || { echo "fs_core_portable.sh: no core file in $CORE" >&2; exit 1; }

# 1. includes
bad=$(for f in $files; do
    grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r l; do
        line=${l%%:*}
        h=$(printf '%s\n' "$l" | sed -n 's/.*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p')
        case $l in
        *'<'*) inlist "$h" $ISO && continue ;;
        *) { [ "$h" = config.h ] || inlist "$h" $PUBLIC ||
             { [ "${h#*/}" = "$h" ] && [ -f "$CORE/$h" ]; }; } && continue ;;
        esac
        echo "${f#"$top_srcdir"/}:$line: core includes '$h' (not ISO C, public or its own)"
    done
done)
if [ -n "$bad" ]; then
    printf '%s\n' "$bad"
    fail=1
fi

# 2. compile for Windows
if ! command -v "$CC_W" >/dev/null 2>&1; then
    echo "fs_core_portable.sh: SKIP: $CC_W not installed (apt-get install gcc-mingw-w64-x86-64)"
    [ $fail = 0 ] && exit 77
    exit 1
fi
# the core's include path: config.h, its own directory, the public headers
# (include/; jet.h stays in src/jet until it moves there -- step 1 above
# already refused any private engine header by name)
INC="-I$top_builddir -I$CORE"
[ -d "$top_srcdir/include" ] && INC="$INC -I$top_srcdir/include"
[ -f "$top_srcdir/include/jet.h" ] || INC="$INC -I$top_srcdir/src/jet"
n=0
for f in $files; do
    case $f in *.c) ;; *) continue ;; esac
    n=$((n + 1))
    # shellcheck disable=SC2086
    if ! out=$("$CC_W" -std=c11 -D__USE_MINGW_ANSI_STDIO=1 -fsyntax-only -Wall -Wextra -Werror \
               $INC "$f" 2>&1); then
        printf '%s\n' "$out" | grep -m 5 'error' | sed "s|^$top_srcdir/||"
        echo "${f#"$top_srcdir"/}:1: does not compile for Windows ($CC_W)"
        fail=1
    fi
done
[ $fail = 0 ] && echo "fs_core_portable.sh: $n core files compile for Windows, no POSIX-only include"
exit $fail
