/* cgroup v2: linux.resources parsing, the OCI -> v2 conversions and file writes (on a fake tree
 * of plain files), stats parsing, discovery and the plan (fake /proc and mount), and, as root, the
 * real kernel: in a private mount namespace with a fresh cgroup2 mount on /sys/fs/cgroup (the host's
 * v1 hierarchies and cgroup2 view are never written) a test subtree, delegated to the test user
 * for the rootless cases. JSON in this file uses single quotes, converted before parsing. */
#include <errno.h>
#include <grp.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cgroup.h"
#include "log.h"
#include "resources.h"
#include "spec.h"
#include "tap.h"
#include "util.h"

static char tmp[256];
static char log_path[300];
static off_t log_mark_at;

/* ---- helpers ---- */

static char *dq(const char *s) {
        char *t = strdup(s);
        for (char *p = t; p && *p; p++)
                if (*p == '\'')
                        *p = '"';
        return t;
}

static void put(const char *dir, const char *file, const char *text) {
        _cleanup_free_ char *p = strjoin_path(dir, file);
        if (write_file_at(AT_FDCWD, p, text, strlen(text), O_CREAT | O_TRUNC, 0644) < 0)
                printf("# cannot write %s: %m\n", p);
}

/* contents without the trailing newline, "" when unreadable (static buffer) */
static const char *get(const char *dir, const char *file) {
        static char buf[4096];
        _cleanup_free_ char *p = strjoin_path(dir, file), *s = NULL;

        buf[0] = '\0';
        if (read_file_at(AT_FDCWD, p, sizeof buf - 1, &s, NULL) >= 0) {
                snprintf(buf, sizeof buf, "%s", s);
                buf[strcspn(buf, "\n")] = '\0';
        }
        return buf;
}

static char *mkpath(const char *a, const char *b) {
        char *p = strjoin_path(a, b);
        (void) mkdir_p(p, 0755);
        (void) mkdir(p, 0755);
        return p;
}

/* a + "/" + b in one of 8 static buffers (so several can appear in one CHECK) */
static const char *J(const char *a, const char *b) {
        static char bufs[8][512];
        static unsigned i;
        char *buf = bufs[i++ % 8];

        snprintf(buf, 512, "%s/%s", a, b);
        return buf;
}

static void log_mark(void) {
        struct stat st;
        log_mark_at = stat(log_path, &st) == 0 ? st.st_size : 0;
}

/* was something containing `frag` logged since log_mark()? */
static bool logged(const char *frag) {
        _cleanup_free_ char *s = NULL;
        size_t n = 0;

        if (read_file_at(AT_FDCWD, log_path, 1 << 20, &s, &n) < 0 || (size_t) log_mark_at > n)
                return false;
        if (!strstr(s + log_mark_at, frag)) {
                printf("# log since mark: %s\n", s + log_mark_at);
                return false;
        }
        return true;
}

static ResourcesSpec *res_parse(const char *quoted) {
        _cleanup_free_ char *json = dq(quoted), *err = NULL;
        ResourcesSpec *r = NULL;

        if (resources_parse_string(json, strlen(json), &r, &err) < 0)
                printf("# resources: %s\n", err ? err : "?");
        return r;
}

static void res_expect_error(const char *quoted, const char *want) {
        _cleanup_free_ char *json = dq(quoted), *err = NULL;
        ResourcesSpec *r = NULL;

        CHECK_RET(resources_parse_string(json, strlen(json), &r, &err), -EINVAL);
        CHECK(r == NULL && err && strstr(err, want));
        if (!err || !strstr(err, want))
                printf("# got '%s', want '%s'\n", err ? err : "(null)", want);
        resources_spec_free(r);
}

/* ---- parsing ---- */

static void test_parse_config(void) {
        _cleanup_free_ char *json = dq(
                "{'ociVersion':'1.0.2','root':{'path':'rootfs'},"
                "'process':{'user':{'uid':0,'gid':0},'args':['sh'],'cwd':'/'},"
                "'linux':{'resources':{'memory':{'limit':104857600,'reservation':52428800,'swap':209715200,"
                "   'swappiness':18446744073709551615,'disableOOMKiller':false,'checkBeforeUpdate':true},"
                " 'cpu':{'shares':1024,'quota':50000,'period':100000,'burst':1000,'cpus':'0-1','mems':'0','idle':0},"
                " 'pids':{'limit':32},"
                " 'blockIO':{'weight':500,'weightDevice':[{'major':8,'minor':0,'weight':300}],"
                "   'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
                "   'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':0}]},"
                " 'hugepageLimits':[{'pageSize':'2MB','limit':4194304}],"
                " 'rdma':{'mlx5_0':{'hcaHandles':3,'hcaObjects':10000}},"
                " 'network':{'classID':1048577,'priorities':[{'name':'eth0','priority':5}]},"
                " 'devices':[{'allow':false,'access':'rwm'},{'allow':true,'type':'c','major':1,'minor':3,'access':'rw'}],"
                " 'unified':{'memory.high':'90000000','cgroup.max.descendants':'10'}}}}");
        _cleanup_free_ char *err = NULL;
        Spec *s = NULL;
        const ResourcesSpec *r;

        CHECK_RET(spec_parse_string(json, strlen(json), &s, &err), 0);
        if (!s) {
                printf("# %s\n", err);
                return;
        }
        r = s->resources;
        CHECK(r && r->memory.limit.set && r->memory.limit.value == 104857600);
        CHECK(r && r->memory.swap.value == 209715200 && r->memory.check_before_update.value);
        CHECK(r && r->memory.disable_oom_killer.set && !r->memory.disable_oom_killer.value && !r->memory.kernel.set);
        CHECK(r && r->cpu.shares.value == 1024 && r->cpu.quota.value == 50000 && r->cpu.burst.set && r->cpu.idle.set);
        CHECK_STR(r ? r->cpu.cpus : NULL, "0-1");
        CHECK(r && r->pids_limit.set && r->pids_limit.value == 32);
        CHECK(r && r->block_io.weight.value == 500 && r->block_io.n_weight_devices == 1 &&
              r->block_io.weight_devices[0].weight.value == 300);
        CHECK(r && r->block_io.n_throttle[BLKIO_THROTTLE_READ_BPS] == 1 &&
              r->block_io.n_throttle[BLKIO_THROTTLE_WRITE_IOPS] == 1 &&
              r->block_io.n_throttle[BLKIO_THROTTLE_WRITE_BPS] == 0);
        CHECK(r && r->n_hugepage_limits == 1 && streq(r->hugepage_limits[0].page_size, "2MB"));
        CHECK(r && r->n_rdma == 1 && streq(r->rdma[0].device, "mlx5_0") && r->rdma[0].hca_objects.value == 10000);
        CHECK(r && r->network.class_id.value == 1048577 && r->network.n_priorities == 1);
        CHECK(r && r->n_devices == 2 && r->devices[0].type == 'a' && r->devices[1].type == 'c' &&
              r->devices[1].major.set && !r->devices[0].major.set);
        CHECK(r && r->n_unified == 2);
        spec_free(s);
}

