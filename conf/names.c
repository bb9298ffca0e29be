/* conf/names.c: the name tables of the spec (capabilities, rlimits, signals,
 * namespaces, hooks, scheduler, seccomp) and their lookups. */
#include <ctype.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "internal.h"

int conf_name_lookup(const struct conf_name *t, const char *name)
{
	for (; t->name; t++)
		if (!strcmp(t->name, name))
			return t->value;
	return -EINVAL;
}

/* ---- namespaces ---- */

const struct conf_name conf_ns_names[] = {
	{ "pid", CONF_NS_PID }, { "network", CONF_NS_NETWORK }, { "mount", CONF_NS_MOUNT },
	{ "ipc", CONF_NS_IPC }, { "uts", CONF_NS_UTS }, { "user", CONF_NS_USER },
	{ "cgroup", CONF_NS_CGROUP }, { "time", CONF_NS_TIME }, { NULL, 0 },
};

const char *conf_ns_name(enum conf_ns_type t)
{
	for (const struct conf_name *n = conf_ns_names; n->name; n++)
		if (n->value == (int)t)
			return n->name;
	return NULL;
}

/* ---- capabilities: numbered as in linux/capability.h ---- */

static const char *const cap_names[] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER",
	"CAP_FSETID", "CAP_KILL", "CAP_SETGID", "CAP_SETUID",
	"CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE", "CAP_NET_BROADCAST",
	"CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER",
	"CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE",
	"CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_NICE",
	"CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD",
	"CAP_LEASE", "CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP",
	"CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG", "CAP_WAKE_ALARM",
	"CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

int conf_cap_from_name(const char *name)
{
	for (size_t i = 0; i < VS_ARRAY_SIZE(cap_names); i++)
		if (!strcmp(cap_names[i], name))
			return (int)i;
	return -EINVAL;
}

const char *conf_cap_name(int cap)
{
	if (cap < 0 || (size_t)cap >= VS_ARRAY_SIZE(cap_names))
		return NULL;
	return cap_names[cap];
}

int conf_cap_last(void)
{
	return (int)VS_ARRAY_SIZE(cap_names) - 1;
}

/* ---- rlimits ---- */

