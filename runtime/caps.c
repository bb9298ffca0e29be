/* runtime/caps.c: the user and the capability sets of the container's
 * process (process.user, process.capabilities).
 *
 * The order matters and is the caller's: rt_apply_user() first (it keeps the
 * permitted set across setresuid with PR_SET_KEEPCAPS), then rt_apply_caps()
 * (bounding set, then permitted/effective/inheritable, then ambient). See
 * docs/security.md. */
#include "internal.h"

#include <ctype.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#ifndef PR_CAP_AMBIENT
#define PR_CAP_AMBIENT 47
#define PR_CAP_AMBIENT_RAISE 2
#define PR_CAP_AMBIENT_CLEAR_ALL 4
#endif

/* "CAP_SYS_RESOURCE" for 24; "CAP_41" for what libcap does not know. */
static const char *cap_label(int c, char *buf, size_t len)
{
	char *n = cap_to_name((cap_value_t)c);
	if (!n || isdigit((unsigned char)n[0])) {
		snprintf(buf, len, "CAP_%d", c);
	} else {
		snprintf(buf, len, "CAP_%s", n + (strncmp(n, "cap_", 4) ? 0 : 4));
		for (char *s = buf; *s; s++)
			*s = (char)toupper((unsigned char)*s);
	}
	if (n)
		cap_free(n);
	return buf;
}

/* The kernel's highest capability, from /proc (libcap's guess otherwise). */
static int kernel_cap_last(void)
{
	_cleanup_free_ char *s = NULL;
	if (vs_read_file("/proc/sys/kernel/cap_last_cap", &s, NULL) >= 0) {
		char *end;
		long v = strtol(s, &end, 10);
		if (end != s && v >= 0 && v < 64)
			return (int)v;
	}
	int m = (int)cap_max_bits() - 1;
	return m > 0 && m < 64 ? m : CAP_LAST_CAP;
}

/* runs in: container init or exec'd process, inside the container's
 * namespaces, after pivot_root, before rt_apply_caps() and execve.
 *
 * setgroups, then setresgid, then setresuid: groups first because changing
 * them needs CAP_SETGID, which a non-root uid no longer has in its effective
 * set. PR_SET_KEEPCAPS keeps the permitted set across the uid change so that
 * rt_apply_caps() can still hand the configured capabilities to a non-root
 * user; it is switched off again at once, so a later uid change by the
 * user's program follows the normal rules. */
int rt_apply_user(const struct conf_process *p, bool in_userns, struct vs_err *err)
{
	const struct conf_user *u = &p->user;
	bool can_setgroups = true;

	if (in_userns) {
		/* A user namespace whose setgroups file says "deny" (an
		 * unprivileged map) refuses setgroups(2) with EPERM whatever
		 * we ask; the process keeps the groups the map gave it. */
		_cleanup_free_ char *s = NULL;
		if (vs_read_file("/proc/self/setgroups", &s, NULL) >= 0 && !strncmp(s, "deny", 4))
			can_setgroups = false;
	}
	if (can_setgroups) {
		gid_t *g = NULL;
		if (u->n_additional_gids) {
			g = vs_xcalloc(u->n_additional_gids, sizeof(*g));
			for (size_t i = 0; i < u->n_additional_gids; i++)
				g[i] = (gid_t)u->additional_gids[i];
		}
		/* always, even with no additionalGids: the runtime's own
		 * supplementary groups must not leak into the container */
		int r = setgroups(u->n_additional_gids, g);
		int e = errno;
		free(g);
		if (r < 0)
			return vs_fail(err, e, "process: setgroups (%zu additional gids)",
				       u->n_additional_gids);
	}
	/* else: skipped, additionalGids included, as crun does: the kernel
	 * would refuse any list, and the map's own groups are all there is */

	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return vs_fail(err, errno, "process: setresgid %u", u->gid);

	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return vs_fail(err, errno, "process: prctl PR_SET_KEEPCAPS");
	if (setresuid(u->uid, u->uid, u->uid) < 0) {
		int e = errno;
		prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0);
		return vs_fail(err, e, "process: setresuid %u", u->uid);
	}
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
		return vs_fail(err, errno, "process: prctl PR_SET_KEEPCAPS 0");
	return 0;
}

/* Refuses, by name, a capability the process is asked to hold but the
 * runtime itself cannot give.
 *
 * runc and crun differ only in how they fail: both ignore a capability in
 * `bounding` that the runtime's own bounding set lacks (PR_CAPBSET_DROP can
 * only remove, so the wanted cap simply stays absent, and runc's capability
 * library never tries to add it), and both fail with a bare EPERM from
 * capset(2) when such a cap is in permitted, effective or inheritable. We do
 * the same, but name the capability: a bounding-only cap is skipped silently
 * (a default spec lists every cap in bounding, and it must still run on a
 * host like this one without CAP_SYS_RESOURCE), any other set fails here. */
static int check_available(const struct conf_caps *c, uint64_t known, cap_t cur,
			   struct vs_err *err)
{
	uint64_t want = (c->permitted | c->effective | c->inheritable | c->ambient) & known;
	char name[40];

