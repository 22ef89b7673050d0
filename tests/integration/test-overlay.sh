#!/bin/bash
# Kernel overlayfs, no FUSE. annotations["io.github.urun.rootfs-overlay"]: "tmpfs" (a throw-away upper
# layer) or an absolute DIR (a persistent one) keeps the bundle's rootfs pristine; a kernel that
# cannot mount it gets a read-only bind and one warning; a bad value is one error line. Type
# "overlay" entries of mounts[] with several lower dirs. Every check is made from inside the
# container (/proc/self/mountinfo, files) and on the host (the rootfs and the lower dirs).
. "$(dirname "$0")/lib.sh"

ANN=io.github.urun.rootfs-overlay
ANN_FIELD='annotations["io.github.urun.rootfs-overlay"]'
B=$T/b
make_bundle "$B"
cfg "$B" '.root.readonly = false'
mkdir -p "$B/rootfs/lowerdir/sub"
echo lower >"$B/rootfs/lowerdir/sub/f"
echo orig >"$B/rootfs/etc/motd"
mkdir -p "$B/rootfs/ovl" # the mount point of the mounts[] overlay without the annotation
cp "$B/config.json" "$T/base.json"

# tree_sum DIR: names, types, modes, owners, sizes, link targets and contents of everything below.
tree_sum() {
        (
                cd "$1" || exit 1
                find . -printf '%p %y %m %U %G %s %l\n' | LC_ALL=C sort
                find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r md5sum
        ) | md5sum | cut -d' ' -f1
}
SUM0=$(tree_sum "$B/rootfs")
pristine() {
        local got
        got=$(tree_sum "$B/rootfs")
        if [ "$got" = "$SUM0" ]; then
                ok "$1"
        else
                (cd "$B/rootfs" && find . -newer "$T/base.json" -printf '%p %y %m\n') >"$T/why" 2>&1
                not_ok "$1 (the rootfs changed; newer entries:)" "$T/why"
        fi
}

base_config() {
        cp "$T/base.json" "$B/config.json"
}
annotate() {
        cfg "$B" '.annotations[$k] = $v' --arg k "$ANN" --arg v "$1"
}
# urun_with HOOK=1 ARGS...: `run` urun with one test hook in its environment.
urun_with() {
        local hook=$1
        shift
        run env "$hook" "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} "$@"
}
# xattr_ok FILE MOUNTPOINT DESC: outside the initial user namespace (every mode but root) the
# overlay at MOUNTPOINT must use user.* xattrs (userxattr); root in the initial one keeps trusted.*.
xattr_ok() {
        if [ "$TEST_MODE" = root ]; then
                ! grep " $2 " "$1" | grep -q userxattr
                result $? "$3: root in the initial user namespace: no userxattr" "$1"
        else
                grep " $2 " "$1" | grep -q userxattr
                result $? "$3: outside the initial user namespace: userxattr" "$1"
        fi
}
# The mountinfo line of / (field 5), printed inside the container and matched on the host.
ROOT_ERE='^[0-9]+ [0-9]+ [0-9]+:[0-9]+ [^ ]+ / '
ROOT_LINE="grep -E '$ROOT_ERE' /proc/self/mountinfo"

# --- the kernel must be able to do it at all (Linux >= 5.11 for a user namespace) ---
base_config
annotate tmpfs
in_ctr "tmpfs: a container with an overlay root runs" 0 /bin/sh -c "$ROOT_LINE"
OVL_OK=1
if grep -q 'cannot mount overlayfs' "$T/err"; then
        OVL_OK=0
        diag "overlayfs cannot be mounted here: $(cat "$T/err")"
fi

