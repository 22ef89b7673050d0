#!/bin/bash
# containerd 1.6 as root, its runc shim (io.containerd.runc.v2) pointed at the freshly built urun
# with `ctr run --runc-binary`: run, exit codes, a terminal, exec, kill, delete, user namespaces.
#
# containerd and the runtime would otherwise create cgroups in this host's v1 hierarchies, which
# the tests must not touch, and state under /run/containerd and /var/lib/containerd. So the daemon
# runs in a cgroup2 view (lib.sh) whose /run is a private tmpfs, with its root in the run's
# directory, and the containers' cgroups inside the test's own cgroup2 subtree.
#
#   URUN=/path/to/urun bash tests/e2e/test-containerd.sh
#   E2E_RUNTIME=runc|crun   the same scenarios against runc or crun, for comparison
. "$(dirname "$0")/lib.sh"

for c in containerd ctr containerd-shim-runc-v2; do
        command -v "$c" >/dev/null || skip_all "$c is not installed (apt-get install containerd)"
done
RT=${E2E_RUNTIME:-urun}
e2e_init
[ -x "$E2E_DIR/wrap/$RT" ] || skip_all "runtime $RT is not installed"
RTPATH=$E2E_DIR/wrap/$RT
NS=urun-e2e

C=$E2E_DIR/ctrd
mkdir -p "$C/root" "$C/tmp"
cat >"$C/config.toml" <<EOF
version = 2
root = "$C/root"
state = "/run/containerd"
disabled_plugins = ["io.containerd.grpc.v1.cri", "io.containerd.internal.v1.opt",
        "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
        "io.containerd.snapshotter.v1.devmapper", "io.containerd.snapshotter.v1.aufs"]

[grpc]
  address = "/run/containerd/containerd.sock"
EOF

E2E_CLEANUP+=(stop_containerd)
CTRD_PID=
# stop_containerd: the daemon (SIGTERM, then whatever is left dies with the cgroup2 view).
stop_containerd() {
        if [ -n "$CTRD_PID" ]; then
                kill -TERM "$CTRD_PID" 2>/dev/null
                wait_until 20 sh -c "! kill -0 $CTRD_PID 2>/dev/null"
                wait "$CTRD_PID" 2>/dev/null
                CTRD_PID=
        fi
        cg2_view_stop
}

if ! cg2_view_start "urun-e2e-ctrd-$$" 'mount -t tmpfs -o mode=0755 tmpfs /run'; then
        skip_all "cannot make a cgroup2 view with a private /run: $(tr '\n' ' ' <"$E2E_DIR/cg2.err")"
fi
CG=/$CG2_NAME/ctr
# A shim given no runtime options runs `runc` from the daemon's PATH: that one is the runtime
# under test as well (see --uidmap below).
mkdir -p "$C/path"
ln -s "$RTPATH" "$C/path/runc"
cg2_enter_cmd daemon
"${CG2_ENTER[@]}" env -i PATH="$C/path:$SYS_PATH" TMPDIR="$C/tmp" containerd -c "$C/config.toml" \
        </dev/null >"$C/containerd.log" 2>&1 &
CTRD_PID=$!

# ctr ARGS...: the client, in the daemon's mount namespace (its socket is on the private /run).
ctr() {
        timeout -k 5 "${E2E_TIMEOUT:-90}" nsenter -t "$CG2_PID" -m -- \
                env -i PATH="$SYS_PATH" ctr -a /run/containerd/containerd.sock -n "$NS" "$@"
}

if ! wait_until 30 ctr version; then
        tail -n 20 "$C/containerd.log" | sed 's/^/# /'
        bail "containerd did not come up"
fi
diag "runtime $RT ($(sed -n 's/^real=//p' "$RTPATH" | tr -d "'")), containerd $(containerd --version | cut -d' ' -f3)," \
        "in a cgroup2 view"

