#!/bin/bash
# mounts[] from config.json, each checked from inside the container: the per-mount and superblock
# options of the classic table (tmpfs and bind), filesystem data, the recursive r* family on trees
# with submounts, propagation (per mount and rootfsPropagation), flags the kernel locked in the user
# namespace, bind mounts of files, directories, symlinks, sockets and FIFOs, root.readonly, and the
# kernel filesystems (/sys, /proc of a joined pid namespace, /dev/pts, /dev/shm, /dev/mqueue).
# Overlay, idmapped mounts, tmpcopyup and devices have their own scripts.
. "$(dirname "$0")/lib.sh"

[ "${URUN_TEST_NO_OPENAT2:-}" = 1 ] && diag "URUN_TEST_NO_OPENAT2=1: every path in a rootfs goes through the component walk"

B=$T/b
make_bundle "$B"
for a in ln cp date dd mkfifo logger; do
        ln -s busybox "$B/rootfs/bin/$a"
done
cfg "$B" '.root.readonly = false'
cp "$B/config.json" "$T/base.json"
NBASE=$(jq '.mounts | length' "$T/base.json")

# reset: the bundle's config is the base one again (the generated mounts, a writable root).
reset() {
        cp "$T/base.json" "$B/config.json"
}

# mounts_add JQ_ARRAY [JQ_ARGS...]: append the entries of JQ_ARRAY to mounts of the base config.
mounts_add() {
        local add=$1
        shift
        reset
        cfg "$B" ".mounts += $add" "$@"
}

# --- reading mountinfo ---------------------------------------------------------------------------

# probe DESC [SCRIPT]: run SCRIPT (busybox sh) in a fresh container of $B after it printed its own
# /proc/self/mountinfo: that lands in $T/mi, the script's output in $T/res.
probe() {
        in_ctr "$1" 0 /bin/sh -c "cat /proc/self/mountinfo; echo '--- probe'; ${2:-:}"
        split_probe
}

# split_probe: $T/out of a probe into $T/mi and $T/res.
split_probe() {
        sed '/^--- probe$/,$d' "$T/out" >"$T/mi"
        sed '1,/^--- probe$/d' "$T/out" >"$T/res"
}

in_list() {
        [[ ",$1," == *",$2,"* ]]
}

# mi_line LINE: split a mountinfo line into MI_DEV, MI_ROOT, MI_OPTS (per-mount options), MI_TAGS
# (optional fields: shared:N master:N unbindable), MI_FS (type) and MI_SUPER (superblock options).
mi_line() {
        local f i
        read -r -a f <<<"$1"
        MI_DEV=${f[2]} MI_ROOT=${f[3]} MI_OPTS=${f[5]} MI_TAGS=
        for ((i = 6; i < ${#f[@]}; i++)); do
                [ "${f[i]}" = - ] && break
                MI_TAGS="$MI_TAGS${MI_TAGS:+ }${f[i]}"
        done
        MI_FS=${f[i + 1]:-} MI_SUPER=${f[i + 3]:-}
}

# mi DEST: mi_line of the topmost mount on DEST in $T/mi; 1 when nothing is mounted there.
mi() {
        local line
        line=$(awk -v d="$1" '$5 == d { l = $0 } END { if (l == "") exit 1; print l }' "$T/mi") || return 1
        mi_line "$line"
}

# mi_has WORD: the mount split by mi_line has WORD: a per-mount option; "sb:W" a superblock
# option; "tag:W" an optional field starting with W; "notag" no optional field at all.
mi_has() {
        case "$1" in
        sb:*) in_list "$MI_SUPER" "${1#sb:}" ;;
        tag:*) [[ " $MI_TAGS" == *" ${1#tag:}"* ]] ;;
        notag) [ -z "$MI_TAGS" ] ;;
        *) in_list "$MI_OPTS" "$1" ;;
        esac
}

# mi_misses WORDS: the words of WORDS (see mi_has; "!W": must not have W) the mount misses.
mi_misses() {
        local w miss=
        for w in $1; do
                if [ "${w#!}" != "$w" ]; then
                        ! mi_has "${w#!}" || miss="$miss $w"
                else
                        mi_has "$w" || miss="$miss $w"
                fi
        done
        echo "$miss"
}

# mnt_is DEST WORDS DESC: the mount on DEST (in $T/mi) satisfies WORDS (see mi_misses).
mnt_is() {
        local dest=$1 words=$2 desc=$3 miss
        if ! mi "$dest"; then
                echo "nothing is mounted on $dest:" >"$T/why"
                not_ok "$desc" "$T/why" "$T/mi"
                return
        fi
        miss=$(mi_misses "$words")
        if [ -z "$miss" ]; then
                ok "$desc"
        else
                printf '%s: %s [%s] %s %s\nnot as wanted:%s\n' "$dest" "$MI_OPTS" "$MI_TAGS" "$MI_FS" "$MI_SUPER" \
                        "$miss" >"$T/why"
                not_ok "$desc" "$T/why"
        fi
}

# mnts_are DEST MIN WORDS DESC: DEST and every mount below it (at least MIN of them, DEST
# included) satisfy WORDS.
mnts_are() {
        local dest=$1 min=$2 words=$3 desc=$4 line n=0 miss bad=
        while IFS= read -r line; do
                mi_line "$line"
                n=$((n + 1))
                miss=$(mi_misses "$words")
                [ -z "$miss" ] || bad="$bad$(echo "$line" | cut -d' ' -f5,6,7) -- not as wanted:$miss"$'\n'
        done < <(awk -v d="$dest" '$5 == d || index($5, d "/") == 1' "$T/mi")
        if [ "$n" -ge "$min" ] && [ -z "$bad" ]; then
                ok "$desc"
        else
                printf '%d mounts at or below %s (wanted at least %d)\n%s' "$n" "$dest" "$min" "$bad" >"$T/why"
                not_ok "$desc" "$T/why"
        fi
}

# mapped uid|gid ID: the bundle's user namespace maps container ID (always, without one).
mapped() {
        jq -e --argjson id "$2" '(.linux.namespaces | map(.type) | index("user")) == null
                or any(.linux.'"$1"'Mappings[]?; .containerID <= $id and $id < .containerID + .size)' \
                "$B/config.json" >/dev/null
}

