/* Unit tests of vm/: the QEMU command line for both machine types (pure),
 * spec errors, the QMP client against a scripted fake QEMU, the ext4 disk
 * from a tree (runs mke2fs), and the KVM probe for real: a tiny real-mode
 * guest on /dev/kvm must write its byte to 0x3f8 and halt. */
#include "tap.h"
#include "../../vm/vm.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

/* index of the first argv element equal to s after position from, or -1 */
static int find_arg(char **v, int from, const char *s)
{
	for (int i = from; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return i;
	return -1;
}

/* the value after option opt whose value starts with prefix (NULL if none) */
static const char *opt_val(char **v, const char *opt, const char *prefix)
{
	for (int i = 0; v && v[i] && v[i + 1]; i++)
		if (!strcmp(v[i], opt) && !strncmp(v[i + 1], prefix, strlen(prefix)))
			return v[i + 1];
	return NULL;
}

static void test_microvm(void)
{
	struct vs_err err = { 0 };
	char **v = NULL;
	struct vm_spec s = {
		.name = "web1",
		.kernel = "/boot/vmlinuz-test",
		.initrd = "/tmp/initrd.cpio",
		.append = "console=ttyS0 quiet",
		.disk = "/var/lib/vserver/servers/web1/disk.img",
		.disk_format = VM_DISK_RAW,
		.vcpus = 2,
		.memory_mb = 512,
		.accel = VM_ACCEL_TCG,
		.console_log = "/var/lib/vserver/servers/web1/console.log",
		.qmp_socket = "/run/vserver/web1/qmp.sock",
		.tap_ifname = "vstap0",
		.mac = "52:54:00:12:34:56",
		.sandbox = true,
		.tsc_khz = 2596000,
	};
	is_int(vm_build_cmdline(&s, &v, &err), 0, "microvm: builds");
	is_str(v[0], "qemu-system-x86_64", "microvm: default qemu binary");
	is_str(opt_val(v, "-M", ""), "microvm,acpi=on", "microvm: machine");
	is_str(opt_val(v, "-accel", ""), "tcg,thread=multi", "microvm: tcg accel");
	is_str(opt_val(v, "-cpu", ""), "max", "microvm: cpu max under tcg");
	is_str(opt_val(v, "-m", ""), "512", "microvm: memory");
	is_str(opt_val(v, "-smp", ""), "2", "microvm: vcpus");
	is_str(opt_val(v, "-name", ""), "web1,debug-threads=on", "microvm: name");
	ok(find_arg(v, 0, "-nodefaults") > 0, "microvm: -nodefaults");
	ok(find_arg(v, 0, "-no-user-config") > 0, "microvm: -no-user-config");
	ok(find_arg(v, 0, "-nographic") > 0, "microvm: -nographic");
	ok(find_arg(v, 0, "-no-reboot") > 0, "microvm: -no-reboot");
	is_str(opt_val(v, "-sandbox", ""),
	       "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny",
	       "microvm: seccomp sandbox");
	is_str(opt_val(v, "-kernel", ""), "/boot/vmlinuz-test", "microvm: kernel");
	is_str(opt_val(v, "-initrd", ""), "/tmp/initrd.cpio", "microvm: initrd");
	is_str(opt_val(v, "-append", ""),
	       "console=ttyS0 quiet tsc_early_khz=2596000 tsc=reliable",
	       "microvm: append gets the tsc rate under tcg");
	is_str(opt_val(v, "-drive", ""),
	       "id=disk0,if=none,file=/var/lib/vserver/servers/web1/disk.img,format=raw,"
	       "cache=writeback,discard=unmap", "microvm: drive");
	ok(opt_val(v, "-device", "virtio-blk-device,drive=disk0") != NULL,
	   "microvm: virtio-blk on virtio-mmio");
	is_str(opt_val(v, "-netdev", ""), "tap,id=net0,ifname=vstap0,script=no,downscript=no",
	       "microvm: tap netdev");
	ok(opt_val(v, "-device", "virtio-net-device,netdev=net0,mac=52:54:00:12:34:56") != NULL,
	   "microvm: virtio-net on virtio-mmio with the mac");
	is_str(opt_val(v, "-chardev", ""),
	       "file,id=con0,path=/var/lib/vserver/servers/web1/console.log,append=on",
	       "microvm: console chardev to the log");
	is_str(opt_val(v, "-serial", ""), "chardev:con0", "microvm: serial on the chardev");
	is_str(opt_val(v, "-qmp", ""), "unix:/run/vserver/web1/qmp.sock,server=on,wait=off",
	       "microvm: qmp socket");
	ok(find_arg(v, 0, "-bios") < 0, "microvm: no firmware");
	ok(!opt_val(v, "-device", "virtio-blk-pci"), "microvm: no pci devices");
	vs_strv_free(v);

	/* kvm: host cpu, the tsc rate is not needed */
	s.accel = VM_ACCEL_KVM;
	s.tap_ifname = NULL;
	s.mac = NULL;
	s.initrd = NULL;
	s.sandbox = false;
	is_int(vm_build_cmdline(&s, &v, &err), 0, "microvm kvm: builds");
	is_str(opt_val(v, "-accel", ""), "kvm", "microvm kvm: accel");
	is_str(opt_val(v, "-cpu", ""), "host", "microvm kvm: cpu host");
	is_str(opt_val(v, "-append", ""), "console=ttyS0 quiet", "microvm kvm: append as given");
	ok(find_arg(v, 0, "-initrd") < 0, "microvm kvm: no initrd");
	ok(find_arg(v, 0, "-netdev") < 0, "microvm kvm: no network without a tap");
	ok(find_arg(v, 0, "-sandbox") < 0, "microvm kvm: no sandbox when not asked");
	vs_strv_free(v);

	/* defaults and QEMU's comma escaping */
	struct vm_spec d = { .kernel = "/k", .qmp_socket = "/run/a,b.sock", .qemu = "/opt/q" };
	is_int(vm_build_cmdline(&d, &v, &err), 0, "minimal: builds");
	is_str(v[0], "/opt/q", "minimal: qemu binary as given");
	is_str(opt_val(v, "-m", ""), "256", "minimal: 256 MiB default");
	is_str(opt_val(v, "-smp", ""), "1", "minimal: 1 vcpu default");
	is_str(opt_val(v, "-qmp", ""), "unix:/run/a,,b.sock,server=on,wait=off",
	       "minimal: a comma in a path is doubled");
	ok(find_arg(v, 0, "-append") < 0 && find_arg(v, 0, "-drive") < 0 &&
	   find_arg(v, 0, "-serial") < 0, "minimal: no append, disk or console");
	vs_strv_free(v);
}

static void test_q35(void)
{
	struct vs_err err = { 0 };
	char **v = NULL;
	struct vm_spec s = {
		.disk = "/images/debian.qcow2",
		.disk_format = VM_DISK_QCOW2,
		.memory_mb = 1024,
		.accel = VM_ACCEL_TCG,
		.console_log = "/tmp/c.log",
		.qmp_socket = "/tmp/q.sock",
		.tap_ifname = "tap1",
		.tsc_khz = 2596000,
	};
	is_int(vm_build_cmdline(&s, &v, &err), 0, "q35: builds");
	is_str(opt_val(v, "-M", ""), "q35", "q35: machine");
	ok(find_arg(v, 0, "-kernel") < 0 && find_arg(v, 0, "-append") < 0,
	   "q35: no kernel, no append (no tsc argument either)");
	ok(find_arg(v, 0, "-bios") < 0, "q35: seabios (built in) without firmware");
	is_str(opt_val(v, "-drive", ""),
	       "id=disk0,if=none,file=/images/debian.qcow2,format=qcow2,cache=writeback,discard=unmap",
	       "q35: qcow2 drive");
	ok(opt_val(v, "-device", "virtio-blk-pci,drive=disk0,bootindex=0") != NULL,
	   "q35: virtio-blk-pci is the boot device");
	ok(opt_val(v, "-device", "virtio-net-pci,netdev=net0") != NULL, "q35: virtio-net-pci");
	is_str(opt_val(v, "-serial", ""), "chardev:con0", "q35: serial console to the log");
	vs_strv_free(v);

	s.firmware = "/usr/share/ovmf/OVMF.fd";
	s.disk_format = VM_DISK_RAW;
	is_int(vm_build_cmdline(&s, &v, &err), 0, "q35 ovmf: builds");
	is_str(opt_val(v, "-bios", ""), "/usr/share/ovmf/OVMF.fd", "q35 ovmf: firmware");
	ok(opt_val(v, "-drive", "id=disk0,if=none,file=/images/debian.qcow2,format=raw,") != NULL,
	   "q35 ovmf: raw drive");
	vs_strv_free(v);
}

static void test_spec_errors(void)
{
	struct vs_err err = { 0 };
	char **v = NULL;
	struct vm_spec s = { .qmp_socket = "/q" };
	is_int(vm_build_cmdline(&s, &v, &err), -EINVAL, "nothing to boot refused");
	is_str(err.msg, "vm: neither a kernel nor a disk to boot", "nothing to boot message");
	ok(v == NULL, "no argv on error");
	s = (struct vm_spec){ .disk = "/d", .initrd = "/i" };
	is_int(vm_build_cmdline(&s, &v, &err), -EINVAL, "initrd without kernel refused");
	s = (struct vm_spec){ .kernel = "/k", .firmware = "/f" };
	is_int(vm_build_cmdline(&s, &v, &err), -EINVAL, "firmware with a kernel refused");
	s = (struct vm_spec){ .kernel = "/k", .tap_ifname = "t0", .mac = "01:00:00:00:00:01" };
	is_int(vm_build_cmdline(&s, &v, &err), -EINVAL, "multicast mac refused");
	is_str(err.msg, "vm: mac address 01:00:00:00:00:01: expected a unicast xx:xx:xx:xx:xx:xx",
	       "bad mac message");
	s = (struct vm_spec){ .kernel = "/k", .mac = "52:54:00:00:00:01" };
	is_int(vm_build_cmdline(&s, &v, &err), -EINVAL, "mac without tap refused");
	s = (struct vm_spec){ .kernel = "/k", .tap_ifname = "a,b" };
	is_int(vm_build_cmdline(&s, &v, &err), -EINVAL, "tap name with a comma refused");
	s = (struct vm_spec){ .kernel = "/k", .memory_mb = 8 };
	is_int(vm_build_cmdline(&s, &v, &err), -EINVAL, "8 MiB refused");
	struct vm_spec nq = { .kernel = "/k" };
	pid_t pid;
	is_int(vm_start(&nq, NULL, &pid, 0, &err), -EINVAL, "vm_start without a qmp socket refused");
}

/* A scripted fake QEMU on a unix socket: greeting, then for each command an
 * event line and the reply; "bogus" gets a QMP error. */
static pid_t fake_qmp(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	int ls = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	unlink(path);
	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 4) < 0)
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(ls);
		return pid;
	}
	for (;;) {
		int c = accept(ls, NULL, NULL);
		if (c < 0)
			_exit(1);
		FILE *f = fdopen(c, "r+");
		char line[512];
		fputs("{\"QMP\": {\"version\": {}, \"capabilities\": [\"oob\"]}}\r\n", f);
		fflush(f);
		while (fgets(line, sizeof(line), f)) {
			fputs("{\"event\": \"RTC_CHANGE\", \"data\": {\"offset\": 0}}\r\n", f);
			if (strstr(line, "qmp_capabilities"))
				fputs("{\"return\": {}}\r\n", f);
			else if (strstr(line, "query-status"))
				fputs("{\"return\": {\"status\": \"paused\", \"singlestep\": false, "
				      "\"running\": false}}\r\n", f);
			else
				fputs("{\"error\": {\"class\": \"CommandNotFound\", "
				      "\"desc\": \"The command bogus has not been found\"}}\r\n", f);
			fflush(f);
		}
		fclose(f);
	}
}

