#!/usr/bin/env bash
# Builds a tiny busybox image without any registry and writes it as a
# docker-archive tarball (the format of `docker save`), which both
# `docker load` and `podman load` accept.
#
#   mkimage.sh OUT.tar [REPO:TAG]
#
# The root filesystem holds Debian's statically linked busybox
# (busybox-static) at /bin/busybox with one hard link per applet the engine
# tests use, a passwd/group pair, and the usual empty mount points. The
# image configuration carries a PATH, a working directory and CMD ["sh"].
# Everything is written with fixed owners and timestamps, so the same
# busybox gives the same image id.
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 OUT.tar [REPO:TAG]" >&2; exit 2; }
out=$1
tag=${2:-localhost/runx-busybox:latest}

busybox=${BUSYBOX:-/bin/busybox}
if [ ! -x "$busybox" ]; then
	echo "mkimage: $busybox not found (install busybox-static)" >&2
	exit 1
fi
if LC_ALL=C readelf -l "$busybox" 2>/dev/null | grep -q 'program interpreter'; then
	echo "mkimage: $busybox is dynamically linked; busybox-static is needed" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/rootfs
arc=$tmp/archive
mkdir -p "$root" "$arc"

# ------------------------------------------------------------- root filesystem
mkdir -p "$root"/{bin,dev,etc,proc,sys,root,tmp,var/tmp,home}
chmod 1777 "$root/tmp" "$root/var/tmp"
chmod 0700 "$root/root"
cp "$busybox" "$root/bin/busybox"
chmod 0755 "$root/bin/busybox"
applets=(
	sh ash echo cat sleep ls id true false env ps hostname printf grep wc
	kill mkdir uname test '[' pwd touch rm head tail tr stat readlink whoami
	nproc cut sed awk date seq timeout mount df free top ip tty stty
)
for a in "${applets[@]}"; do
	ln "$root/bin/busybox" "$root/bin/$a"
done
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/bin/false
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
nogroup:x:65534:
EOF
: >"$root/etc/hostname"
: >"$root/etc/hosts"
: >"$root/etc/resolv.conf"

# ---------------------------------------------------------------------- layer
# shellcheck disable=SC2054 # the commas belong to --pax-option
tar_opts=(--numeric-owner --owner=0 --group=0 --sort=name --mtime=@0 --format=posix
	--pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
tar "${tar_opts[@]}" -C "$root" -cf "$tmp/layer.tar" .
layer_sha=$(sha256sum "$tmp/layer.tar" | cut -d' ' -f1)
mkdir -p "$arc/$layer_sha"
mv "$tmp/layer.tar" "$arc/$layer_sha/layer.tar"
printf '1.0' >"$arc/$layer_sha/VERSION"

# ---------------------------------------------------------------- image config
created=1970-01-01T00:00:00Z
config=$(printf '{"architecture":"amd64","os":"linux","created":"%s",' "$created"
	printf '"config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],'
	printf '"Cmd":["sh"],"WorkingDir":"/","Labels":{"dev.runx.test":"engines"}},'
	printf '"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},' "$layer_sha"
	printf '"history":[{"created":"%s","created_by":"runx tests/engines/podman-docker/mkimage.sh"}]}' "$created")
printf '%s' "$config" >"$arc/config.json"
config_sha=$(sha256sum "$arc/config.json" | cut -d' ' -f1)
mv "$arc/config.json" "$arc/$config_sha.json"

printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
	"$config_sha" "$tag" "$layer_sha" >"$arc/manifest.json"
repo=${tag%:*}
printf '{"%s":{"%s":"%s"}}' "$repo" "${tag##*:}" "$layer_sha" >"$arc/repositories"

tar "${tar_opts[@]}" -C "$arc" -cf "$out.new" .
mv "$out.new" "$out"
echo "mkimage: $out: $tag, image id sha256:$config_sha"
