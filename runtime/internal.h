/* runtime internals shared by the files of runtime/; not for other modules. */
#ifndef VS_RUNTIME_INTERNAL_H
#define VS_RUNTIME_INTERNAL_H

#include "runtime.h"

static inline void conf_free_p(struct conf_config **c)
{
	int e = errno;
	conf_free(*c);
	errno = e;
}

/* ---- process attributes (procattr.c, caps.c, seccomp.c) ----
 * All of these run in: the container's init or an exec'd process, inside the
 * container's namespaces, after pivot_root, before execve. */

/* setgroups/setresgid/setresuid from p->user with PR_SET_KEEPCAPS kept, so
 * rt_apply_caps() can set the capability sets afterwards. */
int rt_apply_user(const struct conf_process *p, bool in_userns, struct vs_err *err);
/* Bounding set drop, then permitted/effective/inheritable, then ambient. */
int rt_apply_caps(const struct conf_process *p, struct vs_err *err);
/* rlimits (setrlimit), umask, scheduler, ioPriority,
 * personality (from lx, may be NULL), execCPUAffinity.initial */
int rt_apply_rlimits(const struct conf_process *p, struct vs_err *err);
int rt_apply_process_misc(const struct conf_process *p, const struct conf_linux *lx,
			  struct vs_err *err);
/* process.oomScoreAdj of PID, written by the runtime (procattr.c). */
int rt_apply_oom_score_adj(pid_t pid, const struct conf_process *p, struct vs_err *err);
/* sched_setaffinity(0) from a cpu list such as "0-3,5" (for
 * execCPUAffinity.initial in the runtime, before the cgroup move). */
int rt_set_cpu_affinity(const char *cpus, struct vs_err *err);
/* Builds and loads the filter. When the profile uses SCMP_ACT_NOTIFY,
 * *listener_fd receives the notification fd (else -1). */
int rt_seccomp_load(const struct conf_seccomp *s, bool no_new_privs, int *listener_fd,
		    struct vs_err *err);
/* Sends the listener fd and the container state to s->listener_path as the
 * runtime-spec describes (runs in: the runtime, not the container). */
int rt_seccomp_send_listener(const struct conf_seccomp *s, int listener_fd,
			     const char *state_json, struct vs_err *err);

/* ---- security modules (lsm.c) ---- */
bool rt_apparmor_enabled(void);
bool rt_selinux_enabled(void);
/* runs in: the runtime, before anything is made. Refuses an AppArmor profile
 * or an SELinux process label that this host cannot apply (a mount label
 * without SELinux passes: rt_mount_label_drop); where prefixes the field
 * names ("conf: config.json: process." or "exec: "). */
int rt_lsm_check(const struct conf_process *p, const struct conf_linux *lx, const char *where,
		 struct vs_err *err);
/* runs in: the runtime, at create. Where SELinux is not enabled, drops
 * linux.mountLabel (it would label nothing) and puts the warning for the
 * user in msg; true when it did. */
bool rt_mount_label_drop(struct conf_linux *lx, char *msg, size_t len);
/* Write the profile/label to /proc/thread-self/attr/...; the kernel applies
 * it at the next execve. No-ops for NULL or "". */
int rt_apply_apparmor(const char *profile, struct vs_err *err);
int rt_apply_selinux_label(const char *label, struct vs_err *err);
int rt_apply_selinux_keylabel(const char *label, struct vs_err *err);

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


/* ---- the state store (state.c) ----
 * <root>/<id>/state.json   written atomically, under <root>/<id>/lock
 * <root>/<id>/config.json  the config as it was at create
 * <root>/<id>/exec.fifo    exists from create until start */
#include "../cgroups/cgroups.h"

