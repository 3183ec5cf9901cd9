#!/bin/sh
# bench_ratios.sh -- issue 10's ratios in one run (make bench; not part of
# make check): every ratio printed next to its goal, medians of
# BENCH_PAIRS (default 3, at least 3 for the issue) interleaved pairs, a
# warm source, a fresh mount per run.
#
#   mount cat of bank.edb / limit, for stream and keep, where limit =
#     min(FUSE ceiling: cat of tests/fs_memfuse of the same size, one-core
#     `openssl speed -evp sha256 -bytes 1048576`);
#   tar c | tar x, rsync -a, cp -a of the mount / the same on a plain copy;
#   live writers' tx/s (jetutil serve --threads 4) during mount + tar to a
#     directory (policy = stream) / without a backup, and the same with
#     [backup] max_rate = half that run's rate;
#   writers' tx/s during `jetutil backup --endpoint` with --max-rate = half
#     the unthrottled backup's rate / without; that backup's rate / max_rate;
#   as references, the writers' tx/s while the same two backups (mount + tar,
#     jetutil backup at the same max_rate) copy a second instance -- a copy
#     of the first, hosted by an idle `jetutil serve` -- to the same disk:
#     what the machine's shared disk and cores cost the writers, so that
#     own / other is what backing up their own engine costs them on top;
#   driver CPU seconds per GiB pulled, spool bytes, peak RSS (VmHWM);
#   the spool re-read path: fs_memfuse over a file, splice / pread + reply.
#
# BENCH_ACCOUNTS sets the size (default 34000000 accounts: a database above
# 2 GiB; e.g. 2000000 for a quick run); BENCH_DIR the work directory (a
# disk, not tmpfs).  Cleans up (mounts, processes, files) on any exit.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

ACC=${BENCH_ACCOUNTS:-34000000}
PAIRS=${BENCH_PAIRS:-3}
BT=${BENCH_DIR:-$T}
I=$BT/bench-inst
I2=$BT/bench-other
EPS=$T/ep.sock
EPS2=$T/ep-other.sock
R=$T/results # lines "KEY VALUE", one per measurement
: >"$R"
[ "$BT" != "$T" ] && trap 'fs_cleanup; rm -rf "$I" "$I2" "$BT/bench-plain" "$BT/bench-out"' EXIT

now() { date +%s.%N; }
# put KEY VALUE: record one measurement
put() { echo "$1 $2" >>"$R"; }
# median KEY: median of the values recorded under KEY
median() {
    awk -v k="$1" '$1 == k { print $2 }' "$R" | sort -g |
        awk '{ v[NR] = $1 } END { if (NR == 0) print "nan"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (b + 0 == 0 || a == "nan" || b == "nan") print "nan"; else printf "%.2f", a / b }'; }
# serve THREADS [DIR SOCKET OUT]: host an instance (default: the bench's,
# its output line-buffered in serve.out for the counter); sets SERVE_PID
serve() {
    stdbuf -oL "$JU" serve "${2:-$I}" --endpoint "${3:-$EPS}" --threads "$1" \
        >"$T/${4:-serve.out}" 2>&1 &
    SERVE_PID=$!
    FS_PIDS="$FS_PIDS $SERVE_PID"
    until [ -S "${3:-$EPS}" ]; do
        fs_alive "$SERVE_PID" || { cat "$T/${4:-serve.out}"; fail "jetutil serve died"; }
        sleep 0.05
    done
}
committed() { sed -n 's/^committed \([0-9]*\)$/\1/p' "$T/serve.out" | tail -1; }
cpu_of() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.3f", ($14 + $15) / hz }' "/proc/$1/stat"; }

step "instance: $ACC accounts"
rm -rf "$I"
FS_ACCOUNTS=$ACC fs_instance "$I"
DB=$(stat -c %s "$I/bank.edb")
echo "   bank.edb: $DB bytes"

# ---- the limit --------------------------------------------------------
SHA=$(taskset -c 0 openssl speed -evp sha256 -bytes 1048576 -seconds 2 2>/dev/null |
    awk '$1 == "sha256" || $1 == "SHA256" { v = $NF; sub(/k$/, "", v); print v * 1000 }' | tail -1)
