/* start, kill, delete, pause, resume, update, ps, stats and run. */
#include "internal.h"
#include "../rootfs/rootfs.h"

#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <poll.h>
#include <time.h>

static void warn(const struct rt_ctx *ctx, struct vs_err *e)
{
	if (ctx->warn && e->msg[0])
		ctx->warn(e->msg);
}

/* Reads the record and its live status under the lock. */
static int open_locked(const struct rt_ctx *ctx, const char *id, struct rt_record *rec,
		       enum rt_status *status, struct vs_err *err)
{
	int lock = rt_lock(ctx, id, err);
	if (lock < 0)
		return lock;
	int r = rt_record_read(ctx, id, rec, err);
	if (r < 0) {
		close(lock);
		return r;
	}
	*status = rt_live_status(ctx, rec);
	return lock;
}

static void read_exe(pid_t pid, char *buf, size_t len)
{
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	ssize_t n = readlink(path, buf, len - 1);
	buf[n > 0 ? n : 0] = '\0';
}

/* Waits until the init that start woke has executed the user's process (its
 * exe is no longer the runtime's), has died, or 30 s have passed. */
static void wait_execed(pid_t pid, unsigned long long start_time, const char *exe_before)
{
	char now[PATH_MAX];
	uint64_t deadline = vs_now_ns() + 30ULL * 1000000000ULL;
	long ns = 200000;
	while (exe_before[0] && rt_pid_alive(pid, start_time) && vs_now_ns() < deadline) {
		read_exe(pid, now, sizeof(now));
		if (strcmp(now, exe_before))
			return;
		struct timespec ts = { 0, ns };
		nanosleep(&ts, NULL);
		if (ns < 10000000)
			ns *= 2;
	}
}

int rt_start(const struct rt_ctx *ctx, const char *id, struct vs_err *err)
{
	struct rt_record rec;
	enum rt_status status;
	__attribute__((cleanup(conf_free_p))) struct conf_config *cfg = NULL;
	if (!ctx->vm && rt_vm_is(ctx, id))  /* VMs: vsrun-vm (vm-dispatch.c) */
		return rt_vm_handoff(ctx, err);
	_cleanup_close_ int lock = open_locked(ctx, id, &rec, &status, err);
	if (lock < 0)
		return lock;
	int r = 0;
	if (status != RT_CREATED) {
		r = vs_failx(err, EINVAL, "cannot start container \"%s\": it is %s, not created", id,
			     rt_status_name(status));
		goto out;
	}
	if (ctx->vm && rt_vm_is(ctx, id)) {  /* --- VM bundles: the vCPUs go (oci-vm.c) --- */
		r = ctx->vm->start(ctx, id, err);
		goto out;
	}
	char dir[PATH_MAX], fifo[PATH_MAX + 16];
	rt_dir(ctx, id, dir, sizeof(dir), NULL);
	snprintf(fifo, sizeof(fifo), "%s/exec.fifo", dir);
	int fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		r = errno == ENXIO ? vs_failx(err, ESRCH, "cannot start container \"%s\": its init is gone", id)
				   : vs_fail(err, errno, "start: open %s", fifo);
		goto out;
	}
	char exe_before[PATH_MAX];
	read_exe(rec.st.pid, exe_before, sizeof(exe_before));
	ssize_t n = write(fd, "0", 1);
	int e = errno;
	close(fd);
	if (n != 1) {
		r = vs_fail(err, e, "start: write %s", fifo);
		goto out;
	}
	unlink(fifo);

	struct vs_err herr = { 0 };
	if ((!rec.hooks_known || rec.hooks & (1u << CONF_HOOK_POSTSTART)) &&
	    rt_record_config(ctx, id, &cfg, &herr) >= 0 && cfg->hooks[CONF_HOOK_POSTSTART].n) {
		/* poststart runs after the user's process is executed (the
		 * runtime-spec), so after the startContainer hooks too */
		wait_execed(rec.st.pid, rec.start_time, exe_before);
		rec.st.status = RT_RUNNING;
		_cleanup_free_ char *state = rt_record_state_json(&rec, RT_RUNNING);
		if (rt_hooks_run(&cfg->hooks[CONF_HOOK_POSTSTART], CONF_HOOK_POSTSTART, state, &herr) < 0)
			warn(ctx, &herr);
	}
