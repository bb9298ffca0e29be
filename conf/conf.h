/* conf: the OCI runtime-spec (1.2) config.json as typed structs, parsed and
 * validated with yajl. Pure functions: no syscalls besides reading the file
 * given to conf_load(), so the parser can be fuzzed.
 *
 * Conventions: strings are heap-allocated (NULL = absent); string lists are
 * NULL-terminated char ** (NULL = absent); arrays of structs come with a
 * count; optional scalars are `struct opt_*` with .set. */
#ifndef VS_CONF_H
#define VS_CONF_H

#include "../common/common.h"

struct opt_i64 { bool set; int64_t v; };
struct opt_u64 { bool set; uint64_t v; };
struct opt_bool { bool set; bool v; };

struct conf_kv { char *key, *value; };

/* ---- process ---- */

struct conf_rlimit {
	int type;              /* RLIMIT_* number */
	char *name;            /* "RLIMIT_NOFILE" */
	uint64_t soft, hard;
};

struct conf_caps {
	bool set;              /* process.capabilities present */
	uint64_t bounding, effective, inheritable, permitted, ambient; /* 1ULL << CAP_* */
};

struct conf_user {
	uint32_t uid, gid;
	struct opt_u64 umask;
	uint32_t *additional_gids;
	size_t n_additional_gids;
	char *username;        /* windows-only in the spec; kept for completeness */
};

struct conf_scheduler {
	bool set;
	int policy;            /* SCHED_* */
	int nice, priority;
	uint64_t flags;        /* SCHED_FLAG_* */
	uint64_t runtime, deadline, period;
};

struct conf_io_priority {
	bool set;
	int class;             /* IOPRIO_CLASS_RT=1, BE=2, IDLE=3 */
	int priority;          /* 0..7 */
};

struct conf_process {
	bool terminal;
	bool has_console_size;
	unsigned console_height, console_width;
	struct conf_user user;
	char **args;           /* required, non-empty */
	char *command_line;
	char **env;
	char *cwd;             /* required, absolute */
	struct conf_caps caps;
	struct conf_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	char *selinux_label;
	struct opt_i64 oom_score_adj;
	struct conf_scheduler scheduler;
	struct conf_io_priority io_priority;
	char *exec_cpu_affinity_initial, *exec_cpu_affinity_final;
};

/* ---- root, mounts ---- */

struct conf_idmap { uint32_t container_id, host_id, size; };

struct conf_mount {
	char *destination;     /* required, absolute */
	char *type;            /* may be NULL (bind) */
	char *source;
	char **options;        /* as written */
	/* options, decoded: */
	unsigned long flags;        /* MS_* to set (MS_BIND|MS_REC for rbind, MS_RDONLY, ...) */
	unsigned long clear_flags;  /* MS_* explicitly cleared ("rw", "suid", ...) */
	unsigned long propagation;  /* MS_SHARED/MS_SLAVE/MS_PRIVATE/MS_UNBINDABLE (| MS_REC) */
	uint64_t attr_set, attr_clr;/* MOUNT_ATTR_* applied recursively ("rro", "rnosuid", ...) */
	bool idmap, ridmap;         /* "idmap"/"ridmap" options */
	bool copy_up;               /* "tmpcopyup" */
	char *data;                 /* remaining options joined by ',' (NULL if none) */
	struct conf_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
};

/* ---- hooks ---- */

enum conf_hook_kind {
	CONF_HOOK_PRESTART,
	CONF_HOOK_CREATE_RUNTIME,
	CONF_HOOK_CREATE_CONTAINER,
	CONF_HOOK_START_CONTAINER,
	CONF_HOOK_POSTSTART,
	CONF_HOOK_POSTSTOP,
	CONF_HOOK__MAX
};

struct conf_hook {
	char *path;            /* required, absolute */
	char **args;
	char **env;
	struct opt_i64 timeout; /* seconds, > 0 */
};

struct conf_hook_list { struct conf_hook *v; size_t n; };

/* ---- linux ---- */