static void test_parse_errors(void) {
        res_expect_error("{'unified':{'cgroup.procs':'1'}}",
                         "resources.unified: key 'cgroup.procs' is managed by urun and cannot be set");
        res_expect_error("{'unified':{'cgroup.kill':'1'}}", "key 'cgroup.kill' is managed by urun");
        res_expect_error("{'unified':{'../memory.max':'1'}}", "key '../memory.max' is not a cgroup file name");
        res_expect_error("{'unified':{'a/memory.max':'1'}}", "is not a cgroup file name");
        res_expect_error("{'unified':{'memory.max':5}}", "resources.unified.memory.max: expected a string");
        res_expect_error("{'hugepageLimits':[{'pageSize':'2MB/../x','limit':1}]}",
                         "resources.hugepageLimits[0].pageSize: '2MB/../x' is not a page size");
        res_expect_error("{'hugepageLimits':[{'pageSize':'2MB'}]}",
                         "resources.hugepageLimits[0].limit: required field missing");
        res_expect_error("{'blockIO':{'weight':5}}", "resources.blockIO.weight: 5 out of range 10..1000");
        res_expect_error("{'blockIO':{'throttleReadBpsDevice':[{'major':-1,'minor':0,'rate':1}]}}",
                         "resources.blockIO.throttleReadBpsDevice[0].major: -1 is not a device number");
        res_expect_error("{'cpu':{'cpus':'1-x'}}", "resources.cpu.cpus: '1-x' is not a list");
        res_expect_error("{'cpu':{'idle':2}}", "resources.cpu.idle: 2 out of range 0..1");
        res_expect_error("{'memory':{'limit':-5}}", "resources.memory.limit: -5 is not a byte count");
        res_expect_error("{'memory':{'limit':'1G'}}", "resources.memory.limit: expected a 64-bit integer");
        res_expect_error("{'devices':[{'allow':true,'type':'x'}]}",
                         "resources.devices[0].type: 'x' is not a device type");
        res_expect_error("{'devices':[{'type':'c'}]}", "resources.devices[0].allow: required field missing");
        res_expect_error("{'rdma':{'bad dev':{'hcaHandles':1}}}",
                         "resources.rdma.bad dev: 'bad dev' is not an RDMA device name");
        res_expect_error("{'pids':{'limit':1}} x", "resources: invalid JSON");
        res_expect_error("{'pids':", "invalid JSON");
        CHECK(resources_unified_key_ok("cgroup.max.depth") && resources_unified_key_ok("memory.oom.group"));
        CHECK(!resources_unified_key_ok("cgroup.freeze") && !resources_unified_key_ok("cgroup.subtree_control"));
        CHECK(!resources_unified_key_ok("..") && !resources_unified_key_ok("nodot") && !resources_unified_key_ok(""));
}

/* ---- conversions and needs ---- */

static void test_conversions(void) {
        OptInt64 unset = {}, lim = { true, 100 }, unl = { true, -1 };
        int64_t v;

        CHECK(cgroup_cpu_shares_to_weight(1024) == 39);
        CHECK(cgroup_cpu_shares_to_weight(2) == 1 && cgroup_cpu_shares_to_weight(262144) == 10000);
        CHECK(cgroup_cpu_shares_to_weight(0) == 0 && cgroup_cpu_shares_to_weight(1) == 1);
        CHECK(cgroup_blkio_weight_to_io_weight(10) == 1 && cgroup_blkio_weight_to_io_weight(1000) == 10000);
        CHECK(cgroup_blkio_weight_to_io_weight(500) == 4950);
        CHECK(cgroup_swap_to_v2(&unset, &lim, &v) == 0 && v == -2);
        CHECK(cgroup_swap_to_v2(&unset, &unl, &v) == 0 && v == -1);
        CHECK(cgroup_swap_to_v2(&(OptInt64){ true, 300 }, &lim, &v) == 0 && v == 200);
        CHECK(cgroup_swap_to_v2(&(OptInt64){ true, 100 }, &lim, &v) == 0 && v == 0);
        CHECK(cgroup_swap_to_v2(&unl, &lim, &v) == 0 && v == -1);
        CHECK_RET(cgroup_swap_to_v2(&(OptInt64){ true, 50 }, &lim, &v), -EINVAL);
        CHECK_RET(cgroup_swap_to_v2(&(OptInt64){ true, 50 }, &unset, &v), -EINVAL);
        CHECK(cgroup_mask_from_string("cpu io memory bogus\n") ==
              (CGROUP_MASK(CGROUP_CPU) | CGROUP_MASK(CGROUP_IO) | CGROUP_MASK(CGROUP_MEMORY)));
        CHECK(cgroup_controller_from_string("hugetlb") == CGROUP_HUGETLB);
        CHECK(cgroup_controller_from_string("freezer") == _CGROUP_CONTROLLER_INVALID);
}

static void test_needs(void) {
        ResourcesSpec *r = res_parse("{'memory':{'limit':100,'kernel':5,'disableOOMKiller':true},'cpu':{'cpus':'0'},"
                                     "'unified':{'pids.max':'5','io.pressure':'x','cgroup.max.depth':'2'}}");
        CgroupNeeds n;

        log_mark();
        CHECK_RET(cgroup_resources_check(r, &n), 0);
        CHECK(n.any &&
              n.controllers == (CGROUP_MASK(CGROUP_MEMORY) | CGROUP_MASK(CGROUP_CPUSET) | CGROUP_MASK(CGROUP_PIDS)));
        CHECK_STR(n.field[CGROUP_MEMORY], "linux.resources.memory.limit");
        CHECK_STR(n.field[CGROUP_PIDS], "linux.resources.unified");
        CHECK(logged("linux.resources.memory.kernel: has no effect with cgroup v2, ignoring"));
        CHECK(logged("linux.resources.memory.disableOOMKiller: the OOM killer cannot be disabled"));
        resources_spec_free(r);

        r = res_parse("{'cpu':{'realtimeRuntime':1000}}");
        log_mark();
        CHECK_RET(cgroup_resources_check(r, &n), -EOPNOTSUPP);
        CHECK(logged("linux.resources.cpu.realtimeRuntime: real-time CPU time cannot be limited with cgroup v2"));
        resources_spec_free(r);
        r = res_parse("{'memory':{'limit':100,'swap':50}}");
        log_mark();
        CHECK_RET(cgroup_resources_check(r, &n), -EINVAL);
        CHECK(logged("linux.resources.memory.swap: must not be below linux.resources.memory.limit"));
        resources_spec_free(r);
        r = res_parse("{'devices':[{'allow':false}],'memory':{'useHierarchy':true}}");
        CHECK(cgroup_resources_check(r, &n) == 0 && !n.any && n.controllers == 0);
        resources_spec_free(r);
        CHECK(cgroup_resources_check(NULL, &n) == 0 && !n.any);
}

