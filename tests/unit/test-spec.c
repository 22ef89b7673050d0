/* config.json parser, namespace/hook tables and the `urun spec` generator. JSON in this file is
 * written with single quotes for readability and converted to double quotes before parsing. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "spec.h"
#include "tap.h"
#include "util.h"

#define BASE "'ociVersion':'1.0.2','root':{'path':'rootfs'}"
#define PROC(...) "'process':{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'/'" __VA_ARGS__ "}"

static char *dq(const char *s) {
        char *t = strdup(s);

        for (char *p = t; p && *p; p++)
                if (*p == '\'')
                        *p = '"';
        return t;
}

static int parse(const char *quoted, Spec **ret, char **ret_error) {
        _cleanup_free_ char *json = dq(quoted);

        return spec_parse_string(json, strlen(json), ret, ret_error);
}

/* The parse must fail with -EINVAL and exactly this message. */
static void expect_error(const char *quoted, const char *want) {
        _cleanup_free_ char *err = NULL;
        Spec *s = NULL;

        CHECK_RET(parse(quoted, &s, &err), -EINVAL);
        CHECK(s == NULL);
        CHECK_STR(err, want);
        spec_free(s);
}

static Spec *expect_ok(const char *quoted) {
        _cleanup_free_ char *err = NULL;
        Spec *s = NULL;
        int r;

        r = parse(quoted, &s, &err);
        CHECK(r == 0 && s);
        if (r < 0)
                printf("# %s\n", err ? err : "(no message)");
        return s;
}

static const char full_config[] =
        "{'ociVersion':'1.0.2-dev',"
        "'process':{'terminal':true,'consoleSize':{'height':25,'width':80},"
        " 'user':{'uid':1000,'gid':1001,'umask':18,'additionalGids':[5,6]},"
        " 'args':['/bin/echo','hello'],'env':['PATH=/bin','EMPTY='],'cwd':'/tmp',"
        " 'capabilities':{'bounding':['CAP_KILL','CAP_CHOWN'],'effective':['CAP_KILL'],'inheritable':[],"
        "   'permitted':['CAP_KILL'],'ambient':[]},"
        " 'rlimits':[{'type':'RLIMIT_NOFILE','soft':1024,'hard':4096},"
        "            {'type':'RLIMIT_CORE','soft':0,'hard':18446744073709551615}],"
        " 'noNewPrivileges':true,'oomScoreAdj':-500,'apparmorProfile':'unconfined','selinuxLabel':'lbl',"
        " 'futureField':{'x':[1,{'y':null}]}},"
        "'root':{'path':'/abs/rootfs','readonly':true},"
        "'hostname':'box','domainname':'example.org',"
        "'mounts':[{'destination':'/proc','type':'proc','source':'proc'},"
        "  {'destination':'/data','type':'bind','source':'/srv','options':['rbind','ro'],"
        "   'uidMappings':[{'containerID':0,'hostID':100000,'size':65536}],"
        "   'gidMappings':[{'containerID':0,'hostID':200000,'size':100}]}],"
        "'hooks':{'prestart':[{'path':'/bin/true'}],"
        "  'createRuntime':[{'path':'/bin/sh','args':['sh','-c','exit 0'],'env':['A=1'],'timeout':5}],"
        "  'poststop':[{'path':'/bin/a'},{'path':'/bin/b'}],'unknownHook':[{'nopath':1}]},"
        "'annotations':{'org.example':'v','empty':''},"
        "'linux':{'namespaces':[{'type':'pid'},{'type':'network','path':'/proc/1/ns/net'},{'type':'ipc'},"
        "   {'type':'uts'},{'type':'mount'},{'type':'user'},{'type':'cgroup'},{'type':'time'}],"
        " 'uidMappings':[{'containerID':0,'hostID':1000,'size':1},{'containerID':1,'hostID':100000,'size':65536}],"
        " 'gidMappings':[{'containerID':0,'hostID':1001,'size':1}],"
        " 'devices':[{'path':'/dev/fuse','type':'c','major':10,'minor':229,'fileMode':438,'uid':0,'gid':5},"
        "   {'path':'/dev/fifo','type':'p'}],"
        " 'maskedPaths':['/proc/kcore','/sys/firmware'],'readonlyPaths':['/proc/sys'],"
        " 'rootfsPropagation':'rslave','sysctl':{'net.ipv4.ip_forward':'1'},"
        " 'cgroupsPath':'/urun/x','mountLabel':'mlbl',"
        " 'resources':{'devices':[{'allow':false,'access':'rwm'}]},"
        " 'seccomp':{'defaultAction':'SCMP_ACT_ALLOW'}},"
        "'unknownTopLevel':[[[]]]}";

