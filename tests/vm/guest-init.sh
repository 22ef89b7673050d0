#!/bin/busybox sh
# The guest's init, in two stages (copied into the initramfs as /init by build-assets.sh).
#
# Stage 1, PID 1 in the initramfs:
#   - load the modules in /lib/modules/load.order;
#   - mount the control share (9p tag "vmctl": config and cmd.sh written by run-in-vm.sh);
#   - build the real root on a tmpfs: the host's /usr (9p, read-only), the host's /etc (9p,
#     read-only, under a tmpfs overlay where passwd/group/subuid/subgid are rewritten), the test
#     directory (9p, read-only, at its host path), tmpfs /tmp /run /home;
#   - mount a pure cgroup2 hierarchy and delegate a subtree to the test user the way systemd's
#     user@.service does (below);
#   - switch_root. The root must not stay the initramfs: pivot_root(2), which every container
#     runtime calls, fails with EINVAL when the caller's root is rootfs.
# Stage 2 (`init stage2`), PID 1 in the real root: run cmd.sh as the test user in the delegated
# subtree, stdout/stderr on the virtio-serial ports vmtest.out/vmtest.err, write its exit status
# to the control share, power off.
#
# Delegation layout (systemd's Delegate=yes):
#   /sys/fs/cgroup/user.slice/user-UID.slice/user@UID.service     owned by the user, every
#       controller enabled in its cgroup.subtree_control; its own memory.max etc. stay root's
#   .../user@UID.service/init.scope                               the command runs here
# A cgroup that enables controllers for its children cannot hold processes, so the command sits in
# the leaf init.scope and containers must go into siblings of it, never below it.
B=/bin/busybox
PATH=/bin:/usr/sbin:/usr/bin:/sbin
export PATH

log() { echo "vm-init[$($B cut -d' ' -f1 /proc/uptime)]: $*"; }

stage1() {
        $B mount -t proc proc /proc
        $B mount -t sysfs sysfs /sys
        $B mount -t devtmpfs devtmpfs /dev
        exec 0</dev/null >/dev/console 2>&1

        local m
        for m in $(cat /lib/modules/load.order); do
                insmod "/lib/modules/$m" || log "insmod $m failed"
        done
        m9p vmctl /ctl cache=none || fatal "cannot mount the control share"
        . /ctl/config

        local R=/newroot
        mount -t tmpfs -o mode=0755 vmroot $R || fatal "tmpfs root"
        mkdir -p $R/usr $R/etc $R/proc $R/sys $R/dev $R/run $R/tmp $R/var/tmp $R/home $R/root
        chmod 1777 $R/var/tmp
        chmod 0700 $R/root
        ln -s ../run $R/var/run
        # merged /usr: /bin, /lib64 ... are symlinks into /usr, recreated as on the host
        for m in $VM_SYMLINKS; do ln -s "${m#*=}" "$R/${m%%=*}"; done
        m9p hostusr $R/usr ro,cache=loose || fatal "cannot mount the host's /usr"
        mount -t tmpfs -o mode=0755,nosuid,nodev run $R/run
        mount -t tmpfs -o mode=1777,nosuid,nodev tmp $R/tmp
        local V=$R/run/vmtest
        mkdir -p $V/etc-lower $V/etc-upper $V/etc-work $V/ctl $R/run/user
        # what sd_booted() looks for: `systemd --user` (tests/vm/systemd.sh) refuses to start
        # without it, although it needs nothing of a system instance
        mkdir -p $R/run/systemd/system
        m9p hostetc $V/etc-lower ro,cache=loose || fatal "cannot mount the host's /etc"
        mount -t overlay -o lowerdir=$V/etc-lower,upperdir=$V/etc-upper,workdir=$V/etc-work etc $R/etc ||
                fatal "cannot mount the /etc overlay"
        mkdir -p "$R$VM_DIR" && m9p hostdir "$R$VM_DIR" ro,cache=loose || fatal "cannot mount $VM_DIR"

        # The test user, with subordinate ids for newuidmap/newgidmap (the host's setuid binaries,
        # through /usr: 9p honours the setuid bit).
        local E=$R/etc
        { grep -v -e "^$VM_USER:" -e "^[^:]*:[^:]*:$VM_UID:" $E/passwd
          echo "$VM_USER:x:$VM_UID:$VM_GID::/home/$VM_USER:/bin/sh"; } >/passwd.new
        { grep -v -e "^$VM_USER:" -e "^[^:]*:[^:]*:$VM_GID:" $E/group
          echo "$VM_USER:x:$VM_GID:"; } >/group.new
        cat /passwd.new >$E/passwd
        cat /group.new >$E/group
        echo "$VM_USER:$VM_SUBID_START:65536" >$E/subuid
        echo "$VM_USER:$VM_SUBID_START:65536" >$E/subgid
        rm -f $E/ld.so.preload
        mkdir -p $R/home/$VM_USER $R/run/user/$VM_UID
        chown $VM_UID:$VM_GID $R/home/$VM_USER $R/run/user/$VM_UID
        chmod 0700 $R/home/$VM_USER $R/run/user/$VM_UID

        mkdir -p /dev/pts /dev/shm
        mount -t devpts -o newinstance,ptmxmode=0666,mode=0620 devpts /dev/pts
        mount -t tmpfs -o mode=1777,nosuid,nodev shm /dev/shm
        # as on a systemd host: the mqueue fallback of a container without an ipc namespace binds it
        mkdir -p /dev/mqueue
        mount -t mqueue -o nosuid,nodev,noexec mqueue /dev/mqueue
        ln -sf /proc/self/fd /dev/fd
        [ -e /dev/ptmx ] || ln -sf pts/ptmx /dev/ptmx
        # io.max tests write to this device from inside a container (a bind mount of the node); on
        # a real machine udev and the admin decide who may open a disk.
        chmod 0666 /dev/nullb0

        local CG=/sys/fs/cgroup ctrls D
        mount -t cgroup2 -o nsdelegate,memory_recursiveprot cgroup2 $CG || fatal "cannot mount cgroup2"
        ctrls=$(cat $CG/cgroup.controllers)
        D=$CG/user.slice/user-$VM_UID.slice/user@$VM_UID.service
        mkdir -p $D/init.scope
        for m in $CG $CG/user.slice $CG/user.slice/user-$VM_UID.slice $D; do
                for c in $ctrls; do echo "+$c" >$m/cgroup.subtree_control || fatal "cannot enable $c in $m"; done
        done
        # What systemd chowns for Delegate=yes: the directory and the files that manage the subtree
        # (cgroup.procs, cgroup.threads, cgroup.subtree_control, plus memory.oom.group and
        # memory.reclaim on newer systemd). Limits of the subtree itself stay with root.
        chown $VM_UID:$VM_GID $D $D/cgroup.procs $D/cgroup.threads $D/cgroup.subtree_control \
                $D/memory.oom.group $D/memory.reclaim
        chown -R $VM_UID:$VM_GID $D/init.scope

        hostname vmtest
        ip link set lo up
        log "stage 1 done, controllers: $ctrls"
        cp $B /init $V/
        mount --move /ctl $V/ctl
        mount --move /dev $R/dev
        mount --move /sys $R/sys
        mount --move /proc $R/proc
        exec switch_root $R /run/vmtest/busybox sh /run/vmtest/init stage2
}

