#!/bin/sh
# fs_tools.sh -- while `jetutil serve` runs 4 writer threads, copy a live
# esebackupfs mount with rsync -a, cp -a, tar c, tar --sparse, restic and
# borg (one mount = one backup each); every tool must exit 0 and every
# copy must restore with jetutil restore and pass jetutil verify with
# transfers >= the committed counter sampled at the backup's log roll.
# Then an incremental mount after a full one.
. "${top_srcdir:-$(dirname "$0")/..}/tests/fs_lib.sh"

I=$T/inst
EPS=$T/ep.sock
fs_instance "$I"
fs_serve "$I" "$EPS" 4

# one tool run: NAME POLICY COMMAND... (COMMAND copies $M into $C)
run_tool() {
    name=$1 policy=$2
    shift 2
    step "$name (spool policy $policy)"
    fs_ini "$T/$name.ini" "[source]" "endpoint = $EPS" "[spool]" "directory = $T" "policy = $policy"
    M=$T/mnt-$name C=$T/copy-$name
    fs_mount "$T/$name.ini" "$M"
    "$@" >"$T/$name.out" 2>&1 || { cat "$T/$name.out"; fail "$name exited $?"; }
    "$FS" status "$M" >"$T/$name.status" || { cat "$T/$name.status"; fail "$name: status not healthy"; }
    grep -q "umount now would: JetEndExternalBackupInstance2(Normal) without truncation" \
        "$T/$name.status" || { cat "$T/$name.status"; fail "$name: not every byte delivered"; }
    if [ "$policy" = stream ] && [ "$name" != rsync ] && [ "$name" != restic ]; then
        grep -q "^spool: 0 bytes written" "$T/$name.status" ||
            { cat "$T/$name.status"; fail "$name: in-order reader wrote to the spool"; }
    fi
    fs_umount "$M"
}

export RESTIC_PASSWORD=esebackupfs-test BORG_PASSPHRASE= BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK=yes
export BORG_BASE_DIR=$T/borg-base RESTIC_CACHE_DIR=$T/restic-cache

run_tool rsync keep sh -c 'rsync -a "$0"/ "$1"/' "$T/mnt-rsync" "$T/copy-rsync"
fs_check_copy "$T/copy-rsync" "$I" rsync

run_tool cp stream cp -a "$T/mnt-cp" "$T/copy-cp"
fs_check_copy "$T/copy-cp" "$I" "cp -a"

run_tool tar stream sh -c 'tar cf "$1" -C "$0" .' "$T/mnt-tar" "$T/tar.tar"
mkdir "$T/copy-tar" && tar xf "$T/tar.tar" -C "$T/copy-tar" || fail "tar x"
fs_check_copy "$T/copy-tar" "$I" "tar c"

run_tool tarsparse keep sh -c 'tar --sparse -cf "$1" -C "$0" .' "$T/mnt-tarsparse" "$T/tars.tar"
mkdir "$T/copy-tars" && tar xf "$T/tars.tar" -C "$T/copy-tars" || fail "tar x (sparse)"
fs_check_copy "$T/copy-tars" "$I" "tar --sparse"

restic init -q --repo "$T/restic" >/dev/null || fail "restic init"
run_tool restic keep restic backup -q --no-cache --repo "$T/restic" "$T/mnt-restic"
restic restore -q --no-cache --repo "$T/restic" latest --target "$T/restic-out" >/dev/null ||
    fail "restic restore"
fs_check_copy "$T/restic-out$T/mnt-restic" "$I" "restic backup"

borg init -e none "$T/borg" >/dev/null 2>&1 || fail "borg init"
run_tool borg stream sh -c 'cd "$0" && borg create "$1::a1" .' "$T/mnt-borg" "$T/borg"
mkdir "$T/borg-out" && (cd "$T/borg-out" && borg extract "$T/borg::a1") || fail "borg extract"
fs_check_copy "$T/borg-out" "$I" "borg create"

step "incremental after a full (truncate = complete)"
fs_ini "$T/full.ini" "[source]" "endpoint = $EPS" "[backup]" "truncate = complete" \
    "[spool]" "directory = $T"
fs_mount "$T/full.ini" "$T/mnt-full"
cp -a "$T/mnt-full" "$T/copy-full" || fail "cp of the full backup"
fs_umount "$T/mnt-full"
[ -n "$(fs_dump_field "$I/bank.edb" "full backup" | grep genLow)" ] || fail "no full backup recorded"
fs_ini "$T/inc.ini" "[source]" "endpoint = $EPS" "[backup]" "type = incremental" \
    "truncate = complete" "[spool]" "directory = $T" "policy = stream"
fs_mount "$T/inc.ini" "$T/mnt-inc"
[ ! -e "$T/mnt-inc/bank.edb" ] || fail "incremental exposes a database"
grep -q "^backup-type: incremental" "$T/mnt-inc/backup_label" || fail "incremental label"
rsync -a "$T/mnt-inc/" "$T/copy-inc/" || fail "rsync of the incremental"
fs_umount "$T/mnt-inc"
fs_dump_field "$I/bank.edb" "incremental backup" | grep -q genLow || fail "no incremental recorded"
# full copy + incremental logs = a restorable set (log range widened)
# (logs/manifest: the full's with the range widened and the incremental's
# log lines appended; the root manifest's digest of it updated)
cp "$T/copy-full/logs/manifest" "$T/full-logs.manifest" || fail "keep the full's logs/manifest"
cp -a "$T/copy-inc/logs/." "$T/copy-full/logs/" || fail "merge incremental logs"
lo=$(sed -n 's/^# log-generations \([0-9]*\)-.*/\1/p' "$T/full-logs.manifest")
hi=$(sed -n 's/^# log-generations [0-9]*-\([0-9]*\)$/\1/p' "$T/copy-inc/logs/manifest")
c=$(fs_committed "$T/copy-inc")
sed "s/^# log-generations .*/# log-generations $lo-$hi/; s/^# committed-at-roll .*/# committed-at-roll $c/" \
    "$T/full-logs.manifest" >"$T/copy-full/logs/manifest"
grep -v '^#' "$T/copy-inc/logs/manifest" >>"$T/copy-full/logs/manifest"
d=$(sha256sum <"$T/copy-full/logs/manifest" | cut -d' ' -f1)
sed -i "s|^[0-9a-f]\{64\}  logs/manifest\$|$d  logs/manifest|" "$T/copy-full/manifest"
fs_check_copy "$T/copy-full" "$I" "full + incremental"
fs_serve_stop
echo "PASS"
