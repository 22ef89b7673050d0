#!/bin/bash
# VM sanity checks, without urun: does this guest give the test user what suite.sh relies on? A
# failure here points at the harness (tests/vm/guest-init.sh) or the kernel, not at urun.
# Runs inside the VM (tests/vm/check-vm.sh); TAP through tests/integration/lib.sh.
#
# Each limit is exercised on a plain child cgroup of the delegated subtree with the cgload helper,
# so that suite.sh can expect the same enforcement through urun.
. "$LIBDIR/lib.sh"

CG=$URUN_VM_CGROUP
own=$(cat /proc/self/cgroup)

[ "$(id -u)" != 0 ] && [ "$own" = "0::${CG#/sys/fs/cgroup}/init.scope" ]
result $? "unprivileged ($(id -un)) in the delegated leaf: $own"

[ "$(awk '$3 == "cgroup"' /proc/mounts)" = "" ] && [ "$(wc -l </proc/self/cgroup)" = 1 ]
result $? "cgroup v2 only (cgroup_no_v1=all)"

is "$(cat "$CG/cgroup.subtree_control")" "cpuset cpu io memory hugetlb pids rdma misc" \
        "every controller enabled in the delegated subtree"

echo "-io" >"$CG/cgroup.subtree_control" && echo "+io" >"$CG/cgroup.subtree_control"
result $? "the user can toggle controllers in the delegated cgroup.subtree_control"

! { echo 1M >"$CG/memory.max"; } 2>/dev/null
result $? "the delegated node's own memory.max stays root's"

run unshare --map-users="100000,1,65536" --map-groups="100000,1,65536" -r cat /proc/self/uid_map
[ "$(tr -s ' ' <"$T/out" | sed 's/^ //' | tr '\n' ';')" = "0 1000 1;1 100000 65536;" ]
result $? "newuidmap/newgidmap map the subordinate range" "$T/all"

# in_cg NAME CMD...: run CMD (stdout/stderr/RC as run) in a fresh child cgroup NAME of the subtree.
in_cg() {
        local c=$CG/$1
        shift
        mkdir -p "$c"
        run sh -c 'echo 0 >"$0/cgroup.procs" && exec "$@"' "$c" "$@"
}
field() { awk -v k="$2" '$1 == k { print $2 }' "$1"; }

mkdir "$CG/s-mem" && echo 32M >"$CG/s-mem/memory.max" && echo 0 >"$CG/s-mem/memory.swap.max"
in_cg s-mem "$CGLOAD" alloc 128
[ "$RC" = 137 ] && [ "$(field "$CG/s-mem/memory.events" oom_kill)" -ge 1 ]
result $? "memory.max=32M: allocating 128 MiB is OOM-killed (status $RC)" "$T/all" "$CG/s-mem/memory.events"
in_cg s-mem "$CGLOAD" alloc 8
result "$RC" "memory.max=32M: allocating 8 MiB is fine" "$T/all"

mkdir "$CG/s-pids" && echo 5 >"$CG/s-pids/pids.max"
in_cg s-pids "$CGLOAD" forkbomb 50
like "$T/out" '^forked [0-9], then fork: EAGAIN$' "pids.max=5: fork fails with EAGAIN"

mkdir "$CG/s-cpu" && echo "20000 100000" >"$CG/s-cpu/cpu.max"
in_cg s-cpu "$CGLOAD" spin 2
read -r _ cpu _ wall <"$T/out"
[ "$(field "$CG/s-cpu/cpu.stat" nr_throttled)" -gt 0 ] && [ "$cpu" -lt $((wall / 2)) ]
result $? "cpu.max=20%: a 2 s spin is throttled ($(cat "$T/out"), nr_throttled $(field "$CG/s-cpu/cpu.stat" nr_throttled))" \
        "$T/all" "$CG/s-cpu/cpu.stat"

# null_blk discards the data at memory speed, so the time spent is the throttle's.
dev=$(stat -c '%t:%T' /dev/nullb0 | { IFS=: read -r a b; echo "$((16#$a)):$((16#$b))"; })
mkdir "$CG/s-io" && echo "$dev wbps=1048576" >"$CG/s-io/io.max"
in_cg s-io "$CGLOAD" iowrite /dev/nullb0 3
read -r _ _ _ _ ms _ <"$T/out"
[ "$RC" = 0 ] && [ "$ms" -ge 1500 ]
result $? "io.max wbps=1MiB/s on /dev/nullb0 ($dev): $(cat "$T/out")" "$T/all"
in_cg s-io2 "$CGLOAD" iowrite /dev/nullb0 3
diag "unthrottled: $(cat "$T/out")"

mkdir "$CG/s-frz"
sh -c 'echo 0 >"$0/cgroup.procs" && exec sleep 100' "$CG/s-frz" &
spid=$!
echo 1 >"$CG/s-frz/cgroup.freeze"
wait_until 10 file_has "$CG/s-frz/cgroup.events" '^frozen 1$'
result $? "cgroup.freeze: frozen 1" "$CG/s-frz/cgroup.events"
echo 1 >"$CG/s-frz/cgroup.kill"
{ wait $spid; } 2>/dev/null
result $(($? != 137)) "cgroup.kill kills a frozen cgroup's process"

for c in s-mem s-pids s-cpu s-io s-io2 s-frz; do
        wait_until 10 file_has "$CG/$c/cgroup.events" '^populated 0$'
        rmdir "$CG/$c"
done
done_testing
