#!/bin/bash
# jetutil_restore_fs.sh -- `jetutil restore` of a copy of an esebackupfs
# mount, without mounting anything: a `jetutil backup` directory is laid out
# the way the mount shows it (backup_label, bank.edb at the top, logs/, a
# manifest in sha256sum format with '#' lines for the log generation range,
# the sizes and committed-at-roll; docs/fs-design.md) and restored.
#  - a full copy restores, passes `jetutil verify`, holds exactly the
#    instance's transfers; `--check` verifies it without restoring;
#  - full + incremental copies (one directory per mount) restore together;
#    the logs-merged layout tests/fs_tools.sh builds restores too;
#  - refused, with one line naming the file, exit 1, target untouched:
#    a flipped byte in the database or in a log, a truncated log, a log
#    missing from the copy, a log missing from copy and manifest, an
#    incremental copied over the full's directory, a malformed manifest;
#  - the jetutil layout still restores; --check of it names a missing log.
set -u
. "${top_srcdir:-.}/tests/jetutil_lib.sh"

I=$T/inst

# flip_byte FILE OFFSET: complement one byte in place.
flip_byte() {
    local b
    b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
    [ -n "$b" ] || fail "flip_byte: $1 has no byte at $2"
    # shellcheck disable=SC2059
    printf "$(printf '\\%03o' $((b ^ 255)))" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none ||
        fail "flip_byte $1 $2"
}

# fs_layout BKDIR COPY TYPE LO HI COMMITTED: lay out the jetutil backup
# BKDIR (logs LO..HI, decimal) as a copy of an esebackupfs mount in COPY.
fs_layout() {
    local b=$1 c=$2 type=$3 lo=$4 hi=$5 committed=$6 g n files
    mkdir -p "$c/logs" || fail "mkdir $c"
    {
        echo "# esebackupfs backup label (fixed for the life of the mount)"
        echo "start-time: 2026-01-01T00:00:00.000000000Z"
        echo "source: in-process $I"
        echo "backend: jet"
        echo "instance: test"
        echo "backup-type: $type"
        echo "page-size: $(label_value "$b" page_size)"
        echo "log-base-name: $(label_value "$b" base)"
        echo "truncate: never"
        [ "$type" = full ] && echo "database: $(label_value "$b" database)"
        [ "$type" = incremental ] && echo "log-generations: $lo-$hi"
    } >"$c/backup_label"
    files=""
    if [ "$type" = full ]; then
        cp "$b/bank.edb" "$c/bank.edb" || fail "copy bank.edb"
        files="bank.edb"
    fi
    for g in $(seq "$lo" "$hi"); do
        n=$(printf 'edb%05X.log' "$g")
        cp "$b/$n" "$c/logs/$n" || fail "no $n in $b"
        files="$files logs/$n"
    done
    (
        cd "$c" || exit 1
        {
            echo "# esebackupfs manifest (check a copy with: sha256sum -c manifest)"
            echo "# start-time 2026-01-01T00:00:00.000000000Z"
            echo "# backup-type $type"
            echo "# log-generations $lo-$hi"
            echo "# committed-at-roll $committed"
            # shellcheck disable=SC2086
            for f in $files; do echo "# size $f $(stat -c %s "$f")"; done
            # shellcheck disable=SC2086
            sha256sum $files
        } >manifest
    ) || fail "manifest of $c"
}

# refused NAME PATTERN RESTORE-ARGS...: the restore into a fresh empty
# target must exit 1 with exactly one line matching the glob *PATTERN*, and leave the
# target empty (and a target that did not exist absent).
refused() {
    local name=$1 needle=$2 rc=0 err
    shift 2
    rm -rf "$T/tgt" "$T/absent"
    mkdir "$T/tgt"
    err=$("$JETUTIL" restore "$@" "$T/tgt" 2>&1) || rc=$?
    [ $rc -eq 1 ] || fail "$name: exit $rc ($err)"
    [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] || fail "$name: not one line: $err"
    # shellcheck disable=SC2254
    case "$err" in *$needle*) ;; *) fail "$name: '$err' does not match '$needle'" ;; esac
    [ -z "$(ls -A "$T/tgt")" ] || fail "$name: the target was written"
    rc=0
    "$JETUTIL" restore "$@" "$T/absent" >/dev/null 2>&1 || rc=$?
    [ $rc -eq 1 ] && [ ! -e "$T/absent" ] || fail "$name: an absent target was created (exit $rc)"
    note "ok: $name -> $err"
}

# restored_ok NAME EXPECT RESTORE-ARGS...: restore into $T/r-NAME, verify,
# and the transfer count must equal EXPECT.
restored_ok() {
    local name=$1 want=$2 out n
    shift 2
    out=$("$JETUTIL" restore "$@" "$T/r-$name" 2>&1) || fail "$name: restore: $out"
    n=$(verify_dir "$T/r-$name")
    [ "$n" = "$want" ] || fail "$name: restored $n transfers, expected $want"
    note "ok: $name: $out; verify: $n transfers"
}

# --- a full and an incremental jetutil backup of a stopped instance ---
"$JETUTIL" create "$I" --accounts 500 --log-size 128 >/dev/null || fail "create"
"$JETUTIL" workload "$I" --threads 2 --seconds 1 >/dev/null || fail "workload 1"
"$JETUTIL" backup "$I" "$T/bk" --truncate >"$T/bk.out" 2>&1 || fail "full backup: $(cat "$T/bk.out")"
n_full=$(verify_dir "$I")
full_lo=$(label_value "$T/bk" genLow)
full_hi=$(label_value "$T/bk" genHigh)
fs_layout "$T/bk" "$T/full" full "$full_lo" "$full_hi" "$n_full"
(cd "$T/full" && sha256sum -c --quiet manifest) || fail "the laid-out copy fails sha256sum -c"

