/* vserver: info, exec, live set, stats, boot, snapshots, clone, export and
 * import of named servers. */
#include "internal.h"
#include "server-internal.h"
#include "server-vm.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

void srv_info_free(struct srv_info *info)
{
	conf_server_free(info->rec);
	info->rec = NULL;
}

int srv_info(struct srv_ctx *c, const char *name, struct srv_info *info, struct vs_err *err)
{
	memset(info, 0, sizeof(*info));
	int r = srv_load(c, name, &info->rec, err);
	if (r < 0)
		return r;
	struct srv_status st;
	srv_status_read(c, name, &st);
	snprintf(info->name, sizeof(info->name), "%s", name);
	snprintf(info->image, sizeof(info->image), "%s", info->rec->image);
	snprintf(info->ip, sizeof(info->ip), "%s", info->rec->ip ? info->rec->ip : "-");
	snprintf(info->net, sizeof(info->net), "%s", info->rec->net ? info->rec->net : "default");
	snprintf(info->started, sizeof(info->started), "%s", st.started);
	snprintf(info->stopped, sizeof(info->stopped), "%s", st.stopped);
	info->last_exit = st.exit_code;
	info->restarts = st.restarts;
	snprintf(info->kind, sizeof(info->kind), "container");
	snprintf(info->accel, sizeof(info->accel), "-");
	struct rt_state rs;
	struct vs_err ign = { 0 };
	bool have = !info->rec->vm && rt_state(&c->rt, name, &rs, &ign) >= 0;
	bool alive = have && rs.status != RT_STOPPED;
	if (info->rec->vm) {  /* --- VM servers --- */
		srv_vm_info(c, name, &st, info);
	} else if (srv_monitor_alive(&st)) {
		info->monitor = st.monitor;
		snprintf(info->status, sizeof(info->status), "%s",
			 alive && rs.status == RT_PAUSED ? "paused" : st.state);
		info->pid = alive ? rs.pid : 0;
	} else if (alive) {
		/* its monitor died: `vserver start` adopts it again */
		snprintf(info->status, sizeof(info->status), "unmonitored");
		info->pid = rs.pid;
	} else {
		snprintf(info->status, sizeof(info->status), "stopped");
	}
	if (have)
		rt_state_free(&rs);
	char path[PATH_MAX];
	srv_path(c, name, "alerts.log", path, sizeof(path));
	_cleanup_free_ char *alerts = NULL;
	size_t len = 0;
	if (vs_read_file(path, &alerts, &len) >= 0) {
		size_t keep = sizeof(info->alerts_log) - 1;
		const char *tail = len > keep ? alerts + len - keep : alerts;
		snprintf(info->alerts_log, sizeof(info->alerts_log), "%s", tail);
	}
	return 0;
}

static int running_cgroup(struct srv_ctx *c, const char *name, struct vs_cgroup *cg, pid_t *pid,
			  struct vs_err *err)
{
	struct rt_record rec;
	int r = rt_record_read(&c->rt, name, &rec, err);
	if (r == -ENOENT)
		return vs_failx(err, ESRCH, "server \"%s\" is not running", name);
	if (r < 0)
		return r;
	enum rt_status s = rt_live_status(&c->rt, &rec);
	rt_state_free(&rec.st);
	if (s != RT_RUNNING && s != RT_PAUSED)
		return vs_failx(err, ESRCH, "server \"%s\" is not running", name);
	*cg = rec.cg;
	if (pid)
		*pid = rec.st.pid;
	return 0;
}

static void net_bytes(pid_t pid, uint64_t *rx, uint64_t *tx)
{
	char path[64];
	_cleanup_free_ char *data = NULL;
	*rx = *tx = 0;
	snprintf(path, sizeof(path), "/proc/%d/net/dev", (int)pid);
	if (vs_read_file(path, &data, NULL) < 0)
		return;
	for (char *line = strtok(data, "\n"); line; line = strtok(NULL, "\n")) {
		char *colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		while (*line == ' ')
			line++;
		if (!strcmp(line, "lo"))
			continue;
		unsigned long long v[9];
		if (sscanf(colon + 1, "%llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
			   &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8]) == 9) {
			*rx += v[0];
			*tx += v[8];
		}
	}
}

void srv_stats_from_cg(struct srv_stats *out, const struct cg_stats *a)
{
	out->mem_usage = a->mem_usage;
	out->mem_limit = a->mem_limit;
	out->pids = a->pids_current;
	out->io_read = a->io_read_bytes;
	out->io_write = a->io_write_bytes;
	out->has_psi = a->has_psi;
	out->psi_cpu = a->psi_cpu_some10;
	out->psi_mem = a->psi_mem_some10;
	out->psi_io = a->psi_io_some10;
}