static void test_full_process(const Spec *s) {
        const ProcessSpec *p = &s->process;

        CHECK(s->has_process);
        CHECK(p->terminal);
        CHECK(p->console_height == 25 && p->console_width == 80);
        CHECK(p->uid == 1000 && p->gid == 1001);
        CHECK(p->has_umask && p->umask == 18);
        CHECK(p->n_additional_gids == 2 && p->additional_gids[0] == 5 && p->additional_gids[1] == 6);
        CHECK(strv_length(p->args) == 2);
        CHECK_STR(p->args[1], "hello");
        CHECK_STR(strv_env_get(p->env, "EMPTY"), "");
        CHECK_STR(p->cwd, "/tmp");
        CHECK(p->has_capabilities);
        CHECK(strv_length(p->capabilities[CAP_SET_BOUNDING]) == 2);
        CHECK_STR(p->capabilities[CAP_SET_BOUNDING][1], "CAP_CHOWN");
        CHECK(p->capabilities[CAP_SET_INHERITABLE] && strv_length(p->capabilities[CAP_SET_INHERITABLE]) == 0);
        CHECK(p->n_rlimits == 2);
        CHECK(p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 4096);
        CHECK_STR(p->rlimits[0].name, "RLIMIT_NOFILE");
        CHECK(p->rlimits[1].resource == RLIMIT_CORE && p->rlimits[1].hard == UINT64_MAX);
        CHECK(p->no_new_privileges);
        CHECK(p->has_oom_score_adj && p->oom_score_adj == -500);
        CHECK_STR(p->apparmor_profile, "unconfined");
        CHECK_STR(p->selinux_label, "lbl");
}

static void test_full_top(const Spec *s) {
        CHECK_STR(s->oci_version, "1.0.2-dev");
        CHECK_STR(s->root_path, "/abs/rootfs");
        CHECK(s->root_readonly);
        CHECK_STR(s->hostname, "box");
        CHECK_STR(s->domainname, "example.org");
        CHECK(s->n_mounts == 2);
        CHECK_STR(s->mounts[0].destination, "/proc");
        CHECK(s->mounts[0].options == NULL && s->mounts[0].n_uid_mappings == 0);
        CHECK_STR(s->mounts[1].source, "/srv");
        CHECK(strv_length(s->mounts[1].options) == 2);
        CHECK(s->mounts[1].n_uid_mappings == 1 && s->mounts[1].uid_mappings[0].host_id == 100000);
        CHECK(s->mounts[1].n_gid_mappings == 1 && s->mounts[1].gid_mappings[0].size == 100);
        CHECK(s->n_hooks[HOOK_PRESTART] == 1 && s->n_hooks[HOOK_CREATE_RUNTIME] == 1);
        CHECK(s->n_hooks[HOOK_CREATE_CONTAINER] == 0 && s->hooks[HOOK_CREATE_CONTAINER] == NULL);
        CHECK(s->n_hooks[HOOK_POSTSTOP] == 2);
        CHECK_STR(s->hooks[HOOK_POSTSTOP][1].path, "/bin/b");
        CHECK(s->hooks[HOOK_CREATE_RUNTIME][0].timeout == 5 && s->hooks[HOOK_PRESTART][0].timeout == 0);
        CHECK(strv_length(s->hooks[HOOK_CREATE_RUNTIME][0].args) == 3);
        CHECK_STR(s->hooks[HOOK_CREATE_RUNTIME][0].env[0], "A=1");
        CHECK(s->n_annotations == 2);
        CHECK_STR(s->annotations[0].key, "org.example");
        CHECK_STR(s->annotations[1].value, "");
}

