/* vm: the KVM shim. A server description becomes a QEMU process (microvm for
 * a Linux guest booted from a kernel, q35 with firmware for a bootable disk
 * image), jailed in the server's cgroups and its own namespaces, controlled
 * over QMP. We write no device model: QEMU is the VMM, we are its driver.
 *
 * Every function returns >= 0 on success or -errno with err filled with one
 * lowercase line; nothing here prints or exits. See docs/vm.md. */
#ifndef VS_VM_H
#define VS_VM_H

#include "../common/common.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum vm_accel {
	VM_ACCEL_TCG = 0,   /* software emulation: always works, slow */
	VM_ACCEL_KVM,
};

enum vm_disk_format {
	VM_DISK_RAW = 0,
	VM_DISK_QCOW2,
};

struct vm_spec {
	const char *name;          /* QEMU -name; NULL = none */
	const char *qemu;          /* the VMM binary; NULL = "qemu-system-x86_64" */
	/* A kernel (with optional initrd and command line) selects microvm;
	 * without one the disk is booted by firmware on q35. */
	const char *kernel;
	const char *initrd;
	const char *append;
	const char *firmware;      /* q35 only: an OVMF image; NULL = SeaBIOS */
	const char *disk;          /* NULL = no disk */
	enum vm_disk_format disk_format;
	unsigned vcpus;            /* 0 = 1 */
	unsigned memory_mb;        /* 0 = 256 */
	enum vm_accel accel;
	const char *console_log;   /* the guest's serial console, appended */
	int console_fd;            /* instead: written to this fd (a pipe to the
				    * server's monitor, which rotates its log);
				    * 0/-1 = none */
	bool console_stdin;        /* with console_fd: the serial console also
				    * reads the caller's stdin (the server's
				    * input pipe): QEMU's stdio chardev, its
				    * stdin that fd and its stdout console_fd */
	const char *vmm_log;       /* QEMU's own stderr; NULL = /dev/null */
	const char *qmp_socket;    /* required: the control socket */
	const char *tap_ifname;    /* optional: a tap device for the bridge */
	const char *mac;           /* optional with tap: "52:54:00:..." */
	/* A tap opened by the caller (netns/), passed to QEMU as fd VM_TAP_FD:
	 * QEMU needs no access to /dev/net/tun nor to the host's network
	 * namespace, and the tap vanishes when QEMU ends. -1/0 = none. */
	int tap_fd;
	const char *agent_socket;  /* optional: the guest agent's virtio-serial
				    * port "vserver.agent", a unix socket here */
	bool balloon;              /* a virtio-balloon device (live memory) */
	bool start_paused;         /* -S: the vCPUs wait for vm_resume */
	const char *incoming;      /* -incoming unix:PATH: vm_load_state feeds it */
	bool sandbox;              /* -sandbox on (see vm_qemu_has_sandbox) */
	/* TCG with a kernel: "tsc_early_khz=N tsc=reliable" goes on the kernel
	 * command line. microvm has no HPET or PM timer and on a busy host the
	 * guest's PIT calibration of the TSC fails and the boot hangs; telling it
	 * the rate skips the calibration. 0 = leave the command line alone. */
	unsigned tsc_khz;
};

/* the fd number a tap_fd gets in QEMU */
#define VM_TAP_FD 100
/* the fd a console_fd gets in QEMU */
#define VM_CONSOLE_FD 101

/* --- probe.c: can this host's KVM run guests? --- */

struct vm_kvm_probe {
	int api_version;           /* KVM_GET_API_VERSION */
	int out_byte;              /* the byte the tiny guest wrote to 0x3f8, -1 = none */
	unsigned exits;            /* KVM_RUN exits until the guest halted */
};

/* Opens /dev/kvm, checks the API version, makes a VM and a vCPU and runs a
 * tiny real-mode guest that writes 'K' to port 0x3f8 and halts. 0 if the
 * guest ran to its hlt with the right byte. This proves the host's KVM can
 * run *a* guest, not that it can run Linux (see vm_choose_accel). */
int vm_probe_kvm(struct vm_kvm_probe *out, struct vs_err *err);

/* Decides the accelerator for a guest kernel (NULL = the newest
 * /boot/vmlinuz-*, for firmware guests too). In order:
 *   1. VS_VM_ACCEL=kvm|tcg in the environment decides;
 *   2. the tiny guest of vm_probe_kvm fails: tcg;
 *   3. a boot probe: the kernel under KVM, no initrd, must reach its
 *      "VFS: unable to mount root" panic within a few seconds; the answer is
 *      cached in cache_path (NULL = no cache) keyed by host kernel, guest
 *      kernel and QEMU binary, so only the first start pays for it.
 * warn gets a one-line warning when the choice is software emulation
 * ("" otherwise). Only a broken environment value is an error. */
int vm_choose_accel(const char *kernel, const char *cache_path, enum vm_accel *out,
		    char *warn, size_t warn_len, struct vs_err *err);
/* The host's TSC rate in kHz (for vm_spec.tsc_khz), from /proc/cpuinfo;
 * 0 if unknown. */
unsigned vm_host_tsc_khz(void);

/* --- cmdline.c: spec -> argv --- */

/* A NULL-terminated argv for QEMU (free with vs_strv_free). Pure. */
int vm_build_cmdline(const struct vm_spec *spec, char ***argv, struct vs_err *err);
/* Whether this QEMU binary (NULL = default) accepts -sandbox on (built with
 * seccomp): it runs "QEMU -sandbox on -M none -S ..." briefly. */
