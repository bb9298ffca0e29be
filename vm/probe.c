/* vm: can this host's KVM run a guest, and can it run *this* guest?
 *
 * Two questions, because on some hosts they differ. A nested paravirtual KVM
 * (kvm_pvm) accepts every setup ioctl and runs small guests, yet a Linux
 * kernel dies in its ring-0 code (lock cmpxchg16b, xrstor, int3 ...): QEMU
 * aborts on an MSR or the guest hangs. So the tiny guest below only says
 * whether KVM works at all; whether Linux boots is found by booting it (the
 * boot probe), once, and remembered. */
#include "internal.h"

#include <dirent.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>

#define GUEST_MEM 0x4000
#define GUEST_CODE 0x1000
#define PROBE_BYTE 'K'
#define BOOT_PROBE_MS 10000

/* 16-bit real mode at 0x1000:
 *   mov dx, 0x3f8 ; mov al, 'K' ; out dx, al ; hlt */
static const uint8_t tiny_guest[] = {
	0xba, 0xf8, 0x03,
	0xb0, PROBE_BYTE,
	0xee,
	0xf4,
};

struct kvm_fds {
	int kvm, vm, vcpu;
	void *mem;
	struct kvm_run *run;
	size_t run_size;
};

static void kvm_fds_close(struct kvm_fds *k)
{
	if (k->run && k->run != MAP_FAILED)
		munmap(k->run, k->run_size);
	if (k->mem && k->mem != MAP_FAILED)
		munmap(k->mem, GUEST_MEM);
	if (k->vcpu >= 0)
		close(k->vcpu);
	if (k->vm >= 0)
		close(k->vm);
	if (k->kvm >= 0)
		close(k->kvm);
}

