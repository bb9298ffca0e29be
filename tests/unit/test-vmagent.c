/* Unit tests of the VM guest's pieces on the host side of vm/: the command
 * line's agent port, balloon, tap fd and -S; the initramfs (written for
 * real, read back with libarchive: the agent as /init, /dev/console, the
 * modules in dependency order, a .ko.xz decompressed); the agent protocol's
 * client against a fake guest on a unix socket (stdout, stderr, stdin, the
 * exit status, a guest that hangs up). */
#include "tap.h"
#include "../../vm/vm.h"
#include "../../vm/agent/proto.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>

static const char *opt_val(char **v, const char *opt, const char *prefix)
{
	for (int i = 0; v && v[i] && v[i + 1]; i++)
		if (!strcmp(v[i], opt) && !strncmp(v[i + 1], prefix, strlen(prefix)))
			return v[i + 1];
	return NULL;
}

static bool has(char **v, const char *s)
{
	for (int i = 0; v && v[i]; i++)
		if (!strcmp(v[i], s))
			return true;
	return false;
}

static void test_cmdline(void)
{
	struct vs_err err = { 0 };
	char **v = NULL;
	struct vm_spec s = { .kernel = "/k", .qmp_socket = "/q", .agent_socket = "/run/a,b.sock",
			     .balloon = true, .tap_fd = 7, .mac = "52:54:00:00:00:01",
			     .start_paused = true };
	is_int(vm_build_cmdline(&s, &v, &err), 0, "cmdline: builds");
	is_str(opt_val(v, "-chardev", "socket,"), "socket,id=agent0,path=/run/a,,b.sock,server=on,wait=off",
	       "cmdline: the agent's socket, comma doubled");
	is_str(opt_val(v, "-device", "virtio-serial"), "virtio-serial-device,id=vser0",
	       "cmdline: virtio-serial on mmio");
	is_str(opt_val(v, "-device", "virtserialport"),
	       "virtserialport,bus=vser0.0,chardev=agent0,name=vserver.agent", "cmdline: the port's name");
	is_str(opt_val(v, "-device", "virtio-balloon"), "virtio-balloon-device", "cmdline: balloon");
	is_str(opt_val(v, "-netdev", "tap"), "tap,id=net0,fd=100", "cmdline: the tap by fd");
	is_str(opt_val(v, "-device", "virtio-net"), "virtio-net-device,netdev=net0,mac=52:54:00:00:00:01",
	       "cmdline: nic with the mac");
	ok(has(v, "-S"), "cmdline: -S when paused at start");
	vs_strv_free(v);
	v = NULL;
	s.console_fd = 5;
	s.console_log = "/never/used.log";
	s.incoming = "/run/m.sock";
	is_int(vm_build_cmdline(&s, &v, &err), 0, "cmdline: console by fd builds");
	is_str(opt_val(v, "-chardev", "file,"), "file,id=con0,path=/dev/fd/101,append=on",
	       "cmdline: the console is QEMU's fd 101, not the log file");
	is_str(opt_val(v, "-incoming", ""), "unix:/run/m.sock", "cmdline: -incoming for a resume");
	vs_strv_free(v);
	v = NULL;
	s.console_stdin = true;
	is_int(vm_build_cmdline(&s, &v, &err), 0, "cmdline: console both ways builds");
	is_str(opt_val(v, "-chardev", "stdio"), "stdio,id=con0,signal=off",
	       "cmdline: a console that reads input is the stdio chardev");
	ok(!opt_val(v, "-chardev", "file,"), "cmdline: no file chardev then");
	is_str(opt_val(v, "-serial", ""), "chardev:con0", "cmdline: the serial port on it");
	s.console_stdin = false;
	vs_strv_free(v);
	v = NULL;
	s.tap_ifname = "vs-x";
	is_int(vm_build_cmdline(&s, &v, &err), -EINVAL, "cmdline: tap by name and fd refused");
	is_str(err.msg, "vm: a tap is given by name or by fd, not both", "cmdline: its message");
	s = (struct vm_spec){ .disk = "/d.img", .qmp_socket = "/q", .agent_socket = "/a", .balloon = true };
	is_int(vm_build_cmdline(&s, &v, &err), 0, "cmdline: q35 builds");
	is_str(opt_val(v, "-device", "virtio-serial"), "virtio-serial-pci,id=vser0", "cmdline: q35 serial on pci");
	is_str(opt_val(v, "-device", "virtio-balloon"), "virtio-balloon-pci", "cmdline: q35 balloon on pci");
	ok(!has(v, "-S"), "cmdline: no -S by default");
	vs_strv_free(v);
}