overlay_tmpfs_tests() {
        like "$T/out" "$ROOT_ERE.* - overlay overlay " "tmpfs: mountinfo shows an overlay at /"
        grep ' / / ' "$T/out" | grep -qF "lowerdir=$B/rootfs,upperdir=/proc/self/fd/"
        result $? "tmpfs: the rootfs is the only lower layer, the upper a detached tmpfs" "$T/out"
        xattr_ok "$T/out" / tmpfs
        is "$(cat "$T/err")" "" "tmpfs: no warning"
        in_ctr "tmpfs: copy-up, new files, whiteouts and an opaque directory inside" 0 /bin/sh -c '
                echo changed >/etc/motd && test "$(cat /etc/motd)" = changed && echo new >/newfile &&
                rm /lowerdir/sub/f && test ! -e /lowerdir/sub/f && rm -rf /lowerdir && mkdir /lowerdir &&
                test -z "$(ls -A /lowerdir)" && rm /bin/true && test ! -e /bin/true && echo done'
        like "$T/out" '^done$' "tmpfs: every change worked"
        pristine "tmpfs: the rootfs on the host is unchanged"
        [ "$(cat "$B/rootfs/lowerdir/sub/f")" = lower ] && [ -L "$B/rootfs/bin/true" ] && [ ! -e "$B/rootfs/newfile" ]
        result $? "tmpfs: the lower layer still has what was removed inside, and nothing new"
        in_ctr "tmpfs: a second run starts clean" 0 /bin/sh -c \
                'test ! -e /newfile && test "$(cat /etc/motd)" = orig && test -f /lowerdir/sub/f && test -e /bin/true'
}

overlay_mounts_on_top_tests() {
        local hb=$T/hostdir
        mkdir -p "$hb"
        echo from-host >"$hb/f"
        add_bind "$B" "$hb" /hb
        cfg "$B" '.mounts += [{"destination": "/scratch", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
        in_ctr "mounts[] on top of the overlay: proc, /dev tmpfs, a bind and a tmpfs" 0 /bin/sh -c \
                'cat /hb/f && echo s >/scratch/s && test -c /dev/null && test -r /proc/self/stat'
        like "$T/out" '^from-host$' "the bind shows the host file"
        [ ! -e "$B/rootfs/hb" ] && [ ! -e "$B/rootfs/scratch" ]
        result $? "mount points are created in the upper layer, not in the image"
        pristine "mounts on top: the rootfs on the host is unchanged"
}

overlay_readonly_tests() {
        cfg "$B" '.root.readonly = true
                  | .mounts += [{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["size=1m"]}]'
        in_ctr "root.readonly: writing / fails" 1 /payload write /newfile x
        like "$T/err" 'Read-only file system' "root.readonly: the write fails with EROFS"
        in_ctr "root.readonly: /tmp from mounts[] stays writable" 0 /payload write /tmp/x x
        in_ctr "root.readonly: mountinfo" 0 /bin/sh -c "$ROOT_LINE"
        like "$T/out" "${ROOT_ERE}ro[, ].* - overlay overlay " "root.readonly: / is a read-only overlay"
        pristine "root.readonly: the rootfs on the host is unchanged"
}

overlay_no_pivot_tests() {
        set_args "$B" /bin/sh -c "$ROOT_LINE && echo x >/no-pivot && cat /no-pivot"
        new_id
        expect_rc 0 "--no-pivot: the overlay root works" urun run --no-pivot --bundle "$B" "$ID"
        like "$T/out" ' - overlay overlay ' "--no-pivot: mountinfo shows the overlay at /"
        pristine "--no-pivot: the rootfs on the host is unchanged"
}

overlay_state_tests() {
        set_args "$B" /payload exit 0
        new_id
        expect_rc 0 "state: create with the annotation" urun create --bundle "$B" "$ID"
        run urun state "$ID"
        is "$(jq -r --arg k "$ANN" '.annotations[$k]' "$T/out")" tmpfs "state: the annotation is in the state"
        expect_rc 0 "state: delete --force" urun delete --force "$ID"
}