/* ---- file writes on a fake cgroup (plain files) ---- */

static const char *const fake_files[] = {
        "cpu.weight",      "cpu.max",
        "cpu.max.burst",   "cpu.idle",
        "cpuset.cpus",     "cpuset.mems",
        "memory.max",      "memory.low",
        "memory.swap.max", "memory.high",
        "pids.max",        "io.weight",
        "io.max",          "hugetlb.2MB.max",
        "rdma.max",        "cgroup.max.descendants",
        "memory.current",  "memory.swap.current",
};

static char *fake_cgroup(const char *name) {
        char *dir = mkpath(tmp, name);
        for (size_t i = 0; i < ELEMENTSOF(fake_files); i++)
                put(dir, fake_files[i], "");
        return dir;
}

static void test_apply(void) {
        _cleanup_free_ char *dir = fake_cgroup("apply");
        ResourcesSpec *r = res_parse(
                "{'memory':{'limit':104857600,'reservation':1000,'swap':209715200},"
                " 'cpu':{'shares':1024,'quota':50000,'burst':1000,'cpus':'0-1','mems':'0','idle':1},'pids':{'limit':-1},"
                " 'blockIO':{'weight':500,'throttleReadBpsDevice':[{'major':8,'minor':0,'rate':1048576}],"
                "   'throttleWriteIOPSDevice':[{'major':8,'minor':0,'rate':0}]},"
                " 'hugepageLimits':[{'pageSize':'2MB','limit':4194304}],'rdma':{'mlx5_0':{'hcaHandles':3}},"
                " 'unified':{'memory.high':'5000\\n6000','cgroup.max.descendants':'10'}}");
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        CHECK_RET(cgroup_resources_apply(fd, r, 0), 0);
        CHECK_STR(get(dir, "memory.max"), "104857600");
        CHECK_STR(get(dir, "memory.swap.max"), "104857600");
        CHECK_STR(get(dir, "memory.low"), "1000");
        CHECK_STR(get(dir, "cpu.weight"), "39");
        CHECK_STR(get(dir, "cpu.max"), "50000 100000");
        CHECK_STR(get(dir, "cpu.max.burst"), "1000");
        CHECK_STR(get(dir, "cpu.idle"), "1");
        CHECK_STR(get(dir, "cpuset.cpus"), "0-1");
        CHECK_STR(get(dir, "pids.max"), "max");
        CHECK_STR(get(dir, "io.weight"), "default 4950");
        CHECK_STR(get(dir, "io.max"), "8:0 rbps=1048576 wiops=max");
        CHECK_STR(get(dir, "hugetlb.2MB.max"), "4194304");
        CHECK_STR(get(dir, "rdma.max"), "mlx5_0 hca_handle=3");
        CHECK_STR(get(dir, "memory.high"), "6000"); /* one write per line: the last one stays in a plain file */
        CHECK_STR(get(dir, "cgroup.max.descendants"), "10");
        resources_spec_free(r);

        /* BFQ takes the OCI weight as is; swap == limit means no swap; quota alone, default period */
        put(dir, "io.bfq.weight", "");
        r = res_parse("{'blockIO':{'weight':500,'weightDevice':[{'major':8,'minor':16,'weight':20}]},"
                      "'memory':{'limit':1000,'swap':1000},'cpu':{'quota':-1,'period':20000}}");
        CHECK_RET(cgroup_resources_apply(fd, r, 0), 0);
        CHECK_STR(get(dir, "io.bfq.weight"), "8:16 20");
        CHECK_STR(get(dir, "memory.swap.max"), "0");
        CHECK_STR(get(dir, "cpu.max"), "max 20000");
        resources_spec_free(r);

        /* a controller that is not enabled: its files are missing */
        (void) unlinkat(fd, "pids.max", 0);
        r = res_parse("{'pids':{'limit':10}}");
        log_mark();
        CHECK_RET(cgroup_resources_apply(fd, r, 0), -ENOENT);
        CHECK(logged("linux.resources.pids.limit: pids.max does not exist: is the pids controller enabled"));
        resources_spec_free(r);
}

static void test_apply_update(void) {
        _cleanup_free_ char *dir = fake_cgroup("update");
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        ResourcesSpec *r;

        /* only the period changes: the quota in force stays */
        put(dir, "cpu.max", "20000 50000\n");
        r = res_parse("{'cpu':{'period':100000}}");
        CHECK_RET(cgroup_resources_apply(fd, r, CGROUP_APPLY_UPDATE), 0);
        CHECK_STR(get(dir, "cpu.max"), "20000 100000");
        resources_spec_free(r);

        put(dir, "memory.current", "1000000\n");
        put(dir, "memory.swap.current", "0\n");
        r = res_parse("{'memory':{'limit':500000,'checkBeforeUpdate':true}}");
        log_mark();
        CHECK_RET(cgroup_resources_apply(fd, r, CGROUP_APPLY_UPDATE), -EBUSY);
        CHECK(logged(
                "linux.resources.memory.limit: 500000 is not above the current usage 1000000 (checkBeforeUpdate)"));
        CHECK_RET(cgroup_resources_apply(fd, r, 0), 0); /* create: nothing to check against */
        resources_spec_free(r);
}

