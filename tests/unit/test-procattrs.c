/* Process attributes: the parsers of process.ioPriority/scheduler/execCPUAffinity,
 * linux.personality/timeOffsets (exact messages), CPU list syntax, the sysctl/timeOffsets/LSM checks
 * of procattrs_validate() (exact messages, read back from the log file), and the apply functions
 * in forked children, observed with the matching get calls. JSON is written with single quotes. */
#include <errno.h>
#include <fcntl.h>
#include <linux/ioprio.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cpu-list.h"
#include "log.h"
#include "procattrs.h"
#include "spec.h"
#include "tap.h"
#include "util.h"

#define BASE "'ociVersion':'1.0.2','root':{'path':'rootfs'}"
#define PROC(...) "{" BASE ",'process':{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'/'," __VA_ARGS__ "}}"
#define LINUX(...) "{" BASE ",'linux':{" __VA_ARGS__ "}}"

static char *dq(const char *s) {
        char *t = strdup(s);

        for (char *p = t; p && *p; p++)
                if (*p == '\'')
                        *p = '"';
        return t;
}

static Spec *parse_ok(const char *quoted) {
        _cleanup_free_ char *json = dq(quoted), *err = NULL;
        Spec *s = NULL;
        int r;

        r = spec_parse_string(json, strlen(json), &s, &err);
        CHECK(r == 0 && s);
        if (r < 0)
                printf("# %s\n", err ? err : "(no message)");
        return s;
}

static void parse_fails(const char *quoted, const char *want) {
        _cleanup_free_ char *json = dq(quoted), *err = NULL;
        Spec *s = NULL;

        CHECK_RET(spec_parse_string(json, strlen(json), &s, &err), -EINVAL);
        CHECK_STR(err, want);
        spec_free(s);
}

/* ---- parsers ---- */

static void test_io_priority(void) {
        Spec *s;

        s = parse_ok(PROC("'ioPriority':{'class':'IOPRIO_CLASS_RT','priority':3}"));
        CHECK(s && s->process.has_io_priority && s->process.io_priority_class == IOPRIO_CLASS_RT &&
              s->process.io_priority_level == 3);
        spec_free(s);
        s = parse_ok(PROC("'ioPriority':{'class':'IOPRIO_CLASS_IDLE'}"));
        CHECK(s && s->process.has_io_priority && s->process.io_priority_class == IOPRIO_CLASS_IDLE &&
              s->process.io_priority_level == 0);
        spec_free(s);
        s = parse_ok(PROC("'ioPriority':null"));
        CHECK(s && !s->process.has_io_priority);
        spec_free(s);

        parse_fails(PROC("'ioPriority':{'class':'IOPRIO_CLASS_XX'}"),
                    "process.ioPriority.class: unknown class 'IOPRIO_CLASS_XX' (expected IOPRIO_CLASS_RT, IOPRIO_CLASS_BE or IOPRIO_CLASS_IDLE)");
        parse_fails(PROC("'ioPriority':{'priority':1}"), "process.ioPriority.class: required field missing");
        parse_fails(PROC("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':8}"),
                    "process.ioPriority.priority: 8 out of range 0..7");
        parse_fails(PROC("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':-1}"),
                    "process.ioPriority.priority: -1 out of range 0..7");
        parse_fails(PROC("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':'4'}"),
                    "process.ioPriority.priority: expected an integer");
        parse_fails(PROC("'ioPriority':5"), "process.ioPriority: expected an object");
}

