#!/bin/bash
# The container's filesystem and process limits: readonly root, maskedPaths, readonlyPaths, /dev
# nodes and symlinks, tmpfs and bind mounts, capabilities, rlimits, noNewPrivileges.
. "$(dirname "$0")/lib.sh"

B=$T/b
make_bundle "$B"


# --- root.readonly ---
jq -e '.mounts | map(.destination) | index("/tmp")' "$B/config.json" >/dev/null ||
        cfg "$B" '.mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}]'
cfg "$B" '.root.readonly = true'
in_ctr "readonly root: writing / fails" 1 /payload write /newfile x
like "$T/err" 'Read-only file system' "the write fails with EROFS"
in_ctr "readonly root: /tmp from a tmpfs mount is writable" 0 /payload write /tmp/x x
cfg "$B" '.root.readonly = false'
in_ctr "writable root: writing / works" 0 /payload write /newfile x
[ -f "$B/rootfs/newfile" ]
result $? "the file written in the container is in the rootfs"

# --- maskedPaths, readonlyPaths ---
in_ctr "maskedPaths: /proc/kcore reads empty or fails" 0 /bin/sh -c \
        'n=$(cat /proc/kcore 2>/dev/null | head -c 16 | wc -c); test "$n" = 0'
cfg "$B" '.linux.maskedPaths += ["/etc/secret-dir", "/etc/secret-file"]'
mkdir -p "$B/rootfs/etc/secret-dir" && echo s >"$B/rootfs/etc/secret-dir/s" && echo s >"$B/rootfs/etc/secret-file"
in_ctr "maskedPaths: a masked directory is empty" 0 /bin/sh -c 'test -z "$(ls -A /etc/secret-dir)"'
in_ctr "maskedPaths: a masked file reads empty" 0 /bin/sh -c 'test -z "$(cat /etc/secret-file)"'
mkdir -p "$B/rootfs/ro"
cfg "$B" '.linux.readonlyPaths += ["/ro"]'
in_ctr "readonlyPaths: writing under a readonly path fails" 1 /payload write /ro/f x

# --- /dev ---
in_ctr "/dev/null is writable" 0 /bin/sh -c 'echo x > /dev/null'
in_ctr "/dev/zero reads zeros" 0 /bin/sh -c 'test "$(head -c 4 /dev/zero | tr "\0" z)" = zzzz'
in_ctr "/dev/null is a char device" 0 /payload stat /dev/null
like "$T/out" 'type=char' "/dev/null has type char"
for d in full random urandom tty; do
        in_ctr "/dev/$d exists" 0 /payload stat /dev/$d
done
in_ctr "/dev/fd, stdin, stdout, stderr, ptmx symlinks" 0 /bin/sh -c \
        'for l in fd stdin stdout stderr ptmx; do test -L /dev/$l || { echo "no /dev/$l"; exit 1; }; done'
in_ctr "/dev/stdout works" 0 /bin/sh -c 'echo via-dev-stdout > /dev/stdout'
is "$(cat "$T/out")" via-dev-stdout "output through /dev/stdout reaches the caller"

# --- mounts ---
HOSTDIR=$T/hostdir
mkdir -p "$HOSTDIR"
echo from-host >"$HOSTDIR/f"
cfg "$B" '.mounts += [{"destination": "/ro-bind", "type": "bind", "source": $s, "options": ["rbind", "ro"]},
                      {"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "size=1m"]}]' \
        --arg s "$HOSTDIR"
in_ctr "a bind mount shows the host file" 0 /payload cat /ro-bind/f
is "$(cat "$T/out")" from-host "bind mount content"
in_ctr "a ro bind mount refuses writes" 1 /payload write /ro-bind/g x
[ ! -e "$HOSTDIR/g" ]
result $? "nothing was written to the host through the ro bind"
in_ctr "a tmpfs mount is writable" 0 /payload write /scratch/f x
in_ctr "/proc is mounted" 0 /payload cat /proc/self/stat

# --- capabilities ---
cfg "$B" '.process.capabilities = {"bounding": ["CAP_CHOWN", "CAP_KILL"], "effective": ["CAP_CHOWN", "CAP_KILL"],
                                   "permitted": ["CAP_CHOWN", "CAP_KILL"], "inheritable": [], "ambient": []}'
in_ctr "payload caps runs" 0 /payload caps
like "$T/out" '^CapBnd:[[:space:]]+0000000000000021$' "bounding set is CHOWN+KILL"
like "$T/out" '^CapEff:[[:space:]]+0000000000000021$' "effective set is CHOWN+KILL"
like "$T/out" '^CapPrm:[[:space:]]+0000000000000021$' "permitted set is CHOWN+KILL"
like "$T/out" '^CapInh:[[:space:]]+0000000000000000$' "inheritable set is empty"
like "$T/out" '^CapAmb:[[:space:]]+0000000000000000$' "ambient set is empty"
cfg "$B" '.process.capabilities = {"bounding": ["CAP_KILL"], "effective": ["CAP_KILL"], "permitted": ["CAP_KILL"],
                                   "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]}
          | .process.user.uid = 1000 | .process.user.gid = 1000'
if [ "$TEST_MODE" = root ] || jq -e '.linux.uidMappings | map(.size) | add > 1000' "$B/config.json" >/dev/null 2>&1; then
        in_ctr "ambient capabilities for a non-root user" 0 /payload caps
        like "$T/out" '^CapAmb:[[:space:]]+0000000000000020$' "ambient set is KILL"
        like "$T/out" '^CapEff:[[:space:]]+0000000000000020$' "effective set of uid 1000 is KILL (via ambient)"
else
        skip "ambient capabilities for uid 1000" "uid 1000 is not mapped by the single-id rootless spec"
        skip "ambient set is KILL" "as above"
        skip "effective set via ambient" "as above"
fi
cfg "$B" '.process.user.uid = 0 | .process.user.gid = 0 | .process.noNewPrivileges = true'
in_ctr "noNewPrivileges runs" 0 /payload cat /proc/self/status
like "$T/out" '^NoNewPrivs:[[:space:]]+1$' "noNewPrivileges sets no_new_privs"

# --- rlimits ---
cfg "$B" '.process.rlimits = [{"type": "RLIMIT_NOFILE", "soft": 256, "hard": 512}]'
in_ctr "rlimit NOFILE runs" 0 /payload rlimit NOFILE
is "$(cat "$T/out")" "256 512" "RLIMIT_NOFILE is soft 256 hard 512"
in_ctr "an rlimit not in the config is inherited (MEMLOCK)" 0 /payload rlimit MEMLOCK
soft=$(ulimit -Sl) hard=$(ulimit -Hl)
[ "$soft" = unlimited ] || soft=$((soft * 1024))
[ "$hard" = unlimited ] || hard=$((hard * 1024))
is "$(cat "$T/out")" "$soft $hard" "RLIMIT_MEMLOCK is untouched (no CAP_SYS_RESOURCE needed)"
cfg "$B" 'del(.process.rlimits)'
in_ctr "no rlimits at all: the container runs" 0 /payload exit 0
cfg "$B" '.process.rlimits = [{"type": "RLIMIT_BOGUS", "soft": 1, "hard": 1}]'
set_args "$B" /payload exit 0
new_id
expect_fail "an unknown rlimit type is refused" urun run --bundle "$B" "$ID"
like "$T/err" 'RLIMIT_BOGUS|rlimits' "the error names the rlimit"

done_testing