out:
	rt_state_free(&rec.st);
	return r;
}

static int signal_pid(pid_t pid, unsigned long long start_time, int sig)
{
	/* a pidfd pins the process: the check and the signal hit the same one */
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return -errno;
	int r = 0;
	if (!rt_pid_alive(pid, start_time))
		r = -ESRCH;
	else if (syscall(SYS_pidfd_send_signal, pfd, sig, NULL, 0) < 0)
		r = -errno;
	close(pfd);
	return r;
}

int rt_kill(const struct rt_ctx *ctx, const char *id, int sig, bool all, struct vs_err *err)
{
	if (!ctx->vm && rt_vm_is(ctx, id))  /* VMs: vsrun-vm (vm-dispatch.c) */
		return rt_vm_handoff(ctx, err);
	struct rt_record rec;
	int r = rt_record_read(ctx, id, &rec, err);
	if (r < 0)
		return r;
	enum rt_status status = rt_live_status(ctx, &rec);
	rt_state_free(&rec.st);
	if (status == RT_STOPPED && !all)
		return vs_failx(err, ESRCH, "container \"%s\" is not running", id);
	/* --- VM bundles: SIGTERM is the ACPI power button (oci-vm.c) --- */
	if (!all && status == RT_RUNNING && ctx->vm && rt_vm_is(ctx, id) &&
	    (r = ctx->vm->kill(ctx, id, sig, err)) <= 0)
		return r;
	if (all && rec.has_cg) {
		r = cg_kill_all(&rec.cg, sig, err);
		if (r < 0)
			return r;
		/* SIGKILL does not wake a frozen task: thaw so it can die */
		if (sig == SIGKILL && status == RT_PAUSED)
			cg_freeze(&rec.cg, false, err);
		return 0;
	}
	r = signal_pid(rec.st.pid, rec.start_time, sig);
	if (r < 0)
		return vs_fail(err, -r, "kill container \"%s\" (pid %d)", id, (int)rec.st.pid);
	return 0;
}

static void wait_gone(pid_t pid, unsigned long long start_time)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pfd < 0)
		return;
	if (rt_pid_alive(pid, start_time)) {
		struct pollfd p = { .fd = pfd, .events = POLLIN };
		poll(&p, 1, 10000);
	}
	/* reap it if it is ours (run) */
	waitpid(pid, NULL, WNOHANG);
	close(pfd);
}

