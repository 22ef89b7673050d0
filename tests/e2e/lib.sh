# shellcheck shell=bash
# Shared setup for the end-to-end client tests (tests/e2e/test-*.sh): real clients (rootless
# Podman through conmon, containerd's runc shim) driving the freshly built urun.
#
# Run as root (the scripts create a dedicated user and start containerd). Environment:
#   URUN        absolute path of the urun binary under test (required)
#   PTYDRIVE    tests/payload/ptydrive (default: next to urun in the build tree)
#   E2E_KEEP=1  keep the per-run directory (logs, configs) instead of deleting it
#
# Output is TAP like tests/integration: "ok N - desc", "not ok N - desc" with "# " diagnostics,
# "ok N - desc # SKIP why", the plan "1..N" last. Every wait polls an observable condition under a
# deadline; nothing sleeps for synchronisation.
#
# Every runtime call goes through a logging wrapper (E2E_DIR/wrap/NAME, named exactly like the
# runtime because Podman keys JSON-log and no-cgroup support on the runtime's name): it appends
# the caller, the argv and the exit status to E2E_DIR/logs/calls.log, and on failure the tail of
# the --log file the caller passed. A failing scenario prints the calls it made.

set -u
export LC_ALL=C

E2E_USER=urune2e
SYS_PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH=$SYS_PATH

# --- TAP ---------------------------------------------------------------------------------------

. "$(dirname "${BASH_SOURCE[0]}")/../integration/tap.sh"

# After a failure's file tails: the runtime calls made since the scenario began (mark_calls).
tap_more_diagnostics() {
        if [ -n "${E2E_DIR:-}" ] && [ -s "$E2E_DIR/logs/calls.log" ]; then
                echo "#   --- runtime calls since the scenario began:"
                tail -n +"$((_calls_mark + 1))" "$E2E_DIR/logs/calls.log" | tail -n 16 |
                        sed -E 's/([0-9a-f]{12})[0-9a-f]{52}/\1/g' | cut -c1-600 |
                        sed 's/^/#   /'
        fi
}

# skip_all WHY: the whole script does not apply here: one skipped result (which the harness
# counts and shows, where a bare "1..0 # SKIP" would vanish from the totals).
skip_all() {
        echo "ok 1 - $(basename "$0" .sh) # SKIP $*"
        echo "1..1"
        exit 0
}

bail() {
        echo "Bail out! $*"
        exit 1
}

_calls_mark=0
# mark_calls: diagnostics of the next failure start at the runtime calls made from here on.
mark_calls() {
        _calls_mark=$(wc -l <"$E2E_DIR/logs/calls.log" 2>/dev/null || echo 0)
}

# check DESC CMD...: ok when CMD succeeds; on failure the diagnostics are $W/out and $W/err of
# the last `run`, and $W/why.
check() {
        local desc=$1
        shift
        : >"$W/why"
        if "$@"; then
                ok "$desc"
        else
                not_ok "$desc" "$W/why" "$W/out" "$W/err"
        fi
}

# has FILE ERE: FILE has a line matching ERE (else $W/why says so).
has() {
        grep -Eq -- "$2" "$1" && return 0
        echo "no line matches /$2/ in $(basename "$1")" >"$W/why"
        return 1
}

hasnt() {
        grep -Eq -- "$2" "$1" || return 0
        echo "unexpected line matching /$2/ in $(basename "$1")" >"$W/why"
        return 1
}

# eq GOT WANT
eq() {
        [ "$1" = "$2" ] && return 0
        printf 'got:  %s\nwant: %s\n' "$1" "$2" >"$W/why"
        return 1
}

# rc_is WANT: the exit status of the last `run` is WANT.
rc_is() {
        eq "$RC" "$1"
}

# wait_until SECONDS CMD...: poll CMD (every 50 ms) until it succeeds or the deadline passes.
wait_until() {
        local deadline=$(($(date +%s) + $1))
        shift
        while ! "$@" >/dev/null 2>&1; do
                [ "$(date +%s)" -lt "$deadline" ] || return 1
                sleep 0.05
        done
}

# --- the per-run directory -----------------------------------------------------------------------

