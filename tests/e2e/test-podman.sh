#!/bin/bash
# Rootless Podman (4.3, through conmon) with --runtime pointed at the freshly built urun: the
# scenarios of the client contract, each checked by what the user would see (output, exit codes,
# files on the host, /proc from inside). Run as root; Podman runs as the dedicated user urune2e.
#
#   URUN=/path/to/urun bash tests/e2e/test-podman.sh
#   E2E_RUNTIME=runc|crun   the same scenarios against runc or crun, for comparison
#   E2E_CGROUP_VIEW=v2      all of them in a cgroup2 view (lib.sh), as on a pure cgroup v2 host
. "$(dirname "$0")/lib.sh"

for c in podman conmon slirp4netns newuidmap; do
        command -v "$c" >/dev/null ||
                skip_all "$c is not installed (apt-get install podman conmon slirp4netns uidmap catatonit)"
done
RT=${E2E_RUNTIME:-urun}
e2e_init
ensure_user
[ -x "$E2E_DIR/wrap/$RT" ] || skip_all "runtime $RT is not installed"
RTPATH=$E2E_DIR/wrap/$RT

# Rootless networking (slirp4netns) opens /dev/net/tun as the user; 0666 is the Debian/udev
# default, some minimal hosts leave it 0600.
if [ -c /dev/net/tun ] && [ "$(stat -c %a /dev/net/tun)" != 666 ]; then
        diag "host fix: chmod 0666 /dev/net/tun (the udev default; slirp4netns needs it)"
        chmod 0666 /dev/net/tun
fi

# The configuration a user would write (README, "Podman"): the runtime is registered by name,
# and listed in the two name-keyed capability lists.
export CONTAINERS_CONF=$E2E_DIR/containers.conf
export CONTAINERS_STORAGE_CONF=$E2E_DIR/storage.conf
cat >"$CONTAINERS_CONF" <<EOF
[containers]
log_driver = "k8s-file"

