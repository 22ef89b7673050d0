#!/bin/sh
# The test harness behind `make check`: unit tests (TAP programs), then the integration scripts in
# each privilege mode, then one closing line "N passed, N failed, N skipped".
#
#   rootless  as root: as the dedicated unprivileged user `uruntest` (created on first use, with
#             subordinate ids); as a normal user: as that user.
#   root      only when run as root: the same scripts as root, with a private --root.
#   rootless-noopenat2
#             the scripts whose containers mount things (NOOPENAT2_SCRIPTS) once more as in
#             rootless (TEST_MODE=rootless), with URUN_TEST_NO_OPENAT2=1: every path inside the
#             rootfs is resolved by the component walk, as on kernels or under seccomp profiles
#             without openat2.
#   userns    the scripts as the unprivileged user inside `unshare -Ur` (root in a user namespace
#             without host privileges, as under rootless Podman).
#
# Environment: BUILDDIR, SRCDIR (set by Makefile.am); TEST_MODES (default
# "rootless rootless-noopenat2 root userns");
# TESTS (a space-separated list of integration script names, e.g. "test-lifecycle", to run a subset);
# TEST_TIMEOUT (seconds per script, default 300).
[ -n "${BASH_VERSION:-}" ] || exec bash "$0" "$@"
set -u

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR}
TEST_MODES=${TEST_MODES:-rootless rootless-noopenat2 root userns}
# Scripts whose containers resolve paths in their rootfs beyond the defaults (mounts, binds,
# maskedPaths, devices, cwd, args[0], hooks): the rootless-noopenat2 pass runs these.
NOOPENAT2_SCRIPTS="test-rootfs test-confinement test-run test-userns test-errors test-hooks test-idmap test-mounts test-overlay test-devices test-copyup"
TEST_TIMEOUT=${TEST_TIMEOUT:-300}
TEST_USER=uruntest
SYS_PATH=/usr/sbin:/usr/bin:/sbin:/bin

passed=0
failed=0
skipped=0
failures=()

TMPBASE=$(mktemp -d /tmp/urun-check.XXXXXX) || exit 1
chmod 0755 "$TMPBASE"
trap 'rm -rf "$TMPBASE" 2>/dev/null' EXIT

# report_tap PREFIX LOG RC: count the TAP results of one program and print each failure with its
# diagnostics. A program that bails out, dies, times out or does not match its plan fails too.
report_tap() {
        local prefix=$1 log=$2 rc=$3 counts p f s
        counts=$(awk -v prefix="$prefix" '
                function flush() { if (pending != "") { print pending > "/dev/stderr"; pending = "" } }
                /^ok [0-9]+/ {
                        flush(); n++
                        if ($0 ~ /# *[Ss][Kk][Ii][Pp]/) s++; else p++
                        next
                }
                /^not ok [0-9]+/ {
                        flush(); n++; f++
                        sub(/^not ok /, "")
                        print "FAIL " prefix ": " $0 > "/dev/stderr"
                        indiag = 1
                        next
                }
                /^1\.\.[0-9]+/ { plan = substr($0, 4) + 0; hasplan = 1; indiag = 0; next }
                /^Bail out!/ { bail = $0; indiag = 0; next }
                /^#/ { if (indiag) print "    " $0 > "/dev/stderr"; next }
                { indiag = 0 }
                END {
                        if (bail != "") { print "FAIL " prefix ": " bail > "/dev/stderr"; f++ }
                        else if (!hasplan) { print "FAIL " prefix ": no TAP plan (crashed?)" > "/dev/stderr"; f++ }
                        else if (plan != n) { print "FAIL " prefix ": plan 1.." plan " but " n " results" > "/dev/stderr"; f++ }
                        printf "%d %d %d\n", p, f, s
                }' "$log" 2>"$log.fail")
        read -r p f s <<<"$counts"
        if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
                echo "FAIL $prefix: timed out after ${TEST_TIMEOUT}s" >>"$log.fail"
                f=$((f + 1))
        elif [ "$rc" != 0 ] && [ "$f" = 0 ]; then
                echo "FAIL $prefix: exited with status $rc but reported no failure" >>"$log.fail"
                f=$((f + 1))
        fi
        if [ -s "$log.fail" ]; then
                cat "$log.fail"
                if grep -q 'crashed\|plan\|Bail\|timed out\|status' "$log.fail"; then
                        echo "    --- last lines of $prefix output:"
                        tail -n 20 "$log" | sed 's/^/    /'
                fi
                while IFS= read -r line; do
                        case "$line" in FAIL*) failures+=("${line#FAIL }") ;; esac
                done <"$log.fail"
        fi
        passed=$((passed + p))
        failed=$((failed + f))
        skipped=$((skipped + s))
        echo "$prefix: $p passed, $f failed, $s skipped"
}

check_result() {
        local prefix=$1 ok=$2 why=$3
        if [ "$ok" = 1 ]; then
                passed=$((passed + 1))
        else
                failed=$((failed + 1))
                failures+=("$prefix: $why")
                echo "FAIL $prefix: $why"
        fi
}

# --- unit tests ----------------------------------------------------------------------------------

run_unit_tests() {
        local t name log rc
        for t in "$BUILDDIR"/tests/unit/test-*; do
                case "$t" in *.c | *.o | *.log | *.trs) continue ;; esac
                [ -x "$t" ] || continue
                name=unit/$(basename "$t")
                log=$TMPBASE/$(basename "$t").log
                rc=0
                (cd "$TMPBASE" && timeout -k 5 120 "$t") >"$log" 2>&1 || rc=$?
                report_tap "$name" "$log" "$rc"
        done
}

