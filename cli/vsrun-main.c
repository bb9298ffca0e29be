/* vsrun: the OCI runtime as installed, linked with only what an ordinary
 * container needs (yajl, libseccomp, libcap). A bundle that asks for a VM
 * (run.oci.handler=vm) and every command on a container that is one go to
 * vsrun-vm, the same front end linked with the VM handler: the runtime
 * calls vm_handoff below before it makes anything, and it executes the
 * helper with this process's own arguments. */
#include "cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef VS_LIBEXECDIR
#define VS_LIBEXECDIR "/usr/local/libexec/vserver"
#endif

/* Every failure here is ENOPKG, never ENOENT: delete --force takes ENOENT
 * for "already gone" and would report a VM it did not delete as deleted. */
#define HELPER "vsrun-vm"
#define HANDED_OFF "_VSRUN_VM_HANDOFF"

/* Where vsrun-vm is: $VSRUN_VM_HELPER (tests), beside this binary (the build
 * tree), in ../libexec/vserver/ from it (an installed tree, wherever it was
 * moved), then in the libexec dir compiled in. */
static int find_helper(char *buf, size_t len, struct vs_err *err)
{
	const char *env = getenv("VSRUN_VM_HELPER");
	if (env && *env) {
		snprintf(buf, len, "%s", env);
		if (access(buf, X_OK) < 0)
			return vs_failx(err, ENOPKG, "vm: the VM helper %s (VSRUN_VM_HELPER): %s", env,
					strerror(errno));
		return 0;
	}
	char exe[PATH_MAX], where[3 * PATH_MAX] = "";
	if (rt_exe_path(exe, sizeof(exe))) {
		char *slash = strrchr(exe, '/');
		*slash = '\0';
		const char *dir = exe[0] ? exe : "";
		snprintf(buf, len, "%s/" HELPER, dir);
		if (access(buf, X_OK) == 0)
			return 0;
		snprintf(buf, len, "%s/../libexec/vserver/" HELPER, dir);
		if (access(buf, X_OK) == 0)
			return 0;
		snprintf(where, sizeof(where), "%s/, %s/../libexec/vserver/ or ", dir, dir);
	}
	snprintf(buf, len, "%s/" HELPER, VS_LIBEXECDIR);
	if (access(buf, X_OK) == 0)
		return 0;
	return vs_failx(err, ENOPKG, "vm: run.oci.handler=vm needs the VM helper " HELPER ", found "
			"in none of %s" VS_LIBEXECDIR "/ (see vsrun(8))", where);
}

static int vm_handoff(struct vs_err *err)
{
	char helper[PATH_MAX];
	if (getenv(HANDED_OFF))
		return vs_failx(err, ELOOP, "vm: this vsrun was run as the VM helper but has no VM handler");
	int r = find_helper(helper, sizeof(helper), err);
	if (r < 0)
		return r;
	fflush(NULL);
	setenv(HANDED_OFF, "1", 1);
	g_cli.argv[0] = helper;
	execve(helper, g_cli.argv, environ);
	r = vs_failx(err, ENOPKG, "vm: execute the VM helper %s: %s", helper, strerror(errno));
	unsetenv(HANDED_OFF);
	return r;
}

int main(int argc, char **argv, char **envp)
{
	return vsrun_main(argc, argv, envp, NULL, vm_handoff);
}
