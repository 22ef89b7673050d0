#!/bin/bash
# The confinement the runtime promises, each checked by its safe outcome: seccomp filters through
# urun, mounts through rootfs symlinks stay inside the rootfs (with openat2, without it, and with
# openat2 refused by seccomp), no fd leaks into the container, noNewPrivileges, capability sets, a
# new session, maskedPaths backed by the host's real /dev/null, a container whose /proc/self/exe is
# its program, not urun; urun's processes non-dumpable while they hold host resources, no setuid
# urun, and a urun binary that cannot be written through /proc/PID/exe (CVE-2019-5736).
. "$(dirname "$0")/lib.sh"

[ "${URUN_TEST_NO_OPENAT2:-}" = 1 ] && diag "URUN_TEST_NO_OPENAT2=1: every path in a rootfs goes through the component walk"

B=$T/b
make_bundle "$B"
# A writable root, so that a refused mkdir can only be seccomp's doing, not EROFS.
cfg "$B" '.root.readonly = false'


# urun_env VAR=VALUE... -- ARGS...: `run` urun with extra environment variables (and under the
# command in the array URUN_WRAP, when set).
URUN_WRAP=()
urun_env() {
        local envs=()
        while [ "$1" != -- ]; do
                envs+=("$1")
                shift
        done
        shift
        run "${URUN_WRAP[@]}" env "${envs[@]}" "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} "$@"
}

# A seccomp filter that fails openat2 with EPERM, as a container engine's profile may, for the
# command it execs (perl-base is in every Debian; x86_64 syscall numbers). Without CAP_SYS_ADMIN it
# needs no_new_privs, which also disarms setuid newuidmap: callers then map a single id.
NO_OPENAT2_PL='
my $f = join "", map { pack "SCCL", @$_ } [0x20, 0, 0, 4], [0x15, 0, 3, 0xc000003e], [0x20, 0, 0, 0],
        [0x15, 0, 1, 437], [0x06, 0, 0, 0x50001], [0x06, 0, 0, 0x7fff0000];
