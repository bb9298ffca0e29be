/* runtime: the lifecycle of a server (create/start/kill/delete/exec), the
 * parent<->init sync protocol, the state store and its locking, hooks,
 * console, seccomp, capabilities and the other process attributes. The only
 * module the front ends (cli/) call. */
#ifndef VS_RUNTIME_H
#define VS_RUNTIME_H

#include "../conf/conf.h"
#include <limits.h>

#define RT_DEFAULT_ROOT "/run/vsrun"

struct rt_ctx {
	const char *root;         /* state root, default RT_DEFAULT_ROOT */
	bool systemd_cgroup;      /* accepted; see docs/design.md */
	bool debug;
	/* where the library reports a warning that does not fail the call
	 * (a failed poststart/poststop hook); may be NULL */
	void (*warn)(const char *msg);
	/* run.oci.handler=vm: the VM handler (oci-vm.c), or NULL in a program
	 * linked without it (vsrun: it would pull in QEMU's helpers, netlink,
	 * nftables and libarchive). Then a VM bundle or container is handed to
	 * vm_handoff, which gives the whole command to a program that has the
	 * handler (vsrun-vm) and returns only when it cannot (-errno, err
	 * filled); NULL there too: the command fails. */
	const struct rt_vm_handler *vm;
	int (*vm_handoff)(struct vs_err *err);
};

/* The VM handler, for rt_ctx.vm: defined in runtime/oci-vm.c, so naming it
 * links it (vsrun-vm, vserver). */
struct rt_vm_handler;
extern const struct rt_vm_handler rt_vm_handler;

struct rt_create_opts {
	const char *id;
	const char *bundle;       /* default "." */
	const char *config_path;  /* default "<bundle>/config.json" */
	const char *pid_file;
	const char *console_socket;
	bool no_pivot, no_new_keyring;
	int preserve_fds;         /* fds 3 .. 3+n-1 are passed to the container */
	bool detach;              /* run only */
	bool keep;                /* run only: do not delete after exit */
	bool detach_tty_ok;       /* run, vserver: terminal without a console socket (the caller gets the master) */
};

enum rt_status { RT_CREATING, RT_CREATED, RT_RUNNING, RT_PAUSED, RT_STOPPED };

struct rt_state {
	char id[256];
	enum rt_status status;
	pid_t pid;                /* 0 when stopped */
	char bundle[4096];
	char rootfs[4096];
	char created[64];         /* RFC 3339 */
	char owner[64];
	char **annotations;       /* "key=value", NULL-terminated (may be NULL) */
};

const char *rt_status_name(enum rt_status s);

int rt_create(const struct rt_ctx *ctx, const struct rt_create_opts *o, struct vs_err *err);
int rt_start(const struct rt_ctx *ctx, const char *id, struct vs_err *err);
/* create + start; waits for the process unless o->detach, then deletes.
 * *exit_status gets the container's exit status (128+sig when killed). */
int rt_run(const struct rt_ctx *ctx, const struct rt_create_opts *o, int *exit_status,
	   struct vs_err *err);
int rt_state(const struct rt_ctx *ctx, const char *id, struct rt_state *st, struct vs_err *err);
void rt_state_free(struct rt_state *st);
/* The OCI state JSON, malloc'd. */
char *rt_state_json(const struct rt_state *st);
int rt_kill(const struct rt_ctx *ctx, const char *id, int sig, bool all, struct vs_err *err);
int rt_delete(const struct rt_ctx *ctx, const char *id, bool force, struct vs_err *err);
/* Every container under ctx->root, in id order. */
int rt_list(const struct rt_ctx *ctx, struct rt_state **out, size_t *n, struct vs_err *err);
int rt_ps(const struct rt_ctx *ctx, const char *id, pid_t **pids, size_t *n, struct vs_err *err);
int rt_pause(const struct rt_ctx *ctx, const char *id, struct vs_err *err);
int rt_resume(const struct rt_ctx *ctx, const char *id, struct vs_err *err);
int rt_update(const struct rt_ctx *ctx, const char *id, const struct conf_resources *res,
	      struct vs_err *err);
/* runc-compatible {"type":"stats",...} JSON, malloc'd. */
int rt_stats_json(const struct rt_ctx *ctx, const char *id, char **out, struct vs_err *err);
/* Watching a container for OOM kills (vsrun events): rt_oom_watch_new()
 * takes the starting point; each rt_oom_poll() returns 1 and fills ev when
 * the container's processes were OOM-killed since the last event, 0 when
 * not, -errno when the container is gone. */
struct rt_oom_watch;
struct rt_oom_event {
	uint64_t kills;            /* new kills */
	char cgroup[PATH_MAX];     /* the cgroup whose memory limit fired; "" if not known */
	bool own;                  /* that is the container's own cgroup */
	uint64_t limit;            /* its limit in bytes; UINT64_MAX if none */
};
int rt_oom_watch_new(const struct rt_ctx *ctx, const char *id, struct rt_oom_watch **w,
		     struct vs_err *err);
