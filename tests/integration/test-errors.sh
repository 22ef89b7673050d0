#!/bin/bash
# Bad input: one `urun: ...` line naming the field or file, a non-zero exit, and nothing left
# behind (no state dir, no process). Invalid ids, broken configs, creates that fail mid-way,
# two concurrent creates of one id, and --log/--log-format json.
. "$(dirname "$0")/lib.sh"

B=$T/b
make_bundle "$B" /payload pause
cp "$B/config.json" "$T/good.json"

# --- invalid ids ---
LONG=$(head -c 1000 /dev/zero | tr '\0' a)
for id in "../x" "a/b" "" "$LONG" ".."; do
        expect_fail "create with id '${id:0:20}' (${#id} chars) is rejected" urun create --bundle "$B" "$id"
        if [ -n "$(ls -A "$STATE_ROOT" 2>/dev/null)" ]; then
                ls -la "$STATE_ROOT" >"$T/why"
                not_ok "invalid id '${id:0:20}' created nothing" "$T/why"
        else
                ok "invalid id '${id:0:20}' created nothing"
        fi
done
[ -e "$T/x" ] || [ -e "$(dirname "$STATE_ROOT")/x" ]
result $((! $?)) "'../x' did not escape the state root"
expect_fail "state with id '../x' is rejected" urun state "../x"
expect_fail "delete with id 'a/b' is rejected" urun delete "a/b"

# --- broken configs ---
# bad_config DESC WANT_ERE JQ_FILTER: the config edited by JQ_FILTER is refused with a line
# matching WANT_ERE, and leaves nothing.
bad_config() {
        local desc=$1 want=$2 filter=$3
        jq "$filter" "$T/good.json" >"$B/config.json"
        new_id
        expect_fail "$desc: refused" urun create --bundle "$B" "$ID"
        like "$T/err" "$want" "$desc: the error names it"
        left_nothing "$ID" "$B" "$desc: nothing left"
}
bad_config "args[0] is a number" 'process\.args\[0\]' '.process.args = [42]'
bad_config "process.args missing" 'process\.args' 'del(.process.args)'
bad_config "process.env is a string" 'process\.env' '.process.env = "FOO=bar"'
bad_config "root.path is an object" 'root\.path' '.root.path = {}'
bad_config "process.user.uid is a string" 'process\.user\.uid' '.process.user.uid = "0"'
bad_config "mounts[0].destination is a number" 'mounts\[0\]\.destination' '.mounts[0].destination = 1'
bad_config "ociVersion 2.0.0" 'ociVersion|2\.0\.0' '.ociVersion = "2.0.0"'
bad_config "unknown capability" 'CAP_NOT_A_CAP' '.process.capabilities.bounding += ["CAP_NOT_A_CAP"]'
bad_config "missing rootfs directory" 'rootfs|no-such-dir' '.root.path = "no-such-dir"'
bad_config "unknown namespace type" 'namespaces|bogus' '.linux.namespaces += [{"type": "bogus"}]'

jq '.ociVersion = "1.3.0" | .process.args = ["/payload", "exit", "0"]' "$T/good.json" >"$B/config.json"
new_id
expect_rc 0 "ociVersion 1.3.0 is accepted" urun run --bundle "$B" "$ID"
jq '.process.args = ["/payload", "exit", "0"] | .unknownField = {"x": 1} | .process.alsoUnknown = 3' \
        "$T/good.json" >"$B/config.json"
new_id
expect_rc 0 "unknown fields are ignored" urun run --bundle "$B" "$ID"

echo '{"ociVersion": "1.0.0", "process": ' >"$B/config.json"
new_id
expect_fail "truncated JSON: refused" urun create --bundle "$B" "$ID"
like "$T/err" 'config\.json' "truncated JSON: the error names config.json"
left_nothing "$ID" "$B" "truncated JSON: nothing left"

echo 'not json at all' >"$B/config.json"
new_id
expect_fail "not JSON: refused" urun create --bundle "$B" "$ID"
left_nothing "$ID" "$B" "not JSON: nothing left"

{
        jq -c . "$T/good.json" | sed 's/}$/,"pad":"/'
        head -c 20000000 /dev/zero | tr '\0' a
        echo '"}'
} >"$B/config.json"
new_id
expect_fail "oversize config.json: refused" urun create --bundle "$B" "$ID"

