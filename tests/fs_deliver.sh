#!/bin/sh
# fs_deliver.sh -- issue 7 items 5, 8, 9 on real mounts over `jetutil serve`:
#  - truncate = complete truncates only when every byte of every database,
#    log and both manifests was returned to a reader: a tool that stops
#    60 % into the last log (kernel read-ahead must not count) or one byte
#    before the end of the manifest leaves every log on the host;
#  - rsync -a -c under policy = stream (its second pass is refused): rsync
#    fails, status exits 1 naming the refused re-read, nothing truncated;
#  - window = 1M (the minimum the INI accepts): cp -a and dd bs=1M work;
#  - a re-read of a range partly read before never comes back short;
#  - ls -l of the root under stream with a small cap answers while the host
#    is stopped (nothing waits for the engine) and spools nothing.
# The host is quiet (no writer threads), so "nothing truncated" is exact;
# the last step shows that a complete copy does truncate.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
fs_instance "$I"
fs_serve "$I" "$EPS" 0

# archived log generations present in the instance, one a line
gens() { ls "$I" | grep '^edb.*\.log$' | LC_ALL=C sort; }

# mount NAME INI-LINES...: a mount with truncate = complete on the host
mnt() {
    name=$1
    shift
    fs_ini "$T/$name.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = complete" \
        "[spool]" "directory = $T" "$@"
    gens >"$T/$name.before"
    M=$T/mnt-$name
    fs_mount "$T/$name.ini" "$M"
}

# untouched NAME: after umount, no log is gone and no full backup recorded
untouched() {
    fs_umount "$M"
    gens >"$T/$1.after"
    gone=$(LC_ALL=C comm -23 "$T/$1.before" "$T/$1.after" | tr '\n' ' ')
    [ -z "$gone" ] || fail "$1: logs deleted: $gone"
    [ "$(fs_dump_field "$I/bank.edb" "full backup")" = "(none)" ] || fail "$1: recorded as full"
    echo "   $1: $(wc -l <"$T/$1.after") logs kept, no full backup recorded"
}

# the logs of the mount in production (= name) order
loglist() { ls "$M/logs" | grep -v '^manifest$'; }

step "a tool that stops 60 % into the last log (manifests read before): no truncation"
mnt lastlog
cat "$M/backup_label" "$M/bank.edb" >/dev/null || fail "lastlog: cat db"
last=$(loglist | tail -1)
[ -n "$last" ] || fail "lastlog: no log"
for l in $(loglist | sed '$d'); do cat "$M/logs/$l" >/dev/null || fail "lastlog: cat $l"; done
# both manifests first (they wait for the end), then 60 % of the last log
[ ! -e "$M/logs/manifest" ] || cat "$M/logs/manifest" >/dev/null || fail "lastlog: logs/manifest"
cat "$M/manifest" >/dev/null || fail "lastlog: manifest"
size=$(stat -c %s "$M/logs/$last")
head -c $((size * 6 / 10)) "$M/logs/$last" >/dev/null || fail "lastlog: head"
"$FS" status "$M" >"$T/lastlog.status" || fail "lastlog: status exit"
grep -q "^file logs/$last: delivered $((size * 6 / 10)) / $size" "$T/lastlog.status" ||
    { cat "$T/lastlog.status"; fail "lastlog: read-ahead counted as delivered"; }
untouched lastlog

step "every database and log byte, the manifest but its last byte: no truncation"
mnt noman
cat "$M/bank.edb" >/dev/null || fail "noman: cat db"
for l in $(loglist); do cat "$M/logs/$l" >/dev/null || fail "noman: cat $l"; done
[ ! -e "$M/logs/manifest" ] || cat "$M/logs/manifest" >/dev/null || fail "noman: logs/manifest"
msize=$(stat -c %s "$M/manifest")
head -c $((msize - 1)) "$M/manifest" >/dev/null || fail "noman: head manifest"
"$FS" status "$M" >"$T/noman.status" || fail "noman: status exit"
grep -q "would: JetEndExternalBackupInstance2(Abort)" "$T/noman.status" ||
    { cat "$T/noman.status"; fail "noman: would truncate"; }
untouched noman

step "rsync -a -c under policy = stream (direct_io = no in the INI): failed, nothing truncated"
mnt rsyncc "policy = stream" "[mount]" "direct_io = no"
if rsync -a -c "$M/" "$T/copy-rsyncc/" 2>"$T/rsyncc.err"; then
    fail "rsync -c of a stream mount succeeded"
fi
if "$FS" status "$M" >"$T/rsyncc.status"; then
    cat "$T/rsyncc.status"
    fail "rsyncc: status exit 0 after EIO returned to rsync"
fi
grep -q "^error: .*EIO returned to a reader" "$T/rsyncc.status" ||
    { cat "$T/rsyncc.status"; fail "rsyncc: status does not name the failure"; }
echo "   $(grep '^error:' "$T/rsyncc.status")"
untouched rsyncc

