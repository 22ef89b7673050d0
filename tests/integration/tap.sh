# shellcheck shell=bash
# TAP for the shell tests (tests/integration/lib.sh, tests/e2e/lib.sh, the VM suite): "ok N - desc",
# "not ok N - desc" with "# " diagnostics, "ok N - desc # SKIP why", the plan "1..N" last.
# A sourcing library may define tap_more_diagnostics, called after a failure's file tails.

_tap_n=0
_tap_failed=0

ok() {
        _tap_n=$((_tap_n + 1))
        echo "ok $_tap_n - $*"
}

# not_ok DESC [FILE...]: the files' tails become diagnostics.
not_ok() {
        local desc=$1 f
        shift
        _tap_n=$((_tap_n + 1))
        _tap_failed=$((_tap_failed + 1))
        echo "not ok $_tap_n - $desc"
        for f in "$@"; do
                [ -s "$f" ] || continue
                [ $# -gt 1 ] && echo "#   --- $(basename "$f"):"
                tail -n 15 "$f" | cut -c1-400 | sed 's/^/#   /'
        done
        if declare -F tap_more_diagnostics >/dev/null; then
                tap_more_diagnostics
        fi
}

skip() {
        _tap_n=$((_tap_n + 1))
        echo "ok $_tap_n - $1 # SKIP ${2:-}"
}

diag() {
        echo "# $*"
}

# result COND_RC DESC [FILE...]: ok when COND_RC is 0.
result() {
        local rc=$1
        shift
        if [ "$rc" = 0 ]; then
                ok "$1"
        else
                not_ok "$@"
        fi
}

done_testing() {
        echo "1..$_tap_n"
        [ "$_tap_failed" = 0 ]
}