static int setup_guest(struct kvm_fds *k, struct vm_kvm_probe *out, struct vs_err *err)
{
	k->kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (k->kvm < 0)
		return vs_fail(err, errno, "vm: open /dev/kvm");
	out->api_version = ioctl(k->kvm, KVM_GET_API_VERSION, 0);
	if (out->api_version < 0)
		return vs_fail(err, errno, "vm: KVM_GET_API_VERSION");
	if (out->api_version != KVM_API_VERSION)
		return vs_failx(err, ENOTSUP, "vm: kvm api version %d, want %d",
				out->api_version, KVM_API_VERSION);
	k->vm = ioctl(k->kvm, KVM_CREATE_VM, 0);
	if (k->vm < 0)
		return vs_fail(err, errno, "vm: KVM_CREATE_VM");
	/* Intel needs a TSS page for real mode; harmless elsewhere */
	(void)ioctl(k->vm, KVM_SET_TSS_ADDR, 0xfffbd000UL);

	k->mem = mmap(NULL, GUEST_MEM, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (k->mem == MAP_FAILED)
		return vs_fail(err, errno, "vm: mmap guest memory");
	memcpy((uint8_t *)k->mem + GUEST_CODE, tiny_guest, sizeof(tiny_guest));
	struct kvm_userspace_memory_region region = {
		.slot = 0,
		.guest_phys_addr = 0,
		.memory_size = GUEST_MEM,
		.userspace_addr = (uintptr_t)k->mem,
	};
	if (ioctl(k->vm, KVM_SET_USER_MEMORY_REGION, &region) < 0)
		return vs_fail(err, errno, "vm: KVM_SET_USER_MEMORY_REGION");

	k->vcpu = ioctl(k->vm, KVM_CREATE_VCPU, 0);
	if (k->vcpu < 0)
		return vs_fail(err, errno, "vm: KVM_CREATE_VCPU");
	int sz = ioctl(k->kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (sz < (int)sizeof(struct kvm_run))
		return vs_fail(err, sz < 0 ? errno : EINVAL, "vm: KVM_GET_VCPU_MMAP_SIZE");
	k->run_size = (size_t)sz;
	k->run = mmap(NULL, k->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, k->vcpu, 0);
	if (k->run == MAP_FAILED)
		return vs_fail(err, errno, "vm: mmap kvm_run");

	struct kvm_sregs sregs;
	if (ioctl(k->vcpu, KVM_GET_SREGS, &sregs) < 0)
		return vs_fail(err, errno, "vm: KVM_GET_SREGS");
	sregs.cs.base = 0;
	sregs.cs.selector = 0;
	if (ioctl(k->vcpu, KVM_SET_SREGS, &sregs) < 0)
		return vs_fail(err, errno, "vm: KVM_SET_SREGS");
	struct kvm_regs regs = { .rip = GUEST_CODE, .rflags = 0x2 };
	if (ioctl(k->vcpu, KVM_SET_REGS, &regs) < 0)
		return vs_fail(err, errno, "vm: KVM_SET_REGS");
	return 0;
}

int vm_probe_kvm(struct vm_kvm_probe *out, struct vs_err *err)
{
	struct vm_kvm_probe dummy;
	struct kvm_fds k = { .kvm = -1, .vm = -1, .vcpu = -1 };
	int r;

	if (!out)
		out = &dummy;
	memset(out, 0, sizeof(*out));
	out->out_byte = -1;
	r = setup_guest(&k, out, err);
	if (r < 0)
		goto out;
	/* the guest makes two exits (the out, the hlt); a few spare for
	 * hosts that exit for other reasons */
	for (;;) {
		if (++out->exits > 16) {
			r = vs_failx(err, EIO, "vm: tiny kvm guest did not halt after %u exits",
				     out->exits - 1);
			goto out;
		}
		if (ioctl(k.vcpu, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			r = vs_fail(err, errno, "vm: KVM_RUN");
			goto out;
		}
		struct kvm_run *run = k.run;
		if (run->exit_reason == KVM_EXIT_HLT)
			break;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == 0x3f8 &&
		    run->io.direction == KVM_EXIT_IO_OUT && run->io.size == 1) {
			out->out_byte = *((uint8_t *)run + run->io.data_offset);
			continue;
		}
		if (run->exit_reason == KVM_EXIT_INTR)
			continue;
		r = vs_failx(err, EIO, "vm: tiny kvm guest: unexpected exit reason %u",
			     run->exit_reason);
		goto out;
	}
	if (out->out_byte != PROBE_BYTE)
		r = vs_failx(err, EIO, "vm: tiny kvm guest halted without writing '%c' to 0x3f8",
			     PROBE_BYTE);
	else
		r = 0;
out:
	kvm_fds_close(&k);
	return r;
}

unsigned vm_host_tsc_khz(void)
{
	_cleanup_free_ char *info = NULL;
	if (vs_read_file("/proc/cpuinfo", &info, NULL) < 0)
		return 0;
	const char *p = strstr(info, "\ncpu MHz");
	if (!p)
		return 0;
	p = strchr(p, ':');
	if (!p)
		return 0;
	double mhz = strtod(p + 1, NULL);
	return mhz > 0 && mhz < 100000 ? (unsigned)(mhz * 1000) : 0;
}

/* the newest /boot/vmlinuz-* by modification time, or NULL */
static char *default_kernel(void)
{
	DIR *d = opendir("/boot");
	struct dirent *de;
	char *best = NULL;
	time_t best_t = 0;
	if (!d)
		return NULL;
	while ((de = readdir(d))) {
		struct stat st;
		if (strncmp(de->d_name, "vmlinuz-", 8))
			continue;
		_cleanup_free_ char *p = vs_xasprintf("/boot/%s", de->d_name);
		if (stat(p, &st) < 0 || !S_ISREG(st.st_mode) || (best && st.st_mtime <= best_t))
			continue;
		free(best);
		best = TAKE_PTR(p);
		best_t = st.st_mtime;
	}
	closedir(d);
	return best;
}

/* The cache key: what the boot probe's answer depends on. */
static char *probe_key(const char *kernel)
{
	struct utsname u;
	struct stat st = { 0 };
	if (uname(&u) < 0)
		memset(&u, 0, sizeof(u));
	(void)stat(kernel, &st);
	return vs_xasprintf("host=%s kernel=%s size=%lld mtime=%lld qemu=%s", u.release,
			    kernel, (long long)st.st_size, (long long)st.st_mtime,
			    VM_DEFAULT_QEMU);
}

/* 1 kvm works, 0 it does not, -1 no cached answer */
static int cache_lookup(const char *cache_path, const char *key)
{
	_cleanup_free_ char *data = NULL;
	if (!cache_path || vs_read_file(cache_path, &data, NULL) < 0)
		return -1;
	size_t kl = strlen(key);
	if (strncmp(data, key, kl) || data[kl] != '\t')
		return -1;
	if (!strncmp(data + kl + 1, "kvm\n", 4))
		return 1;
	if (!strncmp(data + kl + 1, "tcg\n", 4))
		return 0;
	return -1;
}

static void cache_store(const char *cache_path, const char *key, bool kvm)
{
	if (!cache_path)
		return;
	_cleanup_free_ char *line = vs_xasprintf("%s\t%s\n", key, kvm ? "kvm" : "tcg");
	_cleanup_free_ char *dir = vs_xstrdup(cache_path);
	char *slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		(void)vs_mkdir_p(dir, 0755);
	}
	(void)vs_write_file_atomic(cache_path, line, strlen(line), 0644);
}

/* Boots kernel under KVM with no initrd and no root=: a kernel that works
 * ends in "VFS: Unable to mount root fs" within a second or two, and with
 * panic=-1 and -no-reboot QEMU then exits. Anything else (QEMU aborting on
 * an MSR, a hang, a guest crash) means KVM cannot run this guest. */
static bool boot_probe(const char *kernel)
{
	char dir[] = "/tmp/vserver-kvmprobe.XXXXXX";
	bool ok = false;
	if (!mkdtemp(dir))
		return false;
	_cleanup_free_ char *console = vs_xasprintf("%s/console", dir);
	struct vm_spec s = {
		.kernel = kernel,
		.append = "console=ttyS0 panic=-1 reboot=t",
		.accel = VM_ACCEL_KVM,
		.memory_mb = 256,
		.console_log = console,
	};
	struct vs_err e = { 0 };
	_cleanup_strv_ char **argv = NULL;
	pid_t pid = -1;
	int status;
	if (vm_build_cmdline(&s, &argv, &e) < 0 || vm_spawn(argv, NULL, NULL, &pid, &e) < 0)
		goto out;
	if (vm_wait_exit(pid, BOOT_PROBE_MS, &status) < 0) {
		kill(pid, SIGKILL);
		(void)vm_wait_exit(pid, 2000, &status);
		goto out;
	}
	_cleanup_free_ char *log = NULL;
	if (vs_read_file(console, &log, NULL) >= 0)
		ok = strstr(log, "Unable to mount root fs") || strstr(log, "No working init found");
out:
	unlink(console);
	rmdir(dir);
	return ok;
}

int vm_choose_accel(const char *kernel, const char *cache_path, enum vm_accel *out,
		    char *warn, size_t warn_len, struct vs_err *err)
{
	const char *env = getenv("VS_VM_ACCEL");
	struct vs_err e = { 0 };

	if (warn && warn_len)
		warn[0] = '\0';
	if (env && *env) {
		if (!strcmp(env, "kvm")) {
			*out = VM_ACCEL_KVM;
		} else if (!strcmp(env, "tcg")) {
			*out = VM_ACCEL_TCG;
			if (warn)
				snprintf(warn, warn_len, "vm: VS_VM_ACCEL=tcg: using software emulation (slow)");
		} else {
			return vs_failx(err, EINVAL, "vm: VS_VM_ACCEL=%s: expected kvm or tcg", env);
		}
		return 0;
	}
	if (vm_probe_kvm(NULL, &e) < 0) {
		*out = VM_ACCEL_TCG;
		if (warn)
			snprintf(warn, warn_len, "vm: no usable kvm (%s): using software emulation (slow)",
				 e.msg);
		return 0;
	}
	_cleanup_free_ char *deflt = NULL;
	if (!kernel)
		kernel = deflt = default_kernel();
	bool kvm = false;
	if (kernel) {
		_cleanup_free_ char *key = probe_key(kernel);
		int c = cache_lookup(cache_path, key);
		if (c >= 0) {
			kvm = c;
		} else {
			kvm = boot_probe(kernel);
			cache_store(cache_path, key, kvm);
		}
	}
	*out = kvm ? VM_ACCEL_KVM : VM_ACCEL_TCG;
	if (!kvm && warn)
		snprintf(warn, warn_len, "vm: KVM cannot run this guest here: using software emulation (slow)");
	return 0;
}
