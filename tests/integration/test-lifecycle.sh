#!/bin/bash
# create -> start -> kill -> delete, with `state` and `list` checked at every step; the state JSON
# fields; --pid-file; run --detach; kill signal forms; delete of a running container.
. "$(dirname "$0")/lib.sh"

# --- the full lifecycle ---
B=$T/b1
make_bundle "$B" /payload sigwait TERM
cfg "$B" '.annotations = {"org.test.k": "v1"}'
new_id
C=$ID
urun create --bundle "$B" --pid-file "$T/pidfile" "$C" >"$T/c.out" 2>"$T/c.err" </dev/null
result $? "create succeeds" "$T/c.err"

urun state "$C" >"$T/state.json" 2>"$T/state.err"
result $? "state of a created container succeeds" "$T/state.err"
is "$(jq -r .status "$T/state.json")" created "status is created after create"
PID=$(jq -r .pid "$T/state.json")
if [ "$PID" -gt 0 ] 2>/dev/null && pid_alive "$PID"; then
        ok "state has the pid of a live process ($PID)"
else
        not_ok "state has the pid of a live process" "$T/state.json"
fi
is "$(cat "$T/pidfile" 2>/dev/null)" "$PID" "--pid-file holds the host pid from state"
is "$(jq -r .id "$T/state.json")" "$C" "state: id"
is "$(jq -r .ociVersion "$T/state.json" | cut -d. -f1)" 1 "state: ociVersion 1.x"
is "$(jq -r .bundle "$T/state.json")" "$B" "state: bundle is the absolute bundle path"
is "$(jq -r '.annotations["org.test.k"]' "$T/state.json")" v1 "state: annotations from config.json"
like "$T/state.json" '"created": *"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)"' \
        "state: created is an RFC 3339 time"
OWNER=$(jq -r .owner "$T/state.json")
if [ "$OWNER" = "$(id -un)" ] || [ "$OWNER" = "$(id -u)" ]; then
        ok "state: owner is the calling user"
else
        not_ok "state: owner is the calling user (got '$OWNER')" "$T/state.json"
fi

urun list >"$T/list" 2>&1
like "$T/list" "^$C +$PID +created +$B" "list shows the created container with pid, status and bundle"
urun list -q >"$T/listq" 2>&1
is "$(cat "$T/listq")" "$C" "list -q prints the id only"
urun list --format json >"$T/listj" 2>&1
is "$(jq -r '.[0].id + " " + .[0].status + " " + (.[0].pid|tostring)' "$T/listj" 2>&1)" "$C created $PID" \
        "list --format json has id, status and pid"

unlike "$T/c.out" 'ready' "the user program has not run before start"
expect_rc 0 "start succeeds" urun start "$C"
wait_until 10 file_has "$T/c.out" '^ready'
result $? "the user program runs after start" "$T/c.out" "$T/c.err"
is "$(status_of "$C")" running "status is running after start"
expect_fail "start of a running container fails" urun start "$C"

expect_rc 0 "kill (default SIGTERM) succeeds" urun kill "$C"
wait_until 10 file_has "$T/c.out" '^got SIGTERM'
result $? "the container got SIGTERM" "$T/c.out"
wait_status "$C" stopped
result $? "status is stopped after the process exited" "$T/state.err"
wait_until 10 pid_gone "$PID"
result $? "the container process is gone"
expect_fail "kill of a stopped container fails" urun kill "$C" KILL

expect_rc 0 "delete of a stopped container succeeds" urun delete "$C"
expect_fail "state after delete fails" urun state "$C"
urun list -q >"$T/listq" 2>&1
is "$(cat "$T/listq")" "" "list is empty after delete"
left_nothing "$C" "$T" "delete removed the state dir"

