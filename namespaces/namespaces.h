/* namespaces: clone flags, user-namespace id maps, joining namespaces by path. */
#ifndef VS_NAMESPACES_H
#define VS_NAMESPACES_H

#include "../conf/conf.h"

/* CLONE_NEW* for one conf namespace type. */
int ns_clone_flag(enum conf_ns_type t);
/* The CLONE_NEW* flags of namespaces to create (present, no path). */
int ns_new_flags(const struct conf_linux *lx);
/* "/proc/PID/ns/<name>" name for a type ("pid", "net", "mnt", ...). */
const char *ns_proc_name(enum conf_ns_type t);

/* Opens every namespace path in lx (O_RDONLY|O_CLOEXEC) into fds[type]
 * (-1 where none). Checks that each is a namespace of the right type, and
 * that none a linux.sysctl key belongs to is the runtime's own. */
int ns_open_paths(const struct conf_linux *lx, int fds[CONF_NS__MAX], struct vs_err *err);
/* setns() into each fd in fds except those in skip_mask (1 << type). */
int ns_join(int fds[CONF_NS__MAX], unsigned skip_mask, struct vs_err *err);
void ns_close_all(int fds[CONF_NS__MAX]);

/* Writes /proc/PID/{uid_map,setgroups,gid_map} from lx. */
int ns_write_id_maps(pid_t pid, const struct conf_linux *lx, struct vs_err *err);
/* Writes /proc/PID/timens_offsets. */
int ns_write_time_offsets(pid_t pid, const struct conf_linux *lx, struct vs_err *err);

/* Host uid for a container uid through the maps (identity when no maps). */
uint32_t ns_map_to_host(const struct conf_idmap *m, size_t n, uint32_t id);

#endif
