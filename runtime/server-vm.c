/* vserver: VM servers. The same server record, booted as a virtual machine
 * through vm/ (QEMU microvm with the server's own kernel, or q35 + firmware
 * for a bootable disk image). What differs from a container:
 *   create   the rootfs (image layers + the server's layer, plus its /etc
 *            files) becomes an ext4 disk, vm-disk.img, once: the guest
 *            writes to it and keeps what it wrote across restarts
 *   start    (in the monitor) a cgroup with the CPU and IO limits, a tap on
 *            the network's bridge (netns/), an initramfs with our agent as
 *            /init, QEMU jailed in the cgroup and new mount/uts/ipc/net
 *            namespaces; QEMU is the monitor's child as an init would be
 *   exit     the agent prints the command's status on the console; the
 *            monitor reads it back from the console log
 * Memory is the guest's RAM (--memory, default 256M; `set` moves the
 * balloon), not a cgroup limit: QEMU's own overhead (~200 MiB under TCG)
 * would not fit in it. See docs/vm.md. */
#include "internal.h"
#include "server-internal.h"
#include "server-vm.h"
#include "../rootfs/rootfs.h"
#include "../vm/vm.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <signal.h>
#include <sys/utsname.h>
#include <sys/wait.h>

/* the agent, linked into the binary by the Makefile (vm/agent/blob.S) */
extern const unsigned char vs_agent_start[] __attribute__((weak));
extern const unsigned char vs_agent_end[] __attribute__((weak));

#define VM_DEFAULT_DISK (1ULL << 30)
#define VM_DEFAULT_MEMORY (256ULL << 20)
#define VM_START_TIMEOUT_MS 30000

void srv_vm_sock(const struct srv_ctx *c, const char *name, const char *kind, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vm/%s.%s", c->run, name, kind);
}

