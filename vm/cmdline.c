/* vm: a server description -> QEMU's command line. Pure, except
 * vm_qemu_has_sandbox which asks the binary.
 *
 * With a kernel: microvm, virtio-mmio devices, no firmware, no PCI, no ACPI
 * tables beyond the GED power button: the smallest machine QEMU has.
 * Without: q35 with SeaBIOS (built in) or the OVMF image given, virtio-pci
 * devices, the disk as the boot device. Both: -nodefaults -no-user-config
 * -nographic, the console to a file, QMP on a unix socket that never blocks
 * the start (wait=off). */
#include "internal.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

/* QEMU's seccomp filter: no obsolete syscalls, no setuid/setgid, no
 * fork/exec (so no helper scripts: the tap is made by us), no
 * sched_setaffinity and friends */
#define SANDBOX_OPTS "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"

/* QEMU's option syntax separates with commas; a literal comma in a value is
 * doubled. */
static char *qemu_escape(const char *s)
{
	size_t n = strlen(s), extra = 0;
	for (size_t i = 0; i < n; i++)
		extra += s[i] == ',';
	char *o = vs_xmalloc(n + extra + 1), *p = o;
	for (size_t i = 0; i < n; i++) {
		*p++ = s[i];
		if (s[i] == ',')
			*p++ = ',';
	}
	*p = '\0';
	return o;
}

static void push2(char ***v, const char *opt, const char *val)
{
	vs_strv_push(v, opt);
	vs_strv_push(v, val);
}