# --- kill: names with and without SIG, and numbers ---
for sig in USR1:USR1 SIGUSR2:USR2 15:TERM; do
        arg=${sig%%:*}
        want=${sig#*:}
        B=$T/bk-$arg
        make_bundle "$B" /payload sigwait "$want"
        new_id
        urun create --bundle "$B" "$ID" >"$T/k.out" 2>&1 </dev/null && urun start "$ID" </dev/null >/dev/null 2>&1
        if ! wait_until 10 file_has "$T/k.out" '^ready'; then
                not_ok "kill $arg: container did not start" "$T/k.out"
                continue
        fi
        run urun kill "$ID" "$arg"
        if [ "$RC" = 0 ] && wait_until 10 file_has "$T/k.out" "^got SIG$want"; then
                ok "kill $ID $arg delivers SIG$want"
        else
                not_ok "kill $arg delivers SIG$want" "$T/all" "$T/k.out"
        fi
        urun delete --force "$ID" >/dev/null 2>&1
done

B=$T/bkill
make_bundle "$B" /payload pause
for arg in KILL SIGKILL 9; do
        new_id
        urun run -d --bundle "$B" "$ID" >/dev/null 2>&1 </dev/null
        P=$(urun state "$ID" 2>/dev/null | jq -r .pid)
        run urun kill "$ID" "$arg"
        if [ "$RC" = 0 ] && wait_status "$ID" stopped; then
                ok "kill $arg stops a container"
        else
                not_ok "kill $arg stops a container" "$T/all"
        fi
        urun delete "$ID" >/dev/null 2>&1
done
new_id
urun run -d --bundle "$B" "$ID" >/dev/null 2>&1 </dev/null
expect_fail "kill with an unknown signal name fails" urun kill "$ID" NOSUCHSIG
expect_fail "kill with a malformed signal number fails" urun kill "$ID" 99x
is "$(status_of "$ID")" running "the container still runs after bad kill arguments"

# --- delete of a running container ---
P=$(urun state "$ID" 2>/dev/null | jq -r .pid)
expect_fail "delete of a running container fails without --force" urun delete "$ID"
is "$(status_of "$ID")" running "the container still runs after the refused delete"
expect_rc 0 "delete --force of a running container succeeds" urun delete --force "$ID"
wait_until 10 pid_gone "$P"
result $? "delete --force killed the container process"
left_nothing "$ID" "$T" "delete --force left nothing"

# --- run --detach, and a process tree killed by delete --force ---
B=$T/bd
make_bundle "$B" /payload fork-pause
new_id
urun run --detach --bundle "$B" --pid-file "$T/dpid" "$ID" >"$T/d.out" 2>"$T/d.err" </dev/null
result $? "run --detach returns" "$T/d.err"
is "$(status_of "$ID")" running "run --detach leaves the container running"
wait_until 10 file_has "$T/d.out" '^ready child='
result $? "detached container's stdout goes to the caller's stdout" "$T/d.out"
is "$(cat "$T/dpid" 2>/dev/null)" "$(urun state "$ID" 2>/dev/null | jq -r .pid)" \
        "run --detach --pid-file matches state pid"
expect_rc 0 "delete --force of a detached process tree" urun delete --force "$ID"
wait_until 10 test -z "$(procs_under "$B")"
result $? "no process of the container's tree survives delete --force"

# --- a container whose process exits on its own is reported stopped ---
B=$T/bx
make_bundle "$B" /payload exit 3
new_id
urun create --bundle "$B" "$ID" >/dev/null 2>&1 </dev/null
urun start "$ID" >/dev/null 2>&1 </dev/null
wait_status "$ID" stopped
result $? "a container whose process exited is stopped"
expect_rc 0 "delete of it succeeds" urun delete "$ID"

# --- a container killed from outside (not through urun) ---
B=$T/bo
make_bundle "$B" /payload pause
new_id
urun run -d --bundle "$B" "$ID" >/dev/null 2>&1 </dev/null
P=$(urun state "$ID" 2>/dev/null | jq -r .pid)
kill -KILL "$P" 2>/dev/null
wait_status "$ID" stopped
result $? "a container killed from outside is reported stopped"
expect_rc 0 "and deleted without --force" urun delete "$ID"

done_testing