step "a re-read of a range partly read before: EIO for the whole request, never short"
mnt reread "policy = stream"
cat "$M/bank.edb" >/dev/null || fail "reread: cat db"
for l in $(loglist); do cat "$M/logs/$l" >/dev/null || fail "reread: cat $l"; done
# (with a page cache: drop bytes 8192-16383 from it, so that a 16 KiB
# read would be half cache, half driver)
dd if="$M/bank.edb" of=/dev/null bs=8192 skip=1 count=1 iflag=nocache 2>/dev/null
if dd if="$M/bank.edb" of="$T/reread.out" bs=16384 count=1 2>"$T/reread.err"; then
    [ "$(stat -c %s "$T/reread.out")" = 16384 ] || fail "reread: short read accepted"
else
    grep -q "Input/output error" "$T/reread.err" || { cat "$T/reread.err"; fail "reread: not EIO"; }
fi
grep -q "^0+1 records in" "$T/reread.err" && { cat "$T/reread.err"; fail "reread: short read"; }
"$FS" status "$M" >"$T/reread.status" && fail "reread: status exit 0 after a refused re-read"
grep -q "^error: .*re-read of bytes" "$T/reread.status" ||
    { cat "$T/reread.status"; fail "reread: status does not name the refused re-read"; }
untouched reread

step "window = 1M (the minimum): cp -a and dd bs=1M, every read whole"
mnt window "policy = stream" "window = 1M"
dd if="$M/bank.edb" of="$T/dd.edb" bs=1M 2>"$T/dd.err" || { cat "$T/dd.err"; fail "dd bs=1M"; }
dbsize=$(stat -c %s "$M/bank.edb")
part=$([ $((dbsize % 1048576)) = 0 ] && echo 0 || echo 1)
grep -q "^$((dbsize / 1048576))+$part records in" "$T/dd.err" ||
    { cat "$T/dd.err"; fail "dd bs=1M: a short read"; }
want=$(grep '  bank.edb$' "$M/manifest" | cut -d' ' -f1)
[ "$(sha256sum <"$T/dd.edb" | cut -d' ' -f1)" = "$want" ] || fail "dd bs=1M: wrong bytes"
fs_umount "$M"
mnt window2 "policy = stream" "window = 1M"
cp -a "$M" "$T/copy-window" || fail "cp -a with window = 1M"
"$FS" status "$M" >"$T/window.status" || { cat "$T/window.status"; fail "window: status"; }
grep -q "^spool: 0 bytes" "$T/window.status" || { cat "$T/window.status"; fail "window: spooled"; }
fs_umount "$M"
(cd "$T/copy-window" && sha256sum -c --quiet manifest logs/manifest 2>/dev/null) ||
    fail "window: the copy fails sha256sum -c"
[ -n "$(fs_dump_field "$I/bank.edb" "full backup" | grep genLow)" ] || fail "window: not recorded"
gens >"$T/after-window"
LC_ALL=C comm -23 "$T/window2.before" "$T/after-window" | grep -q . ||
    fail "complete copy: nothing truncated (the test could not see a truncation)"
echo "   a complete copy truncated $(LC_ALL=C comm -23 "$T/window2.before" "$T/after-window" | wc -l) logs"

step "ls -l of the root with the host stopped (stream, cap = 1M): answers, pulls nothing"
mnt look "policy = stream" "cap = 1M"
kill -STOP "$SERVE_PID"
if ! timeout 60 ls -l "$M" >"$T/look.ls" 2>&1; then
    kill -CONT "$SERVE_PID"
    cat "$T/look.ls"
    fail "ls -l of the root waited for the stopped host"
fi
timeout 60 stat "$M/manifest" "$M/bank.edb" "$M/backup_label" >/dev/null ||
    { kill -CONT "$SERVE_PID"; fail "stat of the root entries waited"; }
"$FS" status "$M" >"$T/look.status" || { kill -CONT "$SERVE_PID"; cat "$T/look.status"; fail "look: status"; }
kill -CONT "$SERVE_PID"
grep -q "^spool: 0 bytes" "$T/look.status" || { cat "$T/look.status"; fail "look: spooled"; }
grep -q "^waiting requests: 0" "$T/look.status" || { cat "$T/look.status"; fail "look: waiting"; }
msize=$(awk '$NF == "manifest" { print $5 }' "$T/look.ls")
tar -cf "$T/look.tar" -C "$M" . 2>"$T/look.tar.err" || { cat "$T/look.tar.err"; fail "look: tar"; }
grep -q "shrank\|padding" "$T/look.tar.err" && { cat "$T/look.tar.err"; fail "look: tar padded"; }
mkdir "$T/copy-look" && tar -xf "$T/look.tar" -C "$T/copy-look" || fail "look: untar"
[ "$(stat -c %s "$T/copy-look/manifest")" = "$msize" ] || fail "look: manifest size changed"
"$FS" status "$M" >"$T/look2.status" || { cat "$T/look2.status"; fail "look: status after tar"; }
fs_umount "$M"
fs_check_copy "$T/copy-look" "$I" "tar after ls -l"
# a copy without logs/manifest (the root manifest lists it) is refused
rm "$T/copy-look/logs/manifest"
if "$JU" restore --check "$T/copy-look" >"$T/nolm.out" 2>&1; then fail "restore without logs/manifest"; fi
grep -q "logs/manifest: No such file" "$T/nolm.out" || { cat "$T/nolm.out"; fail "nolm: message"; }
echo "   without logs/manifest: $(head -1 "$T/nolm.out")"
fs_serve_stop
echo "PASS"
