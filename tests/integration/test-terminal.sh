#!/bin/bash
# Terminals: process.terminal with --console-socket (received by helpers/urun-recvtty), the
# refusals, and the foreground proxy of `urun run`, driven from a pty by tests/payload/ptydrive
# (raw mode and its restoration, typed input, window size and SIGWINCH, ^C, exit codes).
. "$(dirname "$0")/lib.sh"

B=$T/b
make_bundle "$B" /payload tty
cfg "$B" '.process.terminal = true | .process.consoleSize = {"height": 37, "width": 101}'

URUN_ARGS=(${URUN_ROOT:+--root "$URUN_ROOT"})

# clean_out FILE: the pty's output without carriage returns (ONLCR), into $T/clean.
clean_out() {
        tr -d '\r' <"$1" >"$T/clean"
}

# --- refusals: nothing is created --------------------------------------------------------------

new_id
expect_fail "create with process.terminal and no --console-socket fails" urun create --bundle "$B" "$ID"
like "$T/err" 'console-socket' "the error names --console-socket"
left_nothing "$ID" "$B" "create with a terminal and no console socket leaves nothing"

new_id
expect_fail "run --detach with process.terminal and no --console-socket fails" urun run -d --bundle "$B" "$ID"
left_nothing "$ID" "$B" "run -d with a terminal and no console socket leaves nothing"

new_id
expect_fail "--console-socket that does not exist fails" \
        urun create --bundle "$B" --console-socket "$T/nosuch.sock" "$ID"
like "$T/err" "console-socket '$T/nosuch.sock'" "the error names the socket path"
is "$RC" 1 "a bad --console-socket exits 1"
left_nothing "$ID" "$B" "a bad --console-socket leaves nothing"

: >"$T/plain-file"
new_id
expect_fail "--console-socket naming a plain file fails" \
        urun create --bundle "$B" --console-socket "$T/plain-file" "$ID"
left_nothing "$ID" "$B" "a --console-socket that is no socket leaves nothing"

BN=$T/bn
make_bundle "$BN"
new_id
expect_fail "--console-socket with process.terminal false fails" \
        urun create --bundle "$BN" --console-socket "$T/nosuch.sock" "$ID"
like "$T/err" 'requires process.terminal' "the error says process.terminal must be true"
left_nothing "$ID" "$BN" "--console-socket without a terminal leaves nothing"

# --- console socket ------------------------------------------------------------------------------

# start_recvtty NAME [ARGS...]: urun-recvtty listening on $T/NAME.sock, output in $T/NAME.out,
# input from $T/NAME.in if it exists; sets RPID and SOCK once the socket exists.
start_recvtty() {
        local name=$1 in=/dev/null
        shift
        SOCK=$T/$name.sock
        [ -e "$T/$name.in" ] && in=$T/$name.in
        "$RECVTTY" "$@" "$SOCK" >"$T/$name.out" 2>"$T/$name.err" <"$in" &
        RPID=$!
        _bg_pids+=("$RPID")
        wait_until 10 test -S "$SOCK"
}

if [ -z "$RECVTTY" ]; then
        for t in "create --console-socket" "terminal seen by the container" "run -d --console-socket"; do
                skip "$t" "urun-recvtty not found next to $URUN"
        done