static void test_scheduler(void) {
        Spec *s;

        s = parse_ok(PROC("'scheduler':{'policy':'SCHED_DEADLINE','flags':['SCHED_FLAG_RESET_ON_FORK'],'nice':19,"
                          "'priority':0,'runtime':42000,'deadline':100000,'period':1000000}"));
        CHECK(s && s->process.scheduler.present && s->process.scheduler.policy == SCHED_DEADLINE &&
              s->process.scheduler.flags == 1 && s->process.scheduler.nice == 19 &&
              s->process.scheduler.runtime == 42000 && s->process.scheduler.deadline == 100000 &&
              s->process.scheduler.period == 1000000);
        spec_free(s);
        s = parse_ok(PROC("'scheduler':{'policy':'SCHED_FIFO','priority':99,'flags':['SCHED_FLAG_RESET_ON_FORK',"
                          "'SCHED_FLAG_RECLAIM','SCHED_FLAG_DL_OVERRUN','SCHED_FLAG_KEEP_POLICY','SCHED_FLAG_KEEP_PARAMS',"
                          "'SCHED_FLAG_UTIL_CLAMP_MIN','SCHED_FLAG_UTIL_CLAMP_MAX']}"));
        CHECK(s && s->process.scheduler.policy == SCHED_FIFO && s->process.scheduler.priority == 99 &&
              s->process.scheduler.flags == 0x7f);
        spec_free(s);
        s = parse_ok(PROC("'scheduler':{'policy':'SCHED_RR','priority':1,'nice':-20}"));
        CHECK(s && s->process.scheduler.policy == SCHED_RR && s->process.scheduler.nice == -20);
        spec_free(s);
        for (const char *const *p = (const char *const[]){ "SCHED_OTHER", "SCHED_BATCH", "SCHED_ISO", "SCHED_IDLE", NULL };
             *p; p++) {
                char buf[256];

                snprintf(buf, sizeof buf, PROC("'scheduler':{'policy':'%s','nice':5}"), *p);
                s = parse_ok(buf);
                CHECK(s && s->process.scheduler.present && s->process.scheduler.nice == 5);
                spec_free(s);
        }

        parse_fails(PROC("'scheduler':{}"), "process.scheduler.policy: required field missing");
        parse_fails(PROC("'scheduler':{'policy':'X'}"), "process.scheduler.policy: unknown policy 'X'");
        parse_fails(PROC("'scheduler':{'policy':'sched_other'}"), "process.scheduler.policy: unknown policy 'sched_other'");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_OTHER','nice':20}"), "process.scheduler.nice: 20 out of range -20..19");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_OTHER','nice':-21}"), "process.scheduler.nice: -21 out of range -20..19");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_OTHER','nice':'a'}"), "process.scheduler.nice: expected an integer");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_OTHER','priority':5}"),
                    "process.scheduler.priority: only SCHED_FIFO and SCHED_RR take a priority (policy is SCHED_OTHER)");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_FIFO'}"), "process.scheduler.priority: 0 out of range 1..99 for SCHED_FIFO");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_RR','priority':100}"),
                    "process.scheduler.priority: 100 out of range 1..99 for SCHED_RR");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_BATCH','runtime':5}"),
                    "process.scheduler.runtime: only SCHED_DEADLINE takes runtime, deadline and period (policy is SCHED_BATCH)");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_FIFO','priority':1,'period':5}"),
                    "process.scheduler.period: only SCHED_DEADLINE takes runtime, deadline and period (policy is SCHED_FIFO)");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_DEADLINE','runtime':100,'deadline':1000}"),
                    "process.scheduler.runtime: SCHED_DEADLINE needs a runtime of at least 1024 ns");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_DEADLINE','runtime':2000,'deadline':1000}"),
                    "process.scheduler.deadline: SCHED_DEADLINE needs a deadline of at least the runtime");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_DEADLINE','runtime':2000,'deadline':3000,'period':2500}"),
                    "process.scheduler.period: SCHED_DEADLINE needs a period of at least the deadline");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_OTHER','flags':['SCHED_FLAG_RESET_ON_FORK','BOGUS']}"),
                    "process.scheduler.flags[1]: unknown flag 'BOGUS'");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_OTHER','flags':'x'}"),
                    "process.scheduler.flags: expected an array of strings");
        parse_fails(PROC("'scheduler':{'policy':'SCHED_DEADLINE','runtime':-1}"),
                    "process.scheduler.runtime: expected an unsigned 64-bit integer");
}

