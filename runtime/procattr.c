/* runtime/procattr.c: the smaller process attributes: rlimits, umask,
 * oom_score_adj, scheduler, ioPriority, personality, execCPUAffinity. */
#include "internal.h"

#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>

/* struct sched_attr as the kernel knows it (SCHED_ATTR_SIZE_VER1); glibc
 * 2.36 has no declaration, and <linux/sched/types.h> fights <sched.h> on
 * some header versions, so it is spelled out here. */
struct vs_sched_attr {
	uint32_t size;
	uint32_t sched_policy;
	uint64_t sched_flags;
	int32_t sched_nice;
	uint32_t sched_priority;
	uint64_t sched_runtime, sched_deadline, sched_period;
	uint32_t sched_util_min, sched_util_max;
};

#ifndef SCHED_DEADLINE
#define SCHED_DEADLINE 6
#endif
#define VS_IOPRIO_WHO_PROCESS 1
#define VS_IOPRIO_CLASS_SHIFT 13

/* runs in: container init or exec'd process, after pivot_root, before
 * execve; before rt_apply_user(), so that raising a hard limit can still use
 * the runtime's CAP_SYS_RESOURCE (when it has it: this machine's bounding set
 * does not, and setrlimit then fails with EPERM above the current hard
 * limit, as with runc and crun). */
int rt_apply_rlimits(const struct conf_process *p, struct vs_err *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		const struct conf_rlimit *rl = &p->rlimits[i];
		struct rlimit v = {
			.rlim_cur = rl->soft == UINT64_MAX ? RLIM_INFINITY : (rlim_t)rl->soft,
			.rlim_max = rl->hard == UINT64_MAX ? RLIM_INFINITY : (rlim_t)rl->hard,
		};
		const char *name = rl->name ? rl->name : "rlimit";

		if (v.rlim_cur > v.rlim_max)
			return vs_failx(err, EINVAL,
					"process: %s: soft limit %llu is above the hard limit %llu",
					name, (unsigned long long)rl->soft, (unsigned long long)rl->hard);
		if (prlimit(0, (__rlimit_resource_t)rl->type, &v, NULL) < 0) {
			int e = errno;
			struct rlimit cur;
			if (e == EPERM && getrlimit((__rlimit_resource_t)rl->type, &cur) == 0 &&
			    v.rlim_max > cur.rlim_max)
				return vs_fail(err, e,
					       "process: setrlimit %s %llu/%llu: raising the hard limit "
					       "above %llu needs CAP_SYS_RESOURCE",
					       name, (unsigned long long)rl->soft,
					       (unsigned long long)rl->hard,
					       (unsigned long long)cur.rlim_max);
			return vs_fail(err, e, "process: setrlimit %s %llu/%llu", name,
				       (unsigned long long)rl->soft, (unsigned long long)rl->hard);
		}
	}
	return 0;
}

/* runs in: the runtime (create, exec), before it sends SYNC_GO. The
 * process is not dumpable until its execve (fdguard.c), so in a user
 * namespace its own /proc/self/oom_score_adj is not its to write; making it
 * dumpable for the write would open it to ptrace and /proc/PID/mem from the
 * container. The runtime, root on the host, writes it through /proc/PID. */
int rt_apply_oom_score_adj(pid_t pid, const struct conf_process *p, struct vs_err *err)
{
	if (!p || !p->oom_score_adj.set)
		return 0;
	char buf[32], path[64];
	snprintf(buf, sizeof(buf), "%lld", (long long)p->oom_score_adj.v);
	snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
	int r = vs_write_file(path, buf);
	if (r < 0) {
		if (r == -EACCES)
			return vs_fail(err, -r,
				       "process: oom_score_adj %s: lowering it needs CAP_SYS_RESOURCE",
				       buf);
		return vs_fail(err, -r, "process: oom_score_adj %s", buf);
	}
	return 0;
}

static int apply_scheduler(const struct conf_scheduler *s, struct vs_err *err)
{
	struct vs_sched_attr a = {
		.size = sizeof(a),
		.sched_policy = (uint32_t)s->policy,
		.sched_flags = s->flags,
		.sched_nice = s->nice,
		.sched_priority = (uint32_t)s->priority,
	};
	if (s->policy == SCHED_DEADLINE) {
		a.sched_runtime = s->runtime;
		a.sched_deadline = s->deadline;
		a.sched_period = s->period;
	}
	if (syscall(SYS_sched_setattr, 0, &a, 0) < 0)
		return vs_fail(err, errno, "process: sched_setattr policy %d priority %d nice %d",
			       s->policy, s->priority, s->nice);
	return 0;
}

static int apply_ioprio(const struct conf_io_priority *io, struct vs_err *err)
{
	static const char *const cls[] = { "NONE", "IOPRIO_CLASS_RT", "IOPRIO_CLASS_BE",
					   "IOPRIO_CLASS_IDLE" };
	if (io->class < 1 || io->class > 3 || io->priority < 0 || io->priority > 7)
		return vs_failx(err, EINVAL, "process: ioPriority class %d priority %d: out of range",
				io->class, io->priority);
	int v = (io->class << VS_IOPRIO_CLASS_SHIFT) | io->priority;
	if (syscall(SYS_ioprio_set, VS_IOPRIO_WHO_PROCESS, 0, v) < 0)
		return vs_fail(err, errno, "process: ioprio_set %s %d", cls[io->class], io->priority);
	return 0;
}