static void test_full_linux(const Spec *s) {
        for (enum ns_type t = 0; t < _NS_MAX; t++)
                CHECK(s->namespaces[t].present);
        CHECK_STR(s->namespaces[NS_NET].path, "/proc/1/ns/net");
        CHECK(s->namespaces[NS_PID].path == NULL);
        CHECK(s->n_uid_mappings == 2 && s->uid_mappings[1].container_id == 1 && s->uid_mappings[1].size == 65536);
        CHECK(s->n_gid_mappings == 1 && s->gid_mappings[0].host_id == 1001);
        CHECK(s->n_devices == 2);
        CHECK(s->devices[0].type == 'c' && s->devices[0].major == 10 && s->devices[0].minor == 229);
        CHECK(s->devices[0].has_mode && s->devices[0].file_mode == 0666);
        CHECK(s->devices[0].has_gid && s->devices[0].gid == 5);
        CHECK(s->devices[1].type == 'p' && !s->devices[1].has_mode && !s->devices[1].has_uid);
        CHECK(strv_length(s->masked_paths) == 2 && strv_length(s->readonly_paths) == 1);
        CHECK_STR(s->rootfs_propagation, "rslave");
        CHECK(s->n_sysctl == 1);
        CHECK_STR(s->sysctl[0].key, "net.ipv4.ip_forward");
        CHECK_STR(s->sysctl[0].value, "1");
        CHECK_STR(s->cgroups_path, "/urun/x");
        CHECK_STR(s->mount_label, "mlbl");
        CHECK(!s->has_resources); /* devices only */
}

static void test_full(void) {
        Spec *s = expect_ok(full_config);

        if (!s)
                return;
        test_full_process(s);
        test_full_top(s);
        test_full_linux(s);
        spec_free(s);
}

static void test_minimal(void) {
        Spec *s = expect_ok("{" BASE ",'hostname':null,'process':null}");

        if (!s)
                return;
        CHECK(!s->has_process);
        CHECK(!s->root_readonly);
        CHECK(s->hostname == NULL && s->n_mounts == 0 && s->mounts == NULL);
        for (enum ns_type t = 0; t < _NS_MAX; t++)
                CHECK(!s->namespaces[t].present);
        CHECK(!s->has_resources);
        spec_free(s);

        s = expect_ok("{" BASE "," PROC() "}");
        if (!s)
                return;
        CHECK(s->has_process && !s->process.has_capabilities && !s->process.has_umask);
        CHECK(!s->process.has_oom_score_adj && s->process.env == NULL && s->process.n_rlimits == 0);
        spec_free(s);
}

static void test_versions(void) {
        static const char *const good[] = { "1.0.0", "1.0.2-dev", "1.3.0", "1.1.0-rc.1" };
        char buf[256];

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                snprintf(buf, sizeof(buf), "{'ociVersion':'%s','root':{'path':'r'}}", good[i]);
                spec_free(expect_ok(buf));
        }

        expect_error("{'ociVersion':'2.0.0','root':{'path':'r'}}",
                     "ociVersion: unsupported version '2.0.0' (urun reads 1.x)");
        expect_error("{'ociVersion':'10.0.0','root':{'path':'r'}}",
                     "ociVersion: unsupported version '10.0.0' (urun reads 1.x)");
        expect_error("{'ociVersion':'','root':{'path':'r'}}", "ociVersion: unsupported version '' (urun reads 1.x)");
        expect_error("{'ociVersion':'0.9','root':{'path':'r'}}",
                     "ociVersion: unsupported version '0.9' (urun reads 1.x)");
        expect_error("{'ociVersion':1,'root':{'path':'r'}}", "ociVersion: expected a string");
        expect_error("{'root':{'path':'r'}}", "ociVersion: required field missing");
}

