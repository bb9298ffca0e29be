/* cgroups: device rules on cgroup2, as a BPF_PROG_TYPE_CGROUP_DEVICE program.
 *
 * cgroup2 has no devices controller; the kernel asks an eBPF program attached
 * to the cgroup instead, once per access (open, mknod) with the device type,
 * major, minor and the access wanted. We write that program by hand here, one
 * block per OCI rule, so nothing is needed besides bpf(2).
 *
 * Semantics, the same as the v1 backend's: the rules are read last to first
 * and the first that matches decides (last match wins). A type 'a' rule
 * matches every device and access, as "a" does in v1's devices.allow/deny.
 * An allow rule matches when every access bit asked for is in its access; a
 * deny rule when any is. Nothing matched: allowed, as in a fresh v1 cgroup,
 * which is why configs start with a deny-all rule. */
#include "internal.h"

#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/syscall.h>

#define MAX_INSNS_PER_RULE 10
#define MAX_OLD_PROGS 64

static struct bpf_insn insn(uint8_t code, uint8_t dst, uint8_t src, int16_t off, int32_t imm)
{
	struct bpf_insn i = { .code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm };
	return i;
}

/* r1 = ctx (struct bpf_cgroup_dev_ctx); we keep: r2 access, r3 type, r4 major,
 * r5 minor; r6 is scratch. */
#define LDX_W(dst, off)        insn(BPF_LDX | BPF_W | BPF_MEM, dst, BPF_REG_1, off, 0)
#define MOV32_REG(dst, src)    insn(BPF_ALU | BPF_MOV | BPF_X, dst, src, 0, 0)
#define AND32_IMM(dst, imm)    insn(BPF_ALU | BPF_AND | BPF_K, dst, 0, 0, imm)
#define RSH32_IMM(dst, imm)    insn(BPF_ALU | BPF_RSH | BPF_K, dst, 0, 0, imm)
#define MOV64_IMM(dst, imm)    insn(BPF_ALU64 | BPF_MOV | BPF_K, dst, 0, 0, imm)
#define JNE32_IMM(dst, imm)    insn(BPF_JMP32 | BPF_JNE | BPF_K, dst, 0, 0, imm)
#define JEQ32_IMM(dst, imm)    insn(BPF_JMP32 | BPF_JEQ | BPF_K, dst, 0, 0, imm)
#define EXIT()                 insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0)

static int access_bits(const char *a)
{
	int bits = 0;
	if (!a || !*a)
		a = "rwm";
	for (; *a; a++)
		bits |= *a == 'r' ? BPF_DEVCG_ACC_READ : *a == 'w' ? BPF_DEVCG_ACC_WRITE :
			*a == 'm' ? BPF_DEVCG_ACC_MKNOD : 0;
	return bits;
}

/* Emits one rule's block at p[*n]; its "no match" jumps go to the block's end.
 * Returns true if the rule matches everything (what comes after is dead). */
static bool emit_rule(const struct conf_dev_rule *d, struct bpf_insn *p, size_t *n)
{
	const int all = BPF_DEVCG_ACC_READ | BPF_DEVCG_ACC_WRITE | BPF_DEVCG_ACC_MKNOD;
	size_t jumps[8], nj = 0, i = *n;
	int acc = access_bits(d->access);
	if (d->type != 'a') {
		jumps[nj++] = i;
		p[i++] = JNE32_IMM(BPF_REG_3, d->type == 'b' ? BPF_DEVCG_DEV_BLOCK : BPF_DEVCG_DEV_CHAR);
		if (d->major >= 0) {
			jumps[nj++] = i;
			p[i++] = JNE32_IMM(BPF_REG_4, (int32_t)d->major);
		}
		if (d->minor >= 0) {
			jumps[nj++] = i;
			p[i++] = JNE32_IMM(BPF_REG_5, (int32_t)d->minor);
		}
		if (acc != all) {
			p[i++] = MOV32_REG(BPF_REG_6, BPF_REG_2);
			jumps[nj++] = i + 1;
			if (d->allow) {   /* every bit asked for must be allowed */
				p[i++] = AND32_IMM(BPF_REG_6, ~acc & all);
				p[i++] = JNE32_IMM(BPF_REG_6, 0);
			} else {          /* any bit asked for is denied */
				p[i++] = AND32_IMM(BPF_REG_6, acc);
				p[i++] = JEQ32_IMM(BPF_REG_6, 0);
			}
		}
	}
	p[i++] = MOV64_IMM(BPF_REG_0, d->allow ? 1 : 0);
	p[i++] = EXIT();
	for (size_t j = 0; j < nj; j++)
		p[jumps[j]].off = (int16_t)(i - jumps[j] - 1);
	*n = i;
	return nj == 0;
}

