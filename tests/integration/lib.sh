# shellcheck shell=bash
# Shared helpers for the integration tests (sourced by tests/integration/test-*.sh, run with bash).
#
# Environment (set by tests/run.sh):
#   URUN       absolute path of the urun binary
#   PAYLOAD    absolute path of the static test payload (tests/payload/payload)
#   TEST_MODE  rootless | root | userns
#   URUN_ROOT  optional --root for every urun call (root mode uses a private temp dir)
#   TMPDIR     where per-test temp dirs are made
#
# Output is TAP: "ok N - desc", "not ok N - desc" followed by "# " diagnostic lines, "ok N # SKIP",
# and the plan "1..N" at the end (so it never drifts). Every wait is a poll bounded by a deadline
# on an observable condition (a file's content, `urun state`), never a fixed sleep.

set -u

: "${URUN:?URUN must be set}"
: "${PAYLOAD:?PAYLOAD must be set}"
: "${TEST_MODE:=rootless}"
: "${URUN_ROOT:=}"

_ids=()
_bg_pids=()
T=$(mktemp -d "${TMPDIR:-/tmp}/urun-t.XXXXXX") || { echo "Bail out! mktemp failed"; exit 1; }
chmod 0755 "$T"

if [ -n "$URUN_ROOT" ]; then
        STATE_ROOT=$URUN_ROOT
elif [ "$(id -u)" = 0 ] && [ "$TEST_MODE" != userns ]; then
        STATE_ROOT=/run/urun
else
        STATE_ROOT=${XDG_RUNTIME_DIR:-/run/user/$(id -u)}/urun
fi

if [ "$TEST_MODE" = root ]; then
        SPEC_FLAGS=()
else
        SPEC_FLAGS=(--rootless)
fi

BUSYBOX=$(command -v busybox || true)
BUSYBOX_APPLETS="sh echo cat ls id sleep true false kill touch mkdir stat hostname mount grep env pwd test
                 tr wc head rm readlink"

# --- TAP (ok, not_ok, skip, diag, result, done_testing) ---------------------------------------

. "$(dirname "${BASH_SOURCE[0]}")/tap.sh"

# --- running things ------------------------------------------------------------------------------

urun() {
        if [ -n "$URUN_ROOT" ]; then
                "$URUN" --root "$URUN_ROOT" "$@"
        else
                "$URUN" "$@"
        fi
}

# run CMD...: runs CMD with stdin from /dev/null and a 60 s bound; stdout in $T/out, stderr in
# $T/err, exit status in $RC. Never fails the script.
# `run urun ...` runs $URUN with the test's --root.
RC=0
run() {
        RC=0
        if [ "$1" = urun ]; then
                shift
                set -- "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} "$@"
        fi
        timeout -k 5 60 "$@" </dev/null >"$T/out" 2>"$T/err" || RC=$?
        cat "$T/out" "$T/err" >"$T/all"
}

# expect_rc WANT DESC CMD...: the exit status of CMD is WANT.
expect_rc() {
        local want=$1 desc=$2
        shift 2
        run "$@"
        if [ "$RC" = "$want" ]; then
                ok "$desc"
        else
                echo "exit status $RC, wanted $want: $*" >"$T/why"
                not_ok "$desc" "$T/why" "$T/all"
        fi
}

# expect_fail DESC CMD...: CMD exits non-zero and prints exactly one line on stderr starting with
# "urun: " (stdout empty).
expect_fail() {
        local desc=$1
        shift
        run "$@"
        local lines
        lines=$(wc -l <"$T/err")
        if [ "$RC" != 0 ] && [ "$RC" != 124 ] && [ "$lines" = 1 ] && grep -q '^urun: ' "$T/err" &&
                ! [ -s "$T/out" ]; then
                ok "$desc"
        else
                echo "exit status $RC, $lines stderr line(s); wanted non-zero and one 'urun: ' line" >"$T/why"
                not_ok "$desc" "$T/why" "$T/all"
        fi
}

# is GOT WANT DESC
is() {
        if [ "$1" = "$2" ]; then
                ok "$3"
        else
                printf 'got:  %s\nwant: %s\n' "$1" "$2" >"$T/why"
                not_ok "$3" "$T/why"
        fi
}

