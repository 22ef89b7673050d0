#!/bin/bash
# Helper of test-cgroup.sh (root mode only): the cgroup verbs and wiring on a real, delegated
# cgroup2 subtree.
#
#   --setup OUTDIR   as root, in a private mount namespace (unshare -m): mount a fresh cgroup2 over
#                    /sys/fs/cgroup (the host's mounts outside this namespace are never touched),
#                    make /sys/fs/cgroup/urun-test-PID with the runner in its leaf init.scope and
#                    hugetlb (the one controller cgroup2 owns on a hybrid host) enabled for its
#                    children, delegate it to the test user (chown of the directory and of the files
#                    in /sys/kernel/cgroup/delegate), run `--tests` as that user and as root (TAP in
#                    OUTDIR/user.tap and OUTDIR/root.tap), then check that nothing is left in the
#                    subtree and remove it. Its own TAP (the checks) goes to stdout. A reason to skip
#                    everything goes to OUTDIR/skip.
#   --tests          the tests, in the view made by --setup (CG_BASE: the delegated node;
#                    CG_HUGETLB=1 when hugetlb is enabled there); sources lib.sh like any script.
set -u
TEST_USER=uruntest
SYS_PATH=/usr/sbin:/usr/bin:/sbin:/bin
SELF=$(readlink -f "$0")

if [ "${1:-}" = --setup ]; then
        OUT=$2
        skip_all() {
                echo "$*" >"$OUT/skip"
                exit 0
        }
        mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null || skip_all "cannot mount cgroup2 on /sys/fs/cgroup"
        CG_ROOT=/sys/fs/cgroup
        CG_BASE=$CG_ROOT/urun-test-$$
        mkdir "$CG_BASE" "$CG_BASE/init.scope" 2>/dev/null || skip_all "cannot create $CG_BASE"
        . "$(dirname "$SELF")/lib.sh"

        # The hierarchy is the host's: whatever happens, the subtree goes and the root's
        # subtree_control is put back.
        ROOT_HUGETLB_ADDED=0
        teardown() {
                if [ -d "$CG_BASE" ]; then
                        echo 1 >"$CG_BASE/cgroup.kill" 2>/dev/null
                        wait_until 10 file_has "$CG_BASE/cgroup.events" '^populated 0'
                        find "$CG_BASE" -depth -mindepth 1 -type d -exec rmdir {} \; 2>/dev/null
                        rmdir "$CG_BASE" 2>/dev/null
                fi
                if [ "$ROOT_HUGETLB_ADDED" = 1 ]; then
                        echo -hugetlb >"$CG_ROOT/cgroup.subtree_control" 2>/dev/null
                fi
                _cleanup
        }
        trap teardown EXIT

        CG_HUGETLB=0
        if grep -qw hugetlb "$CG_ROOT/cgroup.controllers"; then
                if ! grep -qw hugetlb "$CG_ROOT/cgroup.subtree_control"; then
                        echo +hugetlb >"$CG_ROOT/cgroup.subtree_control" && ROOT_HUGETLB_ADDED=1
                fi
                echo +hugetlb >"$CG_BASE/cgroup.subtree_control" && CG_HUGETLB=1
        fi
        [ "$CG_HUGETLB" = 1 ]
        result $? "hugetlb enabled for the containers' cgroups in $CG_BASE"

        # run_tests WHO: the tests as WHO (user or root), from the leaf init.scope.
        run_tests() {
                local who=$1 dir=$OUT/$1 uid
                local envv=(PATH="$SYS_PATH" URUN="$URUN" PAYLOAD="$PAYLOAD" TMPDIR="$dir" LC_ALL=C
                        URUN_ROOT="$dir/state" CG_BASE="$CG_BASE" CG_HUGETLB="$CG_HUGETLB")
                local cmd
                [ -n "${ASAN_OPTIONS:-}" ] && envv+=(ASAN_OPTIONS="$ASAN_OPTIONS")
                [ -n "${UBSAN_OPTIONS:-}" ] && envv+=(UBSAN_OPTIONS="$UBSAN_OPTIONS")
                mkdir -p "$dir"
                if [ "$who" = user ]; then
                        uid=$(id -u "$TEST_USER")
                        chown "$TEST_USER:$TEST_USER" "$dir"
                        envv+=(TEST_MODE=rootless HOME="$dir" USER="$TEST_USER" XDG_RUNTIME_DIR="/run/user/$uid")
                        cmd=(setpriv --reuid "$TEST_USER" --regid "$TEST_USER" --init-groups env -i "${envv[@]}")
                else
                        envv+=(TEST_MODE=root HOME=/root USER=root)
                        cmd=(env -i "${envv[@]}")
                fi
                # shellcheck disable=SC2016
                bash -c 'echo $$ >"$1/init.scope/cgroup.procs" && shift && exec "$@"' sh "$CG_BASE" \
                        timeout -k 5 100 "${cmd[@]}" bash "$SELF" --tests >"$OUT/$who.tap" 2>&1 </dev/null
        }

        if ! id "$TEST_USER" >/dev/null 2>&1; then
                skip "the tests as an unprivileged user" "no user $TEST_USER (make check creates it)"
        elif ! setpriv --reuid "$TEST_USER" --regid "$TEST_USER" --init-groups test -x "$URUN" -a -r "$SELF"; then
                skip "the tests as an unprivileged user" "$TEST_USER cannot run $URUN or read $SELF"
        else
                # delegation: the node and the files the kernel lists for a delegatee
                chown "$TEST_USER:$TEST_USER" "$CG_BASE"
                for f in $(cat /sys/kernel/cgroup/delegate 2>/dev/null || echo cgroup.procs cgroup.threads cgroup.subtree_control); do
                        [ -e "$CG_BASE/$f" ] && chown "$TEST_USER:$TEST_USER" "$CG_BASE/$f"
                done
                run_tests user
                ok "the tests ran as $TEST_USER in the delegated subtree"
        fi
        run_tests root
        ok "the tests ran as root in the cgroup2 view"

        left=$(find "$CG_BASE" -mindepth 1 -type d ! -path "$CG_BASE/init.scope" 2>/dev/null)
        is "$left" "" "no cgroup left in the subtree after delete"
        wait_until 10 file_has "$CG_BASE/cgroup.events" '^populated 0'
        result $? "no process left in the subtree" "$CG_BASE/cgroup.procs"
        done_testing
        exit