static void test_qmp(void)
{
	struct vs_err err = { 0 };
	char path[] = "/tmp/vs-test-vm-qmp.XXXXXX";
	if (!mkdtemp(path)) {
		skip(5, "mkdtemp failed");
		return;
	}
	char sock[128];
	snprintf(sock, sizeof(sock), "%s/qmp.sock", path);
	pid_t srv = fake_qmp(sock);
	if (srv < 0) {
		skip(5, "cannot make a unix socket");
		rmdir(path);
		return;
	}
	char *reply = NULL;
	is_int(vm_qmp(sock, "{\"execute\":\"query-status\"}", &reply, &err), 0,
	       "qmp: command answered through events");
	ok(reply && strstr(reply, "\"paused\""), "qmp: the reply line is returned");
	free(reply);
	char st[32] = "";
	is_int(vm_status(sock, st, sizeof(st), &err), 0, "qmp: vm_status");
	is_str(st, "paused", "qmp: status parsed");
	is_int(vm_qmp(sock, "{\"execute\":\"bogus\"}", NULL, &err), -EIO, "qmp: error reply");
	is_str(err.msg, "vm: qmp: The command bogus has not been found", "qmp: error desc");
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	unlink(sock);
	is_int(vm_qmp(sock, "{\"execute\":\"stop\"}", NULL, &err), -ENOENT, "qmp: no socket");
	ok(!strncmp(err.msg, "vm: qmp connect ", 16), "qmp: connect error names the socket");
	rmdir(path);
}

