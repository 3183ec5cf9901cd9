# wine_hold.sh -- keep a Wine session alive across commands started from
# the shell, sourced by the tests that run Windows programs under Wine
# (tests/win_lib.sh, tests/win_backends.sh) after jetutil_lib.sh.
#
# Wine ends a session when its last non-system process exits: it asks the
# session's system processes (services.exe, ...) to stop, then kills what
# is left and exits.  A command the shell starts while that happens -- the
# next one in a sequence, delayed by a loaded machine -- joins a session
# that is shutting down and can be killed without a word (seen in CI:
# `wine reg add` exited non-zero and printed nothing).  Between wine_hold
# and wine_release a process of ours keeps the session up, so every
# command in between joins a live one.
#
#   wine_hold      start the keeper (cmd waiting for its standard input to
#                  close) and return once it runs; starts the session if
#                  none is up
#   wine_release   close the keeper's input and wait for it to exit; the
#                  session then ends once the other processes have
#                  (wineserver -w waits for that)

HOLD_PID=

wine_hold() {
    [ -z "$HOLD_PID" ] || fail "wine_hold: already held"
    rm -f "$T/hold.fifo" "$T/hold.out"
    mkfifo "$T/hold.fifo" || fail "wine_hold: mkfifo $T/hold.fifo"
    # hold.out is opened before the FIFO, whose open waits for ours: it
    # exists once exec returns
    wine cmd /c "echo held& set /p x=" >"$T/hold.out" 2>&1 <"$T/hold.fifo" &
    HOLD_PID=$!
    bg_add "$HOLD_PID"
    exec 9>"$T/hold.fifo"
    # a hang guard, not a timing: the first session of a prefix creates it
    wait_line "$T/hold.out" '^held' "$HOLD_PID" 300 ||
        fail "wine_hold: the keeper did not start: $(cat "$T/hold.out")"
}

wine_release() {
    local rc=0
    [ -n "$HOLD_PID" ] || fail "wine_release: not held"
    exec 9>&-
    wait "$HOLD_PID" || rc=$?
    [ $rc = 0 ] || fail "wine_release: the keeper exited with status $rc: $(cat "$T/hold.out")"
    HOLD_PID=
}
