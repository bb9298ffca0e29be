/* Unit tests of conf/: the parser, the validator's messages, the default
 * spec, the name tables. TAP, no framework. JSON in this file is written
 * with single quotes and turned into double quotes before parsing. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "../../conf/conf.h"
#include "tap.h"

#define BIT(c) (1ULL << (c))

/* 'x' -> "x"; the result is leaked on purpose only in ok() arguments, so
 * callers free it. */
static char *dq(const char *s)
{
	char *r = vs_xstrdup(s);
	for (char *p = r; *p; p++)
		if (*p == '\'')
			*p = '"';
	return r;
}

static int parse_sq(const char *sq, struct conf_config **cfg, struct vs_err *err)
{
	char *json = dq(sq);
	*cfg = NULL;
	memset(err, 0, sizeof(*err));
	int r = conf_parse(json, strlen(json), "config.json", cfg, err);
	free(json);
	return r;
}

/* Expects conf_parse(sq) to fail with EINVAL and exactly the message want. */
static void bad(const char *sq, const char *want)
{
	struct conf_config *cfg = NULL;
	struct vs_err err;
	int r = parse_sq(sq, &cfg, &err);
	ok(r == -EINVAL && err.code == EINVAL && !cfg, "refused: %s", want);
	is_str(err.msg, want, "  message");
	if (r == 0)
		conf_free(cfg);
}

static void good(const char *sq, const char *what)
{
	struct conf_config *cfg = NULL;
	struct vs_err err;
	int r = parse_sq(sq, &cfg, &err);
	ok(r == 0, "accepted: %s", what);
	if (r < 0)
		printf("#   %s\n", err.msg);
	conf_free(cfg);
}

/* Wrappers that put a fragment into an otherwise valid config. */
#define BASE "'ociVersion':'1.2.0','root':{'path':'rootfs'}"
#define PROC "'process':{'args':['sh'],'cwd':'/'"
static char buf[4096];
static const char *top(const char *frag)
{
	snprintf(buf, sizeof(buf), "{" BASE "," PROC "}%s}", frag);
	return buf;
}
static const char *proc(const char *frag)
{
	snprintf(buf, sizeof(buf), "{" BASE "," PROC ",%s}}", frag);
	return buf;
}
static const char *lx(const char *frag)
{
	snprintf(buf, sizeof(buf), "{" BASE ",'linux':{%s}}", frag);
	return buf;
}
static const char *res(const char *frag)
{
	snprintf(buf, sizeof(buf), "{" BASE ",'linux':{'resources':{%s}}}", frag);
	return buf;
}
static const char *sc(const char *frag)
{
	snprintf(buf, sizeof(buf),
		 "{" BASE ",'linux':{'seccomp':{'defaultAction':'SCMP_ACT_ALLOW'%s}}}", frag);
	return buf;
}
static const char *mnt(const char *m)
{
	snprintf(buf, sizeof(buf), "{" BASE ",'mounts':[{'destination':'/a'},%s]}", m);
	return buf;
}

static const char full_json[] =
	"{\n"
	"  'ociVersion': '1.2.0',\n"
	"  'root': { 'path': 'rootfs', 'readonly': true },\n"
	"  'hostname': 'web1',\n"
	"  'domainname': 'example.org',\n"
	"  'mounts': [\n"
	"    { 'destination': '/proc', 'type': 'proc', 'source': 'proc' },\n"
	"    { 'destination': '/dev', 'type': 'tmpfs', 'source': 'tmpfs',\n"
	"      'options': ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },\n"
	"    { 'destination': '/data', 'type': 'bind', 'source': '/srv/data',\n"
	"      'options': ['rbind', 'ro', 'rw', 'rslave', 'nodev', 'rro', 'rnosuid', 'rnoatime', 'tmpcopyup', 'idmap', 'x-custom=1'],\n"
	"      'uidMappings': [{ 'containerID': 0, 'hostID': 100000, 'size': 65536 }],\n"
	"      'gidMappings': [{ 'containerID': 0, 'hostID': 200000, 'size': 65536 }] },\n"
	"    { 'destination': '/sys', 'type': 'sysfs', 'source': 'sysfs',\n"
	"      'options': ['nosuid', 'noexec', 'nodev', 'ro', 'ridmap', 'nosymfollow', 'lazytime', 'rstrictatime'] }\n"
	"  ],\n"
	"  'process': {\n"
	"    'terminal': true,\n"
	"    'consoleSize': { 'height': 24, 'width': 80 },\n"
	"    'user': { 'uid': 1000, 'gid': 1001, 'umask': 18, 'additionalGids': [5, 6, 4294967295], 'username': 'app' },\n"
	"    'args': ['/bin/app', '--serve', 'a b'],\n"
	"    'commandLine': 'ignored on linux',\n"
	"    'env': ['PATH=/usr/bin:/bin', 'HOME=/home/app'],\n"
	"    'cwd': '/home/app',\n"
	"    'capabilities': {\n"
	"      'bounding': ['CAP_CHOWN', 'CAP_KILL', 'CAP_CHECKPOINT_RESTORE'],\n"
	"      'effective': ['CAP_KILL'],\n"
	"      'inheritable': [],\n"
	"      'permitted': ['CAP_KILL', 'CAP_NET_BIND_SERVICE'],\n"
	"      'ambient': ['CAP_NET_BIND_SERVICE']\n"
	"    },\n"
	"    'rlimits': [\n"
	"      { 'type': 'RLIMIT_NOFILE', 'soft': 1024, 'hard': 4096 },\n"
	"      { 'type': 'RLIMIT_CORE', 'soft': 0, 'hard': 18446744073709551615 }\n"
	"    ],\n"
	"    'noNewPrivileges': true,\n"
	"    'apparmorProfile': 'vserver-default',\n"
	"    'selinuxLabel': 'system_u:system_r:container_t:s0',\n"
	"    'oomScoreAdj': -500,\n"
	"    'scheduler': { 'policy': 'SCHED_DEADLINE', 'nice': -5, 'priority': 0,\n"
	"      'flags': ['SCHED_FLAG_RESET_ON_FORK', 'SCHED_FLAG_RECLAIM'],\n"
	"      'runtime': 1000000, 'deadline': 2000000, 'period': 3000000 },\n"
	"    'ioPriority': { 'class': 'IOPRIO_CLASS_BE', 'priority': 4 },\n"
	"    'execCPUAffinity': { 'initial': '0-1', 'final': '2,3' }\n"
	"  },\n"
	"  'hooks': {\n"
	"    'prestart': [{ 'path': '/usr/bin/hook', 'args': ['hook', 'prestart'], 'env': ['A=1'], 'timeout': 5 }],\n"
	"    'createRuntime': [{ 'path': '/bin/a' }, { 'path': '/bin/b' }],\n"
	"    'createContainer': [{ 'path': '/bin/c' }],\n"
	"    'startContainer': [{ 'path': '/bin/d' }],\n"
	"    'poststart': [{ 'path': '/bin/e' }],\n"
	"    'poststop': [{ 'path': '/bin/f', 'timeout': 1 }],\n"
	"    'someFutureHook': [{ 'bogus': true }]\n"
	"  },\n"
	"  'annotations': { 'org.example.key': 'value', 'other': 'x' },\n"
	"  'unknownTopLevel': { 'deep': [1, 2, { 'x': null }] },\n"
	"  'linux': {\n"
	"    'namespaces': [\n"
	"      { 'type': 'pid' }, { 'type': 'network', 'path': '/run/netns/web1' },\n"
	"      { 'type': 'mount' }, { 'type': 'ipc' }, { 'type': 'uts' },\n"
	"      { 'type': 'user' }, { 'type': 'cgroup' }, { 'type': 'time' }\n"
	"    ],\n"
	"    'uidMappings': [{ 'containerID': 0, 'hostID': 100000, 'size': 65536 }],\n"
	"    'gidMappings': [{ 'containerID': 0, 'hostID': 100000, 'size': 65536 }, { 'containerID': 65536, 'hostID': 300000, 'size': 1 }],\n"
	"    'timeOffsets': { 'monotonic': { 'secs': -10, 'nanosecs': 5 }, 'boottime': { 'secs': 3600 } },\n"
	"    'devices': [\n"
	"      { 'path': '/dev/fuse', 'type': 'c', 'major': 10, 'minor': 229, 'fileMode': 438, 'uid': 0, 'gid': 0 },\n"
	"      { 'path': '/dev/sda', 'type': 'b', 'major': 8, 'minor': 0 },\n"
	"      { 'path': '/dev/fifo0', 'type': 'p' }\n"
	"    ],\n"
	"    'cgroupsPath': '/vserver/web1',\n"
	"    'resources': {\n"
	"      'devices': [\n"
	"        { 'allow': false, 'access': 'rwm' },\n"
	"        { 'allow': true, 'type': 'c', 'major': 10, 'minor': 229, 'access': 'rw' },\n"
	"        { 'allow': true, 'type': 'b', 'major': 8 }\n"
	"      ],\n"
	"      'memory': { 'limit': 536870912, 'reservation': 268435456, 'swap': -1, 'kernel': -1,\n"
	"        'kernelTCP': 1048576, 'swappiness': 60, 'disableOOMKiller': false,\n"
	"        'useHierarchy': true, 'checkBeforeUpdate': true },\n"
	"      'cpu': { 'shares': 1024, 'quota': 50000, 'burst': 10000, 'period': 100000,\n"
	"        'realtimeRuntime': 950000, 'realtimePeriod': 1000000, 'cpus': '0-3', 'mems': '0', 'idle': 1 },\n"
	"      'pids': { 'limit': 512 },\n"
	"      'blockIO': { 'weight': 500, 'leafWeight': 300,\n"
	"        'weightDevice': [{ 'major': 8, 'minor': 0, 'weight': 600, 'leafWeight': 10 }],\n"
	"        'throttleReadBpsDevice': [{ 'major': 8, 'minor': 0, 'rate': 1048576 }],\n"
	"        'throttleWriteBpsDevice': [{ 'major': 8, 'minor': 16, 'rate': 2097152 }],\n"
	"        'throttleReadIOPSDevice': [{ 'major': 8, 'minor': 0, 'rate': 100 }],\n"
	"        'throttleWriteIOPSDevice': [{ 'major': 8, 'minor': 0, 'rate': 200 }, { 'major': 8, 'minor': 1, 'rate': 300 }] },\n"
	"      'hugepageLimits': [{ 'pageSize': '2MB', 'limit': 209715200 }, { 'pageSize': '1GB', 'limit': 0 }],\n"
	"      'network': { 'classID': 1048577, 'priorities': [{ 'name': 'eth0', 'priority': 500 }] },\n"
	"      'rdma': { 'mlx5_1': { 'hcaHandles': 3, 'hcaObjects': 10000 } },\n"
	"      'unified': { 'memory.high': '400M', 'io.weight': 'default 100' }\n"
	"    },\n"
	"    'sysctl': { 'net.ipv4.ip_forward': '1', 'net/ipv4/conf/eth0.100/forwarding': '0' },\n"
	"    'seccomp': {\n"
	"      'defaultAction': 'SCMP_ACT_ERRNO',\n"
	"      'defaultErrnoRet': 1,\n"
	"      'architectures': ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],\n"
	"      'flags': ['SECCOMP_FILTER_FLAG_LOG', 'SECCOMP_FILTER_FLAG_SPEC_ALLOW'],\n"
	"      'listenerPath': '/run/seccomp.sock',\n"
	"      'listenerMetadata': 'meta',\n"
	"      'syscalls': [\n"
	"        { 'names': ['read', 'write'], 'action': 'SCMP_ACT_ALLOW' },\n"
	"        { 'names': ['personality'], 'action': 'SCMP_ACT_ALLOW',\n"
	"          'args': [{ 'index': 0, 'value': 8, 'op': 'SCMP_CMP_EQ' },\n"
	"             { 'index': 5, 'value': 18446744073709551615, 'valueTwo': 2, 'op': 'SCMP_CMP_MASKED_EQ' }] },\n"
	"        { 'names': ['mkdir'], 'action': 'SCMP_ACT_NOTIFY' },\n"
	"        { 'names': ['ptrace'], 'action': 'SCMP_ACT_ERRNO', 'errnoRet': 38 }\n"
	"      ]\n"
	"    },\n"
	"    'rootfsPropagation': 'rslave',\n"
	"    'maskedPaths': ['/proc/kcore', '/sys/firmware'],\n"
	"    'readonlyPaths': ['/proc/sys'],\n"
	"    'mountLabel': 'system_u:object_r:container_file_t:s0',\n"
	"    'personality': { 'domain': 'LINUX32', 'flags': [] },\n"
	"    'intelRdt': { 'closID': 'guaranteed', 'l3CacheSchema': 'L3:0=7f0', 'memBwSchema': 'MB:0=20', 'enableCMT': true, 'enableMBM': false }\n"
	"  }\n"
	"}\n";

