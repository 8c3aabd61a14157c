#!/usr/bin/env bash
# make demo: builds a throwaway busybox bundle and runs one container in it
# with the freshly built ./runx, printing what the container prints.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
runtime=${RUNX:-$repo/runx}
message=${DEMO_MESSAGE:-hello from runx}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo: run as root (containers need it here)" >&2
	exit 1
fi
if [ ! -x "$runtime" ]; then
	echo "demo: $runtime not found; run 'make build' first" >&2
	exit 1
fi
if [ ! -x /bin/busybox ]; then
	echo "demo: /bin/busybox missing; run 'make deps' (busybox-static)" >&2
	exit 1
fi

work=$(mktemp -d /tmp/runx-demo.XXXXXX)
id="demo-$$"
state="$work/state"
cleanup() {
	"$runtime" --root "$state" delete -f "$id" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT

bundle="$work/bundle"
mkdir -p "$bundle/rootfs"/{bin,etc,proc,sys,dev,tmp,root}
cp /bin/busybox "$bundle/rootfs/bin/busybox"
for applet in sh echo cat ls id hostname uname; do
	ln -s busybox "$bundle/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$bundle/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$bundle/rootfs/etc/group"

(cd "$bundle" && "$runtime" spec)
jq --arg msg "$message" \
	'.process.terminal = false | .process.args = ["echo", $msg]' \
	"$bundle/config.json" >"$bundle/config.json.new"
mv "$bundle/config.json.new" "$bundle/config.json"

echo "demo: $runtime run $id (bundle $bundle)"
cd "$bundle"
set +e
"$runtime" --root "$state" run "$id"
rc=$?
set -e
echo "demo: container exited with status $rc"
exit $rc