static void test_stats(void) {
        _cleanup_free_ char *dir = mkpath(tmp, "stats");
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        CgroupStats s;

        put(dir, "cpu.stat",
            "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\nnr_periods 7\nnr_throttled 2\nthrottled_usec 99\n");
        put(dir, "memory.current", "4096\n");
        put(dir, "memory.max", "max\n");
        put(dir, "memory.events", "low 0\nhigh 1\nmax 2\noom 3\noom_kill 4\noom_group_kill 0\n");
        put(dir, "memory.stat", "anon 100\nfile 200\n");
        put(dir, "pids.current", "3\n");
        put(dir, "pids.max", "32\n");
        put(dir, "io.stat",
            "8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0\n253:1 rbytes=5 wbytes=6 rios=7 wios=8 dbytes=0 dios=0\n");
        put(dir, "hugetlb.2MB.current", "0\n");
        put(dir, "hugetlb.2MB.max", "4194304\n");
        put(dir, "hugetlb.2MB.events", "max 5\n");
        put(dir, "hugetlb.2MB.rsvd.current", "0\n");

        CHECK_RET(cgroup_stats_read(fd, &s), 0);
        CHECK(s.has_cpu && s.cpu_usage_usec == 1500 && s.cpu_system_usec == 500 && s.cpu_nr_throttled == 2 &&
              s.cpu_throttled_usec == 99);
        CHECK(s.has_memory && s.memory_current == 4096 && s.memory_max == UINT64_MAX && s.memory_events_oom_kill == 4 &&
              s.memory_events_high == 1);
        CHECK(s.n_memory_stat == 2 && streq(s.memory_stat[1].name, "file") && s.memory_stat[1].value == 200);
        CHECK(s.has_pids && s.pids_current == 3 && s.pids_max == 32);
        CHECK(s.n_io == 2 && s.io[1].major == 253 && s.io[1].minor == 1 && s.io[1].wios == 8);
        CHECK(s.n_hugetlb == 1 && streq(s.hugetlb[0].page_size, "2MB") && s.hugetlb[0].max == 4194304 &&
              s.hugetlb[0].failcnt == 5);
        cgroup_stats_done(&s);
}

/* ---- discovery ---- */

static void test_proc_cgroup(void) {
        _cleanup_free_ char *a = NULL, *b = NULL, *c = NULL;

        CHECK_RET(cgroup_parse_proc_cgroup("9:name=systemd:/\n4:memory:/x\n0::/\n", &a), 0);
        CHECK_STR(a, "/");
        CHECK_RET(cgroup_parse_proc_cgroup("0::/user.slice/u@1.service/init.scope (deleted)\n", &b), 0);
        CHECK_STR(b, "/user.slice/u@1.service/init.scope");
        CHECK_RET(cgroup_parse_proc_cgroup("4:memory:/x\n1:cpu:/\n", &c), -ENOENT);
}

static void test_find_mount(void) {
        _cleanup_free_ char *mp = mkpath(tmp, "mnt point"), *m = NULL, *root = NULL, *m2 = NULL, *mi = NULL;
        struct stat st;
        bool hybrid = true;

        CHECK(stat(mp, &st) == 0);
        /* a visible cgroup2 (same device as the directory), a v1 mount that is hidden (other
         * device), and a cgroup2 whose root does not contain our cgroup */
        CHECK(asprintf(&mi,
                       "22 1 0:21 / /proc rw - proc proc rw\n"
                       "40 31 0:99 / %s/mnt\\040point rw - cgroup cgroup rw,cpu\n"
                       "41 31 %u:%u /other %s/mnt\\040point rw - cgroup2 cgroup2 rw\n"
                       "42 31 %u:%u / %s/mnt\\040point rw,nosuid shared:9 - cgroup2 none rw,nsdelegate\n",
                       tmp, major(st.st_dev), minor(st.st_dev), tmp, major(st.st_dev), minor(st.st_dev), tmp) > 0);
        CHECK_RET(cgroup_find_mount(mi, "/a/b", &m, &root, &hybrid), 0);
        CHECK_STR(m, mp);
        CHECK_STR(root, "/");
        CHECK(!hybrid);
        free(mi);
        /* the same v1 mount, now visible: a hybrid host */
        CHECK(asprintf(&mi, "40 31 %u:%u / %s/mnt\\040point rw - cgroup cgroup rw,cpu\n", major(st.st_dev),
                       minor(st.st_dev), tmp) > 0);
        CHECK_RET(cgroup_find_mount(mi, "/a", &m2, NULL, &hybrid), -ENOENT);
        CHECK(hybrid);
}

static void test_systemd_path(void) {
        static const struct {
                const char *in;
                bool rootless;
                const char *want;
        } ok[] = {
                { "system.slice:docker:abc", false, "system.slice/docker-abc.scope" },
                { ":urun:x", true, "user.slice/urun-x.scope" },
                { ":urun:x", false, "system.slice/urun-x.scope" },
                { "a-b.slice:p:n", false, "a.slice/a-b.slice/p-n.scope" },
                { "-.slice::n", false, "n.scope" },
                { "kubepods-burstable.slice:cri:pod1.slice", false,
                  "kubepods.slice/kubepods-burstable.slice/pod1.slice" },
        };
        static const char *const bad[] = { "a:b",           "a.slice:p:",     "x:p:n",
                                           "-a.slice:p:n",  "a--b.slice:p:n", "a.slice:p:..",
                                           "a.slice:p:n:m", "a/b.slice:p:n" };

        for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
                _cleanup_free_ char *p = NULL;
                CHECK_RET(cgroup_systemd_path(ok[i].in, ok[i].rootless, &p), 0);
                CHECK_STR(p, ok[i].want);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *p = NULL;
                CHECK_RET(cgroup_systemd_path(bad[i], false, &p), -EINVAL);
        }
}

/* A fake /proc/self and cgroup2 mount: <tmp>/fake/mnt is "mounted" (its own device) with the
 * caller in /a/init.scope. Root may write everything here, so delegation always holds. */
