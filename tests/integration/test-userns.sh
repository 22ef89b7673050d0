#!/bin/bash
# User namespace mappings: the single-id map of the caller (written directly), and a multi-range
# map through newuidmap/newgidmap with the caller's subordinate ids: a file made by container uid
# 1000 in a bind-mounted host dir is owned on the host by the subordinate id that 1000 maps to.
. "$(dirname "$0")/lib.sh"

ME=$(id -u)
MYGID=$(id -g)

# first_subid uid|gid: "START COUNT" of the caller's first subordinate range, or nothing.
first_subid() {
        local flag=
        [ "$1" = gid ] && flag=-g
        if command -v getsubids >/dev/null; then
                getsubids $flag "$(id -un)" 2>/dev/null | awk 'NR == 1 { print $3, $4 }'
        else
                local f=/etc/subuid
                [ "$1" = gid ] && f=/etc/subgid
                awk -F: -v u="$(id -un)" -v n="$ME" '$1 == u || $1 == n { print $2, $3; exit }' "$f" 2>/dev/null
        fi
}

SHARED=$T/shared
mkdir -p "$SHARED"
chmod 1777 "$SHARED"

# --- the default single-id mapping (rootless spec) ---
B=$T/b1
make_bundle "$B" /payload id
add_bind "$B" "$SHARED" /shared
if [ "$TEST_MODE" = root ]; then
        skip "single-id mapping: container root is the caller" "root mode has no user namespace"
else
        new_id
        run urun run --bundle "$B" "$ID"
        like "$T/out" '^uid=0 gid=0' "rootless: the caller is root in the container"
        set_args "$B" /payload write /shared/by-root hello
        new_id
        expect_rc 0 "container root writes into a bind-mounted host dir" urun run --bundle "$B" "$ID"
        if [ "$TEST_MODE" = userns ]; then
                want="0 0"
        else
                want="$ME $MYGID"
        fi
        is "$(stat -c '%u %g' "$SHARED/by-root" 2>&1)" "$want" "the file is owned by the caller on the host"
        is "$(cat "$SHARED/by-root" 2>&1)" hello "the file has the content written in the container"
fi

# --- multi-range mapping through newuidmap/newgidmap ---
B=$T/b2
make_bundle "$B" /payload write /shared/by-1000 multi
add_bind "$B" "$SHARED" /shared
cfg "$B" '.process.user.uid = 1000 | .process.user.gid = 1000'
case "$TEST_MODE" in
root)
        # Root may map anything: use a range of its own (no subordinate ids needed).
        SU_START=300000 SU_COUNT=65536 SG_START=300000 SG_COUNT=65536
        cfg "$B" '.linux.namespaces |= (map(select(.type != "user")) + [{"type": "user"}])
                  | .linux.uidMappings = [{"containerID": 0, "hostID": 300000, "size": 65536}]
                  | .linux.gidMappings = [{"containerID": 0, "hostID": 300000, "size": 65536}]
                  | .mounts |= map(select(.type != "cgroup" and .type != "cgroup2"))'
        WANT_UID=301000 WANT_GID=301000
        ;;
*)
        read -r SU_START SU_COUNT <<<"$(first_subid uid)"
        read -r SG_START SG_COUNT <<<"$(first_subid gid)"
        ;;
esac
if [ "$TEST_MODE" = userns ]; then
        skip "multi-range mapping" "newuidmap cannot map subordinate ids from inside a user namespace"
elif [ -z "${SU_START:-}" ] || [ -z "${SG_START:-}" ] || [ "${SU_COUNT:-0}" -lt 1000 ] ||
        [ "${SG_COUNT:-0}" -lt 1000 ]; then
        skip "multi-range mapping" "$(id -un) has no subordinate ids of 1000 or more in /etc/subuid, /etc/subgid"
else
        if [ "$TEST_MODE" != root ]; then
                cfg "$B" '.linux.uidMappings = [{"containerID": 0, "hostID": $me, "size": 1},
                                                 {"containerID": 1, "hostID": $su, "size": $sun}]
                          | .linux.gidMappings = [{"containerID": 0, "hostID": $mg, "size": 1},
                                                 {"containerID": 1, "hostID": $sg, "size": $sgn}]' \
                        --argjson me "$ME" --argjson mg "$MYGID" --argjson su "$SU_START" \
                        --argjson sun "$SU_COUNT" --argjson sg "$SG_START" --argjson sgn "$SG_COUNT"
                WANT_UID=$((SU_START + 999)) WANT_GID=$((SG_START + 999))
        fi
        new_id
        expect_rc 0 "multi-range mapping: container uid 1000 writes a file" urun run --bundle "$B" "$ID"
        is "$(stat -c '%u %g' "$SHARED/by-1000" 2>&1)" "$WANT_UID $WANT_GID" \
                "on the host the file is owned by the subordinate id $WANT_UID:$WANT_GID"
        set_args "$B" /payload id
        new_id
        run urun run --bundle "$B" "$ID"
        like "$T/out" '^uid=1000 gid=1000' "the process runs as uid 1000 gid 1000"
        cfg "$B" '.process.user.additionalGids = [1001, 1002]'
        new_id
        run urun run --bundle "$B" "$ID"
        like "$T/out" '^uid=1000 gid=1000 groups=1001,1002$' "additionalGids are set (setgroups allowed)"
        cfg "$B" 'del(.process.user.additionalGids)'

        # A mapping outside the caller's ranges is refused, naming the range and the files.
        if [ "$TEST_MODE" != root ]; then
                cfg "$B" '.linux.uidMappings[1].hostID = 4000000000 | .linux.uidMappings[1].size = 10'
                new_id
                expect_fail "a uid range the caller does not own is refused" urun create --bundle "$B" "$ID"
                like "$T/err" '4000000000' "the error names the range"
                like "$T/err" 'subuid' "the error says where ranges come from"
                left_nothing "$ID" "$B" "the refused mapping left nothing"
        fi
fi

# --- a config with no user namespace gets one when not root (as crun does) ---
B=$T/b3
make_bundle "$B" /payload id
cfg "$B" '.linux.namespaces |= map(select(.type != "user")) | del(.linux.uidMappings) | del(.linux.gidMappings)'
if [ "$TEST_MODE" = rootless ]; then
        new_id
        run urun --debug run --bundle "$B" "$ID"
        if [ "$RC" = 0 ] && grep -q '^uid=0 gid=0' "$T/out"; then
                ok "no user namespace in the config: one is added for a non-root caller"
        else
                not_ok "no user namespace in the config: one is added for a non-root caller" "$T/all"
        fi
        like "$T/err" '[Uu]ser namespace' "--debug says a user namespace was added"
else
        skip "user namespace added for a non-root caller" "only in rootless mode"
        skip "--debug says so" "only in rootless mode"
fi

done_testing
