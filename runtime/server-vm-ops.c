/* vserver: the verbs on a VM server (stop, info, exec, set, stats, pause).
 * The handles on a running guest are the VMM's pid (status.json, written by
 * the monitor), its QMP socket and its agent socket (<run>/vm/<name>.*). */
#include "internal.h"
#include "server-vm.h"

#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <time.h>
#include <yajl/yajl_tree.h>

bool srv_is_vm(struct srv_ctx *c, const char *name)
{
	struct conf_server *s = NULL;
	bool vm = srv_load(c, name, &s, NULL) >= 0 && s->vm;
	conf_server_free(s);
	return vm;
}

/* a line in the server's console log, as the monitor writes them */
static void console_note(struct srv_ctx *c, const char *name, const char *msg)
{
	char path[PATH_MAX], ts[64];
	srv_path(c, name, "console.log", path, sizeof(path));
	rt_now_rfc3339(ts, sizeof(ts));
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd >= 0) {
		dprintf(fd, "[vserver %.19s] %s\n", ts, msg);
		close(fd);
	}
}

/* The recorded QEMU pid is alive AND in the server's VM cgroup: after a
 * monitor's kill -9 and QEMU's death the pid may belong to anyone. */
static bool vmm_alive(const char *name, const struct srv_status *st)
{
	struct vs_cgroup cg;
	struct vs_err ign = { 0 };
	return st->pid > 0 && srv_vm_cgroup(name, &cg, &ign) >= 0 && srv_vmm_left_running(st->pid, &cg);
}

int srv_vm_stop(struct srv_ctx *c, const char *name, struct srv_status *st, int timeout_s,
		struct vs_err *err)
{
	char qmp[PATH_MAX];
	srv_vm_sock(c, name, "qmp", qmp, sizeof(qmp));
	bool monitored = srv_monitor_alive(st);
	if (!monitored && !vmm_alive(name, st)) {
		struct conf_server *s = NULL;
		if (srv_load(c, name, &s, NULL) >= 0) {
			if (!s->net)
				s->net = vs_xstrdup(NETNS_DEFAULT_NET);
			srv_vm_teardown(c, s);  /* what a killed monitor left */
		}
		conf_server_free(s);
		return vs_failx(err, ESRCH, "server \"%s\" is not running", name);
	}
	srv_stop_flag(c, name, true);
	if (vmm_alive(name, st)) {
		/* the ACPI power button; the agent stops the command and powers off
		 * (a paused guest first gets its vCPUs back to hear it) */
		struct vs_err ign = { 0 };
		if (timeout_s > 0)
			vm_resume(qmp, &ign);
		int r = vm_stop(st->pid, qmp, timeout_s > 0 ? (unsigned)timeout_s * 1000 : 0, err);
		if (r < 0)
			return r;
		console_note(c, name, r == 0 ? "vm: the guest powered off"
				      : "vm: the guest did not power off in time: killed");
	}
	if (monitored) {
		if (!srv_wait_pid_gone(st->monitor, 10000))
			return vs_failx(err, ETIMEDOUT, "stop \"%s\": the monitor did not exit", name);
		return 0;
	}
	struct conf_server *s = NULL;
	if (srv_load(c, name, &s, NULL) >= 0) {
		if (!s->net)
			s->net = vs_xstrdup(NETNS_DEFAULT_NET);
		srv_vm_teardown(c, s);
	}
	conf_server_free(s);
	srv_stop_flag(c, name, false);
	snprintf(st->state, sizeof(st->state), "stopped");
	st->pid = 0;
	st->monitor = 0;
	rt_now_rfc3339(st->stopped, sizeof(st->stopped));
	srv_status_write(c, name, st);
	return 0;
}

int srv_vm_info(struct srv_ctx *c, const char *name, const struct srv_status *st,
		struct srv_info *info)
{
	char path[PATH_MAX], qmp[PATH_MAX];
	snprintf(info->kind, sizeof(info->kind), "vm");
	srv_path(c, name, "vm.accel", path, sizeof(path));
	_cleanup_free_ char *accel = NULL;
	if (vs_read_file(path, &accel, NULL) >= 0)
		accel[strcspn(accel, "\n")] = '\0';
	snprintf(info->accel, sizeof(info->accel), "%s", accel && *accel ? accel : "-");
	bool alive = vmm_alive(name, st);
	if (srv_monitor_alive(st)) {
		info->monitor = st->monitor;
		snprintf(info->status, sizeof(info->status), "%s", st->state);
		info->pid = alive ? st->pid : 0;
		char qs[32];
		struct vs_err ign = { 0 };
		srv_vm_sock(c, name, "qmp", qmp, sizeof(qmp));
		if (alive && vm_status(qmp, qs, sizeof(qs), &ign) >= 0 && !strcmp(qs, "paused"))
			snprintf(info->status, sizeof(info->status), "paused");
	} else if (alive) {
		snprintf(info->status, sizeof(info->status), "unmonitored");
		info->pid = st->pid;
	} else {
		snprintf(info->status, sizeof(info->status), "stopped");
	}
	return 0;
}

