#!/bin/bash
# /dev in the container: the default nodes and symlinks on a tmpfs /dev, in the rootfs's own /dev
# (no mount on /dev) and not at all on a bind-mounted /dev; linux.devices by mknod (root) or by a
# bind mount of the host's node (rootless, userns), with its checks; paths that try to leave the
# rootfs through ".." or a symlink in the image.
. "$(dirname "$0")/lib.sh"

B=$T/b
make_bundle "$B"
OUT=$T/outside # a host directory the container must never create anything in
mkdir -p "$OUT"
MKNOD=0
[ "$TEST_MODE" = root ] && MKNOD=1
HAS_TUN=0
[ -c /dev/net/tun ] && [ -r /dev/net/tun ] && [ -w /dev/net/tun ] && HAS_TUN=1

devs() {
        cfg "$B" '.linux.devices = $d' --argjson d "$1"
}

DEFAULTS='null character special file:1:3
zero character special file:1:5
full character special file:1:7
random character special file:1:8
urandom character special file:1:9
tty character special file:5:0'
LINKS='fd /proc/self/fd
stdin /proc/self/fd/0
stdout /proc/self/fd/1
stderr /proc/self/fd/2
ptmx pts/ptmx
core /proc/kcore'
LIST_DEFAULTS='for d in null zero full random urandom tty; do echo "$d $(stat -c %F:%t:%T /dev/$d)"; done'
LIST_LINKS='for l in fd stdin stdout stderr ptmx core; do echo "$l $(readlink /dev/$l)"; done'
USE_NODES='echo x >/dev/null && test "$(head -c 4 /dev/zero | tr "\0" z)" = zzzz &&
        test "$(head -c 64 /dev/urandom | wc -c)" = 64 && test "$(head -c 1 /dev/random | wc -c)" = 1'

# check_defaults WHERE: the default nodes, usable, and the symlinks.
check_defaults() {
        in_ctr "$1: the default nodes have their numbers" 0 /bin/sh -c "$LIST_DEFAULTS"
        is "$(cat "$T/out")" "$DEFAULTS" "$1: null zero full random urandom tty are the right char devices"
        in_ctr "$1: /dev/null takes writes, /dev/zero, /dev/urandom and /dev/random read" 0 /bin/sh -c "$USE_NODES"
        in_ctr "$1: writing /dev/full fails" 1 /bin/sh -c 'echo x >/dev/full'
        like "$T/err" 'No space left on device' "$1: /dev/full gives ENOSPC"
        in_ctr "$1: the /dev symlinks" 0 /bin/sh -c "$LIST_LINKS"
        is "$(cat "$T/out")" "$LINKS" "$1: fd, stdin, stdout, stderr, ptmx, core point where they should"
}

# fails_with FRAGMENT DESC: a run of $B fails with one line containing FRAGMENT, leaving nothing.
fails_with() {
        set_args "$B" /payload exit 0
        new_id
        one_line_with "$1" "$2" urun run --bundle "$B" "$ID"
        left_nothing "$ID" "$B/rootfs" "$2: nothing left behind"
}

outside_empty() {
        is "$(ls -A "$OUT")" "" "$1: nothing was created outside the rootfs ($OUT is empty)"
}

# --- a tmpfs on /dev (urun spec's default) ---
check_defaults "tmpfs /dev"

# --- linux.devices ---
if [ "$MKNOD" = 1 ]; then
        devs '[{"path": "/dev/null2", "type": "c", "major": 1, "minor": 3, "fileMode": 432, "uid": 1000, "gid": 0},
               {"path": "/opt/devs/zero2", "type": "c", "major": 1, "minor": 5},
               {"path": "/dev/myfifo", "type": "p", "fileMode": 384}]'
        in_ctr "root: linux.devices are created by mknod" 0 /bin/sh -c \
                'stat -c "%a %u %g %t:%T" /dev/null2 && echo x >/dev/null2 && head -c 3 /opt/devs/zero2 | wc -c &&
                 stat -c "%F %a" /dev/myfifo'
        is "$(cat "$T/out")" "660 1000 0 1:3
3
fifo 600" \
                "root: fileMode, uid and gid are applied (root writes through gid 0); a node outside /dev and a fifo work"
        skip "a missing host node is an error" "mknod needs no host node (mode $TEST_MODE)"
        skip "a missing host node: nothing left behind" "as above"
else
        devs '[{"path": "/dev/myfifo", "type": "p", "fileMode": 384}]'
        in_ctr "$TEST_MODE: a fifo in linux.devices is created" 0 /bin/sh -c 'stat -c "%F %a" /dev/myfifo'
        is "$(cat "$T/out")" "fifo 600" "$TEST_MODE: the fifo has its fileMode"
        if [ "$HAS_TUN" = 1 ]; then
                devs '[{"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200}]'
                in_ctr "$TEST_MODE: /dev/net/tun is bind-mounted from the host" 0 /bin/sh -c \
                        'stat -c "%t:%T" /dev/net/tun && exec 3<>/dev/net/tun && echo opened'
                is "$(cat "$T/out")" "a:c8
opened" "$TEST_MODE: the bound /dev/net/tun is 10:200 and opens"
        else
                skip "bind of /dev/net/tun" "the host has no /dev/net/tun usable by $(id -un)"
                skip "the bound /dev/net/tun opens" "as above"
        fi
        devs '[{"path": "/dev/null2", "type": "c", "major": 1, "minor": 3}]'
        fails_with "linux.devices[0] (/dev/null2): device nodes cannot be created without host privileges, and the host's /dev/null2 cannot be bind-mounted: No such file or directory" \
                "$TEST_MODE: a device the host lacks is an error"
