#!/bin/bash
# urun's cgroup v2 features inside the VM, run rootless by the test user from the leaf init.scope
# of a delegated subtree with every controller ($URUN_VM_CGROUP, see guest-init.sh). Each limit is
# asserted by its effect on a process in the container (the cgload helper), not only by the file
# urun wrote; the files are checked too, so that a failure says which half is wrong.
#
# Runs inside the VM (tests/vm/check-vm.sh); TAP through tests/integration/lib.sh. Verbs urun does
# not have yet (pause, resume, ps, update, events) are skipped with the reason; everything else
# asserts.
. "$LIBDIR/lib.sh"

CG=$URUN_VM_CGROUP
HELP=$("$URUN" --help 2>&1)
has_verb() { grep -qE "^  $1( |\$)" <<<"$HELP"; }
field() { awk -v k="$2" '$1 == k { print $2 }' "$1" 2>/dev/null; }
# The cgroup directory of a process, as this (the guest's initial) cgroup namespace sees it.
cg_of() { echo "/sys/fs/cgroup$(sed -n 's/^0:://p' "/proc/$1/cgroup" 2>/dev/null)"; }

# One bundle for every container: busybox, payload, cgload; config.json is rewritten per container.
B=$T/bundle
make_bundle "$B"
cp "$CGLOAD" "$B/rootfs/cgload"
ln -s busybox "$B/rootfs/bin/mv"
cp "$B/config.json" "$T/config.base"
NULLB=$(stat -c '%t %T' /dev/nullb0 | { read -r a b; echo "$((16#$a)) $((16#$b))"; })

# ctr RESOURCES CMD [JQ_FILTER]: a detached container with linux.resources = RESOURCES (JSON) that
# runs the shell command CMD, writes its status to /shared/rc, then keeps running (/payload pause,
# pid 1 of its pid namespace). Its output goes to /shared/log; /shared is $S on this side. Sets ID,
# S, PID (the init, as seen here), CGP (its cgroup directory); returns once CMD has finished.
# JQ_FILTER edits the config further. Fails (with $T/all saying why) when urun run fails.
ctr() {
        local res=$1 cmd=$2 extra=${3:-.}
        new_id
        S=$T/s-$ID PID='' CGP=''
        mkdir -p "$S"
        cp "$T/config.base" "$B/config.json"
        cfg "$B" '.linux.resources = $r' --argjson r "$res"
        add_bind "$B" "$S" /shared
        cfg "$B" "$extra"
        set_args "$B" sh -c "exec >/shared/log 2>&1; $cmd; echo \$? >/shared/rc; exec /payload pause"
        run urun run -d --bundle "$B" "$ID"
        [ "$RC" = 0 ] || return 1
        PID=$(urun state "$ID" | jq -r .pid)
        CGP=$(cg_of "$PID")
        wait_until 120 test -s "$S/rc" || { echo "the container's command did not finish" >"$T/all"; return 1; }
}

# has_event TYPE FILE: FILE (an `urun events` stream) has an event of TYPE. Lines are parsed one
# by one: the last one may be half written. $T/events.short: the stream with the stats cut short.
has_event() {
        cut -c1-120 "$2" >"$T/events.short"
        jq -Rne --arg t "$1" 'any(inputs | fromjson? | .type; . == $t)' "$2"
}

# events_stats: one `urun events --stats ID` JSON object in $T/stats (runc's format).
events_stats() {
        run urun events --stats "$ID"
        jq -e 'select(.type == "stats")' "$T/out" >"$T/stats" 2>/dev/null
}

# delete_gone CGROUP DESC: `delete --force ID` removes CGROUP (the leaf, or a node urun created for it).
delete_gone() {
        local cgp=$1 desc=$2
        run urun delete --force "$ID"
        [ "$RC" = 0 ] && [ ! -e "$cgp" ]
        result $? "$desc" "$T/all"
}

section() { diag "--- $1 (at ${SECONDS}s)"; }

