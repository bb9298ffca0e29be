/* runtime: the lifecycle of a server (create/start/kill/delete/exec), the
 * parent<->init sync protocol, the state store and its locking, hooks,
 * console, seccomp, capabilities and the other process attributes. The only
 * module the front ends (cli/) call. */
#ifndef VS_RUNTIME_H
#define VS_RUNTIME_H

#include "../conf/conf.h"

#define RT_DEFAULT_ROOT "/run/vsrun"

struct rt_ctx {
	const char *root;         /* state root, default RT_DEFAULT_ROOT */
	bool systemd_cgroup;      /* accepted; see docs/design.md */
	bool debug;
	/* where the library reports a warning that does not fail the call
	 * (a failed poststart/poststop hook); may be NULL */
	void (*warn)(const char *msg);
};

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
	bool detach_tty_ok;       /* run only: terminal without a console socket (proxied) */
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
/* Number of OOM kills in the container's cgroup so far. */
int rt_oom_count(const struct rt_ctx *ctx, const char *id, uint64_t *count, struct vs_err *err);

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

#endif
