#!/usr/bin/env bash
# The OCI runtime-tools validation suite (opencontainers/runtime-tools,
# validation/) against one or more runtimes, side by side. Not run by `make
# check`: it needs a source snapshot, which this script never downloads.
#   RUNTIME_TOOLS_SRC=/path/to/runtime-tools tests/oci-validation.sh [RUNTIME...]
# RUNTIME defaults to $VSRUN ($BUILD/vsrun). Each runtime runs every
# validation/*/*.t from the source root (RUNTIME=... set for it), with a
# per-program timeout; the TAP is summed per runtime.
# Environment:
#   RUNTIME_TOOLS_SRC   the snapshot: its go.mod must say go 1.19 or lower (Debian 12's
#                       Go) and it must vendor its dependencies
#   OCI_TIMEOUT=120     seconds per test program
#   OCI_OUT=DIR         where the TAP of every program and summary.md go (default: a
#                       new /tmp/oci-validation.XXXXXX, kept)
#   OCI_TESTS="a b"     run only these validation/<name> programs
#   OCI_HIDE_UNIFIED    1: run the runtime with /sys/fs/cgroup/unified hidden (an empty
#                       tmpfs over it in a private mount namespace); default: only for
#                       crun on a v1/v2 hybrid host (crun 1.8 refuses hybrid mode)
# Every runtime gets its own state root (a wrapper adds --root), so leftovers
# are deleted afterwards without touching anyone else's containers; mounts
# left under /tmp/ocitest* and cgroups named testdir are cleaned up too.
set -u
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
VSRUN=${VSRUN:-$PWD/$BUILD/vsrun}
TIMEOUT=${OCI_TIMEOUT:-120}

die() { echo "oci-validation: $*" >&2; exit 2; }

# --one RUNTIME NAME OUTDIR: runs every program for one runtime (re-entered
# inside the private mount namespace when the unified hierarchy is hidden)
if [ "${1:-}" = --one ]; then
	rt=$2 name=$3 outdir=$4
	cd "$RUNTIME_TOOLS_SRC" || exit 2
	for t in validation/*/*.t; do
		tn=${t#validation/}; tn=${tn%%/*}
		if [ -n "${OCI_TESTS:-}" ]; then
			case " $OCI_TESTS " in *" $tn "*) ;; *) continue ;; esac
		fi
		start=${EPOCHREALTIME/./}
		RUNTIME=$rt timeout -k 10 "$TIMEOUT" "$t" </dev/null >"$outdir/$tn.tap" 2>"$outdir/$tn.err"
		echo "$tn $? $(( (${EPOCHREALTIME/./} - start) / 1000 ))" >>"$outdir/programs"
	done
	# containers the suite left behind, while still in this namespace
	for c in $(ls "$outdir/state" 2>/dev/null); do
		[ -d "$outdir/state/$c" ] && "$rt" delete --force "$c" >/dev/null 2>&1
	done
	exit 0
fi

[ -n "${RUNTIME_TOOLS_SRC:-}" ] || die "set RUNTIME_TOOLS_SRC to an opencontainers/runtime-tools source snapshot"
RUNTIME_TOOLS_SRC=$(cd "$RUNTIME_TOOLS_SRC" && pwd) || die "no directory $RUNTIME_TOOLS_SRC"
export RUNTIME_TOOLS_SRC
[ -d "$RUNTIME_TOOLS_SRC/validation" ] || die "$RUNTIME_TOOLS_SRC has no validation/ (Debian's package does not ship it: use an upstream snapshot)"
[ -d "$RUNTIME_TOOLS_SRC/vendor" ] || die "$RUNTIME_TOOLS_SRC does not vendor its dependencies (vendor/ missing): the build is offline"
gover=$(awk '$1 == "go" { print $2; exit }' "$RUNTIME_TOOLS_SRC/go.mod")
case "$gover" in
1.1[0-9]|1.1[0-9].*|1.[0-9]|1.[0-9].*) ;;
*) die "$RUNTIME_TOOLS_SRC/go.mod says go $gover; Debian 12 has Go 1.19: use an older snapshot (e.g. the commit before go.mod moved to 1.21)" ;;
esac

if ! command -v go >/dev/null; then
	echo "oci-validation: installing golang-go" >&2
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends golang-go >&2 ||
		die "cannot install golang-go"
fi

# build once (about 20 s), again only when a source is newer than the programs
newest_t=$(ls -t "$RUNTIME_TOOLS_SRC"/validation/*/*.t 2>/dev/null | head -n 1)
if [ -z "$newest_t" ] || [ -n "$(find "$RUNTIME_TOOLS_SRC/validation" "$RUNTIME_TOOLS_SRC/cmd" -name '*.go' -newer "$newest_t" | head -n 1)" ]; then
	echo "oci-validation: building the suite in $RUNTIME_TOOLS_SRC" >&2
	(cd "$RUNTIME_TOOLS_SRC" && GOFLAGS=-mod=vendor GOPROXY=off make runtimetest validation-executables) >&2 ||
		die "building runtime-tools failed"
fi