int srv_stats(struct srv_ctx *c, const char *name, unsigned sample_ms, struct srv_stats *out,
	      struct vs_err *err)
{
	/* the previous sample of this process, for cpu % without sleeping */
	static char last_name[256];
	static uint64_t last_cpu, last_t;
	if (srv_is_vm(c, name))  /* --- VM servers --- */
		return srv_vm_stats(c, name, sample_ms, out, err);
	struct vs_cgroup cg;
	pid_t pid = 0;
	int r = running_cgroup(c, name, &cg, &pid, err);
	if (r < 0)
		return r;
	struct cg_stats a, b;
	r = cg_stats(&cg, &a, err);
	if (r < 0)
		return r;
	uint64_t t0 = vs_now_ns();
	memset(out, 0, sizeof(*out));
	if (sample_ms) {
		struct timespec ts = { sample_ms / 1000, (long)(sample_ms % 1000) * 1000000L };
		nanosleep(&ts, NULL);
		r = cg_stats(&cg, &b, err);
		if (r < 0)
			return r;
		uint64_t dt = vs_now_ns() - t0;
		out->cpu_percent = dt ? 100.0 * (double)(b.cpu_usage_ns - a.cpu_usage_ns) / (double)dt : 0;
		a = b;
	} else if (!strcmp(last_name, name) && t0 > last_t) {
		out->cpu_percent = 100.0 * (double)(a.cpu_usage_ns - last_cpu) / (double)(t0 - last_t);
	}
	snprintf(last_name, sizeof(last_name), "%s", name);
	last_cpu = a.cpu_usage_ns;
	last_t = vs_now_ns();
	srv_stats_from_cg(out, &a);
	out->pids_limit = a.pids_limit;
	net_bytes(pid, &out->net_rx, &out->net_tx);
	return 0;
}

int srv_exec(struct srv_ctx *c, const char *name, char **argv, bool tty, char **env,
	     int *exit_status, struct vs_err *err)
{
	if (srv_is_vm(c, name))  /* --- VM servers: through the guest agent --- */
		return srv_vm_exec(c, name, argv, env, exit_status, err);
	__attribute__((cleanup(conf_free_p))) struct conf_config *cfg = NULL;
	int r = rt_container_config(&c->rt, name, &cfg, err);
	if (r == -ENOENT)
		return vs_failx(err, ESRCH, "server \"%s\" is not running", name);
	if (r < 0)
		return r;
	struct conf_process *p = cfg->process;
	vs_strv_free(p->args);
	p->args = vs_strv_dup(argv);
	p->terminal = tty;
	for (size_t i = 0; env && env[i]; i++)
		vs_strv_push(&p->env, env[i]);
	struct rt_exec_opts o = { .id = name, .process = p };
	return rt_exec(&c->rt, &o, exit_status, err);
}

int srv_set(struct srv_ctx *c, const char *name, const struct conf_server *changed,
	    struct vs_err *err)
{
	_cleanup_close_ int lock = srv_lock(c, name, err);
	if (lock < 0)
		return lock;
	int r = srv_probe_limits(changed, err);
	if (r < 0)
		return r;
	struct conf_resources res;
	r = conf_server_resources(changed, &res, err);
	if (r < 0)
		return r;
	struct vs_cgroup cg;
	struct vs_err nr = { 0 };
	/* --- VM servers: CPU in the VMM's cgroup, memory by the balloon --- */
	bool running = !changed->vm && running_cgroup(c, name, &cg, NULL, &nr) >= 0;
	if (changed->vm)
		r = srv_vm_set(c, name, changed, err);
	if (running) {
		r = cg_update(&cg, &res, err);
		if (r >= 0 && strcmp(changed->net ? changed->net : "", "none"))
			r = netns_server_set_rate(name, changed->bw_in, changed->bw_out, err);
	}
	conf_resources_free(&res);
	if (r < 0)
		return vs_wrap(err, "set \"%s\"", name);
	char sdir[PATH_MAX];
	struct vs_store *store = NULL;
	struct vs_image *img = NULL;
	srv_store_dir(c, sdir, sizeof(sdir));
	r = vs_store_open(sdir, &store, err);
	if (r >= 0)
		r = vs_image_get(store, changed->image, &img, err);
	if (r >= 0)
		r = srv_write_config(c, changed, img, err);
	if (r >= 0)
		r = srv_save(c, changed, err);
	vs_image_free(img);
	vs_store_close(store);
	return r;
}

