#!/bin/bash
# Namespaces beyond the defaults: a new time namespace, and joining the namespaces of a running
# container by path (its user namespace first when rootless, then its uts namespace).
. "$(dirname "$0")/lib.sh"

# --- a new time namespace ---
B=$T/time
make_bundle "$B" sh -c 'ls -l /proc/self/ns/time'
cfg "$B" '.linux.namespaces += [{"type": "time"}]'
new_id
run urun run --bundle "$B" "$ID"
host_ns=$(readlink /proc/self/ns/time)
if [ "$RC" = 0 ] && grep -q 'time:\[' "$T/out" && ! grep -qF "$host_ns" "$T/out"; then
        ok "a time namespace in the config gives the container its own"
else
        echo "host: $host_ns" >"$T/why"
        not_ok "a time namespace in the config gives the container its own" "$T/why" "$T/all"
fi

# --- joining a running container's namespaces by path ---
H=$T/holder
make_bundle "$H" /payload pause
cfg "$H" '.hostname = "holder-ns"'
new_id
HOLDER=$ID
expect_rc 0 "a holder container starts detached" urun run --detach --bundle "$H" "$HOLDER"
HPID=$(urun state "$HOLDER" 2>/dev/null | jq -r .pid)

J=$T/joiner
make_bundle "$J" hostname
cfg "$J" 'del(.hostname) | .linux.namespaces |= map(if .type == "uts" then .path = $uts else . end)' \
        --arg uts "/proc/$HPID/ns/uts"
if [ "$TEST_MODE" != root ]; then
        # the holder's user namespace owns its uts namespace: join it (it brings the maps along)
        cfg "$J" '.linux.namespaces |= map(if .type == "user" then .path = $u else . end)
                  | del(.linux.uidMappings) | del(.linux.gidMappings)' --arg u "/proc/$HPID/ns/user"
fi
new_id
run urun run --bundle "$J" "$ID"
is "$(cat "$T/out")" "holder-ns" "joining the holder's uts namespace by path shows its hostname"
if [ "$TEST_MODE" != root ]; then
        set_args "$J" sh -c 'ls -l /proc/self/ns/user'
        new_id
        run urun run --bundle "$J" "$ID"
        like "$T/out" "$(readlink "/proc/$HPID/ns/user" | sed 's/[][]/./g')" \
                "the joined user namespace is the holder's"
fi

# --- a namespace path that does not exist ---
cfg "$J" '.linux.namespaces |= map(if .type == "uts" then .path = "/nonexistent/ns/uts" else . end)'
new_id
expect_fail "a namespace path that does not exist is refused" urun create --bundle "$J" "$ID"
like "$T/err" 'linux.namespaces.*uts.*/nonexistent/ns/uts' "the error names the namespace and the path"
left_nothing "$ID" "$J" "the refused join left nothing"

expect_rc 0 "the holder is deleted" urun delete --force "$HOLDER"
done_testing
