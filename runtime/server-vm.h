/* VM servers (server-vm.c, server-vm-ops.c): what monitor.c, server.c and
 * server-ops.c call for a record with "vm": true. */
#ifndef VS_SERVER_VM_H
#define VS_SERVER_VM_H

#include "server-internal.h"
#include "../vm/vm.h"

/* the guest's disk in the server's dir */
#define VS_VM_DISK "vm-disk.img"
/* vm/agent/proto.h's AGENT_EXIT_MARK (that header is the guest's) */
#define AGENT_EXIT_MARK_TEXT "vserver-agent: workload exited with status "

/* create: resolves the kernel (default: the newest cloud kernel) or checks
 * the disk image; then makes the guest's disk */
int srv_vm_check(struct conf_server *s, struct vs_err *err);
/* copies a disk image, keeping its holes (snapshot, restore, clone) */
int srv_vm_copy_disk(const char *src, const char *dst, struct vs_err *err);
int srv_vm_create_disk(struct srv_ctx *c, const struct conf_server *s, struct vs_store *store,
		       const struct vs_image *img, struct vs_err *err);
/* The accelerator (recorded in <server>/vm.accel); warn gets the
 * software-emulation warning, or "". */
int srv_vm_accel(struct srv_ctx *c, const struct conf_server *s, enum vm_accel *accel,
		 char *warn, size_t warn_len, struct vs_err *err);
/* <run>/vm/<name>.<kind>: kind "qmp" or "agent" */
void srv_vm_sock(const struct srv_ctx *c, const char *name, const char *kind, char *buf, size_t len);
int srv_vm_cgroup(const char *name, struct vs_cgroup *cg, struct vs_err *err);
/* pid is alive and in cg (QEMU of this server, not a reused pid) */
bool srv_vmm_left_running(pid_t pid, const struct vs_cgroup *cg);
int srv_vm_resources(const struct conf_server *s, struct conf_resources *res, struct vs_err *err);

/* runs in: the start helper. The guest's console goes to console_fd (the
 * monitor's pipe into the server's log), or to console.log when -1. */
int srv_vm_start(struct srv_ctx *c, const struct conf_server *s, int console_fd, pid_t *pid,
		 char *warn, size_t warn_len, struct vs_err *err);
/* runs in: the start helper (`vserver __start`): srv_workload_start of a VM */
int srv_vm_workload_start(struct srv_ctx *c, const struct conf_server *s, bool adopt,
			  struct srv_started *out, struct vs_err *err);
/* runs in: the stop helper; also stop and destroy of an unmonitored VM */
void srv_vm_teardown(struct srv_ctx *c, const struct conf_server *s);
int srv_vm_exit_code(struct srv_ctx *c, const char *name, int vmm_code);

/* server-vm-ops.c: the verbs */
bool srv_is_vm(struct srv_ctx *c, const char *name);
int srv_vm_stop(struct srv_ctx *c, const char *name, struct srv_status *st, int timeout_s,
		struct vs_err *err);
int srv_vm_info(struct srv_ctx *c, const char *name, const struct srv_status *st,
		struct srv_info *info);
int srv_vm_exec(struct srv_ctx *c, const char *name, char **argv, char **env, int *exit_status,
		struct vs_err *err);
int srv_vm_set(struct srv_ctx *c, const char *name, const struct conf_server *changed,
	       struct vs_err *err);
int srv_vm_stats(struct srv_ctx *c, const char *name, unsigned sample_ms, struct srv_stats *st,
		 struct vs_err *err);
int srv_vm_pause(struct srv_ctx *c, const char *name, bool pause, struct vs_err *err);
/* true while the server's VMM runs */
bool srv_vm_running(struct srv_ctx *c, const char *name);
/* a running VM into sdir: paused, its RAM and devices (vm-state) and its disk
 * (vm-disk.img) saved, then resumed */
int srv_vm_snapshot_live(struct srv_ctx *c, const char *name, const char *sdir,
			 struct vs_err *err);
/* the disk of sdir back; with a vm-state there, the next start resumes it
 * (<server>/vm-resume.state) instead of booting */
int srv_vm_restore_state(struct srv_ctx *c, const char *name, const char *sdir,
			 struct vs_err *err);
#define VS_VM_RESUME "vm-resume.state"
/* start: the warning of software emulation for the user, via c->warn */
void srv_vm_warn(struct srv_ctx *c, const char *name);

#endif
