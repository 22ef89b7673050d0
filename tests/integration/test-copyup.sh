#!/bin/bash
# tmpcopyup: a tmpfs mounted with it starts with a copy of what the image has at its destination
# (files, directories, symlinks, fifos, sockets, device nodes; modes, owners, times), never follows
# the image's symlinks, and keeps the container's writes away from the rootfs.
. "$(dirname "$0")/lib.sh"

B=$T/b
make_bundle "$B"
R=$B/rootfs
for a in find sort md5sum xargs; do
        ln -s busybox "$R/bin/$a"
done
SECRET=$T/host-secret # outside the rootfs: an image symlink points at it
echo host-secret-content >"$SECRET"

# The image's /data.
D=$R/data
mkdir -p "$D/sub/deep" "$D/ro-dir" "$D/empty-dir"
echo hello >"$D/file"
chmod 0640 "$D/file"
echo deep >"$D/sub/deep/f2"
chmod 0600 "$D/sub/deep/f2"
echo inside >"$D/ro-dir/f"
echo rw >"$D/rw"
chmod 0555 "$D/ro-dir"
printf '#!/bin/sh\n' >"$D/suid"
chmod 4755 "$D/suid"
head -c 262144 /dev/zero >"$D/big"
ln -s file "$D/link"
ln -s "../../../../../../../../../..$SECRET" "$D/out-relative"
ln -s "$SECRET" "$D/out-absolute"
mkfifo "$D/fifo"
HAS_SOCKET=0
if command -v python3 >/dev/null &&
        python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' "$D/sock" 2>/dev/null; then
        HAS_SOCKET=1
fi
HAS_DEVNODE=0
if [ "$TEST_MODE" = root ]; then
        mknod "$D/devnull" c 1 3 && HAS_DEVNODE=1
        # group 0: the container's root has no CAP_DAC_OVERRIDE with urun spec's capabilities
        chown 1000:0 "$D/file"
        chown 1000:1001 "$D/sub"
        chown -h 1000:1001 "$D/link"
fi
chmod 0751 "$D"
touch -h -d '2001-02-03 04:05:06' "$D/link" "$D/file" "$D/sub/deep" "$D/sub" "$D"

# Everything about /data as the container sees it: type, mode, owner, mtime, link targets, content
# (directory sizes differ between filesystems; no atime: reading changes it).
LIST='cd /data && find . | sort | while read -r f; do
        echo "$f $(stat -c "%F %a %u:%g %Y" "$f") $(if [ -L "$f" ]; then readlink "$f"; fi)"
done && find . -type f | sort | xargs md5sum'

# tmpfs_mount DEST OPTIONS_JSON: replace the mounts on DEST by a tmpfs with these options.
tmpfs_mount() {
        cfg "$B" '.mounts |= map(select(.destination != $d))
                  | .mounts += [{"destination": $d, "type": "tmpfs", "source": "tmpfs", "options": $o}]' \
                --arg d "$1" --argjson o "$2"
}

in_ctr "the image's /data, without a mount" 0 /bin/sh -c "$LIST"
cp "$T/out" "$T/image-view"
like "$T/image-view" '^\./out-relative symbolic link' "the listing shows the image's symlinks"

tmpfs_mount /data '["tmpcopyup", "nosuid", "nodev"]'
in_ctr "tmpcopyup: the container runs" 0 /bin/sh -c "$LIST"
cp "$T/out" "$T/copy-view"
if cmp -s "$T/copy-view" "$T/image-view"; then
        ok "tmpcopyup: files, directories, symlinks, fifos, modes, owners and mtimes are those of the image"
else
        diff "$T/image-view" "$T/copy-view" >"$T/why"
        not_ok "tmpcopyup: files, directories, symlinks, fifos, modes, owners and mtimes are those of the image" "$T/why"
fi
in_ctr "tmpcopyup: /data is a tmpfs" 0 /bin/sh -c 'grep " /data tmpfs " /proc/mounts'
like "$T/out" ' /data tmpfs ' "tmpcopyup: the copy is on a tmpfs"
like "$T/copy-view" '^\./fifo fifo ' "tmpcopyup: the fifo is a fifo"
if [ "$HAS_SOCKET" = 1 ]; then
        like "$T/copy-view" '^\./sock socket ' "tmpcopyup: a socket is copied as a socket"