[ -n "$SHA" ] || fail "openssl speed gave no sha256 rate"
mkdir -p "$T/memmnt"
ceiling() {
    "$B/tests/fs_memfuse" "$DB" "$T/memmnt" || fail "fs_memfuse"
    FS_MOUNTS="$FS_MOUNTS $T/memmnt"
    t0=$(now)
    cat "$T/memmnt/data" >/dev/null || fail "cat of fs_memfuse"
    t1=$(now)
    umount "$T/memmnt"
    put ceiling "$(awk -v b="$DB" -v s="$t0" -v e="$t1" 'BEGIN { print b / (e - s) }')"
}

# ---- one mount run -----------------------------------------------------
# mrun POLICY READER: fresh mount, READER (cat | tar | rsync | cp), records
# POLICY.READER rate (bytes/s of the tree read), spool bytes, RSS, CPU/GiB
mrun() {
    fs_ini "$T/$1.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $BT" "policy = $1"
    fs_mount "$T/$1.ini" "$T/mnt"
    rm -rf "$T/dst"
    mkdir -p "$T/dst"
    t0=$(now)
    reader "$2" "$T/mnt" || fail "$2 of the mount ($1)"
    t1=$(now)
    bytes=$(if [ "$2" = cat ]; then echo "$DB"; else du -sb --apparent-size "$T/mnt" | cut -f1; fi)
    "$FS" status "$T/mnt" >"$T/status"
    pulled=$(awk '/^file / { sub(/,/, "", $NF); p += $NF } END { print p + 0 }' "$T/status")
    put "$1.$2" "$(awk -v b="$bytes" -v s="$t0" -v e="$t1" 'BEGIN { print b / (e - s) }')"
    put "$1.$2.spool" "$(sed -n 's/^spool: \([0-9]*\) bytes.*/\1/p' "$T/status")"
    put "$1.$2.rss" "$(awk '/^VmHWM:/ { print $2 }' "/proc/$DRIVER_PID/status")"
    put "$1.$2.cpu" "$(awk -v c="$(cpu_of "$DRIVER_PID")" -v p="$pulled" \
        'BEGIN { if (p > 0) printf "%.3f", c / (p / 1073741824); else print "nan" }')"
    fs_umount "$T/mnt"
}
# reader NAME DIR: one tool reading DIR (into $T/dst)
reader() {
    case $1 in
    cat) cat "$2/bank.edb" >/dev/null ;;
    tar) tar cf - -C "$2" . | tar xf - -C "$T/dst" ;;
    rsync) rsync -a "$2"/ "$T/dst"/ ;;
    cp) cp -a "$2"/. "$T/dst"/ ;;
    esac
}
# prun READER: the same reader on the plain copy
prun() {
    rm -rf "$T/dst"
    mkdir -p "$T/dst"
    t0=$(now)
    reader "$1" "$BT/bench-plain" || fail "$1 of the plain copy"
    t1=$(now)
    put "plain.$1" "$(awk -v b="$PLAIN" -v s="$t0" -v e="$t1" 'BEGIN { print b / (e - s) }')"
}

step "readers: $PAIRS interleaved pairs (quiet host)"
serve 0
fs_ini "$T/copy.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $BT"
fs_mount "$T/copy.ini" "$T/mnt"
rm -rf "$BT/bench-plain"
cp -a "$T/mnt" "$BT/bench-plain" || fail "plain copy"
fs_umount "$T/mnt"
PLAIN=$(du -sb --apparent-size "$BT/bench-plain" | cut -f1)
for p in $(seq "$PAIRS"); do
    echo "   pair $p"
    mrun stream cat
    ceiling
    mrun keep cat
    for r in tar rsync cp; do
        [ "$r" != rsync ] && mrun stream "$r"
        prun "$r"
        mrun keep "$r"
    done
done
fs_serve_stop