static void test_exec_cpu_affinity(void) {
        Spec *s;

        s = parse_ok(PROC("'execCPUAffinity':{'initial':'0-3,7','final':'1'}"));
        CHECK(s && s->process.exec_cpu_affinity_initial && s->process.exec_cpu_affinity_final);
        if (s) {
                CHECK_STR(s->process.exec_cpu_affinity_initial, "0-3,7");
                CHECK_STR(s->process.exec_cpu_affinity_final, "1");
        }
        spec_free(s);
        s = parse_ok(PROC("'execCPUAffinity':{'initial':''}"));
        CHECK(s && !s->process.exec_cpu_affinity_initial && !s->process.exec_cpu_affinity_final);
        spec_free(s);

        parse_fails(PROC("'execCPUAffinity':{'initial':'x'}"),
                    "process.execCPUAffinity.initial: 'x' is not a CPU list (expected e.g. \"0-3,7\")");
        parse_fails(PROC("'execCPUAffinity':{'final':'3-1'}"),
                    "process.execCPUAffinity.final: '3-1' is not a CPU list (expected e.g. \"0-3,7\")");
        parse_fails(PROC("'execCPUAffinity':{'final':'9000'}"),
                    "process.execCPUAffinity.final: '9000': CPU numbers must be below 8192");
        parse_fails(PROC("'execCPUAffinity':{'initial':5}"), "process.execCPUAffinity.initial: expected a string");
        parse_fails(PROC("'execCPUAffinity':[]"), "process.execCPUAffinity: expected an object");
}

/* `exec --process FILE`: the same parsers, paths from "process". */
static void test_process_alone(void) {
        _cleanup_free_ char *json = dq("{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'/',"
                                       "'scheduler':{'policy':'SCHED_IDLE'},'execCPUAffinity':{'initial':'0'}}");
        _cleanup_free_ char *bad = dq("{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'/','scheduler':{'policy':'X'}}");
        _cleanup_free_ char *err = NULL;
        ProcessSpec *p = NULL;

        CHECK_RET(spec_parse_process_string(json, strlen(json), &p, NULL), 0);
        CHECK(p && p->scheduler.present && p->scheduler.policy == SCHED_IDLE && p->exec_cpu_affinity_initial);
        process_spec_free(p);
        p = NULL;
        CHECK_RET(spec_parse_process_string(bad, strlen(bad), &p, &err), -EINVAL);
        CHECK_STR(err, "process.scheduler.policy: unknown policy 'X'");
}

static void test_personality(void) {
        Spec *s;

        s = parse_ok(LINUX("'personality':{'domain':'LINUX'}"));
        CHECK(s && s->has_personality && s->personality == PER_LINUX);
        spec_free(s);
        s = parse_ok(LINUX("'personality':{'domain':'LINUX32','flags':['ADDR_NO_RANDOMIZE','anything']}"));
        CHECK(s && s->has_personality && s->personality == PER_LINUX32);
        spec_free(s);
        s = parse_ok(LINUX("'sysctl':{}"));
        CHECK(s && !s->has_personality);
        spec_free(s);

        parse_fails(LINUX("'personality':{}"), "linux.personality.domain: required field missing");
        parse_fails(LINUX("'personality':{'domain':'LINUX64'}"),
                    "linux.personality.domain: unknown domain 'LINUX64' (expected LINUX or LINUX32)");
        parse_fails(LINUX("'personality':{'domain':'LINUX','flags':[1]}"), "linux.personality.flags[0]: expected a string");
        parse_fails(LINUX("'personality':'LINUX'"), "linux.personality: expected an object");
}