int rt_oom_poll(struct rt_oom_watch *w, struct rt_oom_event *ev, struct vs_err *err);
void rt_oom_watch_free(struct rt_oom_watch *w);

struct rt_exec_opts {
	const char *id;
	struct conf_process *process;  /* complete: args, env, cwd, user, caps... */
	const char *pid_file;
	const char *console_socket;
	bool detach;
	int preserve_fds;
};
int rt_exec(const struct rt_ctx *ctx, const struct rt_exec_opts *o, int *exit_status,
	    struct vs_err *err);

/* The config the container was created with (for exec's defaults). */
int rt_container_config(const struct rt_ctx *ctx, const char *id, struct conf_config **cfg,
			struct vs_err *err);

/* The runtime-spec features document (vsrun features), malloc'd JSON. */
char *rt_features_json(void);

/* Re-executes the running binary from a sealed memfd unless it already runs
 * from one, so a process inside a container can never write to the runtime
 * binary through /proc/PID/exe. Call first thing in main() for verbs that
 * enter a container. Returns only on failure or when already sealed. */
int rt_ensure_sealed_exe(char **argv, char **envp);
/* The path of this program's binary on disk, also when it runs from the
 * sealed copy (named after it); false when it cannot be known. */
bool rt_exe_path(char *buf, size_t len);

/* ---- vserver: named servers (server*.c; the monitor program: monitor.c) ----
 * A server is an OCI bundle plus its record under <lib>/servers/<name>/:
 *   server.json   the record     config.json   the generated OCI config
 *   rootfs/       overlay mount point          upper/ work/ or disk.img
 *   etc/          resolv.conf, hosts, hostname status.json   the monitor's report
 *   console.log   the server's output (rotated to console.log.1)
 * Each running server has a monitor process: the parent of its init. */

struct srv_ctx {
	char lib[1024];           /* /var/lib/vserver, or $VSERVER_ROOT/lib */
	char run[1024];           /* /run/vserver, or $VSERVER_ROOT/run */
	struct rt_ctx rt;         /* its root is <run>/rt */
	char rt_root[1100];
	void (*warn)(const char *msg);
	/* the vserver binary on disk (not its sealed copy): the monitor runs it
	 * as its start and stop helpers; vserver-monitor is looked up beside it */
	char exe[4096];
};

struct srv_info {
	char name[256], image[256], status[16], ip[64], net[64];
	pid_t pid, monitor;
	int last_exit;            /* -1 unknown */
	char started[64], stopped[64];
	unsigned restarts;
	struct conf_server *rec;  /* owned */
	char alerts_log[2048];    /* the last alert lines fired */
	char kind[16];            /* "container" or "vm" */
	char accel[8];            /* vm: "kvm", "tcg", or "-" before the first start */
};

struct srv_stats {
	double cpu_percent;       /* of one CPU, over the sample */
	uint64_t mem_usage, mem_limit, pids, pids_limit;
	uint64_t io_read, io_write, net_rx, net_tx;
	bool has_psi;
	double psi_cpu, psi_mem, psi_io;
	/* VM servers: mem_* and cpu are the VMM process's (its cgroup) */
	bool vm;
	char vm_status[32];       /* QMP query-status: running, paused, ... */
	unsigned vcpus;
	uint64_t vm_memory;       /* the guest's RAM at boot */
	uint64_t vm_balloon;      /* what the balloon leaves the guest (0 = unknown) */
	uint64_t vmm_rss;         /* the VMM's resident memory */
};

int srv_ctx_init(struct srv_ctx *c, struct vs_err *err);
int srv_create(struct srv_ctx *c, struct conf_server *s, struct vs_err *err);
int srv_start(struct srv_ctx *c, const char *name, struct vs_err *err);
int srv_stop(struct srv_ctx *c, const char *name, int timeout_s, struct vs_err *err);
int srv_destroy(struct srv_ctx *c, const char *name, bool force, struct vs_err *err);
int srv_info(struct srv_ctx *c, const char *name, struct srv_info *info, struct vs_err *err);
void srv_info_free(struct srv_info *info);
/* Every server's name, sorted (free with vs_strv_free). */
int srv_names(struct srv_ctx *c, char ***names, struct vs_err *err);
int srv_exec(struct srv_ctx *c, const char *name, char **argv, bool tty, char **env,
	     int *exit_status, struct vs_err *err);
/* Applies a changed record live (limits, bandwidth) and saves it. */
int srv_set(struct srv_ctx *c, const char *name, const struct conf_server *changed,
	    struct vs_err *err);
int srv_stats(struct srv_ctx *c, const char *name, unsigned sample_ms, struct srv_stats *st,
	      struct vs_err *err);
/* Freezes (pause) or thaws a running server: the cgroup freezer for a
 * container, the VMM's vCPUs (QMP stop/cont) for a VM. */