enum conf_ns_type {
	CONF_NS_PID, CONF_NS_NETWORK, CONF_NS_MOUNT, CONF_NS_IPC,
	CONF_NS_UTS, CONF_NS_USER, CONF_NS_CGROUP, CONF_NS_TIME,
	CONF_NS__MAX
};

struct conf_namespace {
	bool present;          /* listed in linux.namespaces */
	char *path;            /* join this one instead of creating */
};

struct conf_device {
	char *path;            /* required, absolute */
	char type;             /* 'c', 'b', 'u', 'p' */
	int64_t major, minor;  /* required unless type 'p' */
	struct opt_u64 file_mode, uid, gid;
};

struct conf_dev_rule {    /* linux.resources.devices[] */
	bool allow;
	char type;             /* 'a', 'c', 'b' ('a' when absent) */
	int64_t major, minor;  /* -1 = wildcard */
	char access[4];        /* subset of "rwm" ("rwm" when absent) */
};

struct conf_blkio_dev {
	int64_t major, minor;
	struct opt_u64 weight, leaf_weight;   /* weightDevice */
	uint64_t rate;                        /* throttle*Device */
};

struct conf_resources {
	struct conf_dev_rule *devices;
	size_t n_devices;
	struct {
		struct opt_i64 limit, reservation, swap, kernel, kernel_tcp;
		struct opt_u64 swappiness;
		struct opt_bool disable_oom_killer, use_hierarchy, check_before_update;
	} memory;
	struct {
		struct opt_u64 shares, period, realtime_period, burst;
		struct opt_i64 quota, realtime_runtime, idle;
		char *cpus, *mems;
	} cpu;
	struct { struct opt_i64 limit; } pids;
	struct {
		struct opt_u64 weight, leaf_weight;
		struct conf_blkio_dev *weight_device, *throttle_read_bps, *throttle_write_bps,
			*throttle_read_iops, *throttle_write_iops;
		size_t n_weight_device, n_throttle_read_bps, n_throttle_write_bps,
			n_throttle_read_iops, n_throttle_write_iops;
	} block_io;
	struct conf_hugepage { char *page_size; uint64_t limit; } *hugepage_limits;
	size_t n_hugepage_limits;
	struct {
		struct opt_u64 class_id;
		struct conf_kv *priorities;  /* value is the priority as text */
		size_t n_priorities;
	} network;
	struct conf_rdma { char *device; struct opt_u64 hca_handles, hca_objects; } *rdma;
	size_t n_rdma;
	struct conf_kv *unified;
	size_t n_unified;
};

struct conf_seccomp_arg {
	unsigned index;
	uint64_t value, value_two;
	int op;                /* SCMP_CMP_* numbering: NE=1 LT LE EQ GE GT MASKED_EQ=7 */
};

struct conf_seccomp_rule {
	char **names;
	int action;            /* CONF_SECCOMP_ACT_* */
	struct opt_u64 errno_ret;
	struct conf_seccomp_arg *args;
	size_t n_args;
};

enum conf_seccomp_action {
	CONF_SECCOMP_ACT_KILL,          /* SCMP_ACT_KILL (= KILL_THREAD) */
	CONF_SECCOMP_ACT_KILL_PROCESS,
	CONF_SECCOMP_ACT_KILL_THREAD,
	CONF_SECCOMP_ACT_TRAP,
	CONF_SECCOMP_ACT_ERRNO,
	CONF_SECCOMP_ACT_TRACE,
	CONF_SECCOMP_ACT_ALLOW,
	CONF_SECCOMP_ACT_LOG,
	CONF_SECCOMP_ACT_NOTIFY,
};

struct conf_seccomp {
	int default_action;
	struct opt_u64 default_errno_ret;
	char **architectures;  /* "SCMP_ARCH_X86_64", ... */
	char **flags;          /* "SECCOMP_FILTER_FLAG_LOG", ... */
	char *listener_path, *listener_metadata;
	struct conf_seccomp_rule *syscalls;
	size_t n_syscalls;
};

