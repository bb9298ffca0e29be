#!/usr/bin/env bats
# The image store with an OCI layout made by umoci (a real third-party
# writer): layers with whiteouts, imported, mounted through overlay.
# Drives the store through the unit test binary's driver mode until
# `vserver image` exists.

load helpers

: "${BUILD:=build}"
IMG=${TEST_IMAGE_BIN:-$BATS_TEST_DIRNAME/../$BUILD/tests/test-image}

setup() {
	[ -x "$IMG" ] || skip "$IMG is not built (make unit)"
	command -v umoci >/dev/null || skip "umoci is not installed (apt-get install umoci)"
	[ "$(id -u)" = 0 ] || skip "needs root"
	TESTTMP=$(mktemp -d /tmp/vs-image-bats.XXXXXX)
}

teardown() {
	[ -n "${TESTTMP:-}" ] || return 0
	grep -o " $TESTTMP[^ ]*" /proc/self/mountinfo | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf "$TESTTMP"
}

# two umoci layers: the second deletes etc/old and replaces data/ (umoci
# writes .wh.old and .wh.sub), then sets the config
make_umoci_image() {
	local L=$TESTTMP/L
	umoci init --layout "$L"
	umoci new --image "$L:v1"
	umoci unpack --image "$L:v1" "$TESTTMP/b1"
	mkdir -p "$TESTTMP/b1/rootfs/etc" "$TESTTMP/b1/rootfs/data/sub"
	echo hi >"$TESTTMP/b1/rootfs/etc/greeting"
	echo old >"$TESTTMP/b1/rootfs/etc/old"
	echo x >"$TESTTMP/b1/rootfs/data/sub/x"
	umoci repack --image "$L:v1" "$TESTTMP/b1"
	umoci unpack --image "$L:v1" "$TESTTMP/b2"
	rm "$TESTTMP/b2/rootfs/etc/old"
	rm -rf "$TESTTMP/b2/rootfs/data/sub"
	echo y >"$TESTTMP/b2/rootfs/data/y"
	umoci repack --image "$L:v1" "$TESTTMP/b2"
	umoci config --image "$L:v1" --config.cmd /bin/true --config.workingdir /data
}

@test "image: import a umoci-made OCI layout and mount it" {
	make_umoci_image
	run "$IMG" import-oci "$TESTTMP/store" "$TESTTMP/L" v1 umoci:v1
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	run "$IMG" inspect "$TESTTMP/store" umoci:v1
	[ "$status" -eq 0 ]
	echo "$output" | jq -e '.layers | length == 2'
	echo "$output" | jq -e '.config.cmd == ["/bin/true"] and .config.workdir == "/data"'
	mkdir -p "$TESTTMP/mnt"
	run "$IMG" mount "$TESTTMP/store" umoci:v1 "$TESTTMP/srv" "$TESTTMP/mnt"
	[ "$status" -eq 0 ] || { echo "$output"; false; }
	[ "$(cat "$TESTTMP/mnt/etc/greeting")" = hi ]
	[ ! -e "$TESTTMP/mnt/etc/old" ]
	[ ! -e "$TESTTMP/mnt/data/sub" ]
	[ "$(cat "$TESTTMP/mnt/data/y")" = y ]
	"$IMG" umount "$TESTTMP/srv" "$TESTTMP/mnt"
}

@test "image: a umoci layout with a corrupted layer is refused, store unchanged" {
	make_umoci_image
	"$IMG" import-oci "$TESTTMP/store" "$TESTTMP/L" v1 good:v1
	before=$(cd "$TESTTMP/store" && find . | sort)
	# corrupt the biggest blob (a layer)
	blob=$(ls -S "$TESTTMP/L/blobs/sha256" | head -1)
	printf 'X' | dd of="$TESTTMP/L/blobs/sha256/$blob" bs=1 seek=20 conv=notrunc 2>/dev/null
	run "$IMG" import-oci "$TESTTMP/store" "$TESTTMP/L" v1 bad:v1
	[ "$status" -ne 0 ]
	echo "$output" | grep -q "digest mismatch"
	[ "$(cd "$TESTTMP/store" && find . | sort)" = "$before" ]
}
