#!/usr/bin/env bash
# Installs the Debian 12 packages that building runx and running its tests
# need. Idempotent: packages already present are left alone, and the package
# lists are refreshed only when something has to be installed.
set -euo pipefail

packages=(
	# build
	gcc libc6-dev make pkg-config libseccomp-dev git ca-certificates
	# test rootfs and reference runtime
	busybox-static runc debootstrap
	# tools the runtimes and tests call
	iproute2 procps util-linux psmisc passwd mount jq iputils-ping
	# checkpoint and restore; criu locks a container's network with
	# iptables-restore (its default, as under runc), a package it neither
	# depends on nor recommends
	criu iptables
)

if [ "$(id -u)" -ne 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		exec sudo -E bash "$0" "$@"
	fi
	echo "deps.sh: must run as root (apt-get install)" >&2
	exit 1
fi

missing=()
for p in "${packages[@]}"; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	if [ "$status" != "install ok installed" ]; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -eq 0 ]; then
	echo "deps: all ${#packages[@]} packages already installed"
else
	echo "deps: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends \
		-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
		"${missing[@]}"
fi

# busybox (dynamic) conflicts with busybox-static; the test rootfs needs
# the static one.
if LC_ALL=C readelf -l /bin/busybox 2>/dev/null | grep -q 'program interpreter'; then
	echo "deps: warning: /bin/busybox is dynamically linked; the tests need busybox-static" >&2
fi

# Go is not a Debian package here (Debian 12's is too old for go.mod);
# it is expected under /usr/local/go.
if ! command -v go >/dev/null 2>&1 && [ ! -x /usr/local/go/bin/go ]; then
	echo "deps: warning: no Go toolchain found (expected /usr/local/go/bin/go)" >&2
fi