static char *fake_host(const char *controllers) {
        char *mnt = mkpath(tmp, "fake/mnt");
        _cleanup_free_ char *proc = mkpath(tmp, "fake/proc"), *a = mkpath(mnt, "a"), *init = mkpath(a, "init.scope");
        _cleanup_free_ char *mi = NULL,
                            *u = mkpath(mnt, "user.slice/user-1000.slice/user@1000.service/app.slice/t.scope");
        struct stat st;

        (void) stat(mnt, &st);
        put(proc, "cgroup", "1:cpu:/\n0::/a/init.scope\n");
        free(mkpath(tmp, "fake/proc-user"));
        put(J(tmp, "fake/proc-user"), "cgroup", "0::/user.slice/user-1000.slice/user@1000.service/app.slice/t.scope\n");
        (void) asprintf(&mi, "30 1 %u:%u / %s rw - cgroup2 cgroup2 rw\n", major(st.st_dev), minor(st.st_dev), mnt);
        put(proc, "mountinfo", mi);
        put(J(tmp, "fake/proc-user"), "mountinfo", mi);
        for (char *d = u + strlen(mnt); d; d = strchr(d + 1, '/')) {
                _cleanup_free_ char *dir = strndup(u, (size_t) (d - u));
                put(dir, "cgroup.procs", "");
                put(dir, "cgroup.subtree_control", "");
        }
        put(tmp, "fake/delegate", "cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n");
        put(mnt, "cgroup.controllers", controllers);
        put(mnt, "cgroup.subtree_control", controllers);
        put(mnt, "cgroup.procs", "1\n");
        put(a, "cgroup.controllers", controllers);
        put(a, "cgroup.subtree_control", "");
        put(a, "cgroup.procs", "");
        put(init, "cgroup.procs", "1234\n");
        return mnt;
}

static int fake_plan_as(const char *proc_dir, bool rootless, const char *path, const char *resources, bool systemd,
                        CgroupPlan *p) {
        _cleanup_free_ char *proc = strjoin_path(tmp, proc_dir), *del = strjoin_path(tmp, "fake/delegate"),
                            *bus = NULL;
        ResourcesSpec *r = resources ? res_parse(resources) : NULL;
        CgroupPlanOptions o = { .id = "c1",
                                .cgroups_path = path,
                                .resources = r,
                                .rootless = rootless,
                                .systemd = systemd,
                                .proc_self = proc,
                                .delegate_file = del };
        int k;

        /* never the machine's own systemd: no manager here (test-cgroup-systemd.c has a fake one) */
        if (asprintf(&bus, "unix:path=%s/no-bus", tmp) < 0)
                return -ENOMEM;
        o.systemd_address = bus;
        k = cgroup_plan(&o, p);

        p->resources = NULL; /* freed right here */
        resources_spec_free(r);
        return k;
}

static int fake_plan(const char *path, const char *resources, bool systemd, CgroupPlan *p) {
        return fake_plan_as("fake/proc", false, path, resources, systemd, p);
}

static void test_plan_fake(void) {
        _cleanup_free_ char *mnt = fake_host("memory pids"), *want = NULL;
        CgroupPlan p;

        CHECK_RET(fake_plan(NULL, "{'pids':{'limit':5}}", false, &p), 0);
        CHECK(!p.none);
        (void) asprintf(&want, "%s/a", mnt);
        CHECK_STR(p.base, want);
        CHECK_STR(p.own, J(want, "init.scope"));
        CHECK_STR(p.path, J(want, "urun-c1"));
        CHECK_STR(p.top, p.path);
        CHECK(p.needs.controllers == CGROUP_MASK(CGROUP_PIDS));
        cgroup_plan_done(&p);

        CHECK_RET(fake_plan("pod//c1/", NULL, false, &p), 0);
        CHECK_STR(p.path, J(want, "pod/c1"));
        CHECK_STR(p.top, J(want, "pod"));
        cgroup_plan_done(&p);

        CHECK_RET(fake_plan("/x/y", NULL, false, &p), 0);
        CHECK_STR(p.path, J(mnt, "x/y"));
        CHECK_STR(p.top, J(mnt, "x"));
        CHECK_STR(p.base, mnt);
        cgroup_plan_done(&p);

        log_mark();
        CHECK_RET(fake_plan("machine.slice:urun:c1", NULL, true, &p), 0);
        CHECK_STR(p.path, J(mnt, "machine.slice/urun-c1.scope")); /* the system instance's place */
        CHECK(logged("linux.cgroupsPath 'machine.slice:urun:c1': systemd not reachable (unix:path="));
        CHECK(logged("/no-bus: No such file or directory): using the cgroupfs path 'machine.slice/urun-c1.scope'"));
        cgroup_plan_done(&p);
        /* a user instance: below user@UID.service, where `systemd --user` would put the scope */
        CHECK_RET(fake_plan_as("fake/proc-user", true, "user.slice:podman:x", NULL, true, &p), 0);
        CHECK_STR(p.path, J(mnt, "user.slice/user-1000.slice/user@1000.service/user.slice/podman-x.scope"));
        CHECK_STR(p.top, J(mnt, "user.slice/user-1000.slice/user@1000.service/user.slice"));
        cgroup_plan_done(&p);
        /* and a plain relative path from there: a sibling of our scope */
        CHECK_RET(fake_plan_as("fake/proc-user", true, NULL, NULL, false, &p), 0);
        CHECK_STR(p.path, J(mnt, "user.slice/user-1000.slice/user@1000.service/app.slice/urun-c1"));
        cgroup_plan_done(&p);

        log_mark();
        CHECK_RET(fake_plan("../escape", NULL, false, &p), -EINVAL);
        CHECK(logged("linux.cgroupsPath '../escape': not a cgroup path below the delegated one"));

        log_mark();
        CHECK_RET(fake_plan(NULL, "{'cpu':{'quota':1000}}", false, &p), -EOPNOTSUPP);
        CHECK(logged("linux.resources.cpu.quota: the cpu controller is not delegated to"));
        CHECK(logged("(it has: memory pids); as root: echo +cpu >"));

        /* the leaf exists and holds processes */
        free(mkpath(want, "busy"));
        put(J(want, "busy"), "cgroup.events", "populated 1\nfrozen 0\n");
        put(J(want, "busy"), "cgroup.procs", "");
        log_mark();
        CHECK_RET(fake_plan("busy", NULL, false, &p), -EBUSY);
        CHECK(logged("already holds processes"));
}

/* Without a real kernel, create can make directories and apply limits that need no controller. */
static void test_create_fake(void) {
        _cleanup_free_ char *mnt = fake_host("memory pids"), *want = NULL;
        Cgroup cg = CGROUP_NULL;
        CgroupPlan p;
        struct stat st;

        (void) asprintf(&want, "%s/a/pod/c2", mnt);
        CHECK_RET(fake_plan("pod/c2", NULL, false, &p), 0);
        CHECK_RET(cgroup_create(&p, &cg), 0);
        CHECK_STR(cg.path, want);
        CHECK_STR(cg.top, J(mnt, "a/pod"));
        CHECK(cg.fd >= 0 && stat(want, &st) == 0 && S_ISDIR(st.st_mode));
        cgroup_plan_done(&p);
        cgroup_done(&cg);
        CHECK(cg.fd == -EBADF && !cg.path);

        /* plan "none" creates nothing */
        p = (CgroupPlan){ .none = true };
        CHECK_RET(cgroup_create(&p, &cg), 0);
        CHECK(cg.fd < 0 && !cg.path);
}