# like FILE ERE DESC: FILE has a line matching ERE.
like() {
        if grep -Eq -- "$2" "$1"; then
                ok "$3"
        else
                echo "no line matches /$2/ in:" >"$T/why"
                not_ok "$3" "$T/why" "$1"
        fi
}

# unlike FILE ERE DESC
unlike() {
        if grep -Eq -- "$2" "$1"; then
                echo "unexpected line matching /$2/ in:" >"$T/why"
                not_ok "$3" "$T/why" "$1"
        else
                ok "$3"
        fi
}

# wait_until SECONDS CMD...: poll CMD (every 20 ms) until it succeeds or the deadline passes.
wait_until() {
        local deadline=$(($(date +%s) + $1))
        shift
        while ! "$@" >/dev/null 2>&1; do
                [ "$(date +%s)" -lt "$deadline" ] || return 1
                sleep 0.02
        done
}

file_has() {
        grep -Eq -- "$2" "$1" 2>/dev/null
}

status_of() {
        urun state "$1" 2>/dev/null | jq -r .status 2>/dev/null
}

status_is() {
        [ "$(status_of "$1")" = "$2" ]
}

# wait_status ID STATUS [SECONDS]
wait_status() {
        wait_until "${3:-20}" status_is "$1" "$2"
}

# A zombie counts as gone: who reaps an orphan (pid 1 of this machine) is not ours to test.
pid_alive() {
        local st
        st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null)
        [ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}

pid_gone() {
        ! pid_alive "$1"
}

# background CMD...: start CMD in the background (stdin /dev/null), remembered for cleanup.
# Sets BG_PID.
BG_PID=
background() {
        "$@" </dev/null &
        BG_PID=$!
        _bg_pids+=("$BG_PID")
}

# wait_bg PID: exit status of a background job, bounded: after 30 s it is killed (status 124).
wait_bg() {
        local pid=$1
        if ! wait_until 30 pid_gone "$pid"; then
                kill -KILL "$pid" 2>/dev/null
                wait "$pid" 2>/dev/null
                return 124
        fi
        local rc=0
        wait "$pid" || rc=$?
        return "$rc"
}

# one_line_with FRAGMENT DESC CMD...: CMD fails with one "urun: " line containing FRAGMENT.
one_line_with() {
        local frag=$1 desc=$2
        shift 2
        expect_fail "$desc" "$@"
        grep -qF -- "$frag" "$T/err"
        result $? "$desc: the message says \"$frag\"" "$T/err"
}

# stdin_urun FILE ARGS...: urun with FILE on stdin (run() reads /dev/null); like run otherwise.
stdin_urun() {
        local in=$1
        shift
        RC=0
        timeout -k 5 60 "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} "$@" <"$in" >"$T/out" 2>"$T/err" || RC=$?
        cat "$T/out" "$T/err" >"$T/all"
}

# find_tool PATH...: the first executable one. The terminal helpers live next to urun and the
# payload in the build tree (or staged beside them): RECVTTY and PTYDRIVE, empty when missing.
find_tool() {
        local c
        for c in "$@"; do
                if [ -x "$c" ]; then
                        echo "$c"
                        return 0
                fi
        done
        return 1
}
RECVTTY=$(find_tool "${RECVTTY:-}" "$(dirname "$URUN")/helpers/urun-recvtty" "$(dirname "$URUN")/urun-recvtty") || RECVTTY=
PTYDRIVE=$(find_tool "${PTYDRIVE:-}" "$(dirname "$PAYLOAD")/ptydrive") || PTYDRIVE=

# --- containers and bundles ----------------------------------------------------------------------

_id_counter=0
# new_id: sets ID to a unique container id, deleted (--force) when the script exits.
ID=
new_id() {
        _id_counter=$((_id_counter + 1))
        ID="t-$(basename "$0" .sh | sed 's/^test-//')-$$-$_id_counter"
        _ids+=("$ID")
}

