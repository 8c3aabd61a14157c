#!/bin/sh
# debian-rootfs.sh [DIR]: build, once, a Debian 12 (bookworm) minbase rootfs
# for the sandbox compatibility suite (tests/sandbox_compat_test.go), with
# busybox, python3 and procps added (perl-base and coreutils are in minbase),
# and CPython's regression tests (libpython3.11-testsuite) as a corpus.
#
# DIR defaults to /var/cache/runx-tests/debian-bookworm (outside the
# repository). The rootfs is DIR/rootfs; DIR/stamp records what was built and
# is written last, so an interrupted build is redone from scratch. A lock
# (flock on DIR.lock) makes concurrent callers wait for one build. The mirror
# is the one apt on this machine uses for bookworm (override with MIRROR=).
set -eu

dir=${1:-/var/cache/runx-tests/debian-bookworm}
suite=bookworm
include=busybox,python3,procps,libpython3.11-testsuite
want="$suite minbase $include v2"

mkdir -p "$(dirname "$dir")"
exec 9>"$dir.lock"
flock 9

if [ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$want" ] && [ -x "$dir/rootfs/usr/bin/python3" ]; then
	echo "$dir/rootfs"
	exit 0
fi

if [ -z "${MIRROR:-}" ]; then
	# deb822 sources first, then one-line sources; take the first URI that
	# serves bookworm (not -security, not -updates).
	MIRROR=$(awk '
		/^URIs:/ { uri = $2 }
		/^Suites:/ { for (i = 2; i <= NF; i++) if ($i == "bookworm" && uri != "") { print uri; exit } }
	' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n1)
fi
if [ -z "${MIRROR:-}" ]; then
	MIRROR=$(awk '$1 == "deb" && $3 == "bookworm" { print $2; exit }' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n1)
fi
MIRROR=${MIRROR:-http://deb.debian.org/debian}

command -v debootstrap >/dev/null || { echo "debian-rootfs.sh: debootstrap is not installed" >&2; exit 2; }

rm -rf "$dir/rootfs" "$dir/stamp"
mkdir -p "$dir"
debootstrap --variant=minbase --include="$include" "$suite" "$dir/rootfs" "$MIRROR" >"$dir/debootstrap.log" 2>&1 || {
	tail -n 30 "$dir/debootstrap.log" >&2
	exit 1
}
# The /etc/hosts an engine would bind in (debootstrap writes none): programs
# and tests resolve "localhost".
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$dir/rootfs/etc/hosts"
# Keep it small: no package lists or downloaded .debs.
rm -rf "$dir/rootfs/var/cache/apt/archives/"*.deb "$dir/rootfs/var/lib/apt/lists/"* 2>/dev/null || true
echo "$want" >"$dir/stamp"
echo "$dir/rootfs"
