#!/bin/bash
# OCI hooks: each appends its name to a log; the order, the state JSON on stdin (right id), the
# timeout (a hook that sleeps past it fails create naming the hook, and nothing is left), and a
# failing hook failing its operation.
. "$(dirname "$0")/lib.sh"

LOG=$T/hooklog
mkdir -p "$LOG"
chmod 1777 "$LOG"
B=$T/b
make_bundle "$B" /payload exit 0
add_bind "$B" "$LOG" /hooklog

# A hook is `sh -c SCRIPT`. createContainer runs in the container's namespaces before pivot_root
# and startContainer inside the container, so each writes to /hooklog when that is the bind mount
# and to the host path otherwise. The runtime-namespace hooks use the host's /bin/sh.
hook_script() {
        echo "d=$LOG; [ -d /hooklog ] && [ ! -d $LOG ] && d=/hooklog; cat > \$d/$1.json; echo $1 >> \$d/order"
}
add_hook() {
        local kind=$1 path=$2
        cfg "$B" '.hooks[$k] += [{"path": $p, "args": ["sh", "-c", $s]}]' \
                --arg k "$kind" --arg p "$path" --arg s "$(hook_script "$kind")"
}
for h in prestart createRuntime createContainer poststart poststop; do
        add_hook "$h" /bin/sh
done
add_hook startContainer /bin/sh   # resolved in the container: the rootfs's busybox sh

set_args "$B" /payload pause
new_id
C=$ID
urun create --bundle "$B" "$C" >"$T/c.out" 2>"$T/c.err" </dev/null
result $? "create with all hooks succeeds" "$T/c.err"
is "$(tr '\n' ' ' <"$LOG/order" 2>&1)" "prestart createRuntime createContainer " \
        "create runs prestart, createRuntime, createContainer in order"
expect_rc 0 "start succeeds" urun start "$C"
wait_until 10 file_has "$LOG/order" poststart
result $? "poststart ran"
is "$(sed -n 4p "$LOG/order" 2>&1)" startContainer "startContainer runs before poststart"
is "$(sed -n 5p "$LOG/order" 2>&1)" poststart "poststart comes after startContainer"
urun kill "$C" KILL >/dev/null 2>&1
wait_status "$C" stopped
expect_rc 0 "delete succeeds" urun delete "$C"
is "$(tr '\n' ' ' <"$LOG/order" 2>&1)" \
        "prestart createRuntime createContainer startContainer poststart poststop " \
        "poststop runs last, on delete"
for h in prestart createRuntime createContainer startContainer poststart poststop; do
        if [ "$(jq -r .id "$LOG/$h.json" 2>/dev/null)" = "$C" ]; then
                ok "$h got the state JSON with the container id on stdin"
        else
                not_ok "$h got the state JSON with the container id on stdin" "$LOG/$h.json"
        fi
done
is "$(jq -r .status "$LOG/createRuntime.json" 2>/dev/null)" creating "createRuntime sees status creating"
is "$(jq -r .status "$LOG/poststart.json" 2>/dev/null)" running "poststart sees status running"
is "$(jq -r .status "$LOG/poststop.json" 2>/dev/null)" stopped "poststop sees status stopped"
if [ "$(jq -r .pid "$LOG/createRuntime.json" 2>/dev/null)" -gt 0 ] 2>/dev/null; then
        ok "createRuntime's state has the container pid"
else
        not_ok "createRuntime's state has the container pid" "$LOG/createRuntime.json"
fi

# --- timeout: a hook that outlives it fails create, naming the hook, leaving nothing ---
B=$T/bt
make_bundle "$B" /payload pause
# The hook forks a child (sleep 31.PID); both must be gone after the timeout. The patterns below
# use [x] so that pgrep's own shell does not match them.
MARK="urun-hook-marker-$$"
cfg "$B" '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", $s], "timeout": 1}]' \
        --arg s "sleep 31.$$; : $MARK"
new_id
expect_fail "a createRuntime hook past its timeout fails create" urun create --bundle "$B" "$ID"
like "$T/err" 'createRuntime|hook' "the error names the hook"
left_nothing "$ID" "$B" "the timed-out create left no state and no container process"
wait_until 10 sh -c "! pgrep -f 'urun-hook-marke[r]-$$'"
result $? "the timed-out hook process was killed"
wait_until 10 sh -c "! pgrep -f 'slee[p] 31\.$$'"
result $? "the timed-out hook's child process was killed too"

# --- a failing hook fails its operation ---
cfg "$B" '.hooks.createRuntime = [{"path": "/bin/sh", "args": ["sh", "-c", "exit 3"]}]'
new_id
expect_fail "a createRuntime hook exiting 3 fails create" urun create --bundle "$B" "$ID"
left_nothing "$ID" "$B" "the failed create left nothing"

cfg "$B" '.hooks = {"createRuntime": [{"path": "/no/such/hook"}]}'
new_id
expect_fail "a hook that does not exist fails create" urun create --bundle "$B" "$ID"
like "$T/err" '/no/such/hook' "the error names the hook path"
left_nothing "$ID" "$B" "nothing left"

# A failing poststop hook is only a warning: delete still removes the container (runtime.md).
cfg "$B" '.hooks = {"poststop": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 1"]}]}'
new_id
urun create --bundle "$B" "$ID" >/dev/null 2>&1 </dev/null
expect_rc 0 "delete succeeds although poststop fails" urun delete --force "$ID"
left_nothing "$ID" "$B" "and removes the container"

done_testing