# --- integration tests ---------------------------------------------------------------------------

ensure_test_user() {
        if ! id "$TEST_USER" >/dev/null 2>&1; then
                useradd -m -s /bin/bash "$TEST_USER" || return 1
        fi
        local f
        for f in /etc/subuid /etc/subgid; do
                [ -e "$f" ] || touch "$f"
                grep -q "^$TEST_USER:" "$f" || echo "$TEST_USER:200000:65536" >>"$f"
        done
        TEST_UID=$(id -u "$TEST_USER")
        TEST_HOME=$(getent passwd "$TEST_USER" | cut -d: -f6)
        TEST_XDG=/run/user/$TEST_UID
        mkdir -p "$TEST_XDG"
        chown "$TEST_USER:$TEST_USER" "$TEST_XDG"
        chmod 0700 "$TEST_XDG"
}

as_test_user() {
        setpriv --reuid "$TEST_USER" --regid "$TEST_USER" --init-groups "$@"
}

# Make urun, the payload and the scripts reachable by the test user (a build under /root is not).
stage_binaries() {
        URUN_BIN=$BUILDDIR/urun
        PAYLOAD_BIN=$BUILDDIR/tests/payload/payload
        ITEST_DIR=$SRCDIR/tests/integration
        if [ "$(id -u)" != 0 ]; then
                return 0
        fi
        if as_test_user test -x "$URUN_BIN" -a -x "$PAYLOAD_BIN" -a -r "$ITEST_DIR/lib.sh" 2>/dev/null; then
                return 0
        fi
        mkdir -p "$TMPBASE/bin" "$TMPBASE/integration"
        cp "$URUN_BIN" "$PAYLOAD_BIN" "$TMPBASE/bin/"
        cp "$BUILDDIR/helpers/urun-recvtty" "$BUILDDIR/tests/payload/ptydrive" "$TMPBASE/bin/"
        cp "$ITEST_DIR"/*.sh "$TMPBASE/integration/"
        chmod -R a+rX "$TMPBASE/bin" "$TMPBASE/integration"
        URUN_BIN=$TMPBASE/bin/urun
        PAYLOAD_BIN=$TMPBASE/bin/payload
        ITEST_DIR=$TMPBASE/integration
}

# Which processes, state dirs and mounts a script left behind; cleans them up after reporting.
check_leftovers() {
        local prefix=$1 mode=$2 mdir=$3 why="" p r pids=""
        # Processes tied to this run: a container rooted in a bundle here, or urun, a hook or a
        # helper whose cwd or command line names a path here. (Not "all processes of the test user":
        # someone else may be using that user at the same time.)
        for p in /proc/[0-9]*; do
                grep -q '^State:[[:space:]]*Z' "$p/status" 2>/dev/null && continue
                r="$(readlink "$p/root" 2>/dev/null) $(readlink "$p/cwd" 2>/dev/null)"
                r="$r $({ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null)"
                case "$r" in *"$mdir"/*) pids="$pids ${p#/proc/}" ;; esac
        done
        pids=$(echo "$pids" | tr ' ' '\n' | grep -v "^$$\$" | sort -un | tr '\n' ' ')
        if [ -n "${pids// /}" ]; then
                why="processes left:"
                for p in $pids; do
                        why="$why $p($({ tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | cut -c1-80))"
                done
                for p in $pids; do
                        kill -KILL "$p" 2>/dev/null
                done
        fi
        local states
        states=$(ls -A "$mdir/state" 2>/dev/null | tr '\n' ' ')
        if [ -n "$states" ]; then
                why="$why${why:+; }state dirs left in --root: $states"
                rm -rf "${mdir:?}/state/"* 2>/dev/null
        fi
        local mounts
        mounts=$(awk -v d="$mdir" 'index($5, d) == 1 { print $5 }' /proc/self/mountinfo)
        if [ -n "$mounts" ]; then
                why="$why${why:+; }mounts left: $(echo "$mounts" | tr '\n' ' ')"
                echo "$mounts" | sort -r | while read -r m; do umount -l "$m" 2>/dev/null; done
        fi
        # the host's device nodes must not change (a bind-mounted node chowned or chmod'ed from
        # inside a container changes the host's)
        local devs
        devs=$(stat -c '%n %u:%g %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty 2>&1)
        if [ "$devs" != "$HOST_DEVS" ]; then
                why="$why${why:+; }host device nodes changed: $(echo "$devs" | tr '\n' ' ')"
                HOST_DEVS=$devs # blame the first script only
        fi
        if [ -z "$why" ]; then
                check_result "$prefix: leftovers" 1 ""
        else
                check_result "$prefix: leftovers" 0 "$why"
        fi
}

run_script() {
        local mode=$1 script=$2 name mdir log rc=0 prefix
        name=$(basename "$script" .sh)
        prefix="$mode: $name"
        mdir=$TMPBASE/$mode
        log=$TMPBASE/$mode-$name.log
        mkdir -p "$mdir/tmp"
        local t0=$SECONDS
        # a variant of a mode runs the scripts as that mode, with one switch set
        local base=$mode
        [ "$mode" = rootless-noopenat2 ] && base=rootless
        local envv=(HOME="${TEST_HOME:-$HOME}" USER="$RUN_USER" LOGNAME="$RUN_USER" PATH="$SYS_PATH"
                URUN="$URUN_BIN" PAYLOAD="$PAYLOAD_BIN" TEST_MODE="$base" URUN_ROOT="$mdir/state"
                TMPDIR="$mdir/tmp" LC_ALL=C)
        [ "$mode" = rootless-noopenat2 ] && envv+=(URUN_TEST_NO_OPENAT2=1)
        [ -n "${ASAN_OPTIONS:-}" ] && envv+=(ASAN_OPTIONS="$ASAN_OPTIONS")
        [ -n "${UBSAN_OPTIONS:-}" ] && envv+=(UBSAN_OPTIONS="$UBSAN_OPTIONS")
        [ -n "${RUN_XDG:-}" ] && envv+=(XDG_RUNTIME_DIR="$RUN_XDG")
        local cmd=(timeout -k 10 "$TEST_TIMEOUT" bash "$script")
        [ "$mode" = userns ] && cmd=(unshare -Ur "${cmd[@]}")
        if [ "$mode" != root ] && [ "$(id -u)" = 0 ]; then
                chown "$TEST_USER:$TEST_USER" "$mdir" "$mdir/tmp"
                (cd "$mdir" && as_test_user env -i "${envv[@]}" "${cmd[@]}") >"$log" 2>&1 </dev/null || rc=$?
        else
                (cd "$mdir" && env -i "${envv[@]}" "${cmd[@]}") >"$log" 2>&1 </dev/null || rc=$?
        fi
        report_tap "$prefix" "$log" "$rc"
        echo "$prefix: took $((SECONDS - t0))s"
        keep_log_if_failed "$log"
        check_leftovers "$prefix" "$mode" "$mdir"
}

# The whole output of a script that failed, for after the run: BUILDDIR/test-logs/.
keep_log_if_failed() {
        [ -s "$1.fail" ] || return 0
        mkdir -p "$BUILDDIR/test-logs" && cp "$1" "$BUILDDIR/test-logs/"
}

mode_available() {
        case "$1" in
        root) [ "$(id -u)" = 0 ] ;;
        rootless | rootless-noopenat2) true ;;
        userns)
                if [ "$(id -u)" = 0 ]; then
                        as_test_user unshare -Ur true 2>/dev/null
                else
                        unshare -Ur true 2>/dev/null
                fi
                ;;
        *) return 1 ;;
        esac
}

# --- end-to-end client tests ---------------------------------------------------------------------
# tests/e2e/test-*.sh: real clients (rootless Podman through conmon, containerd's runc shim)
# driving this urun. Only as root (they create the user urune2e and start containerd); a script
# whose client is not installed reports one skip with the reason. TESTS selects them by name like
# the integration scripts; E2E=0 leaves them out.
run_e2e_tests() {
        local script name log rc t0 t want
        [ "${E2E:-1}" != 0 ] || return 0
        if [ "$(id -u)" != 0 ]; then
                echo "# e2e: skipped (the client tests run as root only)"
                return 0
        fi
        for script in "$SRCDIR"/tests/e2e/test-*.sh; do
                [ -e "$script" ] || continue
                name=$(basename "$script" .sh)
                if [ -n "${TESTS:-}" ]; then
                        want=0
                        for t in $TESTS; do [ "$name" = "${t%.sh}" ] && want=1; done
                        [ "$want" = 1 ] || continue
                fi
                log=$TMPBASE/e2e-$name.log
                rc=0
                t0=$SECONDS
                (cd "$TMPBASE" && env -i HOME=/root PATH="$SYS_PATH" LC_ALL=C TMPDIR=/tmp \
                        URUN="$BUILDDIR/urun" PTYDRIVE="$BUILDDIR/tests/payload/ptydrive" \
                        ${ASAN_OPTIONS:+ASAN_OPTIONS="$ASAN_OPTIONS"} ${UBSAN_OPTIONS:+UBSAN_OPTIONS="$UBSAN_OPTIONS"} \
                        timeout -k 10 "$TEST_TIMEOUT" bash "$script") >"$log" 2>&1 </dev/null || rc=$?
                report_tap "e2e: $name" "$log" "$rc"
                echo "e2e: $name: took $((SECONDS - t0))s"
        done
}

run_integration_tests() {
        local mode script want
        if [ ! -x "$BUILDDIR/urun" ] || [ ! -x "$BUILDDIR/tests/payload/payload" ]; then
                check_result "integration" 0 "$BUILDDIR/urun or tests/payload/payload is not built"
                return
        fi
        if [ "$(id -u)" = 0 ]; then
                ensure_test_user || { check_result "integration" 0 "cannot create user $TEST_USER"; return; }
        fi
        stage_binaries
        HOST_DEVS=$(stat -c '%n %u:%g %a' /dev/null /dev/zero /dev/full /dev/random /dev/urandom /dev/tty 2>&1)
        for mode in $TEST_MODES; do
                if ! mode_available "$mode"; then
                        echo "# mode $mode not available here: skipped"
                        continue
                fi
                if [ "$mode" = root ]; then
                        RUN_USER=root RUN_XDG="" TEST_HOME=/root
                elif [ "$(id -u)" = 0 ]; then
                        RUN_USER=$TEST_USER RUN_XDG=$TEST_XDG
                        TEST_HOME=$(getent passwd "$TEST_USER" | cut -d: -f6)
                else
                        RUN_USER=$(id -un) RUN_XDG=${XDG_RUNTIME_DIR:-} TEST_HOME=$HOME
                fi
                for script in "$ITEST_DIR"/test-*.sh; do
                        if [ "$mode" = rootless-noopenat2 ] &&
                                [[ " $NOOPENAT2_SCRIPTS " != *" $(basename "$script" .sh) "* ]]; then
                                continue
                        fi
                        if [ -n "${TESTS:-}" ]; then
                                want=0
                                for t in $TESTS; do
                                        [ "$(basename "$script" .sh)" = "${t%.sh}" ] && want=1
                                done
                                [ "$want" = 1 ] || continue
                        fi
                        run_script "$mode" "$script"
                done
        done
}

[ -n "${SKIP_UNIT:-}" ] || run_unit_tests
run_integration_tests
run_e2e_tests

if [ "${#failures[@]}" -gt 0 ]; then
        echo
        echo "Failed:"
        printf '  %s\n' "${failures[@]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
