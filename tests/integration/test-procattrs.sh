#!/bin/bash
# Process attributes: linux.sysctl in the container's own namespaces (and the refusal of anything
# that would change the host), linux.timeOffsets, linux.personality, process.ioPriority and
# process.scheduler (observed from the host with ionice/chrt on a running container), and the LSM
# fields on a host where AppArmor/SELinux may be off.
. "$(dirname "$0")/lib.sh"

B=$T/b
make_bundle "$B"
cp "$B/config.json" "$T/pristine.json"

reset_cfg() {
        cp "$T/pristine.json" "$B/config.json"
}

# ensure_ns TYPE / drop_ns TYPE: a new namespace of TYPE in the config, or none.
ensure_ns() {
        cfg "$B" 'if any(.linux.namespaces[]; .type == $t) then . else .linux.namespaces += [{"type": $t}] end' \
                --arg t "$1"
}
drop_ns() {
        cfg "$B" '.linux.namespaces |= map(select(.type != $t))' --arg t "$1"
}

# refused DESC ERE: create fails with one line matching ERE and leaves nothing behind.
refused() {
        new_id
        expect_fail "$1" urun create --bundle "$B" "$ID"
        like "$T/err" "$2" "$1: the message names the field"
        left_nothing "$ID" "$B" "$1: nothing left behind"
}

# detached: run /payload pause detached; sets PID (the container init, as the host sees it).
PID=
detached() {
        set_args "$B" /payload pause
        new_id
        expect_rc 0 "$1: the container starts" urun run --detach --bundle "$B" "$ID"
        PID=$(urun state "$ID" 2>/dev/null | jq -r .pid)
}

host_forward=$(cat /proc/sys/net/ipv4/ip_forward)
host_shmmax=$(cat /proc/sys/kernel/shmmax)
host_domain=$(cat /proc/sys/kernel/domainname)

# --- linux.sysctl in the container's network, ipc and uts namespaces ---
reset_cfg
ensure_ns network
ensure_ns ipc
ensure_ns uts
cfg "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1", "net.ipv4.ping_group_range": "0 0",
                           "kernel.shmmax": "123456789", "fs.mqueue.msg_max": "17",
                           "kernel.domainname": "dom.example"}'
in_ctr "sysctls in the container's own namespaces are accepted" 0 sh -c \
        'cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax /proc/sys/fs/mqueue/msg_max /proc/sys/kernel/domainname; tr "\t" " " </proc/sys/net/ipv4/ping_group_range'
is "$(cat "$T/out")" "$(printf '1\n123456789\n17\ndom.example\n0 0')" "the container sees the sysctl values"
is "$(cat /proc/sys/net/ipv4/ip_forward) $(cat /proc/sys/kernel/shmmax) $(cat /proc/sys/kernel/domainname)" \
        "$host_forward $host_shmmax $host_domain" "the host's values are unchanged"

# --- refused: not namespaced, or a namespace the container does not own ---
reset_cfg
cfg "$B" '.linux.sysctl = {"vm.swappiness": "10"}'
refused "vm.swappiness is refused" "^urun: linux\.sysctl: 'vm\.swappiness' is not namespaced \(it would change the host\)$"

reset_cfg
drop_ns network
cfg "$B" '.linux.sysctl = {"net.ipv4.ip_forward": "1"}'
refused "net.* without a network namespace is refused" \
        "^urun: linux\.sysctl: 'net\.ipv4\.ip_forward' belongs to the network namespace, and the container shares the host's"

reset_cfg
drop_ns network
cfg "$B" '.linux.namespaces += [{"type": "network", "path": $p}] | .linux.sysctl = {"net.ipv4.ip_forward": "1"}' \
        --arg p "/proc/$$/ns/net"
refused "net.* in a joined namespace that is the runtime's own is refused" \
        "linux\.sysctl: 'net\.ipv4\.ip_forward' belongs to the network namespace, and the container shares the host's"

reset_cfg
drop_ns ipc
cfg "$B" '.linux.sysctl = {"kernel.shmmax": "1"}'
refused "kernel.shmmax without an ipc namespace is refused" "linux\.sysctl: 'kernel\.shmmax' belongs to the ipc namespace"