FIFO=/run/containerd/fifo
# The runc shim options every container gets: the runtime binary, our cgroup subtree, no cpu
# shares (this cgroup2 hierarchy has no cpu controller: runc fails on ctr's default of 1024).
RUNOPTS=(--runc-binary "$RTPATH" --cpu-shares 0 --fifo-dir "$FIFO")

# --- the image, without a registry ---------------------------------------------------------------

IMG=localhost/urun-e2e/busybox:latest
make_rootfs_tar "$E2E_DIR/busybox-rootfs.tar"
make_oci_archive "$E2E_DIR/busybox-rootfs.tar" "$IMG" "$E2E_DIR/busybox-oci.tar"
run ctr image import "$E2E_DIR/busybox-oci.tar"
check "ctr image import of an OCI archive" rc_is 0
run ctr image ls -q
check "the image is listed" has "$W/out" "^$IMG\$"

_n=0
new_id() {
        _n=$((_n + 1))
        ID=e2e-$$-$_n
}

# crun_ WANT DESC CTR-RUN-ARGS... -- CMD...: `ctr run --rm` of IMG exits WANT.
crun_() {
        local want=$1 desc=$2 opts=()
        shift 2
        while [ "$1" != -- ]; do
                opts+=("$1")
                shift
        done
        shift
        mark_calls
        new_id
        run ctr run --rm "${RUNOPTS[@]}" --cgroup "$CG/$ID" "${opts[@]}" "$IMG" "$ID" "$@"
        check "$desc" rc_is "$want"
}

# --- run, output, exit codes ---------------------------------------------------------------------

crun_ 0 "ctr run --rm echo exits 0" -- echo hello-ctr
check "ctr run --rm: the output comes back" eq "$(cat "$W/out")" hello-ctr
check "the shim ran the runtime under test" has "$E2E_DIR/logs/calls.log" "^$RT \\[containerd-shim.* create --bundle "
crun_ 7 "ctr run --rm: the exit status comes back (7)" -- sh -c 'exit 7'
crun_ 0 "ctr run --rm: a pid namespace, pid 1 is the command" -- sh -c 'echo "me=$$"'
check "ctr run --rm: pid 1" has "$W/out" '^me=1$'
crun_ 0 "ctr run --rm: the container is in its cgroup" -- cat /proc/self/cgroup
check "ctr run --rm: /proc/self/cgroup names the cgroup from --cgroup" has "$W/out" "^0::(/$CG2_NAME/ctr/$ID|/)\$"
crun_ 0 "ctr run --seccomp (containerd's default profile)" --seccomp -- grep ^Seccomp: /proc/self/status
check "ctr run --seccomp: Seccomp: 2" has "$W/out" '^Seccomp:[[:space:]]+2$'

# ctr asks for cpu shares 1024 unless told otherwise: that needs the cpu controller, which this
# cgroup2 hierarchy may not have (on a hybrid host it is bound to v1). Then create must fail and
# say so, and leave nothing behind (checked at the end).
mark_calls
new_id
run ctr run --rm --runc-binary "$RTPATH" --fifo-dir "$FIFO" --cgroup "$CG/$ID" "$IMG" "$ID" echo shares
if nsenter -t "$CG2_PID" -m -- grep -qw cpu "/sys/fs/cgroup/$CG2_NAME/cgroup.controllers"; then
        check "ctr run with ctr's default cpu shares (the cpu controller is there)" rc_is 0
else
        check "ctr run with cpu shares and no cpu controller fails" eq "$([ "$RC" != 0 ] && echo failed)" failed
        check "... and the error names the cpu controller" has "$W/err" 'cpu'
fi

# --- a terminal ----------------------------------------------------------------------------------