[ $# -gt 0 ] || set -- "$VSRUN"
OUT=${OCI_OUT:-$(mktemp -d /tmp/oci-validation.XXXXXX)}
mkdir -p "$OUT"
hybrid=0
mountpoint -q /sys/fs/cgroup/unified 2>/dev/null && [ ! -f /sys/fs/cgroup/cgroup.controllers ] && hybrid=1

# cleanup: what the suite leaves behind (mounts under /tmp/ocitest*, their
# directories, cgroups named testdir or cgrouptest) and the containers in our state root
cleanup_leftovers() {
	local state=$1 rt=$2 c m d
	for c in $(ls "$state" 2>/dev/null); do
		[ -d "$state/$c" ] && "$rt" --root "$state" delete --force "$c" >/dev/null 2>&1
	done
	awk '{ print $5 }' /proc/self/mountinfo | grep '^/tmp/ocitest' | sort -r | while read -r m; do
		umount -l "$m" 2>/dev/null
	done
	for d in /tmp/ocitest*; do
		[ -e "$d" ] || continue
		grep -q " $d[/ ]" /proc/self/mountinfo || rm -rf "$d"
	done
	find /sys/fs/cgroup -depth -type d \( -name testdir -o -name cgrouptest \) 2>/dev/null | while read -r d; do
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

summary=$OUT/summary.md
{
	echo "# OCI runtime-tools validation, $(date -u +%Y-%m-%d)"
	echo
	echo "runtime-tools: $(cat "$RUNTIME_TOOLS_SRC/VERSION" 2>/dev/null) ($RUNTIME_TOOLS_SRC), kernel $(uname -r), cgroups $([ $hybrid = 1 ] && echo v1/v2 hybrid || { [ -f /sys/fs/cgroup/cgroup.controllers ] && echo v2 || echo v1; })"
	echo
	echo "| runtime | pass | fail | skip | programs that exited non-zero or timed out (one failure each) | time s |"
	echo "|---|---|---|---|---|---|"
} >"$summary"
details=$OUT/failures.md
: >"$details"

for rt in "$@"; do
	rtpath=$(command -v "$rt") || { echo "| $rt | not found | | | | |" >>"$summary"; continue; }
	rtname=${rtpath##*/}
	ver=$("$rtpath" --version 2>/dev/null | head -n 1)
	if [ -z "$ver" ]; then echo "| $rtname | not built or --version fails | | | | |" >>"$summary"; continue; fi
	dir=$OUT/$rtname
	rm -rf "$dir"; mkdir -p "$dir/state"
	# a wrapper giving the runtime its own state root; it runs a copy of the
	# binary, so a rebuild during the run (make relinks build/vsrun in
	# place) cannot fail a program with "exec: Permission denied"
	cp "$rtpath" "$dir/$rtname.bin" || { echo "| $rtname | cannot copy $rtpath | | | | |" >>"$summary"; continue; }
	printf '#!/bin/sh\nexec %q --root %q "$@"\n' "$dir/$rtname.bin" "$dir/state" >"$dir/runtime"
	chmod +x "$dir/runtime"
	hide=${OCI_HIDE_UNIFIED:-}
	if [ -z "$hide" ]; then hide=0; [ $hybrid = 1 ] && [ "$rtname" = crun ] && hide=1; fi
	echo "oci-validation: $rtname ($ver)$([ $hide = 1 ] && echo ", /sys/fs/cgroup/unified hidden")" >&2
	start=$SECONDS
	if [ "$hide" = 1 ]; then
		unshare -m --propagation private sh -c 'mount -t tmpfs none /sys/fs/cgroup/unified && exec "$@"' sh \
			"$PWD/tests/oci-validation.sh" --one "$dir/runtime" "$rtname" "$dir"
	else
		"$PWD/tests/oci-validation.sh" --one "$dir/runtime" "$rtname" "$dir"
	fi
	secs=$((SECONDS - start))
	cleanup_leftovers "$dir/state" "$rtpath"

	pass=0 fail=0 skip=0 bad=()
	while read -r tn rc ms; do
		f=$dir/$tn.tap
		p=$(grep -E '^ok ' "$f" | grep -vic '# skip')
		s=$(grep -E '^ok ' "$f" | grep -ic '# skip')
		x=$(grep -cE '^not ok' "$f")
		pass=$((pass + p)) skip=$((skip + s)) fail=$((fail + x))
		# the program's exit status is its own verdict (util.Fatal exits 1,
		# e.g. when the runtime accepts what it MUST reject in a *_fail
		# test, or cannot create the container at all): one more assertion
		if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
			bad+=("$tn (timeout)"); fail=$((fail + 1))
		elif [ "$rc" != 0 ]; then
			why=$(grep -v -e '^ *$' -e '^failed to create the container$' -e '^exit status' "$dir/$tn.err" |
				head -n 1 | sed 's/^time=.*msg="//; s/"$//' | cut -c1-140 | tr '|' '/')
			bad+=("$tn (exit $rc: $why)"); fail=$((fail + 1))
		elif [ $((p + s + x)) -eq 0 ]; then
			pass=$((pass + 1))
		fi
		echo "$rtname $tn: $p pass, $x fail, $s skip, exit $rc, ${ms} ms" >>"$dir/per-program"
		if [ "$x" -gt 0 ]; then
			grep -E '^not ok' "$f" | sed "s|^|- $rtname $tn: |" >>"$details"
		fi
	done <"$dir/programs"
	list=none
	[ ${#bad[@]} -gt 0 ] && list=$(printf '%s<br>' "${bad[@]}")
	echo "| $rtname $(echo "$ver" | awk '{ print $3 }') | $pass | $fail | $skip | $list | $secs |" >>"$summary"
	echo "oci-validation: $rtname: $pass pass, $fail fail, $skip skip in ${secs}s" >&2
done

{
	echo
	echo "## failed assertions"
	echo
	cat "$details"
	echo
	echo "TAP of every program: $OUT/<runtime>/<test>.tap"
} >>"$summary"
cat "$summary"