reset_cfg
cfg "$B" '.linux.sysctl = {"net/ipv4/ip_forward": "1"}'
refused "a sysctl name with '/' is refused" "linux\.sysctl: 'net/ipv4/ip_forward' is not a sysctl name"

reset_cfg
ensure_ns network
cfg "$B" '.linux.sysctl = {"net.ipv4.no_such_thing": "1"}'
refused "a sysctl that does not exist fails in the container" "linux\.sysctl: 'net\.ipv4\.no_such_thing': no such sysctl"

reset_cfg
ensure_ns network
if [ "$TEST_MODE" = root ]; then
        # without a user namespace every gid is mapped: give the container one with 65536 gids
        ensure_ns user
        cfg "$B" '.linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                  | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]'
fi
cfg "$B" '.linux.sysctl = {"net.ipv4.ping_group_range": "0 2000000"}'
refused "ping_group_range outside the mapped gids" \
        "linux\.sysctl: 'net\.ipv4\.ping_group_range' = '0 2000000': Invalid argument \(both gids of the range must be mapped"
is "$(cat /proc/sys/net/ipv4/ip_forward)" "$host_forward" "the refused configs left the host's ip_forward alone"

# --- linux.timeOffsets ---
reset_cfg
ensure_ns time
cfg "$B" '.linux.timeOffsets = {"boottime": {"secs": 1000000}, "monotonic": {"secs": 7, "nanosecs": 5}}'
host_up=$(cut -d. -f1 /proc/uptime)
in_ctr "a new time namespace with offsets" 0 sh -c 'cat /proc/uptime; tr -s " " </proc/self/timens_offsets'
ctr_up=$(head -n 1 "$T/out" | cut -d. -f1)
if [ -n "$ctr_up" ] && [ "$ctr_up" -ge $((host_up + 1000000)) ] && [ "$ctr_up" -le $((host_up + 1000000 + 120)) ]; then
        ok "the boottime offset shows in /proc/uptime"
else
        echo "host uptime $host_up, container: $ctr_up" >"$T/why"
        not_ok "the boottime offset shows in /proc/uptime" "$T/why" "$T/all"
fi
like "$T/out" "^monotonic 7 5$" "/proc/self/timens_offsets shows the monotonic offset"
like "$T/out" "^boottime 1000000 0$" "/proc/self/timens_offsets shows the boottime offset"

reset_cfg
drop_ns time
cfg "$B" '.linux.timeOffsets = {"boottime": {"secs": 10}}'
refused "timeOffsets without a time namespace are refused" \
        "^urun: linux\.timeOffsets: needs a new time namespace"

reset_cfg
ensure_ns time
cfg "$B" '.linux.timeOffsets = {"realtime": {"secs": 10}}'
refused "an offset for another clock is refused" "^urun: linux\.timeOffsets\.realtime: unknown clock"

reset_cfg
ensure_ns time
cfg "$B" '.linux.timeOffsets = {"boottime": {"secs": -100000000000}}'
refused "an offset the kernel refuses fails in the container" "^urun: linux\.timeOffsets: .*out of range"

# --- linux.personality ---
reset_cfg
cfg "$B" '.linux.personality = {"domain": "LINUX32"}'
in_ctr "personality LINUX32" 0 cat /proc/self/personality
is "$(cat "$T/out")" "00000008" "/proc/self/personality is PER_LINUX32"

reset_cfg
cfg "$B" '.linux.personality = {"domain": "LINUX64"}'
refused "an unknown personality domain is refused" "^urun: linux\.personality\.domain: unknown domain 'LINUX64'"

# --- process.ioPriority and process.scheduler, seen from the host ---
reset_cfg
cfg "$B" '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 6}
          | .process.scheduler = {"policy": "SCHED_BATCH", "nice": 7}'
detached "best-effort I/O and SCHED_BATCH"
run ionice -p "$PID"
is "$(cat "$T/out")" "best-effort: prio 6" "ionice sees best-effort priority 6"
run chrt -p "$PID"
like "$T/out" "scheduling policy: SCHED_BATCH$" "chrt sees SCHED_BATCH"
is "$(awk '{print $19}' "/proc/$PID/stat" 2>/dev/null)" "7" "the nice value is 7"
expect_rc 0 "the container is deleted" urun delete --force "$ID"