my $prog = pack "S x6 Q", 6, unpack("Q", pack("p", $f));
$< == 0 or syscall(157, 38, 1, 0, 0, 0) == 0 or die "PR_SET_NO_NEW_PRIVS: $!\n";
syscall(157, 22, 2, $prog, 0, 0) == 0 or die "PR_SET_SECCOMP: $!\n";
my ($p, $h) = ("/", pack("Q3", 0, 0, 0));
syscall(437, -100, $p, $h, 24) == -1 && $!{EPERM} or die "openat2 is not refused with EPERM\n";
exec { $ARGV[0] } @ARGV or die "exec $ARGV[0]: $!\n";'

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
        [ ${#URUN_WRAP[@]} = 0 ] || cfg "$SB" '.linux.uidMappings |= .[:1] | .linux.gidMappings |= .[:1]'
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
# A real refusal (EPERM from seccomp) rather than the test switch, which stands for ENOSYS.
if [ "$(uname -m)" != x86_64 ] || ! command -v perl >/dev/null; then
        skip "symlink escape (openat2 EPERM from seccomp)" "needs perl and x86_64 syscall numbers"
else
        URUN_WRAP=(perl -e "$NO_OPENAT2_PL" --)
        symlink_escape seccomp-eperm
        URUN_WRAP=()
fi

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

# --- 9. non-dumpable while holding host resources ------------------------------------------------

# A created container's process is still urun, holding fds of the bundle, the state dir and /proc:
# other processes of the caller (and so the container's, which share its uid when rootless) must
# not read its memory, environment or fds. Root (host root, or root of the user namespace the
# runtime runs in) has CAP_SYS_PTRACE over it and may read anything: nothing to prove there.
NOT_PTRACER=
[ "$(id -u)" = 0 ] && NOT_PTRACER="the caller is root of the user namespace urun runs in (CAP_SYS_PTRACE)"
set_args "$B" /payload pause
new_id
expect_rc 0 "dumpable: create a pausing container" urun create --bundle "$B" "$ID"
CPID=$(urun state "$ID" | jq -r .pid)
if [ -n "$NOT_PTRACER" ]; then
        skip "dumpable: the created container's /proc/PID/environ is unreadable" "$NOT_PTRACER"
        skip "dumpable: the created container's /proc/PID/fd is not listable" "$NOT_PTRACER"
else
        ! cat "/proc/$CPID/environ" >/dev/null 2>"$T/derr" && grep -q 'Permission denied' "$T/derr"
        result $? "dumpable: the created container's /proc/PID/environ is unreadable (EACCES)" "$T/derr"
        ! ls "/proc/$CPID/fd" >/dev/null 2>"$T/derr" && grep -q 'Permission denied' "$T/derr"
        result $? "dumpable: the created container's /proc/PID/fd is not listable (EACCES)" "$T/derr"
fi
expect_rc 0 "dumpable: start it" urun start "$ID"
wait_until 10 exe_is_not_urun
result $? "dumpable: the program runs ($(readlink "/proc/$CPID/exe" 2>&1))"
if [ -n "$NOT_PTRACER" ]; then
        skip "dumpable: after start the program's /proc/PID/fd is listable" "$NOT_PTRACER"
else
        ls "/proc/$CPID/fd" >"$T/dout" 2>&1 && grep -qx 0 "$T/dout"
        result $? "dumpable: after start the program's /proc/PID/fd is listable (execve made it dumpable)" \
                "$T/dout"
fi
urun kill "$ID" KILL >/dev/null 2>&1
wait_status "$ID" stopped
urun delete "$ID" >/dev/null 2>&1

# The runtime parent of a foreground `run` holds the container's fds and pid the whole time.
new_id
background "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} run --bundle "$B" "$ID" >"$T/runout" 2>&1
RUNPID=$BG_PID
wait_status "$ID" running
result $? "dumpable: a foreground run of a pausing container is running"
if [ -n "$NOT_PTRACER" ]; then
        skip "dumpable: the runtime parent of run has an unreadable environ and fd dir" "$NOT_PTRACER"
else
        ! cat "/proc/$RUNPID/environ" >/dev/null 2>"$T/derr" &&
                ! ls "/proc/$RUNPID/fd" >/dev/null 2>>"$T/derr" &&
                [ "$(grep -c 'Permission denied' "$T/derr")" = 2 ]
        result $? "dumpable: the runtime parent of run has an unreadable environ and fd dir (EACCES)" \
                "$T/derr"
fi
urun kill "$ID" KILL >/dev/null 2>&1
wait_bg "$RUNPID"
is "$?" 137 "dumpable: run exits with 128+9 when its container is killed"

# --- 10. urun refuses to run setuid or setgid ------------------------------------------------------

if [ "$TEST_MODE" != root ]; then
        skip "setuid: a setuid copy of urun refuses to run" \
                "only host root can make a setuid copy owned by another user"
elif findmnt -n -o OPTIONS -T "$T" | grep -qw nosuid; then
        skip "setuid: a setuid copy of urun refuses to run" "$T is on a nosuid mount"
else
        SU_OWNER=nobody
        id uruntest >/dev/null 2>&1 && SU_OWNER=uruntest
        for bits in 4755:setuid 2755:setgid; do
                cp "$URUN" "$T/urun-s"
                chown "$SU_OWNER:$(id -gn "$SU_OWNER")" "$T/urun-s"
                chmod "${bits%:*}" "$T/urun-s"
                run "$T/urun-s" --root "$T/sstate" list
                is "$RC" 1 "setuid: a ${bits#*:} copy of urun owned by $SU_OWNER, run by root, exits with 1"
                like "$T/err" '^urun: refusing to run setuid or setgid' \
                        "setuid: the ${bits#*:} copy says why in one line"
                # (a sanitizer build ignores ASAN_OPTIONS when setuid: its own "==PID==" lines go)
                is "$(grep -vc '^==' "$T/err")" 1 "setuid: the ${bits#*:} copy prints exactly one line"
                [ ! -e "$T/sstate" ]
                result $? "setuid: the ${bits#*:} copy did nothing (no state directory)"
                rm -f "$T/urun-s"
        done
fi

# --- 11. the urun binary cannot be written through /proc/PID/exe (CVE-2019-5736) --------------------

# Until its execve a container's process is urun, and a container can make the kernel run
# /proc/self/exe again (a '#!/proc/self/exe' program). Whoever holds /proc/PID/exe of such a
# process may reopen it for writing once urun has exited. What protects BIN in this mode:
#   robind  host root: urun re-executes from a read-only bind mount of its binary (EROFS);
#   memfd   the caller could write BIN: from a sealed copy (F_SEAL_WRITE: EPERM);
#   none    the caller cannot write BIN anyway (EACCES): nothing to do, nothing paid.
exe_kind() {
        if [ "$TEST_MODE" = root ]; then
                echo robind
        elif [ -w "$1" ] || [ "$(stat -c %u "$1")" = "$(id -u)" ] || [ -n "$(find "$1" -perm /022)" ]; then
                echo memfd
        else
                echo none
        fi
}

# exe_link_ok KIND BIN LINK: the exe link is what KIND promises.
exe_link_ok() {
        case $1 in
        robind) [ "${3#/memfd:}" = "$3" ] && [ "$3" != "$(readlink -f "$2")" ] ;; # "/": a detached mount
        memfd) [ "${3#/memfd:}" != "$3" ] ;;
        none) [ "$3" = "$(readlink -f "$2")" ] ;;
        esac
}