static void test_type_errors(void) {
        expect_error("{" BASE ",'process':{'user':{'uid':0,'gid':0},'args':[42],'cwd':'/'}}",
                     "process.args[0]: expected a string");
        expect_error("{" BASE ",'linux':{'uidMappings':[{'containerID':0,'hostID':1,'size':1},"
                     "{'containerID':1,'hostID':2,'size':'3'}]}}",
                     "linux.uidMappings[1].size: expected an unsigned 32-bit integer");
        expect_error("{" BASE ",'linux':{'gidMappings':[{'containerID':0,'hostID':1,'size':4294967296}]}}",
                     "linux.gidMappings[0].size: expected an unsigned 32-bit integer");
        expect_error("{" BASE ",'linux':{'uidMappings':[{'containerID':-1,'hostID':1,'size':1}]}}",
                     "linux.uidMappings[0].containerID: expected an unsigned 32-bit integer");
        expect_error("{" BASE ",'linux':{'uidMappings':[{'containerID':0,'hostID':1.5,'size':1}]}}",
                     "linux.uidMappings[0].hostID: expected an unsigned 32-bit integer");
        expect_error("{" BASE ",'linux':{'uidMappings':[{'containerID':0,'hostID':1,'size':0}]}}",
                     "linux.uidMappings[0].size: must be greater than 0");
        expect_error("{" BASE ",'mounts':[{'destination':'/a'},{'destination':'/b'},{'type':'tmpfs'}]}",
                     "mounts[2].destination: required field missing");
        expect_error("{" BASE ",'mounts':[{'destination':'a'}]}", "mounts[0].destination: 'a' is not an absolute path");
        expect_error("{" BASE ",'mounts':{}}", "mounts: expected an array");
        expect_error("{" BASE ",'mounts':[{'destination':'/a','options':'ro'}]}",
                     "mounts[0].options: expected an array of strings");
        expect_error("{" BASE ",'mounts':[{'destination':'/a','uidMappings':[{'containerID':0,'hostID':0}]}]}",
                     "mounts[0].uidMappings[0].size: required field missing");
        expect_error("{" BASE ",'hostname':5}", "hostname: expected a string");
        expect_error("{'ociVersion':'1.0.0'}", "root: required field missing");
        expect_error("{'ociVersion':'1.0.0','root':{}}", "root.path: required field missing");
        expect_error("{'ociVersion':'1.0.0','root':{'path':''}}", "root.path: must not be empty");
        expect_error("{'ociVersion':'1.0.0','root':{'path':'r','readonly':'yes'}}", "root.readonly: expected a boolean");
        expect_error("{'ociVersion':'1.0.0','root':'r'}", "root: expected an object");
        expect_error("['ociVersion']", "config.json: expected an object");
        expect_error("{" BASE ",'annotations':{'a':'b','c':1}}", "annotations.c: expected a string");
        expect_error("{" BASE ",'hostname':'a\\u0000b'}", "hostname: string contains a NUL byte");
}

static void test_process_errors(void) {
        expect_error("{" BASE ",'process':{}}", "process.user: required field missing");
        expect_error("{" BASE ",'process':{'user':{'gid':0},'args':['sh'],'cwd':'/'}}",
                     "process.user.uid: required field missing");
        expect_error("{" BASE ",'process':{'user':{'uid':0,'gid':0},'cwd':'/'}}", "process.args: required field missing");
        expect_error("{" BASE ",'process':{'user':{'uid':0,'gid':0},'args':[],'cwd':'/'}}",
                     "process.args: must not be empty");
        expect_error("{" BASE ",'process':{'user':{'uid':0,'gid':0},'args':['sh']}}",
                     "process.cwd: required field missing");
        expect_error("{" BASE ",'process':{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'tmp'}}",
                     "process.cwd: 'tmp' is not an absolute path");
        expect_error("{" BASE "," PROC(",'terminal':1") "}", "process.terminal: expected a boolean");
        expect_error("{" BASE "," PROC(",'env':['A=1','FOO']") "}", "process.env[1]: 'FOO' is not of the form KEY=VALUE");
        expect_error("{" BASE "," PROC(",'env':['=x']") "}", "process.env[0]: '=x' is not of the form KEY=VALUE");
        expect_error("{" BASE "," PROC(",'consoleSize':{'height':1}") "}",
                     "process.consoleSize.width: required field missing");
        expect_error("{" BASE ",'process':{'user':{'uid':0,'gid':0,'additionalGids':[1,-2]},'args':['sh'],'cwd':'/'}}",
                     "process.user.additionalGids[1]: expected an unsigned 32-bit integer");
        expect_error("{" BASE ",'process':{'user':{'uid':0,'gid':0,'umask':'022'},'args':['sh'],'cwd':'/'}}",
                     "process.user.umask: expected an unsigned 32-bit integer");
        expect_error("{" BASE "," PROC(",'capabilities':{'bounding':[1]}") "}",
                     "process.capabilities.bounding[0]: expected a string");
        expect_error("{" BASE "," PROC(",'rlimits':[{'type':'RLIMIT_FOO','soft':1,'hard':1}]") "}",
                     "process.rlimits[0].type: unknown rlimit 'RLIMIT_FOO'");
        expect_error("{" BASE "," PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':10,'hard':5}]") "}",
                     "process.rlimits[0]: soft limit 10 is greater than hard limit 5");
        expect_error("{" BASE "," PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':-1,'hard':5}]") "}",
                     "process.rlimits[0].soft: expected an unsigned 64-bit integer");
        expect_error("{" BASE "," PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':1}]") "}",
                     "process.rlimits[0].hard: required field missing");
        expect_error("{" BASE "," PROC(",'rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':1},"
                                       "{'type':'RLIMIT_CORE','soft':1,'hard':1},"
                                       "{'type':'RLIMIT_NOFILE','soft':2,'hard':2}]") "}",
                     "process.rlimits[2]: duplicate rlimit 'RLIMIT_NOFILE'");
        expect_error("{" BASE "," PROC(",'oomScoreAdj':1001") "}", "process.oomScoreAdj: 1001 out of range -1000..1000");
        expect_error("{" BASE "," PROC(",'oomScoreAdj':-1001") "}",
                     "process.oomScoreAdj: -1001 out of range -1000..1000");
        expect_error("{" BASE "," PROC(",'oomScoreAdj':'5'") "}", "process.oomScoreAdj: expected an integer");
        spec_free(expect_ok("{" BASE "," PROC(",'oomScoreAdj':1000") "}"));
}