static void test_full_process(const struct conf_process *p)
{
	ok(p != NULL, "process present");
	if (!p)
		return;
	ok(p->terminal, "process.terminal");
	ok(p->has_console_size && p->console_height == 24 && p->console_width == 80,
	   "process.consoleSize 24x80");
	is_int(p->user.uid, 1000, "user.uid");
	is_int(p->user.gid, 1001, "user.gid");
	ok(p->user.umask.set && p->user.umask.v == 022, "user.umask 022");
	is_int(p->user.n_additional_gids, 3, "additionalGids count");
	ok(p->user.additional_gids[0] == 5 && p->user.additional_gids[2] == 4294967295u,
	   "additionalGids values (incl. 2^32-1)");
	is_str(p->user.username, "app", "user.username");
	is_int(vs_strv_len(p->args), 3, "args count");
	is_str(p->args[2], "a b", "args[2]");
	is_str(p->command_line, "ignored on linux", "commandLine");
	is_str(p->env[1], "HOME=/home/app", "env[1]");
	is_str(p->cwd, "/home/app", "cwd");
	ok(p->caps.set, "capabilities set");
	ok(p->caps.bounding == (BIT(0) | BIT(5) | BIT(40)), "bounding = CHOWN|KILL|CHECKPOINT_RESTORE");
	ok(p->caps.effective == BIT(5), "effective = KILL");
	ok(p->caps.inheritable == 0, "inheritable empty");
	ok(p->caps.permitted == (BIT(5) | BIT(10)), "permitted");
	ok(p->caps.ambient == BIT(10), "ambient = NET_BIND_SERVICE");
	is_int(p->n_rlimits, 2, "two rlimits");
	ok(p->rlimits[0].type == RLIMIT_NOFILE && p->rlimits[0].soft == 1024 &&
	   p->rlimits[0].hard == 4096, "RLIMIT_NOFILE 1024/4096");
	is_str(p->rlimits[0].name, "RLIMIT_NOFILE", "rlimit name kept");
	ok(p->rlimits[1].type == RLIMIT_CORE && p->rlimits[1].hard == UINT64_MAX,
	   "RLIMIT_CORE hard = 2^64-1");
	ok(p->no_new_privileges, "noNewPrivileges");
	is_str(p->apparmor_profile, "vserver-default", "apparmorProfile");
	is_str(p->selinux_label, "system_u:system_r:container_t:s0", "selinuxLabel");
	ok(p->oom_score_adj.set && p->oom_score_adj.v == -500, "oomScoreAdj -500");
	ok(p->scheduler.set && p->scheduler.policy == 6, "scheduler SCHED_DEADLINE");
	ok(p->scheduler.nice == -5 && p->scheduler.priority == 0, "scheduler nice/priority");
	is_int(p->scheduler.flags, 0x03, "scheduler flags");
	ok(p->scheduler.runtime == 1000000 && p->scheduler.deadline == 2000000 &&
	   p->scheduler.period == 3000000, "scheduler runtime/deadline/period");
	ok(p->io_priority.set && p->io_priority.class == 2 && p->io_priority.priority == 4,
	   "ioPriority BE/4");
	is_str(p->exec_cpu_affinity_initial, "0-1", "execCPUAffinity.initial");
	is_str(p->exec_cpu_affinity_final, "2,3", "execCPUAffinity.final");
}

static void test_full_mounts(const struct conf_config *c)
{
	is_int(c->n_mounts, 4, "four mounts");
	const struct conf_mount *m = &c->mounts[0];
	ok(!strcmp(m->destination, "/proc") && !strcmp(m->type, "proc") &&
	   !strcmp(m->source, "proc") && !m->options && !m->data && !m->flags,
	   "mounts[0] proc, no options");
	m = &c->mounts[1];
	ok(m->flags == (MS_NOSUID | MS_STRICTATIME), "mounts[1] flags nosuid|strictatime");
	is_str(m->data, "mode=755,size=65536k", "mounts[1] data");
	is_int(vs_strv_len(m->options), 4, "mounts[1] options kept as written");
	m = &c->mounts[2];
	ok(m->flags == (MS_BIND | MS_REC | MS_NODEV), "mounts[2] rbind, ro then rw, nodev");
	ok(m->clear_flags == MS_RDONLY, "mounts[2] rw recorded as cleared");
	ok(m->propagation == (MS_SLAVE | MS_REC), "mounts[2] rslave");
	ok(m->attr_set == (MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOATIME),
	   "mounts[2] rro rnosuid rnoatime");
	ok(m->attr_clr == MOUNT_ATTR__ATIME, "mounts[2] atime mode replaced");
	ok(m->copy_up && m->idmap && !m->ridmap, "mounts[2] tmpcopyup, idmap");
	is_str(m->data, "x-custom=1", "mounts[2] unknown option to data");
	ok(m->n_uid_mappings == 1 && m->uid_mappings[0].host_id == 100000 &&
	   m->uid_mappings[0].size == 65536, "mounts[2] uidMappings");
	ok(m->n_gid_mappings == 1 && m->gid_mappings[0].host_id == 200000, "mounts[2] gidMappings");
	m = &c->mounts[3];
	ok(m->flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY | MS_NOSYMFOLLOW | MS_LAZYTIME),
	   "mounts[3] flags");
	ok(m->ridmap && !m->idmap, "mounts[3] ridmap");
	ok(m->attr_set == MOUNT_ATTR_STRICTATIME && m->attr_clr == MOUNT_ATTR__ATIME,
	   "mounts[3] rstrictatime");
}

static void test_full_hooks(const struct conf_config *c)
{
	const struct conf_hook_list *h = c->hooks;
	is_int(h[CONF_HOOK_PRESTART].n, 1, "one prestart hook");
	const struct conf_hook *k = &h[CONF_HOOK_PRESTART].v[0];
	is_str(k->path, "/usr/bin/hook", "prestart[0].path");
	is_str(k->args[1], "prestart", "prestart[0].args");
	is_str(k->env[0], "A=1", "prestart[0].env");
	ok(k->timeout.set && k->timeout.v == 5, "prestart[0].timeout");
	is_int(h[CONF_HOOK_CREATE_RUNTIME].n, 2, "two createRuntime hooks");
	is_str(h[CONF_HOOK_CREATE_RUNTIME].v[1].path, "/bin/b", "createRuntime[1]");
	ok(!h[CONF_HOOK_CREATE_RUNTIME].v[0].timeout.set, "no timeout = unset");
	is_str(h[CONF_HOOK_CREATE_CONTAINER].v[0].path, "/bin/c", "createContainer");
	is_str(h[CONF_HOOK_START_CONTAINER].v[0].path, "/bin/d", "startContainer");
	is_str(h[CONF_HOOK_POSTSTART].v[0].path, "/bin/e", "poststart");
	ok(h[CONF_HOOK_POSTSTOP].n == 1 && h[CONF_HOOK_POSTSTOP].v[0].timeout.v == 1, "poststop");
}

