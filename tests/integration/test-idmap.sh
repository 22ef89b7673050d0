#!/bin/bash
# Idmapped bind mounts (mounts[].uidMappings/gidMappings, "idmap", "ridmap"). The kernel idmaps a
# mount only for a caller privileged over the source's filesystem:
#   root     host root may idmap a host directory: per-mount mappings, the container's own maps
#            (idmap without mappings), idmap vs ridmap over a submount, ro, and the refusals.
#   rootless an unprivileged user may not (a host filesystem belongs to the initial user
#            namespace): one line naming the mount and the kernel's rule, nothing left.
#   userns   root of a user namespace may idmap a filesystem that namespace mounted: a tmpfs
#            mounted in a mount namespace of its own; a host directory is refused as rootless.
. "$(dirname "$0")/lib.sh"

# tmpfs mounts of host root made by this script (root mode), unmounted however it ends
MOUNTED=()
trap 'for m in "${MOUNTED[@]}"; do umount -R "$m" 2>/dev/null; done; _cleanup' EXIT

# tmpfs_at DIR [mount options...]: a tmpfs of host root on DIR (made), remembered for the trap.
tmpfs_at() {
        local d=$1
        shift
        mkdir -p "$d" && mount -t tmpfs -o mode=0755 tmpfs "$d" "$@" && MOUNTED+=("$d")
}

# add_mount BUNDLE JSON: append one entry to mounts[].
add_mount() {
        cfg "$1" '.mounts += [$m]' --argjson m "$2"
}

# idmap_refused FRAGMENT DESC: the create of bundle $B fails with one line naming mounts[N] and
# containing FRAGMENT, and leaves nothing behind.
idmap_refused() {
        local frag=$1 desc=$2
        new_id
        one_line_with "$frag" "$desc" urun create --bundle "$B" "$ID"
        like "$T/err" 'mounts\[[0-9]+\]' "$desc: the error names the mount"
        left_nothing "$ID" "$B" "$desc: nothing left"
}

SRC=$T/src
mkdir -p "$SRC"
echo data >"$SRC/a"
echo data >"$SRC/b"

# --- validation: the same in every mode, before anything is created ---
B=$T/bv
make_bundle "$B" /payload exit 0
cp "$B/config.json" "$T/valid.json"
add_mount "$B" '{"destination": "/t", "type": "tmpfs", "source": "tmpfs", "options": ["idmap"]}'
idmap_refused "only supported for bind mounts" "idmap on a tmpfs"
cp "$T/valid.json" "$B/config.json"
add_mount "$B" "$(jq -n --arg s "$SRC" '{destination: "/idm", type: "bind", source: $s, options: ["bind"],
        uidMappings: [{containerID: 0, hostID: 0, size: 1}]}')"
idmap_refused "needs both uidMappings and gidMappings" "uidMappings without gidMappings"
cp "$T/valid.json" "$B/config.json"
add_mount "$B" "$(jq -n --arg s "$SRC" '{destination: "/idm", type: "bind", source: $s,
        options: ["bind", "idmap=uids=0-1-10;gids=0-1-10"]}')"
idmap_refused "give the mount uidMappings and gidMappings" "crun's idmap=VALUE"

# --- root: a user namespace 0 -> 100000 (65536 ids) and host files of several owners ---
# root_bundle DIR ARGS...: its mount points exist already (the container's root cannot create
# them in a rootfs owned by host root).
root_bundle() {
        local b=$1
        shift
        make_bundle "$b" "$@"
        mkdir -p "$b/rootfs/idm" "$b/rootfs/plain" "$b/rootfs/sub"
        cfg "$b" '.linux.namespaces |= (map(select(.type != "user")) + [{"type": "user"}])
                  | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                  | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                  | .mounts |= map(select(.type != "cgroup" and .type != "cgroup2"))'
}

# bind_json SOURCE DEST OPTIONS_JSON [UIDMAP_JSON GIDMAP_JSON]
bind_json() {
        jq -n --arg s "$1" --arg d "$2" --argjson o "$3" --argjson u "${4:-null}" --argjson g "${5:-null}" \
                '{destination: $d, type: "bind", source: $s, options: $o}
                 + (if $u then {uidMappings: $u, gidMappings: $g} else {} end)'
}