static void test_hook_errors(void) {
        expect_error("{" BASE ",'hooks':{'prestart':[{'args':['x']}]}}", "hooks.prestart[0].path: required field missing");
        expect_error("{" BASE ",'hooks':{'createContainer':[{'path':'x'}]}}",
                     "hooks.createContainer[0].path: 'x' is not an absolute path");
        expect_error("{" BASE ",'hooks':{'poststop':[{'path':'/x'},{'path':'/y','timeout':0}]}}",
                     "hooks.poststop[1].timeout: 0 out of range 1..2147483647");
        expect_error("{" BASE ",'hooks':{'poststart':{}}}", "hooks.poststart: expected an array");
        expect_error("{" BASE ",'hooks':[]}", "hooks: expected an object");
}

static void test_linux_errors(void) {
        expect_error("{" BASE ",'linux':{'namespaces':[{'type':'pid'},{'type':'mount'},{'type':'pid'}]}}",
                     "linux.namespaces[2]: duplicate namespace type 'pid'");
        expect_error("{" BASE ",'linux':{'namespaces':[{'type':'net'}]}}",
                     "linux.namespaces[0].type: unknown namespace type 'net'");
        expect_error("{" BASE ",'linux':{'namespaces':[{'path':'/proc/1/ns/pid'}]}}",
                     "linux.namespaces[0].type: required field missing");
        expect_error("{" BASE ",'linux':{'namespaces':[{'type':'pid','path':'ns/pid'}]}}",
                     "linux.namespaces[0].path: 'ns/pid' is not an absolute path");
        expect_error("{" BASE ",'linux':{'devices':[{'path':'/dev/x','type':'x','major':1,'minor':1}]}}",
                     "linux.devices[0].type: unknown device type 'x' (expected c, b, u or p)");
        expect_error("{" BASE ",'linux':{'devices':[{'path':'/dev/x','type':'c','minor':1}]}}",
                     "linux.devices[0].major: required field missing");
        expect_error("{" BASE ",'linux':{'devices':[{'path':'dev/x','type':'p'}]}}",
                     "linux.devices[0].path: 'dev/x' is not an absolute path");
        expect_error("{" BASE ",'linux':{'devices':[{'path':'/dev/x','type':'b','major':1,'minor':1,'fileMode':-1}]}}",
                     "linux.devices[0].fileMode: expected an unsigned 32-bit integer");
        expect_error("{" BASE ",'linux':{'devices':[{'path':'/dev/x','type':'b','major':9223372036854775808,'minor':1}]}}",
                     "linux.devices[0].major: expected a 64-bit integer");
        expect_error("{" BASE ",'linux':{'rootfsPropagation':'sideways'}}",
                     "linux.rootfsPropagation: unknown propagation 'sideways'");
        expect_error("{" BASE ",'linux':{'sysctl':{'a':1}}}", "linux.sysctl.a: expected a string");
        expect_error("{" BASE ",'linux':{'maskedPaths':['/a',null]}}", "linux.maskedPaths[1]: expected a string");
        expect_error("{" BASE ",'linux':{'resources':[]}}", "linux.resources: expected an object");
        expect_error("{" BASE ",'linux':[]}", "linux: expected an object");
}

static void check_resources(const char *resources, bool want) {
        char buf[512];
        Spec *s;

        snprintf(buf, sizeof(buf), "{" BASE ",'linux':{'resources':%s}}", resources);
        s = expect_ok(buf);
        CHECK(s && s->has_resources == want);
        spec_free(s);
}

