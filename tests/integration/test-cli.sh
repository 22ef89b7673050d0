#!/bin/bash
# The command line: --version, --help, global flags, `spec` (its output runs as written), the
# default --root, `list` on an empty root.
. "$(dirname "$0")/lib.sh"

expect_rc 0 "--version exits 0" urun --version
like "$T/out" 'urun.*[0-9]+\.[0-9]+' "--version prints the name and a version"
like "$T/out" '[Ss]pec.*1\.[0-9]' "--version names the OCI spec version"
expect_rc 0 "--help exits 0" urun --help
for verb in spec create start run state list kill delete; do
        like "$T/out" "\\b$verb\\b" "--help lists '$verb'"
done
for flag in --root --log --log-format --debug --systemd-cgroup --rootless; do
        like "$T/out" "$flag" "--help documents $flag"
done

# --- global flags accepted as runc's callers pass them ---
expect_rc 0 "list with --systemd-cgroup --rootless auto --debug" urun --systemd-cgroup --rootless auto --debug list
expect_rc 0 "--rootless=true is accepted" urun --rootless=true list
expect_rc 0 "list --format table on an empty root" urun list
like "$T/out" '^ID +PID +STATUS +BUNDLE' "list prints the runc header"
is "$(wc -l <"$T/out")" 1 "list on an empty root prints only the header"
expect_rc 0 "list --format json on an empty root" urun list --format json
is "$(jq -c . "$T/out" 2>&1)" "[]" "list --format json on an empty root is []"

# --- spec ---
D=$T/specdir
mkdir -p "$D"
make_rootfs "$D/rootfs"
(cd "$D" && urun spec "${SPEC_FLAGS[@]}") >"$T/out" 2>&1
result $? "spec ${SPEC_FLAGS[*]} writes config.json in the current directory" "$T/out"
jq -e . "$D/config.json" >/dev/null 2>&1
result $? "the generated config.json is valid JSON" "$D/config.json"
run sh -c "cd '$D' && '$URUN' spec ${SPEC_FLAGS[*]}"
if [ "$RC" != 0 ]; then
        ok "spec refuses to overwrite an existing config.json"
else
        not_ok "spec refuses to overwrite an existing config.json" "$T/all"
fi
if [ "$TEST_MODE" != root ]; then
        is "$(jq -r '.linux.namespaces | map(.type) | index("user") != null' "$D/config.json")" true \
                "the rootless spec has a user namespace"
        is "$(jq -r '.linux.uidMappings[0].hostID' "$D/config.json")" "$(id -u)" \
                "the rootless spec maps the caller to root"
        is "$(jq -r '[.mounts[] | select(.type == "devpts") | .options[] | select(startswith("gid="))] | length' \
                "$D/config.json")" 0 "the rootless spec has no gid= option on devpts"
fi
# Run it as written, only the args changed (and no terminal: there is no tty here).
jq '.process.args = ["/bin/sh", "-c", "echo hello from urun; id -u"] | .process.terminal = false' \
        "$D/config.json" >"$D/c.new" && mv "$D/c.new" "$D/config.json"
new_id
run sh -c "cd '$D' && exec '$URUN' ${URUN_ROOT:+--root '$URUN_ROOT'} run '$ID'"
is "$RC" 0 "the generated spec runs as written (run in the bundle dir)"
like "$T/out" '^hello from urun$' "its output reaches the caller"
mkdir -p "$T/other"
expect_rc 0 "spec --bundle DIR writes DIR/config.json" urun spec "${SPEC_FLAGS[@]}" --bundle "$T/other"
[ -f "$T/other/config.json" ]
result $? "DIR/config.json exists"

# --- the default --root ---
if [ "$TEST_MODE" = rootless ] && [ -n "${XDG_RUNTIME_DIR:-}" ]; then
        B=$T/b
        make_bundle "$B" /payload pause
        new_id
        DEF_ID=$ID
        "$URUN" run -d --bundle "$B" "$DEF_ID" >/dev/null 2>"$T/d.err" </dev/null
        result $? "run -d without --root" "$T/d.err"
        [ -d "$XDG_RUNTIME_DIR/urun/$DEF_ID" ]
        result $? "the default root is \$XDG_RUNTIME_DIR/urun"
        is "$(stat -c %a "$XDG_RUNTIME_DIR/urun" 2>&1)" 700 "the default root is mode 0700"
        "$URUN" delete --force "$DEF_ID" >/dev/null 2>&1
        [ ! -e "$XDG_RUNTIME_DIR/urun/$DEF_ID" ]
        result $? "delete --force without --root removes it"
else
        skip "default root" "only checked in rootless mode (root mode must not touch /run/urun)"
fi
# A fresh --root is created 0700.
B=$T/bf
make_bundle "$B" /payload exit 0
expect_rc 0 "run with a fresh --root" "$URUN" --root "$T/newroot/sub" run --bundle "$B" fresh-root-ctr
is "$(stat -c %a "$T/newroot/sub" 2>&1)" 700 "a fresh --root is created 0700"

done_testing
