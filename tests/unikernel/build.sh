#!/usr/bin/env bash
# build.sh OUTDIR: builds the spt test unikernels into OUTDIR/<name>.spt.
#
# Guests are freestanding C (guest/*.c) on a tiny runtime (guest/crt.c,
# guest/start.S), linked with guest/spt.ld.in at 0x100000. Each carries
# PT_INTERP "/nonexistent/solo5/", an OpenBSD note, a Solo5 ABI1 note and a
# Solo5 MFT1 manifest note generated from the devices listed in the table
# below, each note in its own PT_NOTE. Rebuilding only redoes what changed,
# so running it again is cheap. Intermediate files go to OUTDIR/obj.
#
# Variants built from hello carry broken or unusual metadata:
#   hello_abi1     ABI version 1 (Solo5 0.6/0.7), accepted by the tender
#   hello_tls      the empty tdata PT_LOAD (vaddr 0) and PT_TLS of a
#                  Solo5 >= 0.8 binary, which the loader must skip
#   hello_hvt      ABI target 1 (hvt)            -> rejected
#   hello_abi3     ABI version 3                 -> rejected
#   hello_nonotes  no Solo5 notes at all         -> rejected
#   hello_nomft    ABI1 note but no manifest     -> rejected
#   hello_missing  declares BLOCK_BASIC "missing" that tests never attach
#   hello_wx       text segment mapped W+X       -> rejected
set -euo pipefail

if [ $# -ne 1 ]; then
	echo "usage: $0 OUTDIR" >&2
	exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
src=$here/guest
out=$1
obj=$out/obj
mkdir -p "$obj"

CC=${CC:-gcc}
CFLAGS=(
	-std=gnu11 -O2 -Wall -Wextra -Werror
	-ffreestanding -fno-builtin -nostdlib -static -fno-pic -no-pie
	-mno-red-zone -mcmodel=small
	-fno-asynchronous-unwind-tables -fno-unwind-tables
	-fcf-protection=none -fno-tree-loop-distribute-patterns
	-I"$src"
)
NOSSP=(-fno-stack-protector)
SSP=(-fstack-protector-all -mstack-protector-guard=global)
# shellcheck disable=SC2054 # the commas belong to -Wl options
LDFLAGS=(
	-nostdlib -static -no-pie
	-Wl,-z,max-page-size=0x1000 -Wl,-z,common-page-size=0x1000
	-Wl,--build-id=none -Wl,--no-warn-rwx-segments
)

# name source abi(TARGET.VERSION|none) layout [TYPE:NAME ...]
# layout: default | nonotes | nomft | tls | wx
guests() {
	echo "hello hello 2.2 default"
	echo "args args 2.2 default"
	echo "time time 2.2 default"
	echo "blk blk 2.2 default BLOCK_BASIC:storage"
	echo "blk_oob blk_oob 2.2 default BLOCK_BASIC:storage"
	echo "net net 2.2 default NET_BASIC:service0"
	echo "abort abort 2.2 default"
	echo "fault fault 2.2 default"
	echo "zeropage zeropage 2.2 default"
	echo "seccomp seccomp 2.2 default"
	echo "sysprobe sysprobe 2.2 default"
	echo "globals globals 2.2 default"
	echo "ssp ssp 2.2 default"
	local devs=() i
	for i in $(seq 0 62); do devs+=("BLOCK_BASIC:storage$i"); done
	echo "maxdev maxdev 2.2 default ${devs[*]}"
	echo "hello_abi1 hello 2.1 default"
	echo "hello_tls hello 2.2 tls"
	echo "hello_hvt hello 1.2 default"
	echo "hello_abi3 hello 2.3 default"
	echo "hello_nonotes hello none nonotes"
	echo "hello_nomft hello 2.2 nomft"
	echo "hello_missing hello 2.2 default BLOCK_BASIC:missing"
	echo "hello_wx hello 2.2 wx"
}

# stale TARGET DEPS...: true when TARGET is missing or older than a dependency
# (build.sh itself counts as one, so flag changes rebuild everything).
stale() {
	local t=$1 d
	shift
	[ -e "$t" ] || return 0
	for d in "$@" "$here/build.sh"; do
		[ "$t" -nt "$d" ] || return 0
	done
	return 1
}

hdr=$src/uk.h

# shared objects
if stale "$obj/start.o" "$src/start.S"; then
	"$CC" "${CFLAGS[@]}" -c "$src/start.S" -o "$obj/start.o"
fi
if stale "$obj/crt.o" "$src/crt.c" "$hdr"; then
	"$CC" "${CFLAGS[@]}" "${NOSSP[@]}" -c "$src/crt.c" -o "$obj/crt.o"
fi

# linker scripts
for layout in default nonotes nomft tls wx; do
	case $layout in
	default) defs=() ;;
	nonotes) defs=(-DNO_SOLO5_NOTES) ;;
	nomft) defs=(-DNO_MANIFEST) ;;
	tls) defs=(-DEMPTY_TLS) ;;
	wx) defs=(-DTEXT_FLAGS=7) ;;
	esac
	if stale "$obj/spt-$layout.ld" "$src/spt.ld.in"; then
		"$CC" -E -P -undef -x c "${defs[@]}" "$src/spt.ld.in" -o "$obj/spt-$layout.ld"
	fi
done

built=()
while read -r name source abi layout devices; do
	# the application object
	flags=("${NOSSP[@]}")
	[ "$source" = ssp ] && flags=("${SSP[@]}")
	if stale "$obj/app-$source.o" "$src/$source.c" "$hdr"; then
		"$CC" "${CFLAGS[@]}" "${flags[@]}" -c "$src/$source.c" -o "$obj/app-$source.o"
	fi
	objs=("$obj/start.o" "$obj/crt.o" "$obj/app-$source.o")

	# the ABI1 note
	if [ "$abi" != none ]; then
		target=${abi%%.*} version=${abi#*.}
		o=$obj/abi-$target-$version.o
		if stale "$o" "$src/abinote.S"; then
			"$CC" "${CFLAGS[@]}" -DABI_TARGET="$target" -DABI_VERSION="$version" \
				-c "$src/abinote.S" -o "$o"
		fi
		objs+=("$o")
	fi

	# the manifest, generated from this guest's device list
	if [ "$layout" != nonotes ] && [ "$layout" != nomft ]; then
		m=$obj/mft-$name.S
		# shellcheck disable=SC2086
		"$src/mkmanifest.sh" "$m.new" $devices
		if [ -e "$m" ] && cmp -s "$m" "$m.new"; then
			rm -f "$m.new"
		else
			mv "$m.new" "$m"
		fi
		if stale "$obj/mft-$name.o" "$m"; then
			"$CC" "${CFLAGS[@]}" -c "$m" -o "$obj/mft-$name.o"
		fi
		objs+=("$obj/mft-$name.o")
	fi

	elf=$out/$name.spt
	if stale "$elf" "${objs[@]}" "$obj/spt-$layout.ld"; then
		"$CC" "${CFLAGS[@]}" "${LDFLAGS[@]}" -T "$obj/spt-$layout.ld" \
			-o "$elf.tmp" "${objs[@]}" -lgcc
		mv "$elf.tmp" "$elf"
	fi
	built+=("$name")
done < <(guests)

echo "built ${#built[@]} guests in $out: ${built[*]}"