static void test_resources(void) {
        check_resources("{}", false);
        check_resources("{'devices':[{'allow':false,'access':'rwm'}]}", false);
        check_resources("{'memory':{}}", false);
        check_resources("{'pids':{'limit':null},'unified':{}}", false);
        check_resources("{'memory':{'limit':1048576}}", true);
        check_resources("{'devices':[],'pids':{'limit':10}}", true);
        check_resources("{'unified':{'memory.max':'1G'}}", true);
}

static char *nested(size_t depth) {
        /* {"ociVersion":...,"x": [[[...]]] } : the top-level object is one level. */
        static const char head[] = "{\"ociVersion\":\"1.0.0\",\"root\":{\"path\":\"r\"},\"x\":";
        size_t n = depth - 1, len = strlen(head) + 2 * n + 2;
        char *s = malloc(len);

        if (!s)
                return NULL;
        memcpy(s, head, strlen(head));
        memset(s + strlen(head), '[', n);
        memset(s + strlen(head) + n, ']', n);
        s[len - 2] = '}';
        s[len - 1] = '\0';
        return s;
}

static void test_malformed(void) {
        _cleanup_free_ char *ok = nested(SPEC_MAX_DEPTH), *deep = nested(SPEC_MAX_DEPTH + 1), *big = NULL;
        char *err = NULL;
        Spec *s = NULL;

        CHECK_RET(spec_parse_string(ok, strlen(ok), &s, &err), 0);
        s = spec_free(s);
        free(err);
        err = NULL;

        CHECK_RET(spec_parse_string(deep, strlen(deep), &s, &err), -EINVAL);
        s = spec_free(s);
        CHECK(err && strstr(err, "config.json: invalid JSON at offset ") == err && strstr(err, "nesting deeper than 64"));
        free(err);
        err = NULL;

        big = malloc(SPEC_MAX_SIZE + 2);
        if (big) {
                memset(big, ' ', SPEC_MAX_SIZE + 1);
                big[0] = '{';
                big[SPEC_MAX_SIZE] = '}';
                big[SPEC_MAX_SIZE + 1] = '\0';
                CHECK_RET(spec_parse_string(big, SPEC_MAX_SIZE + 1, &s, &err), -EFBIG);
                CHECK_STR(err, "config.json: too large (4194305 bytes, limit 4194304)");
                free(err);
                err = NULL;
        }

        expect_error("hello", "config.json: invalid JSON at offset 0: unexpected character");
        expect_error("", "config.json: invalid JSON at offset 0: unexpected end of data");
        expect_error("{'ociVersion':", "config.json: invalid JSON at offset 14: unexpected end of data");
        expect_error("{" BASE ",}", "config.json: invalid JSON at offset 47: unexpected character");
        expect_error("{" BASE "} {}", "config.json: invalid JSON at offset 48: unexpected character");
        expect_error("{" BASE "}x", "config.json: invalid JSON at offset 47: unexpected character");
        spec_free(expect_ok("{" BASE "}\n\n"));

        /* No message requested: still fails cleanly. */
        CHECK_RET(spec_parse_string("[", 1, &s, NULL), -EINVAL);
        CHECK_RET(spec_parse_string("{\"ociVersion\":\"3\"}", 18, &s, NULL), -EINVAL);
}

static void test_load(void) {
        char dir[] = "/tmp/test-spec-XXXXXX";
        _cleanup_free_ char *json = NULL, *err = NULL, *want = NULL, *path = NULL;
        Spec *s = NULL;
        int r;

        if (!mkdtemp(dir)) {
                SKIP("mkdtemp failed");
                return;
        }

        CHECK_RET(spec_load(dir, &s, &err), -ENOENT);
        CHECK(asprintf(&want, "%s/config.json: No such file or directory", dir) > 0);
        CHECK_STR(err, want);

        json = dq("{" BASE ",'hostname':'loaded'}");
        path = strjoin_path(dir, "config.json");
        r = write_file_at(AT_FDCWD, path, json, strlen(json), O_CREAT | O_EXCL, 0644);
        CHECK_RET(r, 0);
        CHECK_RET(spec_load(dir, &s, NULL), 0);
        CHECK(s && s->hostname && streq(s->hostname, "loaded"));
        spec_free(s);

        (void) unlink(path);
        (void) rmdir(dir);
}