# host_id uid|gid ID: the id that container ID is outside, as the bundle maps it.
host_id() {
        jq -r --argjson id "$2" 'first(.linux.'"$1"'Mappings[]?
                | select(.containerID <= $id and $id < .containerID + .size) | .hostID + $id - .containerID) // $id' \
                "$B/config.json"
}

# host_dev PATH: major:minor of the host's mount on PATH (as the test sees it).
host_dev() {
        awk -v d="$1" '$5 == d { dev = $3 } END { print dev }' /proc/self/mountinfo
}

# fail_names DESC FRAGMENT [BUNDLE]: the last run failed with one "urun: " line naming FRAGMENT,
# and left nothing behind.
fail_names() {
        local desc=$1 frag=$2 bundle=${3:-$B} lines
        lines=$(wc -l <"$T/err")
        if [ "$RC" != 0 ] && [ "$RC" != 124 ] && [ "$lines" = 1 ] && grep -q '^urun: ' "$T/err" &&
                grep -qF -- "$frag" "$T/err"; then
                ok "$desc"
        else
                echo "exit status $RC, $lines stderr line(s); wanted non-zero and one 'urun: ' line with '$frag'" >"$T/why"
                not_ok "$desc" "$T/why" "$T/all"
        fi
        left_nothing "$ID" "$bundle" "$desc: nothing left behind"
}

# run_fails DESC FRAGMENT: a fresh container of $B (running /payload exit 0) fails to start with one
# line naming FRAGMENT.
run_fails() {
        set_args "$B" /payload exit 0
        new_id
        run urun run --bundle "$B" "$ID"
        fail_names "$1" "$2"
}

# res_is KEY WANT DESC: the probe printed the line "KEY=WANT".
res_is() {
        is "$(awk -v k="$1=" 'index($0, k) == 1 { print substr($0, length(k) + 1); exit }' "$T/res")" "$2" "$3"
}

# Shell functions for the probes. try NAME CMD...: prints NAME=ok or NAME=failed.
# atime READ_PATH WRITE_PATH: sets the file's atime a day ahead, then two days back (through
# WRITE_PATH), reads it through READ_PATH after each and prints whether the read updated it:
# noatime keeps both, relatime updates only the old one, strictatime both.
SH_LIB='try() { n=$1; shift; if "$@" >/dev/null 2>&1; then echo "$n=ok"; else echo "$n=failed"; fi; }
atime() {
        now=$(date +%s); res=""
        for w in future:$((now + 86400)) old:$((now - 172800)); do
                touch -a -d "@${w#*:}" "$2"; cat "$1" >/dev/null
                if [ "$(stat -c %X "$2")" = "${w#*:}" ]; then res="$res ${w%%:*}=kept"; else res="$res ${w%%:*}=updated"; fi
        done
        echo "atime $1:$res"
}
'

# --- 1. the classic options on tmpfs -------------------------------------------------------------

mounts_add '[
        {"destination": "/t-ro", "type": "tmpfs", "source": "tmpfs", "options": ["ro", "nosuid", "nodev", "noexec"]},
        {"destination": "/t-no", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "noexec", "noatime", "nodiratime", "nosymfollow", "sync", "dirsync",
                     "lazytime", "size=1m", "mode=0710", "nr_inodes=64"]},
        {"destination": "/t-strict", "type": "tmpfs", "source": "tmpfs", "options": ["strictatime", "mode=1777"]},
        {"destination": "/t-later", "type": "tmpfs", "source": "tmpfs",
         "options": ["ro", "rw", "nosuid", "suid", "noexec", "exec", "nosymfollow", "symfollow", "relatime"]}]'
probe "tmpfs options: the container runs" "$SH_LIB"'
        try write-ro touch /t-ro/f
        for d in /t-no /t-later; do
                echo data >$d/f; ln -s f $d/link; cp /payload $d/p
                try "follow$d" cat $d/link
                try "readlink$d" readlink $d/link
                try "exec$d" $d/p exit 0
        done
        echo data >/t-strict/f
        try fill dd if=/dev/zero of=/t-no/big bs=1024 count=2048
        atime /t-no/f /t-no/f; atime /t-strict/f /t-strict/f; atime /t-later/f /t-later/f
        echo "mode=$(stat -c %a /t-no) $(stat -c %a /t-strict)"'
mnt_is /t-ro "ro nosuid nodev noexec" "tmpfs ro,nosuid,nodev,noexec: all four per-mount flags in mountinfo"
res_is write-ro failed "tmpfs ro: creating a file fails"
mnt_is /t-no "rw nosuid nodev noexec noatime nodiratime nosymfollow !relatime" \
        "tmpfs nosuid,nodev,noexec,noatime,nodiratime,nosymfollow: per-mount flags in mountinfo"
mnt_is /t-no "sb:sync sb:dirsync sb:lazytime sb:size=1024k sb:mode=710 sb:nr_inodes=64" \
        "tmpfs sync,dirsync,lazytime and the data size=,mode=,nr_inodes=: superblock options in mountinfo"
res_is follow/t-no failed "tmpfs nosymfollow: a symlink on the mount is not followed"
res_is readlink/t-no ok "tmpfs nosymfollow: the symlink itself can still be read"
res_is exec/t-no failed "tmpfs noexec: a program on the mount cannot be executed"
like "$T/res" '^atime /t-no/f: future=kept old=kept$' "tmpfs noatime: reading never updates the atime"
mnt_is /t-strict "!relatime !noatime" "tmpfs strictatime: neither relatime nor noatime in mountinfo"
like "$T/res" '^atime /t-strict/f: future=updated old=updated$' "tmpfs strictatime: every read updates the atime"
like "$T/res" '^mode=710 1777$' "tmpfs mode=: the root directory has the mode asked for"
res_is fill failed "tmpfs size=1m: writing 2 MiB fails"
mnt_is /t-later "rw !nosuid !noexec !nosymfollow relatime" \
        "tmpfs: the later word wins (ro,rw nosuid,suid noexec,exec nosymfollow,symfollow)"
res_is follow/t-later ok "tmpfs symfollow after nosymfollow: symlinks are followed"
res_is exec/t-later ok "tmpfs exec after noexec: programs run"
like "$T/res" '^atime /t-later/f: future=kept old=updated$' \
        "tmpfs relatime: only an atime older than mtime/ctime or a day is updated"

