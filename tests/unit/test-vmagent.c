/* Unit tests of the VM guest's pieces on the host side of vm/: the command
 * line's agent port, balloon, tap fd and -S; the initramfs (written for
 * real, read back with libarchive: the agent as /init, /dev/console, the
 * modules in dependency order, a .ko.xz decompressed); the agent protocol's
 * client against a fake guest on a unix socket (stdout, stderr, stdin, the
 * exit status, the end of another host's exec dropped, a guest that hangs
 * up); the agent's exec loop itself (build/vserver-agent --serve-fd, on a
 * socket pair): the exec's tag on every frame, a SIGNAL of another tag
 * ignored, a command that writes without end still stopped by SIGNAL. */
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
#include <libgen.h>
#include <limits.h>
#include <sys/prctl.h>
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

static void put_frame_tag(int fd, uint8_t type, uint32_t tag, const void *data, uint32_t len)
{
	unsigned char h[8];
	agent_put_hdr(h, type, tag, len);
	(void)!write(fd, h, 8);
	if (len)
		(void)!write(fd, data, len);
}

/* reads n bytes in pieces of at most piece (a slow reader) */
static bool read_slowly(int fd, void *buf, size_t n, size_t piece)
{
	for (size_t off = 0; off < n;) {
		ssize_t k = read(fd, (char *)buf + off, n - off < piece ? n - off : piece);
		if (k <= 0)
			return false;
		off += (size_t)k;
	}
	return true;
}

static int get_frame_piece(int fd, unsigned char *type, uint32_t *tag, char *buf, size_t cap,
			   size_t piece)
{
	unsigned char h[8];
	if (!read_slowly(fd, h, 8, 8))
		return -1;
	uint32_t len = agent_get_u32(h + 4);
	if (len > cap || !read_slowly(fd, buf, len, piece))
		return -1;
	*type = h[0];
	if (tag)
		*tag = agent_hdr_tag(h);
	return (int)len;
}

static int get_frame_tag(int fd, unsigned char *type, uint32_t *tag, char *buf, size_t cap)
{
	return get_frame_piece(fd, type, tag, buf, cap, cap);
}

enum guest_mode { GUEST_RUN, GUEST_HANG_UP, GUEST_SILENT };

/* a fake guest: one connection; runs the exec (after the tail of an older
 * one, untagged and tagged, which the client must drop), hangs up without a
 * status, or never answers */
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
	uint32_t tag = 0;
	char buf[4096];
	int n = get_frame_tag(c, &t, &tag, buf, sizeof(buf));
	if (n < 0 || t != AGENT_EXEC || !tag)
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
	put_frame_tag(c, AGENT_STDOUT, tag, "stale", 5);
	put_frame_tag(c, AGENT_EXIT, tag, code, 4);
	/* another host's exec, started, talking: not for this host */
	uint32_t other = (tag ^ 0x5a5a5a) & AGENT_TAG_MASK;
	agent_put_u32(code, 999);
	put_frame_tag(c, AGENT_STARTED, other, code, 4);
	put_frame_tag(c, AGENT_STDOUT, other, "stale", 5);
	put_frame_tag(c, AGENT_STDERR, other, "stale", 5);
	agent_put_u32(code, 9);
	put_frame_tag(c, AGENT_EXIT, other, code, 4);
	agent_put_u32(code, 1234);
	put_frame_tag(c, AGENT_STARTED, tag, code, 4);
	/* echo the argv back, then stdin until EOF on stderr, then status 42 */
	put_frame_tag(c, AGENT_STDOUT, tag, buf + 8, (uint32_t)(n - 8));
	uint32_t t2 = 0;
	while ((n = get_frame_tag(c, &t, &t2, buf, sizeof(buf))) >= 0 && t == AGENT_STDIN && t2 == tag)
		put_frame_tag(c, AGENT_STDERR, tag, buf, (uint32_t)n);
	agent_put_u32(code, 42);
	put_frame_tag(c, t == AGENT_EOF && t2 == tag ? AGENT_EXIT : AGENT_STDOUT, tag, code, 4);
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
	is_int(status, 42, "client: the guest's exit status (what came before STARTED or had "
	       "another tag dropped)");
	close(in);
	close(out);
	close(er);
	waitpid(g, NULL, 0);
	char *data = NULL;
	vs_read_file(outf, &data, NULL);
	ok(data && !memcmp(data, "echo\0x\0/", 8), "client: stdout frames go to out_fd, not another exec's");
	free(data);
	data = NULL;
	vs_read_file(errf, &data, NULL);
	is_str(data, "typed input", "client: stdin reached the guest (tagged), stderr came back");
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

/* build/vserver-agent's exec loop on one end of a socket pair (the
 * agent's test mode); the other end in *sock */