rm -f "$B/config.json"
new_id
expect_fail "missing config.json: refused" urun create --bundle "$B" "$ID"
like "$T/err" 'config\.json' "missing config.json: the error names the file"
left_nothing "$ID" "$B" "missing config.json: nothing left"

new_id
expect_fail "missing bundle directory: refused" urun create --bundle "$T/no-such-bundle" "$ID"
left_nothing "$ID" "$B" "missing bundle: nothing left"

# --- a create that fails mid-way, after the container process exists ---
jq --arg s "$T/no-such-source" \
        '.mounts += [{"destination": "/mnt", "type": "bind", "source": $s, "options": ["rbind"]}]' \
        "$T/good.json" >"$B/config.json"
new_id
expect_fail "bind mount of a missing source: refused" urun create --bundle "$B" "$ID"
like "$T/err" 'no-such-source|/mnt' "the error names the mount"
left_nothing "$ID" "$B" "failed mount: no state, no process"

jq '.process.args = ["/not/there"]' "$T/good.json" >"$B/config.json"
new_id
expect_fail "create with args[0] missing in the rootfs: refused" urun create --bundle "$B" "$ID"
like "$T/err" '/not/there' "the error names the program"
left_nothing "$ID" "$B" "missing program: no state, no process"

jq '.process.cwd = "relative/dir"' "$T/good.json" >"$B/config.json"
new_id
expect_fail "relative process.cwd: refused" urun create --bundle "$B" "$ID"
like "$T/err" 'process\.cwd' "the error names process.cwd"

# --- two concurrent creates of one id: exactly one wins ---
cp "$T/good.json" "$B/config.json"
new_id
C=$ID
for i in 1 2; do
        "$URUN" ${URUN_ROOT:+--root "$URUN_ROOT"} create --bundle "$B" "$C" >"$T/cc$i.out" 2>"$T/cc$i.err" </dev/null &
        eval "P$i=\$!"
        _bg_pids+=("$!")
done
rc1=0 rc2=0
wait_bg "$P1" || rc1=$?
wait_bg "$P2" || rc2=$?
if { [ "$rc1" = 0 ] && [ "$rc2" != 0 ]; } || { [ "$rc1" != 0 ] && [ "$rc2" = 0 ]; }; then
        ok "two concurrent creates of one id: exactly one succeeds ($rc1/$rc2)"
else
        echo "exit statuses $rc1 and $rc2" >"$T/why"
        not_ok "two concurrent creates of one id: exactly one succeeds" "$T/why" "$T/cc1.err" "$T/cc2.err"
fi
loser=1
[ "$rc1" = 0 ] && loser=2
if [ "$(wc -l <"$T/cc$loser.err")" = 1 ] && grep -Eiq "^urun: .*($C|exists)" "$T/cc$loser.err"; then
        ok "the losing create prints one clear line"
else
        not_ok "the losing create prints one clear line" "$T/cc$loser.err"
fi
is "$(status_of "$C")" created "the winner's container is created"
expect_rc 0 "and can be deleted" urun delete --force "$C"
urun delete --force "$C" >/dev/null 2>&1

# --- unknown containers ---
for verb in state start delete kill; do
        expect_fail "$verb of an unknown container fails" urun "$verb" no-such-container
done

# --- --log FILE --log-format json ---
new_id
expect_fail "failing command with --log json" urun --log "$T/log.json" --log-format json state no-such-container
if jq -e 'select(.level == "error") | (.msg | type == "string") and (.time | type == "string")' \
        "$T/log.json" >/dev/null 2>&1; then
        ok "--log-format json writes {level, msg, time} objects"
else
        not_ok "--log-format json writes {level, msg, time} objects" "$T/log.json"
fi
is "$(jq -r 'select(.level == "error") | .msg' "$T/log.json" 2>/dev/null | grep -c no-such-container)" 1 \
        "the json log has the error message once"
expect_fail "failing command with --log text" urun --log "$T/log.txt" state no-such-container
like "$T/log.txt" 'no-such-container' "--log text writes the error to the file"
expect_fail "--log-format bogus is refused" urun --log-format bogus list
expect_fail "an unknown verb is refused" urun frobnicate
expect_fail "an unknown flag is refused" urun create --no-such-flag x

done_testing