# uid=/gid= are filesystem data: a uid the container's user namespace maps is taken, any other is
# refused by the kernel (EINVAL), with the mount named.
# (mountinfo shows them as the caller's user namespace sees them.)
mounts_add '[{"destination": "/t-own", "type": "tmpfs", "source": "tmpfs",
              "options": ["uid=1000", "gid=1000", "mode=0700"]}]'
if mapped uid 1000 && mapped gid 1000; then
        probe "tmpfs uid=1000,gid=1000 (mapped): the container runs" 'stat -c "owner=%u:%g:%a" /t-own'
        res_is owner 1000:1000:700 "tmpfs uid=,gid=,mode=: the root directory is 1000:1000 0700"
        mnt_is /t-own "sb:uid=$(host_id uid 1000) sb:gid=$(host_id gid 1000)" \
                "tmpfs uid=,gid=: in the superblock options (as ids outside)"
else
        skip "tmpfs uid=1000,gid=1000 (mapped)" "the user namespace maps only the caller's id"
fi
cfg "$B" '.linux.uidMappings |= (.[:1]? // null) | .linux.gidMappings |= (.[:1]? // null)'
if mapped uid 1000; then
        skip "tmpfs uid=1000 unmapped: refused" "root mode has no user namespace"
        skip "tmpfs uid=1000 unmapped: nothing left behind" "as above"
else
        run_fails "tmpfs uid=1000 unmapped in a single-id user namespace: refused" "mounts[$NBASE] (/t-own)"
fi
mounts_add '[{"destination": "/t-bad", "type": "tmpfs", "source": "tmpfs", "options": ["urun_no_such_option=1"]}]'
run_fails "tmpfs with an option it does not know: refused" "mounts[$NBASE] (/t-bad)"

# --- 2. the classic options on bind mounts -------------------------------------------------------

HD=$T/hostdir
mkdir -p "$HD/sub"
echo host-file >"$HD/f"
ln -s f "$HD/link"
cp "$PAYLOAD" "$HD/p"
mounts_add '[
        {"destination": "/b-ro", "type": "bind", "source": $hd,
         "options": ["bind", "ro", "nosuid", "nodev", "noexec", "nosymfollow"]},
        {"destination": "/b-rw", "type": "bind", "source": $hd, "options": ["bind", "rw"]},
        {"destination": "/b-null", "type": "bind", "source": "/dev/null", "options": ["bind", "nodev"]},
        {"destination": "/ta", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/b-noatime", "type": "bind", "source": $ta, "options": ["bind", "noatime", "nodiratime"]},
        {"destination": "/b-strict", "type": "bind", "source": $ta, "options": ["bind", "strictatime"]}]' \
        --arg hd "$HD" --arg ta "$B/rootfs/ta"
# bind_options API: the probe of these binds, with the mount API (open_tree, mount_setattr) or
# without it (URUN_TEST_NO_MOUNT_API=1: mount(MS_BIND), then MS_REMOUNT with the flags it has).
bind_options() {
        local api=$1
        rm -f "$HD/new"
        probe "bind options ($api): the container runs" "$SH_LIB"'
                try read-ro cat /b-ro/f; try write-ro touch /b-ro/new
                try follow-ro cat /b-ro/link; try readlink-ro readlink /b-ro/link; try exec-ro /b-ro/p exit 0
                try write-rw touch /b-rw/new; try follow-rw cat /b-rw/link; try exec-rw /b-rw/p exit 0
                try write-nodev sh -c "echo x >/b-null"; try write-devnull sh -c "echo x >/dev/null"
                echo data >/ta/f
                atime /b-noatime/f /ta/f; atime /b-strict/f /ta/f'
        mnt_is /b-ro "ro nosuid nodev noexec nosymfollow" "bind ro,nosuid,nodev,noexec,nosymfollow ($api): all in mountinfo"
        res_is read-ro ok "bind ro ($api): the host file is readable"
        res_is write-ro failed "bind ro ($api): creating a file fails"
        res_is follow-ro failed "bind nosymfollow ($api): a symlink on the mount is not followed"
        res_is readlink-ro ok "bind nosymfollow ($api): the symlink itself can be read"
        res_is exec-ro failed "bind noexec ($api): the program on the mount cannot be executed"
        mnt_is /b-rw "rw !nosuid !nodev !noexec !nosymfollow" "bind rw ($api): no flag added"
        res_is write-rw ok "bind rw ($api): writable"
        [ -f "$HD/new" ]
        result $? "bind rw ($api): the file created inside is in the host directory"
        res_is follow-rw ok "bind without nosymfollow ($api): the same symlink is followed"
        res_is exec-rw ok "bind without noexec ($api): the same program runs"
        mnt_is /b-null nodev "bind nodev of a device file ($api): nodev in mountinfo"
        res_is write-nodev failed "bind nodev ($api): the bound /dev/null cannot be opened"
        res_is write-devnull ok "the container's own /dev/null still works ($api)"
        mnt_is /b-noatime "noatime nodiratime !relatime" "bind noatime,nodiratime ($api): in mountinfo"
        like "$T/res" '^atime /b-noatime/f: future=kept old=kept$' \
                "bind noatime ($api): reads through it never update the atime"
        mnt_is /b-strict "!relatime !noatime" "bind strictatime ($api): neither relatime nor noatime in mountinfo"
        like "$T/res" '^atime /b-strict/f: future=updated old=updated$' \
                "bind strictatime ($api): every read through it updates the atime"
}
bind_options "mount API"
URUN_TEST_NO_MOUNT_API=1 bind_options "legacy mount(2)"

ATIME_LOCKED="in a user namespace the kernel locks the atime flags of host mounts (MNT_LOCK_ATIME)"
# An atime mode on a bind of a host directory: the kernel locks the atime flags of mounts that came
# from a more privileged mount namespace (MNT_LOCK_ATIME), so only root without a user namespace
# may change them; above, the source was a tmpfs of the container's own.
if [ "$TEST_MODE" = root ]; then
        mounts_add '[{"destination": "/b-host-noatime", "type": "bind", "source": $hd, "options": ["bind", "noatime"]}]' \
                --arg hd "$HD"
        probe "bind noatime of a host directory (root): the container runs"
        mnt_is /b-host-noatime "noatime !relatime" "bind noatime of a host directory (root): in mountinfo"