static int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	ssize_t n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -1;
}

/* reads the cpio back: names in order into names (joined by ' '), and the
 * content of one file */
static int read_cpio(const char *path, char *names, size_t nlen, const char *want, char *data,
		     size_t dlen, unsigned *console_rdev)
{
	struct archive *a = archive_read_new();
	archive_read_support_format_cpio(a);
	if (archive_read_open_filename(a, path, 16384) != ARCHIVE_OK)
		return -1;
	struct archive_entry *e;
	names[0] = '\0';
	while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
		const char *n = archive_entry_pathname(e);
		snprintf(names + strlen(names), nlen - strlen(names), "%s%s", *names ? " " : "", n);
		if (!strcmp(n, "dev/console"))
			*console_rdev = (unsigned)archive_entry_rdev(e);
		if (!strcmp(n, want)) {
			la_ssize_t k = archive_read_data(a, data, dlen - 1);
			data[k > 0 ? k : 0] = '\0';
		}
	}
	archive_read_free(a);
	return 0;
}

static void test_initramfs(void)
{
	struct vs_err err = { 0 };
	char dir[] = "/tmp/vs-test-initramfs.XXXXXX";
	if (!mkdtemp(dir)) {
		skip(8, "mkdtemp failed");
		return;
	}
	char mods[300], path[400], out[300];
	snprintf(mods, sizeof(mods), "%s/modules", dir);
	snprintf(path, sizeof(path), "%s/kernel/drivers", mods);
	char cmd[1200];
	snprintf(cmd, sizeof(cmd), "mkdir -p %s", path);
	(void)!system(cmd);
	/* virtio_blk needs virtio_ring and virtio; virtio_net is .ko.xz */
	snprintf(path, sizeof(path), "%s/modules.dep", mods);
	const char *dep = "kernel/drivers/virtio.ko:\n"
			  "kernel/drivers/virtio_ring.ko: kernel/drivers/virtio.ko\n"
			  "kernel/drivers/virtio_blk.ko: kernel/drivers/virtio.ko kernel/drivers/virtio_ring.ko\n"
			  "kernel/drivers/virtio_net.ko.xz: kernel/drivers/virtio.ko\n"
			  "kernel/drivers/unrelated.ko:\n";
	write_file(path, dep, strlen(dep));
	const char *names[] = { "virtio", "virtio_ring", "virtio_blk", "unrelated" };
	for (size_t i = 0; i < 4; i++) {
		snprintf(path, sizeof(path), "%s/kernel/drivers/%s.ko", mods, names[i]);
		write_file(path, names[i], strlen(names[i]));
	}
	snprintf(cmd, sizeof(cmd), "printf net-module | xz >%s/kernel/drivers/virtio_net.ko.xz", mods);
	bool have_xz = system(cmd) == 0;
	snprintf(out, sizeof(out), "%s/initrd.cpio", dir);
	size_t plen;
	char *argv[] = { "sh", "-c", "echo hi", NULL }, *env[] = { "A=1", NULL };
	void *proc = vm_agent_encode_proc(argv, env, "/srv", NULL, &plen);
	{
		/* the user after the cwd: uid, gid, ngids, gids (u32 little endian) */
		static const uint32_t gids[] = { 10, 20 };
		struct vm_agent_user u = { .uid = 1000, .gid = 100, .gids = gids, .n_gids = 2 };
		size_t ulen;
		unsigned char *q = vm_agent_encode_proc(argv, env, "/srv", &u, &ulen);
		static const unsigned char tail[] = { 0xe8, 3, 0, 0, 100, 0, 0, 0, 2, 0, 0, 0,
						      10, 0, 0, 0, 20, 0, 0, 0 };
		ok(ulen == plen + 8 && !memcmp(q + ulen - sizeof(tail), tail, sizeof(tail)) &&
		   !memcmp(q + ulen - sizeof(tail) - 5, "/srv", 5),
		   "encode: the user follows the cwd (uid 1000, gid 100, groups 10 20)");
		unsigned char *r = proc;
		ok(!memcmp(r + plen - 12, "\0\0\0\0\0\0\0\0\0\0\0\0", 12),
		   "encode: no user is root, no groups");
		free(q);
	}
	struct vm_initramfs ir = { .modules_dir = mods, .agent = "AGENT", .agent_len = 5,
				   .process = proc, .process_len = plen, .out = out };
	is_int(vm_initramfs_build(&ir, &err), 0, "initramfs: written");
	char list[1024], order[256];
	unsigned rdev = 0;
	is_int(read_cpio(out, list, sizeof(list), "modules/order", order, sizeof(order), &rdev), 0,
	       "initramfs: a cpio libarchive reads");
	ok(strstr(list, "init") && strstr(list, "vs/process") && strstr(list, "newroot"),
	   "initramfs: /init, /vs/process, /newroot (%s)", list);
	is_int(rdev, makedev(5, 1), "initramfs: /dev/console is char 5:1");
	if (have_xz)
		is_str(order, "virtio\nvirtio_ring\nvirtio_blk\nvirtio_net\n",
		       "initramfs: dependencies first, each once, only what is wanted");
	else
		skip(1, "xz is not installed");
	char net[64] = "";
	read_cpio(out, list, sizeof(list), "modules/virtio_net.ko", net, sizeof(net), &rdev);
	if (have_xz)
		is_str(net, "net-module", "initramfs: a .ko.xz is decompressed");
	else
		skip(1, "xz is not installed");
	char pbuf[256] = "";
	read_cpio(out, list, sizeof(list), "vs/process", pbuf, sizeof(pbuf), &rdev);
	ok(!memcmp(pbuf, proc, 8) && !memcmp(pbuf + 8, "sh\0-c\0echo hi\0A=1\0/srv", 23),
	   "initramfs: /vs/process holds argc, envc, args, env and cwd");
	/* no modules dir: a kernel with everything built in */
	ir.modules_dir = "/nonexistent";
	is_int(vm_initramfs_build(&ir, &err), 0, "initramfs: no modules is fine");
	free(proc);
	char kv[64];
	vm_kernel_version("/boot/vmlinuz-6.1.0-57-cloud-amd64", kv, sizeof(kv));
	is_str(kv, "6.1.0-57-cloud-amd64", "initramfs: kernel version from its file name");
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

static void put_frame(int fd, uint8_t type, const void *data, uint32_t len)
{
	unsigned char h[8] = { type, 0, 0, 0 };
	agent_put_u32(h + 4, len);
	(void)!write(fd, h, 8);
	if (len)
		(void)!write(fd, data, len);
}

static int get_frame(int fd, unsigned char *type, char *buf, size_t cap)
{
	unsigned char h[8];
	if (vs_read_all(fd, h, 8) != 8)
		return -1;
	uint32_t len = agent_get_u32(h + 4);
	if (len > cap || (len && vs_read_all(fd, buf, len) != (ssize_t)len))
		return -1;
	*type = h[0];
	return (int)len;
}

enum guest_mode { GUEST_RUN, GUEST_HANG_UP, GUEST_SILENT };

/* a fake guest: one connection; runs the exec (after the tail of an older
 * one, which the client must drop), hangs up without a status, or never
 * answers */
static pid_t fake_guest(const char *sock, enum guest_mode mode)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(s, 1) < 0)
		return -1;
	pid_t pid = fork();
	if (pid != 0) {
		close(s);
		return pid;
	}
	int c = accept(s, NULL, NULL);
	unsigned char t;
	char buf[4096];
	int n = get_frame(c, &t, buf, sizeof(buf));
	if (n < 0 || t != AGENT_EXEC)
		_exit(1);
	if (mode == GUEST_HANG_UP)
		_exit(0);
	if (mode == GUEST_SILENT) {
		while (read(c, buf, sizeof(buf)) > 0)
			;
		_exit(0);
	}
	unsigned char code[4];
	agent_put_u32(code, 9);
	put_frame(c, AGENT_STDOUT, "stale", 5);
	put_frame(c, AGENT_EXIT, code, 4);
	agent_put_u32(code, 1234);
	put_frame(c, AGENT_STARTED, code, 4);
	/* echo the argv back, then stdin until EOF on stderr, then status 42 */
	put_frame(c, AGENT_STDOUT, buf + 8, (uint32_t)(n - 8));
	while ((n = get_frame(c, &t, buf, sizeof(buf))) >= 0 && t == AGENT_STDIN)
		put_frame(c, AGENT_STDERR, buf, (uint32_t)n);
	agent_put_u32(code, 42);
	put_frame(c, t == AGENT_EOF ? AGENT_EXIT : AGENT_STDOUT, code, 4);
	_exit(0);
}