static void test_fixtures(void) {
        static const struct {
                const char *file;
                const char *error;
        } fixtures[] = {
                { "config-valid.json", NULL },
                { "config-bad-args.json", "process.args[0]: expected a string" },
                { "config-bad-version.json", "ociVersion: unsupported version '2.0.0' (urun reads 1.x)" },
                { "config-bad-uidmap.json", "linux.uidMappings[1].size: expected an unsigned 32-bit integer" },
                { "config-bad-mount.json", "mounts[2].destination: required field missing" },
                { "config-bad-json.json", "config.json: invalid JSON at offset 55: unexpected character" },
                { "config-bad-namespace.json", "linux.namespaces[2]: duplicate namespace type 'pid'" },
        };
        const char *srcdir = getenv("SRCDIR") ?: ".";

        for (size_t i = 0; i < ELEMENTSOF(fixtures); i++) {
                _cleanup_free_ char *path = NULL, *data = NULL, *err = NULL;
                size_t size;
                Spec *s = NULL;

                if (asprintf(&path, "%s/tests/data/%s", srcdir, fixtures[i].file) < 0 ||
                    read_file_at(AT_FDCWD, path, SPEC_MAX_SIZE, &data, &size) < 0) {
                        SKIP("fixture not found (set SRCDIR)");
                        continue;
                }
                CHECK_RET(spec_parse_string(data, size, &s, &err), fixtures[i].error ? -EINVAL : 0);
                if (fixtures[i].error)
                        CHECK_STR(err, fixtures[i].error);
                else if (err)
                        printf("# %s: %s\n", fixtures[i].file, err);
                spec_free(s);
        }
}

static void test_names(void) {
        static const char *const names[] = { "user", "mount", "pid", "ipc", "uts", "network", "cgroup", "time" };
        static const char *const proc[] = { "user", "mnt", "pid", "ipc", "uts", "net", "cgroup", "time" };
        static const int flags[] = { CLONE_NEWUSER, CLONE_NEWNS,  CLONE_NEWPID,    CLONE_NEWIPC,
                                     CLONE_NEWUTS,  CLONE_NEWNET, CLONE_NEWCGROUP, 0x80 };
        static const char *const hooks[] = { "prestart",       "createRuntime", "createContainer",
                                             "startContainer", "poststart",     "poststop" };

        for (enum ns_type t = 0; t < _NS_MAX; t++) {
                CHECK_STR(ns_type_to_name(t), names[t]);
                CHECK_STR(ns_type_proc_name(t), proc[t]);
                CHECK(ns_type_from_name(names[t]) == (int) t);
                CHECK(ns_type_clone_flag(t) == flags[t]);
        }
        CHECK_RET(ns_type_from_name("net"), -EINVAL);
        CHECK_RET(ns_type_from_name(""), -EINVAL);
        CHECK(ns_type_to_name(_NS_MAX) == NULL);
        for (enum hook_kind k = 0; k < _HOOK_MAX; k++)
                CHECK_STR(hook_kind_to_name(k), hooks[k]);
        CHECK(hook_kind_to_name(_HOOK_MAX) == NULL);
}

static const MountSpec *find_mount(const Spec *s, const char *dest) {
        for (size_t i = 0; i < s->n_mounts; i++)
                if (streq(s->mounts[i].destination, dest))
                        return &s->mounts[i];
        return NULL;
}

static bool has_option(const MountSpec *m, const char *opt) {
        for (size_t i = 0; m && m->options && m->options[i]; i++)
                if (streq(m->options[i], opt))
                        return true;
        return false;
}

static Spec *generate_and_parse(bool rootless, const IdMap *sub, size_t n_sub) {
        _cleanup_free_ char *json = NULL, *err = NULL;
        Spec *s = NULL;
        size_t len;

        CHECK_RET(spec_generate(rootless, 1000, 1001, sub, n_sub, sub, n_sub, &json), 0);
        if (!json)
                return NULL;
        len = strlen(json);
        CHECK(len > 0 && json[len - 1] == '\n');
        CHECK(strstr(json, "\\/") == NULL); /* no escaped slashes */
        CHECK(strstr(json, "\n\t\"process\"") != NULL); /* pretty-printed */
        CHECK_RET(spec_parse_string(json, len, &s, &err), 0);
        if (err)
                printf("# %s\n", err);
        return s;
}

