#!/bin/bash
# The confinement the runtime promises, each checked by its safe outcome: seccomp filters through
# urun, mounts through rootfs symlinks stay inside the rootfs (with and without openat2), no fd
# leaks into the container, noNewPrivileges, capability sets, a new session, maskedPaths backed by
# the host's real /dev/null, and a container whose /proc/self/exe is its program, not urun.
. "$(dirname "$0")/lib.sh"

B=$T/b
make_bundle "$B"
# A writable root, so that a refused mkdir can only be seccomp's doing, not EROFS.
cfg "$B" '.root.readonly = false'


# urun_env VAR=VALUE... -- ARGS...: `run` urun with extra environment variables.
urun_env() {
        local envs=()
        while [ "$1" != -- ]; do
                envs+=("$1")
                shift
        done
        shift
        run env "${envs[@]}" "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} "$@"
}

# --- 1. seccomp ----------------------------------------------------------------------------------

SECCOMP_ERRNO='{"defaultAction": "SCMP_ACT_ALLOW",
                "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}'
cfg "$B" '.linux.seccomp = ($s | fromjson)' --arg s "$SECCOMP_ERRNO"
for nnp in true false; do
        cfg "$B" ".process.noNewPrivileges = $nnp"
        rm -rf "$B/rootfs/blocked"
        in_ctr "seccomp ERRNO (noNewPrivileges $nnp): mkdir in the container fails" 1 /bin/mkdir /blocked
        like "$T/err" 'Operation not permitted' "seccomp ERRNO (noNewPrivileges $nnp): mkdir fails with EPERM (errnoRet 1)"
        [ ! -e "$B/rootfs/blocked" ]
        result $? "seccomp ERRNO (noNewPrivileges $nnp): no directory appeared in the rootfs"
done
cfg "$B" '.process.noNewPrivileges = true'
in_ctr "seccomp ERRNO: syscalls not in the filter still work (write a file)" 0 /payload write /tmp/allowed x

cfg "$B" '.linux.seccomp.syscalls[0].names += ["urun_no_such_syscall"]'
rm -rf "$B/rootfs/blocked"
in_ctr "seccomp: an unknown syscall name is skipped, the container runs" 1 /bin/mkdir /blocked
like "$T/err" 'Operation not permitted' "seccomp: the rest of the rule with an unknown name still applies"

cfg "$B" '.linux.seccomp.syscalls[0].action = "SCMP_ACT_KILL_PROCESS" | del(.linux.seccomp.syscalls[0].errnoRet)'
rm -rf "$B/rootfs/blocked"
in_ctr "seccomp KILL_PROCESS: the container dies from SIGSYS (128+31)" 159 /bin/mkdir /blocked
[ ! -e "$B/rootfs/blocked" ]
result $? "seccomp KILL_PROCESS: no directory appeared in the rootfs"

cfg "$B" '.linux.seccomp.syscalls[0].action = "SCMP_ACT_BOGUS"'
set_args "$B" /payload exit 0
new_id
expect_fail "seccomp: an unknown action fails create with one line" urun create --bundle "$B" "$ID"
like "$T/err" 'linux\.seccomp\.syscalls\[0\]\.action' "the error names linux.seccomp.syscalls[0].action"
left_nothing "$ID" "$B" "a create refused for its seccomp action leaves nothing behind"
cfg "$B" 'del(.linux.seccomp)'

# --- 2. symlinks in the rootfs cannot redirect mounts to the host -----------------------------------

# host_untouched DIR: DIR holds exactly its sentinel, unchanged, and nothing is mounted on or below
# it in our mount namespace.
host_untouched() {
        local d=$1
        [ "$(ls -A "$d")" = sentinel ] || { echo "$d holds: $(ls -A "$d" | tr '\n' ' ')"; return 1; }
        [ "$(cat "$d/sentinel")" = host ] || { echo "$d/sentinel changed"; return 1; }
        if awk -v d="$d" '$5 == d || index($5, d "/") == 1 { print; bad = 1 } END { exit !bad }' \
                /proc/self/mountinfo; then
                echo "mounted on or under $d (above)"
                return 1
        fi
        return 0
}