# ctr applies its terminal's size with a Resize request after `start` returns, so a fast
# container can see 0x0 at first (runc is just slower to get there): the shell polls, bounded,
# until the size is set (busybox `stty size` prints nothing on stdout for 0x0, and exits 0).
if [ -n "$PTYDRIVE" ]; then
        mark_calls
        new_id
        run "$PTYDRIVE" --size 29x99 --timeout 40 --wait '# ' \
                --send 'i=0; until [ -n "$(stty size 2>/dev/null)" ] || [ $i -ge 200 ]; do sleep 0.05; i=$((i+1)); done\r' \
                --send 'tty; stty size; echo X$((6*7))Y\r' --wait 'X42Y' --send 'exit 3\r' \
                -- nsenter -t "$CG2_PID" -m -- env -i PATH="$SYS_PATH" TERM=xterm \
                ctr -a /run/containerd/containerd.sock -n "$NS" run -t --rm "${RUNOPTS[@]}" --cgroup "$CG/$ID" \
                "$IMG" "$ID" sh
        tr -d '\r' <"$W/out" >"$W/clean"
        check "ctr run -t: the shell's exit status comes back (3)" rc_is 3
        check "ctr run -t: the container has a pty (--console-socket)" has "$W/clean" '^/dev/pts/[0-9]+$'
        check "ctr run -t: the window size reaches the container" has "$W/clean" '^29 99$'
        check "ctr run -t: typed input runs" has "$W/clean" '^X42Y$'
else
        skip "ctr run -t" "tests/payload/ptydrive is not built"
fi

# --- detached: exec, ps, pause, kill, delete -----------------------------------------------------

task_status() {
        ctr task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'
}

status_is() {
        [ "$(task_status "$1")" = "$2" ]
}

mark_calls
new_id
D=$ID
run ctr run -d "${RUNOPTS[@]}" --cgroup "$CG/$D" "$IMG" "$D" sh -c \
        'trap "echo got-TERM >/tmp/sig; exit 0" TERM; while :; do sleep 0.1; done'
check "ctr run -d" rc_is 0
check "the detached task is RUNNING" wait_until 20 status_is "$D" RUNNING

# exec_out EXEC-ID CMD...: `ctr task exec` in task D. ctr 1.6 now and then loses the output of a
# process that exits at once (its FIFO reader is not attached yet; runc shows it as well): an
# empty output with status 0 is retried, twice at most.
exec_out() {
        local eid=$1 i
        shift
        for i in 1 2 3; do
                run ctr task exec --exec-id "$eid-$i" --fifo-dir "$FIFO" "$D" "$@"
                [ -s "$W/out" ] || [ "$RC" != 0 ] && return 0
                diag "ctr task exec $eid: no output, retrying (a ctr FIFO race)"
        done
}

mark_calls
exec_out x1 echo from-exec
check "ctr task exec: the output comes back" eq "$(cat "$W/out")" from-exec
run ctr task exec --exec-id x2 --fifo-dir "$FIFO" "$D" sh -c 'exit 5'
check "ctr task exec: the exit status comes back (5)" rc_is 5
exec_out x3 sh -c 'tr "\0" " " </proc/1/cmdline'
check "ctr task exec: joins the task's pid namespace" has "$W/out" '^sh -c trap'
if [ -n "$PTYDRIVE" ]; then
        run "$PTYDRIVE" --timeout 30 -- nsenter -t "$CG2_PID" -m -- env -i PATH="$SYS_PATH" \
                ctr -a /run/containerd/containerd.sock -n "$NS" task exec -t --exec-id x4 --fifo-dir "$FIFO" \
                "$D" tty
        tr -d '\r' <"$W/out" >"$W/clean"
        check "ctr task exec -t: a pty (exec --tty --console-socket)" has "$W/clean" '^/dev/pts/[0-9]+$'
fi

if "$E2E_DIR/bin/urun" ps --help 2>&1 | grep -q "unknown command" && [ "$RT" = urun ]; then
        skip "ctr task ps" "urun has no ps verb yet (urun ps --help: unknown command)"
else
        mark_calls
        pid=$(ctr task ls 2>/dev/null | awk -v id="$D" '$1 == id { print $2 }')
        run ctr task ps "$D"
        check "ctr task ps lists the task's init ($pid)" has "$W/out" "^${pid}[[:space:]]"
fi