static pid_t spawn_agent(const char *agent, int *sock)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) < 0)
		return -1;
	/* the smallest buffer: the agent's writes wait for the test's reads, so
	 * a command's output piles up in its pipe as it does behind a slow port */
	int small = 1;
	setsockopt(sp[1], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	pid_t pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		int fd = dup(sp[1]);  /* without O_CLOEXEC */
		char num[16];
		snprintf(num, sizeof(num), "%d", fd);
		execl(agent, agent, "--serve-fd", num, (char *)NULL);
		_exit(127);
	}
	close(sp[1]);
	*sock = sp[0];
	return pid;
}

static void send_exec(int fd, uint32_t tag, char **argv)
{
	char *env[] = { "PATH=/usr/local/bin:/usr/bin:/bin", NULL };
	size_t len;
	void *req = vm_agent_encode_proc(argv, env, "/", NULL, &len);
	put_frame_tag(fd, AGENT_EXEC, tag, req, (uint32_t)len);
	put_frame_tag(fd, AGENT_EOF, tag, NULL, 0);
	free(req);
}

/* STDOUT bytes read (slowly) until EXIT (its status in *code), at most
 * limit; -1 if the stream ends or a frame of another tag comes */
static long read_to_exit(int fd, uint32_t tag, long limit, int *code)
{
	static char buf[AGENT_MAX_PAYLOAD];
	long bytes = 0;
	unsigned char t;
	uint32_t ft;
	int n;
	while (bytes <= limit && (n = get_frame_piece(fd, &t, &ft, buf, sizeof(buf), 256)) >= 0) {
		if (ft != tag)
			return -1;
		if (t == AGENT_EXIT && n == 4) {
			*code = (int)agent_get_u32((unsigned char *)buf);
			return bytes;
		}
		if (t == AGENT_STDOUT)
			bytes += n;
	}
	return bytes > limit ? bytes : -1;
}

/* run by the agent as the exec's command (this binary --flood FILE): its
 * stdout pipe made 1 MiB and filled, FILE written (the pipe's size) when
 * it is, then what comes on stdin goes to stderr, until EOF */
static int flood(const char *done)
{
	int size = fcntl(1, F_SETPIPE_SZ, 1 << 20);
	if (size < 0)
		size = fcntl(1, F_GETPIPE_SZ);
	if (size <= 0)
		return 1;
	char *buf = malloc((size_t)size);
	memset(buf, 'a', (size_t)size);
	if (vs_write_all(1, buf, (size_t)size) < 0)
		return 1;
	free(buf);
	char n[16];
	snprintf(n, sizeof(n), "%d", size);
	write_file(done, n, strlen(n));
	char line[64];
	ssize_t k;
	while ((k = read(0, line, sizeof(line))) > 0)
		(void)!vs_write_all(2, line, (size_t)k);
	return 0;
}

/* the agent's pipe full (1 MiB, the command waiting on stdin): STDIN must
 * reach the command after a burst, not after the whole pipe. Deterministic:
 * the command writes nothing more, so an agent that reads until EAGAIN
 * reads the port only once it has copied all of it. */
static void test_agent_burst(const char *agent, const char *self)
{
	char dir[] = "/tmp/vs-test-agent.XXXXXX";
	if (!mkdtemp(dir)) {
		skip(3, "mkdtemp failed");
		return;
	}
	char done[128];
	snprintf(done, sizeof(done), "%s/full", dir);
	int s = -1;
	pid_t a = spawn_agent(agent, &s);
	char *argv[] = { (char *)self, "--flood", done, NULL };
	const uint32_t tag = 0x777;
	char *env[] = { NULL };
	size_t len;
	void *req = vm_agent_encode_proc(argv, env, "/", NULL, &len);
	put_frame_tag(s, AGENT_EXEC, tag, req, (uint32_t)len);
	free(req);
	static char buf[AGENT_MAX_PAYLOAD];
	unsigned char t;
	uint32_t ft;
	int n = get_frame_tag(s, &t, &ft, buf, sizeof(buf));
	char *size = NULL;
	for (int i = 0; i < 3000 && !size; i++) {
		if (vs_read_file(done, &size, NULL) < 0)
			usleep(10000);  /* a wait, not a measure */
	}
	long full = size ? atol(size) : 0;
	free(size);
	if (n != 4 || t != AGENT_STARTED || full < (512L << 10)) {
		printf("# pipe size %ld\n", full);
		skip(3, "the command did not fill a pipe of 512 KiB or more (F_SETPIPE_SZ)");
		kill(a, SIGKILL);
		waitpid(a, NULL, 0);
		close(s);
		vs_rm_rf(dir);
		return;
	}
	put_frame_tag(s, AGENT_STDIN, tag, "ping\n", 5);
	long out = 0, before = -1;
	int code = -1;
	while ((n = get_frame_tag(s, &t, &ft, buf, sizeof(buf))) >= 0 && t != AGENT_EXIT) {
		if (t == AGENT_STDOUT)
			out += n;
		if (t == AGENT_STDERR && n == 5 && !memcmp(buf, "ping\n", 5) && before < 0) {
			before = out;
			put_frame_tag(s, AGENT_EOF, tag, NULL, 0);
		}
	}
	if (n == 4)
		code = (int)agent_get_u32((unsigned char *)buf);
	/* a burst is 64 KiB; reading to EAGAIN it was all of it, every time */
	ok(before >= 0 && before < full * 3 / 4,
	   "agent: stdin served while the output pipe was full: its echo after %ld of %ld bytes",
	   before, full);
	is_int((int)out, (int)full, "agent: and all the output came, once");
	is_int(code, 0, "agent: status 0");
	close(s);
	waitpid(a, NULL, 0);
	vs_rm_rf(dir);
}