[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
runtime = "$RT"
runtime_supports_json = ["crun", "runc", "kata", "runsc", "krun", "urun"]
runtime_supports_nocgroup = ["crun", "krun", "urun"]

[engine.runtimes]
urun = ["$E2E_DIR/wrap/urun"]
runc = ["$E2E_DIR/wrap/runc"]
crun = ["$E2E_DIR/wrap/crun"]
EOF
cat >"$CONTAINERS_STORAGE_CONF" <<EOF
[storage]
driver = "overlay"
graphroot = "$E2E_HOME/.local/share/containers/storage"
runroot = "$E2E_XDG/containers"
EOF
chmod 0644 "$CONTAINERS_CONF" "$CONTAINERS_STORAGE_CONF"

# Podman's cgroup context: the host's, or a cgroup2 view for every call (CG_READ reads the
# cgroup files the way Podman sees them).
CG_READ=()
E2E_CLEANUP+=(cg2_view_stop)
# use_cgroup2_view: from here on Podman runs in a cgroup2 view, in a cgroup delegated to the user.
use_cgroup2_view() {
        kill_pause_process
        cg2_view_start "urun-e2e-podman-$$" || return 1
        cg2_enter_cmd user/shell "user:$E2E_USER"
        AS_USER_PREFIX=("${CG2_ENTER[@]}")
        CG_READ=(nsenter -t "$CG2_PID" -m --)
}

leave_cgroup2_view() {
        kill_pause_process
        AS_USER_PREFIX=()
        CG_READ=()
        check "the cgroup2 view's subtree is gone (nothing left in it)" cg2_view_stop
}

# pm ARGS...: podman as the test user, with --runtime pointed at the wrapper.
pm() {
        as_user podman --runtime "$RTPATH" "$@"
}

# Podman keeps one pause process per user holding its user and mount namespaces; it outlives
# every container, so it goes when the script ends.
kill_pause_process() {
        local pid
        pid=$(cat "$E2E_XDG/libpod/tmp/pause.pid" 2>/dev/null) || return 0
        kill -KILL "$pid" 2>/dev/null
        wait_until 10 sh -c "! kill -0 $pid 2>/dev/null"
        return 0
}

NAMEP=e2e-$$
remove_ours() {
        local ids
        mapfile -t ids < <(pm ps -a -q --filter "name=^$NAMEP-" 2>/dev/null)
        [ "${#ids[@]}" -gt 0 ] && pm rm -f -t 0 "${ids[@]}" >/dev/null 2>&1
        kill_pause_process
}
E2E_CLEANUP+=(remove_ours)

# --- the image: a busybox rootfs, imported without any registry ---------------------------------

if [ "${E2E_CGROUP_VIEW:-}" = v2 ]; then
        use_cgroup2_view || bail "cannot make a cgroup2 view: $(cat "$E2E_DIR/cg2.err")"
fi

make_rootfs_tar "$E2E_DIR/busybox-rootfs.tar"
chmod 0644 "$E2E_DIR/busybox-rootfs.tar"
IMG=localhost/urun-e2e/busybox:$(sha256sum "$E2E_DIR/busybox-rootfs.tar" | cut -c1-12)
if ! pm image exists "$IMG" 2>/dev/null; then
        run pm import --change 'CMD ["/bin/sh"]' \
                --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
                "$E2E_DIR/busybox-rootfs.tar" "$IMG"
        [ "$RC" = 0 ] || bail "podman import failed: $(tail -n 3 "$W/all" | tr '\n' ' ')"
fi
diag "runtime $RT ($(readlink -f "$(sed -n 's/^real=//p' "$RTPATH" | tr -d "'")")), image $IMG," \
        "cgroups $(pm info --format '{{.Host.CgroupsVersion}}' 2>/dev/null)"

_n=0
# new_name: a fresh container name in NAME.
new_name() {
        _n=$((_n + 1))
        NAME=$NAMEP-$_n
}

# prun WANT_RC DESC PODMAN-RUN-ARGS...: `podman run --rm ARGS` exits WANT_RC.
prun() {
        local want=$1 desc=$2
        shift 2
        mark_calls
        new_name
        run pm run --rm --name "$NAME" "$@"
        check "$desc" rc_is "$want"
}

# logs_have NAME ERE: the container's log has a matching line.
logs_have() {
        pm logs "$1" 2>&1 | grep -Eq -- "$2"
}

# --- run, output and exit codes ------------------------------------------------------------------

prun 0 "run --rm IMAGE echo hi exits 0" "$IMG" echo hi
check "run --rm IMAGE echo hi prints hi" eq "$(cat "$W/out")" hi

prun 3 "run --rm IMAGE sh -c 'exit 3' exits 3" "$IMG" sh -c 'exit 3'

mark_calls
new_name
run as_user podman --runtime "$RT" run --rm --name "$NAME" "$IMG" echo by-name
check "--runtime $RT by name (engine.runtimes in containers.conf)" eq "$(cat "$W/out")" by-name
run pm info --format '{{.Host.OCIRuntime.Name}}: {{.Host.OCIRuntime.Version}}'
check "podman info shows the runtime's --version" has "$W/out" ": $RT version [0-9]"

echo via-fd3 >"$W/fd3"
mark_calls
new_name
run pm run --rm --name "$NAME" --preserve-fds 1 "$IMG" sh -c 'cat <&3' 3<"$W/fd3"
check "--preserve-fds 1: fd 3 reaches the container (create --preserve-fds)" eq "$(cat "$W/out")" via-fd3

echo typed-in >"$W/stdin"
mark_calls
new_name
run --in "$W/stdin" pm run --rm -i --name "$NAME" "$IMG" sh -c 'read l; echo "got:$l"'
check "run -i: the container reads podman's stdin" eq "$(cat "$W/out")" "got:typed-in"

if grep -q "^runtime_supports_nocgroup = .*\"$RT\"" "$CONTAINERS_CONF"; then
        prun 0 "--cgroups=disabled runs (conmon passes --cgroup-manager disabled)" --cgroups=disabled "$IMG" echo nocg
        check "--cgroups=disabled: output" eq "$(cat "$W/out")" nocg
else
        skip "--cgroups=disabled" "Podman allows it only for runtime_supports_nocgroup, which does not list $RT"
fi

# --- run -d, exec, logs, stop, rm ----------------------------------------------------------------

mark_calls
new_name
D=$NAME
run pm run -d --name "$D" "$IMG" sh -c \
        'trap "echo got-TERM; exit 0" TERM; echo started; while :; do sleep 0.1; done'
check "run -d starts a container" rc_is 0
check "run -d prints the container id" has "$W/out" '^[0-9a-f]{64}$'
check "the detached container logs its first line" wait_until 20 logs_have "$D" '^started$'
run pm inspect --format '{{.State.Status}} {{.State.Pid}}' "$D"
check "inspect says running with a pid" has "$W/out" '^running [1-9][0-9]*$'

mark_calls
run pm exec "$D" echo from-exec
check "exec prints its output" eq "$(cat "$W/out")" from-exec
run pm exec "$D" sh -c 'exit 5'
check "exec propagates the exit status (5)" rc_is 5
run pm exec -u 1234:5678 -e E2E_VAR=v1 -w /tmp "$D" sh -c 'echo "$(id -u):$(id -g) $E2E_VAR $(pwd)"'
check "exec --user --env --workdir (process.json) apply" eq "$(cat "$W/out")" "1234:5678 v1 /tmp"
run pm exec "$D" sh -c 'cat /proc/1/cmdline | tr "\0" " "'
check "exec joins the container's pid namespace (pid 1 is the container's sh)" has "$W/out" '^sh -c trap'
run pm exec -d "$D" sh -c 'echo detached-exec >/tmp/dx'
check "exec -d returns 0" rc_is 0
check "the detached exec ran" wait_until 20 pm exec "$D" grep -q detached-exec /tmp/dx
if [ -n "$PTYDRIVE" ]; then
        run as_user "$PTYDRIVE" --timeout 30 -- podman --runtime "$RTPATH" exec -it "$D" sh -c 'tty; stty size'
        tr -d '\r' <"$W/out" >"$W/clean"
        check "exec -it gets a terminal (--tty --console-socket)" has "$W/clean" '^/dev/pts/[0-9]+$'
else
        skip "exec -it gets a terminal" "tests/payload/ptydrive is not built"
fi

mark_calls
run pm stop -t 10 "$D"
check "stop exits 0" rc_is 0
check "stop delivered SIGTERM (the trap ran)" wait_until 10 logs_have "$D" '^got-TERM$'
run pm inspect --format '{{.State.Status}} {{.State.ExitCode}}' "$D"
check "the stopped container exited 0 from its TERM trap" eq "$(cat "$W/out")" "exited 0"
run pm rm "$D"
check "rm removes it" rc_is 0
run pm ps -a -q --filter "name=^$D\$"
check "the removed container is gone from ps -a" eq "$(cat "$W/out")" ""

# --- run -it: a terminal ------------------------------------------------------------------------

if [ -n "$PTYDRIVE" ]; then
        mark_calls
        new_name
        run as_user "$PTYDRIVE" --size 33x101 --timeout 40 \
                --wait '# ' --send 'stty size; tty; echo X$((6*7))Y\r' --wait 'X42Y' \
                --send 'sleep 30\r' --send '\x03' --send 'echo "rc=$?"\r' --wait 'rc=' \
                --send 'exit 4\r' \
                -- podman --runtime "$RTPATH" run -it --rm --name "$NAME" "$IMG" sh
        tr -d '\r' <"$W/out" >"$W/clean"
        check "run -it: the shell's exit status (4) comes back" rc_is 4
        check "run -it: the container has a pty" has "$W/clean" '^/dev/pts/[0-9]+$'
        check "run -it: typed input runs and its output comes back" has "$W/clean" '^X42Y$'
        check "run -it: the window size reaches the container" has "$W/clean" '^33 101$'
        check "run -it: ^C interrupts the foreground job (rc=130)" has "$W/clean" '^rc=130$'
        check "run -it: the caller's terminal is restored" has "$W/clean" 'ptydrive: termios restored'
else
        skip "run -it" "tests/payload/ptydrive is not built"
fi

# --- user namespaces, file systems ---------------------------------------------------------------

prun 0 "--userns=keep-id runs" --userns=keep-id "$IMG" id -u
check "--userns=keep-id: id -u inside is the user's uid ($E2E_UID)" eq "$(cat "$W/out")" "$E2E_UID"

prun 0 "default rootless mapping: root inside, the user's ids mapped" "$IMG" cat /proc/self/uid_map
check "uid_map maps 0 to the user and 1.. to its subordinate range" \
        eq "$(awk '{ print $1, $2 }' "$W/out" | head -n 1)" "0 $E2E_UID"

prun 0 "--read-only runs" --read-only "$IMG" sh -c \
        'touch /ro-test 2>&1; echo "rc=$?"; touch /tmp/ok && echo tmp-writable'
check "--read-only: the rootfs refuses writes" has "$W/out" 'Read-only file system'
check "--read-only: /tmp stays writable (read_only_tmpfs)" has "$W/out" '^tmp-writable$'

VOL=$E2E_DIR/vol
mkdir -p "$VOL"
chown "$E2E_USER:$E2E_USER" "$VOL"
echo from-host >"$VOL/in"
prun 0 "-v bind mount runs" -v "$VOL:/data" "$IMG" sh -c 'cat /data/in; echo from-ctr >/data/out'
check "-v: the host's file is visible inside" eq "$(cat "$W/out")" from-host
check "-v: the file written inside is on the host" eq "$(cat "$VOL/out" 2>/dev/null)" from-ctr
check "-v: it is owned by the user on the host" eq "$(stat -c %u "$VOL/out" 2>/dev/null)" "$E2E_UID"
prun 0 "-v :ro bind mount runs" -v "$VOL:/data:ro" "$IMG" sh -c 'touch /data/ro 2>&1; echo "rc=$?"'
check "-v :ro refuses writes" has "$W/out" 'Read-only file system'

prun 0 "--tmpfs runs" --tmpfs /scratch:rw,size=1m,mode=1777 "$IMG" sh -c \
        'grep " /scratch " /proc/mounts; stat -c %a /scratch; echo x >/scratch/f && echo written'
check "--tmpfs: /scratch is a tmpfs of 1m" has "$W/out" '^tmpfs /scratch tmpfs .*size=1024k'
check "--tmpfs: mode 1777" has "$W/out" '^1777$'
check "--tmpfs: writable" has "$W/out" '^written$'

# --- capabilities, seccomp ------------------------------------------------------------------------

prun 0 "--cap-drop all --cap-add net_raw,chown runs" --cap-drop all --cap-add net_raw,chown "$IMG" \
        grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status
check "--cap-add: CapEff is exactly CHOWN|NET_RAW" has "$W/out" '^CapEff:[[:space:]]+0000000000002001$'
check "--cap-add: CapBnd is exactly CHOWN|NET_RAW" has "$W/out" '^CapBnd:[[:space:]]+0000000000002001$'

prun 0 "--cap-drop chown runs" --cap-drop chown "$IMG" sh -c \
        'grep ^CapEff: /proc/self/status; touch /tmp/f; chown 1:1 /tmp/f 2>&1; echo "rc=$?"'
check "--cap-drop chown: bit 0 of CapEff is clear" has "$W/out" '^CapEff:[[:space:]]+[0-9a-f]{15}[02468ace]$'
check "--cap-drop chown: chown fails" has "$W/out" 'Operation not permitted'

# personality(ADDR_NO_RANDOMIZE) is not among the personalities Podman's default profile allows:
# the profile's default action answers ENOSYS; unconfined it works.
prun 0 "default seccomp profile: the container runs filtered" "$IMG" sh -c \
        'grep "^Seccomp:" /proc/self/status; linux64 -R cat /proc/self/personality 2>&1; echo "rc=$?"'
check "default seccomp profile: Seccomp: 2 (filter)" has "$W/out" '^Seccomp:[[:space:]]+2$'
check "default seccomp profile: a blocked syscall fails with ENOSYS" has "$W/out" 'Function not implemented'
prun 0 "seccomp=unconfined runs" --security-opt seccomp=unconfined "$IMG" sh -c \
        'grep "^Seccomp:" /proc/self/status; linux64 -R cat /proc/self/personality'
check "seccomp=unconfined: no filter, the same syscall works" has "$W/out" '^00040000$'
check "seccomp=unconfined: Seccomp: 0" has "$W/out" '^Seccomp:[[:space:]]+0$'

prun 0 "--security-opt no-new-privileges runs" --security-opt no-new-privileges "$IMG" \
        grep ^NoNewPrivs: /proc/self/status
check "no-new-privileges: NoNewPrivs: 1" has "$W/out" '^NoNewPrivs:[[:space:]]+1$'

# --- signals -------------------------------------------------------------------------------------

mark_calls
new_name
K=$NAME
run pm run -d --name "$K" "$IMG" sh -c \
        'trap "echo got-USR1" USR1; trap "echo got-HUP" HUP; echo ready; while :; do sleep 0.1; done'
check "run -d for kill" rc_is 0
wait_until 20 logs_have "$K" '^ready$'
run pm kill --signal USR1 "$K"
check "kill --signal USR1 exits 0" rc_is 0
check "kill --signal USR1 reaches the container" wait_until 10 logs_have "$K" '^got-USR1$'
run pm kill --signal 1 "$K"
check "kill --signal 1 (numeric) reaches the container as SIGHUP" wait_until 10 logs_have "$K" '^got-HUP$'
run pm kill "$K"
check "kill (default SIGKILL) exits 0" rc_is 0
run pm wait "$K"
check "the killed container's exit status is 137" eq "$(cat "$W/out")" 137
run pm rm "$K"
check "rm of the killed container" rc_is 0

# --- pause / unpause -----------------------------------------------------------------------------
# Rootless Podman pauses only on cgroup v2 (and refuses on v1). On a hybrid host the scenario runs
# in a cgroup2 view (lib.sh): Podman's pause process is restarted inside it, so every podman call
# of the scenario sees a pure cgroup2 host, in a cgroup delegated to the user.

# frozen_is PID 0|1: the cgroup2 freezer state of PID's cgroup, as the kernel reports it.
frozen_is() {
        local cg
        cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup" 2>/dev/null)
        [ -n "$cg" ] && [ "$cg" != / ] || return 1
        "${CG_READ[@]}" cat "/sys/fs/cgroup$cg/cgroup.events" 2>/dev/null | grep -qx "frozen $2"
}

pause_scenario() {
        mark_calls
        new_name
        local p=$NAME pid
        run pm run -d --name "$p" "$IMG" sh -c 'while :; do sleep 0.1; done'
        check "pause: run -d in a cgroup v2 context" rc_is 0
        pid=$(pm inspect --format '{{.State.Pid}}' "$p" 2>/dev/null)
        run pm pause "$p"
        check "pause exits 0" rc_is 0
        if [ "$RC" = 0 ]; then # (the rest would pass or fail for no reason)
                run pm inspect --format '{{.State.Status}}' "$p"
                check "pause: podman says paused" eq "$(cat "$W/out")" paused
                check "pause: the container's cgroup is frozen (cgroup.events)" wait_until 10 frozen_is "$pid" 1
                run pm unpause "$p"
                check "unpause exits 0" rc_is 0
                run pm inspect --format '{{.State.Status}}' "$p"
                check "unpause: podman says running" eq "$(cat "$W/out")" running
                check "unpause: the cgroup is thawed" wait_until 10 frozen_is "$pid" 0
                run pm exec "$p" echo after-unpause
                check "unpause: exec works again" eq "$(cat "$W/out")" after-unpause
        fi
        run pm rm -f -t 0 "$p"
        check "rm -f of the unpaused container" rc_is 0
}

CGV=$(pm info --format '{{.Host.CgroupsVersion}}' 2>/dev/null)
if [ "$RT" = urun ] && "$E2E_DIR/bin/urun" pause --help 2>&1 | grep -q "unknown command"; then
        skip "pause/unpause" "urun has no pause verb yet (urun pause --help: unknown command)"
elif [ "$CGV" = v2 ]; then
        pause_scenario
elif use_cgroup2_view; then
        CGV=$(pm info --format '{{.Host.CgroupsVersion}}' 2>/dev/null)
        if [ "$CGV" = v2 ]; then
                diag "pause/unpause: Podman in a cgroup2 view (the host's cgroups are hybrid)"
                pause_scenario
        else
                skip "pause/unpause" "Podman does not see cgroup v2 in the cgroup2 view ($CGV)"
        fi
        leave_cgroup2_view
else
        skip "pause/unpause" "rootless Podman pauses only on cgroup v2, and no cgroup2 view can be made here"
fi

# --- --init --------------------------------------------------------------------------------------

if [ -x /usr/libexec/podman/catatonit ]; then
        prun 0 "--init runs" --init "$IMG" sh -c 'tr "\0" " " </proc/1/cmdline; echo; echo "me=$$"'
        check "--init: pid 1 is podman's init (catatonit)" has "$W/out" '^/run/podman-init '
        check "--init: the command is not pid 1" hasnt "$W/out" '^me=1$'
        prun 7 "--init passes the exit status through (7)" --init "$IMG" sh -c 'exit 7'
else
        skip "--init" "podman's init /usr/libexec/podman/catatonit is not installed (apt-get install catatonit)"
fi

# --- nothing left --------------------------------------------------------------------------------

mark_calls
run pm ps -a -q --filter "name=^$NAMEP-"
check "podman ps -a lists none of our containers" eq "$(cat "$W/out")" ""
left=$(ls -A "$E2E_XDG/$RT" 2>/dev/null | tr '\n' ' ')
check "no $RT state left in \$XDG_RUNTIME_DIR/$RT" eq "$left" ""
[ -n "$CG2_PID" ] && leave_cgroup2_view
kill_pause_process
left=$(ps -u "$E2E_USER" -o pid=,args= 2>/dev/null | grep -Ev 'ps -u' | head -n 5)
check "no process of $E2E_USER left (conmon, containers, pause)" eq "$left" ""

done_testing