static void test_client(void)
{
	struct vs_err err = { 0 };
	char dir[] = "/tmp/vs-test-agent.XXXXXX";
	if (!mkdtemp(dir)) {
		skip(9, "mkdtemp failed");
		return;
	}
	char sock[128], outf[128], errf[128], inf[128];
	snprintf(sock, sizeof(sock), "%s/agent.sock", dir);
	snprintf(outf, sizeof(outf), "%s/out", dir);
	snprintf(errf, sizeof(errf), "%s/err", dir);
	snprintf(inf, sizeof(inf), "%s/in", dir);
	write_file(inf, "typed input", 11);
	pid_t g = fake_guest(sock, GUEST_RUN);
	int in = open(inf, O_RDONLY), out = open(outf, O_WRONLY | O_CREAT, 0600),
	    er = open(errf, O_WRONLY | O_CREAT, 0600);
	char *argv[] = { "echo", "x", NULL }, *env[] = { NULL };
	int status = -1;
	is_int(vm_agent_exec(sock, argv, env, "/", NULL, in, out, er, &status, &err), 0, "client: exec runs");
	is_int(status, 42, "client: the guest's exit status (what came before STARTED dropped)");
	close(in);
	close(out);
	close(er);
	waitpid(g, NULL, 0);
	char *data = NULL;
	vs_read_file(outf, &data, NULL);
	ok(data && !memcmp(data, "echo\0x\0/", 8), "client: stdout frames go to out_fd");
	free(data);
	data = NULL;
	vs_read_file(errf, &data, NULL);
	is_str(data, "typed input", "client: stdin reached the guest, stderr came back");
	free(data);
	unlink(sock);
	g = fake_guest(sock, GUEST_HANG_UP);
	is_int(vm_agent_exec(sock, argv, env, "/", NULL, -1, -1, -1, &status, &err), -EPIPE,
	       "client: a guest that hangs up is an error");
	is_str(err.msg, "vm: agent: the guest ended the exec without a status", "client: its message");
	waitpid(g, NULL, 0);
	unlink(sock);
	g = fake_guest(sock, GUEST_SILENT);
	setenv("VS_VM_AGENT_TIMEOUT", "1", 1);
	is_int(vm_agent_exec(sock, argv, env, "/", NULL, -1, -1, -1, &status, &err), -ETIMEDOUT,
	       "client: a guest that never answers is an error, not a hang");
	unsetenv("VS_VM_AGENT_TIMEOUT");
	is_str(err.msg, "vm: agent: no answer from the guest in 1 s", "client: its message");
	waitpid(g, NULL, 0);
	unlink(sock);
	is_int(vm_agent_exec(sock, argv, env, "/", NULL, -1, -1, -1, &status, &err), -ENOENT,
	       "client: no socket");
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	(void)!system(cmd);
}

int main(void)
{
	signal(SIGPIPE, SIG_IGN);
	test_cmdline();
	test_initramfs();
	test_client();
	return tap_done();
}