int srv_boot(struct srv_ctx *c, unsigned *started, struct vs_err *err)
{
	char **names = NULL;
	*started = 0;
	int r = srv_names(c, &names, err), first_err = 0;
	for (size_t i = 0; r >= 0 && names[i]; i++) {
		struct conf_server *s = NULL;
		struct srv_status st;
		if (srv_load(c, names[i], &s, NULL) < 0)
			continue;
		bool want = s->autostart;
		conf_server_free(s);
		srv_status_read(c, names[i], &st);
		if (!want || srv_monitor_alive(&st))
			continue;
		struct vs_err e = { 0 };
		if (srv_start(c, names[i], &e) < 0) {
			if (!first_err) {
				*err = e;
				first_err = -e.code;
			}
		} else {
			(*started)++;
		}
	}
	vs_strv_free(names);
	return r < 0 ? r : first_err;
}

static int require_stopped(struct srv_ctx *c, const char *name, struct vs_err *err)
{
	struct srv_status st;
	srv_status_read(c, name, &st);
	if (srv_monitor_alive(&st))
		return vs_failx(err, EBUSY, "server \"%s\" is running: stop it first", name);
	return 0;
}

int srv_snapshot(struct srv_ctx *c, const char *name, const char *snap, bool restore,
		 struct vs_err *err)
{
	struct conf_server *s = NULL;
	int r = srv_load(c, name, &s, err);
	if (r < 0)
		return r;
	bool is_vm = s->vm;
	conf_server_free(s);
	if ((r = srv_check_name(snap, err)) < 0)
		return vs_wrap(err, "snapshot");
	_cleanup_close_ int lock = srv_lock(c, name, err);
	if (lock < 0)
		return lock;
	/* --- VM servers: a running one gets a live snapshot (RAM too) --- */
	bool live = !restore && is_vm && srv_vm_running(c, name);
	if (!live && (r = require_stopped(c, name, err)) < 0)
		return r;
	char dir[PATH_MAX], sdir[PATH_MAX + 300];
	srv_path(c, name, NULL, dir, sizeof(dir));
	snprintf(sdir, sizeof(sdir), "%s/snapshots/%s/%s", c->lib, name, snap);
	struct stat st;
	/* --- VM servers: the guest's disk goes with the snapshot --- */
	char vdisk[PATH_MAX], sdisk[PATH_MAX + 400];
	srv_path(c, name, VS_VM_DISK, vdisk, sizeof(vdisk));
	snprintf(sdisk, sizeof(sdisk), "%s/" VS_VM_DISK, sdir);
	bool vm = access(vdisk, F_OK) == 0;
	if (restore) {
		if (stat(sdir, &st) < 0)
			return vs_failx(err, ENOENT, "snapshot \"%s\" of \"%s\" does not exist", snap, name);
		r = vs_disk_restore(dir, sdir, err);
		if (r >= 0 && vm && access(sdisk, F_OK) == 0)
			r = srv_vm_restore_state(c, name, sdir, err);
		return r;
	}
	if (stat(sdir, &st) == 0)
		return vs_failx(err, EEXIST, "snapshot \"%s\" of \"%s\" already exists", snap, name);
	r = vs_mkdir_p(sdir, 0700);
	if (r < 0)
		return vs_fail(err, -r, "vserver: mkdir %s", sdir);
	r = vs_disk_snapshot(dir, sdir, err);
	if (r >= 0 && vm)
		r = live ? srv_vm_snapshot_live(c, name, sdir, err) : srv_vm_copy_disk(vdisk, sdisk, err);
	if (r < 0)
		vs_rm_rf(sdir);
	return r;
}

/* A new server dst from a record and a disk maker. */
static int adopt_record(struct srv_ctx *c, struct conf_server *s, const char *dst,
			int (*make_disk)(const char *dir, void *arg, struct vs_err *err), void *arg,
			struct vs_err *err)
{
	int r = srv_check_name(dst, err);
	if (r < 0)
		return r;
	/* dst may be s->name itself (an import under its own name) */
	char *name = vs_xstrdup(dst);
	free(s->name);
	s->name = name;
	dst = name;
	free(s->ip);
	s->ip = NULL;
	free(s->hostname);
	s->hostname = NULL;
	free(s->created);
	s->created = NULL;
	/* create a fresh server of the same image, then put the disk in place */
	r = srv_create(c, s, err);
	if (r < 0)
		return r;
	char dir[PATH_MAX];
	srv_path(c, dst, NULL, dir, sizeof(dir));
	r = vs_disk_destroy(dir, err);
	if (r >= 0)
		r = make_disk(dir, arg, err);
	if (r < 0) {
		struct vs_err ign = { 0 };
		srv_destroy(c, dst, true, &ign);
	}
	return r;
}