static const struct conf_name rlimit_names[] = {
	{ "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_DATA", RLIMIT_DATA }, { "RLIMIT_STACK", RLIMIT_STACK },
	{ "RLIMIT_CORE", RLIMIT_CORE }, { "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ NULL, 0 },
};

int conf_rlimit_from_name(const char *name)
{
	return conf_name_lookup(rlimit_names, name);
}

/* ---- signals ---- */

static const struct conf_name signal_names[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT }, { "IOT", SIGIOT }, { "BUS", SIGBUS },
	{ "FPE", SIGFPE }, { "KILL", SIGKILL }, { "USR1", SIGUSR1 }, { "SEGV", SIGSEGV },
	{ "USR2", SIGUSR2 }, { "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "STKFLT", SIGSTKFLT }, { "CHLD", SIGCHLD }, { "CLD", SIGCHLD }, { "CONT", SIGCONT },
	{ "STOP", SIGSTOP }, { "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM },
	{ "PROF", SIGPROF }, { "WINCH", SIGWINCH }, { "IO", SIGIO }, { "POLL", SIGPOLL },
	{ "PWR", SIGPWR }, { "SYS", SIGSYS }, { NULL, 0 },
};

/* Parses a whole decimal number in [0, INT_MAX]; -1 if s is not one. */
static int small_number(const char *s)
{
	if (!*s || strlen(s) > 9)
		return -1;
	for (const char *q = s; *q; q++)
		if (!isdigit((unsigned char)*q))
			return -1;
	return atoi(s);
}

/* "KILL", "SIGKILL", "kill", "9", "SIGRTMIN+3", "RTMAX-1" -> the number. */
int conf_signal_from_name(const char *s)
{
	if (!s)
		return -EINVAL;
	int n = small_number(s);
	if (n >= 0)
		return n >= 1 && n <= SIGRTMAX ? n : -EINVAL;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	for (const struct conf_name *t = signal_names; t->name; t++)
		if (!strcasecmp(t->name, s))
			return t->value;

	int base, sign;
	if (!strncasecmp(s, "RTMIN", 5)) {
		base = SIGRTMIN;
		sign = 1;
	} else if (!strncasecmp(s, "RTMAX", 5)) {
		base = SIGRTMAX;
		sign = -1;
	} else {
		return -EINVAL;
	}
	s += 5;
	if (!*s)
		return base;
	if ((sign > 0 && *s != '+') || (sign < 0 && *s != '-'))
		return -EINVAL;
	n = small_number(s + 1);
	if (n < 0)
		return -EINVAL;
	n = base + sign * n;
	return n >= SIGRTMIN && n <= SIGRTMAX ? n : -EINVAL;
}

/* ---- hooks ---- */

static const char *const hook_names[CONF_HOOK__MAX] = {
	[CONF_HOOK_PRESTART] = "prestart",
	[CONF_HOOK_CREATE_RUNTIME] = "createRuntime",
	[CONF_HOOK_CREATE_CONTAINER] = "createContainer",
	[CONF_HOOK_START_CONTAINER] = "startContainer",
	[CONF_HOOK_POSTSTART] = "poststart",
	[CONF_HOOK_POSTSTOP] = "poststop",
};

const char *conf_hook_name(enum conf_hook_kind k)
{
	return (unsigned)k < CONF_HOOK__MAX ? hook_names[k] : NULL;
}

/* ---- process.scheduler, process.ioPriority ---- */

const struct conf_name conf_sched_policies[] = {
	{ "SCHED_OTHER", 0 }, { "SCHED_FIFO", 1 }, { "SCHED_RR", 2 }, { "SCHED_BATCH", 3 },
	{ "SCHED_ISO", 4 }, { "SCHED_IDLE", 5 }, { "SCHED_DEADLINE", 6 }, { NULL, 0 },
};

const struct conf_name conf_sched_flags[] = {
	{ "SCHED_FLAG_RESET_ON_FORK", 0x01 }, { "SCHED_FLAG_RECLAIM", 0x02 },
	{ "SCHED_FLAG_DL_OVERRUN", 0x04 }, { "SCHED_FLAG_KEEP_POLICY", 0x08 },
	{ "SCHED_FLAG_KEEP_PARAMS", 0x10 }, { "SCHED_FLAG_UTIL_CLAMP_MIN", 0x20 },
	{ "SCHED_FLAG_UTIL_CLAMP_MAX", 0x40 }, { NULL, 0 },
};

const struct conf_name conf_ioprio_classes[] = {
	{ "IOPRIO_CLASS_RT", 1 }, { "IOPRIO_CLASS_BE", 2 }, { "IOPRIO_CLASS_IDLE", 3 },
	{ NULL, 0 },
};

/* ---- linux.rootfsPropagation ---- */

const struct conf_name conf_propagations[] = {
	{ "private", MS_PRIVATE }, { "rprivate", MS_PRIVATE | MS_REC },
	{ "slave", MS_SLAVE }, { "rslave", MS_SLAVE | MS_REC },
	{ "shared", MS_SHARED }, { "rshared", MS_SHARED | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
	{ NULL, 0 },
};

/* ---- seccomp ---- */

const struct conf_name conf_seccomp_actions[] = {
	{ "SCMP_ACT_KILL", CONF_SECCOMP_ACT_KILL },
	{ "SCMP_ACT_KILL_PROCESS", CONF_SECCOMP_ACT_KILL_PROCESS },
	{ "SCMP_ACT_KILL_THREAD", CONF_SECCOMP_ACT_KILL_THREAD },
	{ "SCMP_ACT_TRAP", CONF_SECCOMP_ACT_TRAP },
	{ "SCMP_ACT_ERRNO", CONF_SECCOMP_ACT_ERRNO },
	{ "SCMP_ACT_TRACE", CONF_SECCOMP_ACT_TRACE },
	{ "SCMP_ACT_ALLOW", CONF_SECCOMP_ACT_ALLOW },
	{ "SCMP_ACT_LOG", CONF_SECCOMP_ACT_LOG },
	{ "SCMP_ACT_NOTIFY", CONF_SECCOMP_ACT_NOTIFY },
	{ NULL, 0 },
};

const struct conf_name conf_seccomp_ops[] = {
	{ "SCMP_CMP_NE", 1 }, { "SCMP_CMP_LT", 2 }, { "SCMP_CMP_LE", 3 },
	{ "SCMP_CMP_EQ", 4 }, { "SCMP_CMP_GE", 5 }, { "SCMP_CMP_GT", 6 },
	{ "SCMP_CMP_MASKED_EQ", 7 }, { NULL, 0 },
};

static const char *const seccomp_action_list[] = {
	"SCMP_ACT_KILL", "SCMP_ACT_KILL_PROCESS", "SCMP_ACT_KILL_THREAD", "SCMP_ACT_TRAP",
	"SCMP_ACT_ERRNO", "SCMP_ACT_TRACE", "SCMP_ACT_ALLOW", "SCMP_ACT_LOG",
	"SCMP_ACT_NOTIFY", NULL,
};

/* The architectures of the runtime-spec; libseccomp knows them all. */
static const char *const seccomp_arch_list[] = {
	"SCMP_ARCH_X86", "SCMP_ARCH_X86_64", "SCMP_ARCH_X32", "SCMP_ARCH_ARM",
	"SCMP_ARCH_AARCH64", "SCMP_ARCH_MIPS", "SCMP_ARCH_MIPS64", "SCMP_ARCH_MIPS64N32",
	"SCMP_ARCH_MIPSEL", "SCMP_ARCH_MIPSEL64", "SCMP_ARCH_MIPSEL64N32", "SCMP_ARCH_PPC",
	"SCMP_ARCH_PPC64", "SCMP_ARCH_PPC64LE", "SCMP_ARCH_S390", "SCMP_ARCH_S390X",
	"SCMP_ARCH_PARISC", "SCMP_ARCH_PARISC64", "SCMP_ARCH_RISCV64", NULL,
};

static const char *const seccomp_flag_list[] = {
	"SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG",
	"SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", NULL,
};

const char *const *conf_known_seccomp_actions(void)
{
	return seccomp_action_list;
}

const char *const *conf_known_seccomp_archs(void)
{
	return seccomp_arch_list;
}

const char *const *conf_known_seccomp_flags(void)
{
	return seccomp_flag_list;
}

const char *conf_seccomp_action_name(int action)
{
	for (const struct conf_name *t = conf_seccomp_actions; t->name; t++)
		if (t->value == action)
			return t->name;
	return NULL;
}