static const struct { const char *name; unsigned long v; } persona_flags[] = {
	{ "ADDR_COMPAT_LAYOUT", ADDR_COMPAT_LAYOUT }, { "ADDR_LIMIT_32BIT", ADDR_LIMIT_32BIT },
	{ "ADDR_LIMIT_3GB", ADDR_LIMIT_3GB },         { "ADDR_NO_RANDOMIZE", ADDR_NO_RANDOMIZE },
	{ "FDPIC_FUNCPTRS", FDPIC_FUNCPTRS },         { "MMAP_PAGE_ZERO", MMAP_PAGE_ZERO },
	{ "READ_IMPLIES_EXEC", READ_IMPLIES_EXEC },   { "SHORT_INODE", SHORT_INODE },
	{ "STICKY_TIMEOUTS", STICKY_TIMEOUTS },       { "UNAME26", UNAME26 },
	{ "WHOLE_SECONDS", WHOLE_SECONDS },
};

static int apply_personality(const char *domain, char *const *flags, struct vs_err *err)
{
	unsigned long v;

	if (!domain || !strcmp(domain, "LINUX"))
		v = PER_LINUX;
	else if (!strcmp(domain, "LINUX32"))
		v = PER_LINUX32;
	else
		return vs_failx(err, EINVAL, "process: personality domain %s: expected LINUX or LINUX32",
				domain);
	for (char *const *f = flags; f && *f; f++) {
		size_t i;
		for (i = 0; i < VS_ARRAY_SIZE(persona_flags); i++)
			if (!strcmp(*f, persona_flags[i].name))
				break;
		if (i == VS_ARRAY_SIZE(persona_flags))
			return vs_failx(err, EINVAL, "process: personality flag %s: unknown", *f);
		v |= persona_flags[i].v;
	}
	if (personality(v) < 0)
		return vs_fail(err, errno, "process: personality %s %#lx", domain ? domain : "LINUX", v);
	return 0;
}

/* Parses a cpuset list such as "0-3,5" (spaces and a final newline
 * allowed). Returns a CPU_ALLOC'd set and its size in *size, or NULL with
 * errno EINVAL. */
static cpu_set_t *parse_cpu_list(const char *s, size_t *size)
{
	long max = -1;
	/* first pass: the highest cpu, to size the set */
	for (int pass = 0; pass < 2; pass++) {
		cpu_set_t *set = NULL;
		if (pass == 1) {
			set = CPU_ALLOC((size_t)max + 1);
			if (!set)
				return NULL;
			*size = CPU_ALLOC_SIZE((size_t)max + 1);
			CPU_ZERO_S(*size, set);
		}
		const char *c = s;
		bool any = false;
		for (;;) {
			while (*c == ' ' || *c == '\t' || *c == '\n')
				c++;
			if (!*c)
				break;
			char *end;
			if (*c < '0' || *c > '9')
				goto bad;
			long a = strtol(c, &end, 10), b = a;
			c = end;
			if (*c == '-') {
				c++;
				if (*c < '0' || *c > '9')
					goto bad;
				b = strtol(c, &end, 10);
				c = end;
			}
			if (a < 0 || b < a || b > 65535)
				goto bad;
			while (*c == ' ' || *c == '\t' || *c == '\n')
				c++;
			if (*c == ',')
				c++;
			else if (*c)
				goto bad;
			any = true;
			if (pass == 0 && b > max)
				max = b;
			for (long i = a; pass == 1 && i <= b; i++)
				CPU_SET_S((size_t)i, *size, set);
		}
		if (!any)
			goto bad;
		if (pass == 1)
			return set;
		continue;
bad:
		if (set)
			CPU_FREE(set);
		errno = EINVAL;
		return NULL;
	}
	return NULL;
}

int rt_set_cpu_affinity(const char *cpus, struct vs_err *err)
{
	size_t size = 0;
	cpu_set_t *set = parse_cpu_list(cpus, &size);
	if (!set)
		return vs_failx(err, EINVAL, "process: execCPUAffinity \"%s\": expected a list like 0-3,5",
				cpus);
	int r = sched_setaffinity(0, size, set);
	int e = errno;
	CPU_FREE(set);
	if (r < 0)
		return vs_fail(err, e, "process: sched_setaffinity %s", cpus);
	return 0;
}

/* runs in: container init or exec'd process, after pivot_root, before
 * rt_apply_user() and rt_apply_caps() (a realtime scheduler and the RT io
 * class need capabilities the process may lose; oom_score_adj is written by
 * the runtime, rt_apply_oom_score_adj),
 * before execve.
 *
 * umask defaults to 0022 when user.umask is absent, as runc and crun do, so
 * the container does not inherit whatever umask the runtime was started
 * with. execCPUAffinity: .initial is applied here when .final is absent;
 * when both are given, .final wins, because this code runs after the process
 * joined the container's cgroup (the caller may apply .initial earlier, in
 * the runtime, with rt_set_cpu_affinity()). */
int rt_apply_process_misc(const struct conf_process *p, const struct conf_linux *lx,
			  struct vs_err *err)
{
	int r;

	umask(p->user.umask.set ? (mode_t)(p->user.umask.v & 07777) : 0022);

	if (p->scheduler.set && (r = apply_scheduler(&p->scheduler, err)) < 0)
		return r;
	if (p->io_priority.set && (r = apply_ioprio(&p->io_priority, err)) < 0)
		return r;
	if (lx && lx->personality.set &&
	    (r = apply_personality(lx->personality.domain, lx->personality.flags, err)) < 0)
		return r;
	const char *cpus = p->exec_cpu_affinity_final ? p->exec_cpu_affinity_final
						      : p->exec_cpu_affinity_initial;
	if (cpus && (r = rt_set_cpu_affinity(cpus, err)) < 0)
		return r;
	return 0;
}