int rt_delete(const struct rt_ctx *ctx, const char *id, bool force, struct vs_err *err)
{
	struct rt_record rec;
	enum rt_status status;
	char dir[PATH_MAX];
	int r = rt_dir(ctx, id, dir, sizeof(dir), err);
	if (r < 0)
		return r;
	if (!ctx->vm && rt_vm_is(ctx, id))  /* VMs: vsrun-vm (vm-dispatch.c) */
		return rt_vm_handoff(ctx, err);
	_cleanup_close_ int lock = open_locked(ctx, id, &rec, &status, err);
	if (lock < 0)
		return lock;
	if (!force && (status == RT_RUNNING || status == RT_PAUSED)) {
		rt_state_free(&rec.st);
		return vs_failx(err, EBUSY, "cannot delete container \"%s\": it is %s "
				"(stop it first, or use --force)", id, rt_status_name(status));
	}
	if (status != RT_STOPPED || rec.st.pid > 0) {
		/* a stopped container whose cgroup is empty needs no freeze and
		 * kill (what its init left behind would still be listed) */
		pid_t *left = NULL;
		size_t n_left = 1;
		struct vs_err ign = { 0 };
		if (rec.has_cg && status == RT_STOPPED && cg_pids(&rec.cg, &left, &n_left, &ign) < 0)
			n_left = 1;
		free(left);
		if (rec.has_cg && n_left > 0) {
			cg_kill_all(&rec.cg, SIGKILL, err);
			if (status == RT_PAUSED)
				cg_freeze(&rec.cg, false, err);
		}
		if (rt_pid_alive(rec.st.pid, rec.start_time)) {
			signal_pid(rec.st.pid, rec.start_time, SIGKILL);
			wait_gone(rec.st.pid, rec.start_time);
		}
	}
	r = 0;
	if (rec.host_rootfs_below) {
		/* no mount namespace: its mounts are in ours, under its rootfs */
		r = rootfs_host_release(rec.st.rootfs, rec.host_rootfs_mnt, rec.host_rootfs_below);
		if (r < 0)
			r = vs_fail(err, -r, "delete container \"%s\": detach the mounts under %s",
				    id, rec.st.rootfs);
	}
	if (ctx->vm && rt_vm_is(ctx, id))  /* --- VM bundles: undo the network redirect (oci-vm.c) --- */
		ctx->vm->cleanup(ctx, id);
	if (rec.has_cg) {  /* even when the mounts could not be detached */
		struct vs_err cerr = { 0 };
		int c = cg_destroy(&rec.cg, r < 0 ? &cerr : err);
		if (c < 0 && r >= 0)
			r = vs_wrap(err, "delete container \"%s\"", id);
	}
	__attribute__((cleanup(conf_free_p))) struct conf_config *cfg = NULL;
	struct vs_err herr = { 0 };
	if (r >= 0 && rec.st.status != RT_CREATING &&
	    (!rec.hooks_known || rec.hooks & (1u << CONF_HOOK_POSTSTOP)) &&
	    rt_record_config(ctx, id, &cfg, &herr) >= 0 &&
	    cfg->hooks[CONF_HOOK_POSTSTOP].n) {
		_cleanup_free_ char *state = rt_record_state_json(&rec, RT_STOPPED);
		if (rt_hooks_run(&cfg->hooks[CONF_HOOK_POSTSTOP], CONF_HOOK_POSTSTOP, state, &herr) < 0)
			warn(ctx, &herr);
	}
	if (r >= 0) {
		int q = vs_rm_rf(dir);
		if (q < 0)
			r = vs_fail(err, -q, "state: remove %s", dir);
	}
	rt_state_free(&rec.st);
	return r;
}

static int freeze(const struct rt_ctx *ctx, const char *id, bool frozen, struct vs_err *err)
{
	struct rt_record rec;
	enum rt_status status;
	_cleanup_close_ int lock = open_locked(ctx, id, &rec, &status, err);
	if (lock < 0)
		return lock;
	rt_state_free(&rec.st);
	enum rt_status want = frozen ? RT_RUNNING : RT_PAUSED;
	if (status != want && !(frozen && status == RT_CREATED))
		return vs_failx(err, EINVAL, "cannot %s container \"%s\": it is %s", frozen ? "pause" : "resume",
				id, rt_status_name(status));
	if (!rec.has_cg)
		return vs_failx(err, EINVAL, "container \"%s\" has no cgroup", id);
	return cg_freeze(&rec.cg, frozen, err);
}

int rt_pause(const struct rt_ctx *ctx, const char *id, struct vs_err *err)
{
	return freeze(ctx, id, true, err);
}

int rt_resume(const struct rt_ctx *ctx, const char *id, struct vs_err *err)
{
	return freeze(ctx, id, false, err);
}

/* A live container's cgroup. */
static int live_cgroup(const struct rt_ctx *ctx, const char *id, struct vs_cgroup *cg,
		       bool allow_stopped, struct vs_err *err)
{
	struct rt_record rec;
	int r = rt_record_read(ctx, id, &rec, err);
	if (r < 0)
		return r;
	enum rt_status status = rt_live_status(ctx, &rec);
	rt_state_free(&rec.st);
	if (status == RT_STOPPED && !allow_stopped)
		return vs_failx(err, ESRCH, "container \"%s\" is not running", id);
	if (!rec.has_cg)
		return vs_failx(err, ENOENT, "container \"%s\" has no cgroup", id);
	*cg = rec.cg;
	return 0;
}