# ---- spool re-reads: pread + reply vs an fd-backed reply (splice) ---------
# fs_memfuse serving the plain copy of bank.edb from its file (warm), as the
# driver serves re-reads from the spool: cat (128 KiB requests) and dd
# bs=1M, each way, interleaved
step "spool re-read path: pread + reply vs splice, $PAIRS pairs"
sfile() { # MODE READER: one cat/dd of the file through fs_memfuse
    FS_MEMFUSE_FILE="$BT/bench-plain/bank.edb" FS_MEMFUSE_SPLICE=$1 \
        "$B/tests/fs_memfuse" "$DB" "$T/memmnt" || fail "fs_memfuse over a file"
    FS_MOUNTS="$FS_MOUNTS $T/memmnt"
    t0=$(now)
    case $2 in
    cat) cat "$T/memmnt/data" >/dev/null ;;
    dd) dd if="$T/memmnt/data" of=/dev/null bs=1M status=none ;;
    esac || fail "$2 of fs_memfuse over a file"
    t1=$(now)
    umount "$T/memmnt"
    put "spool$1.$2" "$(awk -v b="$DB" -v s="$t0" -v e="$t1" 'BEGIN { print b / (e - s) }')"
}
cat "$BT/bench-plain/bank.edb" >/dev/null
for p in $(seq "$PAIRS"); do
    for r in cat dd; do
        sfile 0 "$r"
        sfile 1 "$r"
    done
done

# ---- writers -------------------------------------------------------------
# during CMD...: run CMD with the writers going; records the last run's
# tx/s in TXS and seconds in SECS
during() {
    c0=$(committed)
    t0=$(now)
    "$@"
    st=$?
    t1=$(now)
    c1=$(committed)
    TXS=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" 'BEGIN { print (b - a) / (e - s) }')
    SECS=$(awk -v s="$t0" -v e="$t1" 'BEGIN { print e - s }')
    return $st
}
# mount_tar [MAX_RATE [SOCKET]]: mount (policy = stream, as the issue's
# figure), tar c | tar x into a directory, umount
mount_tar() {
    fs_ini "$T/mt.ini" "[source]" "endpoint = ${2:-$EPS}" "[backup]" "max_rate = ${1:-0}" \
        "[spool]" "directory = $BT" "policy = stream"
    fs_mount "$T/mt.ini" "$T/mnt" && rm -rf "$T/dst" && mkdir -p "$T/dst" &&
        tar cf - -C "$T/mnt" . | tar xf - -C "$T/dst" && fs_umount "$T/mnt"
}
jbackup() { # SOCKET [--max-rate RATE]
    rm -rf "$BT/bench-out"
    sock=$1
    shift
    "$JU" backup --endpoint "$sock" "$BT/bench-out" "$@" >"$T/jb.out" 2>&1 ||
        { cat "$T/jb.out"; return 1; }
}
jbytes() { sed -n 's/.*, \([0-9]*\) bytes,.*/\1/p' "$T/jb.out"; }
idle() { sleep "$1"; }

step "writers: jetutil serve --threads 4, $PAIRS interleaved pairs"
rm -rf "$I2"
cp -a "$I" "$I2" || fail "copy of the instance for the reference"
serve 0 "$I2" "$EPS2" serve-other.out
serve 4
sleep 2
for p in $(seq "$PAIRS"); do
    echo "   pair $p"
    during mount_tar || fail "mount + tar with writers"
    put tx.tar "$TXS"
    mthalf=$(awk -v b="$DB" -v s="$SECS" 'BEGIN { printf "%.0f", b / s / 2 }')
    during idle "$SECS"
    put tx.idle "$TXS"
    # adjustable: the same with [backup] max_rate = half that run's rate
    during mount_tar "$mthalf" || fail "mount + tar at max_rate $mthalf with writers"
    put tx.tart "$TXS"
    # reference: the same copy of the other instance
    during mount_tar 0 "$EPS2" ||
        fail "mount + tar of the other instance with writers"
    put tx.tarref "$TXS"
    during jbackup "$EPS" || fail "jetutil backup with writers"
    put tx.jb "$TXS"
    rate=$(awk -v b="$(jbytes)" -v s="$SECS" 'BEGIN { printf "%.0f", b / s }')
    put jb.rate "$rate"
    half=$((rate / 2))
    during jbackup "$EPS" --max-rate "$half" || fail "jetutil backup --max-rate $half with writers"
    put tx.jbt "$TXS"
    # the pull rate the throttle achieved (jetutil's summary), over max_rate
    put jbt.ratio "$(sed -n 's/.*, pulled at \([0-9]*\) bytes\/s$/\1/p' "$T/jb.out" |
        awk -v m="$half" '{ print $1 / m }')"
    # reference: the same throttled backup of the other instance
    during jbackup "$EPS2" --max-rate "$half" ||
        fail "jetutil backup of the other instance with writers"
    put tx.jbtref "$TXS"
    during idle "$SECS"
    put tx.idle2 "$TXS"