else
        skip "bind noatime of a host directory" "$ATIME_LOCKED"
        skip "bind noatime of a host directory: in mountinfo" "as above"
fi

# nosuid, by what it does: a setuid-root program run by uid 1000 gets euid 0 only without it.
SD=$T/suiddir
mkdir -p "$SD"
cp "$PAYLOAD" "$SD/p"
chmod 4755 "$SD/p"
mounts_add '[{"destination": "/s-suid", "type": "bind", "source": $sd, "options": ["bind"]},
             {"destination": "/s-nosuid", "type": "bind", "source": $sd, "options": ["bind", "nosuid"]}]' --arg sd "$SD"
cfg "$B" '.process.user = {"uid": 1000, "gid": 1000} | .process.noNewPrivileges = false'
if ! mapped uid 1000 || ! mapped gid 1000; then
        skip "nosuid: a setuid program" "uid 1000 is not mapped (single-id user namespace)"
        skip "nosuid: euid without nosuid" "as above"
        skip "nosuid: euid with nosuid" "as above"
elif grep -Eq '^NoNewPrivs:[[:space:]]+1$' /proc/self/status; then
        skip "nosuid: a setuid program" "the test shell runs with no_new_privs"
        skip "nosuid: euid without nosuid" "as above"
        skip "nosuid: euid with nosuid" "as above"
else
        probe "nosuid: a setuid program run by uid 1000: the container runs" '
                for d in /s-suid /s-nosuid; do echo "$d $($d/p cat /proc/self/status | grep ^Uid:)"; done'
        like "$T/res" '^/s-suid Uid:[[:space:]]+1000[[:space:]]+0[[:space:]]' "without nosuid the setuid bit gives euid 0"
        like "$T/res" '^/s-nosuid Uid:[[:space:]]+1000[[:space:]]+1000[[:space:]]' "with nosuid it does not (euid 1000)"
fi

# --- 3. the recursive family on a tree with submounts ----------------------------------------------

# The tree: tmpfs mounts of the container's own at /rs, /rs/sub and /rs/sub/deep, bound again from
# their host path (the bundle's rootfs, seen in the container's mount namespace).
RS=$B/rootfs/rs
TREE='[{"destination": "/rs", "type": "tmpfs", "source": "tmpfs"},
       {"destination": "/rs/sub", "type": "tmpfs", "source": "tmpfs"},
       {"destination": "/rs/sub/deep", "type": "tmpfs", "source": "tmpfs"}]'
mounts_add "$TREE"' + [
        {"destination": "/r-all", "type": "bind", "source": $rs,
         "options": ["rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow", "rnodiratime"]},
        {"destination": "/r-noatime", "type": "bind", "source": $rs, "options": ["rbind", "rnoatime"]},
        {"destination": "/r-strict", "type": "bind", "source": $rs, "options": ["rbind", "rstrictatime"]},
        {"destination": "/r-rel", "type": "bind", "source": $rnoatime, "options": ["rbind", "rrelatime"]},
        {"destination": "/r-ro", "type": "bind", "source": $rs, "options": ["rbind", "ro"]},
        {"destination": "/r-bind", "type": "bind", "source": $rs, "options": ["bind"]},
        {"destination": "/r-dev", "type": "bind", "source": "/dev",
         "options": ["rbind", "rro", "rnosuid", "rnodev", "rnoexec", "rnosymfollow"]}]' \
        --arg rs "$RS" --arg rnoatime "$B/rootfs/r-noatime"
probe "recursive options: the container runs" "$SH_LIB"'
        echo data >/rs/sub/deep/f; ln -s f /rs/sub/deep/link; cp /payload /rs/sub/deep/p
        try write-all touch /r-all/sub/deep/new
        try follow-all cat /r-all/sub/deep/link; try follow-rs cat /rs/sub/deep/link
        try exec-all /r-all/sub/deep/p exit 0; try exec-rs /rs/sub/deep/p exit 0
        atime /r-noatime/sub/deep/f /rs/sub/deep/f; atime /r-strict/sub/deep/f /rs/sub/deep/f
        atime /r-rel/sub/deep/f /rs/sub/deep/f
        try write-ro-top touch /r-ro/new; try write-ro-sub touch /r-ro/sub/new; try write-ro-deep touch /r-ro/sub/deep/new'
mnts_are /r-all 3 "ro nosuid nodev noexec nosymfollow nodiratime" \
        "rbind rro,rnosuid,rnodev,rnoexec,rnosymfollow,rnodiratime: on every submount"
res_is write-all failed "rro: a submount two levels down is read-only"
res_is follow-all failed "rnosymfollow: a symlink two levels down is not followed"
res_is follow-rs ok "rnosymfollow: the same symlink is followed through the source tree"
res_is exec-all failed "rnoexec: a program two levels down cannot be executed"
res_is exec-rs ok "rnoexec: the same program runs from the source tree"
mnts_are /r-noatime 3 "noatime !relatime" "rbind rnoatime: on every submount"
like "$T/res" '^atime /r-noatime/sub/deep/f: future=kept old=kept$' \
        "rnoatime: a read two levels down never updates the atime"
mnts_are /r-strict 3 "!noatime !relatime" "rbind rstrictatime: on every submount"
like "$T/res" '^atime /r-strict/sub/deep/f: future=updated old=updated$' \
        "rstrictatime: every read two levels down updates the atime"
mnts_are /r-rel 3 "relatime !noatime" "rbind rrelatime of a noatime tree: relatime again on every submount"
like "$T/res" '^atime /r-rel/sub/deep/f: future=kept old=updated$' "rrelatime: relatime rules two levels down"
# runc: "ro" on an rbind makes only the top read-only; rro is the recursive one (runc's
# tests/integration/mounts_recursive.bats "rbind,ro mount is read-only but not recursively").
mnt_is /r-ro ro "rbind,ro: the top mount is read-only"
mnts_are /r-ro/sub 2 "rw" "rbind,ro: the submounts stay read-write (as runc)"
res_is write-ro-top failed "rbind,ro: writing the top fails"
res_is write-ro-sub ok "rbind,ro: writing a submount works (as runc)"
res_is write-ro-deep ok "rbind,ro: writing a submount two levels down works (as runc)"
mnts_are /r-bind 1 "rw" "bind (not rbind): the top is bound"
! mi /r-bind/sub
result $? "bind (not rbind): no submount comes along" "$T/mi"
# /dev/pts and /dev/shm of the host are mounted below /dev (two stacked mounts each here)
mnts_are /r-dev 3 "ro nosuid nodev noexec nosymfollow" \
        "rbind of the host's /dev with rro,rnosuid,rnodev,rnoexec,rnosymfollow: every submount"