	for (int i = 0; i < 64; i++) {
		if (!(want & (1ULL << i)))
			continue;
		if (prctl(PR_CAPBSET_READ, i, 0, 0, 0) != 1)
			return vs_failx(err, EPERM,
					"process: capability %s: not in the runtime's bounding set",
					cap_label(i, name, sizeof(name)));
		cap_flag_value_t prm = CAP_CLEAR, inh = CAP_CLEAR;
		cap_get_flag(cur, (cap_value_t)i, CAP_PERMITTED, &prm);
		cap_get_flag(cur, (cap_value_t)i, CAP_INHERITABLE, &inh);
		bool need_prm = (c->permitted | c->effective | c->ambient) & (1ULL << i);
		if (need_prm ? prm != CAP_SET : (prm != CAP_SET && inh != CAP_SET))
			return vs_failx(err, EPERM,
					"process: capability %s: not in the runtime's permitted set",
					cap_label(i, name, sizeof(name)));
	}
	/* an ambient cap that is not also permitted and inheritable cannot be
	 * raised; `runc spec` writes exactly that (ambient without inheritable),
	 * and runc and crun run it, leaving such caps out: so do we */
	return 0;
}

static int set_flags(cap_t c, cap_flag_t flag, uint64_t mask)
{
	for (int i = 0; i < 64; i++) {
		if (!(mask & (1ULL << i)))
			continue;
		cap_value_t v = (cap_value_t)i;
		if (cap_set_flag(c, flag, 1, &v, CAP_SET) < 0)
			return -errno;
	}
	return 0;
}

static void free_cap(cap_t *c)
{
	if (*c) {
		int e = errno;
		cap_free(*c);
		errno = e;
	}
}
#define _cleanup_cap_ __attribute__((cleanup(free_cap)))

/* runs in: container init or exec'd process, after rt_apply_user(), after
 * pivot_root, before execve (and, when noNewPrivileges is false, after
 * rt_seccomp_load(), which needs CAP_SYS_ADMIN in that case).
 *
 * The bounding set is dropped first (it needs CAP_SETPCAP in the effective
 * set, which setresuid to a non-root uid cleared, so the effective set is
 * first raised back to the permitted set kept by PR_SET_KEEPCAPS); then the
 * permitted, effective and inheritable sets are set at once with capset(2);
 * ambient last, because raising an ambient cap requires it to be permitted
 * and inheritable already. Caps above the kernel's cap_last_cap are ignored,
 * as runc and crun do, so a spec written for a newer kernel still runs. */
int rt_apply_caps(const struct conf_process *p, struct vs_err *err)
{
	const struct conf_caps *c = &p->caps;
	char name[40];
	int r;

	if (!c->set)
		return 0;

	int last = kernel_cap_last();
	uint64_t known = last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;

	_cleanup_cap_ cap_t cur = cap_get_proc();
	if (!cur)
		return vs_fail(err, errno, "process: capget");
	r = check_available(c, known, cur, err);
	if (r < 0)
		return r;

	/* effective := permitted, for CAP_SETPCAP */
	for (int i = 0; i <= last; i++) {
		cap_flag_value_t v = CAP_CLEAR;
		cap_value_t cv = (cap_value_t)i;
		cap_get_flag(cur, cv, CAP_PERMITTED, &v);
		cap_set_flag(cur, CAP_EFFECTIVE, 1, &cv, v);
	}
	if (cap_set_proc(cur) < 0)
		return vs_fail(err, errno, "process: capset (raise effective to permitted)");

	for (int i = 0; i <= last; i++) {
		if (c->bounding & (1ULL << i))
			continue;
		r = prctl(PR_CAPBSET_READ, i, 0, 0, 0);
		if (r <= 0)
			continue;       /* not held, or unknown to the kernel */
		if (prctl(PR_CAPBSET_DROP, i, 0, 0, 0) < 0 && errno != EINVAL)
			return vs_fail(err, errno, "process: drop %s from the bounding set",
				       cap_label(i, name, sizeof(name)));
	}

	_cleanup_cap_ cap_t next = cap_init();
	if (!next)
		return vs_fail(err, errno, "process: cap_init");
	if ((r = set_flags(next, CAP_PERMITTED, c->permitted & known)) < 0 ||
	    (r = set_flags(next, CAP_EFFECTIVE, c->effective & known)) < 0 ||
	    (r = set_flags(next, CAP_INHERITABLE, c->inheritable & known)) < 0)
		return vs_fail(err, -r, "process: cap_set_flag");
	if (cap_set_proc(next) < 0)
		return vs_fail(err, errno,
			       "process: capset permitted=%#llx effective=%#llx inheritable=%#llx",
			       (unsigned long long)(c->permitted & known),
			       (unsigned long long)(c->effective & known),
			       (unsigned long long)(c->inheritable & known));

	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0) {
		if (errno == EINVAL && !(c->ambient & known))
			return 0;       /* kernel without ambient caps (< 4.3) */
		return vs_fail(err, errno, "process: clear the ambient set");
	}
	for (int i = 0; i <= last; i++) {
		if (!(c->ambient & c->permitted & c->inheritable & (1ULL << i)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, i, 0, 0) < 0)
			return vs_fail(err, errno, "process: raise ambient %s",
				       cap_label(i, name, sizeof(name)));
	}
	return 0;
}
