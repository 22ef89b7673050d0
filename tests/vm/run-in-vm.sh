#!/bin/bash
# run-in-vm.sh DIR CMD: boot a throw-away VM with a pure cgroup v2 hierarchy, run the shell command
# line CMD in DIR as an unprivileged user inside a delegated cgroup subtree with every controller,
# stream its stdout and stderr, exit with its exit status.
#
# The VM: Debian's kernel (the one linux-image-amd64 points to) under QEMU's TCG (no KVM needed),
# booted with cgroup_no_v1=all. Its userland is this host's /usr and /etc over virtio-9p, so
# whatever CMD needs must be installed here. DIR is shared read-only at the same path; /tmp,
# /run and /home are tmpfs. Inside:
#   user uruntest, uid 1000 (or the caller's uid when not root), /etc/subuid and /etc/subgid
#   "uruntest:100000:65536", XDG_RUNTIME_DIR=/run/user/UID, no network but lo, /dev/nullb0,
#   /run/systemd/system (no system instance runs, but `systemd --user` checks for it)
#   $URUN_VM_CGROUP  the delegated subtree (.../user@UID.service); CMD runs in its init.scope
# Other exit statuses: 124 the VM timed out, 125 the VM failed (the tail of the guest console is
# printed), 2 usage.
#
# Environment:
#   URUN_VM_CACHE    assets (~150 MB, built on first use by build-assets.sh, rebuilt when the guest
#                    scripts change): default ${XDG_CACHE_HOME:-$HOME/.cache}/urun-vm
#   URUN_VM_TIMEOUT  seconds before the VM is killed (default 900)
#   URUN_VM_MEM      guest MiB (default 1024)      URUN_VM_SMP  vCPUs (default 2)
#   URUN_VM_VERBOSE=1  guest console on stderr
#   URUN_VM_DMESG    save the guest's kernel log (after CMD) to this file
#   URUN_VM_TIMING=1 print boot and run times on stderr
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
me=run-in-vm.sh
die() { echo "$me: $*" >&2; exit 125; }