done
fs_serve_stop

# ---- the table -------------------------------------------------------------
CEIL=$(median ceiling)
LIMIT=$(awk -v a="$CEIL" -v b="$SHA" 'BEGIN { print (a < b) ? a : b }')
row() { printf '%-52s %8s   %s\n' "$1" "$2" "$3"; }
echo
echo "esebackupfs ratios: bank.edb $DB bytes, $PAIRS pairs, medians"
printf '   FUSE ceiling %.0f MB/s, one-core sha256 %.0f MB/s -> limit %.0f MB/s\n' \
    "$(div "$CEIL" 1000000)" "$(div "$SHA" 1000000)" "$(div "$LIMIT" 1000000)"
row "ratio" "value" "goal"
row "mount cat / limit, stream" "$(div "$(median stream.cat)" "$LIMIT")" ">= 0.90"
row "mount cat / limit, keep" "$(div "$(median keep.cat)" "$LIMIT")" ">= 0.75"
row "tar c | tar x of mount / plain copy, stream" "$(div "$(median stream.tar)" "$(median plain.tar)")" ">= 0.85"
row "tar c | tar x of mount / plain copy, keep" "$(div "$(median keep.tar)" "$(median plain.tar)")" ">= 0.85"
row "rsync -a of mount / plain copy, keep" "$(div "$(median keep.rsync)" "$(median plain.rsync)")" ">= 0.70"
row "cp -a of mount / plain copy, stream" "$(div "$(median stream.cp)" "$(median plain.cp)")" "(report)"
row "cp -a of mount / plain copy, keep" "$(div "$(median keep.cp)" "$(median plain.cp)")" "(report)"
row "spool re-read, splice / pread + reply, cat" "$(div "$(median spool1.cat)" "$(median spool0.cat)")" "(measure)"
row "spool re-read, splice / pread + reply, dd bs=1M" "$(div "$(median spool1.dd)" "$(median spool0.dd)")" "(measure)"
row "writers tx/s during mount + tar / without" "$(div "$(median tx.tar)" "$(median tx.idle)")" ">= 0.95"
row "writers tx/s, mount + tar at max_rate = half / without" "$(div "$(median tx.tart)" "$(median tx.idle)")" "(adjustable)"
row "writers tx/s during jetutil backup / without" "$(div "$(median tx.jb)" "$(median tx.idle)")" "(report)"
row "writers tx/s, backup at max_rate = half / without" "$(div "$(median tx.jbt)" "$(median tx.idle2)")" ">= 0.90"
row "  reference: mount + tar of another instance / without" "$(div "$(median tx.tarref)" "$(median tx.idle)")" "(report)"
row "  reference: backup of another instance at half / without" "$(div "$(median tx.jbtref)" "$(median tx.idle2)")" "(report)"
row "throttled backup rate / max_rate" "$(div "$(median jbt.ratio)" 1)" "1 +- 0.05"
printf '   unthrottled jetutil backup --endpoint: %.0f MB/s\n' "$(div "$(median jb.rate)" 1000000)"
echo
printf '%-22s %10s\n' "run (median)" "MB/s"
for k in ceiling stream.cat keep.cat stream.tar keep.tar plain.tar keep.rsync plain.rsync \
    stream.cp keep.cp plain.cp; do
    printf '%-22s %10s\n' "$k" "$(div "$(median "$k")" 1000000)"
done
echo
printf '%-22s %12s %14s %12s\n' "driver run" "CPU s/GiB" "spool bytes" "peak RSS kB"
for k in stream.cat keep.cat stream.tar keep.tar keep.rsync stream.cp keep.cp; do
    printf '%-22s %12s %14s %12s\n' "$k" "$(median "$k.cpu")" "$(median "$k.spool")" \
        "$(median "$k.rss")"
done
echo "   goals: peak RSS <= 65536 kB under every policy; stream spools 0 bytes for tar and cp"
exit 0
