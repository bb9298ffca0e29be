#!/usr/bin/env bash
# Installs what building and testing vserver needs on Debian 12 (as root).
# Quiet when everything is already there.
set -eu
# --build: only what building and running vserver needs (the demo)
BUILD_PKGS=(
	build-essential pkg-config libyajl-dev libseccomp-dev libcap-dev
	libnl-3-dev libnl-route-3-dev libnftables-dev libarchive-dev
	busybox-static iproute2 nftables e2fsprogs jq musl-tools
)
PKGS=(
	build-essential pkg-config clang libclang-rt-14-dev
	libyajl-dev libseccomp-dev libcap-dev libcgroup-dev
	libnl-3-dev libnl-route-3-dev libnftables-dev libarchive-dev
	bats jq busybox-static iproute2 nftables iperf3 util-linux procps psmisc
	cpio qemu-system-x86 linux-image-cloud-amd64 e2fsprogs xfsprogs extlinux syslinux-common
	crun runc hyperfine umoci zstd xz-utils podman containerd debootstrap wget musl-tools python3 apparmor
	checkpolicy attr keyutils strace
)
if [ "${1:-}" = --build ]; then PKGS=("${BUILD_PKGS[@]}"); fi
missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "install-deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q
	apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
