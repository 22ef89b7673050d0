#!/bin/bash
# quickstart: install what is missing (apt-get as root; otherwise print the exact sudo line),
# build urun, make a busybox bundle under ./demo, and run a first rootless container.
set -euo pipefail
cd "$(dirname "$0")"

PKGS="build-essential autoconf automake autoconf-archive pkg-config libc6-dev libseccomp-dev libcap-dev
      libjson-c-dev libsubid-dev uidmap busybox-static jq"

missing=()
for p in $PKGS; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
        if [ "$(id -u)" = 0 ]; then
                echo "== installing: ${missing[*]}"
                export DEBIAN_FRONTEND=noninteractive
                apt-get update -q
                apt-get install -y -q --no-install-recommends "${missing[@]}"
        else
                echo "Missing packages. Install them with:"
                echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}"
                echo "then run ./quickstart.sh again."
                exit 1
        fi
fi

echo "== building"
[ -x configure ] || ./autogen.sh
[ -f Makefile ] || ./configure
make -j"$(nproc)"

echo "== making a busybox bundle in ./demo"
rm -rf demo
mkdir -p demo/rootfs/bin demo/rootfs/proc demo/rootfs/dev demo/rootfs/sys demo/rootfs/tmp demo/rootfs/etc
cp "$(command -v busybox)" demo/rootfs/bin/busybox
for a in sh echo id ls cat hostname uname; do
        ln -s busybox "demo/rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\n' >demo/rootfs/etc/passwd
printf 'root:x:0:\n' >demo/rootfs/etc/group
chmod 1777 demo/rootfs/tmp
./urun spec --rootless --bundle demo
jq '.process.terminal = false
    | .process.args = ["sh", "-c", "echo hello from urun; id; echo hostname: $(hostname)"]' \
        demo/config.json >demo/config.json.new
mv demo/config.json.new demo/config.json

echo "== urun run (rootless: user namespace with you as root)"
root_dir=
if [ "$(id -u)" = 0 ]; then
        # As root the --rootless spec still runs in its own user namespace; keep its state private.
        root_dir=$(mktemp -d)
        trap 'rm -rf "$root_dir"' EXIT
fi
./urun ${root_dir:+--root "$root_dir"} run --bundle demo "quickstart-$$"
echo "== done. Next: 'make check' runs the test suite."
