#!/bin/bash
# errlist_esent.sh -- libjet's error list (jet_errors.def, printed by
# tests/errlist) agrees with ESE's values: every name that mingw-w64's
# esent.h defines has the same value there.  Names esent.h lacks are
# listed (they come from ../shared/ese-backup-spec.md or newer ESE).
# Skips (exit 77) only when esent.h is not installed; .ci/run installs it
# (package mingw-w64-x86-64-dev).
set -euo pipefail
ESENT_H=${ESENT_H:-/usr/share/mingw-w64/include/esent.h}
if [ ! -r "$ESENT_H" ]; then
    echo "SKIP: $ESENT_H not found (apt-get install mingw-w64-x86-64-dev)"
    exit 77
fi
ours=$("$top_builddir/tests/errlist")
[ "$(printf '%s\n' "$ours" | wc -l)" -gt 100 ] || { echo "FAIL: errlist printed too little"; exit 1; }
# esent.h: "#define JET_errX -505" or "#define JET_errX (-505)"
theirs=$(sed -n -E 's/^#define[[:space:]]+(JET_(err|wrn)[A-Za-z0-9_]+)[[:space:]]+\(?(-?[0-9]+)\)?[[:space:]]*$/\1 \3/p' "$ESENT_H")
[ "$(printf '%s\n' "$theirs" | wc -l)" -gt 100 ] || { echo "FAIL: could not read $ESENT_H"; exit 1; }
declare -A esent
while read -r name value; do
    esent[$name]=$value
done <<<"$theirs"
bad=0 same=0 missing=""
while read -r name value; do
    theirval=${esent[$name]:-}
    if [ -z "$theirval" ]; then
        missing="$missing $name"
    elif [ "$theirval" != "$value" ]; then
        echo "FAIL: $name is $value in jet_errors.def, $theirval in esent.h"
        bad=$((bad + 1))
    else
        same=$((same + 1))
    fi
done <<<"$ours"
echo "agree with esent.h: $same; not in esent.h:${missing:- none}"
[ "$bad" -eq 0 ] && [ "$same" -gt 90 ]