fi

[ "${1:-}" = --tests ] || { echo "usage: $0 --setup OUTDIR | --tests" >&2; exit 2; }
: "${CG_BASE:?}" "${CG_HUGETLB:?}"
. "$(dirname "$SELF")/lib.sh"

REL=${CG_BASE#/sys/fs/cgroup}

cgroup_of() {
        sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null
}

lines_ge() {
        [ "$(wc -l <"$1")" -ge "$2" ]
}

ppid_of() {
        sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2
}

# cgroup_view BUNDLE [own-sysfs]: a cgroup namespace and a cgroup2 mount on /sys/fs/cgroup, which
# shows the container's own cgroup. own-sysfs: a network namespace and a fresh sysfs instead of the
# host's /sys that rootless configs bind (whose /sys/fs/cgroup is the host's cgroup2 mount).
cgroup_view() {
        local own=false
        [ -n "${2:-}" ] && own=true
        cfg "$1" '(if any(.linux.namespaces[]; .type == "cgroup") then . else .linux.namespaces += [{"type": "cgroup"}] end)
                  | if $own then
                        (if any(.linux.namespaces[]; .type == "network") then . else .linux.namespaces += [{"type": "network"}] end)
                        | .mounts = [.mounts[] | select(.destination != "/sys")]
                        | .mounts += [{"destination": "/sys", "type": "sysfs", "source": "sysfs",
                                       "options": ["nosuid", "noexec", "nodev", "ro"]}]
                    else . end
                  | .mounts = [.mounts[] | select(.destination != "/sys/fs/cgroup")]
                  | .mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup",
                                 "options": ["nosuid", "noexec", "nodev", "ro"]}]' --argjson own "$own"
}

diag "as $(id -un) ($TEST_MODE), own cgroup $(cgroup_of $$), delegated node $CG_BASE, hugetlb=$CG_HUGETLB"

