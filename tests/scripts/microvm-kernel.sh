#!/usr/bin/env bash
# Installs what the microvm isolation mode needs on a Debian 12 host:
# QEMU and its virtiofsd (qemu-system-x86), and a guest kernel taken from
# Debian's linux-image-cloud-amd64 package: downloaded with apt-get and
# unpacked, never installed (the host's boot is not touched). The kernel and
# the guest's modules go to DIR (default /usr/local/lib/runx/microvm, where
# runx looks); the runx binary makes the initramfs itself.
set -euo pipefail
dir=${1:-/usr/local/lib/runx/microvm}
export DEBIAN_FRONTEND=noninteractive

need=()
[ -x /usr/bin/qemu-system-x86_64 ] || need+=(qemu-system-x86)
[ -x /usr/lib/qemu/virtiofsd ] || need+=(qemu-system-common)
if [ ${#need[@]} -gt 0 ]; then
	echo "microvm: installing ${need[*]}"
	apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null ||
		{ apt-get update -qq -o DPkg::Lock::Timeout=600 && apt-get install -y -qq --no-install-recommends -o DPkg::Lock::Timeout=600 "${need[@]}" >/dev/null; }
fi

# The versioned package the metapackage points at.
pkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$pkg" ]; then
	apt-get update -qq -o DPkg::Lock::Timeout=600
	pkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
[ -n "$pkg" ] || { echo "microvm: no linux-image-cloud-amd64 package" >&2; exit 1; }
ver=${pkg#linux-image-}
# The modules the guest loads: one list, microvm/modules.txt.
mods=$(sed 's/#.*//' "$(dirname "$0")/../../microvm/modules.txt" | tr -s ' \n' ' ')
have_mods() { for m in $mods; do [ -f "$dir/modules/$m.ko" ] || return 1; done; }
if [ -f "$dir/vmlinuz" ] && [ "$(cat "$dir/version" 2>/dev/null)" = "$ver" ] && have_mods; then
	echo "microvm: guest kernel $ver in $dir"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "microvm: unpacking $pkg into $dir"
(cd "$tmp" && apt-get download -q "$pkg" >/dev/null 2>&1) ||
	{ apt-get update -qq -o DPkg::Lock::Timeout=600 && (cd "$tmp" && apt-get download -q "$pkg" >/dev/null); }
dpkg-deb -x "$tmp"/"$pkg"_*.deb "$tmp/x"
mkdir -p "$dir.new/modules"
cp "$tmp/x/boot/vmlinuz-$ver" "$dir.new/vmlinuz"
# Only the modules a guest loads.
for m in $mods; do
	f=$(find "$tmp/x/lib/modules/$ver" -name "$m.ko" -print -quit)
	[ -n "$f" ] || { echo "microvm: $m.ko is not in $pkg" >&2; exit 1; }
	cp "$f" "$dir.new/modules/"
done
echo "$ver" >"$dir.new/version"
rm -rf "$dir"
mv "$dir.new" "$dir"
echo "microvm: guest kernel $ver in $dir"
