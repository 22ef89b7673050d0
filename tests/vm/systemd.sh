#!/bin/bash
# urun --systemd-cgroup against a real systemd user instance, inside the VM (tests/vm/check-vm.sh),
# run rootless by the test user from the leaf init.scope of its delegated subtree ($URUN_VM_CGROUP).
#
# There is no system instance in the VM (PID 1 is busybox): `systemd --user` runs on its own, in a
# cgroup of the delegated subtree (.../user@UID.service/systemd, its root cgroup), with a minimal
# target (nothing but what it always has), listening on $XDG_RUNTIME_DIR/systemd/private. It needs
# only what sd_booted() looks for, /run/systemd/system (made by guest-init.sh), and the host's
# systemd package (the VM runs the host's /usr). Then:
#   - before it runs: --systemd-cgroup falls back to the cgroupfs path, with one warning;
#   - through its private socket: the init is in PREFIX-NAME.scope (host and container views),
#     Delegate=yes, the limits are enforced and known to systemd, delete leaves no unit or cgroup,
#     the name can be used again at once, a cgroup namespace is rooted at the scope;
#   - through the user's message bus (dbus-daemon, socket-activated by systemd): the same scope.
. "$LIBDIR/lib.sh"

CG=$URUN_VM_CGROUP
SD=$CG/systemd
SYSTEMD=/usr/lib/systemd/systemd
cg_of() { echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null)"; }
section() { diag "--- $1 (at ${SECONDS}s)"; }
unit_prop() { systemctl --user show -p "$2" --value "$1" 2>/dev/null; }
manager_prop() { systemctl --user show -p "$1" --value 2>/dev/null; }
unit_gone() { [ "$(unit_prop "$1" LoadState)" = not-found ] && [ ! -e "$2" ]; }

B=$T/bundle
make_bundle "$B"
cp "$CGLOAD" "$B/rootfs/cgload"
cp "$B/config.json" "$T/config.base"

# sctr CGROUPS_PATH RESOURCES CMD [JQ_FILTER]: a detached --systemd-cgroup container (cgroupsPath
# with @ID@ replaced by its id, "" for none) running the shell command CMD, then /payload pause;
# its output in $S/log, CMD's status in $S/rc. Sets ID, S, PID, CGP (its cgroup directory, seen
# from here); urun's output is in $T/out, $T/err. Returns once CMD has finished.
sctr() {
        local path=$1 res=$2 cmd=$3 extra=${4:-.}
        new_id
        S=$T/s-$ID PID='' CGP=''
        mkdir -p "$S"
        cp "$T/config.base" "$B/config.json"
        cfg "$B" '.linux.resources = $r' --argjson r "$res"
        [ -z "$path" ] || cfg "$B" '.linux.cgroupsPath = $p' --arg p "${path//@ID@/$ID}"
        add_bind "$B" "$S" /shared
        cfg "$B" "$extra"
        set_args "$B" sh -c "exec >/shared/log 2>&1; $cmd; echo \$? >/shared/rc; exec /payload pause"
        run urun --systemd-cgroup run -d --bundle "$B" "$ID"
        [ "$RC" = 0 ] || return 1
        PID=$(urun state "$ID" | jq -r .pid)
        CGP=$(cg_of "$PID")
        wait_until 120 test -s "$S/rc" || { echo "the container's command did not finish" >>"$T/all"; return 1; }
}

# fg_run CGROUPS_PATH [JQ_FILTER]: a foreground --debug --systemd-cgroup run of
# `cat /proc/self/cgroup` (RC, $T/out, $T/err as run).
fg_run() {
        new_id
        cp "$T/config.base" "$B/config.json"
        cfg "$B" '.linux.cgroupsPath = $p' --arg p "${1//@ID@/$ID}"
        cfg "$B" "${2:-.}"
        set_args "$B" cat /proc/self/cgroup
        run urun --systemd-cgroup --debug run --bundle "$B" "$ID"
}