int rt_update(const struct rt_ctx *ctx, const char *id, const struct conf_resources *res,
	      struct vs_err *err)
{
	struct vs_cgroup cg;
	_cleanup_close_ int lock = rt_lock(ctx, id, err);
	if (lock < 0)
		return lock;
	int r = live_cgroup(ctx, id, &cg, false, err);
	return r < 0 ? r : cg_update(&cg, res, err);
}

int rt_ps(const struct rt_ctx *ctx, const char *id, pid_t **pids, size_t *n, struct vs_err *err)
{
	struct vs_cgroup cg;
	int r = live_cgroup(ctx, id, &cg, true, err);
	return r < 0 ? r : cg_pids(&cg, pids, n, err);
}

int rt_stats_json(const struct rt_ctx *ctx, const char *id, char **out, struct vs_err *err)
{
	struct vs_cgroup cg;
	struct cg_stats st;
	int r = live_cgroup(ctx, id, &cg, false, err);
	if (r >= 0)
		r = cg_stats(&cg, &st, err);
	if (r >= 0)
		*out = cg_stats_json(id, &st);
	return r;
}

struct rt_oom_watch {
	struct vs_cgroup cg;
	struct cg_oom_snap last;   /* at the start, then at the last event */
};

int rt_oom_watch_new(const struct rt_ctx *ctx, const char *id, struct rt_oom_watch **w,
		     struct vs_err *err)
{
	_cleanup_free_ struct rt_oom_watch *n = calloc(1, sizeof(*n));
	if (!n)
		return vs_fail(err, ENOMEM, "oom watch");
	int r = live_cgroup(ctx, id, &n->cg, true, err);
	if (r < 0)
		return r;
	if ((r = cg_oom_snapshot(&n->cg, &n->last)) < 0)
		return vs_fail(err, -r, "cgroup: read the oom counters of %s", n->cg.path);
	*w = TAKE_PTR(n);
	return 0;
}

int rt_oom_poll(struct rt_oom_watch *w, struct rt_oom_event *ev, struct vs_err *err)
{
	struct cg_oom_snap now;
	int r = cg_oom_snapshot(&w->cg, &now);
	if (r < 0)
		return vs_fail(err, -r, "cgroup: read the oom counters of %s", w->cg.path);
	if (now.kills <= w->last.kills)
		return 0;
	memset(ev, 0, sizeof(*ev));
	ev->kills = now.kills - w->last.kills;
	ev->limit = UINT64_MAX;
	int level = cg_oom_culprit(&w->last, &now);
	if (level >= 0 && cg_oom_level_path(&w->cg, level, ev->cgroup, sizeof(ev->cgroup)) == 0) {
		ev->own = level == 0;
		ev->limit = now.limit[level];
	}
	w->last = now;
	return 1;
}

void rt_oom_watch_free(struct rt_oom_watch *w)
{
	free(w);
}

int rt_run(const struct rt_ctx *ctx, const struct rt_create_opts *o, int *exit_status,
	   struct vs_err *err)
{
	struct rt_create_opts co = *o;
	co.detach_tty_ok = !o->detach && !o->console_socket;
	pid_t pid = 0;
	int pty = -1;
	int r = rt_create_full(ctx, &co, &pid, &pty, err);
	if (r < 0)
		return r;
	r = rt_start(ctx, o->id, err);
	if (r < 0) {
		struct vs_err ign = { 0 };
		rt_delete(ctx, o->id, true, &ign);
		vs_closep(&pty);
		return r;
	}
	*exit_status = 0;
	if (o->detach) {
		vs_closep(&pty);
		return 0;
	}
	r = rt_wait_forward(pid, pty, exit_status);
	vs_closep(&pty);
	if (!o->keep) {
		struct vs_err derr = { 0 };
		int q = rt_delete(ctx, o->id, true, &derr);
		if (q < 0 && r >= 0) {
			*err = derr;
			r = q;
		}
	}
	return r;
}