frozen_is() {
        local cg
        cg=$(awk -F: '$1 == "0" { print $3 }' "/proc/$1/cgroup" 2>/dev/null)
        [ -n "$cg" ] && [ "$cg" != / ] || return 1
        nsenter -t "$CG2_PID" -m -- cat "/sys/fs/cgroup$cg/cgroup.events" 2>/dev/null | grep -qx "frozen $2"
}

if "$E2E_DIR/bin/urun" pause --help 2>&1 | grep -q "unknown command" && [ "$RT" = urun ]; then
        skip "ctr task pause/resume" "urun has no pause verb yet (urun pause --help: unknown command)"
else
        mark_calls
        pid=$(ctr task ls 2>/dev/null | awk -v id="$D" '$1 == id { print $2 }')
        run ctr task pause "$D"
        check "ctr task pause exits 0" rc_is 0
        if [ "$RC" = 0 ]; then
                check "ctr task pause: PAUSED" status_is "$D" PAUSED
                check "ctr task pause: the cgroup is frozen" wait_until 10 frozen_is "$pid" 1
                run ctr task resume "$D"
                check "ctr task resume exits 0" rc_is 0
                check "ctr task resume: RUNNING" status_is "$D" RUNNING
                check "ctr task resume: the cgroup is thawed" wait_until 10 frozen_is "$pid" 0
        fi
fi

mark_calls
run ctr task kill -s TERM "$D"
check "ctr task kill -s TERM exits 0" rc_is 0
check "after SIGTERM the task is STOPPED" wait_until 20 status_is "$D" STOPPED
run ctr task delete "$D"
check "ctr task delete of the stopped task" rc_is 0
run ctr container delete "$D"
check "ctr container delete" rc_is 0

mark_calls
new_id
K=$ID
run ctr run -d "${RUNOPTS[@]}" --cgroup "$CG/$K" "$IMG" "$K" sleep 1000
wait_until 20 status_is "$K" RUNNING
run ctr task kill -s KILL "$K"
check "ctr task kill -s KILL exits 0" rc_is 0
check "after SIGKILL the task is STOPPED" wait_until 20 status_is "$K" STOPPED
run ctr task delete "$K"
check "ctr task delete reports the exit status 137" has "$W/all" 'exit code 137'
run ctr container delete "$K"

mark_calls
new_id
F=$ID
run ctr run -d "${RUNOPTS[@]}" --cgroup "$CG/$F" "$IMG" "$F" sleep 1000
wait_until 20 status_is "$F" RUNNING
run ctr task delete --force "$F"
check "ctr task delete --force of a running task" rc_is 0
run ctr container delete "$F"
check "ctr container delete after a forced task delete" rc_is 0

# --- user namespaces -----------------------------------------------------------------------------
# `ctr run --uidmap` drops the runtime options (--runc-binary): the shim then runs `runc` from
# the daemon's PATH, which is the runtime under test here too (clients.md: with a plain PATH the
# test would silently have run /usr/sbin/runc).

crun_ 0 "ctr run --uidmap/--gidmap" --uidmap 0:500000:65536 --gidmap 0:500000:65536 -- \
        sh -c 'cat /proc/self/uid_map /proc/self/gid_map; id -u'
check "--uidmap: uid_map is 0 500000 65536" has "$W/out" '^[[:space:]]*0[[:space:]]+500000[[:space:]]+65536$'
check "--uidmap: root inside" has "$W/out" '^0$'
check "--uidmap: the shim ran $RT" has "$E2E_DIR/logs/calls.log" "^$RT \\[containerd-shim.* create .*$ID"

# --- nothing left --------------------------------------------------------------------------------

mark_calls
run ctr container ls -q
check "ctr container ls is empty" eq "$(cat "$W/out")" ""
left=$(nsenter -t "$CG2_PID" -m -- ls -A "/run/containerd/runc/$NS" 2>/dev/null | tr '\n' ' ')
check "no runtime state left under the shim's --root" eq "$left" ""
check "containerd stops, its cgroup2 subtree is gone" stop_containerd

done_testing