static void test_disk(void)
{
	struct vs_err err = { 0 };
	char dir[] = "/tmp/vs-test-vm-disk.XXXXXX";
	if (access("/sbin/mke2fs", X_OK) < 0 && access("/usr/sbin/mke2fs", X_OK) < 0) {
		skip(7, "mke2fs is not installed (e2fsprogs)");
		return;
	}
	if (!mkdtemp(dir)) {
		skip(7, "mkdtemp failed");
		return;
	}
	char root[160], img[160], cmd[512];
	snprintf(root, sizeof(root), "%s/root", dir);
	snprintf(img, sizeof(img), "%s/disk.img", dir);
	mkdir(root, 0755);
	snprintf(cmd, sizeof(cmd), "%s/hello", root);
	vs_write_file_atomic(cmd, "hi\n", 3, 0644);
	is_int(vm_disk_from_rootfs(root, 8 << 20, img, &err), 0, "disk: ext4 from a tree");
	struct stat st;
	ok(stat(img, &st) == 0 && st.st_size == 8 << 20, "disk: the size asked");
	unsigned char magic[2] = { 0 };
	int fd = open(img, O_RDONLY | O_CLOEXEC);
	ok(fd >= 0 && pread(fd, magic, 2, 1024 + 56) == 2 && magic[0] == 0x53 && magic[1] == 0xef,
	   "disk: ext superblock magic");
	if (fd >= 0)
		close(fd);
	/* the file is in it: debugfs reads it back without mounting */
	snprintf(cmd, sizeof(cmd), "debugfs -R 'cat /hello' %s 2>/dev/null | grep -qx hi", img);
	ok(system(cmd) == 0, "disk: the tree's file is in the image");

	is_int(vm_disk_from_rootfs("/nonexistent-vs", 8 << 20, img, &err), -ENOENT,
	       "disk: missing rootfs");
	/* 6 MiB of random data (zeros would be sparse) does not fit in 4 MiB: mke2fs fails, its reason comes back */
	snprintf(cmd, sizeof(cmd), "head -c 6291456 /dev/urandom >%s/big", root);
	if (system(cmd) != 0)
		printf("# could not write %s/big\n", root);
	is_int(vm_disk_from_rootfs(root, 4 << 20, img, &err), -EIO, "disk: mke2fs failure");
	ok(!strncmp(err.msg, "vm: mke2fs -d ", 14) && access(img, F_OK) < 0,
	   "disk: error names mke2fs, no image left: %s", err.msg);
	vs_rm_rf(dir);
}