static int cmp_ver(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* the newest /boot/vmlinuz-*-cloud-amd64, else the host's own kernel */
char *rt_vm_default_kernel(void)
{
	_cleanup_strv_ char **found = NULL;
	DIR *d = opendir("/boot");
	struct dirent *de;
	while (d && (de = readdir(d))) {
		size_t n = strlen(de->d_name);
		static const char sfx[] = "-cloud-amd64";
		if (!strncmp(de->d_name, "vmlinuz-", 8) && n > 8 + sizeof(sfx) &&
		    !strcmp(de->d_name + n - (sizeof(sfx) - 1), sfx))
			vs_strv_push(&found, de->d_name);
	}
	if (d)
		closedir(d);
	size_t n = vs_strv_len(found);
	if (n) {
		qsort(found, n, sizeof(char *), cmp_ver);
		return vs_xasprintf("/boot/%s", found[n - 1]);
	}
	struct utsname u;
	if (uname(&u) == 0) {
		char *k = vs_xasprintf("/boot/vmlinuz-%s", u.release);
		if (access(k, R_OK) == 0)
			return k;
		free(k);
	}
	return NULL;
}

int rt_vm_check_kernel(const char *path, struct vs_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vs_fail(err, errno, "vm: kernel %s", path);
	char magic[4];
	if (pread(fd, magic, 4, 0x202) != 4 || memcmp(magic, "HdrS", 4))
		return vs_failx(err, EINVAL, "vm: kernel %s: not a linux kernel image (no bzImage header)",
				path);
	return 0;
}

/* raw with a boot signature (MBR or protective MBR), or qcow2 */
static int check_disk_image(const char *path, bool *qcow2, struct vs_err *err)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return vs_fail(err, errno, "vm: disk image %s", path);
	struct stat st;
	unsigned char b[512];
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return vs_failx(err, EINVAL, "vm: disk image %s: not a regular file", path);
	if (pread(fd, b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return vs_failx(err, EINVAL, "vm: disk image %s: too small to boot", path);
	*qcow2 = !memcmp(b, "QFI\xfb", 4);
	if (!*qcow2 && !(b[510] == 0x55 && b[511] == 0xaa))
		return vs_failx(err, EINVAL, "vm: disk image %s: neither qcow2 nor a bootable raw disk "
				"(no boot signature)", path);
	return 0;
}

int srv_vm_check(struct conf_server *s, struct vs_err *err)
{
	if (!s->vm)
		return 0;
	if (s->vm_kernel && s->vm_disk_image)
		return vs_failx(err, EINVAL, "vm: --kernel and --disk-image exclude each other");
	if (s->vm_vcpus > 255)
		return vs_failx(err, EINVAL, "vm: %llu vcpus: at most 255", (unsigned long long)s->vm_vcpus);
	if (s->memory && s->memory < (16ULL << 20))
		return vs_failx(err, EINVAL, "vm: --memory: a guest needs at least 16M");
	if (s->vm_disk_image) {
		bool q;
		char *abs = realpath(s->vm_disk_image, NULL);
		if (!abs)
			return vs_fail(err, errno, "vm: disk image %s", s->vm_disk_image);
		free(s->vm_disk_image);
		s->vm_disk_image = abs;
		return check_disk_image(abs, &q, err);
	}
	if (!s->vm_kernel && !(s->vm_kernel = rt_vm_default_kernel()))
		return vs_failx(err, ENOENT, "vm: no kernel: no /boot/vmlinuz-*-cloud-amd64 nor the "
				"host's /boot/vmlinuz-<release>; give --kernel PATH");
	char *abs = realpath(s->vm_kernel, NULL);
	if (!abs)
		return vs_fail(err, errno, "vm: kernel %s", s->vm_kernel);
	free(s->vm_kernel);
	s->vm_kernel = abs;
	return rt_vm_check_kernel(abs, err);
}

/* A copy that keeps the holes of a sparse disk (SEEK_DATA/SEEK_HOLE), through
 * a temporary file renamed into place. */
int srv_vm_copy_disk(const char *src, const char *dst, struct vs_err *err)
{
	_cleanup_close_ int in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return vs_fail(err, errno, "vm: open %s", src);
	struct stat st;
	if (fstat(in, &st) < 0)
		return vs_fail(err, errno, "vm: stat %s", src);
	_cleanup_free_ char *tmp = vs_xasprintf("%s.tmp", dst);
	_cleanup_close_ int out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0)
		return vs_fail(err, errno, "vm: create %s", tmp);
	int r = 0;
	if (ftruncate(out, st.st_size) < 0)
		r = vs_fail(err, errno, "vm: size %s", tmp);
	for (off_t pos = 0; r >= 0 && pos < st.st_size;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0)
			break;  /* ENXIO: only a hole is left */
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			hole = st.st_size;
		loff_t io = data, oo = data;
		while (r >= 0 && io < hole) {
			ssize_t n = copy_file_range(in, &io, out, &oo, (size_t)(hole - io), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				r = vs_fail(err, n < 0 ? errno : EIO, "vm: copy %s to %s", src, tmp);
		}
		pos = hole;
	}
	if (r >= 0 && fsync(out) < 0)
		r = vs_fail(err, errno, "vm: sync %s", tmp);
	if (r >= 0 && rename(tmp, dst) < 0)
		r = vs_fail(err, errno, "vm: rename %s", tmp);
	if (r < 0)
		unlink(tmp);
	return r;
}

/* The server's /etc files (resolv.conf, hosts, hostname) into its tree.
 * The tree is the image's: /etc is resolved inside it (an image whose etc is
 * a symlink to /etc must not make us rewrite the host's files) and each file
 * is replaced, never followed. */
static int copy_etc(const char *dir, const char *rootfs, struct vs_err *err)
{
	static const char *const files[] = { "resolv.conf", "hosts", "hostname", NULL };
	_cleanup_close_ int root = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0)
		return vs_fail(err, errno, "vm: open %s", rootfs);
	_cleanup_close_ int etc = rootfs_open_in_root(root, "/etc", true, false, err);
	if (etc < 0)
		return etc;
	for (size_t i = 0; files[i]; i++) {
		char src[PATH_MAX];
		_cleanup_free_ char *data = NULL;
		size_t len;
		snprintf(src, sizeof(src), "%s/etc/%s", dir, files[i]);
		if (vs_read_file(src, &data, &len) < 0)
			continue;
		if (unlinkat(etc, files[i], 0) < 0 && errno != ENOENT)
			return vs_fail(err, errno, "vm: replace %s/etc/%s", rootfs, files[i]);
		_cleanup_close_ int fd = openat(etc, files[i],
						O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
		if (fd < 0 || vs_write_all(fd, data, len) < 0)
			return vs_fail(err, errno, "vm: write %s/etc/%s", rootfs, files[i]);
	}
	return 0;
}

int srv_vm_create_disk(struct srv_ctx *c, const struct conf_server *s, struct vs_store *store,
		       const struct vs_image *img, struct vs_err *err)
{
	char dir[PATH_MAX], disk[PATH_MAX], rootfs[PATH_MAX];
	srv_path(c, s->name, NULL, dir, sizeof(dir));
	srv_path(c, s->name, VS_VM_DISK, disk, sizeof(disk));
	/* the accelerator is decided (and software emulation announced) now */
	char warn[256] = "";
	enum vm_accel accel;
	int r = srv_vm_accel(c, s, &accel, warn, sizeof(warn), err);
	if (r < 0)
		return r;
	if (warn[0] && c->warn)
		c->warn(warn);
	if (s->vm_disk_image)
		return srv_vm_copy_disk(s->vm_disk_image, disk, err);
	srv_path(c, s->name, "rootfs", rootfs, sizeof(rootfs));
	r = vs_disk_mount(store, img, dir, rootfs, err);
	if (r < 0)
		return r;
	r = copy_etc(dir, rootfs, err);
	if (r >= 0)
		r = vm_disk_from_rootfs(rootfs, s->disk ? s->disk : VM_DEFAULT_DISK, disk, err);
	struct vs_err ign = { 0 };
	vs_disk_umount(dir, rootfs, &ign);
	if (r < 0)
		unlink(disk);
	return r;
}

static void accel_cache(const struct srv_ctx *c, char *buf, size_t len)
{
	snprintf(buf, len, "%s/vm-accel.cache", c->run);
}

int srv_vm_accel(struct srv_ctx *c, const struct conf_server *s, enum vm_accel *accel,
		 char *warn, size_t warn_len, struct vs_err *err)
{
	char cache[PATH_MAX], path[PATH_MAX];
	accel_cache(c, cache, sizeof(cache));
	int r = vm_choose_accel(s->vm_kernel, cache, accel, warn, warn_len, err);
	if (r < 0)
		return r;
	srv_path(c, s->name, "vm.accel", path, sizeof(path));
	const char *name = *accel == VM_ACCEL_KVM ? "kvm\n" : "tcg\n";
	vs_write_file_atomic(path, name, 4, 0644);
	return 0;
}

/* the server's cgroup: CPU and IO limits only (see the head of this file) */
int srv_vm_cgroup(const char *name, struct vs_cgroup *cg, struct vs_err *err)
{
	int r = cg_detect_mode(&cg->mode, err);
	if (r < 0)
		return r;
	snprintf(cg->path, sizeof(cg->path), "/vsrun-vserver/%s", name);
	return 0;
}

int srv_vm_resources(const struct conf_server *s, struct conf_resources *res, struct vs_err *err)
{
	struct conf_server t = *s;
	t.memory = t.swap = t.pids = 0;
	return conf_server_resources(&t, res, err);
}

void rt_vm_user(const struct conf_user *u, struct vm_agent_user *out)
{
	*out = (struct vm_agent_user){ .uid = u->uid, .gid = u->gid, .gids = u->additional_gids,
				       .n_gids = u->n_additional_gids };
}

/* the server's process as the agent runs it, from its config.json */
static int process_blob(struct srv_ctx *c, const char *name, void **blob, size_t *len,
			struct vs_err *err)
{
	char path[PATH_MAX];
	srv_path(c, name, "config.json", path, sizeof(path));
	_cleanup_free_ char *json = NULL;
	size_t n;
	int r = vs_read_file(path, &json, &n);
	if (r < 0)
		return vs_fail(err, -r, "vm: read %s", path);
	struct conf_config *cfg = NULL;
	r = conf_parse(json, n, path, &cfg, err);
	if (r < 0)
		return r;
	struct vm_agent_user u;
	rt_vm_user(&cfg->process->user, &u);
	*blob = vm_agent_encode_proc(cfg->process->args, cfg->process->env, cfg->process->cwd, &u, len);
	conf_free(cfg);
	return 0;
}

int rt_vm_agent(const void **agent, size_t *len, char **buf, struct vs_err *err)
{
	*buf = NULL;
	*agent = vs_agent_start;
	*len = vs_agent_start ? (size_t)(vs_agent_end - vs_agent_start) : 0;
	const char *override = getenv("VSERVER_AGENT");
	if (override && *override) {
		int r = vs_read_file(override, buf, len);
		if (r < 0)
			return vs_fail(err, -r, "vm: read the agent %s", override);
		*agent = *buf;
	}
	if (!*len)
		return vs_failx(err, ENOENT, "vm: this binary carries no guest agent (set VSERVER_AGENT)");
	return 0;
}

static int make_initrd(struct srv_ctx *c, const struct conf_server *s, const char *out,
		       struct vs_err *err)
{
	_cleanup_free_ char *agent_buf = NULL;
	const void *agent;
	size_t agent_len;
	int r = rt_vm_agent(&agent, &agent_len, &agent_buf, err);
	if (r < 0)
		return r;
	_cleanup_free_ void *proc = NULL;
	size_t plen = 0;
	r = s->init ? 0 : process_blob(c, s->name, &proc, &plen, err);
	if (r < 0)
		return r;
	struct vm_initramfs ir = { .kernel = s->vm_kernel, .agent = agent, .agent_len = agent_len,
				   .process = proc, .process_len = plen, .init = s->init, .out = out };
	return vm_initramfs_build(&ir, err);
}

/* eth0's addresses (IPv4, IPv6) and the host name, on the kernel command line */
static char *kernel_append(const struct conf_server *s, const struct netns_info *ni)
{
	char *a = vs_xasprintf("console=ttyS0 quiet panic=-1 reboot=t pci=off vs.host=%s",
			       s->hostname ? s->hostname : s->name);
	if (ni && ni->ip4[0]) {
		char *b = vs_xasprintf("%s vs.ip=%s/%d vs.gw=%s", a, ni->ip4, ni->prefix4, ni->gw4);
		free(a);
		a = b;
	}
	if (ni && ni->ip6[0]) {
		char *b = vs_xasprintf("%s vs.ip6=%s/%d%s%s", a, ni->ip6, ni->prefix6,
				       ni->gw6[0] ? " vs.gw6=" : "", ni->gw6);
		free(a);
		a = b;
	}
	return a;
}

void srv_vm_teardown(struct srv_ctx *c, const struct conf_server *s)
{
	struct vs_err ign = { 0 };
	char path[PATH_MAX];
	if (s->net && strcmp(s->net, "none")) {
		srv_net_dir(c, path, sizeof(path));
		netns_server_stop(path, s->net, s->name, &ign);
	}
	struct vs_cgroup cg;
	if (srv_vm_cgroup(s->name, &cg, &ign) >= 0)
		cg_destroy(&cg, &ign);
	srv_vm_sock(c, s->name, "qmp", path, sizeof(path));
	unlink(path);
	srv_vm_sock(c, s->name, "agent", path, sizeof(path));
	unlink(path);
	srv_path(c, s->name, "initrd.cpio", path, sizeof(path));
	unlink(path);
	srv_vm_sock(c, s->name, "mig", path, sizeof(path));
	unlink(path);
}

/* runs in: the start helper (`vserver __start`). QEMU becomes its child,
 * jailed, and the monitor's when the helper exits. */
int srv_vm_start(struct srv_ctx *c, const struct conf_server *s, int console_fd, pid_t *pid,
		 char *warn, size_t warn_len, struct vs_err *err)
{
	char disk[PATH_MAX], qmp[PATH_MAX], agent[PATH_MAX], con[PATH_MAX], vmm[PATH_MAX];
	char initrd[PATH_MAX], rundir[PATH_MAX];
	_cleanup_free_ char *append = NULL;
	_cleanup_close_ int tap = -1;
	enum vm_accel accel;
	int r = srv_vm_accel(c, s, &accel, warn, warn_len, err);
	if (r < 0)
		return r;
	snprintf(rundir, sizeof(rundir), "%s/vm", c->run);
	vs_mkdir_p(rundir, 0700);
	srv_path(c, s->name, VS_VM_DISK, disk, sizeof(disk));
	srv_path(c, s->name, "console.log", con, sizeof(con));
	srv_path(c, s->name, "vmm.log", vmm, sizeof(vmm));
	srv_path(c, s->name, "initrd.cpio", initrd, sizeof(initrd));
	srv_vm_sock(c, s->name, "qmp", qmp, sizeof(qmp));
	srv_vm_sock(c, s->name, "agent", agent, sizeof(agent));
	bool qcow2 = false;
	struct vs_err ign = { 0 };
	if (s->vm_disk_image)
		check_disk_image(disk, &qcow2, &ign);
	else if ((r = make_initrd(c, s, initrd, err)) < 0)
		return r;

	struct vs_cgroup cg;
	struct conf_resources res;
	_cleanup_strv_ char **dirs = NULL;
	if ((r = srv_vm_cgroup(s->name, &cg, err)) < 0 || (r = srv_vm_resources(s, &res, err)) < 0)
		return r;
	cg_destroy(&cg, &ign);  /* a stale one of a killed monitor */
	r = cg_create(&cg, &res, err);
	conf_resources_free(&res);
	if (r < 0)
		return r;
	if ((r = cg_dir_list(&cg, &dirs, err)) < 0)
		goto out_cg;
	struct netns_info ni = { 0 };
	if ((r = srv_net_start(c, s, 0, &tap, &ni, err)) < 0)
		goto out_cg;
	append = s->vm_disk_image ? NULL : kernel_append(s, &ni);
	struct vm_spec spec = {
		.name = s->name, .kernel = s->vm_disk_image ? NULL : s->vm_kernel,
		.initrd = s->vm_disk_image ? NULL : initrd, .append = append,
		.disk = disk, .disk_format = qcow2 ? VM_DISK_QCOW2 : VM_DISK_RAW,
		.vcpus = (unsigned)s->vm_vcpus,
		.memory_mb = (unsigned)((s->memory ? s->memory : VM_DEFAULT_MEMORY) >> 20),
		.accel = accel, .console_log = con, .console_fd = console_fd, .vmm_log = vmm,
		.console_stdin = console_fd == STDOUT_FILENO,
		.qmp_socket = qmp,
		.tap_fd = tap, .mac = tap >= 0 ? ni.mac : NULL, .agent_socket = agent,
		.balloon = true, .sandbox = vm_qemu_has_sandbox(NULL),
		.tsc_khz = accel == VM_ACCEL_TCG ? vm_host_tsc_khz() : 0,
	};
	struct vm_jail jail = { .cgroup_dirs = (const char *const *)dirs,
				.unshare_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET };
	/* a restored live snapshot: the guest resumes instead of booting, once */
	char resume[PATH_MAX], mig[PATH_MAX];
	srv_path(c, s->name, VS_VM_RESUME, resume, sizeof(resume));
	srv_vm_sock(c, s->name, "mig", mig, sizeof(mig));
	bool resuming = access(resume, F_OK) == 0;
	if (resuming)
		spec.incoming = mig;
	unlink(agent);
	r = vm_start(&spec, &jail, pid, VM_START_TIMEOUT_MS, err);
	if (r >= 0 && resuming) {
		/* the state was saved paused (for a consistent disk): go on */
		r = vm_load_state(qmp, mig, resume, err);
		if (r >= 0)
			r = vm_resume(qmp, err);
		unlink(resume);
		if (r < 0) {
			vs_wrap(err, "resume the snapshot (removed: the next start boots)");
			kill(*pid, SIGKILL);
			waitpid(*pid, NULL, 0);
		}
	}
	if (r >= 0)
		return 0;  /* the tap's fd closes here; QEMU holds its own */
	if (tap >= 0) {
		char netdir[PATH_MAX];
		srv_net_dir(c, netdir, sizeof(netdir));
		netns_server_stop(netdir, s->net, s->name, &ign);
	}
out_cg:
	cg_destroy(&cg, &ign);
	return r;
}

/* The status the agent printed on the console after the monitor's last
 * "started" line; the VMM's own status when there is none (a guest that
 * crashed, or a killed QEMU). */
int srv_vm_exit_code(struct srv_ctx *c, const char *name, int vmm_code)
{
	char path[PATH_MAX];
	srv_path(c, name, "console.log", path, sizeof(path));
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0)
		return vmm_code;
	off_t off = st.st_size > 65536 ? st.st_size - 65536 : 0;
	char buf[65537];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, off);
	if (n <= 0)
		return vmm_code;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	char *start = NULL, *p = buf;
	while ((p = strstr(p, "] started (pid ")))
		start = p++;
	char *mark = NULL;
	p = start ? start : buf;
	while ((p = strstr(p, AGENT_EXIT_MARK_TEXT)))
		mark = p++;
	if (!mark)
		return vmm_code;
	return atoi(mark + strlen(AGENT_EXIT_MARK_TEXT));
}