struct conf_linux {
	struct conf_namespace ns[CONF_NS__MAX];
	struct conf_idmap *uid_mappings, *gid_mappings;
	size_t n_uid_mappings, n_gid_mappings;
	struct { struct opt_i64 secs; struct opt_u64 nanosecs; } time_offsets[2]; /* 0 monotonic, 1 boottime */
	struct conf_device *devices;
	size_t n_devices;
	char *cgroups_path;
	bool has_resources;
	struct conf_resources resources;
	struct conf_kv *sysctl;
	size_t n_sysctl;
	struct conf_seccomp *seccomp;   /* NULL = none */
	unsigned long rootfs_propagation; /* 0 = default */
	char **masked_paths, **readonly_paths;
	char *mount_label;
	struct { bool set; char *domain; char **flags; } personality;
	struct { bool set; char *clos_id, *l3_cache_schema, *mem_bw_schema;
		 bool enable_cmt, enable_mbm; } intel_rdt;
};

/* ---- the whole config ---- */

struct conf_config {
	char *oci_version;     /* required */
	struct { char *path; bool readonly; } root;   /* path required on linux */
	struct conf_mount *mounts;
	size_t n_mounts;
	struct conf_process *process;   /* NULL allowed for config, required by create */
	char *hostname, *domainname;
	struct conf_hook_list hooks[CONF_HOOK__MAX];
	struct conf_kv *annotations;
	size_t n_annotations;
	bool has_linux;
	struct conf_linux linux_;
};

/* Parses a config.json held in memory. `what` names the source in errors
 * ("config.json"). Error messages look like
 *   conf: config.json: process.args: must be a non-empty array of strings
 * Returns 0 and a config to free with conf_free(), or -errno. */
int conf_parse(const char *json, size_t len, const char *what,
	       struct conf_config **out, struct vs_err *err);
/* Reads and parses a file. */
int conf_load(const char *path, struct conf_config **out, struct vs_err *err);
void conf_free(struct conf_config *cfg);

/* A process.json for `exec -p`: the same schema as config.process. */
int conf_parse_process(const char *json, size_t len, const char *what,
		       struct conf_process **out, struct vs_err *err);
void conf_process_free(struct conf_process *p);

/* A resources file for `update --resources` (linux.resources schema). */
int conf_parse_resources(const char *json, size_t len, const char *what,
			 struct conf_resources *out, struct vs_err *err);
void conf_resources_free(struct conf_resources *r);

/* The default spec printed by `vsrun spec` (and `--rootless`); a
 * heap-allocated JSON string. */
char *conf_default_spec(bool rootless);
/* The same, with the ids the rootless mappings use given explicitly
 * (conf_default_spec() passes geteuid()/getegid()); pure, for tests. */
char *conf_default_spec_ids(bool rootless, uint32_t uid, uint32_t gid);

/* Name tables, for other modules and the features document. */
const char *conf_ns_name(enum conf_ns_type t);   /* "pid", "network", ... */
/* The namespace a linux.sysctl key belongs to (CONF_NS_NETWORK, CONF_NS_IPC
 * or CONF_NS_UTS); -EPERM for a key of the host's (not namespaced), -EINVAL
 * for one that is not a sysctl name. */
int conf_sysctl_ns(const char *key);
/* "/proc/sys/..." for a key ("net.ipv4.ip_forward" or, with slashes, dots
 * kept: "net/ipv4/conf/eth0.100/forwarding"); -EINVAL, -ENAMETOOLONG. */
int conf_sysctl_path(const char *key, char *out, size_t len);
int conf_cap_from_name(const char *name);        /* "CAP_KILL" -> 5, or -EINVAL */
const char *conf_cap_name(int cap);
int conf_cap_last(void);                         /* highest known CAP_* */
int conf_rlimit_from_name(const char *name);     /* "RLIMIT_NOFILE" -> 7 */
int conf_signal_from_name(const char *s);        /* "KILL", "SIGKILL", "9" -> 9 */
const char *conf_hook_name(enum conf_hook_kind k);  /* "prestart", "createRuntime", ... */
/* NULL-terminated lists of every mount option / seccomp action / arch / flag
 * name the parser accepts (for `vsrun features`). */
const char *const *conf_known_mount_options(void);
const char *const *conf_known_seccomp_actions(void);
const char *const *conf_known_seccomp_archs(void);
const char *const *conf_known_seccomp_flags(void);
const char *conf_seccomp_action_name(int action);