static void test_kvm_probe(void)
{
	struct vs_err err = { 0 };
	struct vm_kvm_probe p;
	if (access("/dev/kvm", R_OK | W_OK) < 0) {
		skip(3, "no usable /dev/kvm on this machine");
		return;
	}
	int r = vm_probe_kvm(&p, &err);
	is_int(r, 0, "kvm: tiny real-mode guest ran%s%s", r ? ": " : "", r ? err.msg : "");
	is_int(p.api_version, 12, "kvm: api version 12");
	is_int(p.out_byte, 'K', "kvm: the guest's byte arrived on port 0x3f8 (%u exits)", p.exits);
}

static void test_accel_env(void)
{
	struct vs_err err = { 0 };
	enum vm_accel a = VM_ACCEL_KVM;
	char warn[256];
	setenv("VS_VM_ACCEL", "tcg", 1);
	is_int(vm_choose_accel("/k", NULL, &a, warn, sizeof(warn), &err), 0, "accel: env tcg");
	ok(a == VM_ACCEL_TCG && strstr(warn, "software emulation"), "accel: tcg with a warning");
	setenv("VS_VM_ACCEL", "kvm", 1);
	is_int(vm_choose_accel("/k", NULL, &a, warn, sizeof(warn), &err), 0, "accel: env kvm");
	ok(a == VM_ACCEL_KVM && warn[0] == '\0', "accel: kvm, no warning");
	setenv("VS_VM_ACCEL", "fast", 1);
	is_int(vm_choose_accel("/k", NULL, &a, warn, sizeof(warn), &err), -EINVAL, "accel: bad env");
	is_str(err.msg, "vm: VS_VM_ACCEL=fast: expected kvm or tcg", "accel: bad env message");
	unsetenv("VS_VM_ACCEL");
	ok(vm_host_tsc_khz() > 0, "host tsc rate known: %u kHz", vm_host_tsc_khz());
}

int main(void)
{
	test_microvm();
	test_q35();
	test_spec_errors();
	test_qmp();
	test_disk();
	test_kvm_probe();
	test_accel_env();
	return tap_done();
}