/* ---- the real kernel (root, private mount namespace) ---- */

#define CG "/sys/fs/cgroup"

static char T[128];          /* the test subtree, delegated to the test user */
static bool enabled_hugetlb; /* we enabled hugetlb in the root's subtree_control */

static pid_t spawn_in(int cgfd, uint64_t flags) {
        struct clone_args a = { .flags = CLONE_INTO_CGROUP | flags, .exit_signal = SIGCHLD, .cgroup = (uint64_t) cgfd };
        pid_t pid;

        fflush(stdout);
        pid = (pid_t) syscall(SYS_clone3, &a, sizeof a);
        if (pid == 0)
                for (;;)
                        pause();
        return pid;
}

static int reap(pid_t pid) {
        int st = 0;
        return waitpid(pid, &st, 0) == pid && WIFSIGNALED(st) ? WTERMSIG(st) : -1;
}

static bool has_hugetlb_2mb(void) {
        return access("/sys/kernel/mm/hugepages/hugepages-2048kB", F_OK) == 0;
}

/* A private mount namespace with a fresh cgroup2 on /sys/fs/cgroup (hiding the host's v1
 * hierarchies), and the test subtree T with us in T/init.scope (the reference layout). */
static int kernel_setup(void) {
        char pid[16];

        if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                return -errno;
        (void) umount2(CG, MNT_DETACH);
        if (mount("none", CG, "cgroup2", 0, NULL) < 0)
                return -errno;
        snprintf(T, sizeof T, CG "/urun-test-%d", (int) getpid());
        if (mkdir(T, 0755) < 0 || mkdir(J(T, "init.scope"), 0755) < 0)
                return -errno;
        snprintf(pid, sizeof pid, "%d", (int) getpid());
        return write_file_at(AT_FDCWD, J(T, "init.scope/cgroup.procs"), pid, strlen(pid), 0, 0);
}

static void rmdir_tree(const char *dir) {
        _cleanup_free_ char *cmd = NULL;
        (void) write_file_at(AT_FDCWD, J(dir, "cgroup.kill"), "1", 1, 0, 0);
        /* depth first; cgroupfs directories hold no removable files */
        if (asprintf(&cmd, "find '%s' -depth -type d -exec rmdir {} + 2>/dev/null", dir) > 0)
                (void) system(cmd);
}

static void kernel_cleanup(void) {
        char pid[16];

        snprintf(pid, sizeof pid, "%d", (int) getpid());
        (void) write_file_at(AT_FDCWD, CG "/cgroup.procs", pid, strlen(pid), 0, 0);
        rmdir_tree(T);
        if (enabled_hugetlb)
                (void) write_file_at(AT_FDCWD, CG "/cgroup.subtree_control", "-hugetlb", 8, 0, 0);
}

static int root_plan(const char *path, const char *resources, CgroupPlan *p, ResourcesSpec **ret_r) {
        ResourcesSpec *r = resources ? res_parse(resources) : NULL;
        CgroupPlanOptions o = { .id = "k", .cgroups_path = path, .resources = r };
        int k = cgroup_plan(&o, p);

        if (ret_r)
                *ret_r = r;
        else
                resources_spec_free(r);
        return k;
}