else
        run "$RECVTTY" --help
        like "$T/out" '^usage: urun-recvtty' "urun-recvtty --help prints its usage"

        if start_recvtty c1 --no-stdin --pid-file "$T/c1.pid"; then
                new_id
                expect_rc 0 "create with --console-socket" urun create --bundle "$B" --console-socket "$SOCK" "$ID"
                expect_rc 0 "start of a container with a terminal" urun start "$ID"
                rc=0
                wait_bg "$RPID" || rc=$?
                is "$rc" 0 "urun-recvtty got the terminal and saw it close"
                clean_out "$T/c1.out"
                like "$T/clean" '^isatty 0=1 1=1 2=1$' "fds 0, 1 and 2 of the container process are the terminal"
                like "$T/clean" '^name /dev/pts/[0-9]+$' "/proc/self/fd/0 is /dev/pts/N (the container's devpts)"
                like "$T/clean" '^size 37x101$' "process.consoleSize is applied"
                like "$T/clean" '^console same$' "/dev/console is the same terminal"
                like "$T/clean" '^ctty yes$' "the terminal is the controlling terminal"
                like "$T/clean" '^foreground yes$' "the process is the terminal's foreground group"
                wait_status "$ID" stopped
                expect_rc 0 "delete after the terminal closed" urun delete "$ID"
                [ -e "$T/c1.pid" ] && [ ! -e "$SOCK" ]
                result $? "urun-recvtty wrote its pid file and removed its socket"
        else
                not_ok "urun-recvtty listens" "$T/c1.err"
        fi

        # run -d: output goes to the receiver, in null mode discarded
        set_args "$B" /payload exit 0
        if start_recvtty c2 --mode null; then
                new_id
                expect_rc 0 "run -d --console-socket returns at once" \
                        urun run -d --bundle "$B" --console-socket "$SOCK" "$ID"
                rc=0
                wait_bg "$RPID" || rc=$?
                is "$rc" 0 "urun-recvtty --mode null drains the terminal until it closes"
                wait_status "$ID" stopped
                expect_rc 0 "delete after run -d with a terminal" urun delete "$ID"
        else
                not_ok "urun-recvtty --mode null listens" "$T/c2.err"
        fi
        set_args "$B" /payload tty
        if start_recvtty c3 --no-stdin; then
                new_id
                expect_rc 0 "run -d --console-socket with output" \
                        urun run -d --bundle "$B" --console-socket "$SOCK" "$ID"
                wait_bg "$RPID"
                clean_out "$T/c3.out"
                like "$T/clean" '^isatty 0=1 1=1 2=1$' "run -d: the output arrives through the console socket"
                wait_status "$ID" stopped
                run urun delete "$ID"
        else
                not_ok "urun-recvtty listens" "$T/c3.err"
        fi

        # single mode copies its stdin to the terminal
        set_args "$B" /payload readline
        printf 'typed line\n' >"$T/c6.in"
        if start_recvtty c6; then
                new_id
                expect_rc 0 "run -d --console-socket of a program reading the terminal" \
                        urun run -d --bundle "$B" --console-socket "$SOCK" "$ID"
                wait_bg "$RPID"
                clean_out "$T/c6.out"
                like "$T/clean" '^got <typed line>$' "urun-recvtty copies its stdin to the terminal"
                wait_status "$ID" stopped
                run urun delete "$ID"
        else
                not_ok "urun-recvtty listens" "$T/c6.err"
        fi

        # a foreground run may hand its terminal to a receiver too: urun then only waits
        set_args "$B" /payload exit 3
        if start_recvtty c5 --no-stdin; then
                new_id
                expect_rc 3 "foreground run --console-socket exits with the container's code" \
                        urun run --bundle "$B" --console-socket "$SOCK" "$ID"
                rc=0
                wait_bg "$RPID" || rc=$?
                is "$rc" 0 "foreground run --console-socket: urun-recvtty got the terminal"
        else
                not_ok "urun-recvtty listens" "$T/c5.err"
        fi
        set_args "$B" /payload tty

        # the terminal is given to process.user (needs uid 1000 mapped: not in userns mode)
        if [ "$TEST_MODE" = userns ]; then
                skip "the terminal belongs to process.user.uid" "only the caller's own id is mapped in userns mode"
        elif start_recvtty c4 --no-stdin; then
                cfg "$B" '.process.user.uid = 1000 | .process.user.gid = 1000'
                new_id
                run urun run -d --bundle "$B" --console-socket "$SOCK" "$ID"
                wait_bg "$RPID"
                clean_out "$T/c4.out"
                like "$T/clean" '^owner uid=1000 ' "the terminal belongs to process.user.uid"
                wait_status "$ID" stopped
                run urun delete "$ID"
                cfg "$B" '.process.user.uid = 0 | .process.user.gid = 0'
        else
                not_ok "urun-recvtty listens" "$T/c4.err"
        fi
fi