if [ "$TEST_MODE" = root ]; then
        mounts_add '[{"destination": "/r-sys", "type": "bind", "source": "/sys",
                      "options": ["rbind", "rnoatime", "rnodiratime", "rro"]}]'
        probe "rbind of the host's /sys with rnoatime,rnodiratime,rro (root): the container runs"
        mnts_are /r-sys 3 "ro noatime nodiratime" "rbind of the host's /sys with rnoatime,rnodiratime,rro: every submount"
else
        skip "rbind of the host's /sys with rnoatime" "$ATIME_LOCKED"
        skip "rbind of the host's /sys with rnoatime: every submount" "as above"
fi

# --- 4. propagation --------------------------------------------------------------------------------

PS=$B/rootfs/p-shared
mounts_add '[
        {"destination": "/p-shared", "type": "tmpfs", "source": "tmpfs", "options": ["shared"]},
        {"destination": "/p-shared/sub", "type": "tmpfs", "source": "tmpfs"},
        {"destination": "/p-peer", "type": "bind", "source": $ps, "options": ["bind"]},
        {"destination": "/p-slave", "type": "bind", "source": $ps, "options": ["bind", "slave"]},
        {"destination": "/p-rslave", "type": "bind", "source": $ps, "options": ["rbind", "rslave"]},
        {"destination": "/p-private", "type": "bind", "source": $ps, "options": ["bind", "private"]},
        {"destination": "/p-rprivate", "type": "bind", "source": $ps, "options": ["rbind", "rprivate"]},
        {"destination": "/p-runbindable", "type": "bind", "source": $ps, "options": ["rbind", "runbindable"]},
        {"destination": "/p-rshared", "type": "tmpfs", "source": "tmpfs", "options": ["rshared"]},
        {"destination": "/p-unbindable", "type": "tmpfs", "source": "tmpfs", "options": ["unbindable"]}]' --arg ps "$PS"
probe "propagation options: the container runs"
mnt_is /p-shared tag:shared: "shared: the mount has a shared:N peer group"
SHARED_ID=$(mi /p-shared && echo "$MI_TAGS" | sed -n 's/.*shared:\([0-9]*\).*/\1/p')
mnt_is /p-shared/sub tag:shared: "a mount below a shared mount is shared too"
SUB_ID=$(mi /p-shared/sub && echo "$MI_TAGS" | sed -n 's/.*shared:\([0-9]*\).*/\1/p')
mnt_is /p-peer "tag:shared:$SHARED_ID" "a bind of a shared mount joins its peer group"
mnt_is /p-slave "tag:master:$SHARED_ID !tag:shared" "slave: the bind of a shared mount receives from it (master:N)"
mnt_is /p-rslave "tag:master:$SHARED_ID" "rslave: the top of the rbind is a slave of the source"
mnt_is /p-rslave/sub "tag:master:$SUB_ID" "rslave: the submount is a slave of the source's submount"
mnt_is /p-private notag "private: the bind of a shared mount is private"
mnts_are /p-rprivate 2 notag "rprivate: the rbind of a shared tree is private throughout"
mnts_are /p-runbindable 2 tag:unbindable "runbindable: the rbind of a shared tree is unbindable throughout"
mnt_is /p-rshared tag:shared: "rshared: shared"
mnt_is /p-unbindable tag:unbindable "unbindable: in mountinfo"

mounts_add '[{"destination": "/p-unbindable", "type": "tmpfs", "source": "tmpfs", "options": ["unbindable"]},
             {"destination": "/p-bound", "type": "bind", "source": $u, "options": ["bind"]}]' \
        --arg u "$B/rootfs/p-unbindable"
run_fails "a bind of an unbindable mount: refused" "mounts[$((NBASE + 1))] (/p-bound)"

for prop in shared:tag:shared: unbindable:tag:unbindable private:notag slave:!tag:shared:; do
        reset
        cfg "$B" '.linux.rootfsPropagation = $p' --arg p "${prop%%:*}"
        probe "rootfsPropagation ${prop%%:*}: the container runs"
        mnt_is / "${prop#*:}" "rootfsPropagation ${prop%%:*}: the container's / is ${prop#*:}"
done
reset
cfg "$B" '.linux.rootfsPropagation = "sideways"'
run_fails "rootfsPropagation with an unknown value: refused" "linux.rootfsPropagation"

# --- 5. flags the kernel locked in the user namespace -------------------------------------------------

# A tmpfs mounted nosuid,nodev,noexec in a mount namespace of our own, then bound into a container
# with a user namespace of its own: the kernel locks the three flags (MNT_LOCK_NOSUID...) in the
# container's copy. A read-only bind must keep them (a remount that drops one is EPERM).
LK=$T/locked
mkdir -p "$LK"
BL=$T/bl
make_bundle "$BL"
mkdir "$BL/rootfs/l-ro" "$BL/rootfs/l-rw" # root mode: the container's root may not create them
cfg "$BL" '.mounts += [{"destination": "/l-ro", "type": "bind", "source": $lk, "options": ["bind", "ro"]},
                       {"destination": "/l-rw", "type": "bind", "source": $lk, "options": ["bind"]}]' --arg lk "$LK"
case "$TEST_MODE" in
root)
        LOCK_WRAP=(unshare -m --propagation private)
        cfg "$BL" '.linux.namespaces |= (map(select(.type != "user")) + [{"type": "user"}])
                   | .linux.uidMappings = [{"containerID": 0, "hostID": 300000, "size": 65536}]
                   | .linux.gidMappings = [{"containerID": 0, "hostID": 300000, "size": 65536}]
                   | .mounts |= map(select(.type != "cgroup"))'
        ;;
userns)
        LOCK_WRAP=(unshare -m --propagation private)
        ;;