int srv_pause(struct srv_ctx *c, const char *name, bool pause, struct vs_err *err);
/* Stops every running server (monitored or not) in parallel, each as
 * srv_stop does; *stopped counts them. */
int srv_shutdown(struct srv_ctx *c, int timeout_s, unsigned *stopped, struct vs_err *err);
/* Starts every autostart server that is not running; *started counts them. */
int srv_boot(struct srv_ctx *c, unsigned *started, struct vs_err *err);
/* <lib>/servers/<name>/<file> */
void srv_path(const struct srv_ctx *c, const char *name, const char *file, char *buf, size_t len);
int srv_snapshot(struct srv_ctx *c, const char *name, const char *snap, bool restore,
		 struct vs_err *err);
int srv_clone(struct srv_ctx *c, const char *src, const char *dst, struct vs_err *err);
int srv_export(struct srv_ctx *c, const char *name, const char *file, struct vs_err *err);
int srv_import(struct srv_ctx *c, const char *file, const char *name, struct vs_err *err);

/* runs in: `vserver-monitor --console-relay` (console-relay.c), run by the
 * start helper of an --init server: copies between the console pty's master
 * and stdin/stdout, holding peer (the pty's other side) open, until init
 * (the pidfd pfd) exits and its output is drained, or stdout breaks. */
void rt_console_relay(int master, int peer, int pfd);

/* runs in: vserver-monitor, the per-server monitor program that srv_start
 * runs detached. exe is the vserver binary (its helpers); ready_fd gets one
 * line, "ok" or the reason the first start failed. Never returns. */
__attribute__((noreturn)) void srv_monitor_main(struct srv_ctx *c, const char *name, const char *exe,
						int ready_fd);

/* The monitor's helpers (`vserver __start` / `vserver __stop`): how a
 * server's workload is started and undone, each run in a short-lived
 * process the monitor spawns. The start reports one line to the monitor:
 * srv_report_format() / srv_report_parse(). */
struct srv_started {
	pid_t pid;                /* the server's init */
	bool adopted;             /* already ran: its previous monitor was killed */
	int cg_mode;              /* enum cg_mode of the server's cgroup */
	char cg_path[4096];
};
int srv_workload_start(struct srv_ctx *c, const char *name, bool adopt, struct srv_started *out,
		       struct vs_err *err);
/* *exit_code: the workload's own exit status when the helper knows it
 * better than the monitor's wait status (a VM: the agent's console line,
 * reported as "exit N"), else -1 */
int srv_workload_stop(struct srv_ctx *c, const char *name, int *exit_code, struct vs_err *err);
/* "ok|adopt PID MODE CGPATH" or "error MESSAGE", with a final newline */
void srv_report_format(const struct srv_started *s, const struct vs_err *err, char *buf, size_t len);
/* 0 with *s filled, or -errno with the helper's message in err */
int srv_report_parse(const char *line, struct srv_started *s, struct vs_err *err);

/* `vserver console`: a connection to the server's monitor. What is written
 * to it goes to the server's standard input; what the server writes comes
 * back, live. */
int srv_console_connect(struct srv_ctx *c, const char *name, struct vs_err *err);
/* <run>/<name>.console, the monitor's console socket */
void srv_console_path(const struct srv_ctx *c, const char *name, char *buf, size_t len);

/* images and networks, for `vserver image` and `vserver net` (server-admin.c) */
/* progress (may be NULL): called as the input is read, phase "copy" or
 * "unpack", bytes done of total (see struct vs_progress in rootfs/image.h) */
typedef void srv_progress_fn(void *arg, const char *phase, uint64_t done, uint64_t total);
/* out_name (may be NULL) receives the name the image was stored under. */
int srv_image_import(struct srv_ctx *c, const char *path, const char *name,
		     srv_progress_fn *progress, void *progress_arg, char out_name[256],
		     struct vs_err *err);
int srv_image_list(struct srv_ctx *c, char ***names, struct vs_err *err);
int srv_image_inspect(struct srv_ctx *c, const char *name, char **json, struct vs_err *err);
/* Refused while a server uses the image. */
int srv_image_remove(struct srv_ctx *c, const char *name, struct vs_err *err);
int srv_image_gc(struct srv_ctx *c, unsigned *removed, struct vs_err *err);
int srv_image_default(struct srv_ctx *c, struct vs_err *err);
int srv_net_create(struct srv_ctx *c, const char *name, const char *bridge, const char *subnet4,
		   const char *subnet6, bool isolate, struct vs_err *err);
int srv_net_list(struct srv_ctx *c, char ***names, struct vs_err *err);
int srv_net_remove(struct srv_ctx *c, const char *name, bool force, struct vs_err *err);
int srv_alert_change(struct srv_ctx *c, const char *name, const char *spec, bool add,
		     struct vs_err *err);

#endif
