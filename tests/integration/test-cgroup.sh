#!/bin/bash
# The verbs built on the container's cgroup (pause, resume, ps, update, events) and the cgroup
# wiring of create/exec/kill/delete.
#
# On a host that gives containers no cgroup (hybrid cgroup v1/v2 like the test machine, or nothing
# delegated), every mode tests the degraded paths: `state` says "cgroup": "none (...)", pause,
# resume, update and events refuse with one clear line, ps falls back to the pid namespace, limits
# in config.json are one warning line (rootless) or a clear error naming them (root).
#
# The real paths need a cgroup2 hierarchy with a delegated subtree: only as root in root mode,
# cgroup-delegated.sh mounts a fresh cgroup2 over /sys/fs/cgroup in a private mount namespace,
# delegates a subtree to the test user, runs its tests there as that user and as root, and removes
# the subtree; its TAP results are folded into this script's, renumbered.
. "$(dirname "$0")/lib.sh"

# ppid_of PID
ppid_of() {
        sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f2
}

B=$T/b
make_bundle "$B" /payload fork-pause
new_id
C=$ID
urun run -d --bundle "$B" "$C" >"$T/c.out" 2>"$T/c.err" </dev/null
result $? "run -d of a process tree" "$T/c.err"
wait_until 10 file_has "$T/c.out" '^ready child='
result $? "the container's program runs" "$T/c.out"
INIT=$(urun state "$C" 2>/dev/null | jq -r .pid)
CGROUP=$(urun state "$C" 2>/dev/null | jq -r '.cgroup // "(missing)"')

if [[ "$CGROUP" != "none ("*")" ]]; then
        skip "the degraded paths (no cgroup)" "this host gave the container a cgroup ($CGROUP)"
