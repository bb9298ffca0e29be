/* vsrun-vm: vsrun with the VM handler (run.oci.handler=vm) linked in, and
 * with it QEMU's helpers, netlink, nftables and libarchive. vsrun runs it
 * (vsrun-main.c) with its own arguments for a bundle that asks for a VM and
 * for every command on a container that is one; it also works alone, as a
 * whole vsrun. Installed in $(PREFIX)/libexec/vserver/. */
#include "cli.h"

#include <stdlib.h>

int main(int argc, char **argv, char **envp)
{
	unsetenv("_VSRUN_VM_HANDOFF");  /* not for QEMU, hooks and what they run */
	return vsrun_main(argc, argv, environ, &rt_vm_handler, NULL);
}
