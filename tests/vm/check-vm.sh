#!/bin/bash
# The driver behind `make check-vm`: boot one VM (run-in-vm.sh) and run in it, as the unprivileged
# test user inside a delegated cgroup v2 subtree, sanity.sh (the VM gives what the tests need),
# suite.sh (urun's cgroup features, enforced) and systemd.sh (--systemd-cgroup with a real
# `systemd --user`). Prints each failure with its diagnostics and ends with "N passed, N failed,
# N skipped"; exits non-zero on any failure.
#
# Environment: BUILDDIR, SRCDIR (set by Makefile.am): urun, tests/payload/payload and
# tests/vm/cgload are taken from BUILDDIR. VM_TESTS="suite" runs a subset. The full guest output
# goes to BUILDDIR/tests/vm/check-vm.log. URUN_VM_* knobs: see run-in-vm.sh.
set -uo pipefail

SRCDIR=${SRCDIR:-$(cd "$(dirname "$0")/../.." && pwd)}
BUILDDIR=${BUILDDIR:-$SRCDIR}
VM_TESTS=${VM_TESTS:-sanity suite systemd}
SCRIPT_TIMEOUT=${SCRIPT_TIMEOUT:-420}   # per script, inside the guest (TCG is 2-20x slower)
export URUN_VM_TIMEOUT=${URUN_VM_TIMEOUT:-1200}
me=check-vm

for f in urun tests/payload/payload tests/vm/cgload; do
        [ -x "$BUILDDIR/$f" ] || { echo "$me: $BUILDDIR/$f is not built"; echo "0 passed, 1 failed"; exit 1; }
done

# Everything the guest runs, in one directory it can read: the build dir may not be readable by
# the test user (a build under /root), and the guest sees the host's files with their host owners.
STAGE=$(mktemp -d /tmp/urun-vm-stage.XXXXXX) || exit 1
trap 'rm -rf "$STAGE"' EXIT
cp "$BUILDDIR/urun" "$BUILDDIR/tests/payload/payload" "$BUILDDIR/tests/vm/cgload" \
        "$SRCDIR/tests/integration/lib.sh" "$SRCDIR/tests/integration/tap.sh" "$SRCDIR/tests/vm/sanity.sh" "$SRCDIR/tests/vm/suite.sh" \
        "$SRCDIR/tests/vm/systemd.sh" "$STAGE/"
chmod -R a+rX "$STAGE"

# In the guest: each script under its own time bound, between marker lines that split the TAP.
guest_cmd="export URUN=$STAGE/urun PAYLOAD=$STAGE/payload CGLOAD=$STAGE/cgload LIBDIR=$STAGE"
guest_cmd+=" TEST_MODE=rootless TMPDIR=/tmp LC_ALL=C"
guest_cmd+="${ASAN_OPTIONS:+ ASAN_OPTIONS=$ASAN_OPTIONS}${UBSAN_OPTIONS:+ UBSAN_OPTIONS=$UBSAN_OPTIONS}"
for t in $VM_TESTS; do
        guest_cmd+="; echo '### begin $t'; s=\$(date +%s); timeout -k 5 $SCRIPT_TIMEOUT bash ./$t.sh 2>&1"
        guest_cmd+="; echo \"### end $t status \$? took \$((\$(date +%s) - s))s\""
done

LOG=$BUILDDIR/tests/vm/check-vm.log ERRLOG=$BUILDDIR/tests/vm/check-vm-stderr.log
mkdir -p "$(dirname "$LOG")"
echo "$me: booting the VM (kernel and initramfs are built on first use), running: $VM_TESTS"
URUN_VM_TIMING=1 "$SRCDIR/tests/vm/run-in-vm.sh" "$STAGE" "$guest_cmd" >"$LOG" 2>"$ERRLOG"
vmrc=$?
grep -E '^run-in-vm.sh: wall' "$ERRLOG" | sed "s/^run-in-vm.sh/$me/"

# Count the TAP of each section like tests/run.sh does: a script that bails out, times out, exits
# non-zero without a failure or does not match its plan fails too.
awk -v want="$VM_TESTS" '
        function fail(s) { print "FAIL vm: " name ": " s; f++; diag = 1 }
        function finish(st) {
                if (st == "cut") fail("cut off: the VM stopped before the script ended")
                else if (st == 124 || st == 137) fail("timed out")
                else if (bail != "") fail(bail)
                else if (!hasplan) fail("no TAP plan (crashed?)")
                else if (plan != n) fail("plan 1.." plan " but " n " results")
                else if (st != 0 && sf == 0) fail("exited with status " st " but reported no failure")
                print "vm: " name ": " sp " passed, " sf " failed, " ss " skipped"
                seen[name] = 1; name = ""
        }
        /^### begin / { name = $3; n = sp = sf = ss = plan = hasplan = 0; bail = ""; next }
        /^### end / { st = $4 == "status" ? $5 : 1; finish(st); print "vm: " $3 ": took " $7; next }
        name == "" { next }
        /^ok [0-9]+/ { n++; diag = 0; if ($0 ~ /# *SKIP/) { ss++; s++ } else { sp++; p++ }; next }
        /^not ok [0-9]+/ { n++; sf++; sub(/^not ok /, ""); fail($0); next }
        /^1\.\.[0-9]+/ { plan = substr($0, 4) + 0; hasplan = 1; diag = 0; next }
        /^Bail out!/ { bail = $0; next }
        /^#/ { if (diag) print "    " $0; next }
        { diag = 0 }
        END {
                if (name != "") finish("cut")
                split(want, w, " ")
                for (i in w) if (!(w[i] in seen)) { name = w[i]; fail("did not run") }
                printf "%d %d %d\n", p, f, s > "/dev/fd/3"
        }' "$LOG" 3>"$LOG.counts"
read -r passed failed skipped <"$LOG.counts"
rm -f "$LOG.counts"
if [ "$vmrc" -ge 124 ]; then
        echo "FAIL vm: run-in-vm.sh exited with status $vmrc:"
        sed 's/^/    /' "$ERRLOG"
        failed=$((failed + 1))
fi
echo "$me: full output in $LOG"
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