else
        ok "state says \"cgroup\": \"$CGROUP\""
        REASON=${CGROUP#none (}
        REASON=${REASON%)}

        # --- refusals: one line naming the container and why ---
        one_line_with "container '$C' has no cgroup (none: $REASON): cannot pause" \
                "pause without a cgroup" urun pause "$C"
        is "$(status_of "$C")" running "the container still runs after the refused pause"
        one_line_with "cannot resume container '$C': it is running, not paused" \
                "resume of a running container" urun resume "$C"
        one_line_with "container '$C' has no cgroup (none: $REASON): cannot update its limits" \
                "update --pids-limit without a cgroup" urun update --pids-limit 10 "$C"
        echo '{"pids": {"limit": 10}}' >"$T/res.json"
        stdin_urun "$T/res.json" update --resources - "$C"
        [ "$RC" != 0 ] && [ "$(wc -l <"$T/err")" = 1 ] && grep -qF "has no cgroup (none: $REASON)" "$T/err"
        result $? "update --resources - (stdin) without a cgroup: one clear line" "$T/all"
        one_line_with "container '$C' has no cgroup (none: $REASON): cannot report its events" \
                "events --stats without a cgroup" urun events --stats "$C"
        one_line_with "has no cgroup (none: $REASON)" "events without a cgroup" urun events --interval 1s "$C"

        # --- ps: the processes of the container's pid namespace ---
        CHILD=
        for p in /proc/[0-9]*; do
                p=${p#/proc/}
                [ "$(ppid_of "$p")" = "$INIT" ] && CHILD=$p
        done
        WANT=$(printf '%s\n' "$INIT" ${CHILD:+"$CHILD"} | sort -n | paste -sd, -)
        run urun ps --format json "$C"
        is "$(cat "$T/out")" "[$WANT]" "ps --format json without a cgroup: the init and its child (pid namespace)"
        [ -s "$T/out" ] && jq -e 'type == "array"' "$T/out" >/dev/null 2>&1
        result $? "ps --format json prints a JSON array" "$T/out"
        run urun ps "$C"
        head -n 1 "$T/out" >"$T/head"
        like "$T/head" '^UID +PID +PPID' "ps (table) prints ps -ef's header"
        is "$(tail -n +2 "$T/out" | awk '{print $2}' | sort -n | paste -sd, -)" "$WANT" \
                "ps (table) prints exactly the container's processes"
        run urun ps "$C" -o pid,comm
        is "$(head -n 1 "$T/out" | tr -s ' ' | sed 's/^ //')" "PID COMMAND" "ps ID PS_ARGS runs ps with those arguments"
        is "$(tail -n +2 "$T/out" | awk '{print $1}' | sort -n | paste -sd, -)" "$WANT" \
                "ps ID -o pid,comm filters on the PID column"
fi

# --- bad command lines: one line naming the flag, nothing changed ---
one_line_with "'--bogus'" "update with an unknown flag" urun update --bogus 1 "$C"
one_line_with "--memory: '12x' is not a size" "update --memory with a bad size" urun update --memory 12x "$C"
one_line_with "--blkio-weight: '5' is not a weight" "update --blkio-weight out of range" \
        urun update --blkio-weight 5 "$C"
one_line_with "--cpuset-cpus: '3-1' is not a list" "update --cpuset-cpus with a bad list" \
        urun update --cpuset-cpus 3-1 "$C"
one_line_with "--cpu-rt-runtime: realtime CPU scheduling is a cgroup v1 feature" \
        "update --cpu-rt-runtime (cgroup v1 only)" urun update --cpu-rt-runtime 1000 "$C"
one_line_with "--resources '$T/nonexistent'" "update --resources with a missing file" \
        urun update --resources "$T/nonexistent" "$C"
echo '{"memory": {"limit": "lots"}}' >"$T/bad.json"
one_line_with "resources.memory.limit" "update --resources with a bad value names the field" \
        urun update --resources="$T/bad.json" "$C"
one_line_with "'--memory' needs a value" "update --memory without a value" urun update --memory
one_line_with "--interval: '0' is not a positive duration" "events --interval 0" urun events --interval 0 "$C"
one_line_with "--interval: '5' is not a positive duration" "events --interval without a unit" \
        urun events --interval 5 "$C"
one_line_with "--format: expected table or json, got 'xml'" "ps --format xml" urun ps --format xml "$C"
one_line_with "unknown option '-x'" "pause -x" urun pause -x "$C"
one_line_with "container 'nosuch-$$' does not exist" "pause of an unknown container" urun pause "nosuch-$$"
one_line_with "usage: urun resume ID" "resume without an ID" urun resume
one_line_with "usage: urun ps" "ps without an ID" urun ps -f json
# values that parse: the error is about the container then, not the value
for iv in 1m30s 1.5s 500ms 250us 1h; do
        one_line_with "container 'nosuch-$$' does not exist" "events --interval $iv is a duration" \
                urun events --interval "$iv" "nosuch-$$"
done
for sz in 1.5g 512k 64M 100kb -1 4096; do
        one_line_with "container 'nosuch-$$' does not exist" "update --memory $sz is a size" \
                urun update --memory "$sz" "nosuch-$$"
done
one_line_with "--memory: '1.5.5g' is not a size" "update --memory 1.5.5g" urun update --memory 1.5.5g "$C"
one_line_with "--memory: '-2' is not a size" "update --memory -2" urun update --memory=-2 "$C"
one_line_with "--interval: '1x' is not a positive duration" "events --interval 1x" urun events --interval 1x "$C"
if [[ "$CGROUP" == "none ("*")" ]]; then
        one_line_with "no PID column" "ps ID -o comm (no PID column)" urun ps "$C" -o comm
        one_line_with "failed (status" "ps with arguments ps refuses" urun ps "$C" -o no-such-field
else
        skip "ps ID -o comm (no PID column)" "this host gave the container a cgroup"
        skip "ps with arguments ps refuses" "this host gave the container a cgroup"
fi
is "$(status_of "$C")" running "the container is untouched by the refused commands"

# --- status rules: pause wants running, everything wants a live container ---
B2=$T/b2
make_bundle "$B2" /payload pause
new_id
CR=$ID
expect_rc 0 "create (not started)" urun create --bundle "$B2" "$CR"
one_line_with "cannot pause container '$CR': it is created, not running" "pause of a created container" \
        urun pause "$CR"
one_line_with "cannot resume container '$CR': it is created, not paused" "resume of a created container" \
        urun resume "$CR"
expect_rc 0 "kill KILL of the created container" urun kill "$CR" KILL
wait_status "$CR" stopped
result $? "it is stopped"
one_line_with "cannot pause container '$CR': it is stopped" "pause of a stopped container" urun pause "$CR"
one_line_with "cannot update container '$CR': it is stopped" "update of a stopped container" \
        urun update --pids-limit 5 "$CR"
one_line_with "cannot report events of container '$CR': it is stopped" "events of a stopped container" \
        urun events --stats "$CR"
run urun ps --format json "$CR"
is "$RC:$(cat "$T/out")" "0:[]" "ps --format json of a stopped container prints []"
expect_rc 0 "delete of the stopped container" urun delete "$CR"

# --- linux.resources where no cgroup can be had ---
B3=$T/b3
make_bundle "$B3" /payload exit 0
cfg "$B3" '.linux.resources = {"pids": {"limit": 100}}'
new_id
if [[ "$CGROUP" != "none ("*")" ]]; then
        skip "limits without a cgroup" "this host gives containers a cgroup"
        skip "limits without a cgroup leave nothing" "this host gives containers a cgroup"
elif [ "$TEST_MODE" = root ]; then
        one_line_with "linux.resources: " "as root, limits that cannot be applied are an error" \
                urun run --bundle "$B3" "$ID"
        grep -qF "cannot apply the limits (pids)" "$T/err"
        result $? "the error names the limit (pids)" "$T/err"
        left_nothing "$ID" "$B3" "the refused create left nothing behind"
else
        run urun run --keep --bundle "$B3" "$ID"
        is "$RC" 0 "rootless, limits without a cgroup: the container runs"
        [ "$(wc -l <"$T/err")" = 1 ] && grep -q '^urun: warning: linux.resources: .*NOT applied: pids$' "$T/err"
        result $? "rootless, limits without a cgroup: one warning line naming them" "$T/err"
        run urun state "$ID"
        [ "$RC" = 0 ] && jq -e '.cgroup | startswith("none (")' "$T/out" >/dev/null
        result $? "and state records why there is no cgroup" "$T/all"
        expect_rc 0 "delete of it" urun delete "$ID"
fi

if [[ "$CGROUP" == "none ("*")" ]]; then
        # kill --all without a cgroup: the same pid-namespace scan as ps
        expect_rc 0 "kill --all KILL without a cgroup" urun kill --all "$C" KILL
        wait_until 10 pid_gone "$INIT" && wait_until 10 pid_gone "${CHILD:-0}"
        result $? "kill --all without a cgroup: the init and its child are gone"
fi
expect_rc 0 "delete --force of the container" urun delete --force "$C"
left_nothing "$C" "$B" "nothing of it is left"

# --- the delegated cgroup2 view (root mode only) ---
DELEGATED=$(dirname "$0")/cgroup-delegated.sh
# fold_tap PREFIX FILE: FILE's TAP results as ours, renumbered; a bail-out or a plan that does not
# match its results is one failure more. Other output becomes diagnostics.
fold_tap() {
        local prefix=$1 file=$2 line desc n=0 plan=""
        while IFS= read -r line; do
                case "$line" in
                "ok "* | "not ok "*)
                        n=$((n + 1))
                        desc=${line#*ok }
                        desc=${desc#* - }
                        if [[ "$line" == "not ok "* ]]; then
                                not_ok "$prefix $desc"
                        elif [[ "$desc" == *" # SKIP"* ]]; then
                                skip "$prefix ${desc%% # SKIP*}" "${desc#* # SKIP }"
                        else
                                ok "$prefix $desc"
                        fi
                        ;;
                "1.."*) plan=${line#1..} ;;
                "Bail out!"*) not_ok "$prefix $line" ;;
                "#"*) echo "$line" ;;
                "") ;;
                *) echo "#   $line" ;;
                esac
        done <"$file"
        [ -n "$plan" ] && [ "$plan" = "$n" ]
        result $? "$prefix ran to its end (plan ${plan:-missing}, $n results)" "$file"
}

