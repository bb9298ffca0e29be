/* vsrun: a bundle whose config.json carries the annotation
 * run.oci.handler=vm runs as a virtual machine, as crun runs one with krun:
 *   create   the bundle's rootfs becomes an ext4 disk (disk.img in the state
 *            dir), the process goes into an initramfs with our agent, and QEMU
 *            starts jailed (the container's cgroup, new mount/uts/ipc/net
 *            namespaces) with its vCPUs stopped (-S): the state is "created"
 *            and its pid is QEMU's
 *   start    QMP cont: the guest boots and the agent runs process.args
 *   kill     SIGTERM, SIGINT, SIGPWR: the ACPI power button (the agent stops
 *            the process and powers off); other signals go to QEMU
 *   exec     through the agent (vm/agent-client.c)
 *   delete   as for a container: QEMU is killed, the cgroup and the state
 *            dir (disk, sockets, console log) go
 * Optional annotations: run.oci.vm.kernel=PATH (default: the newest
 * /boot/vmlinuz-*-cloud-amd64, else the host's), run.oci.vm.disk_size
 * (bytes or 2G; default 1G). The guest's RAM is linux.resources.memory.limit
 * (default 256M), not a cgroup limit.
 * Network: with a network namespace given by path (as podman/CNI give one,
 * eth0 with an address), the guest takes eth0's place through a tap in that
 * namespace and tc redirects (netns_guest_tap), with eth0's address and MAC;
 * otherwise it has no network interface. */
#include "internal.h"
#include "../vm/vm.h"
#include "../netns/netns.h"

#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#define VM_DISK_DEFAULT (1ULL << 30)
#define VM_MEM_DEFAULT (256ULL << 20)

static void state_file(const struct rt_ctx *ctx, const char *id, const char *f, char *buf,
		       size_t len)
{
	char dir[PATH_MAX];
	if (rt_dir(ctx, id, dir, sizeof(dir), NULL) < 0)
		dir[0] = '\0';
	snprintf(buf, len, "%s/%s", dir, f);
}

/* the process of the bundle, with the host name for the agent */
static int initrd(const struct conf_config *cfg, const char *kernel, const char *out,
		  struct vs_err *err)
{
	_cleanup_free_ char *buf = NULL;
	const void *agent;
	size_t alen, plen;
	int r = rt_vm_agent(&agent, &alen, &buf, err);
	if (r < 0)
		return r;
	const struct conf_process *p = cfg->process;
	struct vm_agent_user u;
	rt_vm_user(&p->user, &u);
	_cleanup_free_ void *proc = vm_agent_encode_proc(p->args, p->env, p->cwd, &u, &plen);
	struct vm_initramfs ir = { .kernel = kernel, .agent = agent, .agent_len = alen,
				   .process = proc, .process_len = plen, .out = out };
	return vm_initramfs_build(&ir, err);
}

static int choose_kernel(const struct rt_ctx *ctx, const struct conf_config *cfg, char **kernel,
			 enum vm_accel *accel, struct vs_err *err)
{
	const char *k = conf_annotation(cfg, "run.oci.vm.kernel");
	*kernel = k && *k ? vs_xstrdup(k) : rt_vm_default_kernel();
	if (!*kernel)
		return vs_failx(err, ENOENT, "vm: no kernel: no /boot/vmlinuz-*-cloud-amd64 nor the "
				"host's; set the annotation run.oci.vm.kernel");
	int r = rt_vm_check_kernel(*kernel, err);
	if (r < 0)
		return r;
	char cache[PATH_MAX], warn[256] = "";
	snprintf(cache, sizeof(cache), "%s/.vm-accel.cache", ctx->root);  /* dot: not a container */
	r = vm_choose_accel(*kernel, cache, accel, warn, sizeof(warn), err);
	if (r >= 0 && warn[0] && ctx->warn)
		ctx->warn(warn);
	return r;
}