struct rt_record {
	struct rt_state st;      /* status as recorded (creating/created/stopped) */
	unsigned long long start_time;  /* /proc/PID/stat field 22, against pid reuse */
	struct vs_cgroup cg;
	bool has_cg;
	/* the delegated cgroup below cg where the processes live, or "" */
	char cg_inner[72];
	char oci_version[32];
	/* no mount namespace: the container's mounts are under a bind of its
	 * rootfs in the host's namespace; the bind's mount id and the id the
	 * rootfs had before (rootfs_host_release) */
	unsigned long long host_rootfs_mnt, host_rootfs_below;
	/* 1 << CONF_HOOK_* of the hook lists the config has, so start and
	 * delete parse config.json only when there is a hook to run; not
	 * known in the state of an older vsrun (then they parse it) */
	unsigned hooks;
	bool hooks_known;
};

/* <root>/<id>; validates id (no '/', not "." or "..", printable, <= 255). */
int rt_dir(const struct rt_ctx *ctx, const char *id, char *buf, size_t len, struct vs_err *err);
/* Makes <root>/<id> exclusively (EEXIST: "container X already exists"). */
int rt_dir_create(const struct rt_ctx *ctx, const char *id, struct vs_err *err);
/* flock(LOCK_EX) on <root>/<id>/lock; returns the fd. ENOENT if no such container. */
int rt_lock(const struct rt_ctx *ctx, const char *id, struct vs_err *err);
int rt_record_write(const struct rt_ctx *ctx, const struct rt_record *rec, struct vs_err *err);
int rt_record_read(const struct rt_ctx *ctx, const char *id, struct rt_record *rec,
		   struct vs_err *err);
/* The live status: checks the pid, its start time, the fifo and the freezer. */
enum rt_status rt_live_status(const struct rt_ctx *ctx, const struct rt_record *rec);
/* 0 if pid is alive, not a zombie and started at start_time. */
bool rt_pid_alive(pid_t pid, unsigned long long start_time);
unsigned long long rt_pid_start_time(pid_t pid);
/* Writes the OCI state JSON of rec with the given status. */
char *rt_record_state_json(const struct rt_record *rec, enum rt_status status);
/* The runtime-spec's container process state for a seccomp listener. */
char *rt_process_state_json(const struct rt_record *rec, enum rt_status status, pid_t pid,
			    const char *metadata);
/* Loads <root>/<id>/config.json. */
int rt_record_config(const struct rt_ctx *ctx, const char *id, struct conf_config **cfg,
		     struct vs_err *err);
void rt_now_rfc3339(char *buf, size_t len);

/* ---- create / init (create.c, init.c) ---- */
enum sync_type {
	SYNC_GO = 1,            /* parent -> init: maps written (exec: cgroup entered too) */
	SYNC_HOOKS,             /* init -> parent: run prestart/createRuntime now */
	SYNC_HOOKS_DONE,        /* parent -> init */
	SYNC_SECCOMP_FD,        /* init -> parent: listener fd follows (SCM_RIGHTS) */
	SYNC_READY,             /* init -> parent: waiting on the exec fifo */
	SYNC_ERROR,             /* either way: msg says what */
	SYNC_CGROUP,            /* parent -> init: init is in its cgroups (create) */
	SYNC_TIMENS,            /* init -> parent: write my timens_offsets; parent -> init: done */
};

struct sync_msg {
	int type;
	int code;
	char msg[sizeof(((struct vs_err *)0)->msg)];
};

int rt_sync_send(int fd, int type, const struct vs_err *err);
/* Reads one message; -EPIPE when the other side is gone. */
int rt_sync_recv(int fd, struct sync_msg *m);

struct rt_init_args {
	const struct conf_config *cfg;
	const char *rootfs;       /* absolute host path */
	int sync_fd;
	int fifo_fd;              /* -1 for exec */
	int console_fd;           /* connected console socket or -1 */
	int preserve_fds;
	bool no_pivot, no_new_keyring;
	bool new_userns;
	bool unshare_ipc;          /* init makes the IPC namespace (create.c) */
	bool userns_joined;        /* born in ns_fds[USER] already (create.c) */
	int ns_fds[CONF_NS__MAX];  /* namespaces to join by path (-1 = none) */
	int lock_fd;               /* the create's state lock: init must not hold it */
	/* the host directories of the cgroup init is moved into, for its
	 * cgroup mount (rootfs_setup_wait); NULL-terminated, may be NULL */
	char **cg_dirs;
};