static int need_running(struct srv_ctx *c, const char *name, struct srv_status *st,
			struct vs_err *err)
{
	srv_status_read(c, name, st);
	if (!vmm_alive(name, st))
		return vs_failx(err, ESRCH, "server \"%s\" is not running", name);
	return 0;
}

int srv_vm_exec(struct srv_ctx *c, const char *name, char **argv, char **env, int *exit_status,
		struct vs_err *err)
{
	struct srv_status st;
	int r = need_running(c, name, &st, err);
	if (r < 0)
		return r;
	struct conf_server *s = NULL;
	bool own_os = srv_load(c, name, &s, NULL) >= 0 && s->vm_disk_image;
	conf_server_free(s);
	if (own_os)
		return vs_failx(err, EOPNOTSUPP, "exec in \"%s\": it boots its own disk image, which "
				"runs no vserver agent", name);
	char path[PATH_MAX], sock[PATH_MAX];
	srv_path(c, name, "config.json", path, sizeof(path));
	_cleanup_free_ char *json = NULL;
	size_t n;
	if ((r = vs_read_file(path, &json, &n)) < 0)
		return vs_fail(err, -r, "vserver: read %s", path);
	struct conf_config *cfg = NULL;
	if ((r = conf_parse(json, n, path, &cfg, err)) < 0)
		return r;
	_cleanup_strv_ char **e = vs_strv_dup(cfg->process->env);
	for (size_t i = 0; env && env[i]; i++)
		vs_strv_push(&e, env[i]);
	srv_vm_sock(c, name, "agent", sock, sizeof(sock));
	struct vm_agent_user u;
	rt_vm_user(&cfg->process->user, &u);
	r = vm_agent_exec(sock, argv, e, cfg->process->cwd, &u, 0, 1, 2, exit_status, err);
	conf_free(cfg);
	return r < 0 ? vs_wrap(err, "exec in \"%s\"", name) : 0;
}

/* the guest's RAM at boot, from QMP */
static int boot_memory(const char *qmp, uint64_t *bytes, struct vs_err *err)
{
	struct vm_stats vs;
	int r = vm_stats(0, qmp, &vs, err);
	*bytes = vs.memory_bytes;
	return r;
}

int srv_vm_set(struct srv_ctx *c, const char *name, const struct conf_server *changed,
	       struct vs_err *err)
{
	struct srv_status st;
	srv_status_read(c, name, &st);
	if (!vmm_alive(name, &st))
		return 0;  /* the record is enough: the next start uses it */
	struct vs_cgroup cg;
	struct conf_resources res;
	int r = srv_vm_cgroup(name, &cg, err);
	if (r >= 0 && (r = srv_vm_resources(changed, &res, err)) >= 0) {
		r = cg_update(&cg, &res, err);
		conf_resources_free(&res);
	}
	if (r < 0)
		return r;
	if (changed->net && strcmp(changed->net, "none") &&
	    (r = netns_server_set_rate(name, changed->bw_in, changed->bw_out, err)) < 0)
		return r;
	char qmp[PATH_MAX];
	uint64_t boot = 0;
	srv_vm_sock(c, name, "qmp", qmp, sizeof(qmp));
	if ((r = boot_memory(qmp, &boot, err)) < 0)
		return r;
	uint64_t want = changed->memory ? changed->memory : boot;
	if (want > boot && c->warn) {
		char msg[160];
		snprintf(msg, sizeof(msg), "vm: the guest booted with %llu MiB: more takes effect at "
			 "its next start", (unsigned long long)(boot >> 20));
		c->warn(msg);
	}
	return vm_balloon(qmp, want < boot ? want : boot, err);
}

static uint64_t balloon_actual(const char *qmp)
{
	_cleanup_free_ char *reply = NULL;
	struct vs_err ign = { 0 };
	if (vm_qmp(qmp, "{\"execute\":\"query-balloon\"}", &reply, &ign) < 0)
		return 0;
	yajl_val t = yajl_tree_parse(reply, NULL, 0);
	const char *path[] = { "return", "actual", NULL };
	yajl_val v = t ? yajl_tree_get(t, path, yajl_t_number) : NULL;
	uint64_t a = v && YAJL_IS_INTEGER(v) ? (uint64_t)YAJL_GET_INTEGER(v) : 0;
	yajl_tree_free(t);
	return a;
}

/* the tap's counters, from this network namespace's /proc/self/net/dev
 * (sysfs shows the namespace it was mounted in) */
