#!/bin/bash
# `urun run` in the foreground: exit codes, signal forwarding, stdio passthrough, and the process
# settings (args resolved through the container's PATH, cwd, env, hostname, umask).
. "$(dirname "$0")/lib.sh"

B=$T/b
make_bundle "$B"

# --- exit codes ---
new_id
expect_rc 0 "run of 'exit 0' exits 0" urun run --bundle "$B" "$ID"
left_nothing "$ID" "$B" "run without --keep removes the container after it exits"
set_args "$B" /payload exit 7
new_id
expect_rc 7 "run of 'exit 7' exits 7" urun run --bundle "$B" "$ID"

# 143 = 128 + SIGTERM. Without a pid namespace the process is not an init, so SIGTERM's default
# action kills it (pid 1 of a pid namespace ignores it, as with runc). Procfs cannot be mounted
# without an owned pid namespace (and nothing else may be mounted on /proc), so this container
# has no /proc.
BT=$T/bt
make_bundle "$BT" /payload pause
cfg "$BT" '.linux.namespaces |= map(select(.type != "pid"))
           | .mounts |= map(select(.destination != "/proc"))
           | .linux.maskedPaths = [] | .linux.readonlyPaths = []'
new_id
"$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} run --bundle "$BT" "$ID" >"$T/t.out" 2>"$T/t.err" </dev/null &
BG=$!
_bg_pids+=("$BG")
if wait_until 20 file_has "$T/t.out" '^ready'; then
        run urun kill "$ID" TERM
        rc=0
        wait_bg "$BG" || rc=$?
        is "$rc" 143 "run exits 143 when the container dies from SIGTERM (urun kill)"
else
        not_ok "container without pid namespace started" "$T/t.out" "$T/t.err"
fi

# `urun kill` works while a foreground run waits for the container (137 = 128 + SIGKILL).
set_args "$B" /payload pause
new_id
"$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} run --bundle "$B" "$ID" >"$T/k.out" 2>"$T/k.err" </dev/null &
BG=$!
_bg_pids+=("$BG")
if wait_until 20 file_has "$T/k.out" '^ready'; then
        expect_rc 0 "kill KILL of a container whose run waits in the foreground" urun kill "$ID" KILL
        rc=0
        wait_bg "$BG" || rc=$?
        is "$rc" 137 "the foreground run exits 137 after SIGKILL"
else
        not_ok "foreground run started" "$T/k.out" "$T/k.err"
fi

# --- signal forwarding by a foreground run ---
for sig in USR1 TERM INT HUP; do
        set_args "$B" /payload sigwait "$sig"
        new_id
        "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} run --bundle "$B" "$ID" >"$T/s.out" 2>"$T/s.err" </dev/null &
        BG=$!
        _bg_pids+=("$BG")
        if ! wait_until 20 file_has "$T/s.out" '^ready'; then
                not_ok "forward SIG$sig: container did not start" "$T/s.out" "$T/s.err"
                continue
        fi
        kill -"$sig" "$BG"
        rc=0
        wait_bg "$BG" || rc=$?
        if [ "$rc" = 0 ] && grep -q "^got SIG$sig" "$T/s.out"; then
                ok "run forwards SIG$sig to the container and exits with its status"
        else
                echo "run exit status $rc" >"$T/why"
                not_ok "run forwards SIG$sig" "$T/why" "$T/s.out" "$T/s.err"
        fi
done

# --- stdio is passed through untouched ---
set_args "$B" /bin/cat
new_id
out=$(echo "through stdin" | timeout 60 "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} run --bundle "$B" "$ID" 2>"$T/e")
is "$out" "through stdin" "stdin and stdout pass through (cat)"
set_args "$B" /bin/sh -c 'echo to-stderr >&2; echo to-stdout'
new_id
run urun run --bundle "$B" "$ID"
is "$(cat "$T/out")/$(cat "$T/err")" "to-stdout/to-stderr" "stdout and stderr stay separate"
set_args "$B" /payload isatty
new_id
run urun run --bundle "$B" "$ID"
is "$(cat "$T/out")" "stdin=0 stdout=0" "terminal false: no tty allocated"

# --- args[0] through the container's PATH ---
mkdir -p "$B/rootfs/opt/tools"
cp "$PAYLOAD" "$B/rootfs/opt/tools/mytool"
cfg "$B" '.process.env = ["PATH=/opt/tools:/bin", "FOO=bar baz", "TERM=xterm"]'
set_args "$B" mytool exit 5
new_id
expect_rc 5 "args[0] is resolved through the container's PATH" urun run --bundle "$B" "$ID"
set_args "$B" /payload env
new_id
run urun run --bundle "$B" "$ID"
like "$T/out" '^FOO=bar baz$' "process.env is the container's environment"
unlike "$T/out" '^URUN=' "the caller's environment does not leak into the container"
set_args "$B" no-such-program
new_id
expect_fail "args[0] not found in the container fails with one line" urun run --bundle "$B" "$ID"
like "$T/err" 'no-such-program' "the error names the missing program"
left_nothing "$ID" "$B" "a run whose program is missing leaves nothing"

# --- cwd, hostname, umask ---
mkdir -p "$B/rootfs/work/dir"
cfg "$B" '.process.cwd = "/work/dir"'
set_args "$B" /payload cwd
new_id
run urun run --bundle "$B" "$ID"
is "$(cat "$T/out")" /work/dir "process.cwd is the working directory"
cfg "$B" '.process.cwd = "/"'

if jq -e '.linux.namespaces | map(.type) | index("uts")' "$B/config.json" >/dev/null; then
        cfg "$B" '.hostname = "urun-test-host"'
        set_args "$B" /payload hostname
        new_id
        run urun run --bundle "$B" "$ID"
        is "$(cat "$T/out")" urun-test-host "hostname is set in the uts namespace"
else
        skip "hostname" "the generated spec has no uts namespace"
fi

cfg "$B" '.process.user.umask = 23'
set_args "$B" /payload umask
new_id
run urun run --bundle "$B" "$ID"
is "$(cat "$T/out")" 0027 "process.user.umask (decimal 23 = 0027)"

# --- run --keep leaves a stopped container to inspect ---
set_args "$B" /payload exit 0
new_id
expect_rc 0 "run --keep exits with the container's status" urun run --keep --bundle "$B" "$ID"
is "$(status_of "$ID")" stopped "run --keep leaves the container, stopped"
expect_rc 0 "delete after run --keep" urun delete "$ID"

done_testing