# e2e_init: checks URUN, makes E2E_DIR (world-readable: the test user runs binaries from it) with
# bin/ (copies of urun and ptydrive), wrap/ (the logging wrappers), logs/ (writable by the test
# user), and W, the scratch dir for command output.
e2e_init() {
        [ "$(id -u)" = 0 ] || skip_all "needs root (creates the test user $E2E_USER and starts containerd)"
        : "${URUN:?URUN must be set to the urun binary}"
        case "$URUN" in /*) ;; *) URUN=$PWD/$URUN ;; esac
        [ -x "$URUN" ] || bail "URUN=$URUN is not executable"
        E2E_DIR=$(mktemp -d /tmp/urun-e2e.XXXXXX) || bail "mktemp failed"
        chmod 0755 "$E2E_DIR"
        mkdir -p "$E2E_DIR/bin" "$E2E_DIR/wrap" "$E2E_DIR/logs" "$E2E_DIR/w"
        chmod 0777 "$E2E_DIR/logs"
        chmod 1777 "$E2E_DIR/w"
        W=$E2E_DIR/w
        : >"$E2E_DIR/logs/calls.log"
        chmod 0666 "$E2E_DIR/logs/calls.log"
        install -m 0755 "$URUN" "$E2E_DIR/bin/urun"
        local pd=${PTYDRIVE:-$(dirname "$URUN")/tests/payload/ptydrive}
        if [ -x "$pd" ]; then
                install -m 0755 "$pd" "$E2E_DIR/bin/ptydrive"
                PTYDRIVE=$E2E_DIR/bin/ptydrive
        else
                PTYDRIVE=
        fi
        make_wrapper urun "$E2E_DIR/bin/urun"
        local r
        for r in runc crun; do
                command -v "$r" >/dev/null && make_wrapper "$r" "$(command -v "$r")"
        done
        trap e2e_exit EXIT
}

# Hooks of the scripts run before the directory goes.
E2E_CLEANUP=()

e2e_exit() {
        local f
        for f in "${E2E_CLEANUP[@]}"; do
                "$f" || true
        done
        if [ -n "${E2E_KEEP:-}" ]; then
                echo "# kept $E2E_DIR"
        else
                rm -rf "$E2E_DIR" 2>/dev/null || true
        fi
}

# make_wrapper NAME REAL: E2E_DIR/wrap/NAME logs each call and runs REAL as its child (so the
# exit status is the runtime's own; a child the runtime leaves behind, the container's init,
# is reparented to the caller's subreaper exactly as without the wrapper). Inherited fds pass
# through untouched (bash marks only its own script fd close-on-exec). Sanitizer options are baked
# in because Podman calls `kill` and `delete` with nothing but XDG_RUNTIME_DIR in the environment.
make_wrapper() {
        local name=$1 real=$2 w=$E2E_DIR/wrap/$1
        {
                echo '#!/bin/bash'
                echo "# argv-logging wrapper around $real (made by tests/e2e/lib.sh)"
                [ -n "${ASAN_OPTIONS:-}" ] && printf 'export ASAN_OPTIONS=%q\n' "$ASAN_OPTIONS"
                [ -n "${UBSAN_OPTIONS:-}" ] && printf 'export UBSAN_OPTIONS=%q\n' "$UBSAN_OPTIONS"
                printf 'log=%q\nreal=%q\nname=%q\n' "$E2E_DIR/logs/calls.log" "$real" "$name"
                cat <<'EOF'
caller=$(tr -d '\n' </proc/$PPID/comm 2>/dev/null)
t0=$EPOCHREALTIME
"$real" "$@"
rc=$?
line="$name [$caller uid=$UID cwd=$PWD] $(printf '%q ' "$@")=> rc=$rc"
if [ "$rc" != 0 ]; then
        # The caller's --log FILE (or --log=FILE): its last lines say why.
        logf= prev=
        for a in "$@"; do
                case "$prev" in --log) logf=$a ;; esac
                case "$a" in --log=*) logf=${a#--log=} ;; esac
                prev=$a
        done
        [ -n "$logf" ] && [ -r "$logf" ] && line="$line log: $(tail -n 2 "$logf" | tr '\n' ' ')"
fi
printf '%s\n' "$line" >>"$log" 2>/dev/null
exit "$rc"
EOF
        } >"$w"
        chmod 0755 "$w"
}

# --- the test user -------------------------------------------------------------------------------

# ensure_user: the dedicated unprivileged user with subordinate ids (Debian's useradd allocates
# them; otherwise a range past every range already in /etc/subuid and /etc/subgid) and its runtime
# dir /run/user/UID (0700, as a login session would make it). Sets E2E_UID, E2E_HOME, E2E_XDG.
ensure_user() {
        if ! id "$E2E_USER" >/dev/null 2>&1; then
                useradd -m -s /bin/bash "$E2E_USER" || bail "useradd $E2E_USER failed"
        fi
        local f start
        for f in /etc/subuid /etc/subgid; do
                [ -e "$f" ] || touch "$f"
                grep -q "^$E2E_USER:" "$f" && continue
                start=$(awk -F: 'BEGIN { m = 400000 } $2 + $3 > m { m = $2 + $3 } END { print m }' \
                        /etc/subuid /etc/subgid)
                echo "$E2E_USER:$start:65536" >>"$f"
        done
        E2E_UID=$(id -u "$E2E_USER")
        E2E_HOME=$(getent passwd "$E2E_USER" | cut -d: -f6)
        E2E_XDG=/run/user/$E2E_UID
        mkdir -p "$E2E_XDG"
        chown "$E2E_USER:$E2E_USER" "$E2E_XDG"
        chmod 0700 "$E2E_XDG"
}

# as_user CMD...: CMD as the test user, with the environment of a login shell plus the podman
# config of this run, from a directory it can enter; bounded by E2E_TIMEOUT seconds (default 90).
# AS_USER_PREFIX (an array, e.g. from cg2_enter_cmd) runs first, as root.
AS_USER_PREFIX=()
as_user() {
        (cd "$W" && timeout -k 5 "${E2E_TIMEOUT:-90}" "${AS_USER_PREFIX[@]}" setpriv --reuid "$E2E_USER" --regid "$E2E_USER" --init-groups \
                env -i HOME="$E2E_HOME" USER="$E2E_USER" LOGNAME="$E2E_USER" PATH="$SYS_PATH" \
                XDG_RUNTIME_DIR="$E2E_XDG" LC_ALL=C \
                ${CONTAINERS_CONF:+CONTAINERS_CONF="$CONTAINERS_CONF"} \
                ${CONTAINERS_STORAGE_CONF:+CONTAINERS_STORAGE_CONF="$CONTAINERS_STORAGE_CONF"} \
                "$@")
}

# --- a cgroup2 view ------------------------------------------------------------------------------
# This host's cgroups are hybrid: the controllers live in the v1 hierarchies, which the tests must
# never touch, and cgroup2 (the unified hierarchy, freezer built in) has no controllers. A cgroup2
# view is a private mount namespace whose /sys/fs/cgroup is the unified hierarchy, kept by a
# holder process; commands enter it with nsenter and join a cgroup of the test's own subtree
# /sys/fs/cgroup/CG2_NAME. Clients then see a pure cgroup v2 host (as on current distributions)
# and nothing is created outside that subtree, which cg2_view_stop removes.

CG2_PID=
CG2_NAME=

# cg2_view_start NAME [SETUP]: the holder, in cgroup NAME/holder; SETUP is shell run in the view
# first (e.g. a tmpfs over /run/containerd). Fails with a reason on stderr.
cg2_view_start() {
        CG2_NAME=$1
        local setup=${2:-true}
        unshare -m --propagation private sh -c '
                umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 1
                mkdir -p "/sys/fs/cgroup/$1/holder" && echo $$ >"/sys/fs/cgroup/$1/holder/cgroup.procs" || exit 1
                eval "$2" || exit 1
                : >"$3"
                exec sleep 3600' sh "$CG2_NAME" "$setup" "$E2E_DIR/cg2.ready" </dev/null >/dev/null 2>"$E2E_DIR/cg2.err" &
        CG2_PID=$!
        disown "$CG2_PID" # it ends by cgroup.kill in cg2_view_stop: no "Killed" job notice
        if ! wait_until 10 test -e "$E2E_DIR/cg2.ready"; then
                cat "$E2E_DIR/cg2.err" >&2
                cg2_view_stop
                return 1
        fi
}

# cg2_enter_cmd CGROUP [DIR:OWNER]: sets CG2_ENTER, the command prefix that runs a command in the
# view, in cgroup /CG2_NAME/CGROUP (created on first use). DIR:OWNER delegates /CG2_NAME/DIR to
# OWNER the way a login manager would (its files chowned): CGROUP should be a leaf below DIR,
# since a runtime without a cgroupsPath makes the container's cgroup next to its own.
CG2_ENTER=()
cg2_enter_cmd() {
        # shellcheck disable=SC2034 # read by the scripts
        CG2_ENTER=(nsenter -t "$CG2_PID" -m -- sh -c '
                d=/sys/fs/cgroup/$1
                if [ ! -d "$d" ]; then
                        mkdir -p "$d" || exit 125
                        if [ -n "$2" ]; then
                                chown -R "${2#*:}" "/sys/fs/cgroup/${2%%:*}" || exit 125
                        fi
                fi
                echo $$ >"$d/cgroup.procs" || exit 125
                shift 2
                exec "$@"' sh "$CG2_NAME/$1" "${2:+$CG2_NAME/$2}")
}

# cg2_view_stop: kills everything left in the subtree (the holder included) and removes it;
# fails when the subtree could not be removed.
cg2_view_stop() {
        local rc=0
        [ -n "$CG2_NAME" ] || return 0
        unshare -m --propagation private sh -c '
                umount -l /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup || exit 1
                t=/sys/fs/cgroup/$1
                [ -d "$t" ] || exit 0
                echo 1 >"$t/cgroup.kill"
                i=0
                while grep -q "^populated 1" "$t/cgroup.events" && [ $i -lt 200 ]; do
                        sleep 0.05
                        i=$((i + 1))
                done
                find "$t" -depth -type d -exec rmdir {} \;
                [ ! -d "$t" ]' sh "$CG2_NAME" || rc=1
        CG2_PID='' CG2_NAME=''
        return "$rc"
}

# --- commands ------------------------------------------------------------------------------------

# run [--in FILE] CMD...: runs CMD (a command or a function of these scripts; the helpers that
# start clients bound them with `timeout`) with stdin /dev/null or FILE; stdout in $W/out, stderr
# in $W/err, both in $W/all, exit status in RC. Never fails the script.
RC=0
run() {
        local in=/dev/null
        if [ "$1" = --in ]; then
                in=$2
                shift 2
        fi
        RC=0
        : >"$W/why"
        "$@" <"$in" >"$W/out" 2>"$W/err" || RC=$?
        cat "$W/out" "$W/err" >"$W/all"
}

# --- the image -----------------------------------------------------------------------------------

# make_rootfs_tar OUT: a busybox rootfs (every applet linked, /etc/passwd and /etc/group) as a
# reproducible tar (sorted, fixed mtime, numeric root ownership): the same busybox gives the same
# bytes, so its sha256 names the image.
make_rootfs_tar() {
        local out=$1 r=$E2E_DIR/rootfs a bb
        bb=$(command -v busybox) || bail "busybox is needed (apt-get install busybox-static)"
        ldd "$bb" >/dev/null 2>&1 && bail "a static busybox is needed (apt-get install busybox-static)"
        rm -rf "$r"
        mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,tmp,root,proc,sys,dev,var/tmp,run,home}
        cp "$bb" "$r/bin/busybox"
        for a in $("$bb" --list-full); do
                [ -e "$r/$a" ] || [ -L "$r/$a" ] || ln -s /bin/busybox "$r/$a"
        done
        chmod 1777 "$r/tmp" "$r/var/tmp"
        printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
                >"$r/etc/passwd"
        printf 'root:x:0:\nnogroup:x:65534:\n' >"$r/etc/group"
        tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "$r" -cf "$out" .
        rm -rf "$r"
}

# make_oci_archive ROOTFS_TAR NAME OUT: an OCI image layout tar (one uncompressed layer, the
# rootfs) that `ctr image import` names NAME, with CMD /bin/sh and the usual PATH.
make_oci_archive() {
        local tar=$1 name=$2 out=$3 d=$E2E_DIR/oci l c m arch
        arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)
        rm -rf "$d"
        mkdir -p "$d/blobs/sha256"
        l=$(sha256sum "$tar" | cut -d' ' -f1)
        cp "$tar" "$d/blobs/sha256/$l"
        jq -cn --arg l "sha256:$l" --arg arch "$arch" '{architecture: $arch, os: "linux",
                config: {Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"], Cmd: ["/bin/sh"]},
                rootfs: {type: "layers", diff_ids: [$l]}}' >"$d/config.json"
        c=$(sha256sum "$d/config.json" | cut -d' ' -f1)
        mv "$d/config.json" "$d/blobs/sha256/$c"
        jq -cn --arg c "sha256:$c" --argjson cs "$(stat -c %s "$d/blobs/sha256/$c")" \
                --arg l "sha256:$l" --argjson ls "$(stat -c %s "$tar")" '{schemaVersion: 2,
                mediaType: "application/vnd.oci.image.manifest.v1+json",
                config: {mediaType: "application/vnd.oci.image.config.v1+json", digest: $c, size: $cs},
                layers: [{mediaType: "application/vnd.oci.image.layer.v1.tar", digest: $l, size: $ls}]}' \
                >"$d/manifest.json"
        m=$(sha256sum "$d/manifest.json" | cut -d' ' -f1)
        jq -cn --arg m "sha256:$m" --argjson ms "$(stat -c %s "$d/manifest.json")" --arg n "$name" \
                --arg arch "$arch" '{
                schemaVersion: 2,
                manifests: [{mediaType: "application/vnd.oci.image.manifest.v1+json", digest: $m, size: $ms,
                        platform: {architecture: $arch, os: "linux"},
                        annotations: {"io.containerd.image.name": $n,
                                "org.opencontainers.image.ref.name": ($n | sub(".*:"; ""))}}]}' \
                >"$d/index.json"
        mv "$d/manifest.json" "$d/blobs/sha256/$m"
        echo '{"imageLayoutVersion":"1.0.0"}' >"$d/oci-layout"
        tar --sort=name --mtime=@0 --numeric-owner --owner=0 --group=0 -C "$d" -cf "$out" oci-layout index.json blobs
        rm -rf "$d"
}
