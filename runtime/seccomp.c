/* runtime/seccomp.c: linux.seccomp turned into a BPF filter with libseccomp,
 * and the SCMP_ACT_NOTIFY listener handed to linux.seccomp.listenerPath. */
#include "internal.h"

#include <ctype.h>
#include <fcntl.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#define LIBSECCOMP_AT_LEAST(maj, min) \
	(SCMP_VER_MAJOR > (maj) || (SCMP_VER_MAJOR == (maj) && SCMP_VER_MINOR >= (min)))

static void release_ctx(scmp_filter_ctx *c)
{
	if (*c) {
		int e = errno;
		seccomp_release(*c);
		errno = e;
	}
}
#define _cleanup_seccomp_ __attribute__((cleanup(release_ctx)))

static const char *action_label(int a)
{
	static const char *const n[] = {
		[CONF_SECCOMP_ACT_KILL] = "SCMP_ACT_KILL",
		[CONF_SECCOMP_ACT_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
		[CONF_SECCOMP_ACT_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
		[CONF_SECCOMP_ACT_TRAP] = "SCMP_ACT_TRAP",
		[CONF_SECCOMP_ACT_ERRNO] = "SCMP_ACT_ERRNO",
		[CONF_SECCOMP_ACT_TRACE] = "SCMP_ACT_TRACE",
		[CONF_SECCOMP_ACT_ALLOW] = "SCMP_ACT_ALLOW",
		[CONF_SECCOMP_ACT_LOG] = "SCMP_ACT_LOG",
		[CONF_SECCOMP_ACT_NOTIFY] = "SCMP_ACT_NOTIFY",
	};
	return a >= 0 && (size_t)a < VS_ARRAY_SIZE(n) && n[a] ? n[a] : "unknown action";
}

/* The libseccomp action; errno_ret applies to ERRNO and TRACE (EPERM when
 * absent, as runc and crun do). 0 with *out set, or -EINVAL. */
static int to_scmp_action(int a, const struct opt_u64 *errno_ret, uint32_t *out)
{
	uint16_t ret = errno_ret && errno_ret->set ? (uint16_t)errno_ret->v : EPERM;

	switch (a) {
	case CONF_SECCOMP_ACT_KILL:         *out = SCMP_ACT_KILL; return 0;
	case CONF_SECCOMP_ACT_KILL_PROCESS: *out = SCMP_ACT_KILL_PROCESS; return 0;
	case CONF_SECCOMP_ACT_KILL_THREAD:  *out = SCMP_ACT_KILL_THREAD; return 0;
	case CONF_SECCOMP_ACT_TRAP:         *out = SCMP_ACT_TRAP; return 0;
	case CONF_SECCOMP_ACT_ERRNO:        *out = SCMP_ACT_ERRNO(ret); return 0;
	case CONF_SECCOMP_ACT_TRACE:        *out = SCMP_ACT_TRACE(ret); return 0;
	case CONF_SECCOMP_ACT_ALLOW:        *out = SCMP_ACT_ALLOW; return 0;
	case CONF_SECCOMP_ACT_LOG:          *out = SCMP_ACT_LOG; return 0;
	case CONF_SECCOMP_ACT_NOTIFY:       *out = SCMP_ACT_NOTIFY; return 0;
	}
	return -EINVAL;
}

/* "SCMP_ARCH_X86_64" -> libseccomp's token, via its own name "x86_64". */
static uint32_t arch_token(const char *name)
{
	char low[32];
	const char *s = strncmp(name, "SCMP_ARCH_", 10) ? name : name + 10;
	size_t i;

	for (i = 0; s[i] && i < sizeof(low) - 1; i++)
		low[i] = (char)tolower((unsigned char)s[i]);
	low[i] = '\0';
	if (s[i])
		return 0;
	return seccomp_arch_resolve_name(low);
}

static int set_flag(scmp_filter_ctx ctx, const char *flag, struct vs_err *err)
{
	enum scmp_filter_attr attr;

	if (!strcmp(flag, "SECCOMP_FILTER_FLAG_TSYNC")) {
		attr = SCMP_FLTATR_CTL_TSYNC;
	} else if (!strcmp(flag, "SECCOMP_FILTER_FLAG_LOG")) {
		attr = SCMP_FLTATR_CTL_LOG;
	} else if (!strcmp(flag, "SECCOMP_FILTER_FLAG_SPEC_ALLOW")) {
		attr = SCMP_FLTATR_CTL_SSB;
	} else if (!strcmp(flag, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV")) {
#if LIBSECCOMP_AT_LEAST(2, 6)
		attr = SCMP_FLTATR_CTL_WAITKILL;
#else
		return vs_failx(err, EOPNOTSUPP,
				"seccomp: flag %s: needs libseccomp >= 2.6 (built with %d.%d.%d)",
				flag, SCMP_VER_MAJOR, SCMP_VER_MINOR, SCMP_VER_MICRO);
#endif
	} else {
		return vs_failx(err, EINVAL, "seccomp: unknown flag %s", flag);
	}
	int r = seccomp_attr_set(ctx, attr, 1);
	if (r < 0)
		return vs_fail(err, -r, "seccomp: flag %s", flag);
	return 0;
}

/* Adds one syscall of a rule. Conditions on distinct arguments go into one
 * rule (all must match). When one argument is named more than once (a common
 * way to write "arg0 == A or arg0 == B" in profiles such as Docker's), each
 * condition becomes a rule of its own, which is what runc does: libseccomp
 * cannot AND two conditions on the same argument anyway. */
static int add_syscall(scmp_filter_ctx ctx, uint32_t act, int nr,
		       const struct conf_seccomp_rule *rule, const char *name,
		       struct vs_err *err)
{
	struct scmp_arg_cmp cmp[6];
	bool seen[6] = { false }, split = false;
	size_t n = rule->n_args;
	int r;

	if (n > VS_ARRAY_SIZE(cmp))
		return vs_failx(err, EINVAL, "seccomp: syscall %s: %zu argument conditions (max 6)",
				name, n);
	for (size_t i = 0; i < n; i++) {
		const struct conf_seccomp_arg *a = &rule->args[i];
		if (a->index >= 6)
			return vs_failx(err, EINVAL, "seccomp: syscall %s: argument index %u (max 5)",
					name, a->index);
		if (a->op < SCMP_CMP_NE || a->op > SCMP_CMP_MASKED_EQ)
			return vs_failx(err, EINVAL, "seccomp: syscall %s: unknown operator %d",
					name, a->op);
		if (seen[a->index])
			split = true;
		seen[a->index] = true;
		/* SCMP_CMP_MASKED_EQ: (arg & value) == valueTwo */
		cmp[i] = (struct scmp_arg_cmp){ .arg = a->index, .op = (enum scmp_compare)a->op,
						.datum_a = a->value, .datum_b = a->value_two };
	}

	if (!split) {
		r = seccomp_rule_add_array(ctx, act, nr, (unsigned)n, n ? cmp : NULL);
		if (r < 0)
			return vs_fail(err, -r, "seccomp: add rule for %s", name);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		r = seccomp_rule_add_array(ctx, act, nr, 1, &cmp[i]);
		if (r < 0)
			return vs_fail(err, -r, "seccomp: add rule for %s (argument %u)", name,
				       cmp[i].arg);
	}
	return 0;
}

static int add_rules(scmp_filter_ctx ctx, const struct conf_seccomp *s, uint32_t def,
		     bool *uses_notify, struct vs_err *err)
{
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct conf_seccomp_rule *rule = &s->syscalls[i];
		uint32_t act;

		if (to_scmp_action(rule->action, &rule->errno_ret, &act) < 0)
			return vs_failx(err, EINVAL, "seccomp: syscalls[%zu]: unknown action %d",
					i, rule->action);
		/* libseccomp refuses a rule equal to the default; it would
		 * change nothing, so skip it as runc and crun do */
		if (act == def)
			continue;
		for (char **name = rule->names; name && *name; name++) {
			int nr = seccomp_syscall_resolve_name(*name);
			/* a syscall this kernel/libseccomp does not know: a
			 * profile written for newer kernels must still load */
			if (nr == __NR_SCMP_ERROR)
				continue;
			int r = add_syscall(ctx, act, nr, rule, *name, err);
			if (r < 0)
				return r;
			if (act == SCMP_ACT_NOTIFY)
				*uses_notify = true;
		}
	}
	return 0;
}

/* runs in: container init or exec'd process, after pivot_root, before
 * execve. With no_new_privs it is the last thing before execve, so the
 * filter never sees the runtime's own syscalls; without it, loading needs
 * CAP_SYS_ADMIN, so the caller must load it before rt_apply_user() and
 * rt_apply_caps() take that away (see docs/security.md). */
int rt_seccomp_load(const struct conf_seccomp *s, bool no_new_privs, int *listener_fd,
		    struct vs_err *err)
{
	uint32_t def;
	bool uses_notify = false;
	int r;

	*listener_fd = -1;
	if (to_scmp_action(s->default_action, &s->default_errno_ret, &def) < 0)
		return vs_failx(err, EINVAL, "seccomp: unknown default action %d", s->default_action);
	if (s->default_action == CONF_SECCOMP_ACT_NOTIFY)
		return vs_failx(err, EINVAL, "seccomp: defaultAction SCMP_ACT_NOTIFY is not allowed");

	_cleanup_seccomp_ scmp_filter_ctx ctx = seccomp_init(def);
	if (!ctx)
		return vs_failx(err, EINVAL, "seccomp: init with default action %s",
				action_label(s->default_action));

	/* libseccomp sets no_new_privs on load unless told not to; the spec
	 * leaves that to process.noNewPrivileges alone. */
	r = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, no_new_privs ? 1 : 0);
	if (r < 0)
		return vs_fail(err, -r, "seccomp: set the no_new_privs attribute");
	/* the kernel's own errno from seccomp_load, not ECANCELED */
	seccomp_attr_set(ctx, SCMP_FLTATR_API_SYSRAWRC, 1);

	for (char **a = s->architectures; a && *a; a++) {
		uint32_t tok = arch_token(*a);
		if (!tok)
			return vs_failx(err, EINVAL, "seccomp: unknown architecture %s", *a);
		r = seccomp_arch_add(ctx, tok);
		if (r < 0 && r != -EEXIST)
			return vs_fail(err, -r, "seccomp: add architecture %s", *a);
	}
	for (char **f = s->flags; f && *f; f++) {
		r = set_flag(ctx, *f, err);
		if (r < 0)
			return r;
	}
	r = add_rules(ctx, s, def, &uses_notify, err);
	if (r < 0)
		return r;

	r = seccomp_load(ctx);
	if (r < 0) {
		if ((r == -EACCES || r == -EPERM) && !no_new_privs)
			return vs_fail(err, -r,
				       "seccomp: load the filter: noNewPrivileges is false and the "
				       "process lacks CAP_SYS_ADMIN (load it before dropping capabilities)");
		return vs_fail(err, -r, "seccomp: load the filter");
	}
	if (uses_notify) {
		int fd = seccomp_notify_fd(ctx);
		if (fd < 0)
			return vs_fail(err, fd == -1 ? EIO : -fd, "seccomp: get the notify fd");
		/* the kernel makes it close-on-exec; make sure of it */
		int fl = fcntl(fd, F_GETFD);
		if (fl >= 0 && !(fl & FD_CLOEXEC))
			fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
		*listener_fd = fd;
	}
	return 0;
}

/* runs in: the runtime (vsrun create/exec), outside the container, after
 * init sent the listener fd back and before the container's process runs.
 *
 * runtime-spec, linux.seccomp.listenerPath: connect to the unix socket and
 * send, in one sendmsg, the container state JSON (which carries
 * listenerMetadata and the "fds": ["seccompFd"] the caller put there) with
 * the listener fd as SCM_RIGHTS. */
int rt_seccomp_send_listener(const struct conf_seccomp *s, int listener_fd,
			     const char *state_json, struct vs_err *err)
{
	if (!s->listener_path)
		return vs_failx(err, EINVAL, "seccomp: no listenerPath to send the listener to");
	if (listener_fd < 0)
		return vs_failx(err, EINVAL,
				"seccomp: listenerPath %s is set but the profile has no SCMP_ACT_NOTIFY rule",
				s->listener_path);

	_cleanup_close_ int sock = rt_unix_connect(s->listener_path, err);
	if (sock < 0)
		return vs_wrap(err, "seccomp: listenerPath");

	int r = rt_send_fd(sock, listener_fd, state_json);
	if (r < 0)
		return vs_fail(err, -r, "seccomp: send the listener to %s", s->listener_path);
	return 0;
}
