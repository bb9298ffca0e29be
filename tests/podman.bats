#!/usr/bin/env bats
# podman (Debian's 4.3) driving $VSRUN as its OCI runtime, offline: an image
# imported from a busybox rootfs tarball, no network, cgroupfs, a private
# containers.conf and private storage under a temporary directory, so the
# host's podman state is never touched. Not part of `make check` by default.
#   bats tests/podman.bats                       # $VSRUN (build/vsrun)
#   VSRUN=/usr/sbin/runc bats tests/podman.bats  # proves this file with runc

load helpers

setup_file() {
	if ! command -v podman >/dev/null; then
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends podman \
			>"${BATS_FILE_TMPDIR:-/tmp}/podman-install.log" 2>&1 || true
	fi
	export PM_WHY=
	if ! command -v podman >/dev/null; then
		PM_WHY="podman cannot be installed: $(tail -n 1 "${BATS_FILE_TMPDIR:-/tmp}/podman-install.log" 2>/dev/null)"
		return 0
	fi
	if [ ! -x "$VSRUN" ] || ! "$VSRUN" --version >/dev/null 2>&1; then
		PM_WHY="vsrun not built ($VSRUN missing or --version fails)"
		return 0
	fi
	export PTMP
	PTMP=$(mktemp -d /tmp/vsrun-podman.XXXXXX)
	mkdir -p "$PTMP"/{storage,runroot,tmp,net}
	export CONTAINERS_CONF=$PTMP/containers.conf
	export CONTAINERS_STORAGE_CONF=$PTMP/storage.conf
	export CONTAINERS_REGISTRIES_CONF=$PTMP/registries.conf
	# a runtime here has no CAP_SYS_RESOURCE, so podman's default ulimits
	# (raised above the hard limit) must go
	cat >"$CONTAINERS_CONF" <<-EOF
	[containers]
	default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
	netns = "none"
	[engine]
	cgroup_manager = "cgroupfs"
	events_logger = "file"
	events_logfile_path = "$PTMP/tmp/events.log"
	tmp_dir = "$PTMP/tmp"
	image_copy_tmp_dir = "$PTMP/tmp"
	[network]
	network_config_dir = "$PTMP/net"
	EOF
	cat >"$CONTAINERS_STORAGE_CONF" <<-EOF
	[storage]
	driver = "vfs"
	graphroot = "$PTMP/storage"
	runroot = "$PTMP/runroot"
	EOF
	echo 'unqualified-search-registries = []' >"$CONTAINERS_REGISTRIES_CONF"
	# every container's cgroup goes under one parent of our own
	export CGP=/vsrun-podman-${PTMP##*.}
	pm_opts
	busybox_rootfs "$PTMP/rootfs" || { PM_WHY="cannot make a busybox rootfs"; return 0; }
	tar -C "$PTMP/rootfs" -cf "$PTMP/rootfs.tar" . || { PM_WHY="cannot tar the rootfs"; return 0; }
	# the image copy writes a blob-info cache to /var/lib/containers/cache
	# (no option moves it in podman 4.3): hide /var/lib for the import
	unshare -m --propagation private bash -c 'mount -t tmpfs tmpfs /var/lib && "$@"' bash \
		podman "${PM_OPTS[@]}" import "$PTMP/rootfs.tar" localhost/vsrun-bb:latest >"$PTMP/import.log" 2>&1 ||
		{ PM_WHY="podman import failed: $(tail -n 1 "$PTMP/import.log")"; return 0; }
}

teardown_file() {
	[ -n "${PTMP:-}" ] && [ -d "$PTMP" ] || return 0
	pm rm -af -t 0 >/dev/null 2>&1
	pm rmi -af >/dev/null 2>&1
	grep -o " $PTMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do umount -l "$m"; done
	find /sys/fs/cgroup -depth -type d -path "*$CGP*" -exec rmdir {} + 2>/dev/null
	rm -rf "$PTMP"
}

setup() {
	[ -z "$PM_WHY" ] || skip "$PM_WHY"
}

pm_opts() {
	PM_OPTS=(--runtime "$VSRUN" --root "$PTMP/storage" --runroot "$PTMP/runroot"
		--storage-driver vfs --cgroup-manager cgroupfs --events-backend file
		--tmpdir "$PTMP/tmp")
}
pm() { pm_opts; podman "${PM_OPTS[@]}" "$@"; }
IMG=localhost/vsrun-bb:latest

@test "podman run: prints the output, exit status propagates" {
	run pm run --rm --cgroup-parent "$CGP" "$IMG" echo hello from podman
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" = "hello from podman" ]
	run pm run --rm --cgroup-parent "$CGP" "$IMG" sh -c 'exit 7'
	[ "$status" -eq 7 ]
}

@test "podman run -i: stdin reaches the container" {
	run pm_run_i
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" = 3 ]
}
pm_run_i() { printf 'one\ntwo\nthree\n' | pm run --rm -i --cgroup-parent "$CGP" "$IMG" wc -l; }

@test "podman exec, stop, rm" {
	local name=vsrun-podman-$$
	run pm run -d --name "$name" --cgroup-parent "$CGP" "$IMG" sleep 1000
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run pm exec "$name" echo hello from exec
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$output" = "hello from exec" ]
	# exec joins the container's pid namespace: it sees sleep as pid 1
	run pm exec "$name" cat /proc/1/cmdline
	[ "$output" = "$(printf 'sleep\0001000')" ] || [ "$(echo "$output" | tr -d '\0')" = sleep1000 ]
	run pm stop -t 1 "$name"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run pm inspect -f '{{.State.Status}}' "$name"
	[ "$output" = exited ]
	run pm rm "$name"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run pm ps -a --format '{{.Names}}'
	[[ "$output" != *"$name"* ]]
}

@test "podman run -t: the container gets a pty" {
	run pm run --rm -t --cgroup-parent "$CGP" "$IMG" tty
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(echo "$output" | tr -d '\r')" = /dev/pts/0 ]
}