static void check_generated_common(const Spec *s) {
        const ProcessSpec *p = &s->process;

        CHECK_STR(s->oci_version, "1.0.2");
        CHECK(s->has_process && !p->terminal);
        CHECK(strv_length(p->args) == 1 && streq(p->args[0], "sh"));
        CHECK_STR(strv_env_get(p->env, "PATH"), "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        CHECK_STR(strv_env_get(p->env, "TERM"), "xterm");
        CHECK_STR(p->cwd, "/");
        CHECK(p->uid == 0 && p->gid == 0);
        CHECK(p->has_capabilities && strv_length(p->capabilities[CAP_SET_BOUNDING]) == 3);
        CHECK_STR(p->capabilities[CAP_SET_PERMITTED][2], "CAP_NET_BIND_SERVICE");
        CHECK(p->capabilities[CAP_SET_AMBIENT] == NULL);
        CHECK(p->n_rlimits == 1 && p->rlimits[0].resource == RLIMIT_NOFILE && p->rlimits[0].soft == 1024 &&
              p->rlimits[0].hard == 1024);
        CHECK(p->no_new_privileges);
        CHECK_STR(s->root_path, "rootfs");
        CHECK(s->root_readonly);
        CHECK_STR(s->hostname, "urun");
        CHECK(find_mount(s, "/proc") && find_mount(s, "/dev/shm") && find_mount(s, "/dev/mqueue"));
        CHECK(has_option(find_mount(s, "/dev"), "size=65536k"));
        CHECK(has_option(find_mount(s, "/dev/pts"), "ptmxmode=0666"));
        CHECK(strv_length(s->masked_paths) == 10 && strv_length(s->readonly_paths) == 5);
        CHECK(s->namespaces[NS_PID].present && s->namespaces[NS_IPC].present && s->namespaces[NS_UTS].present &&
              s->namespaces[NS_MOUNT].present && !s->namespaces[NS_TIME].present);
        CHECK(!s->has_resources);
}

static void test_generate(void) {
        static const IdMap sub[] = { { 1, 100000, 65536 }, { 65537, 300000, 10 } };
        Spec *s;

        s = generate_and_parse(false, NULL, 0);
        if (s) {
                check_generated_common(s);
                CHECK(s->n_mounts == 7);
                CHECK(has_option(find_mount(s, "/dev/pts"), "gid=5"));
                CHECK_STR(find_mount(s, "/sys")->type, "sysfs");
                CHECK(find_mount(s, "/sys/fs/cgroup") != NULL);
                CHECK(!s->namespaces[NS_USER].present && s->namespaces[NS_NET].present &&
                      s->namespaces[NS_CGROUP].present);
                CHECK(s->n_uid_mappings == 0 && s->n_gid_mappings == 0);
                spec_free(s);
        }

        s = generate_and_parse(true, sub, ELEMENTSOF(sub));
        if (s) {
                const MountSpec *sys = find_mount(s, "/sys");

                check_generated_common(s);
                CHECK(s->n_mounts == 6);
                CHECK(!has_option(find_mount(s, "/dev/pts"), "gid=5"));
                CHECK(sys && streq(sys->type, "none") && streq(sys->source, "/sys") && has_option(sys, "rbind") &&
                      has_option(sys, "ro"));
                CHECK(find_mount(s, "/sys/fs/cgroup") == NULL);
                CHECK(s->namespaces[NS_USER].present && !s->namespaces[NS_NET].present &&
                      !s->namespaces[NS_CGROUP].present);
                CHECK(s->n_uid_mappings == 3);
                CHECK(s->uid_mappings[0].container_id == 0 && s->uid_mappings[0].host_id == 1000 &&
                      s->uid_mappings[0].size == 1);
                CHECK(s->uid_mappings[1].container_id == 1 && s->uid_mappings[1].host_id == 100000 &&
                      s->uid_mappings[1].size == 65536);
                CHECK(s->uid_mappings[2].container_id == 65537 && s->uid_mappings[2].host_id == 300000);
                CHECK(s->n_gid_mappings == 3 && s->gid_mappings[0].host_id == 1001);
                spec_free(s);
        }

        /* No subordinate ids: just our own. */
        s = generate_and_parse(true, NULL, 0);
        CHECK(s && s->n_uid_mappings == 1 && s->n_gid_mappings == 1 && s->uid_mappings[0].host_id == 1000);
        spec_free(s);
}

int main(void) {
        test_full();
        test_minimal();
        test_versions();
        test_type_errors();
        test_process_errors();
        test_hook_errors();
        test_linux_errors();
        test_resources();
        test_malformed();
        test_load();
        test_fixtures();
        test_names();
        test_generate();
        return tap_done();
}