# A cgroup mount the kernel refuses (no cgroup namespace of its own) falls back to a bind of the
# host's hierarchy: read-only even when the config asks for rw, since it is not the container's
# own cgroup. (As host root a fresh cgroup2 mount succeeds: the config's choice, as with runc.)
B6=$T/b6
make_bundle "$B6" /bin/sh -c 'grep " /sys/fs/cgroup " /proc/self/mountinfo | cut -d" " -f6'
cfg "$B6" '.linux.namespaces |= map(select(.type != "cgroup"))
           | .mounts += [{"destination": "/sys/fs/cgroup", "type": "cgroup2", "source": "cgroup",
                          "options": ["nosuid", "noexec", "nodev", "rw"]}]'
new_id
if [ "$TEST_MODE" = root ]; then
        skip "a rw cgroup mount without a cgroup namespace is bound read-only" "host root mounts a fresh cgroup2"
else
        run urun run --bundle "$B6" "$ID"
        [ "$RC" = 0 ] && grep -q '^ro,' "$T/out"
        result $? "a rw cgroup mount without a cgroup namespace is bound read-only (the host's hierarchy)" "$T/all"
fi

if [ "$TEST_MODE" != root ] || [ "$(id -u)" != 0 ]; then
        skip "delegated cgroup2 subtree tests" "need root mode: they mount a private cgroup2 and delegate a subtree"
elif ! command -v unshare >/dev/null || ! unshare -m true 2>/dev/null; then
        skip "delegated cgroup2 subtree tests" "unshare -m is not available"
else
        mkdir -p "$T/cg"
        timeout -k 10 240 unshare -m --propagation private bash "$DELEGATED" --setup "$T/cg" >"$T/cg/setup.tap" 2>&1
        if [ -s "$T/cg/skip" ]; then
                skip "delegated cgroup2 subtree tests" "$(cat "$T/cg/skip")"
        else
                for who in user root; do
                        if [ -f "$T/cg/$who.tap" ]; then
                                fold_tap "[cgroup2, as $who]" "$T/cg/$who.tap"
                        fi
                done
                fold_tap "[cgroup2 setup]" "$T/cg/setup.tap"
        fi
fi

done_testing