# owners_are DESC WANT WHAT [FILE OWNER]: a container of bundle $B runs, its output (lines joined
# by spaces) is WANT, and the file it made, FILE on the host, is owned by OWNER (uid:gid).
owners_are() {
        new_id
        expect_rc 0 "$1: the container runs" urun run --bundle "$B" "$ID"
        is "$(tr '\n' ' ' <"$T/out")" "$2" "$1: $3"
        [ $# -lt 4 ] || is "$(stat -c %u:%g "$4" 2>&1)" "$5" "$1: the file made by container root is $5 on the host"
}

STAT='stat -c %n:%u:%g'
if [ "$TEST_MODE" = root ]; then
        chown 1000:1000 "$SRC" "$SRC/a"
        chmod 0777 "$SRC" # the spec's capabilities have no CAP_DAC_OVERRIDE
        chown 1001:1002 "$SRC/b"
        echo data >"$SRC/c"
        chown 5:5 "$SRC/c"
        MAP='[{"containerID": 1000, "hostID": 100000, "size": 10}]'

        # per-mount mappings: on-disk 1000.. shows as 0.. (hostID 100000 is container root)
        B=$T/b1
        root_bundle "$B" sh -c "$STAT /idm/a /idm/b /idm/c /file && touch /idm/new"
        touch "$B/rootfs/file"
        add_mount "$B" "$(bind_json "$SRC" /idm '["bind"]' "$MAP" "$MAP")"
        add_mount "$B" "$(bind_json "$SRC/b" /file '["bind"]' "$MAP" "$MAP")"
        owners_are "per-mount mappings" "/idm/a:0:0 /idm/b:1:2 /idm/c:65534:65534 /file:1:2 " \
                "owners as mapped (a file too), unmapped ones as the overflow id" "$SRC/new" 1000:1000

        # idmap without mappings: the container's maps, so host ids show as themselves
        B=$T/b2
        root_bundle "$B" sh -c "$STAT /idm/a /idm/b /idm/c /plain/a && touch /idm/new2"
        add_mount "$B" "$(bind_json "$SRC" /idm '["bind", "idmap"]')"
        add_mount "$B" "$(bind_json "$SRC" /plain '["bind"]')"
        owners_are "idmap without mappings" "/idm/a:1000:1000 /idm/b:1001:1002 /idm/c:5:5 /plain/a:65534:65534 " \
                "the container's maps (a plain bind shows the overflow id)" "$SRC/new2" 0:0

        # ro + idmap: mapped, and read-only
        B=$T/b3
        root_bundle "$B" sh -c "$STAT /idm/a; touch /idm/ro-new"
        add_mount "$B" "$(bind_json "$SRC" /idm '["bind", "ro", "idmap"]')"
        new_id
        run urun run --bundle "$B" "$ID"
        [ "$RC" != 0 ] && grep -qx '/idm/a:1000:1000' "$T/out" && grep -qi 'read-only' "$T/err" &&
                ! [ -e "$SRC/ro-new" ]
        result $? "ro + idmap: the owners are mapped and writing fails (read-only)" "$T/all"

        # idmap vs ridmap over a submount (a tmpfs of host root under the source)
        SRC2=$T/src2
        if tmpfs_at "$SRC2/sub"; then
                echo data >"$SRC2/sub/f"
                chown 1000:1000 "$SRC2/sub/f"
                B=$T/b4
                root_bundle "$B" sh -c "$STAT /idm/sub/f /plain/sub/f; ls /sub/sub"
                add_mount "$B" "$(bind_json "$SRC2" /idm '["rbind", "ridmap"]')"
                add_mount "$B" "$(bind_json "$SRC2" /plain '["rbind", "idmap"]')"
                add_mount "$B" "$(bind_json "$SRC2" /sub '["bind", "idmap"]')"
                owners_are "idmap/ridmap with a submount" "/idm/sub/f:1000:1000 /plain/sub/f:65534:65534 " \
                        "ridmap maps the submount; rbind+idmap keeps it unmapped; bind+idmap leaves it out"
        else
                skip "idmap/ridmap with a submount" "cannot mount a tmpfs under $SRC2"
        fi

        # a shared source: what the container mounts below the idmapped mount stays in it
        SH=$T/shared-src
        if tmpfs_at "$SH" && mount --make-shared "$SH"; then
                B=$T/b9
                root_bundle "$B" sh -c 'grep -c " /idm/x " /proc/self/mountinfo'
                add_mount "$B" "$(bind_json "$SH" /idm '["bind", "idmap"]')"
                add_mount "$B" '{"destination": "/idm/x", "type": "tmpfs", "source": "tmpfs"}'
                new_id
                expect_rc 0 "idmap of a shared source with a mount below: the container runs" \
                        urun run --bundle "$B" "$ID"
                ! grep -q " $SH/x " /proc/self/mountinfo && grep -qx 1 "$T/out"
                result $? "the container's mount below the idmapped mount did not propagate to the host" \
                        /proc/self/mountinfo "$T/all"
        else
                skip "idmap of a shared source" "cannot mount a shared tmpfs on $SH"
        fi

        # refusals of root: no user namespace to borrow maps from; a filesystem without idmap support
        B=$T/b5
        make_bundle "$B" /payload exit 0
        mkdir -p "$B/rootfs/idm"
        add_mount "$B" "$(bind_json "$SRC" /idm '["bind", "idmap"]')"
        idmap_refused "the container has no user namespace" "idmap without mappings and without a user namespace"
        B=$T/b6
        root_bundle "$B" /payload exit 0
        add_mount "$B" "$(bind_json /sys/kernel/mm /idm '["bind"]' "$MAP" "$MAP")"
        idmap_refused "filesystem type sysfs does not support idmapped mounts" "idmap of a sysfs directory"
else
        skip "root: per-mount mappings, idmap, ro, ridmap" "host root only (TEST_MODE=$TEST_MODE)"
fi

# --- unprivileged: a host filesystem (owned by the initial user namespace) is refused ---
ME_MAP="[{\"containerID\": 0, \"hostID\": $(id -u), \"size\": 1}]"
if [ "$TEST_MODE" != root ]; then
        B=$T/b7
        make_bundle "$B" /payload exit 0
        add_mount "$B" "$(bind_json "$SRC" /idm '["bind"]' "$ME_MAP" "$ME_MAP")"
        idmap_refused "the kernel allows idmapped mounts only to a user privileged over the source's filesystem" \
                "$TEST_MODE: idmap of a host directory"
fi

# --- userns: a tmpfs of our own user namespace, in a mount namespace of our own ---
if [ "$TEST_MODE" = userns ]; then
        TM=$T/tm
        mkdir -p "$TM"
        B=$T/b8
        make_bundle "$B" sh -c "$STAT /same/f /shifted/f && touch /same/new"
        mkdir -p "$B/rootfs/same" "$B/rootfs/shifted"
        add_mount "$B" "$(bind_json "$TM" /same '["bind"]' "$ME_MAP" "$ME_MAP")"
        SHIFT="[{\"containerID\": 1, \"hostID\": $(id -u), \"size\": 1}]"
        add_mount "$B" "$(bind_json "$TM" /shifted '["bind"]' "$SHIFT" "$SHIFT")"
        # root of a user namespace with a mount namespace of its own: still not over a host filesystem
        cp "$B/config.json" "$T/b8.json"
        add_mount "$B" "$(bind_json "$SRC" /host '["bind", "idmap"]')"
        new_id
        one_line_with "the kernel allows idmapped mounts only to a user privileged over the source's filesystem" \
                "userns with its own mount namespace: idmap of a host directory" \
                unshare -m --propagation private "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} create --bundle "$B" "$ID"
        left_nothing "$ID" "$B" "userns with its own mount namespace: idmap of a host directory: nothing left"
        cp "$T/b8.json" "$B/config.json"
        new_id
        # the tmpfs lives (and dies) with the mount namespace of unshare -m
        run unshare -m --propagation private sh -c \
                'mount -t tmpfs tmpfs "$1" && echo data >"$1/f" && "$2" ${3:+--root "$3"} run --bundle "$4" "$5" &&
                 stat -c "host:%u:%g" "$1/new"' \
                sh "$TM" "$URUN" "$URUN_ROOT" "$B" "$ID"
        if [ "$RC" != 0 ] && grep -q 'tmpfs.*does not support\|mount: .*Operation not permitted' "$T/err"; then
                skip "userns: idmap of a tmpfs of our user namespace" "$(head -n 1 "$T/err")"
        else
                is "$RC" 0 "userns: idmap of a tmpfs of our user namespace: the container runs"
                is "$(tr '\n' ' ' <"$T/out")" "/same/f:0:0 /shifted/f:65534:65534 host:0:0 " \
                        "userns: owners as mapped (on-disk 0 is unmapped by the shifted map); the new file is ours"
        fi
fi

done_testing