static void test_full_resources(const struct conf_resources *r)
{
	is_int(r->n_devices, 3, "three device rules");
	ok(!r->devices[0].allow && r->devices[0].type == 'a' && r->devices[0].major == -1 &&
	   r->devices[0].minor == -1 && !strcmp(r->devices[0].access, "rwm"), "deny all");
	ok(r->devices[1].allow && r->devices[1].type == 'c' && r->devices[1].major == 10 &&
	   r->devices[1].minor == 229 && !strcmp(r->devices[1].access, "rw"), "allow c 10:229 rw");
	ok(r->devices[2].type == 'b' && r->devices[2].minor == -1 &&
	   !strcmp(r->devices[2].access, "rwm"), "allow b 8:* default access");
	ok(r->memory.limit.set && r->memory.limit.v == 536870912, "memory.limit");
	ok(r->memory.reservation.v == 268435456, "memory.reservation");
	ok(r->memory.swap.set && r->memory.swap.v == -1, "memory.swap -1");
	ok(r->memory.kernel.v == -1 && r->memory.kernel_tcp.v == 1048576, "kernel, kernelTCP");
	ok(r->memory.swappiness.set && r->memory.swappiness.v == 60, "swappiness");
	ok(r->memory.disable_oom_killer.set && !r->memory.disable_oom_killer.v, "disableOOMKiller");
	ok(r->memory.use_hierarchy.v && r->memory.check_before_update.v, "useHierarchy, checkBeforeUpdate");
	ok(r->cpu.shares.set && r->cpu.shares.v == 1024, "cpu.shares");
	ok(r->cpu.quota.v == 50000 && r->cpu.period.v == 100000 && r->cpu.burst.v == 10000,
	   "cpu quota/period/burst");
	ok(r->cpu.realtime_runtime.v == 950000 && r->cpu.realtime_period.v == 1000000, "cpu realtime");
	is_str(r->cpu.cpus, "0-3", "cpu.cpus");
	is_str(r->cpu.mems, "0", "cpu.mems");
	ok(r->cpu.idle.set && r->cpu.idle.v == 1, "cpu.idle");
	ok(r->pids.limit.set && r->pids.limit.v == 512, "pids.limit");
	ok(r->block_io.weight.v == 500 && r->block_io.leaf_weight.v == 300, "blockIO weights");
	ok(r->block_io.n_weight_device == 1 && r->block_io.weight_device[0].weight.v == 600 &&
	   r->block_io.weight_device[0].leaf_weight.v == 10, "weightDevice");
	ok(r->block_io.throttle_read_bps[0].rate == 1048576, "throttleReadBpsDevice");
	ok(r->block_io.throttle_write_bps[0].minor == 16, "throttleWriteBpsDevice");
	ok(r->block_io.throttle_read_iops[0].rate == 100, "throttleReadIOPSDevice");
	ok(r->block_io.n_throttle_write_iops == 2 && r->block_io.throttle_write_iops[1].rate == 300,
	   "throttleWriteIOPSDevice");
	ok(r->n_hugepage_limits == 2 && !strcmp(r->hugepage_limits[1].page_size, "1GB"),
	   "hugepageLimits");
	ok(r->network.class_id.v == 1048577 && r->network.n_priorities == 1 &&
	   !strcmp(r->network.priorities[0].key, "eth0") &&
	   !strcmp(r->network.priorities[0].value, "500"), "network classID, priorities");
	ok(r->n_rdma == 1 && !strcmp(r->rdma[0].device, "mlx5_1") &&
	   r->rdma[0].hca_handles.v == 3 && r->rdma[0].hca_objects.v == 10000, "rdma");
	ok(r->n_unified == 2 && !strcmp(r->unified[1].key, "io.weight") &&
	   !strcmp(r->unified[1].value, "default 100"), "unified");
}

