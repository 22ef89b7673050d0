#!/bin/bash
# build-assets.sh CACHE: the kernel and initramfs that run-in-vm.sh boots, built from Debian's
# archive alone (needs busybox-static cpio xz-utils, and apt lists that know linux-image-amd64).
#
#   CACHE/vmlinux            the ELF kernel, decompressed once here: QEMU boots it through its PVH
#                            entry, which skips 3-5 s of XZ decompression under TCG on every boot
#   CACHE/initramfs.cpio.gz  busybox, a few modules, /init (guest-init.sh)
#   CACHE/linux-image-*.deb  kept, so a rebuild after a guest-init.sh change stays offline
#   CACHE/stamp              what the assets were built from (run-in-vm.sh rebuilds when it differs)
#
# The kernel is fetched with `apt-get download` and unpacked with `dpkg -x`: nothing is installed,
# /boot is untouched, and it works as a normal user. The guest's userland is the host's own /usr,
# shared at boot over 9p, so the initramfs needs nothing but busybox and the modules below.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
OUT=$1
log() { echo "build-assets: $*" >&2; }

# Loaded in this order (dependencies are added from modules.dep):
#   virtio_pci virtio_console  devices and the virtio-serial ports that carry stdout/stderr
#   virtio_rng                 entropy, so nothing in the guest blocks on getrandom()
#   9pnet_virtio 9p            the host's /usr and /etc and the test directory
#   overlay                    a writable /etc over the host's read-only one
#   null_blk                   /dev/nullb0, a block device that io.max can throttle
MODULES="virtio_pci virtio_console virtio_rng 9pnet_virtio 9p overlay null_blk"

BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        log "a static busybox is needed (apt-get install busybox-static)"
        exit 1
fi
for t in cpio xz dpkg apt-get; do
        command -v "$t" >/dev/null || { log "$t is needed (apt-get install cpio xz-utils)"; exit 1; }
done

mkdir -p "$OUT"
work=$(mktemp -d "$OUT/work.XXXXXX")
trap 'rm -rf "$work"' EXIT

# --- kernel --------------------------------------------------------------------------------------
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
[ -n "$kpkg" ] || { log "apt-cache knows no linux-image-amd64 (run apt-get update)"; exit 1; }
deb=$(ls "$OUT/${kpkg}"_*.deb 2>/dev/null | head -n 1 || true)
if [ -z "$deb" ]; then
        log "downloading $kpkg from the Debian archive"
        rm -f "$OUT"/linux-image-*.deb
        (cd "$work" && apt-get download -q "$kpkg" 2>&1 | grep -v 'Download is performed unsandboxed' >&2 || true)
        mv "$work/${kpkg}"_*.deb "$OUT/" || { log "apt-get download $kpkg failed"; exit 1; }
        deb=$(ls "$OUT/${kpkg}"_*.deb | head -n 1)
fi
dpkg -x "$deb" "$work/k"
kver=$(ls "$work/k/lib/modules" | head -n 1)
bz=$work/k/boot/vmlinuz-$kver

# Debian's bzImage carries an XZ payload: find the XZ magic and decompress from there (what the
# kernel's scripts/extract-vmlinux does). xz complains about the trailing bytes; the ELF check decides.
pos=$(LC_ALL=C grep -abo -P '\xfd7zXZ\x00' "$bz" | head -n 1 | cut -d: -f1)
[ -n "$pos" ] || { log "no XZ payload in $bz"; exit 1; }
tail -c +$((pos + 1)) "$bz" | xz -dc >"$work/vmlinux" 2>/dev/null || true
[ "$(head -c 4 "$work/vmlinux" | od -An -c | tr -d ' ')" = '177ELF' ] || { log "could not extract vmlinux"; exit 1; }

# --- modules -------------------------------------------------------------------------------------
mroot=$work/k/lib/modules/$kver
"$BUSYBOX" depmod -b "$work/k" "$kver"        # the package ships no modules.dep; no kmod needed
ir=$work/initramfs
mkdir -p "$ir/bin" "$ir/dev" "$ir/proc" "$ir/sys" "$ir/newroot" "$ir/ctl" "$ir/lib/modules"
declare -A seen=()
add_module() {          # $1: path relative to $mroot; dependencies first
        local rel=$1 d f
        [ -z "${seen[$rel]:-}" ] || return 0
        seen[$rel]=1
        for d in $(awk -v m="$rel:" '$1 == m { $1 = ""; print; exit }' "$mroot/modules.dep"); do
                add_module "$d"
        done
        f=$(basename "$rel" .xz)
        case "$rel" in
        *.xz) xz -dc "$mroot/$rel" >"$ir/lib/modules/$f" ;;
        *) cp "$mroot/$rel" "$ir/lib/modules/$f" ;;
        esac
        strip_signature "$ir/lib/modules/$f"
        echo "$f" >>"$ir/lib/modules/load.order"
}
# Verifying each module's RSA signature costs about a second of boot under TCG. Without Secure
# Boot the kernel does not enforce signatures (it only taints), so cut them off: the signature is
# followed by a 12-byte struct module_signature (its last 4 bytes: the signature's length, big
# endian) and the 28-byte marker.
strip_signature() {
        local f=$1 size siglen
        [ "$(tail -c 28 "$f")" = "~Module signature appended~" ] || return 0
        size=$(stat -c %s "$f")
        siglen=$(tail -c 32 "$f" | head -c 4 | od -An -tu1 | awk '{ print (($1 * 256 + $2) * 256 + $3) * 256 + $4 }')
        truncate -s $((size - 28 - 12 - siglen)) "$f"
}
: >"$ir/lib/modules/load.order"
for m in $MODULES; do
        rel=$(grep -E "^[^:]*/(${m//_/[-_]})\.ko(\.xz)?:" "$mroot/modules.dep" | head -n 1 | cut -d: -f1 || true)
        if [ -n "$rel" ]; then
                add_module "$rel"
        elif ! grep -qE "/(${m//_/[-_]})\.ko" "$mroot/modules.builtin"; then
                log "module $m is neither a module nor built in"
                exit 1
        fi
done

# --- initramfs -----------------------------------------------------------------------------------
cp "$BUSYBOX" "$ir/bin/busybox"
for a in $("$BUSYBOX" --list); do
        [ "$a" = busybox ] || ln -s busybox "$ir/bin/$a"
done
cp "$HERE/guest-init.sh" "$ir/init"
chmod 0755 "$ir/init"
(cd "$ir" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | gzip -1 >"$work/initramfs.cpio.gz"

mv "$work/vmlinux" "$OUT/vmlinux"
mv "$work/initramfs.cpio.gz" "$OUT/initramfs.cpio.gz"
echo "$kver" >"$OUT/kver"
log "kernel $kver, modules: $(tr '\n' ' ' <"$ir/lib/modules/load.order")"
