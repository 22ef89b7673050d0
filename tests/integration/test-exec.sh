#!/bin/bash
# `urun exec`: a new process in a running container sees the container's namespaces, root,
# hostname, seccomp filter and rlimits; every flag (--env, --cwd, --user, --additional-gids, --cap,
# --no-new-privs, --process, --detach/--pid-file, --preserve-fds, --tty) does what runc's does;
# exit codes come back like `run`'s; refusals are one line and leave nothing behind.
. "$(dirname "$0")/lib.sh"

# uex ARGS...: urun with the test's --root and stdin from /dev/null; the caller's other fds and
# redirections reach it (for --preserve-fds), unlike with `run`.
uex() {
        timeout -k 5 60 "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} "$@" </dev/null
}

B=$T/b
make_bundle "$B" /payload pause
echo "only in the rootfs" >"$B/rootfs/marker"
chmod 0644 "$B/rootfs/marker"
SECCOMP_ERRNO='{"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
cfg "$B" '.hostname = "exechost" | .root.readonly = false | .process.noNewPrivileges = false
          | .process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 512, "hard": 512}]
          | .process.env += ["FROMCONFIG=1"]
          | .linux.seccomp = ($s | fromjson)' --arg s "$SECCOMP_ERRNO"
# Ids other than 0 need a mapping for them (not in userns mode: only the caller's own id there).
MULTI_ID=$(jq -r '[.linux.uidMappings // [] | .[] | select(.containerID <= 1000 and .containerID + .size > 2000)] | length > 0' "$B/config.json")
[ "$TEST_MODE" = root ] && MULTI_ID=true

new_id
CID=$ID
expect_rc 0 "run -d of the container to exec into" urun run -d --bundle "$B" "$CID"
INIT_PID=$(urun state "$CID" | jq -r .pid)

# --- the container's namespaces, root and hostname ---
run urun exec "$CID" /bin/readlink /proc/self/ns/pid
is "$(cat "$T/out")" "$(readlink "/proc/$INIT_PID/ns/pid")" "exec joins the container's pid namespace"
run urun exec "$CID" /bin/sh -c 'echo $$'
if [ "$RC" = 0 ] && [ "$(cat "$T/out")" != "$INIT_PID" ] && [ "$(cat "$T/out")" -lt 1000 ]; then
        ok "the exec'd process has a pid of the container's namespace ($(cat "$T/out"))"
else
        not_ok "the exec'd process has a pid of the container's namespace" "$T/all"
fi
run urun exec "$CID" /bin/sh -c "tr '\\0' ' ' </proc/1/cmdline"
like "$T/out" '^/payload pause' "/proc/1 in the exec'd process is the container's init"
for ns in mnt uts ipc user; do
        run urun exec "$CID" /bin/readlink "/proc/self/ns/$ns"
        is "$(cat "$T/out")" "$(readlink "/proc/$INIT_PID/ns/$ns")" "exec joins the container's $ns namespace"
done
run urun exec "$CID" /bin/cat /marker
is "$(cat "$T/out")" "only in the rootfs" "exec sees the container's root (a file only in the rootfs)"
run urun exec "$CID" /payload hostname
is "$(cat "$T/out")" "exechost" "exec sees the container's hostname"

# its own session (no TIOCSTI into the caller's terminal): session id = its pid
run urun exec "$CID" /bin/sh -c 'read -r pid comm state ppid pgrp sid rest </proc/self/stat; echo "$pid $sid"'
read -r xpid xsid <"$T/out"
[ -n "$xpid" ] && [ "$xpid" = "$xsid" ]
result $? "the exec'd process leads a session of its own"