struct clone_arg { const char *src_dir; uint64_t quota; };

static int clone_disk(const char *dir, void *arg, struct vs_err *err)
{
	const struct clone_arg *a = arg;
	int r = vs_disk_clone(a->src_dir, dir, a->quota, err);
	/* --- VM servers: the guest's disk is the server's state --- */
	char src[PATH_MAX], dst[PATH_MAX];
	snprintf(src, sizeof(src), "%s/" VS_VM_DISK, a->src_dir);
	snprintf(dst, sizeof(dst), "%s/" VS_VM_DISK, dir);
	if (r >= 0 && access(src, F_OK) == 0)
		r = srv_vm_copy_disk(src, dst, err);
	return r;
}

int srv_clone(struct srv_ctx *c, const char *src, const char *dst, struct vs_err *err)
{
	struct conf_server *s = NULL;
	int r = srv_load(c, src, &s, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = srv_lock(c, src, err);
	if (lock < 0 || (r = require_stopped(c, src, err)) < 0) {
		conf_server_free(s);
		return lock < 0 ? lock : r;
	}
	char sdir[PATH_MAX];
	srv_path(c, src, NULL, sdir, sizeof(sdir));
	struct clone_arg a = { sdir, s->vm ? 0 : s->disk };  /* a VM's disk is copied whole */
	r = adopt_record(c, s, dst, clone_disk, &a, err);
	conf_server_free(s);
	return r;
}

int srv_export(struct srv_ctx *c, const char *name, const char *file, struct vs_err *err)
{
	struct conf_server *s = NULL;
	int r = srv_load(c, name, &s, err);
	if (r < 0)
		return r;
	_cleanup_close_ int lock = srv_lock(c, name, err);
	if (lock < 0 || (r = require_stopped(c, name, err)) < 0) {
		conf_server_free(s);
		return lock < 0 ? lock : r;
	}
	char sdir[PATH_MAX], dir[PATH_MAX];
	struct vs_store *store = NULL;
	struct vs_image *img = NULL;
	srv_store_dir(c, sdir, sizeof(sdir));
	srv_path(c, name, NULL, dir, sizeof(dir));
	_cleanup_free_ char *json = conf_server_json(s);
	r = vs_store_open(sdir, &store, err);
	if (r >= 0)
		r = vs_image_get(store, s->image, &img, err);
	if (r >= 0)
		r = vs_disk_export(dir, img, json, strlen(json), s->vm ? VS_VM_DISK : NULL, file, err);
	vs_image_free(img);
	vs_store_close(store);
	conf_server_free(s);
	return r;
}

struct import_arg { const char *file; uint64_t quota; };

static int import_disk(const char *dir, void *arg, struct vs_err *err)
{
	const struct import_arg *a = arg;
	char *img = NULL, *cfg = NULL;
	size_t len = 0;
	int r = vs_disk_import(a->file, dir, a->quota, VS_VM_DISK, &img, &cfg, &len, err);
	free(img);
	free(cfg);
	return r;
}

int srv_import(struct srv_ctx *c, const char *file, const char *name, struct vs_err *err)
{
	/* read the record out of the export first, into a scratch dir */
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s/import-%d", c->run, (int)getpid());
	char *img = NULL, *cfg = NULL;
	size_t len = 0;
	int r = vs_mkdir_p(tmp, 0700);
	if (r < 0)
		return vs_fail(err, -r, "vserver: mkdir %s", tmp);
	r = vs_disk_import(file, tmp, 0, VS_VM_DISK, &img, &cfg, &len, err);
	vs_disk_destroy(tmp, NULL);
	vs_rm_rf(tmp);
	if (r < 0)
		return r;
	struct conf_server *s = NULL;
	r = conf_server_parse(cfg, len, file, &s, err);
	free(cfg);
	free(img);
	if (r < 0)
		return r;
	struct import_arg a = { file, s->disk };
	r = adopt_record(c, s, name ? name : s->name, import_disk, &a, err);
	conf_server_free(s);
	return r;
}

int srv_pause(struct srv_ctx *c, const char *name, bool pause, struct vs_err *err)
{
	int r = srv_check_name(name, err);
	if (r < 0)
		return r;
	if (srv_is_vm(c, name))
		return srv_vm_pause(c, name, pause, err);
	struct vs_cgroup cg;
	if ((r = running_cgroup(c, name, &cg, NULL, err)) < 0)
		return r;
	return pause ? rt_pause(&c->rt, name, err) : rt_resume(&c->rt, name, err);
}
