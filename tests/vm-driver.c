/* A small driver of vm/ for tests/vm-boot.bats: one call of the module per
 * invocation, results on stdout, errors as one line on stderr (exit 1).
 *   vm-driver accel [KERNEL [CACHE]]   prints kvm|tcg (the warning on stderr)
 *   vm-driver disk DIR SIZE IMG
 *   vm-driver start -q QMP [-k KERNEL] [-i INITRD] [-a APPEND] [-d DISK [-f raw|qcow2]]
 *                   [-c CONSOLE] [-l VMMLOG] [-m MiB] [-n VCPUS] [-A kvm|tcg|auto]
 *                   [-g CGROUPDIR]... [-j] [-s]     prints the pid
 *                   (-j: own mount/uts/ipc/net namespaces; -s: -sandbox on if supported)
 *   vm-driver qmp SOCK JSON | status SOCK | pause SOCK | resume SOCK
 *   vm-driver stats PID SOCK
 *   vm-driver stop PID SOCK TIMEOUT_MS     prints powered-off|killed
 *   vm-driver cmdline ...start options...  prints the argv, one per line */
#include "../vm/vm.h"

#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

static int die(const struct vs_err *err)
{
	fprintf(stderr, "vm-driver: %s\n", err->msg);
	return 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: vm-driver accel|disk|start|cmdline|qmp|status|pause|resume|stats|stop ...\n");
	return 2;
}

static int parse_start(int argc, char **argv, struct vm_spec *s, const char **cgroups,
		       size_t max_cg, struct vm_jail *jail, const char **accel)
{
	size_t ncg = 0;
	int c;
	optind = 1;
	while ((c = getopt(argc, argv, "+q:k:i:a:d:f:c:l:m:n:A:g:js")) != -1) {
		switch (c) {
		case 'q': s->qmp_socket = optarg; break;
		case 'k': s->kernel = optarg; break;
		case 'i': s->initrd = optarg; break;
		case 'a': s->append = optarg; break;
		case 'd': s->disk = optarg; break;
		case 'f': s->disk_format = !strcmp(optarg, "qcow2") ? VM_DISK_QCOW2 : VM_DISK_RAW; break;
		case 'c': s->console_log = optarg; break;
		case 'l': s->vmm_log = optarg; break;
		case 'm': s->memory_mb = (unsigned)atoi(optarg); break;
		case 'n': s->vcpus = (unsigned)atoi(optarg); break;
		case 'A': *accel = optarg; break;
		case 'g':
			if (ncg + 1 < max_cg)
				cgroups[ncg++] = optarg;
			break;
		case 'j': jail->unshare_flags = CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWNET; break;
		case 's': s->sandbox = vm_qemu_has_sandbox(NULL); break;
		default: return -1;
		}
	}
	cgroups[ncg] = NULL;
	jail->cgroup_dirs = ncg ? cgroups : NULL;
	s->name = "vs-test";
	return 0;
}

static int cmd_start(int argc, char **argv, bool print_only)
{
	struct vm_spec s = { 0 };
	struct vm_jail jail = { 0 };
	const char *cgroups[16];
	const char *accel = "auto";
	struct vs_err err = { 0 };
	char warn[256] = "";

	if (parse_start(argc, argv, &s, cgroups, VS_ARRAY_SIZE(cgroups), &jail, &accel) < 0)
		return usage();
	if (!strcmp(accel, "kvm")) {
		s.accel = VM_ACCEL_KVM;
	} else if (!strcmp(accel, "tcg")) {
		s.accel = VM_ACCEL_TCG;
	} else {
		enum vm_accel a;
		if (vm_choose_accel(s.kernel, "/run/vserver/vm-accel.cache", &a, warn, sizeof(warn),
				    &err) < 0)
			return die(&err);
		s.accel = a;
		if (*warn)
			fprintf(stderr, "%s\n", warn);
	}
	s.tsc_khz = vm_host_tsc_khz();
	if (print_only) {
		char **v = NULL;
		if (vm_build_cmdline(&s, &v, &err) < 0)
			return die(&err);
		for (char **p = v; *p; p++)
			printf("%s\n", *p);
		vs_strv_free(v);
		return 0;
	}
	pid_t pid;
	if (vm_start(&s, &jail, &pid, 20000, &err) < 0)
		return die(&err);
	printf("%d\n", (int)pid);
	return 0;
}

int main(int argc, char **argv)
{
	struct vs_err err = { 0 };
	if (argc < 2)
		return usage();
	const char *cmd = argv[1];
	argc--;
	argv++;

	if (!strcmp(cmd, "accel")) {
		enum vm_accel a;
		char warn[256];
		if (vm_choose_accel(argc > 1 ? argv[1] : NULL, argc > 2 ? argv[2] : NULL, &a, warn,
				    sizeof(warn), &err) < 0)
			return die(&err);
		if (*warn)
			fprintf(stderr, "%s\n", warn);
		printf("%s\n", a == VM_ACCEL_KVM ? "kvm" : "tcg");
		return 0;
	}
	if (!strcmp(cmd, "disk") && argc == 4) {
		uint64_t size;
		if (vs_parse_size(argv[2], &size) < 0) {
			fprintf(stderr, "vm-driver: bad size %s\n", argv[2]);
			return 2;
		}
		return vm_disk_from_rootfs(argv[1], size, argv[3], &err) < 0 ? die(&err) : 0;
	}
	if (!strcmp(cmd, "start"))
		return cmd_start(argc, argv, false);
	if (!strcmp(cmd, "cmdline"))
		return cmd_start(argc, argv, true);
	if (!strcmp(cmd, "qmp") && argc == 3) {
		char *reply = NULL;
		if (vm_qmp(argv[1], argv[2], &reply, &err) < 0)
			return die(&err);
		printf("%s\n", reply);
		free(reply);
		return 0;
	}
	if (!strcmp(cmd, "status") && argc == 2) {
		char st[64];
		if (vm_status(argv[1], st, sizeof(st), &err) < 0)
			return die(&err);
		printf("%s\n", st);
		return 0;
	}
	if (!strcmp(cmd, "pause") && argc == 2)
		return vm_pause(argv[1], &err) < 0 ? die(&err) : 0;
	if (!strcmp(cmd, "resume") && argc == 2)
		return vm_resume(argv[1], &err) < 0 ? die(&err) : 0;
	if (!strcmp(cmd, "stats") && argc == 3) {
		struct vm_stats st;
		if (vm_stats(atoi(argv[1]), argv[2], &st, &err) < 0)
			return die(&err);
		printf("status=%s vcpus=%u memory=%llu rss=%llu\n", st.status, st.vcpus,
		       (unsigned long long)st.memory_bytes, (unsigned long long)st.vmm_rss_bytes);
		return 0;
	}
	if (!strcmp(cmd, "stop") && argc == 4) {
		int r = vm_stop(atoi(argv[1]), argv[2], (unsigned)atoi(argv[3]), &err);
		if (r < 0)
			return die(&err);
		printf("%s\n", r == 0 ? "powered-off" : "killed");
		return 0;
	}
	return usage();
}