# --- placement, exec, ps, events, update on a process tree ---
B=$T/b
make_bundle "$B" /payload fork-pause
cgroup_view "$B" own-sysfs
new_id
C=$ID
urun run -d --bundle "$B" "$C" >"$T/c.out" 2>"$T/c.err" </dev/null
result $? "run -d of a process tree" "$T/c.err"
wait_until 10 file_has "$T/c.out" '^ready child='
result $? "its program runs" "$T/c.out" "$T/c.err"
INIT=$(urun state "$C" 2>/dev/null | jq -r .pid)
LEAF=$(urun state "$C" 2>/dev/null | jq -r .cgroup)
is "$LEAF" "$CG_BASE/urun-$C" "state: the container's cgroup is a sibling of the caller's leaf"
is "$(cgroup_of "$INIT")" "$REL/urun-$C" "the init is in the container's cgroup (/proc/PID/cgroup)"
CHILD=
for p in /proc/[0-9]*; do
        p=${p#/proc/}
        [ "$(ppid_of "$p")" = "$INIT" ] && CHILD=$p
done
is "$(cgroup_of "${CHILD:-0}")" "$REL/urun-$C" "the init's child is in it too"
is "$(cgroup_of $$)" "$REL/init.scope" "the caller stays in its own leaf"

run urun exec "$C" /bin/grep '^0::' /proc/self/cgroup
is "$(cat "$T/out")" "0::/" "inside, /proc/self/cgroup says 0::/ (a cgroup namespace rooted at the leaf)"
urun exec -d --pid-file "$T/x.pid" "$C" /payload pause >/dev/null 2>"$T/x.err" </dev/null
result $? "exec -d of a second program" "$T/x.err"
XPID=$(cat "$T/x.pid" 2>/dev/null)
is "$(cgroup_of "${XPID:-0}")" "$REL/urun-$C" "exec joins the container's cgroup"

WANT=$(printf '%s\n' "$INIT" "$CHILD" "$XPID" | sort -n | paste -sd, -)
run urun ps --format json "$C"
is "$(cat "$T/out")" "[$WANT]" "ps --format json: every process of the cgroup"
run urun ps "$C"
like "$T/out" '^UID +PID' "ps (table): ps -ef's header"
is "$(tail -n +2 "$T/out" | awk '{print $2}' | sort -n | paste -sd, -)" "$WANT" "ps (table): the cgroup's processes"

run urun events --stats "$C"
is "$RC:$(wc -l <"$T/out")" "0:1" "events --stats prints one line"
[ -s "$T/out" ] && jq -e --arg id "$C" '.type == "stats" and .id == $id' "$T/out" >/dev/null 2>&1
result $? "events --stats: type stats, the container's id" "$T/all"
[ -s "$T/out" ] && jq -e '.data | (.cpu.usage | has("kernel") and has("user")) and (.cpu | has("throttling"))
                and (.memory.usage | has("limit")) and (.memory | has("swap"))
                and has("pids") and has("blkio") and has("hugetlb")' "$T/out" >/dev/null 2>&1
result $? "events --stats: runc's cpu, memory, pids, blkio and hugetlb sections" "$T/out"
is "$(jq -r .data.pids.current "$T/out" 2>/dev/null)" 3 "events --stats: pids.current counts the cgroup's 3 processes"
if [ "$CG_HUGETLB" = 1 ]; then
        is "$(jq -r '.data.hugetlb["2MB"].failcnt' "$T/out" 2>/dev/null)" 0 "events --stats: hugetlb 2MB failcnt"
else
        skip "events --stats: hugetlb 2MB failcnt" "hugetlb is not enabled here"
fi

# update: the files change, and a later exec sees them through its cgroup view
if [ "$CG_HUGETLB" = 1 ]; then
        echo '{"hugepageLimits": [{"pageSize": "2MB", "limit": 4194304}], "unified": {"cgroup.max.descendants": "7"}}' >"$T/r.json"
else
        echo '{"unified": {"cgroup.max.descendants": "7"}}' >"$T/r.json"
fi
stdin_urun "$T/r.json" update --resources - "$C"
is "$RC" 0 "update --resources - (JSON on stdin, containerd's form)"
is "$(cat "$LEAF/cgroup.max.descendants")" 7 "update: a unified key is written to its file"
if [ "$CG_HUGETLB" = 1 ]; then
        is "$(cat "$LEAF/hugetlb.2MB.max")" 4194304 "update: the hugetlb limit is in hugetlb.2MB.max"
else
        skip "update: the hugetlb limit is in hugetlb.2MB.max" "hugetlb is not enabled here"
fi
echo '{"unified": {"cgroup.max.depth": "3"}}' >"$T/r2.json"
expect_rc 0 "update --resources=FILE (Podman's form)" urun update --resources="$T/r2.json" "$C"
is "$(cat "$LEAF/cgroup.max.depth")" 3 "update --resources=FILE: written"
run urun exec "$C" /bin/cat /sys/fs/cgroup/cgroup.max.descendants /sys/fs/cgroup/cgroup.max.depth
is "$(cat "$T/out" | paste -sd, -)" "7,3" "a later exec sees the updated limits in its cgroup"
echo '{"unified": {"cgroup.procs": "1"}}' >"$T/r3.json"
one_line_with "cgroup.procs" "update of a cgroup file urun manages is refused" urun update -r "$T/r3.json" "$C"
one_line_with "pids controller" "update --pids-limit where pids is not available names the controller" \
        urun update --pids-limit 5 "$C"

# events until the container stops
"$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} events --interval 200ms "$C" >"$T/ev.out" 2>"$T/ev.err" </dev/null &
EV=$!
_bg_pids+=("$EV")
wait_until 20 lines_ge "$T/ev.out" 2
result $? "events --interval 200ms prints stats lines" "$T/ev.out" "$T/ev.err"

# kill --all: every process of the cgroup, the exec'd one included
expect_rc 0 "kill --all KILL" urun kill --all "$C" KILL
wait_until 10 pid_gone "$INIT" && wait_until 10 pid_gone "$CHILD" && wait_until 10 pid_gone "$XPID"
result $? "kill --all: every process of the container is gone"
wait_until 10 file_has "$LEAF/cgroup.events" '^populated 0'
result $? "kill --all: the cgroup is empty" "$LEAF/cgroup.procs"
wait_bg "$EV"
is "$?" 0 "events exits 0 when the container stops"
jq -se 'length >= 3 and all(.[:-1][]; .type == "stats")' "$T/ev.out" >/dev/null 2>&1
result $? "events: stats lines until the container stops" "$T/ev.out"
is "$(tail -n 1 "$T/ev.out")" "{\"type\":\"exit\",\"id\":\"$C\"}" "events: the last line is the exit event"
run urun ps --format json "$C"
is "$(cat "$T/out")" "[]" "ps --format json of the stopped container: []"
expect_rc 0 "delete of the stopped container" urun delete "$C"
[ ! -e "$LEAF" ]
result $? "delete removes the container's cgroup"

# --- pause and resume: the program really stops ---
mkdir -p "$T/shared"
chmod 0777 "$T/shared"
B2=$T/b2
make_bundle "$B2" /bin/sh -c 'while :; do echo x >>/shared/ticks; sleep 0.05; done'
add_bind "$B2" "$T/shared" /shared
new_id
P=$ID
expect_rc 0 "run -d of a ticking program" urun run -d --bundle "$B2" "$P"
wait_until 10 test -s "$T/shared/ticks"
result $? "it ticks" "$T/all"
PLEAF=$(urun state "$P" 2>/dev/null | jq -r .cgroup)
expect_rc 0 "pause" urun pause "$P"
is "$(status_of "$P")" paused "state says paused"
like "$PLEAF/cgroup.events" '^frozen 1$' "cgroup.events says frozen 1"
n1=$(wc -l <"$T/shared/ticks")
sleep 0.4 # an absence of progress can only be observed over some time
n2=$(wc -l <"$T/shared/ticks")
is "$n2" "$n1" "paused: no tick in 0.4 s"
one_line_with "cannot pause container '$P': it is paused, not running" "pause of a paused container" urun pause "$P"
one_line_with "paused" "exec into a paused container is refused" urun exec "$P" /bin/true
expect_rc 0 "resume" urun resume "$P"
is "$(status_of "$P")" running "state says running again"
like "$PLEAF/cgroup.events" '^frozen 0$' "cgroup.events says frozen 0"
wait_until 10 lines_ge "$T/shared/ticks" $((n2 + 1))
result $? "resumed: it ticks again"
one_line_with "cannot resume container '$P': it is running, not paused" "resume of a running container" urun resume "$P"
expect_rc 0 "pause again" urun pause "$P"
expect_rc 0 "delete --force of a paused container" urun delete --force "$P"
[ ! -e "$PLEAF" ] && ! state_dir_exists "$P"
result $? "the paused container's cgroup and state are gone"

# --- limits from config.json ---
B3=$T/b3
make_bundle "$B3" /payload pause
if [ "$CG_HUGETLB" = 1 ]; then
        cfg "$B3" '.linux.resources = {"hugepageLimits": [{"pageSize": "2MB", "limit": 2097152}],
                                       "unified": {"cgroup.max.descendants": "5"}}'
