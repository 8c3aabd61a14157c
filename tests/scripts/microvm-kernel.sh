#!/usr/bin/env bash
# Installs what the microvm isolation mode needs on a Debian 12 host:
# QEMU and its virtiofsd (qemu-system-x86), and a guest kernel taken from
# Debian's linux-image-cloud-amd64 package: downloaded with apt-get and
# unpacked, never installed (the host's boot is not touched). The kernel and
# the guest's modules go to DIR (default /usr/local/lib/runx/microvm, where
# runx looks); the runx binary makes the initramfs itself.
set -euo pipefail
dir=${1:-/usr/local/lib/runx/microvm}
. "$(dirname "$0")/debian.sh"

need=()
[ -x /usr/bin/qemu-system-x86_64 ] || need+=(qemu-system-x86)
[ -x /usr/lib/qemu/virtiofsd ] || need+=(qemu-system-common)
if [ ${#need[@]} -gt 0 ]; then
	echo "microvm: installing ${need[*]}"
	apt_install "${need[@]}"
fi

# The versioned package the metapackage points at.
pkg=$(kernel_package linux-image-cloud-amd64) || { echo "microvm: no linux-image-cloud-amd64 package" >&2; exit 1; }
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
unpack_package "$pkg" "$tmp" || { echo "microvm: cannot download $pkg" >&2; exit 1; }
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