static void test_agent(void)
{
	char self[PATH_MAX], selfdir[PATH_MAX], agent[PATH_MAX + 32];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof(self) - 1);
	self[sl > 0 ? sl : 0] = '\0';
	snprintf(selfdir, sizeof(selfdir), "%s", self);
	snprintf(agent, sizeof(agent), "%s/../vserver-agent", dirname(selfdir));
	if (access(agent, X_OK) < 0 || access("/usr/bin/yes", X_OK) < 0) {
		skip(14, "no build/vserver-agent or no /usr/bin/yes (make builds the agent)");
		return;
	}
	test_agent_burst(agent, self);
	int s = -1;
	pid_t a = spawn_agent(agent, &s);
	ok(a > 0, "agent: runs on a socket pair (--serve-fd)");
	if (a <= 0)
		return;
	/* one exec left unread, then another: each frame says whose it is */
	char *one[] = { "sh", "-c", "echo one", NULL }, *two[] = { "sh", "-c", "echo two", NULL };
	const uint32_t t1 = 0x123456, t2 = 0x654321;
	send_exec(s, t1, one);
	send_exec(s, t2, two);
	static char buf[AGENT_MAX_PAYLOAD];
	unsigned char t;
	uint32_t ft;
	int n, bad = 0, started1 = 0;
	while ((n = get_frame_tag(s, &t, &ft, buf, sizeof(buf))) >= 0 && !(t == AGENT_STARTED && ft == t2)) {
		bad += ft != t1;
		started1 += t == AGENT_STARTED;
	}
	ok(n >= 0 && !bad && started1 == 1,
	   "agent: the first exec's frames carry its tag (%d others), then the second's STARTED", bad);
	int code = -1;
	n = get_frame_tag(s, &t, &ft, buf, sizeof(buf));
	ok(n == 4 && t == AGENT_STDOUT && ft == t2 && !memcmp(buf, "two\n", 4),
	   "agent: the second exec's output, with its tag");
	is_int((int)read_to_exit(s, t2, 0, &code), 0, "agent: then its EXIT, with its tag");
	is_int(code, 0, "agent: status 0");
	/* a command that writes without end: SIGNAL still reaches it */
	char *yes[] = { "yes", NULL };
	const uint32_t t3 = 0xabcdef;
	send_exec(s, t3, yes);
	n = get_frame_tag(s, &t, &ft, buf, sizeof(buf));
	ok(n == 4 && t == AGENT_STARTED && ft == t3 && agent_get_u32((unsigned char *)buf) > 0,
	   "agent: yes started");
	long before = 0;
	while (before < (1L << 20) && (n = get_frame_piece(s, &t, &ft, buf, sizeof(buf), 256)) > 0)
		before += n;
	unsigned char sig[4];
	agent_put_u32(sig, SIGKILL);
	put_frame_tag(s, AGENT_SIGNAL, t1, sig, 4);  /* an exec that is over */
	agent_put_u32(sig, SIGTERM);
	put_frame_tag(s, AGENT_SIGNAL, t3, sig, 4);
	/* the agent reads the port between bursts: only what was in flight
	 * (a burst, a pipe, a socket buffer: about 200 KiB) comes after the
	 * SIGNAL. Reading until EAGAIN, it copied output as long as yes kept
	 * ahead of a slow reader, and served the SIGNAL only by chance. */
	long after = read_to_exit(s, t3, 1L << 20, &code);
	ok(after >= 0 && after < (1L << 20),
	   "agent: yes (1 MiB read) ended by SIGNAL after %ld more bytes", after);
	is_int(code, 128 + SIGTERM, "agent: by the SIGNAL of its tag, not the one of another");
	close(s);
	int st = -1;
	waitpid(a, &st, 0);
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "agent: ends when its port is closed");
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "--flood"))
		return flood(argv[2]);
	signal(SIGPIPE, SIG_IGN);
	test_cmdline();
	test_initramfs();
	test_client();
	test_agent();
	return tap_done();
}