# /dev/console is resolved without following a symlink: with the rootfs's own /dev (no tmpfs
# there), a link at /dev/console (here to a file the pty must not cover) is refused.
BL=$T/bl
make_bundle "$BL" /payload tty
cfg "$BL" '.process.terminal = true | .mounts |= map(select(.destination != "/dev"))'
mkdir -p "$BL/rootfs/dev/pts"
ln -s pts/ptmx "$BL/rootfs/dev/ptmx"
ln -s /etc/passwd "$BL/rootfs/dev/console"
new_id
expect_fail "a symlink at /dev/console is refused" urun run --bundle "$BL" "$ID"
like "$T/err" '/dev/console: Too many levels of symbolic links' "the error names /dev/console"
left_nothing "$ID" "$BL" "a refused /dev/console leaves nothing"
rm "$BL/rootfs/dev/console"
new_id
expect_rc 0 "without a /dev tmpfs a missing /dev/console is created" urun run --bundle "$BL" "$ID"
clean_out "$T/out"
like "$T/clean" '^console same$' "the created /dev/console is the terminal"

# --- foreground run: urun proxies its own terminal --------------------------------------------

# stdin not a terminal: the output still comes through the proxy
set_args "$B" /payload tty
new_id
expect_rc 0 "foreground run with a terminal and stdin from /dev/null" urun run --bundle "$B" "$ID"
clean_out "$T/out"
like "$T/clean" '^isatty 0=1 1=1 2=1$' "run: the container's output comes through urun's proxy"
like "$T/clean" '^size 37x101$' "run without a terminal of its own keeps process.consoleSize"
left_nothing "$ID" "$B" "foreground run with a terminal leaves nothing"

# ptyrun DESC WANT_RC STEPS... -- : ptydrive running `urun run` of $B; output in $T/clean.
ptyrun() {
        local desc=$1 want=$2
        shift 2
        new_id
        expect_rc "$want" "$desc" "$PTYDRIVE" --timeout 20 "$@" -- "$URUN" "${URUN_ARGS[@]}" run --bundle "$B" "$ID"
        clean_out "$T/out"
}

if [ -z "$PTYDRIVE" ]; then
        for t in "interactive input" "window size" "SIGWINCH" "^C" "exit code"; do
                skip "run on a terminal: $t" "ptydrive not found next to $PAYLOAD"
        done
else
        set_args "$B" /payload readline
        ptyrun "run on a terminal: typed input reaches the container" 0 \
                --size 30x90 --wait ready --check-raw --send 'hello world\r' --wait 'got <'
        like "$T/clean" '^got <hello world>$' "the line typed at urun's terminal is read in the container"
        like "$T/clean" '^ptydrive: raw=yes$' "urun's terminal is in raw mode while it proxies"
        like "$T/clean" '^ptydrive: termios restored$' "urun restores its terminal's mode after the run"
        left_nothing "$ID" "$B" "run on a terminal leaves nothing"

        set_args "$B" /payload tty
        ptyrun "run on a terminal: the container's view" 0 --size 30x90
        like "$T/clean" '^size 30x90$' "the window size of urun's terminal is copied to the container's"
        like "$T/clean" '^name /dev/pts/[0-9]+$' "the container's terminal is its own /dev/pts/N"
        like "$T/clean" '^console same$' "/dev/console is the container's terminal"

        set_args "$B" /payload winch
        ptyrun "run on a terminal: window size change" 0 \
                --size 30x90 --wait ready --resize 40x120 --wait 'size 40x120'
        like "$T/clean" '^got SIGWINCH$' "the container gets SIGWINCH when urun's terminal is resized"
        like "$T/clean" '^size 40x120$' "the container sees the new window size"

        set_args "$B" /payload fork-wait
        ptyrun "run on a terminal: ^C ends a sleeping container process (exit 130)" 130 \
                --wait ready --send '\x03'
        like "$T/clean" 'child killed by SIGINT$' "^C typed at urun's terminal is SIGINT in the container"
        like "$T/clean" '^ptydrive: termios restored$' "urun restores its terminal's mode after ^C"
        left_nothing "$ID" "$B" "run ended by ^C leaves nothing"

        set_args "$B" /payload exit 7
        ptyrun "run on a terminal: the exit code is propagated" 7
        like "$T/clean" '^ptydrive: termios restored$' "urun restores its terminal's mode after a failing run"

        # an error before the container runs: the mode is never changed, or restored
        set_args "$B" /nonexistent
        ptyrun "run on a terminal of a missing program fails (exit 1)" 1
        like "$T/clean" '^ptydrive: termios restored$' "urun leaves its terminal's mode as it was after an error"
fi

done_testing