static int rt_vm_create(const struct rt_ctx *ctx, const struct conf_config *cfg, const char *dir,
			const char *rootfs, struct rt_record *rec, pid_t *pid, struct vs_err *err)
{
	_cleanup_free_ char *kernel = NULL;
	enum vm_accel accel;
	int r = choose_kernel(ctx, cfg, &kernel, &accel, err);
	if (r < 0)
		return r;
	uint64_t disk_size = VM_DISK_DEFAULT;
	const char *ds = conf_annotation(cfg, "run.oci.vm.disk_size");
	if (ds && vs_parse_size(ds, &disk_size) < 0)
		return vs_failx(err, EINVAL, "vm: run.oci.vm.disk_size \"%s\": expected a size like 2G", ds);
	/* CPU, IO and devices from linux.resources; the memory is the guest's */
	const struct conf_linux *lx = &cfg->linux_;
	struct conf_resources res = lx->resources;
	uint64_t mem = res.memory.limit.set && res.memory.limit.v > 0
			       ? (uint64_t)res.memory.limit.v : VM_MEM_DEFAULT;
	memset(&res.memory, 0, sizeof(res.memory));
	memset(&res.pids, 0, sizeof(res.pids));
	res.devices = NULL;
	res.n_devices = 0;
	if ((r = cg_create(&rec->cg, lx->has_resources ? &res : NULL, err)) < 0)
		return r;
	char disk[PATH_MAX], ird[PATH_MAX], con[PATH_MAX], vmm[PATH_MAX], qmp[PATH_MAX], ag[PATH_MAX];
	snprintf(disk, sizeof(disk), "%s/disk.img", dir);
	snprintf(ird, sizeof(ird), "%s/initrd.cpio", dir);
	snprintf(con, sizeof(con), "%s/console.log", dir);
	snprintf(vmm, sizeof(vmm), "%s/vmm.log", dir);
	snprintf(qmp, sizeof(qmp), "%s/qmp.sock", dir);
	snprintf(ag, sizeof(ag), "%s/agent.sock", dir);
	if ((r = vm_disk_from_rootfs(rootfs, disk_size, disk, err)) < 0 ||
	    (r = initrd(cfg, kernel, ird, err)) < 0)
		return r;
	_cleanup_strv_ char **dirs = NULL;
	if ((r = cg_dir_list(&rec->cg, &dirs, err)) < 0)
		return r;
	_cleanup_free_ char *append = vs_xasprintf("console=ttyS0 quiet panic=-1 reboot=t pci=off vs.host=%s",
						    cfg->hostname && *cfg->hostname ? cfg->hostname : rec->st.id);
	/* the bundle's network namespace, if it names one: the guest takes eth0's place */
	const char *nspath = lx->ns[CONF_NS_NETWORK].present ? lx->ns[CONF_NS_NETWORK].path : NULL;
	_cleanup_close_ int nsfd = -1, tap = -1;
	struct netns_guest_net gn = { 0 };
	if (nspath) {
		if ((nsfd = open(nspath, O_RDONLY | O_CLOEXEC)) < 0)
			return vs_fail(err, errno, "vm: open network namespace %s", nspath);
		if ((r = netns_guest_tap(nsfd, NULL, &gn, &tap, err)) < 0)
			return r;
		char *a = vs_xasprintf("%s vs.ip=%s/%d%s%s", append, gn.ip4, gn.prefix4,
				       gn.gw4[0] ? " vs.gw=" : "", gn.gw4);
		free(append);
		append = a;
	}
	struct vm_spec spec = {
		.name = rec->st.id, .kernel = kernel, .initrd = ird, .append = append,
		.disk = disk, .memory_mb = (unsigned)(mem >> 20), .accel = accel,
		.console_log = con, .vmm_log = vmm, .qmp_socket = qmp, .agent_socket = ag,
		.tap_fd = tap, .mac = tap >= 0 ? gn.mac : NULL,
		.balloon = true, .start_paused = true, .sandbox = vm_qemu_has_sandbox(NULL),
		.tsc_khz = accel == VM_ACCEL_TCG ? vm_host_tsc_khz() : 0,
	};
	struct vm_jail jail = { .cgroup_dirs = (const char *const *)dirs,
				.unshare_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET };
	if ((r = vm_start(&spec, &jail, pid, 0, err)) < 0) {
		if (tap >= 0)
			netns_guest_untap(nsfd, NULL, NULL);
		return r;
	}
	/* "created" until start: rt_live_status looks for exec.fifo */
	char marker[PATH_MAX];
	snprintf(marker, sizeof(marker), "%s/exec.fifo", dir);
	vs_write_file_atomic(marker, "", 0, 0600);
	snprintf(marker, sizeof(marker), "%s/vm", dir);
	vs_write_file_atomic(marker, "", 0, 0600);
	rec->st.pid = *pid;
	rec->start_time = rt_pid_start_time(*pid);
	rec->st.status = RT_CREATED;
	r = rt_record_write(ctx, rec, err);
	if (r < 0 && tap >= 0)
		netns_guest_untap(nsfd, NULL, NULL);  /* the caller's rollback kills QEMU only */
	return r;
}

