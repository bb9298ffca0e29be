/* Shared by server.c, server-base.c, server-run.c, server-ops.c and monitor.c. */
#ifndef VS_SERVER_INTERNAL_H
#define VS_SERVER_INTERNAL_H

#include "runtime.h"
#include "../rootfs/image.h"
#include "../netns/netns.h"

int srv_check_name(const char *name, struct vs_err *err);
int srv_lock(const struct srv_ctx *c, const char *name, struct vs_err *err);
int srv_load(const struct srv_ctx *c, const char *name, struct conf_server **s, struct vs_err *err);
int srv_save(const struct srv_ctx *c, const struct conf_server *s, struct vs_err *err);
int srv_write_config(const struct srv_ctx *c, const struct conf_server *s,
		     const struct vs_image *img, struct vs_err *err);
/* Makes a throwaway cgroup with the server's limits: refuses a limit the
 * host cannot give before anything is changed. */
int srv_probe_limits(const struct conf_server *s, struct vs_err *err);
/* Refuses an --init server on a host without cgroup2 (its systemd needs it). */
int srv_check_init_host(const struct conf_server *s, struct vs_err *err);
/* Removes the probe cgroups of creates that were killed midway. */
void srv_sweep_probes(void);
void srv_store_dir(const struct srv_ctx *c, char *buf, size_t len);
void srv_net_dir(const struct srv_ctx *c, char *buf, size_t len);

/* The server's network at start (server-run.c): its veth (pid: the
 * container's init) or tap (a VM: *tap gets the fd, pid 0), its address,
 * published ports and bandwidth caps; nothing for "none". */
int srv_net_start(struct srv_ctx *c, const struct conf_server *s, pid_t pid, int *tap,
		  struct netns_info *info, struct vs_err *err);

/* The figures of a stats sample that come from the server's cgroup
 * (server-ops.c), for a container or a VM's VMM. */
struct cg_stats;
void srv_stats_from_cg(struct srv_stats *out, const struct cg_stats *a);

/* <run>/<name>.stop: made by a stop (the monitor's restart policy then
 * does not start the server again), removed by a start and by the monitor
 * when it exits (server-base.c). */
void srv_stop_flag_path(const struct srv_ctx *c, const char *name, char *buf, size_t len);
void srv_stop_flag(const struct srv_ctx *c, const char *name, bool set);

/* status.json, written by the monitor */
struct srv_status {
	char state[16];           /* "running", "stopped", "starting", "restarting" */
	pid_t pid, monitor;
	unsigned long long monitor_start;
	int exit_code;            /* -1 unknown */
	unsigned restarts;
	char started[64], stopped[64];
};
int srv_status_read(const struct srv_ctx *c, const char *name, struct srv_status *st);
int srv_status_write(const struct srv_ctx *c, const char *name, const struct srv_status *st);
/* Waits up to timeout_ms for a process that is not our child to go
 * (server-run.c). */
bool srv_wait_pid_gone(pid_t pid, int timeout_ms);
/* True while the server's monitor runs. */
bool srv_monitor_alive(const struct srv_status *st);

/* alerts (alert.c) */
struct srv_alert {
	char metric[16];          /* memory, cpu, pids */
	char op;                  /* '>' or '<' */
	double value;
	bool percent;             /* value is a % of the limit (cpu: of one CPU) */
	unsigned for_s;
	char *cmd;                /* may be NULL */
	unsigned held;            /* seconds the condition has held */
	bool fired;
};
int srv_alert_parse(const char *spec, struct srv_alert *a, struct vs_err *err);

#endif