static void test_time_offsets(void) {
        Spec *s;

        s = parse_ok(LINUX("'timeOffsets':{'monotonic':{'secs':-5,'nanosecs':999999999},'boottime':{'secs':86400}}"));
        CHECK(s && s->time_offset_monotonic.present && s->time_offset_monotonic.secs == -5 &&
              s->time_offset_monotonic.nanosecs == 999999999 && s->time_offset_boottime.present &&
              s->time_offset_boottime.secs == 86400 && s->time_offset_boottime.nanosecs == 0);
        spec_free(s);
        s = parse_ok(LINUX("'timeOffsets':{'boottime':{}}"));
        CHECK(s && !s->time_offset_monotonic.present && s->time_offset_boottime.present);
        spec_free(s);

        parse_fails(LINUX("'timeOffsets':{'realtime':{'secs':1}}"),
                    "linux.timeOffsets.realtime: unknown clock (only 'monotonic' and 'boottime' have offsets)");
        parse_fails(LINUX("'timeOffsets':{'boottime':{'nanosecs':1000000000}}"),
                    "linux.timeOffsets.boottime.nanosecs: 1000000000 out of range 0..999999999");
        parse_fails(LINUX("'timeOffsets':{'boottime':5}"), "linux.timeOffsets.boottime: expected an object");
        parse_fails(LINUX("'timeOffsets':[]"), "linux.timeOffsets: expected an object");
        parse_fails(LINUX("'timeOffsets':{'monotonic':{'secs':'1'}}"), "linux.timeOffsets.monotonic.secs: expected a 64-bit integer");
}

/* ---- CPU lists ---- */

static void test_cpu_list(void) {
        static const char *const good[] = { "0", "0-3,7", " 1 , 2 ", "0,,1", ",3,", "8191", "2-2", "0-8191", "007" };
        static const char *const bad[] = { "", ",", " ", "a", "1-", "-1", "3-1", "1 2", "0x1", "1-2-3", "+1", "1,a" };
        cpu_set_t *set = NULL;
        size_t size = 0;

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                CHECK_RET(cpu_list_parse(good[i], NULL, NULL), 0);
                if (cpu_list_parse(good[i], NULL, NULL) != 0)
                        printf("# '%s'\n", good[i]);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                CHECK_RET(cpu_list_parse(bad[i], NULL, NULL), -EINVAL);
                if (cpu_list_parse(bad[i], NULL, NULL) != -EINVAL)
                        printf("# '%s'\n", bad[i]);
        }
        CHECK_RET(cpu_list_parse("8192", NULL, NULL), -ERANGE);
        CHECK_RET(cpu_list_parse("0-99999999999999999999999", NULL, NULL), -ERANGE);

        CHECK_RET(cpu_list_parse("0-3,7", &set, &size), 0);
        CHECK(set && size == CPU_ALLOC_SIZE(CPU_LIST_MAX));
        if (set) {
                CHECK(CPU_COUNT_S(size, set) == 5);
                CHECK(CPU_ISSET_S(0, size, set) && CPU_ISSET_S(3, size, set) && CPU_ISSET_S(7, size, set));
                CHECK(!CPU_ISSET_S(4, size, set) && !CPU_ISSET_S(8, size, set));
                CPU_FREE(set);
        }
}

/* ---- procattrs_validate ---- */

static char log_path[] = "/tmp/test-procattrs-log.XXXXXX";

/* The message of the last line logged ("TIME error: MSG"). */
static char *last_logged(void) {
        _cleanup_free_ char *all = NULL;
        char *line, *msg;
        size_t len = 0;

        if (read_file_at(AT_FDCWD, log_path, 1 << 20, &all, &len) < 0 || len == 0)
                return strdup("");
        all[len - 1] = '\0';
        line = strrchr(all, '\n');
        line = line ? line + 1 : all;
        msg = strstr(line, "error: ");
        return strdup(msg ? msg + 7 : line);
}

static void validate_is(const Spec *s, int clone_flags, int want, const char *want_msg) {
        _cleanup_free_ char *msg = NULL;

        CHECK_RET(procattrs_validate(s, clone_flags), want);
        if (!want_msg)
                return;
        msg = last_logged();
        CHECK_STR(msg, want_msg);
}

static void sysctl_is(const char *key, int clone_flags, int want, const char *want_msg) {
        KeyValue kv = { .key = (char *) key, .value = (char *) "1" };
        Spec s = { .sysctl = &kv, .n_sysctl = 1 };

        validate_is(&s, clone_flags, want, want_msg);
}