"$JETUTIL" workload "$I" --threads 2 --seconds 1 >/dev/null || fail "workload 2"
"$JETUTIL" backup "$I" "$T/bk" --incremental --truncate >"$T/inc.out" 2>&1 ||
    fail "incremental backup: $(cat "$T/inc.out")"
n_inc=$(verify_dir "$I")
range=$(sed -n 's/^backup incremental: .* log(s) 0x\([0-9A-F]*\)-0x\([0-9A-F]*\),.*/\1 \2/p' "$T/inc.out")
[ -n "$range" ] || fail "no log range in: $(cat "$T/inc.out")"
inc_lo=$((16#${range% *}))
inc_hi=$((16#${range#* }))
[ $((inc_hi - inc_lo)) -ge 3 ] || fail "incremental has too few logs ($inc_lo-$inc_hi)"
[ "$n_inc" -gt "$n_full" ] || fail "the second workload committed nothing"
fs_layout "$T/bk" "$T/inc" incremental "$inc_lo" "$inc_hi" "$n_inc"

# --- full copy: restore, verify, --check ---
restored_ok full "$n_full" "$T/full"
out=$("$JETUTIL" restore "$T/full" "$T/r-full2" 2>&1) || fail "restore: $out"
case "$out" in *"committed_at_roll $n_full"*"verified against the manifest"*) ;;
*) fail "restore output lacks committed/verified: $out" ;; esac
out=$("$JETUTIL" restore --check "$T/full" 2>&1) || fail "--check: $out"
case "$out" in "verified $T/full: "*) ;; *) fail "--check output: $out" ;; esac
note "ok: --check: $out"

# --- full + incremental, one directory per mount ---
restored_ok chain "$n_inc" "$T/full" "$T/inc"
"$JETUTIL" restore --check "$T/full" "$T/inc" >/dev/null || fail "--check of full + incremental"

# --- the logs-merged layout of tests/fs_tools.sh: the incremental's logs
#     copied into the full's logs/, range widened, checksums appended ---
cp -a "$T/full" "$T/merged"
cp -a "$T/inc/logs/." "$T/merged/logs/"
sed -i "s/^# log-generations .*/# log-generations $full_lo-$inc_hi/" "$T/merged/manifest"
grep -v '^#' "$T/inc/manifest" >>"$T/merged/manifest"
restored_ok merged "$n_inc" "$T/merged"

# --- refusals: nothing written, one line naming the file ---
cp -a "$T/full" "$T/bad-db"
flip_byte "$T/bad-db/bank.edb" 20000
refused "flipped byte in the database" "$T/bad-db/bank.edb: SHA-256 does not match" "$T/bad-db"

mid=$(printf 'edb%05X.log' $(((inc_lo + inc_hi) / 2)))
cp -a "$T/inc" "$T/bad-log"
flip_byte "$T/bad-log/logs/$mid" 70000
refused "flipped byte in a log" "$T/bad-log/logs/$mid: SHA-256 does not match" "$T/full" "$T/bad-log"

cp -a "$T/inc" "$T/short-log"
truncate -s -4096 "$T/short-log/logs/$mid"
refused "truncated log" "$T/short-log/logs/$mid: size" "$T/full" "$T/short-log"

cp -a "$T/inc" "$T/gone-log"
rm "$T/gone-log/logs/$mid"
refused "log missing from the copy" "$T/gone-log/logs/$mid: missing" "$T/full" "$T/gone-log"

cp -a "$T/inc" "$T/unlisted-log"
rm "$T/unlisted-log/logs/$mid"
sed -i "/logs\/$mid/d" "$T/unlisted-log/manifest"
refused "log missing from copy and manifest" "unlisted-log/logs/$mid: log generation*in no backup directory: JET_errMissingLogFile" \
    "$T/full" "$T/unlisted-log"
refused "incremental without its full" "an incremental backup has no database stream; give the full backup" "$T/inc"

cp -a "$T/full" "$T/over"
cp -a "$T/inc/." "$T/over/"
refused "incremental copied over the full" "copied over a full one (bank.edb is listed in no manifest*keep one directory per mount" "$T/over"

cp -a "$T/full" "$T/bad-manifest"
echo "not a checksum line" >>"$T/bad-manifest/manifest"
refused "malformed manifest" "$T/bad-manifest/manifest:" "$T/bad-manifest"

cp -a "$T/full" "$T/no-manifest"
rm "$T/no-manifest/manifest"
refused "no manifest" "$T/no-manifest/manifest: No such file" "$T/no-manifest"

# the copies used by the refusals are unchanged by them
(cd "$T/full" && sha256sum -c --quiet manifest) || fail "restore modified a copy"

# --- the jetutil layout still restores (incremental chain in one dir) ---
restored_ok jetutil-layout "$n_inc" "$T/bk"
out=$("$JETUTIL" restore --check "$T/bk" 2>&1) || fail "--check of a jetutil backup: $out"
case "$out" in *"has no manifest"*) ;; *) fail "--check of a jetutil backup: $out" ;; esac
cp -a "$T/bk" "$T/bk-gone"
rm "$T/bk-gone/$mid"
rc=0; out=$("$JETUTIL" restore --check "$T/bk-gone" 2>&1) || rc=$?
[ $rc -eq 1 ] && case "$out" in *"$mid: log generation"*) true ;; *) false ;; esac ||
    fail "--check of a jetutil backup without $mid: exit $rc: $out"
echo "ok"