*)
        # An unprivileged user can only mount in a user namespace of its own, where urun runs as
        # its root (as in userns mode) and maps that id.
        diag "rootless: the locked-flags tests run urun inside unshare -Urm (its root maps the caller)"
        LOCK_WRAP=(unshare -Urm --propagation private)
        cfg "$BL" '.linux.uidMappings = [{"containerID": 0, "hostID": 0, "size": 1}]
                   | .linux.gidMappings = [{"containerID": 0, "hostID": 0, "size": 1}]'
        ;;
esac
set_args "$BL" /bin/sh -c 'cat /proc/self/mountinfo; echo "--- probe"; cat /l-ro/f; touch /l-ro/new 2>&1
        touch /l-rw/new && echo rw-writable; /l-rw/p exit 0 2>&1; true'
# locked_run ENV...: run the bundle $BL inside LOCK_WRAP, after mounting the tmpfs on $LK there.
locked_run() {
        new_id
        run "${LOCK_WRAP[@]}" sh -c 'mount -t tmpfs -o nosuid,nodev,noexec,size=1m urun-locked "$1" &&
                echo locked >"$1/f" && cp "$2" "$1/p" && shift 2 && exec env "$@"' sh "$LK" "$PAYLOAD" "$@" \
                "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} run --bundle "$BL" "$ID"
        split_probe
}
for api in mount_setattr legacy; do
        env=()
        [ "$api" = legacy ] && env=(URUN_TEST_NO_MOUNT_API=1)
        locked_run "${env[@]}"
        result "$RC" "locked flags ($api): a ro bind of a nosuid,nodev,noexec mount of a more privileged namespace works" \
                "$T/all"
        mnt_is /l-ro "ro nosuid nodev noexec" "locked flags ($api): the ro bind keeps nosuid,nodev,noexec"
        mnt_is /l-rw "rw nosuid nodev noexec" "locked flags ($api): a plain bind keeps them too"
        like "$T/res" '^locked$' "locked flags ($api): the file on it is readable"
        like "$T/res" 'Read-only file system' "locked flags ($api): writing the ro bind fails with EROFS"
        like "$T/res" '^rw-writable$' "locked flags ($api): the plain bind is writable"
        like "$T/res" 'Permission denied' "locked flags ($api): the kept noexec refuses the program"
done

# --- 6. bind mounts of files, directories, symlinks, sockets and FIFOs ------------------------------

echo source-file >"$T/srcfile"
ln -s "$HD" "$T/dirlink"
ln -s "$T/srcfile" "$T/filelink"
OUT=$T/outside
mkdir -p "$OUT"
ln -s "$OUT/target" "$B/rootfs/escape"
rm -rf "$B/rootfs/new"
mkdir -p "$B/relsrc"
echo relative >"$B/relsrc/f"
mounts_add '[
        {"destination": "/new/dir/deep", "type": "bind", "source": $hd, "options": ["bind"]},
        {"destination": "/new/file/deep.txt", "type": "bind", "source": $f, "options": ["bind"]},
        {"destination": "/via-dirlink", "type": "bind", "source": $dl, "options": ["rbind"]},
        {"destination": "/via-filelink", "type": "bind", "source": $fl, "options": ["bind"]},
        {"destination": "/escape", "type": "bind", "source": $f, "options": ["bind"]},
        {"destination": "/rel", "type": "bind", "source": "relsrc", "options": ["bind"]}]' \
        --arg hd "$HD" --arg f "$T/srcfile" --arg dl "$T/dirlink" --arg fl "$T/filelink"
probe "bind of files and directories to missing targets: the container runs" '
        for p in /new/dir/deep /new/file/deep.txt /via-dirlink /via-filelink /escape; do
                echo "$p $(/payload stat $p | sed "s/.*type=//")"; done
        echo "content $(cat /new/dir/deep/f) $(cat /new/file/deep.txt) $(cat /via-dirlink/f)" \
                "$(cat /via-filelink) $(cat /escape)"
        echo "relative $(cat /rel/f)"'
like "$T/res" '^/new/dir/deep dir$' "a missing target of a directory bind is created as a directory"
like "$T/res" '^/new/file/deep.txt file$' "a missing target of a file bind is created as a file"
like "$T/res" '^/via-dirlink dir$' "a source that is a symlink to a directory is followed"
like "$T/res" '^/via-filelink file$' "a source that is a symlink to a file is followed (the target is a file)"
like "$T/res" '^content host-file source-file host-file source-file source-file$' "every bind shows its source's content"
like "$T/res" '^relative relative$' "a relative bind source is relative to the bundle (OCI)"
[ -d "$B/rootfs/new/dir/deep" ] && [ -f "$B/rootfs/new/file/deep.txt" ] && [ ! -s "$B/rootfs/new/file/deep.txt" ]
result $? "the created targets are in the rootfs: a directory and an empty file"
[ ! -e "$OUT/target" ] && [ -f "$B/rootfs$OUT/target" ]
result $? "a target that is a symlink to a host path is created inside the rootfs, not on the host"
mnt_is "$OUT/target" "rw" "inside, the file bind through the symlink is mounted where the symlink points, in the rootfs"

# A FIFO and a unix socket are bound as files and stay usable.
mkfifo "$T/fifo"
cat >"$T/dgram.pl" <<'EOF'
use Socket;
my ($path, $out) = @ARGV;
socket(my $s, AF_UNIX, SOCK_DGRAM, 0) or die "socket: $!\n";
bind($s, pack_sockaddr_un($path)) or die "bind $path: $!\n";
defined(recv($s, my $msg, 4096, 0)) or die "recv: $!\n";
open(my $f, ">", $out) or die "$out: $!\n";
print $f $msg, "\n";
EOF
background perl "$T/dgram.pl" "$T/log.sock" "$T/logged"
SOCK_PID=$BG_PID
wait_until 10 test -S "$T/log.sock"
result $? "a unix datagram socket listens on the host" "$T/log.sock"
background sh -c 'echo through-the-fifo >"$1"' sh "$T/fifo"
FIFO_PID=$BG_PID
mounts_add '[{"destination": "/fifo", "type": "bind", "source": $fifo, "options": ["bind"]},
             {"destination": "/dev/log", "type": "bind", "source": $sock, "options": ["bind"]}]' \
        --arg fifo "$T/fifo" --arg sock "$T/log.sock"
probe "bind of a FIFO and a unix socket: the container runs" '
        echo "types $(/payload stat /fifo | sed "s/.*type=//") $(/payload stat /dev/log | sed "s/.*type=//")"
        echo "fifo $(cat /fifo)"; logger -t urun-test through-the-socket && echo logged'