exe_write_error() {
        case $1 in
        robind) echo 'Read-only file system' ;;
        memfd) echo 'Operation not permitted' ;;
        none) echo 'Permission denied' ;;
        esac
}

sum_of() {
        md5sum <"$1" | cut -d' ' -f1
}

# try_write FD DESC KIND: reopening FD (read-only) for writing through /proc/self/fd fails as KIND says.
try_write() {
        local fd=$1 desc=$2 kind=$3
        if (printf evil >>"/proc/self/fd/$fd") 2>"$T/werr"; then
                not_ok "$desc writing through the kept fd succeeded"
        else
                like "$T/werr" "$(exe_write_error "$kind")" "$desc writing through the kept fd fails ($kind)"
        fi
}

# held_exe_write BIN LABEL: the attack with `create` (a caller that may open the init's exe).
held_exe_write() {
        local bin=$1 label=$2 kind sum fd
        kind=$(exe_kind "$bin")
        sum=$(sum_of "$bin")
        set_args "$B" /payload pause
        new_id
        run "$bin" ${URUN_ROOT:+--root "$URUN_ROOT"} create --bundle "$B" "$ID"
        result "$RC" "exe ($label): create" "$T/err"
        CPID=$(urun state "$ID" | jq -r .pid)
        if ! exec {fd}<"/proc/$CPID/exe"; then
                skip "exe ($label): the created init's /proc/PID/exe, kept open, cannot be written" \
                        "non-dumpable init: this user cannot open its /proc/PID/exe (#!/proc/self/exe covers it)"
                urun delete --force "$ID" >/dev/null 2>&1
                return
        fi 2>/dev/null
        exe_link_ok "$kind" "$bin" "$(readlink "/proc/$CPID/exe")"
        result $? "exe ($label): the created init runs from the $kind kind ($(readlink "/proc/$CPID/exe"))"
        expect_rc 0 "exe ($label): delete the container" urun delete --force "$ID"
        try_write "$fd" "exe ($label): after delete," "$kind"
        exec {fd}<&-
        is "$(sum_of "$bin")" "$sum" "exe ($label): the binary is unchanged"
}

X=$T/x
make_bundle "$X" /evil
cfg "$X" '.root.readonly = false'
# The kernel runs urun's own (dynamic) binary inside the container: it needs the loader and libraries.
for l in $(ldd "$URUN" | grep -o '/[^ ]*'); do
        mkdir -p "$X/rootfs${l%/*}" && cp -L "$l" "$X/rootfs$l"
done
# urun blocks opening its --log FIFO until the test lets it go: a window as long as we need.
printf '#!/proc/self/exe --log=/fifo\n' >"$X/rootfs/evil"
chmod 0755 "$X/rootfs/evil"

urun_in_ctr() {
        [ -r "/proc/$1/cmdline" ] && grep -q -- '--log=/fifo' "/proc/$1/cmdline" && readlink "/proc/$1/exe"
}