int cg_bpf_devices_build(const struct conf_dev_rule *rules, size_t n, struct bpf_insn **out)
{
	struct bpf_insn *p = vs_xcalloc(8 + n * MAX_INSNS_PER_RULE, sizeof(*p));
	size_t i = 0;
	p[i++] = LDX_W(BPF_REG_2, offsetof(struct bpf_cgroup_dev_ctx, access_type));
	p[i++] = MOV32_REG(BPF_REG_3, BPF_REG_2);
	p[i++] = AND32_IMM(BPF_REG_3, 0xffff);
	p[i++] = RSH32_IMM(BPF_REG_2, 16);
	p[i++] = LDX_W(BPF_REG_4, offsetof(struct bpf_cgroup_dev_ctx, major));
	p[i++] = LDX_W(BPF_REG_5, offsetof(struct bpf_cgroup_dev_ctx, minor));
	bool total = false;
	/* the verifier refuses dead code: stop at a rule that matches all */
	for (size_t k = n; k-- > 0 && !total;)
		total = emit_rule(&rules[k], p, &i);
	if (!total) {
		p[i++] = MOV64_IMM(BPF_REG_0, 1);
		p[i++] = EXIT();
	}
	*out = p;
	return (int)i;
}

static int sys_bpf(int cmd, union bpf_attr *attr)
{
	long r = syscall(__NR_bpf, cmd, attr, sizeof(*attr));
	return r < 0 ? -errno : (int)r;
}

static int load_prog(const struct bpf_insn *p, int n, struct vs_err *err)
{
	static const char license[] = "GPL";
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
	a.insns = (uint64_t)(uintptr_t)p;
	a.insn_cnt = (uint32_t)n;
	a.license = (uint64_t)(uintptr_t)license;
	int fd = sys_bpf(BPF_PROG_LOAD, &a);
	if (fd >= 0)
		return fd;
	if (fd != -EACCES && fd != -EINVAL)
		return vs_fail(err, -fd, "cgroup: devices: load the eBPF device program");
	/* the verifier said no: ask again with its log, for the message */
	char log[1024] = "";
	a.log_buf = (uint64_t)(uintptr_t)log;
	a.log_size = sizeof(log);
	a.log_level = 1;
	int r = sys_bpf(BPF_PROG_LOAD, &a);
	if (r >= 0)
		return r;
	log[strcspn(log, "\n")] = '\0';
	return vs_failx(err, -fd, "cgroup: devices: the eBPF device program was refused: %s (%s)",
			vs_errno_name(-fd), log);
}

int cg_bpf_devices_apply(const char *dir, const struct conf_dev_rule *rules, size_t n,
			 struct vs_err *err)
{
	_cleanup_free_ struct bpf_insn *p = NULL;
	int cnt = cg_bpf_devices_build(rules, n, &p);
	_cleanup_close_ int cgfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cgfd < 0)
		return vs_fail(err, errno, "cgroup: devices: open %s", dir);
	_cleanup_close_ int prog = load_prog(p, cnt, err);
	if (prog < 0)
		return prog;

	/* what we attached before (cg_update), to detach once the new one is in */
	uint32_t old[MAX_OLD_PROGS];
	union bpf_attr a;
	memset(&a, 0, sizeof(a));
	a.query.target_fd = (uint32_t)cgfd;
	a.query.attach_type = BPF_CGROUP_DEVICE;
	a.query.prog_ids = (uint64_t)(uintptr_t)old;
	a.query.prog_cnt = MAX_OLD_PROGS;
	int r = sys_bpf(BPF_PROG_QUERY, &a);
	uint32_t n_old = r < 0 ? 0 : a.query.prog_cnt;

	memset(&a, 0, sizeof(a));
	a.target_fd = (uint32_t)cgfd;
	a.attach_bpf_fd = (uint32_t)prog;
	a.attach_type = BPF_CGROUP_DEVICE;
	a.attach_flags = BPF_F_ALLOW_MULTI;
	if ((r = sys_bpf(BPF_PROG_ATTACH, &a)) < 0)
		return vs_fail(err, -r, "cgroup: devices: attach the eBPF device program to %s", dir);

	for (uint32_t i = 0; i < n_old && i < MAX_OLD_PROGS; i++) {
		memset(&a, 0, sizeof(a));
		a.prog_id = old[i];
		_cleanup_close_ int ofd = sys_bpf(BPF_PROG_GET_FD_BY_ID, &a);
		if (ofd < 0)
			continue;
		memset(&a, 0, sizeof(a));
		a.target_fd = (uint32_t)cgfd;
		a.attach_bpf_fd = (uint32_t)ofd;
		a.attach_type = BPF_CGROUP_DEVICE;
		if ((r = sys_bpf(BPF_PROG_DETACH, &a)) < 0 && r != -ENOENT)
			return vs_fail(err, -r, "cgroup: devices: detach the previous device program");
	}
	return 0;
}
