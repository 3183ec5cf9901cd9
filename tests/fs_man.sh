#!/bin/sh
# fs_man.sh -- the esebackupfs man pages render without warnings.
S=${top_srcdir:-$(dirname "$0")/..}
command -v man >/dev/null || { echo "SKIP: no man"; exit 77; }
rc=0
for p in "$S/docs/esebackupfs.8" "$S/docs/esebackupfs.ini.5"; do
    out=$(LC_ALL=C.UTF-8 MANROFFSEQ='' MANWIDTH=80 man --warnings -E UTF-8 -l "$p" 2>&1 >/dev/null)
    if [ -n "$out" ]; then
        echo "FAIL: $p: $out"
        rc=1
    fi
    [ "$(man -l "$p" 2>/dev/null | wc -l)" -gt 20 ] || { echo "FAIL: $p renders empty"; rc=1; }
done
exit $rc