# --- memory --------------------------------------------------------------------------------------
section memory
if ctr '{"memory": {"limit": 33554432, "swap": 33554432}}' '/cgload alloc 128'; then
        case "$CGP" in
        "$CG"/init.scope | "$CG"/init.scope/*) false ;;
        "$CG"/*) true ;;
        *) false ;;
        esac
        result $? "the container's cgroup is in the delegated subtree, not below the caller's leaf: $CGP"
        is "$(cat "$S/rc")" 137 "memory.limit 32 MiB: allocating 128 MiB in the container is OOM-killed"
        is "$(cat "$CGP/memory.max" "$CGP/memory.swap.max" 2>&1 | tr '\n' ' ')" "33554432 0 " \
                "memory.max 32 MiB, memory.swap.max 0 (swap = limit)"
        [ "$(field "$CGP/memory.events" oom_kill)" -ge 1 ] 2>/dev/null
        result $? "memory.events counts the OOM kill" "$CGP/memory.events"

        # exec joins the container's cgroup: from here, and from inside the exec'd process
        run urun exec "$ID" sh -c 'cat /proc/self/cgroup; cat /proc/1/cgroup'
        [ "$RC" = 0 ] && [ "$(sed -n 1p "$T/out")" = "$(sed -n 2p "$T/out")" ] &&
                [ "$(sed -n 1p "$T/out")" = "0::${CGP#/sys/fs/cgroup}" ]
        result $? "exec: /proc/self/cgroup of the exec'd process is the container's cgroup" "$T/all"
        run urun exec -d --pid-file "$T/exec.pid" "$ID" sleep 1000
        epid=$(cat "$T/exec.pid" 2>/dev/null)
        [ "$RC" = 0 ] && [ -n "$epid" ] && [ "$(cg_of "$epid")" = "$CGP" ]
        result $? "exec --detach: the process is in the container's cgroup seen from the host" "$T/all"
        [ -z "$epid" ] || kill -KILL "$epid" 2>/dev/null

        # an exec'd process is OOM-killed too, and the event stream (up once it printed its first
        # stats line) reports it
        evpid=
        if has_verb events; then
                "$URUN" events --interval 1s "$ID" >"$T/events" 2>"$T/events.err" </dev/null &
                evpid=$!
                _bg_pids+=("$evpid")
                wait_until 30 test -s "$T/events"
        fi
        run urun exec "$ID" /cgload alloc 128
        is "$RC" 137 "memory.limit applies to an exec'd process (OOM-killed)"
        if [ -n "$evpid" ]; then
                wait_until 30 has_event oom "$T/events"
                result $? "events: an oom event for the OOM kill" "$T/events.short"
        else
                skip "events: an oom event for the OOM kill" "urun has no events verb"
        fi
        delete_gone "$CGP" "delete removes the container's cgroup"
        if [ -n "$evpid" ]; then
                wait_bg "$evpid"
                result $? "events exits when the container is deleted" "$T/events.err"
                is "$(tail -n 1 "$T/events")" "{\"type\":\"exit\",\"id\":\"$ID\"}" "events: the last line is the exit event"
                [ ! -s "$T/events.err" ]
                result $? "events printed no error meanwhile" "$T/events.err"
        fi
else
        not_ok "memory: urun run with memory.limit" "$T/all"
fi

# --- pids, update, ps, events --stats -----------------------------------------------------------
section pids
if ctr '{"pids": {"limit": 10}}' '/cgload forkbomb 100'; then
        like "$S/log" '^forked [0-8], then fork: EAGAIN$' "pids.limit 10: a fork bomb in the container gets EAGAIN"
        is "$(cat "$CGP/pids.max")" 10 "pids.max is 10"
        [ "$(field "$CGP/pids.events" max)" -ge 1 ] 2>/dev/null
        result $? "pids.events counts the refused forks" "$CGP/pids.events"

        if has_verb ps; then
                # the fork bomb is over: the init (sh exec'd /payload pause) is all that is left
                run urun ps --format json "$ID"
                is "$RC:$(jq -c . "$T/out" 2>&1)" "0:[$PID]" "ps --format json: the container's pids, host view"
        else
                skip "ps --format json: the container's pids" "urun has no ps verb"
        fi

        if has_verb update; then
                run urun update --pids-limit 20 "$ID"
                is "$RC:$(cat "$CGP/pids.max")" "0:20" "update --pids-limit 20: pids.max is 20"
                run urun exec "$ID" /cgload forkbomb 100
                n=$(sed -n 's/^forked \([0-9]*\), then fork: EAGAIN$/\1/p' "$T/out")
                [ -n "$n" ] && [ "$n" -ge 10 ] && [ "$n" -lt 20 ]
                result $? "after update, an exec'd fork bomb stops between the old and the new limit" "$T/all"
                run urun update --memory 67108864 "$ID"
                is "$RC:$(cat "$CGP/memory.max" 2>&1)" "0:67108864" \
                        "update --memory on a container started without one: memory.max is set"
                echo '{"pids": {"limit": 30}, "cpu": {"quota": 50000, "period": 100000}}' >"$T/res.json"
                run urun update --resources "$T/res.json" "$ID"
                is "$RC:$(cat "$CGP/pids.max"):$(cat "$CGP/cpu.max" 2>&1)" "0:30:50000 100000" \
                        "update --resources FILE: pids.max and cpu.max"
        else
                for d in "update --pids-limit" "update raises the enforced limit" "update --memory" "update --resources"; do
                        skip "$d" "urun has no update verb"
                done
        fi

        if has_verb events; then
                limit=$(cat "$CGP/pids.max")
                events_stats
                jq -e --argjson l "$limit" '.data.pids.current >= 1 and .data.pids.limit == $l' "$T/stats" >/dev/null
                result $? "events --stats: pids current and limit ($limit)" "$T/all"
                jq -e '.data.memory.usage.usage > 0' "$T/stats" >/dev/null
                result $? "events --stats: memory usage" "$T/all"
        else
                skip "events --stats: pids" "urun has no events verb"
                skip "events --stats: memory" "urun has no events verb"
        fi
        delete_gone "$CGP" "delete removes the container's cgroup"
else
        not_ok "pids: urun run with pids.limit" "$T/all"
fi

# --- cpu -----------------------------------------------------------------------------------------
section cpu
if ctr '{"cpu": {"quota": 20000, "period": 100000}}' '/cgload spin 3'; then
        read -r _ cpu _ wall _ <"$S/log"
        [ -n "$wall" ] && [ "$cpu" -lt $((wall / 2)) ]
        result $? "cpu 20000/100000: a 3 s spin gets at most half a CPU ($(head -n 1 "$S/log"))" "$S/log"
        is "$(cat "$CGP/cpu.max")" "20000 100000" "cpu.max is 20000 100000"
        [ "$(field "$CGP/cpu.stat" nr_throttled)" -gt 0 ] 2>/dev/null
        result $? "cpu.stat: throttled $(field "$CGP/cpu.stat" nr_throttled) times" "$CGP/cpu.stat"
        if has_verb events; then
                events_stats
                jq -e '.data.cpu.throttling.throttledPeriods > 0 and .data.cpu.usage.total > 0' "$T/stats" >/dev/null
                result $? "events --stats: cpu usage and throttled periods" "$T/all"
        else
                skip "events --stats: cpu throttling" "urun has no events verb"
        fi
        delete_gone "$CGP" "delete removes the container's cgroup"
else
        not_ok "cpu: urun run with cpu.quota" "$T/all"
fi

# --- io: a write throttle on /dev/nullb0 (null_blk: the time spent is the throttle's) --------------
section io
read -r maj min <<<"$NULLB"
io='{"blockIO": {"throttleWriteBpsDevice": [{"major": '$maj', "minor": '$min', "rate": 1048576}]}}'
devmount='.mounts += [{"destination": "/dev/nullb0", "type": "bind", "source": "/dev/nullb0", "options": ["bind"]}]'
if ctr "$io" '/cgload iowrite /dev/nullb0 3' "$devmount"; then
        read -r _ _ _ _ ms _ <"$S/log"
        [ "$(cat "$S/rc")" = 0 ] && [ "$ms" -ge 1500 ] 2>/dev/null
        result $? "blockIO write 1 MiB/s: 3 MiB of O_DIRECT writes take over 1.5 s ($(head -n 1 "$S/log"))" "$S/log"
        like "$CGP/io.max" "^$maj:$min rbps=max wbps=1048576 riops=max wiops=max\$" "io.max on $maj:$min"
        wb=$(grep "^$maj:$min " "$CGP/io.stat" | tr ' ' '\n' | sed -n 's/^wbytes=//p')
        [ "${wb:-0}" -ge 3145728 ]
        result $? "io.stat charges the writes to the container ($wb bytes)" "$CGP/io.stat"
        delete_gone "$CGP" "delete removes the container's cgroup"
else
        not_ok "io: urun run with blockIO.throttleWriteBpsDevice" "$T/all"
fi

# --- pause / resume: a counter that stops while frozen ----------------------------------------------
section pause/kill
counter='(i=0; while :; do i=$((i + 1)); echo $i >/shared/c.new; mv /shared/c.new /shared/count; sleep 0.05; done) & true'
count() { cat "$S/count" 2>/dev/null || echo 0; }
count_above() { [ "$(count)" -gt "$1" ]; }
procs_are() { [ "$(wc -l <"$CGP/cgroup.procs")" = "$1" ]; }
if ctr '{"pids": {"limit": 50}}' "$counter"; then
        wait_until 30 count_above 2
        if has_verb pause && has_verb resume; then
                run urun pause "$ID"
                is "$RC:$(status_of "$ID"):$(field "$CGP/cgroup.events" frozen)" "0:paused:1" \
                        "pause: state says paused, cgroup.events frozen 1"
                # a measurement interval, not a synchronisation: a frozen counter must not move
                c1=$(count)
                sleep 1
                c2=$(count)
                is "$c2" "$c1" "pause: the container's processes make no progress"
                run urun resume "$ID"
                is "$RC:$(status_of "$ID"):$(field "$CGP/cgroup.events" frozen)" "0:running:0" \
                        "resume: state says running, cgroup.events frozen 0"
                wait_until 30 count_above "$c2"
                result $? "resume: the counter moves again"
        else
                for d in "pause: paused and frozen" "pause: no progress" "resume: running" "resume: progress"; do
                        skip "$d" "urun has no pause/resume verbs"
                done
        fi

        # kill --all: TERM reaches every process (the init, pid 1 of its namespace, ignores it)
        run urun kill --all "$ID" TERM
        wait_until 30 procs_are 1
        result $? "kill --all TERM: every process but the container's init is gone" "$CGP/cgroup.procs"
        pid_alive "$PID"
        result $? "kill --all TERM: the init (no handler, pid 1) is still there"
        run urun kill --all "$ID" KILL
        wait_until 30 file_has "$CGP/cgroup.events" '^populated 0$' && wait_status "$ID" stopped 30
        result $? "kill --all KILL: the cgroup is empty and the container stopped" "$CGP/cgroup.events"
        delete_gone "$CGP" "delete removes the container's cgroup"
else
        not_ok "pause/kill: urun run" "$T/all"
fi

# --- cgroup namespace, relative cgroupsPath ----------------------------------------------------------
section cgroupns
if ctr '{"pids": {"limit": 50}}' 'cat /proc/self/cgroup' \
        '.linux.namespaces += [{"type": "cgroup"}] | .linux.cgroupsPath = "urun-vm/c1"'; then
        is "$CGP" "$CG/urun-vm/c1" "a relative cgroupsPath is placed under the delegated node"
        like "$S/log" '^0::/$' "cgroup namespace: the container sees its own cgroup as /"
        run urun exec "$ID" cat /proc/self/cgroup
        is "$RC:$(cat "$T/out")" "0:0::/" "cgroup namespace: an exec'd process sees / too"
        delete_gone "$CG/urun-vm" "delete removes the cgroup and the parent it created"
else
        not_ok "cgroupsPath: urun run" "$T/all"
fi

# --- mqueue without an ipc namespace of its own: the host's /dev/mqueue, bound --------------------
# (the test host has no /dev/mqueue; this guest has one, as a systemd host does)
section mqueue
if ctr '{"pids": {"limit": 50}}' 'grep " /dev/mqueue " /proc/self/mountinfo | cut -d" " -f4,5,9' \
        '.linux.namespaces |= map(select(.type != "ipc"))'; then
        is "$(head -n 1 "$S/log")" "/ /dev/mqueue mqueue" \
                "mqueue without an ipc namespace: the host's /dev/mqueue is bound (no EPERM, no skip)"
        run urun delete --force "$ID"
else
        not_ok "mqueue: urun run without an ipc namespace" "$T/all"
fi

section end
# Nothing left in the delegated subtree but the caller's own leaf.
is "$(find "$CG" -mindepth 1 -maxdepth 1 -type d -printf '%f ')" "init.scope " \
        "no cgroup left in the delegated subtree"
done_testing