overlay_persistent_tests() {
        local p=$T/persist
        annotate "$p"
        in_ctr "persistent: the first run changes things" 0 /bin/sh -c \
                "echo kept >/newfile && echo changed >/etc/motd && rm -rf /lowerdir && $ROOT_LINE"
        grep ' / / ' "$T/out" | grep -qF "upperdir=$p/upper,workdir=$p/work"
        result $? "persistent: mountinfo names DIR/upper and DIR/work" "$T/out"
        is "$(stat -c %a "$p") $(stat -c %a "$p/work")" "700 700" "persistent: DIR and DIR/work were created 0700"
        is "$(stat -c %a "$p/upper")" "$(stat -c %a "$B/rootfs")" "persistent: DIR/upper has the rootfs's mode"
        is "$(cat "$p/upper/newfile" 2>&1)" kept "persistent: the new file is in DIR/upper on the host"
        [ -c "$p/upper/lowerdir" ]
        result $? "persistent: the removed directory is a whiteout in DIR/upper"
        pristine "persistent: the rootfs on the host is unchanged"
        in_ctr "persistent: a second run sees the first run's changes" 0 /bin/sh -c \
                'test "$(cat /newfile)" = kept && test "$(cat /etc/motd)" = changed && test ! -e /lowerdir'
        pristine "persistent: still unchanged after the second run"
        annotate "$T/no-such-parent/dir"
        set_args "$B" /payload exit 0
        new_id
        one_line_with "$ANN_FIELD: create '$T/no-such-parent/dir': No such file or directory" \
                "persistent: DIR in a missing directory is an error, not a fallback" urun run --bundle "$B" "$ID"
        left_nothing "$ID" "$B" "persistent: DIR in a missing directory: nothing left"
}

# ',' ':' and '\' must be escaped for overlayfs, in the lower and the upper paths.
overlay_odd_paths_tests() {
        local r="$T/odd,root:x\\y" p="$T/odd,upper:x\\y"
        cp -a "$B/rootfs" "$r"
        cfg "$B" '.root.path = $r' --arg r "$r"
        annotate "$p"
        in_ctr "odd paths: ',' ':' and '\\' in the rootfs and DIR" 0 /bin/sh -c 'echo odd >/odd && cat /etc/motd'
        like "$T/out" '^orig$' "odd paths: the lower layer is the right directory"
        [ -f "$p/upper/odd" ] && [ ! -e "$r/odd" ]
        result $? "odd paths: the write went to DIR/upper"
        base_config
        annotate tmpfs
}

# URUN_TEST_NO_MOUNT_API=1: no fsopen(2), as on old kernels: the upper tmpfs is mounted on the
# rootfs path in the container's mount namespace and the lower is reached through an fd.
overlay_attached_tests() {
        set_args "$B" /bin/sh -c "$ROOT_LINE && rm -rf /lowerdir && echo x >/newfile && test ! -e /lowerdir"
        new_id
        urun_with URUN_TEST_NO_MOUNT_API=1 run --bundle "$B" "$ID"
        is "$RC" 0 "no fsopen: the overlay root works"
        like "$T/out" "$ROOT_ERE.* - overlay overlay .*lowerdir=/proc/self/fd/[0-9]+," "no fsopen: mountinfo shows the overlay"
        is "$(cat "$T/err")" "" "no fsopen: no warning"
        pristine "no fsopen: the rootfs on the host is unchanged"
}

# mounts[] type overlay (no annotation): two lower dirs, upper and work on the host.
overlay_mounts_entry_tests() {
        local l1=$T/l1 l2=$T/l2 ou=$T/ou s1 s2
        mkdir -p "$l1/d1" "$l2/d2/sub" "$ou/upper" "$ou/work"
        echo one >"$l1/both"
        echo two >"$l2/both"
        echo l2 >"$l2/only2"
        echo s >"$l2/d2/sub/s"
        s1=$(tree_sum "$l1")
        s2=$(tree_sum "$l2")
        base_config
        cfg "$B" '.mounts += [{"destination": "/ovl", "type": "overlay", "source": "overlay",
                               "options": [("lowerdir=" + $a + ":" + $b), ("upperdir=" + $u), ("workdir=" + $w)]}]' \
                --arg a "$l1" --arg b "$l2" --arg u "$ou/upper" --arg w "$ou/work"
        in_ctr "mounts[] overlay: two lower dirs, copy-up, an opaque directory" 0 /bin/sh -c '
                grep " /ovl " /proc/self/mountinfo && cat /ovl/both && test -d /ovl/d1 && echo w >/ovl/only2 &&
                rm -rf /ovl/d2 && test ! -e /ovl/d2 && mkdir /ovl/d2 && test -z "$(ls -A /ovl/d2)" && echo done'
        like "$T/out" ' /ovl .* - overlay overlay ' "mounts[] overlay: mountinfo shows it"
        like "$T/out" '^one$' "mounts[] overlay: the first lower dir wins"
        like "$T/out" '^done$' "mounts[] overlay: every change worked"
        xattr_ok "$T/out" /ovl "mounts[] overlay"
        [ "$(tree_sum "$l1")" = "$s1" ] && [ "$(tree_sum "$l2")" = "$s2" ]
        result $? "mounts[] overlay: the lower dirs on the host are unchanged"
        is "$(cat "$ou/upper/only2" 2>&1)" w "mounts[] overlay: the copied-up file is in the upper dir"
        pristine "mounts[] overlay: the rootfs on the host is unchanged"
}