symlink_escape() {
        local label=$1
        shift
        local H=$T/host-$label SB=$T/sym-$label d
        mkdir -p "$H/abs" "$H/rel" "$H/bind" "$T/bindsrc-$label"
        for d in abs rel bind; do
                echo host >"$H/$d/sentinel"
        done
        echo from-bind >"$T/bindsrc-$label/f"
        make_bundle "$SB"
        cfg "$SB" '.root.readonly = false'
        # absolute, ../-climbing and through-a-directory symlinks, all aimed at host directories
        ln -s "$H/abs" "$SB/rootfs/evil"
        ln -s "../../../../../../../../../../../..$H/rel" "$SB/rootfs/evil3"
        ln -s "$H/bind" "$SB/rootfs/evil2"
        cfg "$SB" '.mounts += [{"destination": "/evil", "type": "tmpfs", "source": "tmpfs"},
                               {"destination": "/evil3", "type": "tmpfs", "source": "tmpfs"}]'
        add_bind "$SB" "$T/bindsrc-$label" /evil2/x
        set_args "$SB" /bin/sh -c 'stat -f -c %T /evil/ /evil3/; cat /evil2/x/f;
                                   touch /evil/inside /evil3/inside /evil2/inside'
        new_id
        urun_env "$@" -- run --bundle "$SB" "$ID"
        result "$RC" "symlink escape ($label): the container runs" "$T/all"
        is "$(head -n 2 "$T/out" | tr '\n' ' ')" "tmpfs tmpfs " \
                "symlink escape ($label): inside, /evil and /evil3 are tmpfs mounts"
        is "$(sed -n 3p "$T/out")" from-bind "symlink escape ($label): inside, /evil2/x is the bind mount"
        for d in abs rel bind; do
                host_untouched "$H/$d" >"$T/why" 2>&1
                result $? "symlink escape ($label): host dir '$d' untouched, nothing mounted on it" "$T/why"
        done
        [ ! -e "$T/bindsrc-$label/inside" ] && [ "$(ls -A "$T/bindsrc-$label")" = f ]
        result $? "symlink escape ($label): the bind source got nothing but what it had"
}
symlink_escape openat2
symlink_escape walk URUN_TEST_NO_OPENAT2=1

# --- 3. fds of the caller do not reach the container ------------------------------------------------

exec 7</etc/hostname 9</etc/hostname
in_ctr "fds: run with fds 7 and 9 open in the caller" 0 /payload fds
is "$(tr '\n' ' ' <"$T/out")" "0 1 2 " "fds: only 0, 1 and 2 reach the container (run)"

exec 3</etc/hostname
set_args "$B" /payload fds
new_id
expect_rc 0 "fds: run --preserve-fds 1 with fds 3, 7 and 9 open" urun run --preserve-fds 1 --bundle "$B" "$ID"
is "$(tr '\n' ' ' <"$T/out")" "0 1 2 3 " "fds: --preserve-fds 1 passes fd 3 and nothing above it"
exec 3<&-

# create + start: the container process outlives `create`, it must not keep the caller's fds either
new_id
"$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} create --bundle "$B" "$ID" </dev/null >"$T/cout" 2>"$T/cerr"
result $? "fds: create with fds 7 and 9 open" "$T/cerr"
expect_rc 0 "fds: start" urun start "$ID"
wait_status "$ID" stopped
result $? "fds: the created container ran to completion"
is "$(tr '\n' ' ' <"$T/cout")" "0 1 2 " "fds: only 0, 1 and 2 reach the container (create/start)"
exec 7<&- 9<&-

# --- 4. noNewPrivileges --------------------------------------------------------------------------

cfg "$B" '.process.noNewPrivileges = true'
in_ctr "noNewPrivileges true: the container runs" 0 /payload cat /proc/self/status
like "$T/out" '^NoNewPrivs:[[:space:]]+1$' "noNewPrivileges true: NoNewPrivs is 1"
if grep -Eq '^NoNewPrivs:[[:space:]]+1$' /proc/self/status; then
        skip "noNewPrivileges false: NoNewPrivs is 0" "the test shell itself runs with no_new_privs"
else
        cfg "$B" '.process.noNewPrivileges = false'
        in_ctr "noNewPrivileges false: the container runs" 0 /payload cat /proc/self/status
        like "$T/out" '^NoNewPrivs:[[:space:]]+0$' "noNewPrivileges false: NoNewPrivs is 0"
fi
cfg "$B" '.process.noNewPrivileges = true'

# --- 5. capabilities -----------------------------------------------------------------------------

SAVED_CAPS=$(jq -c '.process.capabilities' "$B/config.json")
cfg "$B" '.process.capabilities = {"bounding": ["CAP_NET_BIND_SERVICE"], "effective": ["CAP_NET_BIND_SERVICE"],
                                   "permitted": ["CAP_NET_BIND_SERVICE"]}'
in_ctr "capabilities: only CAP_NET_BIND_SERVICE, the container runs" 0 /payload caps
for set in Eff Prm Bnd; do
        like "$T/out" "^Cap$set:[[:space:]]+0000000000000400\$" "capabilities: Cap$set is exactly bit 10 (NET_BIND_SERVICE)"
