/* runtime/lsm.c: the Linux security modules of a process: an AppArmor
 * profile (process.apparmorProfile, exec --apparmor) and SELinux labels
 * (process.selinuxLabel, exec --process-label, linux.mountLabel).
 *
 * Both are applied the way runc does it: the label or profile is written to
 * the process's "exec" attribute, and the kernel switches to it at the next
 * execve, the user's process. Nothing of the runtime itself runs confined.
 *
 * A profile or process label on a host where its module is not enabled is
 * refused before anything is made (runc refuses an SELinux label in its config
 * validation, and fails an AppArmor profile at init with the kernel's
 * EINVAL; crun refuses both at init). A container that asked for confinement
 * never runs unconfined without a word. A mount label there confines
 * nothing and is dropped with a warning (rt_mount_label_drop). */
#include "internal.h"

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>

#ifndef SELINUX_MAGIC
#define SELINUX_MAGIC 0xf97cff8c
#endif

/* AppArmor is enabled when the module says so and its securityfs directory
 * exists (as runc checks): with the module built in but another major LSM
 * chosen at boot, the parameter can read Y while AppArmor is inactive. */
bool rt_apparmor_enabled(void)
{
	char buf[4] = "";
	struct stat st;
	if (stat("/sys/kernel/security/apparmor", &st) < 0)
		return false;
	_cleanup_close_ int fd = open("/sys/module/apparmor/parameters/enabled",
				      O_RDONLY | O_CLOEXEC);
	return fd >= 0 && read(fd, buf, sizeof(buf)) > 0 && buf[0] == 'Y';
}

/* SELinux is enabled when selinuxfs is mounted at its usual place. */
bool rt_selinux_enabled(void)
{
	struct statfs sf;
	return statfs("/sys/fs/selinux", &sf) == 0 && (unsigned long)sf.f_type == SELINUX_MAGIC;
}

/* Whether the loaded policy knows the context, asked the way libselinux's
 * security_check_context() does: the kernel parses what is written to
 * selinuxfs's "context" file and fails with EINVAL for a context it does not
 * know (a type, role, user or level the policy lacks, or a combination it
 * forbids). Any other error (a policy that denies asking) is no answer: then
 * the label fails, if at all, where it is applied. */
static bool selinux_context_invalid(const char *label)
{
	return vs_write_file("/sys/fs/selinux/context", label) == -EINVAL;
}

int rt_lsm_check(const struct conf_process *p, const struct conf_linux *lx, const char *where,
		 struct vs_err *err)
{
	if (p && p->apparmor_profile && *p->apparmor_profile && !rt_apparmor_enabled())
		return vs_failx(err, EOPNOTSUPP, "%sapparmorProfile %s: AppArmor is not enabled on "
				"this host", where, p->apparmor_profile);
	bool selinux = (p && p->selinux_label && *p->selinux_label) ||
		       (lx && lx->mount_label && *lx->mount_label);
	if (selinux && !rt_selinux_enabled()) {
		if (p && p->selinux_label && *p->selinux_label)
			return vs_failx(err, EOPNOTSUPP, "%sselinuxLabel %s: SELinux is not enabled "
					"on this host", where, p->selinux_label);
		return 0;  /* a mount label alone: see rt_mount_label_drop() */
	}
	/* a label the policy does not know fails here, before anything is
	 * made, rather than as an EINVAL from a mount or an attr write in init */
	if (selinux && p && p->selinux_label && *p->selinux_label &&
	    selinux_context_invalid(p->selinux_label))
		return vs_failx(err, EINVAL, "%sselinuxLabel %s: not a valid context in the loaded "
				"SELinux policy", where, p->selinux_label);
	if (selinux && lx && lx->mount_label && *lx->mount_label &&
	    selinux_context_invalid(lx->mount_label))
		return vs_failx(err, EINVAL, "conf: config.json: linux.mountLabel %s: not a valid "
				"context in the loaded SELinux policy", lx->mount_label);
	return 0;
}

/* A mount label is not confinement: it only names the label the files of
 * new mounts carry, and without SELinux no file has a label and no rule
 * reads one (context= is an SELinux mount option; the kernel rejects it
 * elsewhere). The confinement is the process label, which rt_lsm_check()
 * still refuses. So where SELinux is not enabled the label is dropped, and
 * the caller warns, as crun ignores it; runc fails at mount with EINVAL. */
bool rt_mount_label_drop(struct conf_linux *lx, char *msg, size_t len)
{
	if (!lx->mount_label || !*lx->mount_label || rt_selinux_enabled())
		return false;
	snprintf(msg, len, "conf: config.json: linux.mountLabel %s: SELinux is not enabled on "
		 "this host, the label is ignored", lx->mount_label);
	free(lx->mount_label);
	lx->mount_label = NULL;
	return true;
}

/* Writes value to the first of the attribute files that exists. */
static int write_attr(const char *const *paths, const char *value, const char **used)
{
	int r = -ENOENT;
	for (size_t i = 0; paths[i]; i++) {
		*used = paths[i];
		r = vs_write_file(paths[i], value);
		if (r != -ENOENT)
			return r;
	}
	return r;
}

/* runs in: container init or exec'd process, after pivot_root (the
 * container's /proc), before the user switch, no_new_privs and the late
 * seccomp filter: the kernel applies the profile at the next execve. */
int rt_apply_apparmor(const char *profile, struct vs_err *err)
{
	static const char *const paths[] = { "/proc/thread-self/attr/apparmor/exec",
					     "/proc/thread-self/attr/exec", NULL };
	if (!profile || !*profile)
		return 0;
	char cmd[4096];
	if (snprintf(cmd, sizeof(cmd), "exec %s", profile) >= (int)sizeof(cmd))
		return vs_failx(err, ENAMETOOLONG, "process: apparmorProfile: too long");
	const char *used = paths[0];
	int r = write_attr(paths, cmd, &used);
	if (r == -ENOENT && access("/proc/thread-self", F_OK) == 0)
		return vs_fail(err, -r, "process: apparmorProfile %s: no such profile is loaded",
			       profile);
	if (r < 0)
		return vs_fail(err, -r, "process: apparmorProfile %s: write %s", profile, used);
	return 0;
}

/* runs in: container init or exec'd process, as rt_apply_apparmor(). */
int rt_apply_selinux_label(const char *label, struct vs_err *err)
{
	static const char *const paths[] = { "/proc/thread-self/attr/exec", NULL };
	if (!label || !*label)
		return 0;
	const char *used = paths[0];
	int r = write_attr(paths, label, &used);
	if (r < 0)
		return vs_fail(err, -r, "process: selinuxLabel %s: write %s", label, used);
	return 0;
}

/* runs in: container init, before it joins a new session keyring, so the
 * keyring gets the process's label (as runc does). A policy that does not
 * allow setting the key label is not an error: the keyring then keeps the
 * runtime's label. */
int rt_apply_selinux_keylabel(const char *label, struct vs_err *err)
{
	if (!label || !*label)
		return 0;
	int r = vs_write_file("/proc/thread-self/attr/keycreate", label);
	if (r < 0 && r != -EACCES)
		return vs_fail(err, -r, "process: selinuxLabel %s: write "
			       "/proc/thread-self/attr/keycreate", label);
	return 0;
}