/* A network namespace that is not ours, held by a child: its /proc/PID/ns/net path. */
static pid_t other_netns(char *path, size_t size) {
        int p[2];
        pid_t pid;
        char c;

        if (pipe(p) < 0)
                return -1;
        pid = fork();
        if (pid == 0) {
                close(p[0]);
                c = unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0 ? 'n' : 'y';
                (void) write(p[1], &c, 1);
                pause();
                _exit(0);
        }
        close(p[1]);
        if (pid < 0 || read(p[0], &c, 1) != 1 || c != 'y') {
                if (pid > 0) {
                        kill(pid, SIGKILL);
                        waitpid(pid, NULL, 0);
                }
                close(p[0]);
                return -1;
        }
        close(p[0]);
        snprintf(path, size, "/proc/%d/ns/net", (int) pid);
        return pid;
}

static void test_validate_sysctl(void) {
        static const struct {
                const char *key;
                int clone_flags;
                int want;
        } table[] = {
                { "kernel.msgmax", CLONE_NEWIPC, 0 },   { "kernel.msgmnb", CLONE_NEWIPC, 0 },
                { "kernel.msgmni", CLONE_NEWIPC, 0 },   { "kernel.sem", CLONE_NEWIPC, 0 },
                { "kernel.shmall", CLONE_NEWIPC, 0 },   { "kernel.shmmax", CLONE_NEWIPC, 0 },
                { "kernel.shmmni", CLONE_NEWIPC, 0 },   { "kernel.shm_rmid_forced", CLONE_NEWIPC, 0 },
                { "fs.mqueue.msg_max", CLONE_NEWIPC, 0 }, { "net.ipv4.ip_forward", CLONE_NEWNET, 0 },
                { "net.core.somaxconn", CLONE_NEWNET, 0 }, { "kernel.hostname", CLONE_NEWUTS, 0 },
                { "kernel.domainname", CLONE_NEWUTS, 0 },
                /* the right namespace only */
                { "kernel.shmmax", CLONE_NEWNET | CLONE_NEWUTS, -EPERM },
                { "fs.mqueue.queues_max", CLONE_NEWNET, -EPERM },
                { "net.ipv4.ip_forward", CLONE_NEWIPC | CLONE_NEWUTS, -EPERM },
                { "kernel.domainname", CLONE_NEWIPC, -EPERM },
                /* never namespaced */
                { "vm.swappiness", -1, -EPERM },        { "kernel.pid_max", -1, -EPERM },
                { "fs.file-max", -1, -EPERM },          { "kernel.msgmax2", -1, -EPERM },
                { "fs.mqueue", -1, -EPERM },            { "netfilter.x", -1, -EPERM },
        };
        char path[64];
        pid_t holder;

        for (size_t i = 0; i < ELEMENTSOF(table); i++) {
                KeyValue kv = { (char *) table[i].key, (char *) "1" };
                Spec s = { .sysctl = &kv, .n_sysctl = 1 };
                int r = procattrs_validate(&s, table[i].clone_flags);

                CHECK(r == table[i].want);
                if (r != table[i].want)
                        printf("# %s: got %d, want %d\n", table[i].key, r, table[i].want);
        }

        sysctl_is("vm.swappiness", -1, -EPERM, "linux.sysctl: 'vm.swappiness' is not namespaced (it would change the host)");
        sysctl_is("net.ipv4.ip_forward", 0, -EPERM,
                  "linux.sysctl: 'net.ipv4.ip_forward' belongs to the network namespace, and the container shares the host's");
        sysctl_is("kernel.shmmax", 0, -EPERM,
                  "linux.sysctl: 'kernel.shmmax' belongs to the ipc namespace, and the container shares the host's");
        sysctl_is("kernel.hostname", 0, -EPERM,
                  "linux.sysctl: 'kernel.hostname' belongs to the uts namespace, and the container shares the host's");
        sysctl_is("", -1, -EINVAL, "linux.sysctl: '' is not a sysctl name (dot-separated, no empty component, no '/')");
        sysctl_is(".net.x", -1, -EINVAL, "linux.sysctl: '.net.x' is not a sysctl name (dot-separated, no empty component, no '/')");
        sysctl_is("net.", -1, -EINVAL, "linux.sysctl: 'net.' is not a sysctl name (dot-separated, no empty component, no '/')");
        sysctl_is("net..ipv4", -1, -EINVAL,
                  "linux.sysctl: 'net..ipv4' is not a sysctl name (dot-separated, no empty component, no '/')");
        sysctl_is("net/ipv4/ip_forward", -1, -EINVAL,
                  "linux.sysctl: 'net/ipv4/ip_forward' is not a sysctl name (dot-separated, no empty component, no '/')");
        sysctl_is("net.ipv4.conf.eth0/1.rp_filter", -1, -EINVAL,
                  "linux.sysctl: 'net.ipv4.conf.eth0/1.rp_filter' is not a sysctl name (dot-separated, no empty component, no '/')");

        /* the dedicated fields win later: a sysctl for the same thing is a conflict */
        {
                KeyValue kv = { (char *) "kernel.hostname", (char *) "x" };
                Spec s = { .sysctl = &kv, .n_sysctl = 1, .hostname = (char *) "box" };

                validate_is(&s, CLONE_NEWUTS, -EINVAL, "linux.sysctl: 'kernel.hostname' conflicts with the 'hostname' field");
                kv.key = (char *) "kernel.domainname";
                s.domainname = (char *) "example.org";
                validate_is(&s, CLONE_NEWUTS, -EINVAL, "linux.sysctl: 'kernel.domainname' conflicts with the 'domainname' field");
        }

        /* joined by path: the runtime's own namespace is the host's, another one is the container's */
        {
                KeyValue kv = { (char *) "net.ipv4.ip_forward", (char *) "1" };
                Spec s = { .sysctl = &kv, .n_sysctl = 1 };

                s.namespaces[NS_NET] = (NamespaceSpec){ .present = true, .path = (char *) "/proc/self/ns/net" };
                validate_is(&s, 0, -EPERM,
                            "linux.sysctl: 'net.ipv4.ip_forward' belongs to the network namespace, and the container shares the host's");
                s.namespaces[NS_NET].path = (char *) "/nonexistent/net";
                validate_is(&s, 0, -ENOENT,
                            "linux.sysctl: 'net.ipv4.ip_forward': checking the network namespace '/nonexistent/net': No such file or directory");
                holder = other_netns(path, sizeof path);
                if (holder > 0) {
                        s.namespaces[NS_NET].path = path;
                        validate_is(&s, 0, 0, NULL);
                        kill(holder, SIGKILL);
                        waitpid(holder, NULL, 0);
                } else
                        SKIP("cannot create a network namespace here (unshare(CLONE_NEWUSER|CLONE_NEWNET) refused)");
        }
}

