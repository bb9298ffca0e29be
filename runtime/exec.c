/* vsrun exec: a new process inside a running container. The parent joins
 * the container's pid namespace for its children, forks; the child joins the
 * other namespaces, is placed in the container's cgroup by the parent, takes
 * on the process attributes and the container's seccomp filter, and execs. */
#include "internal.h"
#include "../namespaces/namespaces.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

/* Opens /proc/PID/ns/<kind> for every namespace the container has apart from
 * ours (joining our own user namespace would fail). */
static int open_container_ns(pid_t pid, int fds[CONF_NS__MAX], struct vs_err *err)
{
	for (int t = 0; t < CONF_NS__MAX; t++)
		fds[t] = -1;
	for (int t = 0; t < CONF_NS__MAX; t++) {
		char theirs[64], ours[64];
		const char *name = ns_proc_name(t);
		snprintf(theirs, sizeof(theirs), "/proc/%d/ns/%s", (int)pid, name);
		snprintf(ours, sizeof(ours), "/proc/self/ns/%s", name);
		struct stat a, b;
		if (stat(theirs, &a) < 0) {
			if (errno == ENOENT)
				continue; /* the kernel lacks this kind */
			ns_close_all(fds);
			return vs_fail(err, errno, "exec: %s", theirs);
		}
		if (stat(ours, &b) == 0 && a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			continue;
		fds[t] = open(theirs, O_RDONLY | O_CLOEXEC);
		if (fds[t] < 0) {
			ns_close_all(fds);
			return vs_fail(err, errno, "exec: open %s", theirs);
		}
	}
	return 0;
}

struct exec_child {
	const struct rt_exec_opts *o;
	const struct conf_config *cfg;
	int fds[CONF_NS__MAX];
	int sync_fd, console_fd;
	int root_fd;  /* the container's root when it shares our mount namespace */
};

/* runs in: the exec'd process, after fork, before execve */
__attribute__((noreturn)) static void exec_child_main(struct exec_child *c)
{
	struct vs_err err = { 0 };
	struct sync_msg m;
	const struct conf_process *p = c->o->process;
	char exe[PATH_MAX];
	int r;

	/* first of all (see fdguard.c): not dumpable (the parent made us so
	 * already), and of what vsrun inherited from its caller only stdio and
	 * the preserved fds stay; our pid namespace fd, the parent's end of
	 * the sync socket and the caller's other fds go now, not at execve */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	int keep[3 + CONF_NS__MAX] = { c->sync_fd, c->console_fd, c->root_fd };
	size_t nkeep = 3;
	for (int t = 0; t < CONF_NS__MAX; t++)
		keep[nkeep++] = c->fds[t];
	rt_close_fds_except(3 + c->o->preserve_fds, keep, nkeep);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (rt_sync_recv(c->sync_fd, &m) < 0 || m.type != SYNC_GO)
		_exit(1);
	r = ns_join(c->fds, 1u << CONF_NS_PID, &err);
	if (r < 0)
		goto fail;
	bool in_userns = c->fds[CONF_NS_USER] >= 0, new_mnt = c->fds[CONF_NS_MOUNT] >= 0;
	ns_close_all(c->fds);
	if (in_userns) {
		(void)!setresgid(0, 0, 0);
		(void)!setresuid(0, 0, 0);
	}
	if (new_mnt && chdir("/") < 0) {
		r = vs_fail(&err, errno, "exec: chdir /");
		goto fail;
	}
	/* a container without a mount namespace is a chroot in ours */
	if (c->root_fd >= 0 && (fchdir(c->root_fd) < 0 || chroot(".") < 0 || chdir("/") < 0)) {
		r = vs_fail(&err, errno, "exec: chroot into the container's root");
		goto fail;
	}
	vs_closep(&c->root_fd);
	if (p->terminal) {
		r = rt_console_setup(c->console_fd, p, &err);
		if (r < 0)
			goto fail;
		close(c->console_fd);
	}
	r = rt_find_exec(p->args[0], p->env, exe, sizeof(exe));
	if (r < 0) {
		vs_fail(&err, -r, "exec: %s", p->args[0]);
		goto fail;
	}
	if (syscall(SYS_close_range, 3 + c->o->preserve_fds, ~0U, CLOSE_RANGE_CLOEXEC) < 0) {
		r = vs_fail(&err, errno, "close_range");
		goto fail;
	}
	/* a detached exec outlives vsrun: no death signal past this point */
	prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	r = rt_setup_process(p, &c->cfg->linux_, in_userns, true, c->sync_fd, &err);
	if (r < 0)
		goto fail;
	execve(exe, p->args, p->env ? p->env : (char *[]){ NULL });
	vs_fail(&err, errno, "exec %s", exe);
fail:
	rt_sync_send(c->sync_fd, SYNC_ERROR, &err);
	_exit(127);
}

int rt_exec(const struct rt_ctx *ctx, const struct rt_exec_opts *o, int *exit_status,
	    struct vs_err *err)
{
	if (!ctx->vm && rt_vm_is(ctx, o->id))  /* VMs: vsrun-vm (vm-dispatch.c) */
		return rt_vm_handoff(ctx, err);
	struct rt_record rec;
	int r = rt_record_read(ctx, o->id, &rec, err);
	if (r < 0)
		return r;
	enum rt_status status = rt_live_status(ctx, &rec);
	rt_state_free(&rec.st);
	if (status != RT_RUNNING && status != RT_CREATED)
		return vs_failx(err, EINVAL, "cannot exec in container \"%s\": it is %s", o->id,
				rt_status_name(status));
	if (!o->process || !o->process->args || !o->process->args[0])
		return vs_failx(err, EINVAL, "exec: no command given");
	if (o->process->terminal && !o->console_socket && o->detach)
		return vs_failx(err, EINVAL, "exec: a terminal with -d needs --console-socket");
	if (ctx->vm && rt_vm_is(ctx, o->id))  /* --- VM bundles: through the agent (oci-vm.c) --- */
		return status == RT_RUNNING ? ctx->vm->exec(ctx, o, exit_status, err)
		       : vs_failx(err, EINVAL, "cannot exec in VM \"%s\": it is not started", o->id);

	r = rt_lsm_check(o->process, NULL, "exec: process.", err);
	if (r < 0)
		return r;
	__attribute__((cleanup(conf_free_p))) struct conf_config *cfg = NULL;
	r = rt_record_config(ctx, o->id, &cfg, err);
	if (r < 0)
		return r;
	struct exec_child c = { .o = o, .cfg = cfg, .console_fd = -1, .root_fd = -1 };
	r = open_container_ns(rec.st.pid, c.fds, err);
	if (r < 0)
		return r;
	if (c.fds[CONF_NS_MOUNT] < 0) {
		char root[64];
		snprintf(root, sizeof(root), "/proc/%d/root", (int)rec.st.pid);
		c.root_fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (c.root_fd < 0) {
			r = vs_fail(err, errno, "exec: open %s", root);
			ns_close_all(c.fds);
			return r;
		}
	}
	_cleanup_close_ int sync_parent = -1, console_parent = -1, pty = -1, own_pidns = -1;
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp) < 0) {
		r = vs_fail(err, errno, "socketpair");
		goto out;
	}
	sync_parent = sp[0];
	c.sync_fd = sp[1];
	if (o->process->terminal) {
		if (o->console_socket) {
			r = rt_unix_connect(o->console_socket, err);
			if (r < 0)
				goto out_child_fds;
			c.console_fd = r;
		} else {
			int cp[2];
			if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, cp) < 0) {
				r = vs_fail(err, errno, "socketpair");
				goto out_child_fds;
			}
			console_parent = cp[0];
			c.console_fd = cp[1];
		}
	}
	if (c.fds[CONF_NS_PID] >= 0) {
		own_pidns = open("/proc/self/ns/pid_for_children", O_RDONLY | O_CLOEXEC);
		if (setns(c.fds[CONF_NS_PID], CLONE_NEWPID) < 0) {
			r = vs_fail(err, errno, "exec: join the pid namespace");
			goto out_child_fds;
		}
	}
	/* the child is born not dumpable (fdguard.c): from its first instruction */
	int dumpable = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	pid_t pid = fork();
	if (pid == 0)
		exec_child_main(&c);
	int fork_errno = errno;
	if (dumpable > 0)
		prctl(PR_SET_DUMPABLE, dumpable, 0, 0, 0);
	if (own_pidns >= 0)
		setns(own_pidns, CLONE_NEWPID);
	if (pid < 0) {
		r = vs_fail(err, fork_errno, "exec: fork");
		goto out_child_fds;
	}
	close(c.sync_fd);
	c.sync_fd = -1;
	vs_closep(&c.console_fd);
	/* into the delegated cgroup where the container has one: inside its
	 * cgroup namespace, and never into the outer one, which would break
	 * cgroup2's no-internal-process rule */
	struct vs_cgroup ecg = rec.cg;
	if (rec.has_cg && rec.cg_inner[0] && (r = cg_child(&rec.cg, rec.cg_inner, &ecg, err)) < 0)
		goto out_kill;
	if (rec.has_cg && (r = cg_enter_exec(&ecg, pid, rec.st.pid, err)) < 0)
		goto out_kill;
	if ((r = rt_apply_oom_score_adj(pid, c.o->process, err)) < 0)
		goto out_kill;
	if (rt_sync_send(sync_parent, SYNC_GO, NULL) < 0) {
		r = vs_failx(err, EIO, "exec: the new process exited early");
		goto out_kill;
	}
	/* the child execs (the socket closes) or reports an error */
	struct sync_msg m;
	for (;;) {
		if (rt_sync_recv(sync_parent, &m) < 0)
			break;
		if (m.type == SYNC_ERROR) {
			err->code = m.code > 0 ? m.code : EIO;
			memcpy(err->msg, m.msg, sizeof(err->msg));
			r = -err->code;
			goto out_kill;
		}
		if (m.type == SYNC_SECCOMP_FD) {
			char tag[16];
			int fd = rt_recv_fd(sync_parent, tag, sizeof(tag));
			if (fd >= 0 && !cfg->linux_.seccomp) {
				/* no filter of ours: not a message our child sends */
				close(fd);
				r = vs_failx(err, EPROTO, "exec: a seccomp listener without a filter");
				goto out_kill;
			}
			if (fd >= 0) {
				struct rt_record r2;
				if (rt_record_read(ctx, o->id, &r2, err) >= 0) {
					_cleanup_free_ char *st = rt_process_state_json(
						&r2, RT_RUNNING, pid, cfg->linux_.seccomp->listener_metadata);
					rt_seccomp_send_listener(cfg->linux_.seccomp, fd, st, err);
					rt_state_free(&r2.st);
				}
				close(fd);
			}
		}
	}
	if (console_parent >= 0) {
		char tag[16];
		pty = rt_recv_fd(console_parent, tag, sizeof(tag));
	}
	if (o->pid_file) {
		char buf[32];
		int n = snprintf(buf, sizeof(buf), "%d", (int)pid);
		int q = vs_write_file_atomic(o->pid_file, buf, (size_t)n, 0644);
		if (q < 0) {
			r = vs_fail(err, -q, "write pid file %s", o->pid_file);
			goto out_kill;
		}
	}
	*exit_status = 0;
	r = o->detach ? 0 : rt_wait_forward(pid, pty, exit_status);
	if (r < 0)
		vs_fail(err, -r, "exec: wait");
	goto out;
out_kill:
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	goto out;
out_child_fds:
	if (c.sync_fd >= 0)
		close(c.sync_fd);
	vs_closep(&c.console_fd);
out:
	ns_close_all(c.fds);
	vs_closep(&c.root_fd);
	return r;
}