[ $# = 2 ] || { echo "usage: $me DIR CMD" >&2; exit 2; }
DIR=$(cd "$1" 2>/dev/null && pwd -P) || { echo "$me: no such directory: $1" >&2; exit 2; }
case "$DIR/" in /usr/* | /etc/* | /run/* | /proc/* | /sys/* | /dev/*) die "DIR ($DIR) must not be under /usr, /etc, /run, /proc, /sys or /dev" ;; esac
CMD=$2
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 is missing (apt-get install qemu-system-x86)"

# --- assets: build once, rebuild when the scripts that make them change -----------------------------
CACHE=${URUN_VM_CACHE:-${XDG_CACHE_HOME:-${HOME:-/var/tmp}/.cache}/urun-vm}
mkdir -p "$CACHE" || die "cannot create $CACHE"
stamp=$(cat "$HERE/build-assets.sh" "$HERE/guest-init.sh" | sha256sum | cut -c1-16)
(
        # one builder at a time: concurrent runs share the cache
        flock 9
        [ "$(cat "$CACHE/stamp" 2>/dev/null)" = "$stamp" ] && [ -s "$CACHE/initramfs.cpio.gz" ] && exit 0
        "$HERE/build-assets.sh" "$CACHE" && echo "$stamp" >"$CACHE/stamp"
) 9>"$CACHE/lock" || die "building the VM assets failed"

# --- parameters ----------------------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then VM_UID=1000 VM_GID=1000; else VM_UID=$(id -u) VM_GID=$(id -g); fi
SUBID_START=100000
[ "$VM_UID" -lt 100000 ] || [ "$VM_UID" -ge 165536 ] || SUBID_START=200000
TIMEOUT=${URUN_VM_TIMEOUT:-900}
q() { printf "'%s'" "${1//\'/\'\\\'\'}"; }   # quote for sh
qo() { printf '%s' "${1//,/,,}"; }           # escape commas in a QEMU option value

SYMLINKS=""
for d in bin sbin lib lib32 lib64 libx32; do
        if [ -L "/$d" ]; then
                SYMLINKS+=" $d=$(readlink "/$d")"
        elif [ -d "/$d" ]; then
                die "/$d is a directory: the guest shares only /usr, so it needs a merged-/usr host"
        fi
done

TMP=$(mktemp -d /tmp/urun-vm.XXXXXX) || die "mktemp failed"
CTL=$TMP/ctl
mkdir "$CTL"
QEMU_PID='' CAT_PIDS=''
cleanup() {
        local p
        for p in $QEMU_PID $CAT_PIDS; do kill "$p" 2>/dev/null; done
        rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$CTL/config" <<EOF
VM_USER=uruntest
VM_UID=$VM_UID
VM_GID=$VM_GID
VM_SUBID_START=$SUBID_START
VM_DIR=$(q "$DIR")
VM_SYMLINKS=$(q "$SYMLINKS")
VM_STDIN=/dev/null
VM_DMESG=${URUN_VM_DMESG:+1}
EOF
CGROUP=/sys/fs/cgroup/user.slice/user-$VM_UID.slice/user@$VM_UID.service
cat >"$CTL/cmd.sh" <<EOF
export HOME=/home/uruntest USER=uruntest LOGNAME=uruntest SHELL=/bin/sh LANG=C.UTF-8 TERM=dumb
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin XDG_RUNTIME_DIR=/run/user/$VM_UID
export URUN_VM=1 URUN_VM_CGROUP=$CGROUP
cd $(q "$DIR") || exit 125
$CMD
EOF

# --- output: guest ports -> FIFOs -> cat -> our stdout/stderr (whatever fd 1 and 2 are) ----------
mkfifo "$TMP/out" "$TMP/err"
cat "$TMP/out" &
CAT_PIDS=$!
cat "$TMP/err" >&2 &
CAT_PIDS+=" $!"
CONSOLE=$TMP/console.log
if [ "${URUN_VM_VERBOSE:-0}" = 1 ]; then
        mkfifo "$TMP/con"
        tee "$CONSOLE" <"$TMP/con" | sed -u 's/\r$//; s/^/[guest] /' >&2 &
        CAT_PIDS+=" $!"
        CONDEV=$TMP/con
else
        CONDEV=$CONSOLE
fi

# Kernel command line, each item measured under TCG: quiet (printk to the emulated UART costs ~30 s
# per boot), cryptomgr.notests (Debian's FIPS self-tests, ~0.6 s), pci=noacpi (faster virtio-pci
# probing while ACPI still brings up the second CPU), tsc=reliable (a cheap clocksource).
APPEND="console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init cgroup_no_v1=all"
APPEND+=" mitigations=off tsc=reliable cryptomgr.notests=1 pci=noacpi i8042.noaux i8042.nokbd"

T0=$(date +%s.%N)
timeout -k 10 "$TIMEOUT" qemu-system-x86_64 -M pc -accel tcg,thread=multi -cpu qemu64 \
        -smp "${URUN_VM_SMP:-2}" -m "${URUN_VM_MEM:-1024}" \
        -nodefaults -no-user-config -display none -no-reboot \
        -kernel "$CACHE/vmlinux" -initrd "$CACHE/initramfs.cpio.gz" -append "$APPEND" \
        -chardev "file,id=con,path=$(qo "$CONDEV")" -serial chardev:con \
        -device virtio-serial-pci,id=vser \
        -chardev "file,id=out,path=$(qo "$TMP/out")" -device virtserialport,chardev=out,bus=vser.0,name=vmtest.out \
        -chardev "file,id=err,path=$(qo "$TMP/err")" -device virtserialport,chardev=err,bus=vser.0,name=vmtest.err \
        -object rng-random,id=rng,filename=/dev/urandom -device virtio-rng-pci,rng=rng \
        -virtfs "local,path=$(qo "$CTL"),mount_tag=vmctl,security_model=none" \
        -virtfs "local,path=/usr,mount_tag=hostusr,security_model=none,readonly=on,multidevs=remap" \
        -virtfs "local,path=/etc,mount_tag=hostetc,security_model=none,readonly=on,multidevs=remap" \
        -virtfs "local,path=$(qo "$DIR"),mount_tag=hostdir,security_model=none,readonly=on,multidevs=remap" \
        </dev/null &
QEMU_PID=$!
wait $QEMU_PID
qrc=$?
QEMU_PID=
# a FIFO that QEMU never opened (it died early) still blocks its reader: open it once to unblock
for f in out err con; do [ ! -p "$TMP/$f" ] || { exec 3<>"$TMP/$f"; exec 3>&-; }; done
for p in $CAT_PIDS; do wait "$p" 2>/dev/null; done
CAT_PIDS=
T1=$(date +%s.%N)

[ -z "${URUN_VM_DMESG:-}" ] || cp "$CTL/dmesg" "$URUN_VM_DMESG" 2>/dev/null
if [ -s "$CTL/rc" ]; then
        [ "${URUN_VM_TIMING:-0}" != 1 ] ||
                echo "$me: wall $(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }') s;" \
                        "guest uptime at command start $(cat "$CTL/t_start") s, at its end $(cat "$CTL/t_end") s" >&2
        exit "$(cat "$CTL/rc")"
fi
if [ $qrc = 124 ] || [ $qrc = 137 ]; then
        echo "$me: the VM timed out after ${TIMEOUT}s" >&2
        rc=124
else
        echo "$me: the VM stopped (qemu status $qrc) without the command's exit status" >&2
        rc=125
fi
echo "$me: --- last lines of the guest console:" >&2
tail -n 40 "$CONSOLE" 2>/dev/null | tr -d '\r' >&2
exit $rc