static void test_full_seccomp(const struct conf_seccomp *s)
{
	ok(s != NULL, "seccomp present");
	if (!s)
		return;
	ok(s->default_action == CONF_SECCOMP_ACT_ERRNO, "defaultAction");
	ok(s->default_errno_ret.set && s->default_errno_ret.v == 1, "defaultErrnoRet");
	is_int(vs_strv_len(s->architectures), 3, "architectures");
	is_str(s->flags[1], "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "flags");
	is_str(s->listener_path, "/run/seccomp.sock", "listenerPath");
	is_str(s->listener_metadata, "meta", "listenerMetadata");
	is_int(s->n_syscalls, 4, "four rules");
	ok(vs_strv_len(s->syscalls[0].names) == 2 && s->syscalls[0].action == CONF_SECCOMP_ACT_ALLOW,
	   "rule 0");
	const struct conf_seccomp_rule *r = &s->syscalls[1];
	ok(r->n_args == 2 && r->args[0].index == 0 && r->args[0].value == 8 && r->args[0].op == 4,
	   "rule 1 arg 0 EQ");
	ok(r->args[1].index == 5 && r->args[1].value == UINT64_MAX && r->args[1].value_two == 2 &&
	   r->args[1].op == 7, "rule 1 arg 1 MASKED_EQ, u64 max");
	ok(s->syscalls[2].action == CONF_SECCOMP_ACT_NOTIFY, "rule 2 notify");
	ok(s->syscalls[3].errno_ret.set && s->syscalls[3].errno_ret.v == 38, "rule 3 errnoRet");
}

static void test_full_linux(const struct conf_linux *l)
{
	for (int i = 0; i < CONF_NS__MAX; i++)
		ok(l->ns[i].present, "namespace %s present", conf_ns_name(i));
	is_str(l->ns[CONF_NS_NETWORK].path, "/run/netns/web1", "network ns path");
	ok(!l->ns[CONF_NS_PID].path, "pid ns no path");
	ok(l->n_uid_mappings == 1 && l->n_gid_mappings == 2 &&
	   l->gid_mappings[1].container_id == 65536 && l->gid_mappings[1].size == 1, "id mappings");
	ok(l->time_offsets[0].secs.v == -10 && l->time_offsets[0].nanosecs.v == 5 &&
	   l->time_offsets[1].secs.v == 3600 && !l->time_offsets[1].nanosecs.set, "timeOffsets");
	is_int(l->n_devices, 3, "three devices");
	ok(l->devices[0].type == 'c' && l->devices[0].major == 10 && l->devices[0].minor == 229 &&
	   l->devices[0].file_mode.v == 0666 && l->devices[0].uid.set, "device fuse");
	ok(l->devices[2].type == 'p' && !l->devices[2].file_mode.set, "device fifo");
	is_str(l->cgroups_path, "/vserver/web1", "cgroupsPath");
	ok(l->has_resources, "has resources");
	test_full_resources(&l->resources);
	ok(l->n_sysctl == 2 && !strcmp(l->sysctl[0].key, "net.ipv4.ip_forward") &&
	   !strcmp(l->sysctl[0].value, "1"), "sysctl");
	test_full_seccomp(l->seccomp);
	ok(l->rootfs_propagation == (MS_SLAVE | MS_REC), "rootfsPropagation rslave");
	is_str(l->masked_paths[1], "/sys/firmware", "maskedPaths");
	is_str(l->readonly_paths[0], "/proc/sys", "readonlyPaths");
	is_str(l->mount_label, "system_u:object_r:container_file_t:s0", "mountLabel");
	ok(l->personality.set && !strcmp(l->personality.domain, "LINUX32") &&
	   l->personality.flags && !l->personality.flags[0], "personality");
	ok(l->intel_rdt.set && !strcmp(l->intel_rdt.clos_id, "guaranteed") &&
	   !strcmp(l->intel_rdt.l3_cache_schema, "L3:0=7f0") &&
	   !strcmp(l->intel_rdt.mem_bw_schema, "MB:0=20") && l->intel_rdt.enable_cmt &&
	   !l->intel_rdt.enable_mbm, "intelRdt");
}

static void test_full(void)
{
	struct conf_config *c = NULL;
	struct vs_err err;
	int r = parse_sq(full_json, &c, &err);
	ok(r == 0, "full config parses");
	if (r < 0) {
		printf("#   %s\n", err.msg);
		return;
	}
	is_str(c->oci_version, "1.2.0", "ociVersion");
	ok(!strcmp(c->root.path, "rootfs") && c->root.readonly, "root");
	is_str(c->hostname, "web1", "hostname");
	is_str(c->domainname, "example.org", "domainname");
	test_full_mounts(c);
	test_full_process(c->process);
	test_full_hooks(c);
	is_int(c->n_annotations, 2, "annotations");
	is_str(conf_annotation(c, "org.example.key"), "value", "conf_annotation");
	ok(conf_annotation(c, "missing") == NULL, "conf_annotation missing");
	ok(c->has_linux, "has linux");
	test_full_linux(&c->linux_);
	conf_free(c);
}

#define E "conf: config.json: "

static void test_errors_process(void)
{
	bad(proc("'args':[]"), E "process.args: must be a non-empty array of strings");
	bad("{" BASE ",'process':{'cwd':'/'}}", E "process.args: must be a non-empty array of strings");
	bad(proc("'args':'sh'"), E "process.args: must be a non-empty array of strings");
	bad(proc("'args':['a',5]"), E "process.args[1]: expected a string, got 5");
	bad(proc("'cwd':'home'"), E "process.cwd: must be an absolute path");
	bad("{" BASE ",'process':{'args':['sh']}}", E "process.cwd: is required");
	bad(proc("'user':{'uid':-1}"),
	    E "process.user.uid: must be an integer between 0 and 4294967295, got -1");
	bad(proc("'user':{'gid':4294967296}"),
	    E "process.user.gid: must be an integer between 0 and 4294967295, got 4294967296");
	bad(proc("'user':{'additionalGids':[1,'x']}"),
	    E "process.user.additionalGids[1]: expected an integer, got \"x\"");
	bad(proc("'consoleSize':{'height':-3,'width':80}"),
	    E "process.consoleSize.height: must be an integer between 0 and 4294967295, got -3");
	bad(proc("'consoleSize':{'height':3,'width':1.5}"),
	    E "process.consoleSize.width: expected an integer, got 1.5");
	bad(proc("'consoleSize':{'height':3}"), E "process.consoleSize.width: is required");
	bad(proc("'terminal':'yes'"), E "process.terminal: expected a boolean, got \"yes\"");
	bad(proc("'env':{}"), E "process.env: expected an array of strings, got an object");
	bad(proc("'capabilities':{'bounding':['CAP_KILL','CAP_FOO']}"),
	    E "process.capabilities.bounding[1]: unknown capability \"CAP_FOO\"");
	bad(proc("'capabilities':{'ambient':'CAP_KILL'}"),
	    E "process.capabilities.ambient: expected an array of capability names, got \"CAP_KILL\"");
	bad(proc("'rlimits':[{'type':'RLIMIT_FOO','soft':1,'hard':1}]"),
	    E "process.rlimits[0].type: unknown rlimit \"RLIMIT_FOO\"");
	bad(proc("'rlimits':[{'type':'RLIMIT_NOFILE','soft':1,'hard':1},"
		 "{'type':'RLIMIT_NOFILE','soft':1,'hard':1}]"),
	    E "process.rlimits[1].type: duplicate rlimit \"RLIMIT_NOFILE\"");
	bad(proc("'rlimits':[{'type':'RLIMIT_NOFILE','soft':10,'hard':1}]"),
	    E "process.rlimits[0].soft: must not be above the hard limit");
	bad(proc("'rlimits':[{'type':'RLIMIT_NOFILE','soft':10}]"),
	    E "process.rlimits[0].hard: is required");
	bad(proc("'oomScoreAdj':1001"),
	    E "process.oomScoreAdj: must be an integer between -1000 and 1000, got 1001");
	bad(proc("'scheduler':{'policy':'SCHED_FAST'}"),
	    E "process.scheduler.policy: unknown policy \"SCHED_FAST\"");
	bad(proc("'scheduler':{'nice':1}"), E "process.scheduler.policy: is required");
	bad(proc("'scheduler':{'policy':'SCHED_RR','flags':['SCHED_FLAG_X']}"),
	    E "process.scheduler.flags[0]: unknown flag \"SCHED_FLAG_X\"");
	bad(proc("'ioPriority':{'class':'IOPRIO_CLASS_BE','priority':8}"),
	    E "process.ioPriority.priority: must be an integer between 0 and 7, got 8");
	bad(proc("'ioPriority':{'class':'IOPRIO_CLASS_X'}"),
	    E "process.ioPriority.class: unknown class \"IOPRIO_CLASS_X\"");
	bad(proc("'execCPUAffinity':{'initial':'all'}"),
	    E "process.execCPUAffinity.initial: must be a cpu list such as \"0-3,7\"");
	bad(proc("'user':{'umask':4096}"),
	    E "process.user.umask: must be an integer between 0 and 4095, got 4096");
}

static void test_errors_top(void)
{
	bad("{}", E "ociVersion: is required");
	bad("{'ociVersion':1}", E "ociVersion: expected a string, got 1");
	bad("{'ociVersion':'2.0.0'}", E "ociVersion: unsupported version \"2.0.0\" (want 1.x.y)");
	bad("{'ociVersion':'1.2.0','linux':{}}", E "root.path: is required");
	bad("{'ociVersion':'1.2.0','root':{'path':''}}", E "root.path: must not be empty");
	bad("[]", E "expected an object, got an array");
	bad("\"x\"", E "expected an object, got \"x\"");
	bad(top(",'hooks':{'poststop':[{'path':'/x','timeout':0}]}"),
	    E "hooks.poststop[0].timeout: must be greater than zero, got 0");
	bad(top(",'hooks':{'prestart':[{'path':'/x','timeout':-5}]}"),
	    E "hooks.prestart[0].timeout: must be greater than zero, got -5");
	bad(top(",'hooks':{'createRuntime':[{'path':'x'}]}"),
	    E "hooks.createRuntime[0].path: must be an absolute path");
	bad(top(",'hooks':{'poststart':[{'args':['x']}]}"), E "hooks.poststart[0].path: is required");
	bad(top(",'hooks':{'poststart':{}}"), E "hooks.poststart: expected an array, got an object");
	bad(top(",'annotations':{'a.b':1}"), E "annotations[\"a.b\"]: expected a string, got 1");
	bad(top(",'hostname':'h','linux':{}"), E "hostname: needs a uts namespace in linux.namespaces");
	bad(top(",'domainname':'d','linux':{}"), E "domainname: needs a uts namespace in linux.namespaces");
	bad(mnt("{'destination':'/b'},{'destination':'c'}"),
	    E "mounts[2].destination: must be an absolute path");
	bad(mnt("{'type':'tmpfs'}"), E "mounts[1].destination: is required");
	bad(mnt("{'destination':'/b','options':'ro'}"),
	    E "mounts[1].options: expected an array of strings, got \"ro\"");
	bad(mnt("{'destination':'/b','uidMappings':[{'containerID':0,'hostID':1,'size':1}]}"),
	    E "mounts[1].gidMappings: uidMappings and gidMappings must be given together");
	bad(mnt("{'destination':'/b','uidMappings':[{'containerID':0,'hostID':4294967295,'size':2}],"
		"'gidMappings':[]}"),
	    E "mounts[1].uidMappings[0].size: the range passes 4294967295");
	bad(top(",'mounts':{}"), E "mounts: expected an array, got an object");
}

/* linux.sysctl: only keys of a namespace the container has (F4: the others
 * were written to the host's /proc/sys) */
#define NS_NET "'namespaces':[{'type':'network'}],"
#define HOSTS "is not in a separate kernel namespace: it would change the host's (only " \
	"net.*, the ipc and the uts sysctls can be set)"
static void test_errors_sysctl(void)
{
	bad(lx(NS_NET "'sysctl':{'kernel.printk_ratelimit':'7'}"),
	    E "linux.sysctl[\"kernel.printk_ratelimit\"]: " HOSTS);
	bad(lx(NS_NET "'sysctl':{'kernel/core_pattern':'|/x'}"),
	    E "linux.sysctl[\"kernel/core_pattern\"]: " HOSTS);
	bad(lx(NS_NET "'sysctl':{'vm.overcommit_memory':'1'}"),
	    E "linux.sysctl[\"vm.overcommit_memory\"]: " HOSTS);
	bad(lx(NS_NET "'sysctl':{'fs.file-max':'1'}"), E "linux.sysctl[\"fs.file-max\"]: " HOSTS);
	bad(lx(NS_NET "'sysctl':{'kernel.shmmax.x':'1'}"),
	    E "linux.sysctl[\"kernel.shmmax.x\"]: " HOSTS);
	/* a way out of net/ through a slash part */
	bad(lx(NS_NET "'sysctl':{'net/../kernel/core_pattern':'x'}"),
	    E "linux.sysctl[\"net/../kernel/core_pattern\"]: is not a sysctl name");
	bad(lx(NS_NET "'sysctl':{'net/./ipv4/ip_forward':'x'}"),
	    E "linux.sysctl[\"net/./ipv4/ip_forward\"]: is not a sysctl name");
	bad(lx(NS_NET "'sysctl':{'/net/ipv4/ip_forward':'1'}"),
	    E "linux.sysctl[\"/net/ipv4/ip_forward\"]: is not a sysctl name");
	bad(lx(NS_NET "'sysctl':{'net.ipv4.':'1'}"), E "linux.sysctl[\"net.ipv4.\"]: is not a sysctl name");
	bad(lx(NS_NET "'sysctl':{'net//ipv4':'1'}"), E "linux.sysctl[\"net//ipv4\"]: is not a sysctl name");
	bad(lx(NS_NET "'sysctl':{'':'1'}"), E "linux.sysctl[\"\"]: is not a sysctl name");
	bad(lx(NS_NET "'sysctl':{'net':'1'}"), E "linux.sysctl.net: is not a sysctl name");
	/* namespaced keys without their namespace */
	bad(lx("'sysctl':{'net.ipv4.ip_forward':'1'}"),
	    E "linux.sysctl[\"net.ipv4.ip_forward\"]: needs a \"network\" namespace in "
	      "linux.namespaces: it would change the host's");
	bad(lx(NS_NET "'sysctl':{'kernel.shmmax':'1'}"),
	    E "linux.sysctl[\"kernel.shmmax\"]: needs a \"ipc\" namespace in linux.namespaces: it "
	      "would change the host's");
	bad(lx(NS_NET "'sysctl':{'fs.mqueue.msg_max':'1'}"),
	    E "linux.sysctl[\"fs.mqueue.msg_max\"]: needs a \"ipc\" namespace in linux.namespaces: it "
	      "would change the host's");
	bad(lx(NS_NET "'sysctl':{'kernel.hostname':'h'}"),
	    E "linux.sysctl[\"kernel.hostname\"]: needs a \"uts\" namespace in linux.namespaces: it "
	      "would change the host's");
	good(lx(NS_NET "'sysctl':{'net.ipv4.ip_forward':'1','net/ipv4/conf/eth0.100/forwarding':'0'}"),
	     "net sysctls with a network namespace");
	good(lx("'namespaces':[{'type':'ipc'}],'sysctl':{'kernel.shmmax':'1','kernel.msgmnb':'1',"
		"'kernel.shm_rmid_forced':'1','fs.mqueue.msg_max':'1','fs/mqueue/queues_max':'1'}"),
	     "ipc sysctls with an ipc namespace");
	good(lx("'namespaces':[{'type':'uts'}],'sysctl':{'kernel.domainname':'d'}"),
	     "uts sysctl with a uts namespace");
	/* joined by path: accepted here, the runtime compares it with its own */
	good(lx("'namespaces':[{'type':'network','path':'/proc/1/ns/net'}],"
		"'sysctl':{'net.ipv4.ip_forward':'1'}"), "net sysctl with a joined network namespace");

	char path[64];
	ok(conf_sysctl_path("net.ipv4.ip_forward", path, sizeof(path)) == 0 &&
	   !strcmp(path, "/proc/sys/net/ipv4/ip_forward"), "dotted key to path");
	ok(conf_sysctl_path("net/ipv4/conf/eth0.100/forwarding", path, sizeof(path)) == 0 &&
	   !strcmp(path, "/proc/sys/net/ipv4/conf/eth0.100/forwarding"), "slashed key keeps dots");
	is_int(conf_sysctl_path("net.ipv4.conf.all.forwarding", path, 20), -ENAMETOOLONG,
	       "path too long for the buffer");
	is_int(conf_sysctl_path("net/..", path, sizeof(path)), -EINVAL, "dot-dot part refused");
	is_int(conf_sysctl_ns("kernel.sem"), CONF_NS_IPC, "kernel.sem is ipc");
	is_int(conf_sysctl_ns("kernel.domainname"), CONF_NS_UTS, "kernel.domainname is uts");
	is_int(conf_sysctl_ns("net.core.somaxconn"), CONF_NS_NETWORK, "net.core is net");
	is_int(conf_sysctl_ns("kernel.core_pattern"), -EPERM, "kernel.core_pattern is the host's");
	is_int(conf_sysctl_ns("fs.mqueue"), -EPERM, "fs.mqueue itself is no key");
	is_int(conf_sysctl_ns("user.max_user_namespaces"), -EPERM, "user.* is refused");
}

static void test_errors_linux(void)
{
	bad(lx("'namespaces':[{'type':'pid'},{'type':'foo'}]"),
	    E "linux.namespaces[1].type: unknown namespace type \"foo\"");
	bad(lx("'namespaces':[{'type':'pid'},{'type':'pid'}]"),
	    E "linux.namespaces[1].type: duplicate namespace type \"pid\"");
	bad(lx("'namespaces':[{'path':'/x'}]"), E "linux.namespaces[0].type: is required");
	bad(lx("'namespaces':[{'type':'net'}]"),
	    E "linux.namespaces[0].type: unknown namespace type \"net\"");
	bad(lx("'namespaces':[{'type':'ipc','path':'proc/1/ns/ipc'}]"),
	    E "linux.namespaces[0].path: must be an absolute path");
	bad(lx("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'hostID':1000,'size':0}],"
	       "'gidMappings':[{'containerID':0,'hostID':1000,'size':1}]"),
	    E "linux.uidMappings[0].size: must be at least 1");
	bad(lx("'uidMappings':[{'containerID':0,'hostID':1000,'size':1}],"
	       "'gidMappings':[{'containerID':0,'hostID':1000,'size':1}]"),
	    E "linux.uidMappings: id mappings need a user namespace in linux.namespaces");
	bad(lx("'namespaces':[{'type':'user'}],'uidMappings':[{'containerID':0,'size':1}]"),
	    E "linux.uidMappings[0].hostID: is required");
	bad(lx("'devices':[{'path':'/dev/x','type':'x','major':1,'minor':1}]"),
	    E "linux.devices[0].type: must be one of \"c\", \"b\", \"u\", \"p\", got \"x\"");
	bad(lx("'devices':[{'path':'/dev/x','type':'c','minor':1}]"),
	    E "linux.devices[0].major: is required for a \"c\" device");
	bad(lx("'devices':[{'path':'dev/x','type':'p'}]"), E "linux.devices[0].path: must be an absolute path");
	bad(lx("'timeOffsets':{'realtime':{'secs':1}}"),
	    E "linux.timeOffsets.realtime: unknown clock (monotonic or boottime)");
	bad(lx("'timeOffsets':{'boottime':{'nanosecs':1000000000}}"),
	    E "linux.timeOffsets.boottime.nanosecs: must be an integer between 0 and 999999999, got 1000000000");
	bad(lx("'rootfsPropagation':'everywhere'"),
	    E "linux.rootfsPropagation: unknown propagation \"everywhere\"");
	bad(lx("'maskedPaths':['/proc/kcore','sys']"), E "linux.maskedPaths[1]: must be an absolute path");
	bad(lx("'sysctl':{'../../etc/x':'1'}"), E "linux.sysctl[\"../../etc/x\"]: is not a sysctl name");
	bad(lx("'sysctl':{'net.ipv4.ip_forward':1}"),
	    E "linux.sysctl[\"net.ipv4.ip_forward\"]: expected a string, got 1");
	test_errors_sysctl();
	bad(lx("'personality':{'domain':'BSD'}"), E "linux.personality.domain: must be \"LINUX\" or \"LINUX32\"");
	bad(lx("'intelRdt':{'closID':'../x'}"), E "linux.intelRdt.closID: must be a plain directory name");
}

static void test_errors_resources(void)
{
	bad(res("'memory':{'limit':'abc'}"),
	    E "linux.resources.memory.limit: expected an integer, got \"abc\"");
	bad(res("'memory':{'limit':1.5}"), E "linux.resources.memory.limit: expected an integer, got 1.5");
	bad(res("'memory':{'limit':1e9}"), E "linux.resources.memory.limit: expected an integer, got 1e9");
	bad(res("'memory':{'limit':-2}"),
	    E "linux.resources.memory.limit: must be an integer between -1 and 9223372036854775807, got -2");
	bad(res("'memory':{'swappiness':101}"),
	    E "linux.resources.memory.swappiness: must be an integer between 0 and 100, got 101");
	bad(res("'memory':{'disableOOMKiller':1}"),
	    E "linux.resources.memory.disableOOMKiller: expected a boolean, got 1");
	bad(res("'cpu':{'shares':1}"), E "linux.resources.cpu.shares: must be between 2 and 262144, got 1");
	bad(res("'cpu':{'shares':262145}"),
	    E "linux.resources.cpu.shares: must be between 2 and 262144, got 262145");
	bad(res("'cpu':{'idle':2}"), E "linux.resources.cpu.idle: must be an integer between 0 and 1, got 2");
	bad(res("'cpu':{'cpus':'0-3;rm'}"),
	    E "linux.resources.cpu.cpus: must be a list such as \"0-3,7\", got \"0-3;rm\"");
	bad(res("'blockIO':{'weight':5}"), E "linux.resources.blockIO.weight: must be between 10 and 1000, got 5");
	bad(res("'blockIO':{'weightDevice':[{'major':8,'minor':0,'weight':1001}]}"),
	    E "linux.resources.blockIO.weightDevice[0].weight: must be between 10 and 1000, got 1001");
	bad(res("'blockIO':{'throttleReadBpsDevice':[{'major':8,'rate':1}]}"),
	    E "linux.resources.blockIO.throttleReadBpsDevice[0].minor: is required");
	bad(res("'blockIO':{'throttleWriteIOPSDevice':[{'major':8,'minor':0}]}"),
	    E "linux.resources.blockIO.throttleWriteIOPSDevice[0].rate: is required");
	bad(res("'devices':[{'allow':true,'type':'x'}]"),
	    E "linux.resources.devices[0].type: must be \"a\", \"c\" or \"b\", got \"x\"");
	bad(res("'devices':[{'allow':true,'access':'rwx'}]"),
	    E "linux.resources.devices[0].access: must be letters of \"rwm\", each once, got \"rwx\"");
	bad(res("'devices':[{'allow':true,'access':'rr'}]"),
	    E "linux.resources.devices[0].access: must be letters of \"rwm\", each once, got \"rr\"");
	bad(res("'devices':[{'access':'r'}]"), E "linux.resources.devices[0].allow: is required");
	bad(res("'devices':[{'allow':true,'major':-2}]"),
	    E "linux.resources.devices[0].major: must be an integer between -1 and 9223372036854775807, got -2");
	bad(res("'pids':{'limit':'max'}"), E "linux.resources.pids.limit: expected an integer, got \"max\"");
	bad(res("'hugepageLimits':[{'pageSize':'2M','limit':1}]"),
	    E "linux.resources.hugepageLimits[0].pageSize: must look like \"2MB\", got \"2M\"");
	bad(res("'network':{'priorities':[{'name':'eth0'}]}"),
	    E "linux.resources.network.priorities[0].priority: is required");
	bad(res("'rdma':{'mlx':{'hcaHandles':-1}}"),
	    E "linux.resources.rdma.mlx.hcaHandles: must be an integer between 0 and 4294967295, got -1");
	bad(res("'unified':{'../cgroup.procs':'1'}"),
	    E "linux.resources.unified[\"../cgroup.procs\"]: must name a file of the cgroup directory");
	bad(res("'memory':{'limit':18446744073709551616}"),
	    E "linux.resources.memory.limit: must be an integer between -1 and 9223372036854775807, "
	      "got 18446744073709551616");
	bad(res("'network':{'classID':4294967296}"),
	    E "linux.resources.network.classID: must be an integer between 0 and 4294967295, got 4294967296");
}

static void test_errors_seccomp(void)
{
	bad(lx("'seccomp':{}"), E "linux.seccomp.defaultAction: is required");
	bad(lx("'seccomp':{'defaultAction':'SCMP_ACT_FOO'}"),
	    E "linux.seccomp.defaultAction: unknown seccomp action \"SCMP_ACT_FOO\"");
	bad(sc(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_FOO'}]"),
	    E "linux.seccomp.syscalls[0].action: unknown seccomp action \"SCMP_ACT_FOO\"");
	bad(sc(",'architectures':['SCMP_ARCH_Z80']"),
	    E "linux.seccomp.architectures[0]: unknown seccomp architecture \"SCMP_ARCH_Z80\"");
	bad(sc(",'flags':['SECCOMP_FILTER_FLAG_FAST']"),
	    E "linux.seccomp.flags[0]: unknown seccomp flag \"SECCOMP_FILTER_FLAG_FAST\"");
	bad(sc(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
	       "'args':[{'index':0,'value':1,'op':'SCMP_CMP_FOO'}]}]"),
	    E "linux.seccomp.syscalls[0].args[0].op: unknown seccomp operator \"SCMP_CMP_FOO\"");
	bad(sc(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ERRNO',"
	       "'args':[{'index':6,'value':1,'op':'SCMP_CMP_EQ'}]}]"),
	    E "linux.seccomp.syscalls[0].args[0].index: must be an integer between 0 and 5, got 6");
	bad(sc(",'syscalls':[{'names':[],'action':'SCMP_ACT_ALLOW'}]"),
	    E "linux.seccomp.syscalls[0].names: must be a non-empty array of strings");
	bad(sc(",'syscalls':[{'names':['read'],'action':'SCMP_ACT_ALLOW','errnoRet':1}]"),
	    E "linux.seccomp.syscalls[0].errnoRet: is only allowed with SCMP_ACT_ERRNO and SCMP_ACT_TRACE");
	bad(sc(",'syscalls':[{'names':['mkdir'],'action':'SCMP_ACT_NOTIFY'}]"),
	    E "linux.seccomp.listenerPath: is required when a rule uses SCMP_ACT_NOTIFY");
	bad(lx("'seccomp':{'defaultAction':'SCMP_ACT_NOTIFY','listenerPath':'/s'}"),
	    E "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY cannot be the default action");
	bad(sc(",'listenerPath':'run/x'"), E "linux.seccomp.listenerPath: must be an absolute path");
}

/* Malformed text: one line, with a position. */
static void test_syntax(void)
{
	struct conf_config *cfg = NULL;
	struct vs_err err;
	int r = parse_sq("{'ociVersion':\n  }", &cfg, &err);
	ok(r == -EINVAL && !cfg, "malformed JSON refused");
	ok(!strncmp(err.msg, E, strlen(E)) && strstr(err.msg, "at line 2, column") &&
	   !strchr(err.msg, '\n'), "parse error has a position, one line: %s", err.msg);
	r = parse_sq("{'ociVersion':'1.2.0'", &cfg, &err);
	ok(r == -EINVAL && strstr(err.msg, "premature EOF") && strstr(err.msg, "line 1"),
	   "truncated text: %s", err.msg);
	r = parse_sq("{'ociVersion':'1.2.0'} x", &cfg, &err);
	ok(r == -EINVAL && strstr(err.msg, "trailing garbage"), "trailing garbage: %s", err.msg);
	r = parse_sq("{/* c */ 'ociVersion':'1.2.0'}", &cfg, &err);
	ok(r == -EINVAL, "comments are not JSON: %s", err.msg);
	r = parse_sq("{'ociVersion':'1.2.0','hostname':'a\\u0000b'}", &cfg, &err);
	ok(r == -EINVAL && strstr(err.msg, "\\u0000"), "\\u0000 refused: %s", err.msg);
	r = conf_parse("", 0, "config.json", &cfg, &err);
	is_str(err.msg, E "empty document", "empty text");
	r = conf_parse("{\"ociVersion\":\"1.2.0\"}\0junk", 27, "config.json", &cfg, &err);
	ok(r == -EINVAL, "NUL byte inside the text refused: %s", err.msg);
	r = conf_parse("{\"ociVersion\":\"1.2.0\",\"h\":\"\xff\"}", 30, "config.json", &cfg, &err);
	ok(r == -EINVAL, "invalid UTF-8 refused: %s", err.msg);

	char deep[700];
	memset(deep, '[', 300);
	memset(deep + 300, ']', 300);
	deep[600] = '\0';
	r = conf_parse(deep, 600, "config.json", &cfg, &err);
	ok(r == -EINVAL && strstr(err.msg, "nesting is too deep"), "deep nesting: %s", err.msg);
	snprintf(deep, sizeof(deep), "{\"ociVersion\":\"1.2.0\",\"x\":%.100s%.100s}",
		 "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
		 "]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]");
	r = conf_parse(deep, strlen(deep), "config.json", &cfg, &err);
	ok(r == 0, "moderate nesting in an unknown field is fine");
	conf_free(cfg);
}

static void test_accepted(void)
{
	good(top(""), "minimal config");
	good("{'ociVersion':'1.0.2-dev'}", "no process, no linux, old version");
	good(top(",'unknownField':{'a':[1,2,{'b':null}]},'process2':1"), "unknown fields ignored");
	good(top(",'hostname':null"), "null is as if absent");
	good(top(",'hostname':'h','linux':{'namespaces':[{'type':'uts'}]}"), "hostname with uts ns");
	good(res("'cpu':{'shares':0}"), "cpu.shares 0 = not set");
	good(res("'devices':[{'allow':true,'type':'a','access':''}]"), "empty access = rwm");
	good(lx("'devices':[{'path':'/dev/null','type':'u','major':1,'minor':3}]"), "device type u");
	good(mnt("{'destination':'/b','options':['']}"), "empty option ignored");
	good(sc(",'syscalls':[{'names':['mkdir'],'action':'SCMP_ACT_NOTIFY'}],'listenerPath':'/s'"),
	     "notify with a listener");
	good(top(",'hooks':{'prestart':[{'path':'/x','timeout':1}],'unknownKind':5}"),
	     "unknown hook kind ignored");
	good(top(",'hooks':{'prestart':[]}"), "empty hook list");

	struct conf_config *cfg;
	struct vs_err err;
	if (parse_sq(top(",'hostname':'a','hostname':'b'"), &cfg, &err) == 0) {
		is_str(cfg->hostname, "b", "duplicate keys: the last wins");
		conf_free(cfg);
	} else {
		ok(0, "duplicate keys: %s", err.msg);
	}
	if (parse_sq(res("'cpu':{'shares':0}"), &cfg, &err) == 0) {
		ok(!cfg->linux_.resources.cpu.shares.set, "cpu.shares 0 leaves shares unset");
		conf_free(cfg);
	}
}

static void test_mount_options(void)
{
	static const char *const wanted[] = {
		"ro", "rw", "suid", "nosuid", "dev", "nodev", "exec", "noexec", "sync", "async",
		"dirsync", "remount", "mand", "nomand", "atime", "noatime", "diratime",
		"nodiratime", "relatime", "norelatime", "strictatime", "nostrictatime", "lazytime",
		"nolazytime", "bind", "rbind", "private", "rprivate", "shared", "rshared", "slave",
		"rslave", "unbindable", "runbindable", "rro", "rrw", "rnosuid", "rsuid", "rnodev",
		"rdev", "rnoexec", "rexec", "rnodiratime", "rdiratime", "rrelatime", "rnorelatime",
		"rnoatime", "ratime", "rstrictatime", "rnostrictatime", "idmap", "ridmap",
		"tmpcopyup", "nosymfollow",
	};
	const char *const *known = conf_known_mount_options();
	size_t missing = 0, n = 0, as_data = 0;
	for (size_t i = 0; i < VS_ARRAY_SIZE(wanted); i++) {
		bool found = false;
		for (const char *const *k = known; *k; k++)
			found |= !strcmp(*k, wanted[i]);
		if (!found) {
			printf("#   missing mount option %s\n", wanted[i]);
			missing++;
		}
	}
	is_int(missing, 0, "every runc/crun mount option is known");
	for (const char *const *k = known; *k; k++, n++) {
		char m[128];
		struct conf_config *cfg;
		struct vs_err err;
		snprintf(m, sizeof(m), "{'destination':'/b','options':['%s']}", *k);
		if (parse_sq(mnt(m), &cfg, &err) < 0) {
			as_data += 1000;
			continue;
		}
		as_data += cfg->mounts[1].data != NULL;
		conf_free(cfg);
	}
	is_int(as_data, 0, "each known option decodes to flags, never to data");
	ok(n >= VS_ARRAY_SIZE(wanted), "%zu mount options known", n);

	struct conf_config *cfg;
	struct vs_err err;
	int r = parse_sq(mnt("{'destination':'/b','options':['ro','rw','nosuid','suid','shared',"
			     "'rprivate','rnoexec','rexec','ratime','uid=1','gid=2']}"), &cfg, &err);
	ok(r == 0, "options later win");
	if (r == 0) {
		const struct conf_mount *m = &cfg->mounts[1];
		ok(m->flags == 0 && m->clear_flags == (MS_RDONLY | MS_NOSUID), "ro,rw / nosuid,suid");
		ok(m->propagation == (MS_PRIVATE | MS_REC), "last propagation wins");
		ok(m->attr_set == 0 && m->attr_clr == (MOUNT_ATTR_NOEXEC | MOUNT_ATTR__ATIME),
		   "rnoexec,rexec / ratime");
		is_str(m->data, "uid=1,gid=2", "data keeps order");
		ok(!m->type && !m->source, "type and source may be absent");
		conf_free(cfg);
	}
}

static void test_default_spec(void)
{
	char *s = conf_default_spec(false);
	struct conf_config *c = NULL;
	struct vs_err err;
	int r = conf_parse(s, strlen(s), "spec", &c, &err);
	ok(r == 0, "default spec parses");
	ok(strstr(s, "\n\t\"ociVersion\": \"1.2.0\"") != NULL, "pretty-printed, tab-indented");
	ok(s[strlen(s) - 1] == '\n', "ends with a newline");
	free(s);
	if (r < 0) {
		printf("#   %s\n", err.msg);
		return;
	}
	const uint64_t caps = BIT(29) | BIT(5) | BIT(10);
	const struct conf_process *p = c->process;
	is_str(c->oci_version, "1.2.0", "spec: ociVersion");
	ok(p->terminal && !strcmp(p->args[0], "sh") && !p->args[1] && !strcmp(p->cwd, "/"),
	   "spec: terminal, args, cwd");
	ok(vs_strv_len(p->env) == 2 && !strncmp(p->env[0], "PATH=", 5) &&
	   !strcmp(p->env[1], "TERM=xterm"), "spec: env");
	ok(p->caps.bounding == caps && p->caps.effective == caps && p->caps.permitted == caps &&
	   !p->caps.inheritable && !p->caps.ambient, "spec: runc's three capabilities");
	ok(p->n_rlimits == 1 && p->rlimits[0].type == RLIMIT_NOFILE &&
	   p->rlimits[0].soft == 1024 && p->rlimits[0].hard == 1024, "spec: NOFILE 1024");
	ok(p->no_new_privileges, "spec: noNewPrivileges");
	ok(!strcmp(c->root.path, "rootfs") && c->root.readonly, "spec: root");
	is_str(c->hostname, "vserver", "spec: hostname");
	is_int(c->n_mounts, 7, "spec: seven mounts");
	is_str(c->mounts[6].destination, "/sys/fs/cgroup", "spec: cgroup mount last");
	ok(c->mounts[5].flags == (MS_NOSUID | MS_NOEXEC | MS_NODEV | MS_RDONLY), "spec: /sys ro");
	is_str(c->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620,gid=5", "spec: devpts data");
	const struct conf_linux *l = &c->linux_;
	ok(l->ns[CONF_NS_PID].present && l->ns[CONF_NS_NETWORK].present && l->ns[CONF_NS_IPC].present &&
	   l->ns[CONF_NS_UTS].present && l->ns[CONF_NS_MOUNT].present && l->ns[CONF_NS_CGROUP].present &&
	   !l->ns[CONF_NS_USER].present && !l->ns[CONF_NS_TIME].present, "spec: namespaces");
	ok(l->has_resources && l->resources.n_devices == 1 && !l->resources.devices[0].allow &&
	   l->resources.devices[0].type == 'a', "spec: devices deny all");
	is_int(vs_strv_len(l->masked_paths), 11, "spec: masked paths");
	is_int(vs_strv_len(l->readonly_paths), 5, "spec: readonly paths");
	conf_free(c);

	s = conf_default_spec_ids(true, 1234, 5678);
	r = conf_parse(s, strlen(s), "spec", &c, &err);
	free(s);
	ok(r == 0, "rootless spec parses");
	if (r < 0) {
		printf("#   %s\n", err.msg);
		return;
	}
	l = &c->linux_;
	ok(l->ns[CONF_NS_USER].present && !l->ns[CONF_NS_NETWORK].present, "rootless: userns, no netns");
	ok(l->n_uid_mappings == 1 && l->uid_mappings[0].host_id == 1234 &&
	   l->uid_mappings[0].container_id == 0 && l->uid_mappings[0].size == 1, "rootless: uid map");
	ok(l->n_gid_mappings == 1 && l->gid_mappings[0].host_id == 5678, "rootless: gid map");
	ok(!l->has_resources, "rootless: no resources");
	ok(!strcmp(c->mounts[5].type, "none") && c->mounts[5].flags & MS_BIND &&
	   c->mounts[5].flags & MS_REC, "rootless: /sys is an rbind");
	is_str(c->mounts[2].data, "newinstance,ptmxmode=0666,mode=0620", "rootless: no gid=5");
	conf_free(c);
}

static void test_process_json(void)
{
	struct conf_process *p = NULL;
	struct vs_err err;
	char *j = dq("{'args':['ls','-l'],'cwd':'/tmp','env':['A=b'],'terminal':false,"
		     "'user':{'uid':5,'gid':6},'capabilities':{'effective':['CAP_SYS_ADMIN']}}");
	int r = conf_parse_process(j, strlen(j), "process.json", &p, &err);
	free(j);
	ok(r == 0, "process.json parses");
	if (r == 0) {
		ok(!strcmp(p->args[1], "-l") && !strcmp(p->cwd, "/tmp") && p->user.uid == 5 &&
		   p->caps.effective == BIT(21) && !p->terminal, "process.json values");
		conf_process_free(p);
	}
	j = dq("{'args':['ls']}");
	p = NULL;
	r = conf_parse_process(j, strlen(j), "process.json", &p, &err);
	free(j);
	ok(r == -EINVAL && !p, "process.json without cwd refused");
	is_str(err.msg, "conf: process.json: cwd: is required", "  message names the root-level path");
	j = dq("[1]");
	r = conf_parse_process(j, strlen(j), "process.json", &p, &err);
	free(j);
	is_str(err.msg, "conf: process.json: expected an object, got an array", "process.json not object");
	conf_process_free(NULL);

	struct conf_resources rs;
	j = dq("{'memory':{'limit':104857600,'swap':-1},'pids':{'limit':64},'cpu':{'quota':-1},"
	       "'unified':{'memory.max':'max'}}");
	r = conf_parse_resources(j, strlen(j), "resources.json", &rs, &err);
	free(j);
	ok(r == 0, "resources.json parses");
	if (r == 0) {
		ok(rs.memory.limit.v == 104857600 && rs.memory.swap.v == -1 && !rs.memory.reservation.set &&
		   rs.pids.limit.v == 64 && rs.cpu.quota.v == -1 && rs.n_unified == 1,
		   "resources.json values");
		conf_resources_free(&rs);
	}
	j = dq("{'memory':{'swappiness':'high'}}");
	r = conf_parse_resources(j, strlen(j), "resources.json", &rs, &err);
	free(j);
	ok(r == -EINVAL, "bad resources.json refused");
	is_str(err.msg, "conf: resources.json: memory.swappiness: expected an integer, got \"high\"",
	       "  message");
	ok(rs.n_devices == 0 && !rs.cpu.cpus, "  out left zeroed");
}

static void test_load(void)
{
	char path[] = "/tmp/test-conf-XXXXXX";
	int fd = mkstemp(path);
	char *j = dq("{'ociVersion':'1.2.0','root':{'path':'/r'},'linux':{}}");
	/* ok() evaluates its condition twice: write outside it */
	ssize_t w = fd >= 0 ? vs_write_all(fd, j, strlen(j)) : -1;
	ok(w == (ssize_t)strlen(j), "temp file written");
	free(j);
	close(fd);
	struct conf_config *c = NULL;
	struct vs_err err;
	int r = conf_load(path, &c, &err);
	ok(r == 0 && c && !strcmp(c->root.path, "/r"), "conf_load");
	if (r < 0)
		printf("#   %s\n", err.msg);
	conf_free(c);
	unlink(path);
	r = conf_load(path, &c, &err);
	ok(r == -ENOENT && strstr(err.msg, "conf: read /tmp/test-conf-") && strstr(err.msg, "ENOENT"),
	   "conf_load of a missing file: %s", err.msg);
	conf_free(NULL);
}

static void test_names(void)
{
	is_int(conf_cap_last(), 40, "conf_cap_last");
	is_int(conf_cap_from_name("CAP_CHECKPOINT_RESTORE"), 40, "CAP_CHECKPOINT_RESTORE = 40");
	is_int(conf_cap_from_name("CAP_BPF"), 39, "CAP_BPF = 39");
	is_int(conf_cap_from_name("CAP_PERFMON"), 38, "CAP_PERFMON = 38");
	is_int(conf_cap_from_name("CAP_SYS_ADMIN"), 21, "CAP_SYS_ADMIN = 21");
	is_int(conf_cap_from_name("CAP_CHOWN"), 0, "CAP_CHOWN = 0");
	is_int(conf_cap_from_name("KILL"), -EINVAL, "capability without CAP_ refused");
	is_int(conf_cap_from_name("CAP_NOPE"), -EINVAL, "unknown capability");
	int roundtrip = 0;
	for (int i = 0; i <= conf_cap_last(); i++)
		roundtrip += conf_cap_from_name(conf_cap_name(i)) == i;
	is_int(roundtrip, 41, "every capability name round-trips");
	ok(!conf_cap_name(41) && !conf_cap_name(-1), "conf_cap_name out of range");
	is_int(conf_rlimit_from_name("RLIMIT_NOFILE"), RLIMIT_NOFILE, "RLIMIT_NOFILE");
	is_int(conf_rlimit_from_name("RLIMIT_RTTIME"), RLIMIT_RTTIME, "RLIMIT_RTTIME");
	is_int(conf_rlimit_from_name("NOFILE"), -EINVAL, "rlimit without prefix refused");
	is_int(conf_signal_from_name("KILL"), SIGKILL, "signal KILL");
	is_int(conf_signal_from_name("SIGKILL"), SIGKILL, "signal SIGKILL");
	is_int(conf_signal_from_name("sigterm"), SIGTERM, "signal sigterm");
	is_int(conf_signal_from_name("9"), 9, "signal 9");
	is_int(conf_signal_from_name("SIGWINCH"), SIGWINCH, "signal SIGWINCH");
	is_int(conf_signal_from_name("SIGRTMIN"), SIGRTMIN, "SIGRTMIN");
	is_int(conf_signal_from_name("SIGRTMIN+3"), SIGRTMIN + 3, "SIGRTMIN+3");
	is_int(conf_signal_from_name("RTMAX-2"), SIGRTMAX - 2, "RTMAX-2");
	is_int(conf_signal_from_name("SIGRTMIN+99"), -EINVAL, "SIGRTMIN+99 refused");
	is_int(conf_signal_from_name("SIGRTMIN-1"), -EINVAL, "SIGRTMIN-1 refused");
	is_int(conf_signal_from_name("0"), -EINVAL, "signal 0 refused");
	is_int(conf_signal_from_name("65"), -EINVAL, "signal 65 refused");
	is_int(conf_signal_from_name(""), -EINVAL, "empty signal refused");
	is_int(conf_signal_from_name("SIGFOO"), -EINVAL, "unknown signal refused");
	is_int(conf_signal_from_name("99999999999"), -EINVAL, "huge number refused");
	is_str(conf_ns_name(CONF_NS_NETWORK), "network", "ns name network");
	is_str(conf_ns_name(CONF_NS_TIME), "time", "ns name time");
	ok(conf_ns_name(CONF_NS__MAX) == NULL, "ns name out of range");
	is_str(conf_hook_name(CONF_HOOK_CREATE_RUNTIME), "createRuntime", "hook name");
	is_str(conf_hook_name(CONF_HOOK_POSTSTOP), "poststop", "hook name poststop");
	ok(conf_hook_name(CONF_HOOK__MAX) == NULL, "hook name out of range");
	is_str(conf_seccomp_action_name(CONF_SECCOMP_ACT_NOTIFY), "SCMP_ACT_NOTIFY", "action name");
	ok(conf_seccomp_action_name(99) == NULL, "action name out of range");
	is_int(vs_strv_len((char **)conf_known_seccomp_actions()), 9, "nine seccomp actions");
	ok(vs_strv_len((char **)conf_known_seccomp_archs()) >= 19, "seccomp archs");
	is_int(vs_strv_len((char **)conf_known_seccomp_flags()), 4, "four seccomp flags");
}

/* server.json: the VM fields round-trip; a container record has none */
static void test_server_vm(void)
{
	struct vs_err err = { 0 };
	struct conf_server *s = NULL;
	const char *j = "{\"name\":\"v\",\"image\":\"default:latest\",\"vm\":true,"
			"\"vmKernel\":\"/boot/vmlinuz-x\",\"vmVcpus\":2}";
	is_int(conf_server_parse(j, strlen(j), "server.json", &s, &err), 0, "server vm: parsed");
	ok(s && s->vm && s->vm_vcpus == 2 && !s->vm_disk_image, "server vm: fields");
	is_str(s ? s->vm_kernel : NULL, "/boot/vmlinuz-x", "server vm: kernel");
	char *out = s ? conf_server_json(s) : NULL;
	conf_server_free(s);
	s = NULL;
	is_int(out ? conf_server_parse(out, strlen(out), "again", &s, &err) : -1, 0, "server vm: round trip");
	ok(s && s->vm && s->vm_vcpus == 2 && s->vm_kernel && !strcmp(s->vm_kernel, "/boot/vmlinuz-x"),
	   "server vm: same after the round trip");
	free(out);
	free(s->vm_kernel);
	s->vm_kernel = NULL;
	s->vm = false;
	out = conf_server_json(s);
	ok(!strstr(out, "\"vm"), "server vm: a container record has no vm keys");
	free(out);
	conf_server_free(s);
	j = "{\"name\":\"v\",\"image\":\"i\",\"vm\":\"yes\"}";
	is_int(conf_server_parse(j, strlen(j), "server.json", &s, &err), -EINVAL, "server vm: vm must be a bool");
	ok(strstr(err.msg, "vm") != NULL, "server vm: the error names the key: %s", err.msg);
}

static const struct conf_mount *mount_at(const struct conf_config *c, const char *dst)
{
	for (size_t i = 0; i < c->n_mounts; i++)
		if (!strcmp(c->mounts[i].destination, dst))
			return &c->mounts[i];
	return NULL;
}

/* A server with --init (a full distribution's init, systemd) gets a
 * writable cgroup2 tree and the tmpfs mounts systemd cannot make without
 * CAP_SYS_ADMIN; a plain server keeps the read-only cgroup view. */
static void test_server_oci(void)
{
	for (int init = 0; init <= 1; init++) {
		struct conf_server s = { .name = "web", .init = init };
		char *j = conf_server_oci_config(&s, NULL, NULL);
		struct conf_config *c = NULL;
		struct vs_err err;
		int r = conf_parse(j, strlen(j), "server", &c, &err);
		free(j);
		ok(r == 0, "server config (init=%d) parses", init);
		if (r < 0) {
			printf("#   %s\n", err.msg);
			continue;
		}
		const struct conf_mount *cg = mount_at(c, "/sys/fs/cgroup");
		const struct conf_mount *lock = mount_at(c, "/run/lock");
		const struct conf_mount *run = mount_at(c, "/run");
		ok(cg != NULL, "server (init=%d): /sys/fs/cgroup mounted", init);
		if (init) {
			ok(cg && !strcmp(cg->type, "cgroup2") && !(cg->flags & MS_RDONLY),
			   "init server: cgroup2, writable");
			ok(run && lock && run < lock && !strcmp(lock->type, "tmpfs") &&
			   (lock->flags & MS_NOEXEC), "init server: /run/lock tmpfs after /run");
			ok(mount_at(c, "/tmp") != NULL, "init server: /tmp tmpfs");
			is_str(c->process->args[0], "/sbin/init", "init server: runs /sbin/init");
			ok(vs_strv_len(c->process->env) > 0 &&
			   !strcmp(c->process->env[vs_strv_len(c->process->env) - 1], "container=vserver"),
			   "init server: container=vserver");
			ok(c->linux_.ns[CONF_NS_CGROUP].present, "init server: own cgroup namespace");
			is_str(conf_annotation(c, CONF_ANN_DELEGATE_CGROUP), "guest",
			       "init server: processes in the delegated cgroup \"guest\" below the limits");
		} else {
			ok(cg && !strcmp(cg->type, "cgroup") && (cg->flags & MS_RDONLY),
			   "plain server: cgroup view read-only");
			ok(!run && !lock, "plain server: no /run tmpfs");
			ok(!conf_annotation(c, CONF_ANN_DELEGATE_CGROUP),
			   "plain server: no delegated cgroup");
		}
		conf_free(c);
	}
}

/* --publish: "[hostip:]hostport:port[/tcp|/udp]", hostip IPv4 or [IPv6] */
static void pub_ok(const char *in, const char *ip, unsigned hp, unsigned p, bool udp)
{
	char got_ip[64] = "x";
	unsigned ghp = 0, gp = 0;
	bool gudp = !udp;
	int r = conf_parse_publish(in, got_ip, &ghp, &gp, &gudp);
	ok(r == 0 && !strcmp(got_ip, ip) && ghp == hp && gp == p && gudp == udp,
	   "publish \"%s\" -> \"%s\" %u %u %s", in, ip, hp, p, udp ? "udp" : "tcp");
}

static void test_publish(void)
{
	static const char *bad_ones[] = {
		"", "8080", "8080:", ":80", "0:80", "8080:0", "65536:80", "8080:80/sctp",
		"host:8080:80", "1.2.3:8080:80", "2001:db8::1:8080:80", "[2001:db8::1]8080:80",
		"[2001:db8::1:8080:80", "[1.2.3.4]:8080:80", "[]:8080:80", "1.2.3.4:8080:80:1",
		"+80:80", "8080:-80", "1.2.3.4::80",
	};
	pub_ok("8080:80", "", 8080, 80, false);
	pub_ok("53:53/udp", "", 53, 53, true);
	pub_ok("8080:80/tcp", "", 8080, 80, false);
	pub_ok("198.51.100.1:8080:80", "198.51.100.1", 8080, 80, false);
	pub_ok("0.0.0.0:8080:80/udp", "0.0.0.0", 8080, 80, true);
	pub_ok("[2001:db8::1]:8080:80", "2001:db8::1", 8080, 80, false);
	pub_ok("[::]:443:8443/tcp", "::", 443, 8443, false);
	pub_ok("[::ffff:1.2.3.4]:1:65535/udp", "::ffff:1.2.3.4", 1, 65535, true);
	for (size_t i = 0; i < sizeof(bad_ones) / sizeof(bad_ones[0]); i++) {
		char ip[64];
		unsigned hp, p;
		bool udp;
		is_int(conf_parse_publish(bad_ones[i], ip, &hp, &p, &udp), -EINVAL,
		       "publish \"%s\" refused", bad_ones[i]);
	}
}

int main(void)
{
	test_publish();
	test_names();
	test_full();
	test_errors_top();
	test_errors_process();
	test_errors_linux();
	test_errors_resources();
	test_errors_seccomp();
	test_syntax();
	test_accepted();
	test_mount_options();
	test_default_spec();
	test_process_json();
	test_load();
	test_server_vm();
	test_server_oci();
	return tap_done();
}