like "$T/res" '^types fifo socket$' "the FIFO and the socket keep their types inside"
if grep -q '^fifo through-the-fifo$' "$T/res"; then
        ok "what the host writes into the FIFO is read inside"
        wait_bg "$FIFO_PID"
else
        not_ok "what the host writes into the FIFO is read inside" "$T/res"
        kill "$FIFO_PID" 2>/dev/null
fi
like "$T/res" '^logged$' "logger inside sends to the bound socket"
if wait_bg "$SOCK_PID"; then
        like "$T/logged" 'urun-test.*through-the-socket' "the host receives the datagram sent inside"
else
        not_ok "the host receives the datagram sent inside" "$T/res"
fi

mounts_add '[{"destination": "/m", "type": "bind", "source": $s, "options": ["bind"]}]' --arg s "$T/no-such-source"
run_fails "a missing bind source: refused" "mounts[$NBASE] (/m)"
ln -s "$T/nothing-here" "$T/dangling"
mounts_add '[{"destination": "/m", "type": "bind", "source": $s, "options": ["bind"]}]' --arg s "$T/dangling"
run_fails "a bind source that is a dangling symlink: refused" "mounts[$NBASE] (/m)"

# --- 7. root.readonly with the kernel filesystems and tmpfs mounts ----------------------------------

mounts_add '[{"destination": "/tmp", "type": "tmpfs", "source": "tmpfs", "options": ["nosuid", "nodev"]}]'
cfg "$B" '.root.readonly = true'
probe "root.readonly: the container runs" "$SH_LIB"'
        try write-root touch /newfile; try write-dev touch /dev/newfile; try write-shm touch /dev/shm/f
        try write-tmp touch /tmp/f; try ptmx sh -c "exec 3<>/dev/ptmx && test -c /dev/pts/0"
        try proc grep -q "^Name:" /proc/self/status; try mqueue touch /dev/mqueue/q'
mnt_is / "ro" "root.readonly: the container's / is read-only in mountinfo"
res_is write-root failed "root.readonly: writing / fails"
mnt_is /dev "rw sb:mode=755" "root.readonly: /dev is a read-write tmpfs"
res_is write-dev ok "root.readonly: /dev is writable"
res_is write-shm ok "root.readonly: /dev/shm is writable"
res_is write-tmp ok "root.readonly: a tmpfs mount is writable"
res_is ptmx ok "root.readonly: /dev/ptmx gives a pty in /dev/pts"
res_is proc ok "root.readonly: /proc works"
res_is mqueue ok "root.readonly: /dev/mqueue works"
mnt_is /sys "ro" "root.readonly: /sys is read-only"
[ ! -e "$B/rootfs/newfile" ]
result $? "root.readonly: nothing was written to the rootfs"

# --- 8. /sys ---------------------------------------------------------------------------------------

reset
# Opening a cgroup file for writing (nothing is written) must fail: EROFS or EACCES. (busybox's
# test -w answers yes for root without asking the kernel.)
probe "/sys: the container runs" "$SH_LIB"'
        for f in /sys/fs/cgroup/cgroup.procs /sys/fs/cgroup/unified/cgroup.procs /sys/fs/cgroup/pids/cgroup.procs; do
                [ -f $f ] && { echo "cgroup-file=$f"; try cgroup-writable /payload openw $f; break; }
        done'
HOST_SYS=$(host_dev /sys)
if jq -e '.linux.namespaces | map(.type) | index("network")' "$B/config.json" >/dev/null; then
        mi /sys
        [ "$MI_FS" = sysfs ] && [ "$MI_DEV" != "$HOST_SYS" ]
        result $? "/sys with a network namespace: a fresh sysfs ($MI_FS $MI_DEV, the host's is $HOST_SYS)" "$T/mi"
        mnt_is /sys "ro nosuid nodev noexec" "/sys with a network namespace: ro,nosuid,nodev,noexec"
else
        mi /sys
        [ "$MI_DEV" = "$HOST_SYS" ] && [ "$MI_ROOT" = / ]
        result $? "/sys without a network namespace: the host's /sys bound ($MI_DEV, the host's is $HOST_SYS)" "$T/mi"
        mnt_is /sys "ro nosuid nodev noexec" "/sys without a network namespace: ro,nosuid,nodev,noexec"
        # the config's "rbind,ro" of /sys: its submounts (the host's cgroup hierarchies, where the
        # user's own cgroups belong to the container's root) are read-only too
        if jq -e '.mounts[] | select(.destination == "/sys") | .options | index("rbind") and index("ro")' \
                "$B/config.json" >/dev/null; then
                mnts_are /sys 3 "ro" "/sys rbind,ro: every submount read-only, /sys/fs/cgroup included"
        else
                skip "/sys rbind,ro: every submount read-only" "the config does not bind /sys with rbind,ro here"
        fi
fi
res_is cgroup-writable failed "/sys/fs/cgroup is not writable ($(awk -F= '/^cgroup-file=/ { print $2 }' "$T/res"))"

# A sysfs mount in a container without a network namespace: the kernel refuses a fresh one in a
# user namespace; urun binds the host's /sys read-only, every submount included.
reset
cfg "$B" '.mounts |= map(if .destination == "/sys" then {"destination": "/sys", "type": "sysfs", "source": "sysfs",
                                                         "options": ["nosuid", "noexec", "nodev", "ro"]} else . end)
          | .mounts |= map(select(.destination != "/sys/fs/cgroup"))
          | .linux.namespaces |= map(select(.type != "network"))'
if [ "$TEST_MODE" = root ]; then
        probe "type sysfs without a network namespace (root): the container runs"
        mnt_is /sys "ro nosuid nodev noexec" "type sysfs without a network namespace (root): a read-only sysfs"
        skip "type sysfs without a network namespace: every submount read-only" "root may mount sysfs itself"
else
        probe "type sysfs without a network namespace: the container runs"
        mi /sys
        [ "$MI_DEV" = "$HOST_SYS" ]
        result $? "type sysfs without a network namespace: the host's /sys is bound instead" "$T/mi"
        mnts_are /sys 3 "ro" "type sysfs without a network namespace: /sys and every submount read-only"
fi

# --- 9. /proc of a container that joins another's pid namespace -------------------------------------