/* runs in: the child of clone, in the new namespaces. Never returns. */
__attribute__((noreturn)) void rt_init_main(const struct rt_init_args *a);

/* fdguard.c: the boundary between clone/fork and execve (docs/security.md) */
void rt_close_fds_except(int from, const int *keep, size_t n);
int rt_check_cwd(const char *cwd, struct vs_err *err);

/* Looks up argv0 in PATH of env (or the default PATH), as execvpe would. */
int rt_find_exec(const char *argv0, char *const *env, char *out, size_t len);
/* Applies everything of a process (user, caps, rlimits, misc, nnp, seccomp
 * unless seccomp_later). runs in: init or exec child, before execve. */
int rt_setup_process(const struct conf_process *p, const struct conf_linux *lx,
		     bool in_userns, bool seccomp_now, int sync_fd, struct vs_err *err);

/* foreground helpers (tty.c) */
int rt_wait_forward(pid_t pid, int pty_master, int *exit_status);
/* Copies what is readable on from to to; false on EOF or error
 * (console-relay.c). */
bool rt_pump(int from, int to);
int rt_create_full(const struct rt_ctx *ctx, const struct rt_create_opts *o, pid_t *pid,
		   int *pty_master, struct vs_err *err);
int rt_sync_send_data(int fd, const char *data);
int rt_sync_recv_data(int fd, char **out);
/* ---- VM bundles: run.oci.handler=vm (oci-vm.c; helpers in server-vm.c) ---- */
struct vs_err;
/* the guest agent embedded in the binary (or $VSERVER_AGENT); *buf to free */
int rt_vm_agent(const void **agent, size_t *len, char **buf, struct vs_err *err);
char *rt_vm_default_kernel(void);   /* malloc'd, NULL if none */
struct vm_agent_user;
struct conf_user;
/* the OCI process.user as the guest agent applies it (points into u) */
void rt_vm_user(const struct conf_user *u, struct vm_agent_user *out);
int rt_vm_check_kernel(const char *path, struct vs_err *err);
/* true when the config asks for a VM (vm-dispatch.c) */
bool rt_vm_wanted(const struct conf_config *cfg);
/* true when the container <root>/<id> is a VM (vm-dispatch.c) */
bool rt_vm_is(const struct rt_ctx *ctx, const char *id);
/* A VM bundle or container in a program without the handler (ctx->vm is
 * NULL): hands the command to ctx->vm_handoff; returns only on failure
 * (vm-dispatch.c). */
int rt_vm_handoff(const struct rt_ctx *ctx, struct vs_err *err);
/* What ctx->vm points to (oci-vm.c) */
struct rt_vm_handler {
	/* create: disk from the rootfs, initramfs, QEMU started with its vCPUs
	 * stopped (-S); rec gets the VMM's pid and is written as created */
	int (*create)(const struct rt_ctx *ctx, const struct conf_config *cfg, const char *dir,
		      const char *rootfs, struct rt_record *rec, pid_t *pid, struct vs_err *err);
	int (*start)(const struct rt_ctx *ctx, const char *id, struct vs_err *err);
	/* SIGTERM/SIGINT/SIGPWR: the ACPI power button; 1 = not handled here */
	int (*kill)(const struct rt_ctx *ctx, const char *id, int sig, struct vs_err *err);
	int (*exec)(const struct rt_ctx *ctx, const struct rt_exec_opts *o, int *exit_status,
		    struct vs_err *err);
	/* delete: the bundle's network namespace gets its eth0 back */
	void (*cleanup)(const struct rt_ctx *ctx, const char *id);
};

#endif