else
        cfg "$B3" '.linux.resources = {"unified": {"cgroup.max.descendants": "5"}}'
fi
new_id
expect_rc 0 "run -d with linux.resources (unified, hugepageLimits)" urun run -d --bundle "$B3" "$ID"
L3=$(urun state "$ID" 2>/dev/null | jq -r .cgroup)
is "$(cat "$L3/cgroup.max.descendants" 2>/dev/null)" 5 "the unified map of config.json is written"
if [ "$CG_HUGETLB" = 1 ]; then
        is "$(cat "$L3/hugetlb.2MB.max" 2>/dev/null)" 2097152 "hugepageLimits: hugetlb.2MB.max"
else
        skip "hugepageLimits: hugetlb.2MB.max" "hugetlb is not enabled here"
fi
expect_rc 0 "delete --force of it" urun delete --force "$ID"
[ ! -e "$L3" ]
result $? "its cgroup is removed"

# the config's own /sys (rootless: the host's, bound): /sys/fs/cgroup must still show the
# container's cgroup, never the whole hierarchy
B5=$T/b5
make_bundle "$B5" /payload pause
cgroup_view "$B5"
cfg "$B5" '.linux.resources = {"unified": {"cgroup.max.descendants": "9"}}'
new_id
expect_rc 0 "run -d with the config's own /sys and a cgroup2 mount" urun run -d --bundle "$B5" "$ID"
run urun exec "$ID" /bin/cat /sys/fs/cgroup/cgroup.max.descendants
is "$(cat "$T/out")" 9 "with the config's /sys, the container's /sys/fs/cgroup is its own cgroup"
expect_rc 0 "delete --force of it" urun delete --force "$ID"