static void tap_bytes(const char *ifname, uint64_t *rx, uint64_t *tx)
{
	_cleanup_free_ char *data = NULL;
	*rx = *tx = 0;
	if (vs_read_file("/proc/self/net/dev", &data, NULL) < 0)
		return;
	for (char *save = NULL, *line = strtok_r(data, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		while (*line == ' ')
			line++;
		unsigned long long v[9];
		if (!strcmp(line, ifname) &&
		    sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
			*rx = v[0];
			*tx = v[8];
		}
	}
}

int srv_vm_stats(struct srv_ctx *c, const char *name, unsigned sample_ms, struct srv_stats *out,
		 struct vs_err *err)
{
	struct srv_status st;
	int r = need_running(c, name, &st, err);
	if (r < 0)
		return r;
	memset(out, 0, sizeof(*out));
	struct vs_cgroup cg;
	struct cg_stats a, b;
	if ((r = srv_vm_cgroup(name, &cg, err)) < 0 || (r = cg_stats(&cg, &a, err)) < 0)
		return r;
	if (sample_ms) {
		uint64_t t0 = vs_now_ns();
		struct timespec ts = { sample_ms / 1000, (long)(sample_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		if ((r = cg_stats(&cg, &b, err)) < 0)
			return r;
		uint64_t dt = vs_now_ns() - t0;
		out->cpu_percent = dt ? 100.0 * (double)(b.cpu_usage_ns - a.cpu_usage_ns) / (double)dt : 0;
		a = b;
	}
	srv_stats_from_cg(out, &a);
	char qmp[PATH_MAX], host_if[IFNAMSIZ], ifb[IFNAMSIZ];
	srv_vm_sock(c, name, "qmp", qmp, sizeof(qmp));
	struct vm_stats vs;
	if ((r = vm_stats(st.pid, qmp, &vs, err)) < 0)
		return r;
	out->vm = true;
	snprintf(out->vm_status, sizeof(out->vm_status), "%s", vs.status);
	out->vcpus = vs.vcpus;
	out->vm_memory = vs.memory_bytes;
	out->vmm_rss = vs.vmm_rss_bytes;
	out->vm_balloon = balloon_actual(qmp);
	/* the tap's host end: what it receives, the guest sent */
	netns_names(name, host_if, ifb);
	tap_bytes(host_if, &out->net_tx, &out->net_rx);
	return 0;
}

int srv_vm_pause(struct srv_ctx *c, const char *name, bool pause, struct vs_err *err)
{
	struct srv_status st;
	int r = need_running(c, name, &st, err);
	if (r < 0)
		return r;
	char qmp[PATH_MAX];
	srv_vm_sock(c, name, "qmp", qmp, sizeof(qmp));
	return pause ? vm_pause(qmp, err) : vm_resume(qmp, err);
}

void srv_vm_warn(struct srv_ctx *c, const char *name)
{
	struct conf_server *s = NULL;
	char warn[256] = "";
	enum vm_accel a;
	struct vs_err ign = { 0 };
	if (srv_load(c, name, &s, NULL) >= 0 && s->vm &&
	    srv_vm_accel(c, s, &a, warn, sizeof(warn), &ign) >= 0 && warn[0] && c->warn)
		c->warn(warn);
	conf_server_free(s);
}

bool srv_vm_running(struct srv_ctx *c, const char *name)
{
	struct srv_status st;
	srv_status_read(c, name, &st);
	return vmm_alive(name, &st);
}

int srv_vm_snapshot_live(struct srv_ctx *c, const char *name, const char *sdir,
			 struct vs_err *err)
{
	char qmp[PATH_MAX], mig[PATH_MAX], state[PATH_MAX + 16], disk[PATH_MAX], sdisk[PATH_MAX + 16];
	srv_vm_sock(c, name, "qmp", qmp, sizeof(qmp));
	srv_vm_sock(c, name, "mig", mig, sizeof(mig));
	srv_path(c, name, VS_VM_DISK, disk, sizeof(disk));
	snprintf(state, sizeof(state), "%s/vm-state", sdir);
	snprintf(sdisk, sizeof(sdisk), "%s/" VS_VM_DISK, sdir);
	char was[32] = "";
	struct vs_err ign = { 0 };
	vm_status(qmp, was, sizeof(was), &ign);
	/* stopped vCPUs and flushed disks: RAM and disk are of one moment */
	int r = vm_pause(qmp, err);
	if (r >= 0)
		r = vm_save_state(qmp, mig, state, err);
	if (r >= 0)
		r = srv_vm_copy_disk(disk, sdisk, err);
	if (strcmp(was, "paused") && vm_resume(qmp, &ign) < 0 && r >= 0)
		r = vs_failx(err, EIO, "snapshot of \"%s\": the guest did not resume: %s", name, ign.msg);
	return r < 0 ? vs_wrap(err, "live snapshot of \"%s\"", name) : 0;
}

int srv_vm_restore_state(struct srv_ctx *c, const char *name, const char *sdir,
			 struct vs_err *err)
{
	char state[PATH_MAX + 16], disk[PATH_MAX], sdisk[PATH_MAX + 16], resume[PATH_MAX];
	snprintf(state, sizeof(state), "%s/vm-state", sdir);
	snprintf(sdisk, sizeof(sdisk), "%s/" VS_VM_DISK, sdir);
	srv_path(c, name, VS_VM_DISK, disk, sizeof(disk));
	srv_path(c, name, VS_VM_RESUME, resume, sizeof(resume));
	unlink(resume);
	int r = srv_vm_copy_disk(sdisk, disk, err);
	if (r >= 0 && access(state, F_OK) == 0)
		r = srv_vm_copy_disk(state, resume, err);
	return r;
}