H=$T/holder
make_bundle "$H" /payload pause
new_id
HOLDER=$ID
expect_rc 0 "/proc: a holder container starts detached" urun run --detach --bundle "$H" "$HOLDER"
HPID=$(urun state "$HOLDER" 2>/dev/null | jq -r .pid)
J=$T/joiner
make_bundle "$J" /bin/sh -c 'cat /proc/1/cmdline | tr "\0" " "; echo; grep " /proc " /proc/self/mountinfo'
cfg "$J" '.linux.namespaces |= map(if .type == "pid" then .path = $p else . end)' --arg p "/proc/$HPID/ns/pid"
HOST_PROC=$(host_dev /proc)
if [ "$TEST_MODE" != root ]; then
        # The holder's user namespace owns its pid namespace: rootless, joining it is refused;
        # in userns mode the caller owns that user namespace and may join, but procfs may be
        # mounted only from the owning user namespace, not from the container's own.
        new_id
        run urun run --bundle "$J" "$ID"
        if [ "$RC" != 0 ] && [ "$(wc -l <"$T/err")" = 1 ] &&
                grep -Eq '^urun: (linux\.namespaces\[pid\]|mounts\[0\] \(/proc\))' "$T/err"; then
                ok "/proc: joining a pid namespace of another user namespace alone: one line naming the field"
        else
                not_ok "/proc: joining a pid namespace of another user namespace alone: one line naming the field" "$T/all"
        fi
        unlike "$T/err" 'needs a new pid namespace' \
                "/proc: the error does not ask for a new pid namespace (one is configured)"
        left_nothing "$ID" "$J" "/proc: the refused join left nothing"
        cfg "$J" '.linux.namespaces |= map(if .type == "user" then .path = $u else . end)
                  | del(.linux.uidMappings) | del(.linux.gidMappings)' --arg u "/proc/$HPID/ns/user"
fi
new_id
run urun run --bundle "$J" "$ID"
result "$RC" "/proc: a container joining the holder's pid namespace runs" "$T/all"
is "$(head -n 1 "$T/out")" "/payload pause " "/proc: pid 1 in its /proc is the holder's program"
dev=$(sed -n 2p "$T/out" | cut -d' ' -f3)
[ -n "$dev" ] && [ "$dev" != "$HOST_PROC" ]
result $? "/proc: it is a fresh procfs ($dev), not the host's ($HOST_PROC)" "$T/out"
expect_rc 0 "/proc: the holder is deleted" urun delete --force "$HOLDER"

# --- 10. /dev/pts, /dev/shm, /dev/mqueue ----------------------------------------------------------

# devpts_probe LABEL: run with gid=5 in the devpts options; a pty belongs to group 5 when the user
# namespace maps it, else gid= is dropped and it belongs to the opener's group (0).
devpts_probe() {
        cfg "$B" '.mounts |= map(if .type == "devpts" then .options = ((.options // []) - ["gid=5"] + ["gid=5"]) else . end)'
        probe "devpts gid=5 ($1): the container runs" "$SH_LIB"'
                exec 3<>/dev/ptmx && echo "pts $(stat -c %g /dev/pts/0)"
                try shm sh -c "echo x >/dev/shm/f"; touch /dev/mqueue/q && cat /dev/mqueue/q'
        if mapped gid 5; then
                mnt_is /dev/pts "sb:mode=620 sb:ptmxmode=666" "devpts gid=5 ($1, mapped): mounted"
                like "$T/res" '^pts 5$' "devpts gid=5 ($1, mapped): a new pty belongs to group 5"
        else
                mnt_is /dev/pts "!sb:gid=5 sb:mode=620 sb:ptmxmode=666" "devpts gid=5 ($1, unmapped): dropped"
                like "$T/res" '^pts 0$' "devpts gid=5 ($1, unmapped): a new pty belongs to the opener's group"
        fi
}
reset
if [ "$TEST_MODE" = root ]; then
        skip "devpts gid=5 (single-id map)" "root mode has no user namespace"
        skip "devpts gid=5 (single-id map): dropped" "as above"
        skip "devpts gid=5 (single-id map): pty group" "as above"
else
        cfg "$B" '.linux.uidMappings |= .[:1] | .linux.gidMappings |= .[:1]'
        devpts_probe "single-id map"
        reset
fi
devpts_probe "the spec's map"
res_is shm ok "/dev/shm is writable"
mnt_is /dev/shm "nosuid nodev noexec sb:size=65536k" "/dev/shm: a tmpfs with nosuid,nodev,noexec and its size"
mnt_is /dev/mqueue "nosuid nodev noexec" "/dev/mqueue: mounted with nosuid,nodev,noexec"
mi /dev/mqueue
is "$MI_FS" mqueue "/dev/mqueue with an ipc namespace: an mqueue filesystem"
like "$T/res" '^QSIZE:0' "/dev/mqueue: a queue created as a file is a message queue"

# Without an ipc namespace the container's user namespace may not mount mqueue: urun binds the
# host's /dev/mqueue, or, when the host has none (as here), warns and mounts nothing.
HOST_MQ=$(host_dev /dev/mqueue)
if [ "$TEST_MODE" = root ]; then
        skip "mqueue without an ipc namespace" "root may mount the host ipc namespace's mqueue itself"
        skip "mqueue without an ipc namespace: the host's /dev/mqueue or nothing" "as above"
else
        reset
        cfg "$B" '.linux.namespaces |= map(select(.type != "ipc"))'
        probe "mqueue without an ipc namespace: the container runs"
        if [ -n "$HOST_MQ" ]; then
                mi /dev/mqueue
                [ "$MI_FS" = mqueue ] && [ "$MI_DEV" = "$HOST_MQ" ]
                result $? "mqueue without an ipc namespace: the host's /dev/mqueue is bound" "$T/mi"
        else
                ! mi /dev/mqueue && grep -q 'mqueue cannot be mounted here and the host has no /dev/mqueue' "$T/err"
                result $? "mqueue without an ipc namespace nor a host /dev/mqueue: urun warns, nothing is mounted" \
                        "$T/err" "$T/mi"
        fi
fi
if [ -z "$HOST_MQ" ]; then
        skip "mqueue without an ipc namespace: binding the host's /dev/mqueue" "the host has no /dev/mqueue mounted"
fi

done_testing