# --- no manager yet: the cgroupfs path systemd would use, one warning -----------------------------
section "no manager"
if sctr 'user.slice:urun:@ID@' '{"pids": {"limit": 10}}' true; then
        [ "$(wc -l <"$T/err")" = 1 ] &&
                grep -q "^urun: warning: linux.cgroupsPath 'user.slice:urun:$ID': systemd not reachable (.*): using the cgroupfs path 'user.slice/urun-$ID.scope'\$" "$T/err"
        result $? "no systemd: one warning naming why, the cgroupfs path instead" "$T/err"
        is "$CGP" "$CG/user.slice/urun-$ID.scope" "no systemd: the container is where the user instance would put the scope"
        is "$(cat "$CGP/pids.max" 2>&1)" 10 "no systemd: the limits are written there"
        run urun delete --force "$ID"
        [ "$RC" = 0 ] && [ ! -e "$CG/user.slice" ]
        result $? "no systemd: delete removes the cgroups urun made" "$T/all"
else
        not_ok "no systemd: urun --systemd-cgroup run" "$T/all"
fi

# --- systemd --user --------------------------------------------------------------------------------
section "systemd --user"
skip_rest() {
        skip "systemd scopes" "$1"
        done_testing
        exit
}
[ -x "$SYSTEMD" ] || skip_rest "$SYSTEMD is not installed on the host (apt-get install systemd)"
[ -d /run/systemd/system ] || skip_rest "no /run/systemd/system: systemd --user would refuse to start"
mkdir -p "$T/config/systemd/user" "$SD"
printf '[Unit]\nDescription=urun VM tests\n' >"$T/config/systemd/user/urun-vm.target"
T0=$SECONDS
(
        echo "$BASHPID" >"$SD/cgroup.procs" || exit 1
        XDG_CONFIG_HOME=$T/config exec "$SYSTEMD" --user --unit=urun-vm.target
) </dev/null >"$T/systemd.log" 2>&1 &
SDPID=$!
_bg_pids+=("$SDPID")
stop_systemd() {
        kill -TERM "$SDPID" 2>/dev/null
        wait_until 60 pid_gone "$SDPID" || kill -KILL "$SDPID" 2>/dev/null
        [ -d "$SD" ] || return 0
        echo 1 >"$SD/cgroup.kill" 2>/dev/null
        wait_until 30 file_has "$SD/cgroup.events" '^populated 0$'
        find "$SD" -depth -type d -exec rmdir {} + 2>/dev/null
}
trap 'stop_systemd; _cleanup' EXIT # whatever happens, the next script finds the subtree as it was
sd_up() { case "$(systemctl --user is-system-running 2>/dev/null)" in running | degraded) true ;; *) false ;; esac; }
if ! wait_until 120 sd_up; then
        tail -n 5 "$T/systemd.log" | sed 's/^/# /'
        stop_systemd
        skip_rest "systemd --user did not start here"
fi
ok "systemd --user runs ($(manager_prop Version), after $((SECONDS - T0)) s)"
is "$(manager_prop ControlGroup)" "${SD#/sys/fs/cgroup}" "its root cgroup is the one it was started in"
[ ! -e "$XDG_RUNTIME_DIR/bus" ]
result $? "no message bus yet: urun has only the manager's own socket"

# --- through systemd's own socket ---------------------------------------------------------------------
section "private socket"
if sctr 'user.slice:urun:@ID@' '{"pids": {"limit": 10}, "memory": {"limit": 67108864}}' \
        'cat /proc/self/cgroup; /cgload forkbomb 100'; then
        UNIT=urun-$ID.scope SCOPE=$SD/user.slice/urun-$ID.scope
        [ ! -s "$T/err" ]
        result $? "run -d with cgroupsPath user.slice:urun:ID: no warning, systemd made the scope" "$T/err"
        is "$CGP" "$SCOPE" "from the host: the init is in $UNIT (/proc/PID/cgroup)"
        is "$(head -n 1 "$S/log")" "0::${SCOPE#/sys/fs/cgroup}" "inside: /proc/self/cgroup names the scope"
        is "$(urun state "$ID" | jq -r .cgroup)" "$SCOPE" "state: the container's cgroup is the scope's"
        is "$(unit_prop "$UNIT" ActiveState):$(unit_prop "$UNIT" Slice):$(unit_prop "$UNIT" Delegate)" \
                "active:user.slice:yes" "systemctl --user show $UNIT: active, in user.slice, Delegate=yes"
        is "$(unit_prop "$UNIT" TasksMax):$(unit_prop "$UNIT" MemoryMax)" "10:67108864" \
                "systemd knows the limits (TasksMax, MemoryMax): a daemon-reload keeps them"
        is "$(cat "$SCOPE/pids.max" "$SCOPE/memory.max" 2>&1 | paste -sd' ' -)" "10 67108864" \
                "pids.max and memory.max of the scope are the container's limits"
        like "$S/log" '^forked [0-8], then fork: EAGAIN$' "pids.limit 10: a fork bomb in the container gets EAGAIN"
        is "$(cat "$SCOPE/cgroup.procs")" "$PID" "the scope holds the init alone: its placeholder process is gone"
        run urun update --pids-limit 20 "$ID"
        is "$RC:$(cat "$SCOPE/pids.max" 2>&1):$(unit_prop "$UNIT" TasksMax):$(unit_prop "$UNIT" MemoryMax)" \
                "0:20:20:67108864" "update --pids-limit 20: pids.max and systemd's TasksMax change, MemoryMax stays"
        run urun exec "$ID" cat /proc/self/cgroup
        is "$RC:$(cat "$T/out")" "0:0::${SCOPE#/sys/fs/cgroup}" "exec joins the scope"
        run urun delete --force "$ID"
        is "$RC" 0 "delete --force"
        wait_until 30 unit_gone "$UNIT" "$SCOPE"
        result $? "delete: systemd removes the unit and its cgroup" "$T/all"
