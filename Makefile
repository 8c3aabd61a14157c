# runx: a runc-compatible OCI runtime with several isolation modes.
GO        ?= $(shell command -v go 2>/dev/null || echo /usr/local/go/bin/go)
# The text sits at 1.75 GiB (non-PIE code must stay below 2 GiB): the unikernel
# tender maps guest memory at its own addresses from 64 KiB up to --mem
# (runx spt), which the default 4 MiB base would hit.
# A static binary: no dynamic loader at each of the three execs of a container
# start, and only the part of libc runx uses is mapped. No checkpoint/restore yet.
BUILDTAGS ?= seccomp urfave_cli_no_docs netgo osusergo
VERSION   ?= $(shell git describe --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.gitCommit=$(VERSION) -extldflags '-static -Wl,-Ttext-segment=0x70000000'
export PATH := /usr/local/go/bin:$(PATH)

.PHONY: all build deps microvm-kernel proto demo check test unit fuzz integration conformance engines engines-nested bench clean

all: build

# Debian packages the build, the tests and the benchmark need.
deps:
	@bash tests/scripts/deps.sh

# The microvm mode's QEMU and guest kernel (Debian's cloud kernel, unpacked
# into /usr/local/lib/runx/microvm, not installed).
microvm-kernel:
	@bash tests/scripts/microvm-kernel.sh

# The microvm agent protocol's Go code, from microvm/agentpb/agent.proto
# (committed: the build needs no protoc).
proto:
	@bash microvm/agentpb/generate.sh

build:
	@# glibc warns that a static getpwnam needs its shared libraries: runx uses Go's own.
	CGO_ENABLED=1 $(GO) build -trimpath -tags "$(BUILDTAGS)" -ldflags "$(LDFLAGS)" -o runx.link . 2>runx.buildlog || \
		{ cat runx.buildlog; rm -f runx.buildlog; exit 1; }
	@grep -v "statically linked applications requires at runtime" runx.buildlog || true
	@rm -f runx.buildlog
	@# Installed by copy, as a package would be: the linker writes its output through
	@# a mapping, whose page cache makes every run map the whole 9 MB binary.
	@cp runx.link runx.new && mv runx.new runx && rm -f runx.link

# One command on a fresh Debian 12 machine: dependencies, build, a container that prints something.
demo: deps build
	@bash tests/scripts/demo.sh

# Static checks: go vet, gofmt, generated files up to date.
check:
	@BUILDTAGS="$(BUILDTAGS)" bash tests/scripts/check.sh

unit:
	CGO_ENABLED=1 $(GO) test -tags "$(BUILDTAGS)" ./ ./isolation/... ./libct/... ./unikernel/... ./sandbox/... ./internal/... ./microvm/... ./vmm/...

# Every Go fuzz target for FUZZTIME seconds each (make unit replays their seeds).
FUZZTIME ?= 30
fuzz:
	@GO=$(GO) BUILDTAGS="$(BUILDTAGS)" bash tests/scripts/fuzz.sh $(FUZZTIME)

# The nested KVM host tests alone take ~10 minutes of the ~22 (2026-12-06).
integration: build microvm-kernel
	CGO_ENABLED=1 RUNX=$(CURDIR)/runx $(GO) test -count=1 -tags "$(BUILDTAGS)" -timeout 45m ./tests/ -v

# The runtime-tools suite here, then in the nested KVM host (pure cgroup v2).
conformance: build
	@bash tests/conformance/run.sh $(CURDIR)/runx
	@bash tests/conformance/nested.sh $(CURDIR)/runx

# The engines users run, with runx as their runtime: Podman, Docker, containerd.
engines: build
	@bash tests/engines/podman-docker/run.sh $(CURDIR)/runx
	@bash tests/engines/containerd/run.sh $(CURDIR)/runx

# Both engine suites again inside the nested KVM host, on runx's own VMM (after
# make engines, whose caches it reads). Not in make test while a rare guest
# create hang is open: see its README entry.
engines-nested: build
	@bash tests/engines/nested-kvm.sh $(CURDIR)/runx

bench: deps build microvm-kernel
	@bash tests/bench/run.sh $(CURDIR)/runx -n 30 -order rotate

# Every test: the static checks, unit, integration against the built binary,
# the conformance suite and the engines.
test: deps build check unit integration conformance engines

clean:
	rm -f runx