# self_exe_attack BIN LABEL: a container whose program is '#!/proc/self/exe'.
self_exe_attack() {
        local bin=$1 label=$2 kind sum pid fd link
        kind=$(exe_kind "$bin")
        sum=$(sum_of "$bin")
        rm -f "$X/rootfs/fifo"
        mkfifo -m 0666 "$X/rootfs/fifo"
        new_id
        run "$bin" ${URUN_ROOT:+--root "$URUN_ROOT"} create --bundle "$X" "$ID"
        result "$RC" "exe ($label): create a container whose program is '#!/proc/self/exe'" "$T/err"
        run "$bin" ${URUN_ROOT:+--root "$URUN_ROOT"} start "$ID"
        result "$RC" "exe ($label): start it" "$T/err"
        pid=$(urun state "$ID" | jq -r .pid)
        wait_until 10 urun_in_ctr "$pid"
        result $? "exe ($label): the kernel runs urun's binary again inside the container"
        link=$(readlink "/proc/$pid/exe" 2>&1)
        exe_link_ok "$kind" "$bin" "$link"
        result $? "exe ($label): it runs from the $kind kind ($link)"
        if exec {fd}<"/proc/$pid/exe"; then
                ok "exe ($label): its /proc/PID/exe can be kept open read-only, as the attack does"
        else
                not_ok "exe ($label): its /proc/PID/exe can be kept open read-only, as the attack does"
                fd=
        fi 2>"$T/werr"
        # let it go: it opens the FIFO, says "unknown command '/evil'" and exits
        timeout 10 cat "$X/rootfs/fifo" >"$T/fifo.out"
        wait_status "$ID" stopped
        result $? "exe ($label): the container's urun exits once released"
        like "$T/fifo.out" "unknown command '/evil'" "exe ($label): it was urun (it logged to the FIFO)"
        if [ -n "$fd" ]; then
                try_write "$fd" "exe ($label): after it exited," "$kind"
                exec {fd}<&-
        fi
        is "$(sum_of "$bin")" "$sum" "exe ($label): the binary is unchanged"
        urun delete --force "$ID" >/dev/null 2>&1
}

cp "$URUN" "$T/urun-own"
chmod 0755 "$T/urun-own"
held_exe_write "$URUN" "urun, created init"
self_exe_attack "$URUN" "urun, #!/proc/self/exe"
self_exe_attack "$T/urun-own" "a copy the caller owns, #!/proc/self/exe"
set_args "$B" /payload exit 0
new_id
run "$URUN" --debug ${URUN_ROOT:+--root "$URUN_ROOT"} run --bundle "$B" "$ID"
case $(exe_kind "$URUN") in
robind) like "$T/err" 're-executing from a read-only bind mount' \
        "exe: host root re-executes from a read-only bind mount (no copy)" ;;
memfd) like "$T/err" 're-executing from a sealed copy' \
        "exe: a binary the caller could write is re-executed from a sealed copy" ;;
none) unlike "$T/err" 're-executing' "exe: an unwritable binary is run as it is (no copy, no re-exec)" ;;
esac

# --- 12. /proc and /sys are real directories; cwd and args[0] cannot reach the runtime's fds --------

P=$T/p
make_bundle "$P"
cfg "$P" '.root.readonly = false'
mkdir -p "$P/rootfs/fake"
for d in proc sys; do
        rm -rf "${P:?}/rootfs/$d"
        ln -s /fake "$P/rootfs/$d"
        new_id
        expect_fail "/$d as a symlink in the rootfs: refused" urun run --bundle "$P" "$ID"
        like "$T/err" "'/$d' must be a real directory in the rootfs" "  the error says /$d must be a real directory"
        left_nothing "$ID" "$P" "  nothing is left behind"
        rm -f "$P/rootfs/$d"
        mkdir -p "$P/rootfs/$d"
done

# A symlink planted in the image must not lead the init out of the container through an fd the
# runtime held during setup (CVE-2024-21626): as cwd, or as the program itself.
leaked=
for fd in 3 4 5 6 7 8 9 10 11 12; do
        ln -sfn "/proc/self/fd/$fd" "$P/rootfs/tmp/leak"
        cfg "$P" '.process.cwd = "/tmp/leak"'
        set_args "$P" /payload cwd
        new_id
        run urun run --bundle "$P" "$ID"
        [ "$RC" = 0 ] && leaked="$leaked cwd:$fd:$(cat "$T/out")"
        cfg "$P" '.process.cwd = "/"'
        set_args "$P" "/proc/self/fd/$fd"
        new_id
        run urun run --bundle "$P" "$ID"
        [ "$RC" = 0 ] && leaked="$leaked exe:$fd:$(cat "$T/out")"
done
is "$leaked" "" "process.cwd or args[0] naming /proc/self/fd/N never reaches an fd of the runtime"

done_testing