static int rt_vm_start(const struct rt_ctx *ctx, const char *id, struct vs_err *err)
{
	char qmp[PATH_MAX], fifo[PATH_MAX];
	state_file(ctx, id, "qmp.sock", qmp, sizeof(qmp));
	state_file(ctx, id, "exec.fifo", fifo, sizeof(fifo));
	int r = vm_resume(qmp, err);
	if (r < 0)
		return vs_wrap(err, "start \"%s\"", id);
	unlink(fifo);
	return 0;
}

static int rt_vm_kill(const struct rt_ctx *ctx, const char *id, int sig, struct vs_err *err)
{
	if (sig != SIGTERM && sig != SIGINT && sig != SIGPWR)
		return 1;
	char qmp[PATH_MAX];
	state_file(ctx, id, "qmp.sock", qmp, sizeof(qmp));
	int r = vm_qmp(qmp, "{\"execute\":\"system_powerdown\"}", NULL, err);
	return r < 0 ? vs_wrap(err, "kill \"%s\"", id) : 0;
}

static int rt_vm_exec(const struct rt_ctx *ctx, const struct rt_exec_opts *o, int *exit_status,
		      struct vs_err *err)
{
	char ag[PATH_MAX];
	state_file(ctx, o->id, "agent.sock", ag, sizeof(ag));
	const struct conf_process *p = o->process;
	if (o->detach)
		return vs_failx(err, EOPNOTSUPP, "exec in VM \"%s\": -d is not supported", o->id);
	struct vm_agent_user u;
	rt_vm_user(&p->user, &u);
	int r = vm_agent_exec(ag, p->args, p->env, p->cwd ? p->cwd : "/", &u, 0, 1, 2, exit_status,
			      err);
	return r < 0 ? vs_wrap(err, "exec in \"%s\"", o->id) : 0;
}

static void rt_vm_cleanup(const struct rt_ctx *ctx, const char *id)
{
	struct conf_config *cfg = NULL;
	struct vs_err ign = { 0 };
	if (rt_record_config(ctx, id, &cfg, &ign) < 0)
		return;
	const struct conf_namespace *ns = &cfg->linux_.ns[CONF_NS_NETWORK];
	int fd = ns->present && ns->path ? open(ns->path, O_RDONLY | O_CLOEXEC) : -1;
	if (fd >= 0) {
		netns_guest_untap(fd, NULL, &ign);
		close(fd);
	}
	conf_free(cfg);
}

const struct rt_vm_handler rt_vm_handler = {
	.create = rt_vm_create, .start = rt_vm_start, .kill = rt_vm_kill,
	.exec = rt_vm_exec, .cleanup = rt_vm_cleanup,
};