bool vm_qemu_has_sandbox(const char *qemu);

/* --- disk.c --- */

/* An ext4 image of size bytes at out_img holding the tree at dir
 * (mke2fs -t ext4 -d DIR -F IMG SIZE, run as a child). */
int vm_disk_from_rootfs(const char *dir, uint64_t size, const char *out_img,
			struct vs_err *err);

/* --- initramfs.c: the guest's /init and what it needs --- */

struct vm_initramfs {
	const char *kernel;        /* its modules: /lib/modules/<version from
				    * its name vmlinuz-<version>> */
	const char *modules_dir;   /* NULL = as above; a missing dir = none */
	const void *agent;         /* the static agent binary: becomes /init */
	size_t agent_len;
	const void *process;       /* /vs/process: vm_agent_encode_proc() */
	size_t process_len;
	bool init;                 /* /vs/init: run the image's /sbin/init */
	const char *out;           /* the cpio (newc) written here */
};
/* Writes the initramfs: /init, /dev/console, /modules/<name>.ko (virtio
 * mmio, blk, net, console, balloon, the ACPI button and evdev, with their
 * dependencies first, decompressed) and /modules/order. */
int vm_initramfs_build(const struct vm_initramfs *spec, struct vs_err *err);
/* "6.1.0-57-cloud-amd64" from ".../vmlinuz-6.1.0-57-cloud-amd64"; "" if the
 * name does not say. */
void vm_kernel_version(const char *kernel, char *buf, size_t len);

/* --- agent-client.c: exec in a guest through its agent --- */

/* Who a process runs as in the guest (the OCI process.user) */
struct vm_agent_user {
	uint32_t uid, gid;
	const uint32_t *gids;      /* additional groups */
	size_t n_gids;
};
/* The EXEC payload of vm/agent/proto.h (malloc'd); user NULL = root. */
void *vm_agent_encode_proc(char *const *argv, char *const *env, const char *cwd,
			   const struct vm_agent_user *user, size_t *len);
/* Runs argv in the guest behind the agent socket; in_fd (-1 = none) feeds
 * its stdin, its output goes to out_fd and err_fd. *exit_status gets its
 * status (128+N: killed by signal N). Waits for the guest as long as it
 * takes to answer (a guest still booting answers when its agent runs). */
int vm_agent_exec(const char *sock, char *const *argv, char *const *env, const char *cwd,
		  const struct vm_agent_user *user, int in_fd, int out_fd, int err_fd,
		  int *exit_status, struct vs_err *err);

/* --- qmp.c --- */

/* One QMP command over the unix socket: greeting, qmp_capabilities, the
 * command (a JSON object such as {"execute":"stop"}), events skipped. On
 * success *reply (may be NULL) gets the reply line, to free; an "error"
 * reply is -EIO with its desc in err. */
int vm_qmp(const char *sock, const char *command, char **reply, struct vs_err *err);

/* --- migrate.c: the guest's state to a file and back (live snapshots) --- */

/* Saves RAM and device state to out through QEMU's migration to a unix
 * socket at sock that we listen on; pause the guest first. Afterwards QEMU
 * is "postmigrate": vm_resume goes on. */
int vm_save_state(const char *qmp, const char *sock, const char *out, struct vs_err *err);
/* Feeds a saved state to a QEMU started with spec.incoming = sock; returns
 * once the state is in: the guest is then paused as it was saved (vm_resume goes
 * on). */
int vm_load_state(const char *qmp, const char *sock, const char *in, struct vs_err *err);

/* --- vm.c: the VMM process --- */

/* Where the VMM goes. Everything here is optional (NULL/0 = not done). */
struct vm_jail {
	const char *const *cgroup_dirs;  /* NULL-terminated: the pid goes into each
					  * dir's cgroup.procs (every v1 hierarchy, or
					  * the one v2 dir) before exec */
	int unshare_flags;               /* CLONE_NEWNS|CLONE_NEWUTS|CLONE_NEWIPC|
					  * CLONE_NEWNET (no tap then) */
};

/* Starts QEMU (stdin /dev/null) and returns once QMP answers, or fails
 * within timeout_ms (0 = 15 s) naming QEMU's last stderr line when it died. */
int vm_start(const struct vm_spec *spec, const struct vm_jail *jail, pid_t *pid,
	     unsigned timeout_ms, struct vs_err *err);
/* ACPI power button (system_powerdown), then waits up to timeout_ms for the
 * process to end, then SIGKILL. 0 = the guest powered off, 1 = killed.
 * The pid is reaped if it is our child. */
int vm_stop(pid_t pid, const char *qmp, unsigned timeout_ms, struct vs_err *err);
int vm_pause(const char *qmp, struct vs_err *err);    /* QMP stop */
int vm_resume(const char *qmp, struct vs_err *err);   /* QMP cont */
/* The balloon's target: the guest gives back memory above bytes. */
int vm_balloon(const char *qmp, uint64_t bytes, struct vs_err *err);
/* query-status: "running", "paused", "shutdown", ... */
int vm_status(const char *qmp, char *status, size_t len, struct vs_err *err);

struct vm_stats {
	char status[32];
	unsigned vcpus;            /* query-cpus-fast */
	uint64_t memory_bytes;     /* query-memory-size-summary base-memory */
	uint64_t vmm_rss_bytes;    /* the QEMU process's VmRSS (0 if pid <= 0) */
};
int vm_stats(pid_t pid, const char *qmp, struct vm_stats *out, struct vs_err *err);

#endif