/* A VMM a killed monitor left running: the pid in status.json, alive and
 * still in the server's cgroup (not a reused pid). */
bool srv_vmm_left_running(pid_t pid, const struct vs_cgroup *cg)
{
	char path[64], want[PATH_MAX + 2];
	_cleanup_free_ char *cgs = NULL;
	if (pid <= 0 || !rt_pid_alive(pid, 0))
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	snprintf(want, sizeof(want), ":%s\n", cg->path);
	return vs_read_file(path, &cgs, NULL) >= 0 && strstr(cgs, want);
}

/* runs in: the start helper (`vserver __start NAME`), a child of the
 * server's monitor. Boots the VM with its serial console on our stdout (the
 * monitor's pipe into console.log) and reports QEMU's pid and cgroup; with
 * adopt, a VMM left by a killed monitor is reported instead. */
int srv_vm_workload_start(struct srv_ctx *c, const struct conf_server *s, bool adopt,
			  struct srv_started *out, struct vs_err *err)
{
	struct vs_cgroup cg;
	int r = srv_vm_cgroup(s->name, &cg, err);
	if (r < 0)
		return r;
	out->cg_mode = (int)cg.mode;
	snprintf(out->cg_path, sizeof(out->cg_path), "%s", cg.path);
	struct srv_status st;
	srv_status_read(c, s->name, &st);
	if (adopt && srv_vmm_left_running(st.pid, &cg)) {
		out->adopted = true;
		out->pid = st.pid;
		return 0;
	}
	char warn[256] = "";
	r = srv_vm_start(c, s, STDOUT_FILENO, &out->pid, warn, sizeof(warn), err);
	if (warn[0]) {
		/* into the console log, as the monitor writes its own lines */
		char ts[64];
		rt_now_rfc3339(ts, sizeof(ts));
		dprintf(STDOUT_FILENO, "[vserver %.19s] %s\n", ts, warn);
	}
	return r;
}