# Root with a user namespace in its config is not in the initial user namespace either.
overlay_root_userns_tests() {
        local r=$T/uns-rootfs
        if [ "$TEST_MODE" != root ]; then
                skip "root with a user namespace: userxattr" "needs host root to map a range (the other modes are in a user namespace anyway)"
                return
        fi
        cp -a "$B/rootfs" "$r"
        chown -R 100000:100000 "$r"
        base_config
        cfg "$B" '.root.path = $r | .linux.namespaces += [{"type": "user"}]
                  | .linux.uidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]
                  | .linux.gidMappings = [{"containerID": 0, "hostID": 100000, "size": 65536}]' --arg r "$r"
        annotate tmpfs
        in_ctr "root with a user namespace: the overlay root works, directories can be removed" 0 /bin/sh -c \
                "$ROOT_LINE && rm -rf /lowerdir && test ! -e /lowerdir"
        like "$T/out" "$ROOT_ERE.* - overlay overlay .*userxattr" "root with a user namespace: userxattr"
        base_config
}

if [ "$OVL_OK" = 1 ]; then
        overlay_tmpfs_tests
        overlay_mounts_on_top_tests
        overlay_readonly_tests
        base_config
        annotate tmpfs
        overlay_no_pivot_tests
        overlay_state_tests
        overlay_attached_tests
        base_config
        overlay_persistent_tests
        overlay_odd_paths_tests
        overlay_mounts_entry_tests
        overlay_root_userns_tests
else
        skip "overlay tests" "the kernel cannot mount overlayfs here (Linux >= 5.11 in a user namespace)"
fi

# --- the fallback: a kernel without overlayfs (URUN_TEST_NO_OVERLAY=1 makes the mount ENODEV) ---
base_config
annotate tmpfs
set_args "$B" /bin/sh -c "cat /etc/motd && $ROOT_LINE && echo x >/newfile"
new_id
urun_with URUN_TEST_NO_OVERLAY=1 run --bundle "$B" "$ID"
is "$RC" 1 "fallback: the container runs; its write to / fails"
like "$T/out" '^orig$' "fallback: the rootfs is readable"
like "$T/err" 'Read-only file system' "fallback: the write fails with EROFS"
is "$(grep -c '^urun: ' "$T/err")" 1 "fallback: exactly one warning line"
grep '^urun: ' "$T/err" | grep -F "$ANN_FIELD" | grep -F 'No such device' |
        grep -qF 'needs Linux >= 5.11 overlayfs in a user namespace'
result $? "fallback: the warning names the annotation, the errno text and the kernel requirement" "$T/err"
like "$T/out" "${ROOT_ERE}ro[, ]" "fallback: / is read-only"
unlike "$T/out" ' - overlay ' "fallback: / is not an overlay"
pristine "fallback: the rootfs on the host is unchanged"

# --- bad values: one line at validation, nothing created ---
for v in TMPFS relative/dir ""; do
        base_config
        annotate "$v"
        new_id
        one_line_with "$ANN_FIELD" "bad value '$v': refused" urun run --bundle "$B" "$ID"
        grep -qF '"tmpfs" or an absolute directory path' "$T/err"
        result $? "bad value '$v': the error names the accepted values" "$T/err"
        left_nothing "$ID" "$B" "bad value '$v': nothing left"
done
[ ! -e "$B/relative" ] && [ ! -e "$PWD/relative" ]
result $? "bad value: no directory was created"
pristine "bad values: the rootfs on the host is unchanged"

done_testing