done
for set in Inh Amb; do
        like "$T/out" "^Cap$set:[[:space:]]+0000000000000000\$" "capabilities: Cap$set is empty"
done
cfg "$B" '.process.capabilities.permitted += ["CAP_NOT_A_CAP"]'
set_args "$B" /payload exit 0
new_id
expect_fail "capabilities: an unknown name fails create with one line" urun create --bundle "$B" "$ID"
like "$T/err" 'process\.capabilities\.permitted\[1\]' "the error names process.capabilities.permitted[1]"
left_nothing "$ID" "$B" "a create refused for an unknown capability leaves nothing behind"
cfg "$B" '.process.capabilities = ($c | fromjson)' --arg c "$SAVED_CAPS"

# --- 6. a new session --------------------------------------------------------------------------

# /proc/PID/stat: "pid (comm) state ppid pgrp session ..."; comm is "payload", no blanks.
in_ctr "session: the container runs" 0 /payload cat /proc/self/stat
read -r spid _ _ _ _ ssid _ <"$T/out"
is "$ssid" "$spid" "session: inside, the container process is a session leader (sid == pid)"

set_args "$B" /payload pause
new_id
expect_rc 0 "session: create a pausing container" urun create --bundle "$B" "$ID"
CPID=$(urun state "$ID" | jq -r .pid)
read -r _ _ _ _ _ csid _ <"/proc/$CPID/stat"
is "$csid" "$CPID" "session: seen from the host, the created container process leads its own session"
[ "$csid" != "$(awk '{ print $6 }' /proc/self/stat)" ]
result $? "session: it is not the caller's session"

# --- 8. /proc/PID/exe of the container is its program, not urun -------------------------------------

expect_rc 0 "exe: start the pausing container" urun start "$ID"
exe_is_not_urun() {
        local e
        e=$(readlink "/proc/$CPID/exe") && [ "$e" != "$URUN" ] && [ "${e##*/}" = payload ]
}
wait_until 10 exe_is_not_urun
result $? "exe: after start, /proc/PID/exe of the container is the payload ($(readlink "/proc/$CPID/exe" 2>&1))"
urun kill "$ID" KILL >/dev/null 2>&1
wait_status "$ID" stopped
result $? "exe: the container stops on KILL"
urun delete "$ID" >/dev/null 2>&1

in_ctr "exe: readlink /proc/self/exe inside" 0 /payload readlink /proc/self/exe
is "$(cat "$T/out")" /payload "exe: inside, /proc/self/exe is /payload"

URUN_DIR=$(dirname "$URUN")
if [ "$TEST_MODE" = root ]; then
        skip "exe: the urun binary is not writable from inside" "host root may write what it sees"
elif [ "$(stat -c %u "$URUN")" = "$(id -u)" ] || [ -w "$URUN" ]; then
        skip "exe: the urun binary is not writable from inside" "$URUN belongs to or is writable by the caller"
else
        add_bind "$B" "$URUN_DIR" /hostbin
        in_ctr "exe: opening the bind-mounted urun binary for writing fails inside" 1 \
                /payload openw "/hostbin/$(basename "$URUN")"
        like "$T/err" 'Permission denied|Read-only file system|Text file busy' \
                "exe: the open fails for lack of permission"
        cfg "$B" '.mounts |= map(select(.destination != "/hostbin"))'
fi

# --- 7. maskedPaths use the host's /dev/null, not the rootfs's ---------------------------------------

M=$T/m
make_bundle "$M"
# No /dev mount: the rootfs's own dev/null, a regular file saying LEAK, stays visible.
cfg "$M" 'del(.mounts[] | select(.destination | startswith("/dev"))) | .root.readonly = false
          | .linux.maskedPaths += ["/etc/secret"]'
echo LEAK >"$M/rootfs/dev/null"
echo secret >"$M/rootfs/etc/secret"
set_args "$M" /payload cat /etc/secret
new_id
expect_rc 0 "maskedPaths: reading a masked file succeeds" urun run --bundle "$M" "$ID"
is "$(cat "$T/out")" "" "maskedPaths: the masked file reads empty (neither LEAK nor the secret)"
set_args "$M" /payload stat /etc/secret
new_id
expect_rc 0 "maskedPaths: stat the masked file" urun run --bundle "$M" "$ID"
like "$T/out" 'type=char' "maskedPaths: the masked file is a character device (the real null device)"
is "$(cat "$M/rootfs/dev/null")" LEAK "maskedPaths: the rootfs's dev/null was left alone"

done_testing