stage2() {
        B=/run/vmtest/busybox
        local C=/run/vmtest/ctl OUT=/dev/console ERR=/dev/console p D rc
        . $C/config
        exec 0</dev/null >/dev/console 2>&1
        # virtio-serial ports, not the serial console: a ttyS or hvc console moves a few bytes per
        # host round trip under TCG (1 MB of output took minutes), a port takes large writes.
        for p in /sys/class/virtio-ports/*; do
                case "$(cat "$p/name")" in
                vmtest.out) OUT=/dev/${p##*/} ;;
                vmtest.err) ERR=/dev/${p##*/} ;;
                esac
        done
        D=/sys/fs/cgroup/user.slice/user-$VM_UID.slice/user@$VM_UID.service
        $B cut -d' ' -f1 /proc/uptime >$C/t_start
        (
                echo 0 >$D/init.scope/cgroup.procs || exit 125
                # no_new_privs stays off: newuidmap and newgidmap are setuid
                exec $B env -i /usr/bin/setpriv --reuid="$VM_UID" --regid="$VM_GID" --init-groups \
                        -- /bin/sh $C/cmd.sh
        ) <$VM_STDIN >$OUT 2>$ERR
        rc=$?
        $B cut -d' ' -f1 /proc/uptime >$C/t_end
        log "command exited with status $rc"
        [ -z "$VM_DMESG" ] || $B dmesg >$C/dmesg 2>&1
        echo $rc >$C/rc.tmp && $B mv $C/rc.tmp $C/rc
        echo 1 >$D/cgroup.kill
        $B sync
        $B umount $C
        # with -no-reboot QEMU exits on a reboot
        $B reboot -f
}

m9p() {         # TAG MOUNTPOINT OPTIONS; 512000 is the largest msize of the 6.1 virtio transport
        mount -t 9p -o "trans=virtio,version=9p2000.L,msize=512000,$3" "$1" "$2"
}

fatal() {       # tell the host on the stderr port, then power off (the host reports status 125)
        local p
        log "FATAL: $*"
        for p in /sys/class/virtio-ports/*; do
                [ "$(cat "$p/name")" != vmtest.err ] || echo "vm-init: guest setup failed: $*" >"/dev/${p##*/}"
        done
        reboot -f
}

if [ "${1:-}" = stage2 ]; then stage2; else stage1; fi