# a kernel without CLONE_INTO_CGROUP: the init moves itself into its cgroup first thing, then
# unshares the cgroup namespace, which is rooted at the leaf all the same
B7=$T/b7
make_bundle "$B7" /bin/sh -c 'grep "^0::" /proc/self/cgroup; wc -l </sys/fs/cgroup/cgroup.procs'
cgroup_view "$B7" own-sysfs
cfg "$B7" '.linux.resources = {"unified": {"cgroup.max.descendants": "5"}}'
new_id
URUN_TEST_NO_CLONE_INTO_CGROUP=1 run urun --debug run --bundle "$B7" "$ID"
is "$RC:$(paste -sd' ' - <"$T/out")" "0:0::/ 1" \
        "without CLONE_INTO_CGROUP: the init moves itself, its cgroup namespace is rooted at its leaf"
like "$T/err" "clone3 cannot place the init in its cgroup .*: it moves itself there first" \
        "without CLONE_INTO_CGROUP: the fallback was taken"
[ ! -e "$CG_BASE/urun-$ID" ]
result $? "without CLONE_INTO_CGROUP: the cgroup is removed after the run"

# cgroup ownership (runtime spec): a rw cgroup2 mount with a new cgroup namespace gives the
# container's cgroup (the directory and the delegatable files) to process.user; ro changes nothing
# owner_case DESC OPTS_JSON UID GID: run a container as UID:GID with those cgroup mount options;
# leaves $T/own (ownership of the leaf dir, cgroup.procs, cgroup.max.depth seen from the host) and
# $T/own-out (the container's `stat` of its /sys/fs/cgroup and the result of mkdir there).
owner_case() {
        local b=$T/b-own
        rm -rf "$b"
        make_bundle "$b" /bin/sh -c 'stat -c %u:%g /sys/fs/cgroup; mkdir /sys/fs/cgroup/sub 2>/dev/null && echo mkdir-ok || echo mkdir-failed; sleep 600'
        cgroup_view "$b" own-sysfs
        cfg "$b" '.mounts |= map(if .destination == "/sys/fs/cgroup" then .options = $o else . end)
                  | .process.user.uid = $u | .process.user.gid = $g' \
                --argjson o "$2" --argjson u "$3" --argjson g "$4"
        [ -n "${OWN_MAPS:-}" ] && cfg "$b" "$OWN_MAPS"
        new_id
        urun run -d --bundle "$b" "$ID" >"$T/own-out" 2>"$T/err" </dev/null
        result $? "$1: run -d" "$T/err"
        wait_until 10 lines_ge "$T/own-out" 2
        local leaf=$CG_BASE/urun-$ID
        stat -c %u:%g "$leaf" "$leaf/cgroup.procs" "$leaf/cgroup.max.depth" 2>&1 | paste -sd' ' - >"$T/own"
        rmdir "$leaf/sub" 2>/dev/null
        expect_rc 0 "$1: delete --force" urun delete --force "$ID"
}
ME_ID=$(id -u):$(id -g)
if [ "$(id -u)" = 0 ]; then
        owner_case "rw cgroup mount, process.user 1000" '["nosuid","noexec","nodev","rw"]' 1000 1000
        is "$(cat "$T/own")" "1000:1000 1000:1000 0:0" \
                "rw cgroup mount: the leaf and cgroup.procs are chowned to process.user, other files not"
        is "$(paste -sd' ' - <"$T/own-out")" "1000:1000 mkdir-ok" "rw cgroup mount: process.user may create a sub-cgroup inside"
        owner_case "ro cgroup mount, process.user 1000" '["nosuid","noexec","nodev","ro"]' 1000 1000
        is "$(cat "$T/own")" "0:0 0:0 0:0" "ro cgroup mount: the cgroup keeps its owner"
        is "$(paste -sd' ' - <"$T/own-out")" "0:0 mkdir-failed" "ro cgroup mount: no sub-cgroup inside"