fi
if [ -c /dev/fuse ]; then
        devs '[{"path": "/dev/fuse", "type": "c", "major": 10, "minor": 229}]'
        in_ctr "linux.devices: /dev/fuse" 0 /bin/sh -c 'stat -c "%F:%t:%T" /dev/fuse'
        is "$(cat "$T/out")" "character special file:a:e5" "/dev/fuse is 10:229 in the container"
else
        skip "linux.devices: /dev/fuse" "the host has no /dev/fuse"
        skip "/dev/fuse is 10:229" "as above"
fi
if [ "$MKNOD" = 0 ]; then
        devs '[{"path": "/dev/null", "type": "c", "major": 1, "minor": 5}]'
        fails_with "linux.devices[0] (/dev/null): the host's /dev/null is char device 1:3, not char device 1:5" \
                "$TEST_MODE: a host node with other numbers is refused"
        devs '[{"path": "/dev/zero", "type": "b", "major": 1, "minor": 5}]'
        fails_with "linux.devices[0] (/dev/zero): the host's /dev/zero is char device 1:5, not block device 1:5" \
                "$TEST_MODE: a host node of another type is refused"
fi
devs '[{"path": "/dev/big", "type": "c", "major": 5000, "minor": 1}]'
fails_with "linux.devices[0]: major/minor out of range" "a major number out of range is refused"

# ".." cannot climb out of the rootfs: the path is clamped at its root.
devs "$(jq -n --arg p "/dev/../../../../../../../../../..$OUT/dotdot-null" \
        '[{"path": $p, "type": "c", "major": 1, "minor": 3}]')"
if [ "$MKNOD" = 1 ]; then
        in_ctr "root: a device path with .. is created inside the rootfs" 0 /bin/sh -c "stat -c %t:%T $OUT/dotdot-null"
        is "$(cat "$T/out")" "1:3" "root: the container sees it at $OUT/dotdot-null"
        [ -c "$B/rootfs$OUT/dotdot-null" ]
        result $? "root: the node is in the rootfs, under $B/rootfs$OUT"
else
        fails_with "linux.devices[0] (/dev/../../../../../../../../../..$OUT/dotdot-null): device nodes cannot be created" \
                "$TEST_MODE: a device path with .. (no such host node) is an error"
        skip "the node is in the rootfs" "binding needs the same path on the host (mode $TEST_MODE)"
fi
outside_empty "a device path with .."
devs '[]'

# --- no mount on /dev: the rootfs's own /dev is used, as runc does ---
cfg "$B" '.mounts |= map(select(.destination != "/dev"))'
check_defaults "no /dev mount"
[ -e "$B/rootfs/dev/null" ]
result $? "no /dev mount: the nodes are in the rootfs's /dev"
in_ctr "no /dev mount, second run: the nodes already there are reused" 0 /bin/sh -c "$USE_NODES"
rm -f "$B/rootfs/dev/zero"
printf stale >"$B/rootfs/dev/zero"
in_ctr "a regular file where /dev/zero belongs is covered" 0 /bin/sh -c \
        'test "$(head -c 4 /dev/zero | tr "\0" z)" = zzzz'
is "$(cat "$B/rootfs/dev/zero")" stale "the file in the rootfs is not changed"
devs '[{"path": "/dev/null", "type": "c", "major": 1, "minor": 5}]'
fails_with "linux.devices[0] (/dev/null): the host's /dev/null is char device 1:3, not char device 1:5" \
        "a /dev/null with other numbers, neither creatable nor bindable, is refused"
devs '[]'
rm -f "$B/rootfs/dev/full"
mkdir "$B/rootfs/dev/full"
fails_with "default devices[2] (/dev/full): exists in the container and is neither a file nor a device node" \
        "a directory where /dev/full belongs is an error"
rmdir "$B/rootfs/dev/full"

# A /dev symlink in the image that climbs above the root lands inside the rootfs.
rm -rf "$B/rootfs/dev"
ln -s "../../../../../../../../../..$OUT" "$B/rootfs/dev"
in_ctr "an image /dev symlink pointing outside: the nodes work" 0 /bin/sh -c "$LIST_DEFAULTS"
is "$(cat "$T/out")" "$DEFAULTS" "an image /dev symlink pointing outside: the nodes are right"
outside_empty "an image /dev symlink pointing outside"
[ -e "$B/rootfs$OUT/null" ]
result $? "the nodes went to $B/rootfs$OUT, inside the rootfs"
rm -f "$B/rootfs/dev"
mkdir "$B/rootfs/dev"

# --- a bind-mounted /dev is not touched (nor are linux.devices put into it) ---
HOSTDEV=$T/hostdev
mkdir -p "$HOSTDEV"
echo m >"$HOSTDEV/marker"
cfg "$B" '.mounts |= map(select(.destination | startswith("/dev") | not))
          | .mounts += [{"destination": "/dev", "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' \
        --arg s "$HOSTDEV"
devs '[{"path": "/dev/null2", "type": "c", "major": 1, "minor": 3}]'
in_ctr "/dev bind mount: the container runs" 0 /bin/ls -A /dev
is "$(cat "$T/out")" marker "/dev bind mount: the container sees only what the source has"
is "$(ls -A "$HOSTDEV")" marker "/dev bind mount: no node, symlink or linux.devices entry was created in it"

done_testing