static void test_validate_time_offsets(void) {
        Spec s = { .time_offset_boottime = { .present = true, .secs = 10 } };

        validate_is(&s, CLONE_NEWUSER | CLONE_NEWNS, -EINVAL,
                    "linux.timeOffsets: needs a new time namespace (add {\"type\": \"time\"} to linux.namespaces)");
        validate_is(&s, 0x80 /* CLONE_NEWTIME */, 0, NULL);
        s.namespaces[NS_TIME] = (NamespaceSpec){ .present = true, .path = (char *) "/proc/1/ns/time" };
        validate_is(&s, 0, -EINVAL,
                    "linux.timeOffsets: the time namespace is joined by path; offsets can only be set on a new one");
        /* a time namespace without offsets needs nothing */
        s.time_offset_boottime.present = false;
        validate_is(&s, 0, 0, NULL);
}

static void test_validate_labels(void) {
        Spec s = { .has_process = true };

        validate_is(&s, 0, 0, NULL);
        s.process.apparmor_profile = (char *) "urun-test";
        if (procattrs_apparmor_enabled())
                SKIP("AppArmor is enabled on this host");
        else
                validate_is(&s, 0, -EOPNOTSUPP, "process.apparmorProfile: AppArmor is not enabled on this host");
        s.process.apparmor_profile = NULL;
        s.process.selinux_label = (char *) "system_u:system_r:container_t:s0";
        if (procattrs_selinux_enabled())
                SKIP("SELinux is enabled on this host");
        else
                validate_is(&s, 0, -EOPNOTSUPP, "process.selinuxLabel: SELinux is not enabled on this host");
        s.process.selinux_label = NULL;
        s.mount_label = (char *) "system_u:object_r:container_file_t:s0";
        if (procattrs_selinux_enabled())
                SKIP("SELinux is enabled on this host");
        else
                validate_is(&s, 0, -EOPNOTSUPP, "linux.mountLabel: SELinux is not enabled on this host");
}

