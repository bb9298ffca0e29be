/* Which bundles and containers are VMs (run.oci.handler=vm), and what a
 * program without the VM handler does with them. The handler itself
 * (oci-vm.c) pulls in the VM and network modules and their libraries
 * (netlink, nftables, libarchive and what those load), which an ordinary
 * container never needs: vsrun is linked without it and hands a VM's
 * command to vsrun-vm, the same front end linked with it (docs/design.md).
 * Nothing here may need more than an ordinary container does. */
#include "internal.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

bool rt_vm_wanted(const struct conf_config *cfg)
{
	const char *h = conf_annotation(cfg, "run.oci.handler");
	return h && !strcmp(h, "vm");
}

/* oci-vm.c marks a VM's state dir with an empty file "vm" */
bool rt_vm_is(const struct rt_ctx *ctx, const char *id)
{
	char dir[PATH_MAX], path[PATH_MAX + 8];
	if (rt_dir(ctx, id, dir, sizeof(dir), NULL) < 0)
		return false;
	snprintf(path, sizeof(path), "%s/vm", dir);
	return access(path, F_OK) == 0;
}

int rt_vm_handoff(const struct rt_ctx *ctx, struct vs_err *err)
{
	if (!ctx->vm_handoff)
		return vs_failx(err, EOPNOTSUPP, "vm: run.oci.handler=vm: this program has no VM handler");
	return ctx->vm_handoff(err);
}
