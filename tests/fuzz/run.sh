#!/bin/bash
# Run the libFuzzer targets built by `make fuzz`; builds nothing.
#   BUILDDIR      where tests/fuzz/fuzz-* binaries are (default: the current directory)
#   SRCDIR        where the seed corpora tests/fuzz/<target>/ live (default: this script's tree)
#   FUZZ_SECONDS  fuzzing time per target (default 20)
#   arguments     target names to run (default: every built tests/fuzz/fuzz-* binary)
# Each target first replays its seed corpus (including any crash-* reproducers kept there), then
# fuzzes for FUZZ_SECONDS with new inputs going to a scratch directory, never into the tree.
# Exit status is non-zero if any target crashed, leaked, timed out or ran out of memory; the
# offending input is kept under $FUZZ_ARTIFACTS (default: a fresh temp directory) and named.
set -u

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$PWD}
FUZZ_SECONDS=${FUZZ_SECONDS:-20}
MAX_LEN=${FUZZ_MAX_LEN:-65536}  # bytes; configs in the wild are a few KiB
TIMEOUT=${FUZZ_TIMEOUT:-10}     # seconds for one input: anything slower is a hang
ARTIFACTS=${FUZZ_ARTIFACTS:-$(mktemp -d /tmp/urun-fuzz.XXXXXX)}

# The caller may run with leak checks off (.ci/run does for the container tests): not here.
export ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1
# a leak inside libseccomp itself (see lsan.supp) is not ours to fix
export LSAN_OPTIONS=suppressions=$(cd "$(dirname "$0")" && pwd)/lsan.supp
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

if [ $# -gt 0 ]; then
        targets=("$@")
else
        targets=()
        for f in "$BUILDDIR"/tests/fuzz/fuzz-*; do
                [ -x "$f" ] && targets+=("$(basename "$f" | sed 's/^fuzz-//')")
        done
fi
if [ ${#targets[@]} -eq 0 ]; then
        echo "run.sh: no fuzzers in $BUILDDIR/tests/fuzz (run 'make fuzz')" >&2
        exit 2
fi

failed=0
for t in "${targets[@]}"; do
        bin=$BUILDDIR/tests/fuzz/fuzz-$t
        seeds=$SRCDIR/tests/fuzz/$t
        dict=$SRCDIR/tests/fuzz/$t.dict
        work=$ARTIFACTS/$t-corpus
        log=$ARTIFACTS/$t.log
        opts=(-max_len="$MAX_LEN" -timeout="$TIMEOUT" -rss_limit_mb=2048 -artifact_prefix="$ARTIFACTS/$t-")
        [ -f "$dict" ] && opts+=(-dict="$dict")

        mkdir -p "$work"
        if [ ! -x "$bin" ]; then
                echo "FAIL $t: $bin not built"
                failed=$((failed + 1))
                continue
        fi
        # 1. Every seed and reproducer once. 2. Fuzz; new inputs land in $work only.
        if "$bin" "${opts[@]}" -runs=0 "$seeds" >"$log" 2>&1 &&
           "$bin" "${opts[@]}" -max_total_time="$FUZZ_SECONDS" -print_final_stats=1 "$work" "$seeds" >>"$log" 2>&1; then
                execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
                echo "ok   $t: ${execs:-?} execs in ${FUZZ_SECONDS}s, corpus $(ls "$work" | wc -l) new inputs"
        else
                failed=$((failed + 1))
                echo "FAIL $t: log $log"
                grep -E '^==[0-9]+==ERROR|SUMMARY|runtime error|^artifact_prefix|Test unit written' "$log" | head -n 20
        fi
done

if [ $failed -gt 0 ]; then
        echo "$failed of ${#targets[@]} fuzzers found a problem; inputs and logs in $ARTIFACTS"
        exit 1
fi
echo "all ${#targets[@]} fuzzers clean"
[ -n "${FUZZ_ARTIFACTS:-}" ] || rm -rf "$ARTIFACTS"