/* ---- apply functions, in a child each ---- */

/* Runs fn in a child; returns its exit status (0 = what fn checked held). */
static int in_child(int (*fn)(void)) {
        int status;
        pid_t pid = fork();

        if (pid == 0)
                _exit(fn());
        if (pid < 0 || waitpid(pid, &status, 0) < 0)
                return -1;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static int child_personality(void) {
        Spec s = { .has_personality = true, .personality = PER_LINUX32 };

        if (procattrs_apply_personality(&s) < 0)
                return 1;
        return personality(0xffffffff) == PER_LINUX32 ? 0 : 2;
}

static int child_batch(void) {
        ProcessSpec p = { .scheduler = { .present = true, .policy = SCHED_BATCH, .nice = 5 } };

        if (procattrs_apply_process(&p) < 0)
                return 1;
        if (sched_getscheduler(0) != SCHED_BATCH)
                return 2;
        return getpriority(PRIO_PROCESS, 0) == 5 ? 0 : 3;
}

static int child_ioprio(void) {
        ProcessSpec p = { .has_io_priority = true, .io_priority_class = IOPRIO_CLASS_BE, .io_priority_level = 6 };

        if (procattrs_apply_process(&p) < 0)
                return 1;
        return syscall(SYS_ioprio_get, IOPRIO_WHO_PROCESS, 0) == IOPRIO_PRIO_VALUE(IOPRIO_CLASS_BE, 6) ? 0 : 2;
}

static int child_affinity(void) {
        cpu_set_t set;

        if (procattrs_apply_cpu_affinity("0") < 0)
                return 1;
        if (sched_getaffinity(0, sizeof set, &set) < 0)
                return 2;
        return CPU_COUNT(&set) == 1 && CPU_ISSET(0, &set) ? 0 : 3;
}

static int child_affinity_offline(void) {
        /* CPU 8000 exists on no machine this runs on: EINVAL, reported */
        return procattrs_apply_cpu_affinity("8000") == -EINVAL ? 0 : 1;
}

static int child_labels_noop(void) {
        ProcessSpec p = {};

        return procattrs_apply_labels(&p, -EBADF) == 0 ? 0 : 1;
}

static void test_apply(void) {
        _cleanup_free_ char *msg = NULL;

        CHECK_RET(in_child(child_personality), 0);
        CHECK_RET(in_child(child_batch), 0);
        CHECK_RET(in_child(child_ioprio), 0);
        CHECK_RET(in_child(child_affinity), 0);
        CHECK_RET(in_child(child_affinity_offline), 0);
        msg = last_logged();
        CHECK_STR(msg, "process.execCPUAffinity: '8000': Invalid argument (none of these CPUs is online and allowed)");
        CHECK_RET(in_child(child_labels_noop), 0);
        CHECK_RET(procattrs_apply_cpu_affinity(NULL), 0);
}

int main(void) {
        int fd = mkstemp(log_path);

        if (fd < 0 || log_open(log_path, false, false) < 0) {
                printf("Bail out! cannot open a log file\n");
                return 1;
        }
        close(fd);

        test_io_priority();
        test_scheduler();
        test_exec_cpu_affinity();
        test_process_alone();
        test_personality();
        test_time_offsets();
        test_cpu_list();
        test_validate_sysctl();
        test_validate_time_offsets();
        test_validate_labels();
        test_apply();
        unlink(log_path);
        return tap_done();
}