reset_cfg
cfg "$B" '.process.ioPriority = {"class": "IOPRIO_CLASS_RT", "priority": 3}'
if [ "$TEST_MODE" = root ]; then
        detached "realtime I/O priority as root"
        run ionice -p "$PID"
        is "$(cat "$T/out")" "realtime: prio 3" "ionice sees realtime priority 3"
        expect_rc 0 "the container is deleted" urun delete --force "$ID"
else
        refused "realtime I/O priority without host privileges" \
                "^urun: process\.ioPriority: setting IOPRIO_CLASS_RT priority 3: Operation not permitted \(the realtime class needs CAP_SYS_NICE"
fi

reset_cfg
cfg "$B" '.process.scheduler = {"policy": "SCHED_FIFO", "priority": 10}'
if [ "$TEST_MODE" = root ]; then
        set_args "$B" /payload pause
        new_id
        run urun run --detach --bundle "$B" "$ID"
        if [ "$RC" != 0 ] && grep -q "Operation not permitted" "$T/err"; then
                # CONFIG_RT_GROUP_SCHED with no realtime budget for our cgroup
                skip "SCHED_FIFO as root" "the host's cpu cgroup grants no realtime runtime: $(cat "$T/err")"
                skip "chrt sees SCHED_FIFO" "SCHED_FIFO could not be set"
        else
                result "$RC" "SCHED_FIFO as root: the container starts" "$T/all"
                PID=$(urun state "$ID" 2>/dev/null | jq -r .pid)
                run chrt -p "$PID"
                like "$T/out" "scheduling policy: SCHED_FIFO$" "chrt sees SCHED_FIFO"
                like "$T/out" "scheduling priority: 10$" "chrt sees priority 10"
        fi
        run urun delete --force "$ID"
else
        refused "SCHED_FIFO without host privileges" \
                "^urun: process\.scheduler: setting SCHED_FIFO \(priority 10\): Operation not permitted \(real-time policies need CAP_SYS_NICE"
fi

reset_cfg
cfg "$B" '.process.scheduler = {"policy": "SCHED_FOO"}'
refused "an unknown scheduler policy is refused" "^urun: process\.scheduler\.policy: unknown policy 'SCHED_FOO'$"

reset_cfg
cfg "$B" '.process.scheduler = {"policy": "SCHED_OTHER", "priority": 5}'
refused "a priority for SCHED_OTHER is refused" "^urun: process\.scheduler\.priority: only SCHED_FIFO and SCHED_RR take a priority"

reset_cfg
cfg "$B" '.process.ioPriority = {"class": "IOPRIO_CLASS_BE", "priority": 8}'
refused "an I/O priority above 7 is refused" "^urun: process\.ioPriority\.priority: 8 out of range 0\.\.7$"

# --- LSM labels on a host without the LSM ---
reset_cfg
if grep -q Y /sys/module/apparmor/parameters/enabled 2>/dev/null; then
        skip "apparmorProfile without AppArmor" "AppArmor is enabled on this host"
else
        cfg "$B" '.process.apparmorProfile = "urun-test"'
        refused "apparmorProfile without AppArmor" "^urun: process\.apparmorProfile: AppArmor is not enabled on this host$"
fi
reset_cfg
if [ -e /sys/fs/selinux/enforce ]; then
        skip "selinuxLabel without SELinux" "SELinux is enabled on this host"
        skip "mountLabel without SELinux" "SELinux is enabled on this host"
else
        cfg "$B" '.process.selinuxLabel = "system_u:system_r:container_t:s0"'
        refused "selinuxLabel without SELinux" "^urun: process\.selinuxLabel: SELinux is not enabled on this host$"
        reset_cfg
        cfg "$B" '.linux.mountLabel = "system_u:object_r:container_file_t:s0"'
        refused "mountLabel without SELinux" "^urun: linux\.mountLabel: SELinux is not enabled on this host$"
fi

done_testing