static void kernel_lifecycle(void) {
        Cgroup cg = CGROUP_NULL;
        CgroupPlan p;
        pid_t a, b, *pids = NULL;
        size_t n = 0;
        bool frozen = true;
        int efd = -EBADF;
        struct stat s1, s2;

        CHECK_RET(root_plan(NULL, NULL, &p, NULL), 0);
        CHECK(!p.none && streq(p.mount, CG));
        CHECK_STR(p.own, J(T, "init.scope"));
        CHECK_STR(p.base, T);
        CHECK_STR(p.path, J(T, "urun-k"));
        CHECK_RET(cgroup_create(&p, &cg), 0);
        a = spawn_in(cg.fd, 0);
        CHECK(a > 0);
        CHECK_RET(cgroup_pids(cg.path, &pids, &n), 0);
        CHECK(n == 1 && pids && pids[0] == a);
        free(pids);

        CHECK_RET(cgroup_freeze(cg.path, true), 0);
        CHECK(cgroup_is_frozen(cg.path, &frozen) == 0 && frozen);
        CHECK_STR(get(cg.path, "cgroup.events"), "populated 1");
        CHECK(strstr(get(cg.path, "cgroup.events"), "") && get(cg.path, "cgroup.freeze")[0] == '1');
        CHECK_RET(cgroup_freeze(cg.path, false), 0);
        CHECK(cgroup_is_frozen(cg.path, &frozen) == 0 && !frozen);

        /* a signal other than KILL: every pid, frozen meanwhile, thawed after */
        CHECK_RET(cgroup_kill(cg.path, SIGTERM), 0);
        CHECK(reap(a) == SIGTERM);
        CHECK(cgroup_is_frozen(cg.path, &frozen) == 0 && !frozen);

        /* exec target: the leaf itself while it may hold processes */
        CHECK_RET(cgroup_exec_target(cg.path, 0, &efd), 0);
        CHECK(fstat(efd, &s1) == 0 && fstat(cg.fd, &s2) == 0 && s1.st_ino == s2.st_ino);
        efd = safe_close(efd);

        /* SIGKILL through cgroup.kill reaches the whole subtree, a sub-cgroup included */
        a = spawn_in(cg.fd, 0);
        CHECK(mkdir(J(cg.path, "sub"), 0755) == 0);
        efd = open(J(cg.path, "sub"), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        b = spawn_in(efd, 0);
        efd = safe_close(efd);
        CHECK_RET(cgroup_pids(cg.path, &pids, &n), 0);
        CHECK(n == 2);
        free(pids);
        CHECK_RET(cgroup_kill(cg.path, SIGKILL), 0);
        CHECK(reap(a) == SIGKILL && reap(b) == SIGKILL);
        CHECK_RET(cgroup_wait_empty(cg.path, 5000), 0);

        CHECK_RET(cgroup_remove(cg.path, cg.top), 0);
        CHECK(access(cg.path, F_OK) < 0 && errno == ENOENT && access(T, F_OK) == 0);
        CHECK_RET(cgroup_remove(cg.path, cg.top), 0); /* gone already */
        CHECK_RET(cgroup_freeze(cg.path, true), -ENOENT);
        cgroup_plan_done(&p);
        cgroup_done(&cg);
}

/* clone3(CLONE_INTO_CGROUP | CLONE_NEWCGROUP): the new namespace is rooted at the target cgroup
 * (what process.c relies on when it passes both flags). */
static void kernel_cgroupns(void) {
        _cleanup_free_ char *dir = mkpath(T, "nsprobe"), *text = NULL;
        _cleanup_close_ int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        struct clone_args a = { .flags = CLONE_INTO_CGROUP | CLONE_NEWCGROUP,
                                .exit_signal = SIGCHLD,
                                .cgroup = (uint64_t) fd };
        int p[2];
        pid_t pid;

        CHECK(pipe(p) == 0);
        fflush(stdout);
        pid = (pid_t) syscall(SYS_clone3, &a, sizeof a);
        if (pid == 0) {
                _cleanup_free_ char *s = NULL;
                (void) read_file_at(AT_FDCWD, "/proc/self/cgroup", 4096, &s, NULL);
                (void) write_all(p[1], s ? s : "", s ? strlen(s) : 0);
                _exit(0);
        }
        close(p[1]);
        (void) read_fd_all(p[0], 4096, &text, NULL);
        close(p[0]);
        (void) waitpid(pid, NULL, 0);
        CHECK(text && strstr(text, "0::/\n"));
        (void) rmdir(dir);
}

static void kernel_hugetlb(void) {
        Cgroup cg = CGROUP_NULL;
        ResourcesSpec *r = NULL;
        CgroupPlan p;

        if (!strstr(get(CG, "cgroup.subtree_control"), "hugetlb")) {
                enabled_hugetlb = write_file_at(AT_FDCWD, CG "/cgroup.subtree_control", "+hugetlb", 8, 0, 0) >= 0;
                CHECK(enabled_hugetlb);
        }
        CHECK_RET(root_plan("pod/h", "{'hugepageLimits':[{'pageSize':'2MB','limit':4194304}]}", &p, &r), 0);
        CHECK_STR(p.top, J(T, "pod"));
        CHECK_RET(cgroup_create(&p, &cg), 0);
        CHECK(strstr(get(T, "cgroup.subtree_control"), "hugetlb") &&
              strstr(get(J(T, "pod"), "cgroup.subtree_control"), "hugetlb"));
        CHECK_STR(get(cg.path, "hugetlb.2MB.max"), "4194304");
        resources_spec_free(r);
        r = res_parse(
                "{'hugepageLimits':[{'pageSize':'2MB','limit':2097152}],'unified':{'cgroup.max.descendants':'3'}}");
        CHECK_RET(cgroup_update(cg.path, r), 0);
        CHECK_STR(get(cg.path, "hugetlb.2MB.max"), "2097152");
        CHECK_STR(get(cg.path, "cgroup.max.descendants"), "3");
        resources_spec_free(r);

        /* the leaf now enables a controller for its children: exec goes to a sub-cgroup */
        CHECK(write_file_at(AT_FDCWD, J(cg.path, "cgroup.subtree_control"), "+hugetlb", 8, 0, 0) >= 0);
        {
                _cleanup_close_ int efd = -EBADF;
                struct stat st1, st2;
                pid_t a;
                CHECK_RET(cgroup_exec_target(cg.path, 0, &efd), 0);
                CHECK(fstat(efd, &st1) == 0 && stat(J(cg.path, "urun-exec"), &st2) == 0 && st1.st_ino == st2.st_ino);
                a = efd >= 0 ? spawn_in(efd, 0) : -1;
                CHECK(a > 0 && strstr(get(J(cg.path, "urun-exec"), "cgroup.procs"), ""));
                CHECK_RET(cgroup_kill(cg.path, SIGKILL), 0);
                CHECK(reap(a) == SIGKILL);
        }
        CHECK_RET(cgroup_remove(cg.path, cg.top), 0);
        CHECK(access(J(T, "pod"), F_OK) < 0);
        cgroup_plan_done(&p);
        cgroup_done(&cg);

        /* the only controller here is hugetlb: memory cannot be honoured */
        log_mark();
        CHECK_RET(root_plan(NULL, "{'memory':{'limit':1048576}}", &p, NULL), -EOPNOTSUPP);
        CHECK(logged("linux.resources.memory.limit: the memory controller is not delegated to " CG "/urun-test-"));
}

/* --- rootless: a child that becomes the test user; it reports the first failing step --- */

static int as_user(uid_t uid, gid_t gid, const char *cgroup_dir, int (*fn)(void)) {
        int st = 0;
        pid_t pid;

        fflush(stdout);
        pid = fork();
        if (pid == 0) {
                char me[16];
                snprintf(me, sizeof me, "%d", (int) getpid());
                if (cgroup_dir && write_file_at(AT_FDCWD, J(cgroup_dir, "cgroup.procs"), me, strlen(me), 0, 0) < 0)
                        _exit(90);
                if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
                        _exit(91);
                _exit(fn());
        }
        return waitpid(pid, &st, 0) == pid && WIFEXITED(st) ? WEXITSTATUS(st) : 99;
}

static int user_plan(bool rootless, const char *resources, CgroupPlan *p) {
        ResourcesSpec *r = resources ? res_parse(resources) : NULL;
        CgroupPlanOptions o = { .id = "u", .resources = r, .rootless = rootless };
        int k = cgroup_plan(&o, p);
        p->resources = NULL;
        resources_spec_free(r);
        return k;
}

/* delegated: plan, create with a limit, a process in it, freeze, kill, remove */
static int user_delegated(void) {
        ResourcesSpec *r = res_parse("{'hugepageLimits':[{'pageSize':'2MB','limit':2097152}]}");
        CgroupPlanOptions o = { .id = "u", .resources = r, .rootless = true };
        Cgroup cg = CGROUP_NULL;
        CgroupPlan p;
        pid_t a, *pids = NULL;
        size_t n = 0;

        if (cgroup_plan(&o, &p) < 0 || p.none || !streq(p.base, T))
                return 1;
        if (cgroup_create(&p, &cg) < 0 || !streq(get(cg.path, "hugetlb.2MB.max"), "2097152"))
                return 2;
        a = spawn_in(cg.fd, 0);
        if (a <= 0 || cgroup_pids(cg.path, &pids, &n) < 0 || n != 1 || pids[0] != a)
                return 3;
        if (cgroup_freeze(cg.path, true) < 0 || cgroup_freeze(cg.path, false) < 0)
                return 4;
        if (cgroup_kill(cg.path, SIGKILL) < 0 || reap(a) != SIGKILL)
                return 5;
        if (cgroup_remove(cg.path, cg.top) < 0 || access(cg.path, F_OK) == 0)
                return 6;
        /* a controller the subtree does not have is an error, not "none" */
        if (user_plan(true, "{'pids':{'limit':5}}", &p) != -EOPNOTSUPP)
                return 7;
        return 0;
}

/* the same as root of a user namespace without host privileges (rootless Podman, unshare -Ur) */
static int user_in_userns(void) {
        char map[32];
        uid_t uid = getuid();
        gid_t gid = getgid();

        snprintf(map, sizeof map, "0 %u 1", (unsigned) uid);
        /* setresuid() made us non-dumpable, which makes our /proc files root's */
        if (prctl(PR_SET_DUMPABLE, 1) < 0 || unshare(CLONE_NEWUSER) < 0 || write_file_at(AT_FDCWD, "/proc/self/uid_map", map, strlen(map), 0, 0) < 0)
                return 20;
        snprintf(map, sizeof map, "0 %u 1", (unsigned) gid);
        if (write_file_at(AT_FDCWD, "/proc/self/setgroups", "deny", 4, 0, 0) < 0 ||
            write_file_at(AT_FDCWD, "/proc/self/gid_map", map, strlen(map), 0, 0) < 0 || setresgid(0, 0, 0) < 0 ||
            setresuid(0, 0, 0) < 0)
                return 21;
        return user_delegated();
}

/* in a cgroup nothing is delegated for: rootless runs without one (one warning when it asked
 * for limits); non-rootless it is an error */
static int user_not_delegated(void) {
        CgroupPlan p;

        if (user_plan(true, "{'hugepageLimits':[{'pageSize':'2MB','limit':2097152}]}", &p) != 0 || !p.none ||
            !streq(p.none_reason, "not delegated") || p.path)
                return 1;
        if (user_plan(true, NULL, &p) != 0 || !p.none)
                return 2;
        if (user_plan(false, "{'hugepageLimits':[{'pageSize':'2MB','limit':2097152}]}", &p) != -EACCES)
                return 3;
        return 0;
}

static void kernel_rootless(void) {
        static const char *const files[] = { "", "cgroup.procs", "cgroup.subtree_control", "cgroup.threads" };
        struct passwd *pw = getpwnam("uruntest");
        _cleanup_free_ char *nd = NULL;

        if (!pw) {
                SKIP("no user uruntest (tests/run.sh creates it; or useradd -m uruntest)");
                return;
        }
        /* delegate T as systemd does: the directory and the delegatee's files */
        for (size_t i = 0; i < ELEMENTSOF(files); i++)
                CHECK(chown(*files[i] ? J(T, files[i]) : T, pw->pw_uid, pw->pw_gid) == 0);
        CHECK_RET(as_user(pw->pw_uid, pw->pw_gid, NULL, user_delegated), 0);
        CHECK_RET(as_user(pw->pw_uid, pw->pw_gid, NULL, user_in_userns), 0);

        nd = mkpath(T, "nd");
        free(mkpath(nd, "init.scope"));
        CHECK(chown(nd, 0, 0) == 0);
        log_mark();
        CHECK_RET(as_user(pw->pw_uid, pw->pw_gid, J(nd, "init.scope"), user_not_delegated), 0);
        CHECK(logged("running without a cgroup, these limits are NOT applied: hugetlb"));
        CHECK(logged("linux.resources: no cgroup delegated to uid"));
}

/* The host's own view, before anything else: on a hybrid host (v1 hierarchies visible, like the
 * test machine) nothing is planned, so nothing is ever written to the host's cgroups. */
static void kernel_host_view(void) {
        _cleanup_free_ char *mi = NULL, *text = NULL, *own = NULL, *m = NULL;
        bool hybrid = false;
        CgroupPlan p;

        if (read_file_at(AT_FDCWD, "/proc/self/mountinfo", 1 << 24, &mi, NULL) < 0 ||
            read_file_at(AT_FDCWD, "/proc/self/cgroup", 1 << 16, &text, NULL) < 0 ||
            cgroup_parse_proc_cgroup(text, &own) < 0 || cgroup_find_mount(mi, own, &m, NULL, &hybrid) < 0 || !hybrid) {
                SKIP("this host is not a hybrid cgroup v1/v2 host");
                return;
        }
        CHECK_RET(root_plan(NULL, NULL, &p, NULL), 0);
        CHECK(p.none && streq(p.none_reason, "hybrid cgroup v1/v2 host") && !p.path);
        log_mark();
        CHECK_RET(root_plan(NULL, "{'pids':{'limit':5}}", &p, NULL), -EOPNOTSUPP);
        CHECK(logged(
                "linux.resources: cgroup v1 hierarchies are in use here and urun supports cgroup v2 only: cannot apply the limits (pids)"));
}

static void test_kernel(void) {
        int r;

        if (geteuid() != 0) {
                SKIP("real cgroup2 tests need root (for a private mount namespace)");
                return;
        }
        kernel_host_view();
        r = kernel_setup();
        if (r < 0) {
                printf("# setup: %s\n", strerror(-r));
                SKIP("cannot mount a private cgroup2");
                kernel_cleanup();
                return;
        }
        kernel_lifecycle();
        kernel_cgroupns();
        if (has_hugetlb_2mb()) {
                kernel_hugetlb();
                kernel_rootless();
        } else
                SKIP("no 2MB huge pages on this kernel: hugetlb limits and the rootless cases not tested");
        kernel_cleanup();
}

int main(void) {
        /* whole TAP lines: warnings go to stderr, into the same log */
        setvbuf(stdout, NULL, _IOLBF, 0);
        snprintf(tmp, sizeof tmp, "/tmp/urun-test-cgroup.XXXXXX");
        if (!mkdtemp(tmp)) {
                printf("Bail out! mkdtemp: %m\n");
                return 1;
        }
        snprintf(log_path, sizeof log_path, "%s/log", tmp);
        (void) log_open(log_path, false, false);

        test_parse_config();
        test_parse_errors();
        test_conversions();
        test_needs();
        test_apply();
        test_apply_update();
        test_stats();
        test_proc_cgroup();
        test_find_mount();
        test_systemd_path();
        test_plan_fake();
        test_create_fake();
        test_kernel();
        (void) rm_rf_at(AT_FDCWD, tmp);
        return tap_done();
}