# make_rootfs DIR: busybox + payload + minimal /etc.
make_rootfs() {
        local r=$1 a
        mkdir -p "$r/bin" "$r/etc" "$r/tmp" "$r/proc" "$r/sys" "$r/dev" "$r/root" "$r/shared"
        cp "$BUSYBOX" "$r/bin/busybox"
        for a in $BUSYBOX_APPLETS; do
                ln -s busybox "$r/bin/$a"
        done
        cp "$PAYLOAD" "$r/payload"
        chmod 0755 "$r/payload" "$r/bin/busybox"
        printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
                >"$r/etc/passwd"
        printf 'root:x:0:\nuser:x:1000:\nnogroup:x:65534:\n' >"$r/etc/group"
        chmod 1777 "$r/tmp"
}

# make_bundle DIR [ARGS...]: a busybox bundle whose config.json comes from `urun spec` (with
# --rootless unless in root mode), terminal off, args ARGS (default: /payload exit 0).
make_bundle() {
        local b=$1
        shift
        mkdir -p "$b"
        make_rootfs "$b/rootfs"
        urun spec "${SPEC_FLAGS[@]}" --bundle "$b" >"$T/spec.out" 2>&1 || {
                echo "Bail out! urun spec failed: $(head -c 300 "$T/spec.out")"
                exit 1
        }
        cfg "$b" '.process.terminal = false'
        if [ $# -gt 0 ]; then
                set_args "$b" "$@"
        else
                set_args "$b" /payload exit 0
        fi
}

# cfg BUNDLE JQ_FILTER [JQ_ARGS...]: edit BUNDLE/config.json in place.
cfg() {
        local b=$1 f=$2
        shift 2
        jq "$f" "$@" <"$b/config.json" >"$b/config.json.new" && mv "$b/config.json.new" "$b/config.json"
}

# set_args BUNDLE ARG...: process.args (each passed with --arg, so "-c" is not a jq option).
set_args() {
        local b=$1 i=0 expr="" a
        local jargs=()
        shift
        for a in "$@"; do
                jargs+=(--arg "a$i" "$a")
                expr="$expr${expr:+, }\$a$i"
                i=$((i + 1))
        done
        cfg "$b" ".process.args = [$expr]" "${jargs[@]}"
}

# in_ctr DESC WANT_RC CMD...: run CMD in a fresh container of bundle $B.
in_ctr() {
        local desc=$1 want=$2
        shift 2
        set_args "$B" "$@"
        new_id
        expect_rc "$want" "$desc" urun run --bundle "$B" "$ID"
}

# A bind mount of a host dir into the container at DEST (rbind, rw).
add_bind() {
        cfg "$1" '.mounts += [{"destination": $d, "type": "bind", "source": $s, "options": ["rbind", "rw"]}]' \
                --arg s "$2" --arg d "$3"
}

state_dir_exists() {
        [ -e "$STATE_ROOT/$1" ]
}

# Processes whose root directory is inside DIR (a container left running from this test).
procs_under() {
        local dir=$1 p r
        for p in /proc/[0-9]*; do
                r=$(readlink "$p/root" 2>/dev/null) || continue
                case "$r" in "$dir"/*) echo "${p#/proc/}" ;; esac
        done
}

# left_nothing ID DIR DESC: no state for ID, no process rooted under DIR.
left_nothing() {
        local id=$1 dir=$2 desc=$3 procs
        procs=$(procs_under "$dir")
        if state_dir_exists "$id"; then
                ls -la "$STATE_ROOT/$id" >"$T/why" 2>&1
                not_ok "$desc (state dir $STATE_ROOT/$id left)" "$T/why"
        elif urun state "$id" >/dev/null 2>&1; then
                not_ok "$desc (urun state $id still succeeds)"
        elif [ -n "$procs" ]; then
                not_ok "$desc (processes left: $procs)"
        else
                ok "$desc"
        fi
}

_cleanup() {
        local id p
        for id in "${_ids[@]}"; do
                timeout -k 5 30 "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} delete --force "$id" \
                        >/dev/null 2>&1 </dev/null || true
        done
        for p in "${_bg_pids[@]}"; do
                kill -KILL "$p" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        rm -rf "$T" 2>/dev/null || true
}
trap _cleanup EXIT

# ldd succeeds only on a dynamic executable, which cannot run in the bare rootfs.
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        echo "Bail out! a static busybox is needed (apt-get install busybox-static)"
        exit 1
fi
if ! command -v jq >/dev/null; then
        echo "Bail out! jq is needed (apt-get install jq)"
        exit 1
fi