# --- exit codes and stdio ---
expect_rc 7 "exec of 'exit 7' exits 7" urun exec "$CID" /bin/sh -c 'exit 7'
expect_rc 137 "exec of a process killed by SIGKILL exits 137" urun exec "$CID" /bin/sh -c 'kill -KILL $$'
expect_rc 127 "exec of a missing program exits 127" urun exec "$CID" /no/such/program
like "$T/err" "^urun: exec '/no/such/program': No such file or directory" "  and says 'No such file or directory'"
expect_rc 127 "exec of a program not in the container's PATH exits 127" urun exec "$CID" no-such-program
like "$T/err" "executable file not found in \\\$PATH" "  and says 'executable file not found in \$PATH'"
expect_rc 126 "exec of a file that is not executable exits 126" urun exec "$CID" /marker
out=$(echo "through stdin" | timeout 60 "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} exec "$CID" /bin/cat 2>"$T/e")
is "$out" "through stdin" "stdin and stdout pass through (cat)"

# --- the process: config.json's, with the flags on top ---
run urun exec "$CID" /payload env
like "$T/out" '^FROMCONFIG=1$' "the environment is config.json's process.env"
run urun exec -e FOO=bar --env TERM=dumb --env=BAZ=a=b "$CID" /payload env
if grep -qx 'FOO=bar' "$T/out" && grep -qx 'BAZ=a=b' "$T/out" && [ "$(grep -c '^TERM=' "$T/out")" = 1 ] &&
        grep -qx 'TERM=dumb' "$T/out" && grep -qx 'FROMCONFIG=1' "$T/out"; then
        ok "--env adds variables and replaces config.json's of the same name"
else
        not_ok "--env adds variables and replaces config.json's of the same name" "$T/all"
fi
run urun exec --cwd /tmp "$CID" /payload cwd
is "$(cat "$T/out")" /tmp "--cwd sets the working directory"
run urun exec "$CID" /payload cwd
is "$(cat "$T/out")" / "without --cwd the working directory is config.json's"
run urun exec "$CID" /payload umask
is "$(cat "$T/out")" 0022 "the umask is runc's default 0022"
if [ "$MULTI_ID" = true ]; then
        run urun exec -u 1000:1000 "$CID" /payload id
        like "$T/out" '^uid=1000 gid=1000 groups=$' "--user 1000:1000 runs as uid 1000, gid 1000, no groups"
        run urun exec --user 1000 --additional-gids 2000 -g 2001,2002 "$CID" /payload id
        like "$T/out" '^uid=1000 gid=0 groups=2000,2001,2002$' "--user UID keeps the gid; --additional-gids sets the groups"
else
        skip "--user 1000:1000" "only the caller's own id is mapped in $TEST_MODE mode"
        skip "--additional-gids" "only the caller's own id is mapped in $TEST_MODE mode"
fi

# CAP_NET_RAW is bit 13 (0x2000); root's permitted and effective sets follow the bounding set.
capbit() {
        local v
        v=$(sed -n "s/^$1:[[:space:]]*//p" "$2")
        [ -n "$v" ] && echo $(((0x$v >> 13) & 1))
}
run urun exec "$CID" /payload caps
cp "$T/out" "$T/caps0"
is "$(capbit CapBnd "$T/caps0")" 0 "without --cap CAP_NET_RAW is not in the bounding set"
run urun exec --cap CAP_NET_RAW "$CID" /payload caps
if [ "$RC" = 0 ] && [ "$(capbit CapBnd "$T/out")" = 1 ] && [ "$(capbit CapEff "$T/out")" = 1 ] &&
        [ "$(capbit CapPrm "$T/out")" = 1 ] && grep -q '^CapInh:[[:space:]]*0*$' "$T/out" &&
        grep -q '^CapAmb:[[:space:]]*0*$' "$T/out"; then
        ok "--cap adds to bounding, effective and permitted, never to inheritable or ambient"
else
        not_ok "--cap adds to bounding, effective and permitted only" "$T/all"
fi
expect_fail "--cap with an unknown capability fails with one line" urun exec --cap CAP_BOGUS "$CID" /payload caps
like "$T/err" "CAP_BOGUS" "  the error names the capability"

run urun exec "$CID" /payload cat /proc/self/status
like "$T/out" '^NoNewPrivs:[[:space:]]+0$' "without --no-new-privs config.json's noNewPrivileges (false) applies"
run urun exec --no-new-privs "$CID" /payload cat /proc/self/status
like "$T/out" '^NoNewPrivs:[[:space:]]+1$' "--no-new-privs sets no_new_privs"

# --- confinement of config.json: seccomp, rlimits ---
expect_rc 1 "the container's seccomp filter applies to exec'd processes (mkdir refused)" \
        urun exec "$CID" /bin/mkdir /blocked
like "$T/err" 'Operation not permitted' "  with the filter's errno (EPERM)"
run urun exec --no-new-privs "$CID" /bin/mkdir /blocked
is "$RC" 1 "the seccomp filter applies with --no-new-privs too"
[ ! -e "$B/rootfs/blocked" ]
result $? "no directory appeared in the rootfs"
run urun exec "$CID" /payload rlimit NOFILE
is "$(cat "$T/out")" "512 512" "config.json's rlimits apply to exec'd processes"

# --- --process FILE ---
cat >"$T/proc.json" <<'EOF'
{"args": ["/payload", "env"], "cwd": "/tmp", "user": {"uid": 0, "gid": 0},
 "env": ["PATH=/bin", "FROMFILE=yes"], "terminal": false, "noNewPrivileges": true}
EOF
run urun exec --process "$T/proc.json" "$CID"
if [ "$RC" = 0 ] && grep -qx 'FROMFILE=yes' "$T/out" && ! grep -q FROMCONFIG "$T/out"; then
        ok "--process FILE is the process to run (its env, not config.json's)"
else
        not_ok "--process FILE is the process to run" "$T/all"
fi
run urun exec -p "$T/proc.json" "$CID" /payload cwd
is "$(cat "$T/out")" /tmp "--process with a command: the command replaces the file's args (cwd from the file)"
# containerd copies the container's oomScoreAdj into the exec process (raising it needs no privilege)
jq '.oomScoreAdj = 321 | .args = ["/bin/cat", "/proc/self/oom_score_adj"]' "$T/proc.json" >"$T/oom.json"
run urun exec --process "$T/oom.json" "$CID"
is "$(cat "$T/out")" 321 "process.oomScoreAdj of --process applies"
echo '{"args": "not-an-array", "cwd": "/", "user": {"uid": 0, "gid": 0}}' >"$T/bad.json"
before=$(procs_under "$B" | wc -l)
expect_fail "--process with a malformed file fails with one line" urun exec --process "$T/bad.json" "$CID"
like "$T/err" 'process\.args' "  the error names process.args"
expect_fail "--process with a missing file fails with one line" urun exec --process "$T/none.json" "$CID"
is "$(procs_under "$B" | wc -l)" "$before" "a refused exec leaves no process behind"

# --- --detach and --pid-file ---
rm -f "$T/pid"
expect_rc 0 "exec --detach --pid-file returns at once" \
        urun exec --detach --pid-file "$T/pid" "$CID" /payload sigwait TERM
XPID=$(cat "$T/pid" 2>/dev/null)
if [ -n "$XPID" ] && pid_alive "$XPID" &&
        [ "$(readlink "/proc/$XPID/ns/pid")" = "$(readlink "/proc/$INIT_PID/ns/pid")" ]; then
        ok "the pid file names a live process in the container ($XPID)"
        kill -TERM "$XPID"
        wait_until 20 pid_gone "$XPID"
        result $? "the detached process exits when signalled"
else
        not_ok "the pid file names a live process in the container" "$T/all"
        skip "the detached process exits when signalled" "no process"
fi
# containerd's shim: global --log/--log-format json, --process, --detach, --pid-file
rm -f "$T/pid"
expect_rc 0 "exec as containerd's shim calls it" urun --log "$T/log.json" --log-format json \
        exec --process "$T/proc.json" --detach --pid-file "$T/pid" "$CID"
[ -s "$T/pid" ]
result $? "  the pid file is written"
[ -n "$(cat "$T/pid" 2>/dev/null)" ] && wait_until 20 pid_gone "$(cat "$T/pid")"

# --- --preserve-fds ---
echo x >"$T/f"
uex exec --preserve-fds 1 "$CID" /payload fds 3<"$T/f" 4<"$T/f" >"$T/out" 2>"$T/err"
is "$(tr '\n' ' ' <"$T/out")" "0 1 2 3 " "--preserve-fds 1 passes fd 3 and no other"
uex exec "$CID" /payload fds 3<"$T/f" 4<"$T/f" >"$T/out" 2>"$T/err"
is "$(tr '\n' ' ' <"$T/out")" "0 1 2 " "without --preserve-fds only 0-2 reach the process"

# --- a foreground exec: signals are forwarded, the container stays usable meanwhile ---
"$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} exec "$CID" /payload sigwait USR1 >"$T/s.out" 2>"$T/s.err" </dev/null &
BG=$!
_bg_pids+=("$BG")
if wait_until 20 file_has "$T/s.out" '^ready'; then
        expect_rc 3 "a second exec while one runs in the foreground" urun exec "$CID" /payload exit 3
        kill -USR1 "$BG"
        rc=0
        wait_bg "$BG" || rc=$?
        if [ "$rc" = 0 ] && grep -q '^got SIGUSR1' "$T/s.out"; then
                ok "a foreground exec forwards SIGUSR1 and exits with the process's status"
        else
                echo "exit status $rc" >"$T/why"
                not_ok "a foreground exec forwards SIGUSR1" "$T/why" "$T/s.out" "$T/s.err"
        fi
else
        not_ok "foreground exec of sigwait started" "$T/s.out" "$T/s.err"
fi

# --- process.execCPUAffinity ---
affinity() {
        jq --arg i "$1" --arg f "$2" '.execCPUAffinity = ({initial: $i, final: $f} | with_entries(select(.value != "")))' \
                "$T/proc.json" >"$T/aff.json"
        run urun exec --process "$T/aff.json" "$CID" /payload cat /proc/self/status
}
affinity "" 0
if grep -q 'not supported yet' "$T/err"; then
        skip "process.execCPUAffinity" "the parser does not support execCPUAffinity yet"
elif [ "$(nproc)" -lt 2 ]; then
        skip "process.execCPUAffinity" "needs 2 CPUs"
else
        like "$T/out" '^Cpus_allowed_list:[[:space:]]+0$' "execCPUAffinity.final applies to the process"
        affinity 1 ""
        like "$T/out" '^Cpus_allowed_list:[[:space:]]+1$' "execCPUAffinity.initial alone stays the affinity"
        affinity 0 1
        like "$T/out" '^Cpus_allowed_list:[[:space:]]+1$' "execCPUAffinity.final wins over initial"
fi

# --- --tty ---

run urun exec -t "$CID" /payload tty
tr -d '\r' <"$T/out" >"$T/clean"
like "$T/clean" '^isatty 0=1 1=1 2=1$' "exec -t: fds 0-2 are a terminal, proxied by urun"
like "$T/clean" '^name /dev/pts/[0-9]+$' "exec -t: the terminal is the container's /dev/pts/N"
like "$T/clean" '^ctty yes$' "exec -t: it is the process's controlling terminal"
run urun exec "$CID" /payload isatty
is "$(cat "$T/out")" "stdin=0 stdout=0" "without -t the process gets urun's stdio, no terminal"

if [ -z "$RECVTTY" ]; then
        skip "exec --tty --detach --console-socket" "urun-recvtty not found next to $URUN"
else
        SOCK=$T/tty.sock
        "$RECVTTY" --no-stdin "$SOCK" >"$T/r.out" 2>"$T/r.err" </dev/null &
        RPID=$!
        _bg_pids+=("$RPID")
        if wait_until 10 test -S "$SOCK"; then
                jq '.terminal = true | .args = ["/payload", "tty"] | .consoleSize = {"height": 33, "width": 77}' \
                        "$T/proc.json" >"$T/tty.json"
                rm -f "$T/pid"
                # exactly as Podman calls it
                expect_rc 0 "exec --tty --console-socket --detach --pid-file --process (Podman)" urun exec \
                        --pid-file "$T/pid" --process "$T/tty.json" --detach --tty --console-socket "$SOCK" "$CID"
                rc=0
                wait_bg "$RPID" || rc=$?
                tr -d '\r' <"$T/r.out" >"$T/clean"
                if [ "$rc" = 0 ] && grep -q '^isatty 0=1 1=1 2=1$' "$T/clean" && grep -q '^size 33x77$' "$T/clean"; then
                        ok "the console socket receives the terminal, with process.consoleSize"
                else
                        not_ok "the console socket receives the terminal" "$T/r.out" "$T/r.err"
                fi
        else
                not_ok "urun-recvtty listens" "$T/r.err"
        fi
fi

# ptyexec DESC WANT_RC STEPS... -- ARGS...: ptydrive running `urun exec -t $CID ARGS...`.
ptyexec() {
        local desc=$1 want=$2 steps=()
        shift 2
        while [ "$1" != -- ]; do
                steps+=("$1")
                shift
        done
        shift
        expect_rc "$want" "$desc" "$PTYDRIVE" --timeout 20 "${steps[@]}" -- \
                "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} exec -t "$CID" "$@"
        tr -d '\r' <"$T/out" >"$T/clean"
}
if [ -z "$PTYDRIVE" ]; then
        skip "exec -t on a terminal" "ptydrive not found next to $PAYLOAD"
else
        # (no --wait for the last line: the process exits right after it, see ptydrive's --wait)
        ptyexec "exec -t on a terminal: typed input reaches the process" 0 \
                --size 30x90 --wait ready --check-raw --send 'hello exec\r' -- /payload readline
        like "$T/clean" '^got <hello exec>$' "the line typed at urun's terminal is read by the exec'd process"
        like "$T/clean" '^ptydrive: raw=yes$' "urun's terminal is in raw mode while exec proxies it"
        like "$T/clean" '^ptydrive: termios restored$' "urun restores its terminal's mode after the exec"
        ptyexec "exec -t on a terminal: the window size" 0 --size 30x90 -- /payload tty
        like "$T/clean" '^size 30x90$' "the window size of urun's terminal is copied to the exec'd process's"
        ptyexec "exec -t on a terminal: ^C kills the process (exit 130)" 130 --wait ready --send '\x03' -- /payload pause
        like "$T/clean" '^ptydrive: termios restored$' "urun restores its terminal's mode after ^C"
fi

# --- refusals: one line, exit 1 ---
expect_fail "--tty --detach without --console-socket is refused" urun exec -t -d "$CID" /payload isatty
like "$T/err" 'console-socket' "  the error names --console-socket"
expect_fail "--console-socket without a terminal is refused" \
        urun exec --console-socket "$T/nosock" "$CID" /payload isatty
expect_fail "--tty with a --console-socket that does not exist fails" \
        urun exec -t -d --console-socket "$T/nosock" "$CID" /payload isatty
like "$T/err" "console-socket '$T/nosock'" "  the error names the socket"
expect_fail "exec with an unknown flag fails" urun exec --bogus "$CID" /payload exit 0
like "$T/err" "'--bogus'" "  the error names the flag"
expect_fail "exec without a command fails" urun exec "$CID"
expect_fail "exec into an unknown container fails" urun exec no-such-container /payload exit 0
like "$T/err" "container 'no-such-container' does not exist" "  the error says it does not exist"
expect_fail "--cwd relative is refused" urun exec --cwd tmp "$CID" /payload cwd
like "$T/err" '[-][-]cwd' "  the error names --cwd"
expect_fail "--env without = is refused" urun exec -e NOVALUE "$CID" /payload env
like "$T/err" '[-][-]env' "  the error names --env"
expect_fail "--user with a name is refused" urun exec -u root "$CID" /payload id
like "$T/err" '[-][-]user' "  the error names --user"
expect_fail "--cwd to a missing directory fails" urun exec --cwd /no/such/dir "$CID" /payload cwd
like "$T/err" "/no/such/dir" "  the error names the directory"

# A symlink planted in the rootfs (as a process of the container could) must not lead the new
# process out of the container through an fd of the runtime (CVE-2024-21626).
leaked=
for fd in 3 4 5 6 7 8 9 10 11 12; do
        ln -sfn "/proc/self/fd/$fd" "$B/rootfs/tmp/leak"
        run urun --log "$T/log" exec --cwd /tmp/leak "$CID" /payload cwd
        [ "$RC" = 0 ] && leaked="$leaked $fd:$(cat "$T/out")"
done
is "$leaked" "" "a cwd symlinked to /proc/self/fd/N never reaches an fd of the runtime"

# --- a created container, and a stopped one ---
BC=$T/bc
make_bundle "$BC" /payload exit 0
new_id
expect_rc 0 "create (for exec into a created container)" urun create --bundle "$BC" "$ID"
if [ "$TEST_MODE" = rootless ]; then
        expect_fail "exec into a created container without host privileges is refused" \
                urun exec "$ID" /payload exit 3
        like "$T/err" "is not running" "  the error says it is not running"
else
        expect_rc 3 "exec into a created container (as runc)" urun exec "$ID" /payload exit 3
fi
expect_rc 0 "start after exec" urun start "$ID"
wait_status "$ID" stopped
expect_fail "exec into a stopped container is refused" urun exec "$ID" /payload exit 0
like "$T/err" "container '$ID' is not running" "  the error says it is not running"
expect_rc 0 "delete the stopped container" urun delete "$ID"

# --- a container without pivot_root: the exec'd process gets its chroot too ---
new_id
expect_rc 0 "run -d --no-pivot" urun run -d --no-pivot --bundle "$B" "$ID"
run urun exec "$ID" /bin/cat /marker
is "$(cat "$T/out")" "only in the rootfs" "exec into a --no-pivot container sees its root"
expect_rc 0 "delete --force of the --no-pivot container" urun delete --force "$ID"

# --- nothing left ---
expect_rc 0 "delete --force of the container exec'd into" urun delete --force "$CID"
left_nothing "$CID" "$B" "no process or state left after delete"

done_testing