static void pushf(char ***v, const char *opt, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void pushf(char ***v, const char *opt, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	push2(v, opt, s);
	free(s);
}

static bool valid_mac(const char *mac)
{
	unsigned b[6];
	char tail;
	return strlen(mac) == 17 &&
	       sscanf(mac, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		      &b[5], &tail) == 6 &&
	       !(b[0] & 1);  /* not multicast */
}

static int check_spec(const struct vm_spec *s, struct vs_err *err)
{
	if (!s->kernel && !s->disk)
		return vs_failx(err, EINVAL, "vm: neither a kernel nor a disk to boot");
	if (s->initrd && !s->kernel)
		return vs_failx(err, EINVAL, "vm: an initrd needs a kernel");
	if (s->append && !s->kernel)
		return vs_failx(err, EINVAL, "vm: a kernel command line needs a kernel");
	if (s->firmware && s->kernel)
		return vs_failx(err, EINVAL, "vm: firmware is for disk-booted guests, not with a kernel");
	if (s->tap_fd > 0 && s->tap_ifname)
		return vs_failx(err, EINVAL, "vm: a tap is given by name or by fd, not both");
	if (s->mac && !s->tap_ifname && s->tap_fd <= 0)
		return vs_failx(err, EINVAL, "vm: a mac address needs a tap device");
	if (s->mac && !valid_mac(s->mac))
		return vs_failx(err, EINVAL, "vm: mac address %s: expected a unicast xx:xx:xx:xx:xx:xx",
				s->mac);
	if (s->tap_ifname && (!*s->tap_ifname || strlen(s->tap_ifname) >= 16 ||
			      strpbrk(s->tap_ifname, ",/ ")))
		return vs_failx(err, EINVAL, "vm: tap device name \"%s\" is not valid", s->tap_ifname);
	if (s->vcpus > 255)
		return vs_failx(err, EINVAL, "vm: %u vcpus: at most 255", s->vcpus);
	if (s->memory_mb && s->memory_mb < 16)
		return vs_failx(err, EINVAL, "vm: %u MiB of memory: at least 16", s->memory_mb);
	if (s->disk_format != VM_DISK_RAW && s->disk_format != VM_DISK_QCOW2)
		return vs_failx(err, EINVAL, "vm: unknown disk format %d", (int)s->disk_format);
	return 0;
}

int vm_build_cmdline(const struct vm_spec *s, char ***argv, struct vs_err *err)
{
	_cleanup_strv_ char **v = NULL;
	bool micro = s->kernel != NULL;
	const char *bus = micro ? "device" : "pci";
	int r = check_spec(s, err);
	if (r < 0)
		return r;

	vs_strv_push(&v, s->qemu ? s->qemu : VM_DEFAULT_QEMU);
	if (s->name) {
		_cleanup_free_ char *n = qemu_escape(s->name);
		pushf(&v, "-name", "%s,debug-threads=on", n);
	}
	/* microvm: no legacy PIC/PIT/RTC needs beyond the serial port; acpi on
	 * gives the GED device that carries the ACPI power button */
	push2(&v, "-M", micro ? "microvm,acpi=on" : "q35");
	if (s->accel == VM_ACCEL_KVM) {
		push2(&v, "-accel", "kvm");
		push2(&v, "-cpu", "host");
	} else {
		push2(&v, "-accel", "tcg,thread=multi");
		push2(&v, "-cpu", "max");
	}
	pushf(&v, "-m", "%u", s->memory_mb ? s->memory_mb : 256);
	pushf(&v, "-smp", "%u", s->vcpus ? s->vcpus : 1);
	vs_strv_push(&v, "-nodefaults");
	vs_strv_push(&v, "-no-user-config");
	vs_strv_push(&v, "-nographic");
	/* a guest reboot ends the process: the server's monitor decides */
	vs_strv_push(&v, "-no-reboot");
	if (s->sandbox)
		push2(&v, "-sandbox", SANDBOX_OPTS);
	if (s->start_paused)
		vs_strv_push(&v, "-S");
	if (s->incoming)
		pushf(&v, "-incoming", "unix:%s", s->incoming);

	if (s->console_fd > 0 && s->console_stdin) {
		/* both ways: QEMU's stdin and stdout are the pipes (vm_spawn_fd) */
		push2(&v, "-chardev", "stdio,id=con0,signal=off");
		push2(&v, "-serial", "chardev:con0");
	} else if (s->console_fd > 0) {
		/* QEMU opens its own copy of the fd we passed */
		pushf(&v, "-chardev", "file,id=con0,path=/dev/fd/%d,append=on", VM_CONSOLE_FD);
		push2(&v, "-serial", "chardev:con0");
	} else if (s->console_log) {
		_cleanup_free_ char *p = qemu_escape(s->console_log);
		pushf(&v, "-chardev", "file,id=con0,path=%s,append=on", p);
		push2(&v, "-serial", "chardev:con0");
	}
	if (s->qmp_socket) {
		_cleanup_free_ char *p = qemu_escape(s->qmp_socket);
		pushf(&v, "-qmp", "unix:%s,server=on,wait=off", p);
	}

	if (micro) {
		push2(&v, "-kernel", s->kernel);
		if (s->initrd)
			push2(&v, "-initrd", s->initrd);
		_cleanup_free_ char *app = NULL;
		const char *base = s->append ? s->append : "";
		if (s->accel == VM_ACCEL_TCG && s->tsc_khz)
			app = vs_xasprintf("%s%stsc_early_khz=%u tsc=reliable", base,
					   *base ? " " : "", s->tsc_khz);
		else
			app = vs_xstrdup(base);
		if (*app)
			push2(&v, "-append", app);
	} else if (s->firmware) {
		push2(&v, "-bios", s->firmware);
	}

	if (s->disk) {
		_cleanup_free_ char *p = qemu_escape(s->disk);
		pushf(&v, "-drive", "id=disk0,if=none,file=%s,format=%s,cache=writeback,discard=unmap",
		      p, s->disk_format == VM_DISK_QCOW2 ? "qcow2" : "raw");
		if (micro)
			pushf(&v, "-device", "virtio-blk-%s,drive=disk0", bus);
		else
			pushf(&v, "-device", "virtio-blk-%s,drive=disk0,bootindex=0", bus);
	}
	if (s->agent_socket) {
		_cleanup_free_ char *p = qemu_escape(s->agent_socket);
		pushf(&v, "-chardev", "socket,id=agent0,path=%s,server=on,wait=off", p);
		pushf(&v, "-device", "virtio-serial-%s,id=vser0", bus);
		push2(&v, "-device", "virtserialport,bus=vser0.0,chardev=agent0,name=vserver.agent");
	}
	if (s->balloon)
		pushf(&v, "-device", "virtio-balloon-%s", bus);
	if (s->tap_ifname || s->tap_fd > 0) {
		if (s->tap_fd > 0)
			pushf(&v, "-netdev", "tap,id=net0,fd=%d", VM_TAP_FD);
		else
			pushf(&v, "-netdev", "tap,id=net0,ifname=%s,script=no,downscript=no",
			      s->tap_ifname);
		if (s->mac)
			pushf(&v, "-device", "virtio-net-%s,netdev=net0,mac=%s", bus, s->mac);
		else
			pushf(&v, "-device", "virtio-net-%s,netdev=net0", bus);
	}
	*argv = TAKE_PTR(v);
	return 0;
}

bool vm_qemu_has_sandbox(const char *qemu)
{
	char *argv[] = {
		(char *)(qemu ? qemu : VM_DEFAULT_QEMU), "-sandbox", (char *)SANDBOX_OPTS,
		"-version", NULL,
	};
	pid_t pid;
	int status;
	struct vs_err e = { 0 };
	/* QEMU checks every option before it acts on -version: a build without
	 * seccomp has no "sandbox" option group and exits 1. */
	if (vm_spawn(argv, NULL, NULL, &pid, &e) < 0)
		return false;
	if (vm_wait_exit(pid, 5000, &status) < 0) {
		kill(pid, SIGKILL);
		(void)vm_wait_exit(pid, 1000, &status);
		return false;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