/* Annotation: limits stay on linux.cgroupsPath; the container's processes
 * and its cgroup namespace go into the cgroup of this name directly below
 * it, which the container may write (a full system's init: see
 * docs/vserver.md). The guest can then change only that inner cgroup's
 * files, whose effect the outer one bounds. */
#define CONF_ANN_DELEGATE_CGROUP "org.vserver.delegate-cgroup"

/* The annotation value for key, or NULL. */
const char *conf_annotation(const struct conf_config *cfg, const char *key);

/* ---- vserver server records (server.c) ----
 * server.json: what `vserver create` was asked for. The OCI config.json of the
 * server is generated from it and the image's defaults. */

enum conf_restart { CONF_RESTART_NO, CONF_RESTART_ON_FAILURE, CONF_RESTART_ALWAYS };

struct conf_server {
	char *name, *image, *hostname;
	char **cmd;               /* NULL: the image's entrypoint + cmd */
	bool init;                /* run /sbin/init (a full distribution) */
	char **env;               /* "K=V" added to the image's */
	uint64_t cpu_milli;       /* 1500 = 1.5 CPUs; 0 = no limit */
	uint64_t memory, swap, disk, pids;   /* bytes / count; 0 = no limit */
	char **io_max;            /* "MAJ:MIN rbps=N wbps=N riops=N wiops=N" */
	uint64_t io_weight;       /* 0 = unset */
	char *net;                /* network name; "none" = loopback only */
	char *ip;                 /* static address or NULL (auto) */
	char **publish;           /* "[hostip:]hostport:port[/udp]" */
	uint64_t bw_in, bw_out;   /* bits/s, 0 = no cap */
	bool autostart;
	enum conf_restart restart;
	char **alerts;            /* "memory > 90% for 60s => CMD" */
	char *created;
	/* a full VM (vm/): the server's rootfs becomes the guest's disk */
	bool vm;
	char *vm_kernel;          /* the guest kernel (microvm); NULL with vm_disk_image */
	char *vm_disk_image;      /* a bootable raw/qcow2 disk (q35 + firmware) instead */
	uint64_t vm_vcpus;        /* 0 = 1 */
};

/* Parses server.json; errors name the path like conf_parse's. */
int conf_server_parse(const char *json, size_t len, const char *what,
		      struct conf_server **out, struct vs_err *err);
/* server.json text (malloc'd). */
char *conf_server_json(const struct conf_server *s);
void conf_server_free(struct conf_server *s);
const char *conf_restart_name(enum conf_restart r);
int conf_restart_from_name(const char *s);      /* -EINVAL if unknown */
/* Parses "[hostip:]hostport:port[/tcp|/udp]"; hostip is IPv4 or [IPv6].
 * host_ip gets it without brackets, or "" (every local address, both families). */
int conf_parse_publish(const char *s, char host_ip[64], unsigned *host_port,
		       unsigned *port, bool *udp);
/* Parses "100mbit", "1gbit", "500kbit", "1000000" (bits/s). */
int conf_parse_rate(const char *s, uint64_t *bits);

/* Takes the text out of a yajl generator and frees it: a malloc'd string,
 * with a final newline when asked. Shared by every JSON writer. */
struct yajl_gen_t;
char *conf_gen_take(struct yajl_gen_t *g, bool newline);

/* What the image says a server runs with (from rootfs/image's record). */
struct conf_image_defaults {
	char *const *entrypoint, *const *cmd, *const *env;
	const char *workdir, *user;
};

/* The OCI config.json of a server (malloc'd JSON). etc_dir holds the
 * resolv.conf, hosts and hostname files bound into it (NULL: none). */
char *conf_server_oci_config(const struct conf_server *s, const struct conf_image_defaults *img,
			     const char *etc_dir);
/* The linux.resources of a server's limits (for live `vserver set`). Fills
 * *res (free with conf_resources_free). */
int conf_server_resources(const struct conf_server *s, struct conf_resources *res,
			  struct vs_err *err);

#endif