else
        skip "tmpcopyup: a socket is copied" "cannot make a unix socket here (no python3)"
fi
if [ "$HAS_DEVNODE" = 1 ]; then
        like "$T/copy-view" '^\./devnull character special file [0-9]+ [0-9:]+ [0-9]+ $' "root: a device node is copied as one"
else
        skip "a device node is copied" "only host root can put one in the image (mode $TEST_MODE)"
fi
like "$T/copy-view" '^\./suid regular file 4755 ' "tmpcopyup: a set-uid bit survives the chown"

# The image's symlinks are copies of the links, not of what they point to.
in_ctr "tmpcopyup: a symlink out of the rootfs stays a link" 0 /bin/sh -c \
        'stat -c %F /data/out-relative /data/out-absolute; readlink /data/out-absolute; cat /data/out-absolute 2>&1 || true'
unlike "$T/out" 'host-secret-content' "tmpcopyup: the host file behind the image's symlink was not copied"
is "$(head -n 3 "$T/out")" "symbolic link
symbolic link
$SECRET" "tmpcopyup: both escaping symlinks are links with their targets"

# Writes stay in the tmpfs.
in_ctr "tmpcopyup: the container writes, creates and removes" 0 /bin/sh -c \
        'echo changed >/data/rw && echo new >/data/newfile && rm /data/sub/deep/f2 && cat /data/rw'
is "$(cat "$T/out")" changed "tmpcopyup: the container sees its write"
is "$(cat "$D/rw"):$([ -e "$D/newfile" ] && echo leaked):$(cat "$D/sub/deep/f2")" "rw::deep" \
        "tmpcopyup: the rootfs is unchanged (content, no new file, nothing removed)"

# ro: filled first, read-only afterwards; mode= wins over the directory's mode.
tmpfs_mount /data '["tmpcopyup", "ro", "mode=0700"]'
in_ctr "tmpcopyup,ro: the copy is there" 0 /bin/sh -c 'cat /data/file && stat -c %a /data'
is "$(cat "$T/out")" "hello
700" "tmpcopyup,ro,mode=0700: content copied, the mount's mode= wins"
in_ctr "tmpcopyup,ro: writes fail" 1 /payload write /data/x x
like "$T/err" 'Read-only file system' "tmpcopyup,ro: EROFS"

# A destination the image lacks: an empty tmpfs.
tmpfs_mount /nothing-here '["tmpcopyup"]'
in_ctr "tmpcopyup on a path the image lacks" 0 /bin/sh -c 'ls -A /nothing-here | wc -l'
is "$(cat "$T/out")" 0 "tmpcopyup on a path the image lacks: empty"
cfg "$B" '.mounts |= map(select(.destination != "/nothing-here"))'

# Errors name the mount and the entry; nothing is left behind.
fails() {
        set_args "$B" /payload exit 0
        new_id
        one_line_with "$1" "$2" urun run --bundle "$B" "$ID"
        left_nothing "$ID" "$R" "$2: nothing left behind"
}
idx() {
        jq '.mounts | length - 1' "$B/config.json"
}
tmpfs_mount /data '["tmpcopyup", "size=64k"]'
fails "mounts[$(idx)] (/data): tmpcopyup '/data/big': copy the content: No space left on device" \
        "tmpcopyup into a tmpfs too small"
tmpfs_mount /data '["tmpcopyup"]'
mkdir -p "$D/$(printf 'd/%.0s' $(seq 130))"
fails "(/data): tmpcopyup '/data/$(printf 'd/%.0s' $(seq 128))d': nested more than 128 directories deep" \
        "tmpcopyup of a tree deeper than 128 levels"
rm -rf "$D/d"
cfg "$B" '.mounts |= map(select(.destination != "/data"))
          | .mounts += [{"destination": "/data", "type": "bind", "source": $s, "options": ["rbind", "tmpcopyup"]}]' \
        --arg s "$T"
fails "mounts[$(idx)].options: tmpcopyup needs type tmpfs" "tmpcopyup on a bind mount is refused at validation"

done_testing