else
        not_ok "urun --systemd-cgroup run -d through systemd's socket" "$T/all"
fi

# a cgroup namespace is rooted at the scope; the same unit name again right away (the old scope
# may still be on its way out); foreground runs clean up after themselves
fg_run 'user.slice:urun:again' '.linux.namespaces += [{"type": "cgroup"}]'
is "$RC:$(cat "$T/out")" "0:0::/" "cgroup namespace: the container sees its scope as /"
grep -q "systemd: connected to unix:path=$XDG_RUNTIME_DIR/systemd/private" "$T/err" && ! grep -q warning "$T/err"
result $? "it went through the manager's own socket" "$T/err"
fg_run 'user.slice:urun:again' '.linux.namespaces += [{"type": "cgroup"}]'
is "$RC:$(cat "$T/out")" "0:0::/" "the same scope name again, right after: works"
wait_until 30 unit_gone urun-again.scope "$SD/user.slice/urun-again.scope"
result $? "after the foreground runs, no unit and no cgroup are left"

# pids.limit 1: the placeholder must not count when the init is cloned into the scope
if sctr '' '{"pids": {"limit": 1}}' true; then
        is "$CGP" "$SD/user.slice/urun-$ID.scope" "no cgroupsPath: urun-ID.scope in user.slice (the rootless default)"
        is "$(cat "$CGP/pids.max" 2>&1):$(unit_prop "urun-$ID.scope" TasksMax)" "1:1" \
                "pids.limit 1 is possible (the placeholder was never counted)"
        run urun delete --force "$ID"
        wait_until 30 unit_gone "urun-$ID.scope" "$CGP"
        result $? "delete: no unit, no cgroup" "$T/all"
else
        not_ok "--systemd-cgroup run -d with pids.limit 1 and no cgroupsPath" "$T/all"
fi

# --- through the user's message bus ------------------------------------------------------------------
section "message bus"
bus_has_systemd() { busctl --user --no-pager status org.freedesktop.systemd1 >/dev/null 2>&1; }
if ! systemctl --user start dbus.socket dbus.service >"$T/dbus.err" 2>&1 || ! wait_until 60 bus_has_systemd; then
        sed 's/^/# /' "$T/dbus.err"
        skip "--systemd-cgroup through the message bus" "no dbus-daemon with systemd on it here"
else
        fg_run 'user.slice:urun:@ID@'
        is "$RC:$(cat "$T/out")" "0:0::${SD#/sys/fs/cgroup}/user.slice/urun-$ID.scope" \
                "through the bus: the init is in the scope"
        grep -q "systemd: connected to unix:path=$XDG_RUNTIME_DIR/bus" "$T/err"
        result $? "it went through $XDG_RUNTIME_DIR/bus (Hello, AddMatch, Subscribe, JobRemoved)" "$T/err"
        wait_until 30 unit_gone "urun-$ID.scope" "$SD/user.slice/urun-$ID.scope"
        result $? "through the bus: no unit or cgroup left"
fi

section end
stop_systemd
pid_gone "$SDPID" && [ ! -e "$SD" ]
result $? "systemd --user stopped, its cgroups removed"
done_testing
