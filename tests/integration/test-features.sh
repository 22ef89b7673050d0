#!/bin/bash
# `urun features`: the OCI features document (runtime-spec features.md) is valid JSON and says
# what urun really implements.
. "$(dirname "$0")/lib.sh"

expect_rc 0 "features exits 0" urun features
F=$T/features.json
cp "$T/out" "$F"
jq -e . "$F" >/dev/null 2>"$T/jq.err"
result $? "features prints valid JSON" "$T/jq.err" "$F"
[ ! -s "$T/err" ]
result $? "features prints nothing on stderr" "$T/err"

# has JQ_BOOLEAN_EXPR DESC: the expression is true of the document.
has() {
        local got
        got=$(jq -r "$1" "$F" 2>&1)
        if [ "$got" = true ]; then
                ok "$2"
        else
                printf 'jq %s gave: %s\n' "$1" "$got" >"$T/why"
                not_ok "$2" "$T/why"
        fi
}

is "$(jq -r .ociVersionMin "$F")" 1.0.0 "ociVersionMin is 1.0.0"
is "$(jq -r .ociVersionMax "$F")" 1.2.0 "ociVersionMax is 1.2.0"
has '[.hooks[]] == ["prestart","createRuntime","createContainer","startContainer","poststart","poststop"]' \
        "hooks lists all six, createRuntime among them"
for ns in user mount pid ipc uts network cgroup time; do
        has ".linux.namespaces | index(\"$ns\") != null" "namespaces include $ns"
done
has '.linux.namespaces | length == 8' "namespaces has exactly the 8 kinds"
for o in rbind bind nosymfollow rro rprivate ro tmpcopyup; do
        has ".mountOptions | index(\"$o\") != null" "mountOptions include $o"
done
has '.mountOptions | index("idmap") != null and index("ridmap") != null' "mountOptions include idmap and ridmap"
has '.mountOptions | length == (unique | length)' "mountOptions has no duplicates"
has '.linux.capabilities | index("CAP_SYS_ADMIN") != null and index("CAP_CHOWN") != null' \
        "capabilities include CAP_SYS_ADMIN and CAP_CHOWN"
has '.linux.capabilities | all(test("^CAP_[A-Z_]+$"))' "capabilities are all CAP_ names"
# every capability the running kernel has is listed (libcap knows at least as many here)
last=$(cat /proc/sys/kernel/cap_last_cap 2>/dev/null || echo 0)
has ".linux.capabilities | length >= $((last + 1))" "capabilities cover cap_last_cap ($last)"

has '.linux.seccomp.enabled == true' "seccomp.enabled is true"
has '.linux.seccomp.actions | index("SCMP_ACT_ERRNO") != null and index("SCMP_ACT_NOTIFY") != null' \
        "seccomp actions include SCMP_ACT_ERRNO and SCMP_ACT_NOTIFY"
has '.linux.seccomp.operators | index("SCMP_CMP_MASKED_EQ") != null and length == 7' \
        "seccomp operators are the 7, SCMP_CMP_MASKED_EQ among them"
case "$(uname -m)" in
x86_64) native=SCMP_ARCH_X86_64 ;;
aarch64) native=SCMP_ARCH_AARCH64 ;;
*) native= ;;
esac
if [ -n "$native" ]; then
        has ".linux.seccomp.archs | index(\"$native\") != null" "seccomp archs include the native $native"
else
        skip "seccomp archs include the native one" "no mapping for $(uname -m)"
fi
has '.linux.seccomp.knownFlags | sort == ["SECCOMP_FILTER_FLAG_LOG","SECCOMP_FILTER_FLAG_SPEC_ALLOW","SECCOMP_FILTER_FLAG_TSYNC","SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]' \
        "seccomp knownFlags are the four OCI flags"
has '(.linux.seccomp.supportedFlags - .linux.seccomp.knownFlags) == []' "supportedFlags is a subset of knownFlags"
# SECCOMP_FILTER_FLAG_LOG is in every kernel since 4.14
has '.linux.seccomp.supportedFlags | index("SECCOMP_FILTER_FLAG_LOG") != null' "this kernel supports SECCOMP_FILTER_FLAG_LOG"

has '.linux.cgroup == {"v1":false,"v2":true,"systemd":true,"systemdUser":true,"rdma":true}' \
        "cgroup: v2 (delegated subtree or systemd scope, system and user instance) and rdma, no v1"
# apparmor: the kernel module says so; selinux: selinuxfs mounted read-write (as go-selinux checks)
aa=false
grep -q '^Y' /sys/module/apparmor/parameters/enabled 2>/dev/null && aa=true
se=false
grep -q ' /sys/fs/selinux selinuxfs rw' /proc/self/mounts 2>/dev/null && se=true
has ".linux.apparmor.enabled == $aa" "apparmor enabled matches the host ($aa)"
has ".linux.selinux.enabled == $se" "selinux enabled matches the host ($se)"
has '.linux.mountExtensions.idmap.enabled == true' "idmap mounts are supported"
has '.annotations["io.github.urun.version"] | test("^[0-9]+\\.[0-9]+")' "annotations carry the urun version"
has '.annotations["io.github.urun.libseccomp.version"] | test("^[0-9]+\\.[0-9]+\\.[0-9]+$")' \
        "annotations carry the libseccomp version"
is "$(jq -r '.annotations["io.github.urun.version"]' "$F")" \
        "$("$URUN" --version | sed -n 's/^urun version //p')" "the version annotation matches --version"

expect_fail "features with an argument fails with one urun: line" urun features extra-arg
expect_fail "features with an unknown option fails with one urun: line" urun features --bogus

done_testing