else
        owner_case "rw cgroup mount, rootless" '["nosuid","noexec","nodev","rw"]' 0 0
        is "$(cat "$T/own")" "$ME_ID $ME_ID $ME_ID" "rw cgroup mount rootless: the cgroup stays the user's"
        is "$(paste -sd' ' - <"$T/own-out")" "0:0 mkdir-ok" "rw cgroup mount rootless: root of the container may create a sub-cgroup"
        owner_case "ro cgroup mount, rootless" '["nosuid","noexec","nodev","ro"]' 0 0
        is "$(paste -sd' ' - <"$T/own-out")" "0:0 mkdir-failed" "ro cgroup mount rootless: no sub-cgroup inside"
        owner_case "rw cgroup mount rootless, process.user 1000" '["nosuid","noexec","nodev","rw"]' 1000 1000
        is "$(cat "$T/own")" "$ME_ID $ME_ID $ME_ID" \
                "rw cgroup mount rootless, process.user 1000: the cgroup stays the user's (urun must be able to remove it)"
fi

B4=$T/b4
make_bundle "$B4" /payload exit 0
cfg "$B4" '.linux.resources = {"memory": {"limit": 67108864}}'
new_id
one_line_with "memory controller is not delegated" "a memory limit where memory is not available" \
        urun run --bundle "$B4" "$ID"
grep -qF "Delegate=memory" "$T/err" && grep -qF "echo +memory" "$T/err"
result $? "the error says how to delegate the controller" "$T/err"
[ ! -e "$CG_BASE/urun-$ID" ] && ! state_dir_exists "$ID"
result $? "the refused create left no cgroup and no state"

left=$(find "$CG_BASE" -mindepth 1 -maxdepth 1 -type d -name 'urun-*' 2>/dev/null)
is "$left" "" "no container cgroup is left"
done_testing
