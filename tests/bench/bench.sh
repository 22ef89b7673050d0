#!/bin/sh
# `make bench`: urun vs crun vs runc, `run /bin/true` in one rootless busybox bundle, BENCH_N runs
# each (default 50), interleaved (u,c,r,u,c,r,...), then `list` and `--version` startup. Prints the
# median and p90 wall time, the urun/crun and urun/runc ratios, and the median peak RSS.
# Not a test: nothing here passes or fails on a number.
#
# As root: creates (or reuses) the unprivileged user `uruntest`, enters a private mount namespace
# with a fresh cgroup2 mounted on /sys/fs/cgroup (crun 1.8 refuses this machine's hybrid layout),
# and measures rootless, as that user. As a normal user: measures directly.
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -eu

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR}
BENCH_N=${BENCH_N:-50}
BENCH_USER=uruntest
SYS_PATH=/usr/sbin:/usr/bin:/sbin:/bin

# --- step 3 (as the measuring user): build the bundle, measure, report ---
measure() {
        local dir=$1 rt i r line
        cd "$dir"
        local urun=$dir/urun timeit=$dir/timeit
        mkdir -p bundle/rootfs/bin bundle/rootfs/proc bundle/rootfs/dev bundle/rootfs/sys bundle/rootfs/tmp
        cp "$(command -v busybox)" bundle/rootfs/bin/busybox
        for a in sh true; do ln -sf busybox "bundle/rootfs/bin/$a"; done
        "$urun" spec --rootless --bundle bundle
        jq '.process.args = ["/bin/true"] | .process.terminal = false' bundle/config.json >bundle/c.json
        mv bundle/c.json bundle/config.json

        local runtimes=(urun)
        local peer
        for peer in crun runc; do
                if ! command -v "$peer" >/dev/null; then
                        echo "note: $peer not installed (apt-get install $peer): skipped"
                        continue
                fi
                if "$peer" --root "$dir/root-$peer" run -b bundle probe-$peer >"$dir/probe.out" 2>&1 </dev/null; then
                        runtimes+=("$peer")
                else
                        echo "note: $peer cannot run the bundle here, skipped: $(tail -n 1 "$dir/probe.out")"
                fi
        done
        if ! "$urun" --root "$dir/root-urun" run -b bundle probe-urun >"$dir/probe.out" 2>&1 </dev/null; then
                echo "urun cannot run the bundle: $(cat "$dir/probe.out")"
                return 1
        fi

        run_cmd() { # RUNTIME KIND I
                local bin=$1
                [ "$1" = urun ] && bin=$urun
                case "$2" in
                run) echo "$bin --root $dir/root-$1 run -b bundle b-$1-$3" ;;
                list) echo "$bin --root $dir/root-$1 list" ;;
                version) echo "$bin --version" ;;
                esac
        }
        local kind
        for kind in run list version; do
                for ((i = 0; i < BENCH_N; i++)); do
                        for rt in "${runtimes[@]}"; do
                                # shellcheck disable=SC2046
                                line=$("$timeit" $(run_cmd "$rt" "$kind" "$i"))
                                echo "$line" >>"$dir/$kind-$rt.dat"
                        done
                done
        done

        stats() { # FILE -> "median_ms p90_ms median_rss_kb failures"
                local n f
                n=$(wc -l <"$1")
                f=$(awk '$3 != 0' "$1" | wc -l)
                paste -d' ' <(cut -d' ' -f1 "$1" | sort -n) <(cut -d' ' -f2 "$1" | sort -n) |
                        awk -v n="$n" -v f="$f" '
                        { t[NR] = $1; m[NR] = $2 }
                        END {
                                p90 = int(0.9 * n + 0.999); if (p90 < 1) p90 = 1
                                mid = int((n + 1) / 2)
                                printf "%.2f %.2f %d %d\n", t[mid] / 1e6, t[p90] / 1e6, m[mid], f
                        }'
        }
        echo
        echo "$("$urun" --version | head -n 1 | cut -c1-60); $BENCH_N runs each, interleaved; wall ms, peak RSS KiB"
        printf '%-10s %-6s %10s %10s %12s %8s\n' command runtime median p90 "peak RSS" failed
        declare -A med rss
        for kind in run list version; do
                for rt in "${runtimes[@]}"; do
                        read -r m p k f <<<"$(stats "$dir/$kind-$rt.dat")"
                        med[$kind-$rt]=$m
                        rss[$kind-$rt]=$k
                        printf '%-10s %-6s %10s %10s %12s %8s\n' "$kind" "$rt" "$m" "$p" "$k" "$f"
                        [ "$f" = 0 ] || echo "warning: $f failed $kind runs of $rt: its figures are not comparable"
                done
        done
        echo
        for kind in run list version; do
                for peer in crun runc; do
                        [ -n "${med[$kind-$peer]:-}" ] || continue
                        awk -v k="$kind" -v p="$peer" -v u="${med[$kind-urun]}" -v c="${med[$kind-$peer]}" \
                                -v ur="${rss[$kind-urun]}" -v cr="${rss[$kind-$peer]}" \
                                'BEGIN { printf "%-8s urun/%s wall %.2f   peak RSS %.2f\n", k, p, u / c, ur / cr }'
                done
        done
}

if [ "${1:-}" = --measure ]; then
        measure "$2"
        exit
fi

# --- step 2 (root, in a private mount namespace): a pure cgroup2 view, then drop to the user ---
if [ "${1:-}" = --inner ]; then
        mount --make-rprivate /
        mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null ||
                echo "note: could not mount cgroup2 on /sys/fs/cgroup; crun may refuse to run"
        uid=$(id -u "$BENCH_USER")
        exec setpriv --reuid "$BENCH_USER" --regid "$BENCH_USER" --init-groups \
                env -i HOME="$2" USER="$BENCH_USER" PATH="$SYS_PATH" XDG_RUNTIME_DIR="/run/user/$uid" \
                BENCH_N="$BENCH_N" bash "$2/bench.sh" --measure "$2"
fi

# --- step 1: stage everything in a temp dir the measuring user can use ---
for tool in jq busybox; do
        command -v "$tool" >/dev/null || { echo "bench: $tool is needed (apt-get install ${tool/busybox/busybox-static})"; exit 1; }
done
W=$(mktemp -d /tmp/urun-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT
chmod 0755 "$W"
cp "$BUILDDIR/urun" "$W/urun"
cp "$0" "$W/bench.sh"
"${CC:-cc}" -O2 -o "$W/timeit" "$SRCDIR/tests/bench/timeit.c"
if [ "$(id -u)" = 0 ]; then
        id "$BENCH_USER" >/dev/null 2>&1 || useradd -m -s /bin/bash "$BENCH_USER"
        for f in /etc/subuid /etc/subgid; do
                grep -q "^$BENCH_USER:" "$f" 2>/dev/null || echo "$BENCH_USER:200000:65536" >>"$f"
        done
        uid=$(id -u "$BENCH_USER")
        mkdir -p "/run/user/$uid"
        chown "$BENCH_USER:$BENCH_USER" "/run/user/$uid" "$W"
        chmod 0700 "/run/user/$uid"
        unshare -m bash "$W/bench.sh" --inner "$W"
else
        bash "$W/bench.sh" --measure "$W"
fi
