# Debian package steps the test scripts share (sourced, not run): each
# refreshes the package lists once when its first try fails, as a fresh
# machine's lists may be missing or stale.
export DEBIAN_FRONTEND=noninteractive
apt_opts=(-o DPkg::Lock::Timeout=600)

# apt_install PKG...: installs the packages, quietly.
apt_install() {
	apt-get install -y -qq --no-install-recommends "${apt_opts[@]}" "$@" >/dev/null ||
		{ apt-get update -qq "${apt_opts[@]}" && apt-get install -y -qq --no-install-recommends "${apt_opts[@]}" "$@" >/dev/null; }
}

# kernel_package META: prints the versioned linux-image package that the
# metapackage META (linux-image-amd64, linux-image-cloud-amd64) points at.
kernel_package() {
	local pkg
	pkg=$(apt-cache depends "$1" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	if [ -z "$pkg" ]; then
		apt-get update -qq "${apt_opts[@]}"
		pkg=$(apt-cache depends "$1" | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
	fi
	[ -n "$pkg" ] && echo "$pkg"
}

# unpack_package PKG DIR: downloads PKG into DIR and unpacks it into DIR/x
# (nothing is installed).
unpack_package() {
	(cd "$2" && apt-get download -q "$1" >/dev/null 2>&1) ||
		{ apt-get update -qq "${apt_opts[@]}" && (cd "$2" && apt-get download -q "$1" >/dev/null); } || return 1
	dpkg-deb -x "$2/$1"_*.deb "$2/x"
}
