/* vm/: what the files of the module share; not for other modules. */
#ifndef VS_VM_INTERNAL_H
#define VS_VM_INTERNAL_H

#include "vm.h"

#define VM_DEFAULT_QEMU "qemu-system-x86_64"

/* Forks and execs argv[0] (searched in PATH) with stdin /dev/null and
 * stdout+stderr appended to log_path (NULL = /dev/null), after putting the
 * child into jail's cgroups and namespaces. A failure in the child before
 * exec comes back over a close-on-exec pipe as one error line. */
int vm_spawn(char *const *argv, const char *log_path, const struct vm_jail *jail,
	     pid_t *pid, struct vs_err *err);
/* The same, with tap_fd and console_fd (each if >= 0) passed to the program
 * as VM_TAP_FD and VM_CONSOLE_FD; with console_stdin, console_fd is also its
 * stdout and the caller's stdin stays its stdin (the stdio chardev). */
int vm_spawn_fd(char *const *argv, const char *log_path, const struct vm_jail *jail,
		int tap_fd, int console_fd, bool console_stdin, pid_t *pid, struct vs_err *err);
/* Waits up to timeout_ms for pid to end (any process: a pidfd). 0 when it
 * ended (reaped, with *status, if it is our child; *status = -1 otherwise),
 * -ETIMEDOUT when it still runs. */
int vm_wait_exit(pid_t pid, unsigned timeout_ms, int *status);

#endif
