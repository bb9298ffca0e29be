/* runtime internals shared by the files of runtime/; not for other modules. */
#ifndef VS_RUNTIME_INTERNAL_H
#define VS_RUNTIME_INTERNAL_H

#include "runtime.h"

/* ---- process attributes (procattr.c, caps.c, seccomp.c) ----
 * All of these run in: the container's init or an exec'd process, inside the
 * container's namespaces, after pivot_root, before execve. */

/* setgroups/setresgid/setresuid from p->user with PR_SET_KEEPCAPS kept, so
 * rt_apply_caps() can set the capability sets afterwards. */
int rt_apply_user(const struct conf_process *p, bool in_userns, struct vs_err *err);
/* Bounding set drop, then permitted/effective/inheritable, then ambient. */
int rt_apply_caps(const struct conf_process *p, struct vs_err *err);
/* rlimits (setrlimit), umask, oom_score_adj, scheduler, ioPriority,
 * personality (from lx, may be NULL), execCPUAffinity.initial */
int rt_apply_rlimits(const struct conf_process *p, struct vs_err *err);
int rt_apply_process_misc(const struct conf_process *p, const struct conf_linux *lx,
			  struct vs_err *err);
/* Builds and loads the filter. When the profile uses SCMP_ACT_NOTIFY,
 * *listener_fd receives the notification fd (else -1). */
int rt_seccomp_load(const struct conf_seccomp *s, bool no_new_privs, int *listener_fd,
		    struct vs_err *err);
/* Sends the listener fd and the container state to s->listener_path as the
 * runtime-spec describes (runs in: the runtime, not the container). */
int rt_seccomp_send_listener(const struct conf_seccomp *s, int listener_fd,
			     const char *state_json, struct vs_err *err);

/* ---- hooks (hooks.c) ----
 * Runs each hook of the list in order: fork, state JSON on stdin, env and args
 * as given, killed after its timeout. A hook that fails or times out fails
 * the call with "hook <kind>[i] <path>: ..." */
int rt_hooks_run(const struct conf_hook_list *l, enum conf_hook_kind kind,
		 const char *state_json, struct vs_err *err);

/* ---- console (console.c) ---- */
/* runs in: container init, after /dev/pts exists. Opens a new pty, makes the
 * slave the controlling terminal and stdio, sends the master to sock_fd
 * (SCM_RIGHTS), sets the size when given. */
int rt_console_setup(int sock_fd, const struct conf_process *p, struct vs_err *err);
/* Connects to a unix socket path; returns the fd. */
int rt_unix_connect(const char *path, struct vs_err *err);
int rt_send_fd(int sock, int fd, const char *msg);
int rt_recv_fd(int sock, char *buf, size_t buflen);

#endif
